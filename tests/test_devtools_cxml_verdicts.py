"""The cXML cart page's checks catch what a buyer's system would refuse or misread."""

import base64
from datetime import date
from pathlib import Path

import pytest

from ociflex.booking.details import Booking
from ociflex.booking.session import CartReturn
from ociflex.customers.loader import load_customer
from ociflex.customers.model import Customer
from ociflex.cxml.order_message import CartLine, order_message
from ociflex.cxml.responses import Envelope
from ociflex.devtools.cxml_verdicts import CartReport, Expected, check_cart, check_cart_post
from ociflex.protocols import CUSTOMER_SECTIONS
from tests.support.cxml import CUSTOMERS

ROOT = Path(__file__).resolve().parent.parent
COOKIE = "c0ffee-42"

#: A correct cart of two lines: 3 × 59.50 + 2 × 39.50 = 257.50.
CART = f"""<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE cXML SYSTEM "http://xml.cxml.org/schemas/cXML/1.2.063/cXML.dtd">
<cXML payloadID="20260312T101500.4711.k3j9@ociflex.example"
      timestamp="2026-03-12T10:15:00+01:00" xml:lang="nl-NL">
  <Header>
    <From><Credential domain="DUNS"><Identity>412345678</Identity></Credential></From>
    <To><Credential domain="NetworkID"><Identity>AN01000000042</Identity></Credential></To>
    <Sender>
      <Credential domain="DUNS"><Identity>412345678</Identity></Credential>
      <UserAgent>Euromobil FlexFleet</UserAgent>
    </Sender>
  </Header>
  <Message>
    <PunchOutOrderMessage>
      <BuyerCookie>{COOKIE}</BuyerCookie>
      <PunchOutOrderMessageHeader operationAllowed="edit">
        <Total><Money currency="EUR">257.50</Money></Total>
      </PunchOutOrderMessageHeader>
      <ItemIn quantity="3">
        <ItemID>
          <SupplierPartID>VAN</SupplierPartID>
          <SupplierPartAuxiliaryID>FF-000041</SupplierPartAuxiliaryID>
        </ItemID>
        <ItemDetail>
          <UnitPrice><Money currency="EUR">59.50</Money></UnitPrice>
          <Description xml:lang="nl">Bestelbus, 3 dagen<ShortName>VAN</ShortName></Description>
          <UnitOfMeasure>DAY</UnitOfMeasure>
          <Classification domain="UNSPSC">78111808</Classification>
          <Extrinsic name="CostCenter">4100</Extrinsic>
        </ItemDetail>
      </ItemIn>
      <ItemIn quantity="2">
        <ItemID>
          <SupplierPartID>COMPACT</SupplierPartID>
          <SupplierPartAuxiliaryID>FF-000042</SupplierPartAuxiliaryID>
        </ItemID>
        <ItemDetail>
          <UnitPrice><Money currency="EUR">39.50</Money></UnitPrice>
          <Description xml:lang="nl">Compacte auto, 2 dagen</Description>
          <UnitOfMeasure>DAY</UnitOfMeasure>
          <Classification domain="UNSPSC">78111800</Classification>
        </ItemDetail>
      </ItemIn>
    </PunchOutOrderMessage>
  </Message>
</cXML>
"""


def changed(*replacements: tuple[str, str]) -> str:
    """:data:`CART` with each (old, new) replaced once; each ``old`` must be in it."""
    document = CART
    for old, new in replacements:
        assert old in document, old
        document = document.replace(old, new, 1)
    return document


#: What the simulator's setup request sent, unless a test says otherwise.
CREATE = Expected(COOKIE, "create")


def check(document: str, expected: Expected = CREATE) -> CartReport:
    return check_cart(document.encode("utf-8"), expected)


def verdicts_of(report: CartReport, line: int | None = None) -> dict[str, tuple[str | None, str]]:
    """Subject -> (value, problems joined, "" for none) of the document, or of line ``line``."""
    verdicts = report.verdicts if line is None else report.lines[line - 1].verdicts
    return {v.subject: (v.value, " | ".join(v.problems)) for v in verdicts}


def test_a_correct_cart_passes_every_check() -> None:
    report = check(CART)

    assert report.problem_count == 0
    document = verdicts_of(report)
    assert document["BuyerCookie"] == (COOKIE, "")
    assert document["operationAllowed"] == ("edit", "")
    assert document["Total"] == ("257.50 EUR", "")
    assert document["ItemIn"] == ("2", "")
    assert document["From"] == ("DUNS 412345678", "")
    assert document["SharedSecret / CredentialMac"] == ("none", "")
    first = verdicts_of(report, 1)
    assert first["quantity"] == ("3", "")
    assert first["SupplierPartAuxiliaryID"] == ("FF-000041", "")
    assert first["UnitPrice"] == ("59.50 EUR", "")
    assert first["Description"] == ("[nl] Bestelbus, 3 dagen (ShortName: VAN)", "")
    assert first["Classification"] == ("UNSPSC 78111808", "")
    assert first["Extrinsic CostCenter"] == ("4100", "")
    assert "Extrinsic CostCenter" not in verdicts_of(report, 2)
    assert not report.empty
    # The document is shown indented, one element a line.
    assert report.document.startswith("<!DOCTYPE cXML SYSTEM")
    assert "\n  <Header>\n    <From>\n      <Credential" in report.document


@pytest.mark.parametrize(
    ("document", "line", "subject", "expected"),
    [
        pytest.param(
            changed((f"<BuyerCookie>{COOKIE}<", "<BuyerCookie>c0ffee-43<")),
            None,
            "BuyerCookie",
            "the BuyerCookie sent was 'c0ffee-42': it must come back exactly",
            id="buyer-cookie-changed",
        ),
        pytest.param(
            changed((f"<BuyerCookie>{COOKIE}<", f"<BuyerCookie> {COOKIE}<")),
            None,
            "BuyerCookie",
            "it must come back exactly",
            id="buyer-cookie-with-a-blank",
        ),
        pytest.param(
            changed(('operationAllowed="edit"', 'operationAllowed="source"')),
            None,
            "operationAllowed",
            "operationAllowed must be one of create, inspect, edit",
            id="operation-allowed-unknown",
        ),
        pytest.param(
            changed(("257.50<", "178.50<")),
            None,
            "Total",
            "Total is 178.50, but the lines add up to 257.50 (quantity × UnitPrice)",
            id="total-does-not-add-up",
        ),
        pytest.param(
            changed(("257.50<", "257,50<")),
            None,
            "Total",
            "Total is '257,50'; write amounts with a decimal point and two decimals",
            id="total-with-a-comma",
        ),
        pytest.param(
            changed(('<Money currency="EUR">39.50', '<Money currency="USD">39.50')),
            None,
            "Total",
            "line 2's UnitPrice is in USD, the Total in EUR: a cart has one currency",
            id="two-currencies",
        ),
        pytest.param(
            changed(('quantity="3"', 'quantity="0"')),
            1,
            "quantity",
            "quantity is '0'; it must be a positive number",
            id="quantity-zero",
        ),
        pytest.param(
            changed(('quantity="2"', 'quantity="2 dagen"')),
            2,
            "quantity",
            "quantity is '2 dagen'; it must be a positive number",
            id="quantity-not-a-number",
        ),
        pytest.param(
            changed(("<SupplierPartID>VAN</SupplierPartID>", "")),
            1,
            "SupplierPartID",
            "ItemID/SupplierPartID is missing",
            id="no-supplier-part-id",
        ),
        pytest.param(
            changed(("<SupplierPartAuxiliaryID>FF-000042</SupplierPartAuxiliaryID>", "")),
            2,
            "SupplierPartAuxiliaryID",
            "ItemID/SupplierPartAuxiliaryID is missing",
            id="no-supplier-part-auxiliary-id",
        ),
        pytest.param(
            changed(('<Money currency="EUR">59.50', '<Money currency="EURO">59.50')),
            1,
            "UnitPrice",
            "UnitPrice's currency 'EURO' is not an ISO 4217 code",
            id="currency-not-iso-4217",
        ),
        pytest.param(
            changed(('<Description xml:lang="nl">Compacte', "<Description>Compacte")),
            2,
            "Description",
            "Description has no xml:lang",
            id="description-without-language",
        ),
        pytest.param(
            changed(("Bestelbus, 3 dagen<ShortName>", "<ShortName>")),
            1,
            "Description",
            "Description has no text",
            id="description-only-a-short-name",
        ),
        pytest.param(
            changed(("<UnitOfMeasure>DAY</UnitOfMeasure>", "<UnitOfMeasure>DAG</UnitOfMeasure>")),
            1,
            "UnitOfMeasure",
            "UnitOfMeasure 'DAG' is not a UN/CEFACT unit code ociflex knows",
            id="unit-not-un-cefact",
        ),
        pytest.param(
            changed(('domain="UNSPSC">78111800', 'domain="eClass">78111800')),
            2,
            "Classification",
            'ItemDetail has no Classification domain="UNSPSC"',
            id="classification-not-unspsc",
        ),
        pytest.param(
            changed(('domain="UNSPSC">78111808', 'domain="UNSPSC">78-11-18')),
            1,
            "Classification",
            "the UNSPSC code '78-11-18' is not a number",
            id="unspsc-code-not-a-number",
        ),
        pytest.param(
            changed(('<Extrinsic name="CostCenter">', '<Extrinsic name="">')),
            1,
            "Extrinsic",
            "an Extrinsic needs a name",
            id="extrinsic-without-a-name",
        ),
        pytest.param(
            changed(
                (
                    "<Identity>412345678</Identity></Credential>\n      <UserAgent>",
                    "<Identity>412345678</Identity><SharedSecret>s3cret</SharedSecret>"
                    "</Credential>\n      <UserAgent>",
                )
            ),
            None,
            "SharedSecret / CredentialMac",
            "the cart holds a SharedSecret: it travels through the employee's browser",
            id="shared-secret",
        ),
        pytest.param(
            changed(
                (
                    "<Identity>AN01000000042</Identity>",
                    "<Identity>AN01000000042</Identity><CredentialMac type='FromSenderCredentials'"
                    " algorithm='HMAC-SHA1-96' creationDate='2026-03-12T10:15:00+01:00'"
                    " expirationDate='2026-03-13T10:15:00+01:00'>c2VjcmV0</CredentialMac>",
                )
            ),
            None,
            "SharedSecret / CredentialMac",
            "the cart holds a CredentialMac",
            id="credential-mac",
        ),
        pytest.param(
            changed(('timestamp="2026-03-12T10:15:00+01:00"', 'timestamp="2026-03-12T10:15:00"')),
            None,
            "timestamp",
            "timestamp '2026-03-12T10:15:00' is not ISO 8601 with an offset",
            id="timestamp-without-offset",
        ),
        pytest.param(
            changed(
                ('timestamp="2026-03-12T10:15:00+01:00"', 'timestamp="2026-03-12T10:15:00+0100"')
            ),
            None,
            "timestamp",
            "write YYYY-MM-DDThh:mm:ss+hh:mm",
            id="timestamp-offset-without-colon",
        ),
        pytest.param(
            changed(
                ('timestamp="2026-03-12T10:15:00+01:00"', 'timestamp="2026-02-30T10:15:00+01:00"')
            ),
            None,
            "timestamp",
            "is not ISO 8601 with an offset",
            id="timestamp-no-such-day",
        ),
        pytest.param(
            changed(('payloadID="20260312T101500.4711.k3j9@ociflex.example"', "")),
            None,
            "payloadID",
            "the cXML element has no payloadID",
            id="no-payload-id",
        ),
        pytest.param(
            changed(
                (
                    '<To><Credential domain="NetworkID"><Identity>AN01000000042</Identity>'
                    "</Credential></To>",
                    "",
                )
            ),
            None,
            "To",
            "the Header has no To",
            id="no-to",
        ),
        pytest.param(
            changed(
                (
                    "<Identity>412345678</Identity></Credential></From>",
                    "<Identity/></Credential></From>",
                )
            ),
            None,
            "From",
            "From needs a Credential with a domain and an Identity",
            id="from-without-identity",
        ),
    ],
)
def test_each_mistake_is_caught_where_it_is(
    document: str, line: int | None, subject: str, expected: str
) -> None:
    report = check(document)

    verdicts = verdicts_of(report, line)
    assert expected in verdicts[subject][1], verdicts
    assert report.problem_count >= 1


def test_a_broken_element_order_is_a_dtd_problem() -> None:
    unit = "<UnitOfMeasure>DAY</UnitOfMeasure>"
    description = '<Description xml:lang="nl">Compacte auto, 2 dagen</Description>'
    document = changed((f"{description}\n          {unit}", f"{unit}\n          {description}"))

    report = check(document)

    _value, problems = verdicts_of(report)["cXML DTD"]
    assert "Element ItemDetail content does not follow the DTD" in problems
    # Each value is still read where it is.
    assert verdicts_of(report, 2)["UnitOfMeasure"] == ("DAY", "")
    assert report.problem_count == 1


@pytest.mark.parametrize(
    ("asked", "allowed", "fits"),
    [
        ("create", "create", True),
        ("create", "edit", True),
        ("edit", "edit", True),
        ("edit", "inspect", True),
        ("edit", "create", False),
        ("inspect", "create", False),
    ],
)
def test_operation_allowed_fits_the_operation_asked_for(
    asked: str, allowed: str, fits: bool
) -> None:
    document = changed(('operationAllowed="edit"', f'operationAllowed="{allowed}"'))
    if asked == "inspect":
        document = without_lines(document)

    value, problems = verdicts_of(check(document, Expected(COOKIE, asked)))["operationAllowed"]

    assert value == allowed
    assert (problems == "") is fits, problems
    if not fits:
        assert f"after {asked}, the booking exists" in problems


def without_lines(document: str) -> str:
    start, end = document.index("      <ItemIn"), document.index("    </PunchOutOrderMessage>")
    return (document[:start] + document[end:]).replace(">257.50<", ">0.00<")


def test_an_empty_cart_is_a_cancelled_one_and_fine() -> None:
    report = check(without_lines(CART))

    assert report.empty
    assert report.problem_count == 0
    assert verdicts_of(report)["ItemIn"] == ("0", "")
    assert verdicts_of(report)["Total"] == ("0.00 EUR", "")


def test_after_inspect_a_cart_with_lines_is_a_problem() -> None:
    report = check(CART, Expected(COOKIE, "inspect"))

    assert verdicts_of(report)["ItemIn"] == (
        "2",
        "after inspect the cart carries no lines: the buyer only looked",
    )
    assert check(without_lines(CART), Expected(COOKIE, "inspect")).problem_count == 0


def test_without_an_expected_cookie_any_cookie_is_shown() -> None:
    report = check(changed((f">{COOKIE}<", ">whatever<")), Expected())

    assert verdicts_of(report)["BuyerCookie"] == ("whatever", "")
    assert report.problem_count == 0


def test_a_document_that_is_no_cart_says_so_and_skips_the_cart_checks() -> None:
    answer = """<?xml version="1.0"?>
<cXML payloadID="1@x" timestamp="2026-03-12T10:15:00+01:00">
  <Response><Status code="200" text="OK"/></Response>
</cXML>"""

    report = check(answer)

    verdicts = verdicts_of(report)
    assert verdicts["Message"] == (
        "Response",
        "the document is no cart: a cart is a Message with a PunchOutOrderMessage "
        "(found: Response)",
    )
    assert "BuyerCookie" not in verdicts
    assert "Total" not in verdicts
    assert not report.empty, "no cart was read, so none was cancelled either"


@pytest.mark.parametrize(
    ("document", "expected"),
    [
        pytest.param("<cXML><Message>", "not well-formed XML", id="not-well-formed"),
        pytest.param(
            '<?xml version="1.0"?>\n<!DOCTYPE cXML [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
            "\n<cXML>&x;</cXML>",
            "declares entities",
            id="external-entity",
        ),
        pytest.param("<html><body>Error</body></html>", "its root element is html", id="html"),
    ],
)
def test_a_document_that_cannot_be_read_is_shown_as_received(document: str, expected: str) -> None:
    report = check(document)

    [verdict] = report.verdicts
    assert verdict.subject == "XML"
    assert expected in verdict.problems[0]
    assert report.document == document
    assert report.lines == []


# --- The form field ------------------------------------------------------------------------------


def test_the_cart_is_read_from_either_field_whatever_the_case_of_its_name() -> None:
    encoded = base64.b64encode(CART.encode()).decode()
    for pairs in ([("CXML-BASE64", encoded)], [("cXML-urlencoded", CART)]):
        report = check_cart_post(pairs, CREATE)

        assert report.problem_count == 0, pairs
        assert report.verdicts[0].subject == "form field"
        assert report.verdicts[0].value == pairs[0][0]
        assert len(report.lines) == 2


@pytest.mark.parametrize(
    ("pairs", "expected"),
    [
        pytest.param(
            [("NEW_ITEM-DESCRIPTION[1]", "x"), ("~OkCode", "ADDI")],
            "the post has no field cxml-base64 or cxml-urlencoded "
            "(its fields: NEW_ITEM-DESCRIPTION[1], ~OkCode)",
            id="an-oci-basket",
        ),
        pytest.param(
            [("cxml-base64", "not base64!")],
            "cxml-base64 is not valid base64 (of the UTF-8 document)",
            id="not-base64",
        ),
        pytest.param(
            [("cxml-urlencoded", CART), ("cxml-base64", base64.b64encode(CART.encode()).decode())],
            "the post has 2 cart fields; send the cart in one of them",
            id="two-fields",
        ),
    ],
)
def test_a_post_without_one_readable_cart_field_is_named(
    pairs: list[tuple[str, str]], expected: str
) -> None:
    report = check_cart_post(pairs, CREATE)

    assert report.verdicts[0].subject == "form field"
    assert expected in report.verdicts[0].problems
    assert report.problem_count == 1


# --- ociflex's own carts -------------------------------------------------------------------------


def customer(path: Path) -> Customer:
    return load_customer(path, CUSTOMER_SECTIONS, {"OCIFLEX_DEMO_PASSWORD": "demo-secret"})


def booking(customer: Customer, days: int) -> Booking:
    fields = {name: customer.example_of(field) for name, field in customer.fields.items()}
    start = date(2099, 3, 2)
    return Booking(customer.vehicles[-1], start, date(2099, 3, 1 + days), None, fields)


@pytest.mark.parametrize("path", [ROOT / "config/customers/demo.yaml", CUSTOMERS / "globex.yaml"])
@pytest.mark.parametrize(
    ("lines", "operation_allowed", "asked"),
    [(2, "edit", "create"), (1, "edit", "edit"), (0, "create", "create"), (0, "edit", "inspect")],
)
def test_ociflex_order_messages_get_the_all_clear(
    path: Path, lines: int, operation_allowed: str, asked: str
) -> None:
    buyer = customer(path)
    cart_return = CartReturn(
        url="https://buyer.example/punchout",
        target="_top",
        charset="utf-8",
        echo={
            "buyer_cookie": "<&> 'cookie' ë",
            "from": [["NetworkID", "AN01000099999"]],
            "to": [],
        },
    )
    cart_lines = [CartLine(booking(buyer, days), f"FF-00000{days}") for days in range(1, lines + 1)]
    document = order_message(
        buyer, cart_return, cart_lines, operation_allowed, Envelope("ociflex.example", "en"), str
    )

    report = check_cart(document, Expected("<&> 'cookie' ë", asked))

    assert report.problem_count == 0, [(v.subject, v.problems) for v in report.verdicts]
    assert len(report.lines) == lines
    assert report.empty is (lines == 0)
