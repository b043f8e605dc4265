"""Reading a PunchOutSetupRequest (ociflex/cxml/setup.py) as a buyer's system sends it: what the
session is for, the BuyerCookie exactly as sent, a BrowserFormPost URL checked as strictly as
OCI's HOOK_URL, the requester's fields from the customer's Extrinsics or the end user's Contact;
and every refusal a Status text that tells the buyer's administrator what to fix."""

import json
from dataclasses import replace
from pathlib import Path

import pytest
from lxml import etree

from ociflex.booking.session import Operation, PunchoutSession
from ociflex.customers import Customer, load_customer
from ociflex.cxml.config import CXML
from ociflex.cxml.documents import parse
from ociflex.cxml.header import read_header
from ociflex.cxml.redact import without_secrets
from ociflex.cxml.setup import (
    MAX_COOKIE_LENGTH,
    SetupRequest,
    punchout_session,
    read_setup_request,
    reopened_reference,
)
from ociflex.cxml.status import CxmlRefusal
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
    Setup,
    setup_request,
)

DEMO_RETURN_URL = "http://127.0.0.1:5000/dev/cxml/cart?session=42"
#: A correct setup request of the demo customer: the requester in Contact role="endUser".
DEMO_SETUP = Setup(
    from_credentials=(DEMO_FROM,),
    sender=DEMO_FROM,
    shared_secret=DEMO_SECRET,
    browser_form_post=DEMO_RETURN_URL,
    extrinsics=(("CostCenter", "4100"),),
    contact=("Jan Jansen", "jan.jansen@demo.example"),
)
#: The Extrinsics of a correct globex request, as a dict to change one of them.
GLOBEX_EXTRINSICS = dict(Setup().extrinsics)
BROWSER_FORM_POST_FIX = (
    "Euromobil registers the addresses your system may use: send one of those, or ask "
    "Euromobil to add this one."
)


def with_extrinsics(**values: str | None) -> Setup:
    """The correct globex request with some Extrinsics changed (None: left out)."""
    merged = {**GLOBEX_EXTRINSICS, **values}
    return Setup(extrinsics=tuple((k, v) for k, v in merged.items() if v is not None))


def read(setup: Setup | bytes, customer: Customer = GLOBEX) -> SetupRequest:
    body = setup if isinstance(setup, bytes) else setup_request(setup)
    return read_setup_request(customer, parse(body))


def refusal_of(setup: Setup | bytes, customer: Customer = GLOBEX) -> CxmlRefusal:
    with pytest.raises(CxmlRefusal) as raised:
        read(setup, customer)
    return raised.value


def status_text(refusal: CxmlRefusal) -> str:
    return refusal.text(lambda text: text)


def contact(role: str | None, name: str, email: str) -> etree._Element:
    element = etree.Element("Contact")
    if role is not None:
        element.set("role", role)
    etree.SubElement(element, "Name").text = name
    etree.SubElement(element, "Email").text = email
    return element


def with_contacts(setup: Setup, *contacts: etree._Element) -> bytes:
    """``setup`` (without its own Contact) with ``contacts`` after its BrowserFormPost."""
    root = etree.fromstring(setup_request(setup))
    punchout = root.find("Request/PunchOutSetupRequest")
    position = list(punchout).index(punchout.find("BrowserFormPost")) + 1
    for offset, element in enumerate(contacts):
        punchout.insert(position + offset, element)
    return etree.tostring(root)


# --- operation ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sent", "operation"),
    [
        ("create", Operation.CREATE),
        ("CREATE", Operation.CREATE),
        ("edit", Operation.EDIT),
        ("Edit", Operation.EDIT),
        ("inspect", Operation.INSPECT),
        (" INSPECT ", Operation.INSPECT),
        (None, Operation.CREATE),
    ],
)
def test_the_operation_is_read_ignoring_case_and_create_when_none_is_sent(
    sent: str | None, operation: Operation
) -> None:
    assert read(Setup(operation=sent, items=("FF-000123",))).operation is operation


def test_a_source_operation_is_a_450_that_lists_what_is_offered() -> None:
    refusal = refusal_of(Setup(operation="source"))

    assert refusal.code == 450
    assert status_text(refusal) == (
        "The operation source is not offered by this catalogue; it offers create, edit, inspect."
    )


@pytest.mark.parametrize("sent", ["change", "", "create edit", "x" * 500])
def test_an_unknown_operation_is_a_400_that_says_which_to_use(sent: str) -> None:
    refusal = refusal_of(Setup(operation=sent))

    assert refusal.code == 400
    assert status_text(refusal).endswith("is unknown; use create, edit or inspect.")
    assert len(status_text(refusal)) < 120


# --- BuyerCookie --------------------------------------------------------------------------------


@pytest.mark.parametrize("cookie", [None, "", "   ", "\n\t "])
def test_a_missing_or_blank_buyer_cookie_is_a_400(cookie: str | None) -> None:
    refusal = refusal_of(Setup(buyer_cookie=cookie))

    assert refusal.code == 400
    assert status_text(refusal) == (
        "The setup request has no BuyerCookie. Send the BuyerCookie of this session."
    )


@pytest.mark.parametrize(
    "cookie",
    [
        "1J3YVWU9QWMTB",
        "  padded cookie  ",
        "<&>\"'; DROP TABLE",
        "Zoë/Škoda/東京",
        "line\nbreak",
        "x" * MAX_COOKIE_LENGTH,
    ],
)
def test_the_buyer_cookie_is_kept_exactly_as_sent(cookie: str) -> None:
    assert read(Setup(buyer_cookie=cookie)).buyer_cookie == cookie


def test_a_buyer_cookie_longer_than_the_limit_is_a_400() -> None:
    refusal = refusal_of(Setup(buyer_cookie="x" * (MAX_COOKIE_LENGTH + 1)))

    assert refusal.code == 400
    assert status_text(refusal) == "The BuyerCookie is longer than 2048 characters."


# --- BrowserFormPost ----------------------------------------------------------------------------


def test_the_browser_form_post_url_is_kept_exactly_with_its_query_string() -> None:
    assert read(Setup()).browser_form_post == GLOBEX_RETURN_URL


@pytest.mark.parametrize(
    "url",
    [
        "https://buyer.globex.example/punchout/return",
        "https://BUYER.globex.example/punchout/return/step2?x=%2F&y=",
        "https://buyer.globex.example:443/punchout/return",
    ],
)
def test_a_browser_form_post_under_the_customers_entry_is_accepted(url: str) -> None:
    assert read(Setup(browser_form_post=url)).browser_form_post == url


def test_blanks_around_the_browser_form_post_url_of_a_pretty_printed_request_are_ignored() -> None:
    setup = read(Setup(browser_form_post=f"\n        {GLOBEX_RETURN_URL}\n      "))

    assert setup.browser_form_post == GLOBEX_RETURN_URL


@pytest.mark.parametrize("url", [None, "", "   "])
def test_a_missing_browser_form_post_is_a_400_that_says_what_to_send(url: str | None) -> None:
    refusal = refusal_of(Setup(browser_form_post=url))

    assert refusal.code == 400
    assert status_text(refusal) == (
        "The setup request has no BrowserFormPost URL, so the cart could not be returned. "
        "Send BrowserFormPost with the URL the cart goes back to."
    )


NOT_ALLOWED = {
    "other host": (
        "https://evil.example/punchout/return",
        "BrowserFormPost URL https://evil.example/punchout/return is not in the list allowed",
    ),
    "look-alike host": (
        "https://buyer.globex.example.evil.example/punchout/return",
        "BrowserFormPost URL https://buyer.globex.example.evil.example/punchout/return is not",
    ),
    "other path": (
        "https://buyer.globex.example/punchout/returned",
        "BrowserFormPost URL https://buyer.globex.example/punchout/returned is not in the list",
    ),
    "other scheme": (
        "http://buyer.globex.example/punchout/return",
        "BrowserFormPost URL http://buyer.globex.example/punchout/return is not in the list",
    ),
    "javascript": ("javascript:alert(document.domain)", "BrowserFormPost URL is not an absolute"),
    "data": ("data:text/html,<script>alert(1)</script>", "BrowserFormPost URL is not an absolute"),
    "userinfo": (
        "https://buyer.globex.example@evil.example/punchout/return",
        "BrowserFormPost URL contains user information",
    ),
    "dot-segments": (
        "https://buyer.globex.example/punchout/return/../../admin",
        "BrowserFormPost URL path contains a dot-segment",
    ),
    "encoded dot-segments": (
        "https://buyer.globex.example/punchout/return/%2e%2e/%2e%2e/admin",
        "BrowserFormPost URL path contains a dot-segment",
    ),
    "fragment": (
        "https://buyer.globex.example/punchout/return#x",
        "BrowserFormPost URL contains a fragment",
    ),
}


@pytest.mark.parametrize(("url", "start"), NOT_ALLOWED.values(), ids=NOT_ALLOWED.keys())
def test_a_browser_form_post_that_is_not_allowed_is_a_400_naming_it_and_what_to_do(
    url: str, start: str
) -> None:
    refusal = refusal_of(Setup(browser_form_post=url))

    assert refusal.code == 400
    assert status_text(refusal).startswith(start)
    assert status_text(refusal).endswith(BROWSER_FORM_POST_FIX)


def test_the_refusal_of_a_browser_form_post_reads_as_two_sentences() -> None:
    refusal = refusal_of(Setup(browser_form_post="https://evil.example/punchout/return"))

    problem = status_text(refusal).removesuffix(BROWSER_FORM_POST_FIX).rstrip()
    assert problem.endswith((".", ";", ":")), status_text(refusal)


def test_the_demo_accepts_only_its_simulators_addresses() -> None:
    assert read(DEMO_SETUP, DEMO).browser_form_post == DEMO_RETURN_URL
    for url in ("http://127.0.0.1:5000.evil.example/dev/cxml/", "http://127.0.0.1:5000/dev/erp/"):
        assert refusal_of(replace(DEMO_SETUP, browser_form_post=url), DEMO).code == 400


def test_coupas_order_with_the_contact_before_the_browser_form_post_is_read_the_same() -> None:
    coupa = read(Setup(coupa_order=True))

    assert coupa == read(Setup())
    assert read(replace(DEMO_SETUP, coupa_order=True), DEMO) == read(DEMO_SETUP, DEMO)


# --- the requester's fields ---------------------------------------------------------------------


def test_the_fields_come_from_the_customers_extrinsics() -> None:
    assert read(Setup()).fields == {
        "email": "jane.doe@globex.example",
        "full_name": "Jane Doe",
        "cost_centre": "CC-410",
        "project": "Apollo",
    }


def test_extrinsic_names_are_matched_ignoring_case() -> None:
    setup = Setup(
        extrinsics=(
            ("USEREMAIL", "jane.doe@globex.example"),
            ("firstname", "Jane"),
            ("LastName", "Doe"),
            ("costcenter", "CC-410"),
            (" PROJECT ", "Apollo"),
        )
    )

    assert read(setup).fields == read(Setup()).fields


def test_a_field_from_two_extrinsics_joins_their_values_with_one_space() -> None:
    assert read(with_extrinsics(FirstName="  Jane  ", LastName=" van  Doe ")).fields[
        "full_name"
    ] == ("Jane van Doe")
    assert read(with_extrinsics(LastName=None)).fields["full_name"] == "Jane"
    assert read(with_extrinsics(FirstName="")).fields["full_name"] == "Doe"


def test_the_first_of_two_extrinsics_with_the_same_name_counts() -> None:
    setup = Setup(extrinsics=(*Setup().extrinsics, ("CostCenter", "CC-999")))

    assert read(setup).fields["cost_centre"] == "CC-410"


def test_an_optional_field_the_request_does_not_carry_is_empty() -> None:
    assert read(with_extrinsics(Project=None)).fields["project"] == ""


def test_the_demo_reads_the_requester_from_the_end_users_contact() -> None:
    assert read(DEMO_SETUP, DEMO).fields == {
        "email": "jan.jansen@demo.example",
        "full_name": "Jan Jansen",
        "cost_centre": "4100",
        "po_number": "",
    }


def test_the_end_users_contact_wins_over_others_and_one_without_role_is_the_fallback() -> None:
    no_contact = replace(DEMO_SETUP, contact=None)
    approver = contact("approver", "Anna Approver", "anna@demo.example")
    end_user = contact("EndUser", "Jan Jansen", "jan.jansen@demo.example")
    without_role = contact(None, "Piet Puk", "piet.puk@demo.example")

    assert read(with_contacts(no_contact, without_role, end_user), DEMO).fields["email"] == (
        "jan.jansen@demo.example"
    )
    fallback = read(with_contacts(no_contact, approver, without_role), DEMO).fields
    assert (fallback["email"], fallback["full_name"]) == ("piet.puk@demo.example", "Piet Puk")
    refusal = refusal_of(with_contacts(no_contact, approver), DEMO)
    assert status_text(refusal) == (
        'The setup request has no value for Contact role="endUser" Email, which this catalogue '
        "requires. Send it as agreed with Euromobil."
    )


def test_a_field_without_an_extrinsic_is_left_for_the_booking_form(tmp_path: Path) -> None:
    text = (CUSTOMERS / "globex.yaml").read_text()
    text = text.replace("project: {extrinsic: Project, ", "project: {")
    text = text.replace('    Project: "{project}"\n', "")
    path = tmp_path / "globex.yaml"
    path.write_text(text)
    customer = load_customer(path, CUSTOMER_SECTIONS, {})

    assert read(Setup(), customer).fields["project"] == ""


FIELD_REFUSALS = {
    "required Extrinsic missing": (
        with_extrinsics(CostCenter=None),
        "The setup request has no value for Extrinsic CostCenter, which this catalogue "
        "requires. Send it as agreed with Euromobil.",
    ),
    "required Extrinsic blank": (
        with_extrinsics(CostCenter="   "),
        "The setup request has no value for Extrinsic CostCenter, which this catalogue "
        "requires. Send it as agreed with Euromobil.",
    ),
    "both parts of a name missing": (
        with_extrinsics(FirstName=None, LastName=None),
        "The setup request has no value for Extrinsic FirstName + LastName, which this "
        "catalogue requires. Send it as agreed with Euromobil.",
    ),
    "pattern": (
        with_extrinsics(CostCenter="410"),
        "The value of Extrinsic CostCenter does not have the agreed format. "
        "Check what is sent in it.",
    ),
    "too long": (
        with_extrinsics(FirstName="J" * 300),
        "Extrinsic FirstName + LastName is longer than 255 characters. Send a shorter value.",
    ),
    "line break": (
        with_extrinsics(CostCenter="CC-4\n10"),
        "Extrinsic CostCenter contains control characters or line breaks. "
        "Send it as one line of text.",
    ),
    "C1 control character": (
        with_extrinsics(CostCenter="CC-4\x9b10"),
        "Extrinsic CostCenter contains control characters or line breaks. "
        "Send it as one line of text.",
    ),
    "not an e-mail address": (
        with_extrinsics(UserEmail="jane.doe at globex.example"),
        "Extrinsic UserEmail is not a valid e-mail address. "
        "Send the requester's e-mail address in it.",
    ),
}


@pytest.mark.parametrize(("setup", "text"), FIELD_REFUSALS.values(), ids=FIELD_REFUSALS.keys())
def test_a_field_value_the_customer_does_not_accept_is_a_400_naming_its_extrinsic(
    setup: Setup, text: str
) -> None:
    refusal = refusal_of(setup)

    assert refusal.code == 400
    assert status_text(refusal) == text


DEMO_REFUSALS = {
    "no e-mail": (
        ("Jan Jansen", ""),
        'The setup request has no value for Contact role="endUser" Email, which this '
        "catalogue requires. Send it as agreed with Euromobil.",
    ),
    "no name": (
        ("  ", "jan.jansen@demo.example"),
        'The setup request has no value for Contact role="endUser" Name, which this '
        "catalogue requires. Send it as agreed with Euromobil.",
    ),
    "not an e-mail address": (
        ("Jan Jansen", "jan.jansen@"),
        'Contact role="endUser" Email is not a valid e-mail address. '
        "Send the requester's e-mail address in it.",
    ),
}


@pytest.mark.parametrize(("sent", "text"), DEMO_REFUSALS.values(), ids=DEMO_REFUSALS.keys())
def test_a_contact_value_the_customer_does_not_accept_is_a_400_naming_the_contact(
    sent: tuple[str, str], text: str
) -> None:
    refusal = refusal_of(replace(DEMO_SETUP, contact=sent), DEMO)

    assert refusal.code == 400
    assert status_text(refusal) == text


@pytest.mark.parametrize("sent", ["12345678901", "D-2026-0042", "41\n00", ""])
def test_a_wrong_demo_cost_centre_is_kept_for_the_booking_form_to_correct(sent: str) -> None:
    """The cost centre is editable: the employee corrects it (issue 18, item 6)."""
    setup = read(replace(DEMO_SETUP, extrinsics=(("CostCenter", sent),)), DEMO)

    assert setup.fields["cost_centre"] == sent


def test_a_requesters_name_from_parts_has_its_blanks_tidied() -> None:
    assert read(with_extrinsics(FirstName="Jane\t", LastName="\tDoe")).fields["full_name"] == (
        "Jane Doe"
    )


def test_an_e_mail_address_outside_the_customers_domains_is_a_403_naming_it() -> None:
    refusal = refusal_of(with_extrinsics(UserEmail="jane.doe@gmail.example"))

    assert refusal.code == 403
    assert status_text(refusal) == (
        "The e-mail address jane.doe@gmail.example in Extrinsic UserEmail is not in a domain "
        "this catalogue accepts (globex.example). Send the requester's company e-mail address."
    )


def test_the_refusal_of_an_e_mail_domain_names_the_extrinsic_that_carried_it() -> None:
    # Every other field refusal names where the value was found; the administrator has to know
    # which Extrinsic (or Contact) to change.
    refusal = refusal_of(with_extrinsics(UserEmail="jane.doe@gmail.example"))

    assert "Extrinsic UserEmail" in status_text(refusal)


# --- edit and inspect: the booking they open ----------------------------------------------------


def test_an_edit_names_the_reference_of_its_item_out() -> None:
    setup = read(Setup(operation="edit", items=("FF-000123",)))

    assert setup.references == ("FF-000123",)
    assert reopened_reference(setup) == "FF-000123"


def test_a_lower_case_or_padded_reference_is_normalised() -> None:
    assert reopened_reference(read(Setup(operation="inspect", items=(" ff-000123 ",)))) == (
        "FF-000123"
    )


def test_the_same_reference_on_several_lines_opens_that_one_booking() -> None:
    setup = read(Setup(operation="edit", items=("FF-000123", "ff-000123", "FF-000123")))

    assert reopened_reference(setup) == "FF-000123"


@pytest.mark.parametrize("operation", ["edit", "inspect"])
def test_an_edit_or_inspect_without_a_reference_is_a_412(operation: str) -> None:
    setup = read(Setup(operation=operation, items=()))

    with pytest.raises(CxmlRefusal) as raised:
        reopened_reference(setup)

    assert raised.value.code == 412
    assert status_text(raised.value) == (
        f"There is no booking to {operation}: the setup request has no ItemOut with the "
        "SupplierPartAuxiliaryID of an earlier cart."
    )


def test_an_edit_of_several_bookings_is_a_400_naming_them() -> None:
    setup = read(Setup(operation="edit", items=("FF-000123", "FF-000124")))

    with pytest.raises(CxmlRefusal) as raised:
        reopened_reference(setup)

    assert raised.value.code == 400
    assert status_text(raised.value) == (
        "The setup request names 2 bookings (FF-000123, FF-000124); FlexFleet opens one "
        "booking per session: edit each line on its own."
    )


def test_an_item_out_without_a_supplier_part_auxiliary_id_names_no_booking() -> None:
    root = etree.fromstring(setup_request(Setup(operation="edit", items=("FF-000123",))))
    for auxiliary in root.iter("SupplierPartAuxiliaryID"):
        auxiliary.getparent().remove(auxiliary)

    assert read(etree.tostring(root)).references == ()


# --- the punch-out session ----------------------------------------------------------------------


def session_of(
    setup: Setup, request_id: int | None = None, fields: dict[str, str] | None = None
) -> PunchoutSession:
    """The globex session of ``setup``, as the endpoint makes it (an edit: of ``request_id``)."""
    root = parse(setup_request(setup))
    setup_request_read = read_setup_request(GLOBEX, root)
    document = without_secrets(root)
    return punchout_session(
        GLOBEX, setup_request_read, read_header(root), document, request_id, fields
    )


def test_a_create_session_is_a_cxml_session_whose_cart_goes_to_the_browser_form_post() -> None:
    session = session_of(Setup())

    assert session.customer_id == "globex"
    assert session.protocol == CXML
    assert session.operation is Operation.CREATE
    assert session.request_id is None
    assert session.fields["cost_centre"] == "CC-410"
    assert session.cart_return.url == GLOBEX_RETURN_URL
    assert session.cart_return.target == "_top"
    assert session.cart_return.charset == "utf-8"


def test_the_echo_holds_the_buyer_cookie_and_the_parties_without_any_secret() -> None:
    session = session_of(Setup(buyer_cookie=" <c&k> ", from_secret=GLOBEX_SECRET))

    assert session.cart_return.echo == {
        "buyer_cookie": " <c&k> ",
        "from": [list(GLOBEX_FROM)],
        "to": [["DUNS", "987654321"]],
    }


def test_nothing_the_session_carries_holds_the_shared_secret() -> None:
    session = session_of(Setup(from_secret=GLOBEX_SECRET))

    assert GLOBEX_SECRET not in json.dumps(session.to_json())
    assert "1J3YVWU9QWMTB" in session.inbound["document"]
    assert "<SharedSecret>(removed)</SharedSecret>" in session.inbound["document"]


def test_an_edit_session_carries_the_request_and_its_stored_fields() -> None:
    stored = {"email": "old@globex.example", "full_name": "Old Name", "cost_centre": "CC-100"}

    session = session_of(
        Setup(operation="edit", items=("FF-000123",)), request_id=123, fields=stored
    )

    assert session.operation is Operation.EDIT
    assert session.request_id == 123
    assert session.fields == stored
    assert session.cart_return.echo["buyer_cookie"] == "1J3YVWU9QWMTB"


def test_each_session_has_its_own_id_and_survives_the_token_round_trip() -> None:
    first, second = session_of(Setup()), session_of(Setup())

    assert first.id != second.id
    assert PunchoutSession.from_json(json.loads(json.dumps(first.to_json()))) == first
