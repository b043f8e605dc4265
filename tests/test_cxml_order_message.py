"""The cXML cart (ociflex/cxml/order_message.py): the PunchOutOrderMessage the employee's browser
posts back to the buyer's system, read here as that system reads it: valid against the cXML DTD,
its BuyerCookie and parties echoed from the setup request without any secret, one ItemIn per
booking that the buyer's approvers and its purchase order understand."""

import base64
from dataclasses import replace
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from lxml import etree

from ociflex.booking.cart import Cart
from ociflex.booking.details import Booking, plain_amount
from ociflex.booking.fields import field_problem
from ociflex.booking.session import CartReturn
from ociflex.customers import Customer, Localized, Vehicle, load_customer
from ociflex.cxml.documents import parse
from ociflex.cxml.dtd import dtd_problems
from ociflex.cxml.header import read_header
from ociflex.cxml.order_message import (
    OWN_CREDENTIAL,
    USER_AGENT,
    CartLine,
    build_cart,
    order_message,
)
from ociflex.cxml.redact import without_secrets
from ociflex.cxml.responses import Envelope
from ociflex.cxml.setup import punchout_session, read_setup_request
from ociflex.protocols import CUSTOMER_SECTIONS
from tests.support.cxml import (
    CUSTOMERS,
    DEMO,
    DEMO_FROM,
    DEMO_SECRET,
    GLOBEX,
    GLOBEX_FROM,
    GLOBEX_RETURN_URL,
    GLOBEX_SECRET,
    XML_LANG,
    Setup,
    setup_request,
)

DEMO_SETUP = Setup(
    from_credentials=(DEMO_FROM,),
    sender=DEMO_FROM,
    shared_secret=DEMO_SECRET,
    browser_form_post="http://127.0.0.1:5000/dev/cxml/cart",
    extrinsics=(("CostCenter", "4100"),),
    contact=("Jan Jansen", "jan.jansen@demo.example"),
)
ENGLISH = Envelope("flexfleet.euromobil.example", "en")
DUTCH = Envelope("flexfleet.euromobil.example", "nl")
GLOBEX_FIELDS = {
    "email": "jane.doe@globex.example",
    "full_name": "Jane Doe",
    "cost_centre": "CC-410",
    "project": "Apollo",
}
#: What the Dutch catalogue will say; the texts are translated where the cart is built.
DUTCH_TEXTS = {
    "%(vehicle)s, %(first_day)s to %(last_day)s (%(days)s), reference %(reference)s": (
        "%(vehicle)s, %(first_day)s t/m %(last_day)s (%(days)s), referentie %(reference)s"
    ),
    "day": "dag",
    "days": "dagen",
}


def english(text: str) -> str:
    return text


def dutch(text: str) -> str:
    return DUTCH_TEXTS.get(text, text)


def cart_return_of(setup: Setup, customer: Customer = GLOBEX) -> CartReturn:
    """Where the cart of ``setup`` goes, and what it echoes: as the setup request made it."""
    root = parse(setup_request(setup))
    request = read_setup_request(customer, root)
    return punchout_session(customer, request, read_header(root), without_secrets(root)).cart_return


def booking(
    customer: Customer = GLOBEX,
    vehicle: str | Vehicle = "SEDAN",
    start: date = date(2026, 12, 7),
    end: date = date(2026, 12, 9),
    **fields: str,
) -> Booking:
    found = customer.vehicle(vehicle) if isinstance(vehicle, str) else vehicle
    assert found is not None
    values = {"cost_centre": "4100", "po_number": ""} if customer is DEMO else GLOBEX_FIELDS
    return Booking(found, start, end, None, {**values, **fields})


def message(
    lines: list[CartLine] | None = None,
    customer: Customer = GLOBEX,
    setup: Setup | None = None,
    operation_allowed: str = "edit",
) -> etree._Element:
    """The order message of ``lines`` (one globex SEDAN booking by default), parsed."""
    if lines is None:
        lines = [CartLine(booking(), "FF-000123")]
    cart_return = cart_return_of(setup or (DEMO_SETUP if customer is DEMO else Setup()), customer)
    envelope, gettext = (ENGLISH, english) if customer.language == "en" else (DUTCH, dutch)
    document = order_message(customer, cart_return, lines, operation_allowed, envelope, gettext)
    assert dtd_problems(document) == [], document.decode()
    return parse(document)


def posted(cart: Cart) -> bytes:
    """The document the buyer's system decodes from the posted cart field."""
    [(name, value)] = cart.fields
    return base64.b64decode(value, validate=True) if name == "cxml-base64" else value.encode()


def total_of(root: etree._Element) -> str | None:
    return root.findtext("Message/PunchOutOrderMessage/PunchOutOrderMessageHeader/Total/Money")


def cart_of(lines: list[CartLine], customer: Customer = GLOBEX, setup: Setup | None = None) -> Cart:
    """The cart form of ``lines`` after a setup request ``setup`` (a correct one by default)."""
    cart_return = cart_return_of(setup or Setup(), customer)
    return build_cart(customer, cart_return, lines, "edit", ENGLISH, english)


def item(root: etree._Element, index: int = 0) -> etree._Element:
    return root.findall("Message/PunchOutOrderMessage/ItemIn")[index]


def credentials(root: etree._Element, party: str) -> list[tuple[str, str]]:
    return [
        (credential.get("domain"), credential.findtext("Identity"))
        for credential in root.findall(f"Header/{party}/Credential")
    ]


def customer_file(tmp_path: Path, change: tuple[str, str]) -> Customer:
    """globex, its file changed by replacing ``change[0]`` with ``change[1]``."""
    text = (CUSTOMERS / "globex.yaml").read_text()
    assert change[0] in text
    path = tmp_path / "globex.yaml"
    path.write_text(text.replace(*change))
    return load_customer(path, CUSTOMER_SECTIONS, {})


# --- the document -------------------------------------------------------------------------------


def test_a_globex_cart_keeps_the_dtd_and_is_a_message_without_a_request() -> None:
    root = message()

    assert [child.tag for child in root] == ["Header", "Message"]
    assert root.get(XML_LANG) == "en"


def test_a_dutch_demo_cart_keeps_the_dtd_and_speaks_dutch() -> None:
    root = message([CartLine(booking(DEMO, "COMPACT"), "FF-000007")], DEMO)

    description = item(root).find("ItemDetail/Description")
    assert root.get(XML_LANG) == "nl"
    assert description.get(XML_LANG) == "nl"
    assert description.text == (
        "Compacte auto (VW Polo of gelijkwaardig), 07-12-2026 t/m 09-12-2026 (3 dagen), "
        "referentie FF-000007"
    )
    assert item(root).findtext("ItemDetail/UnitPrice/Money") == "39.50"
    assert total_of(root) == "118.50"


@pytest.mark.parametrize("cookie", ["1J3YVWU9QWMTB", "  spaced  ", "<&>\"' ]]>", "Zoë 東京"])
def test_the_buyer_cookie_is_echoed_exactly(cookie: str) -> None:
    root = message(setup=Setup(buyer_cookie=cookie))

    assert root.findtext("Message/PunchOutOrderMessage/BuyerCookie") == cookie


def test_the_parties_are_the_setups_the_other_way_round() -> None:
    root = message(setup=Setup(to_credentials=(("DUNS", "987654321"), ("NetworkID", "AN02"))))

    assert credentials(root, "From") == [("DUNS", "987654321"), ("NetworkID", "AN02")]
    assert credentials(root, "To") == [GLOBEX_FROM]
    assert credentials(root, "Sender") == [("DUNS", "987654321"), ("NetworkID", "AN02")]
    assert root.findtext("Header/Sender/UserAgent") == USER_AGENT


def test_the_cart_carries_no_shared_secret_whatever_the_setup_carried() -> None:
    root = message(setup=Setup(from_secret=GLOBEX_SECRET))
    text = etree.tostring(root, encoding="unicode")

    assert GLOBEX_SECRET not in text
    assert "SharedSecret" not in text
    assert "CredentialMac" not in text


@pytest.mark.parametrize("operation", ["create", "edit", "inspect"])
def test_operation_allowed_is_what_the_cart_allows(operation: str) -> None:
    root = message(operation_allowed=operation)

    header = root.find("Message/PunchOutOrderMessage/PunchOutOrderMessageHeader")
    assert header.get("operationAllowed") == operation


def test_the_total_is_days_times_the_day_rate_in_the_customers_currency() -> None:
    root = message()

    total = root.find("Message/PunchOutOrderMessage/PunchOutOrderMessageHeader/Total/Money")
    assert (total.text, total.get("currency")) == ("192.00", "USD")


def test_a_line_is_the_vehicle_the_reference_the_days_and_the_day_rate() -> None:
    line = item(message())

    assert line.get("quantity") == "3"
    assert line.findtext("ItemID/SupplierPartID") == "SEDAN"
    assert line.findtext("ItemID/SupplierPartAuxiliaryID") == "FF-000123"
    price = line.find("ItemDetail/UnitPrice/Money")
    assert (price.text, price.get("currency")) == ("64.00", "USD")
    assert line.findtext("ItemDetail/UnitOfMeasure") == "DAY"


def test_the_description_names_vehicle_period_and_reference_in_the_customers_language() -> None:
    description = item(message()).find("ItemDetail/Description")

    assert description.get(XML_LANG) == "en"
    assert description.text == (
        "Sedan (Toyota Camry or similar), 07-12-2026 to 09-12-2026 (3 days), reference FF-000123"
    )
    assert description.findtext("ShortName") == "SEDAN 07-12-2026–09-12-2026"


def test_a_one_day_rental_is_one_day_and_its_own_day_rate() -> None:
    single = booking(vehicle="PICKUP", start=date(2026, 12, 31), end=date(2026, 12, 31))

    root = message([CartLine(single, "FF-000124")])

    assert item(root).get("quantity") == "1"
    assert "31-12-2026 to 31-12-2026 (1 day)" in item(root).findtext("ItemDetail/Description")
    assert item(root).findtext("ItemDetail/Description/ShortName") == (
        "Pickup 31-12-2026–31-12-2026"
    )
    assert total_of(root) == "89.50"


def test_a_rental_over_new_year_and_a_leap_day_counts_every_day() -> None:
    long = booking(start=date(2027, 12, 30), end=date(2028, 3, 1))

    root = message([CartLine(long, "FF-000125")])

    assert item(root).get("quantity") == "63"
    assert total_of(root) == "4032.00"


def test_the_classification_is_the_customers_material_group_as_unspsc() -> None:
    classification = item(message()).find("ItemDetail/Classification")

    assert (classification.get("domain"), classification.text) == ("UNSPSC", "78111808")


def test_without_a_material_group_the_line_is_classified_as_passenger_car_rental(
    tmp_path: Path,
) -> None:
    customer = customer_file(tmp_path, ('  matgroup: "78111808"\n', ""))

    root = message([CartLine(booking(customer), "FF-000123")], customer)

    assert item(root).findtext("ItemDetail/Classification") == "78111800"


def test_the_configured_item_extrinsics_are_filled_in_and_empty_ones_left_out() -> None:
    filled = item(message())
    without_project = item(message([CartLine(booking(project=""), "FF-000123")]))

    def extrinsics(line: etree._Element) -> dict[str, str]:
        return {e.get("name"): e.text for e in line.findall("ItemDetail/Extrinsic")}

    assert extrinsics(filled) == {
        "CostCenter": "CC-410",
        "Project": "Apollo",
        "Supplier": "Euromobil",
    }
    assert extrinsics(without_project) == {"CostCenter": "CC-410", "Supplier": "Euromobil"}


def test_several_bookings_are_one_line_each_and_the_total_is_their_sum() -> None:
    lines = [
        CartLine(booking(), "FF-000123"),
        CartLine(booking(vehicle="PICKUP", end=date(2026, 12, 7)), "FF-000124"),
    ]

    root = message(lines)

    assert [item(root, i).findtext("ItemID/SupplierPartAuxiliaryID") for i in (0, 1)] == [
        "FF-000123",
        "FF-000124",
    ]
    assert total_of(root) == "281.50"


def test_an_empty_cart_has_a_zero_total_and_no_lines_and_is_still_valid() -> None:
    root = message([], operation_allowed="create")

    assert total_of(root) == "0.00"
    assert root.findall("Message/PunchOutOrderMessage/ItemIn") == []
    assert root.findtext("Message/PunchOutOrderMessage/BuyerCookie") == "1J3YVWU9QWMTB"


def test_a_setup_without_a_to_credential_gives_the_cart_ociflexs_own_credential() -> None:
    root = message(setup=Setup(to_credentials=()))

    assert credentials(root, "From") == [OWN_CREDENTIAL]
    assert credentials(root, "Sender") == [OWN_CREDENTIAL]
    assert credentials(root, "To") == [GLOBEX_FROM]


def test_a_setup_with_an_empty_to_identity_gives_the_cart_ociflexs_own_credential() -> None:
    # PROTOCOL.md: "Some buyers send an empty To identity"; a cart from nobody is no answer.
    root = message(setup=Setup(to_credentials=(("DUNS", ""),)))

    assert credentials(root, "From") == [OWN_CREDENTIAL]
    assert credentials(root, "Sender") == [OWN_CREDENTIAL]


def test_every_cart_has_its_own_payload_id() -> None:
    first, second = message(), message()

    assert first.get("payloadID") != second.get("payloadID")
    assert first.get("payloadID").endswith("@flexfleet.euromobil.example")


def test_a_field_value_the_booking_form_accepts_never_breaks_the_cart() -> None:
    # The form checks control characters only; U+FFFF is no control character, but no XML
    # character either. Either the check refuses such a value or the cart carries it.
    project = GLOBEX.fields["project"]
    for value in ("Apollo\uffff", "Apollo\ufffe", "Apollo\U0010ffff"):
        if field_problem(project, value) is None:
            line = CartLine(booking(project=value), "FF-000123")
            document = order_message(
                GLOBEX, cart_return_of(Setup()), [line], "edit", ENGLISH, english
            )
            assert dtd_problems(document) == []


# --- the cart form ------------------------------------------------------------------------------


def test_the_cart_posts_base64_of_the_utf8_document_to_the_browser_form_post() -> None:
    cart = cart_of([CartLine(booking(), "FF-000123")])

    assert (cart.action, cart.target, cart.charset) == (GLOBEX_RETURN_URL, "_top", "utf-8")
    assert [name for name, _ in cart.fields] == ["cxml-base64"]
    assert posted(cart) == cart.document.encode("utf-8")
    assert dtd_problems(posted(cart)) == []


def test_a_customer_may_have_the_document_itself_posted_in_cxml_urlencoded(
    tmp_path: Path,
) -> None:
    customer = customer_file(
        tmp_path, ("  item_extrinsics:", "  cart_field: cxml-urlencoded\n  item_extrinsics:")
    )

    cart = cart_of([CartLine(booking(customer), "FF-000123")], customer)

    assert cart.fields == (("cxml-urlencoded", cart.document),)
    assert cart.document.startswith('<?xml version="1.0" encoding="UTF-8"?>')
    assert dtd_problems(cart.document) == []


def test_non_ascii_text_survives_the_base64_round_trip() -> None:
    skoda = Vehicle(
        "SKODA", Localized({"en": "Škoda Octavia Combi für Zoë"}), Decimal("71.25"), "Škoda"
    )

    line = CartLine(booking(vehicle=skoda, project="Zoë’s “Mondlandung”"), "FF-000126")

    cart = cart_of([line], setup=Setup(buyer_cookie="Zoë-1"))

    root = parse(posted(cart))
    line = item(root)
    assert line.findtext("ItemDetail/Description").startswith("Škoda Octavia Combi für Zoë, ")
    assert line.findtext("ItemDetail/Description/ShortName").startswith("Škoda ")
    assert line.find("ItemDetail/Extrinsic[@name='Project']").text == "Zoë’s “Mondlandung”"
    assert root.findtext("Message/PunchOutOrderMessage/BuyerCookie") == "Zoë-1"


def test_the_cart_form_survives_the_token_round_trip() -> None:
    cart = cart_of([CartLine(booking(), "FF-000123")])

    assert Cart.from_json(cart.to_json()) == cart


# --- amounts ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("amount", "written"),
    [
        (Decimal("64"), "64.00"),
        (Decimal("64.5"), "64.50"),
        (Decimal("0.005"), "0.01"),
        (Decimal("2.675"), "2.68"),
        (Decimal("1E+3"), "1000.00"),
        (Decimal("0"), "0.00"),
        (Decimal("99999999999.99"), "99999999999.99"),
    ],
)
def test_an_amount_is_written_with_a_point_and_two_decimals(amount: Decimal, written: str) -> None:
    assert plain_amount(amount) == written


def test_the_total_of_a_day_rate_in_cents_is_exact_however_many_days() -> None:
    vehicle = replace(GLOBEX.vehicles[0], day_rate=Decimal("0.10"))

    root = message([CartLine(booking(vehicle=vehicle, end=date(2027, 12, 6)), "FF-000127")])

    assert item(root).get("quantity") == "365"
    assert total_of(root) == "36.50"
