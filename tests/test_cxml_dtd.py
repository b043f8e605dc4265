import socket

import pytest
from lxml import etree

from ociflex.cxml.dtd import dtd_problems

CXML_DTD_URL = "http://xml.cxml.org/schemas/cXML/1.2.063/cXML.dtd"


def cxml(body: str, doctype_url: str = CXML_DTD_URL) -> str:
    """A cXML document: declaration, DOCTYPE and envelope around ``body``."""
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE cXML SYSTEM "{doctype_url}">
<cXML payloadID="20260312T101500.4711.k3j9@ociflex.example"
      timestamp="2026-03-12T10:15:00+01:00" xml:lang="nl-NL">
{body}
</cXML>
"""


def line_of(document: str, text: str) -> int:
    """The line of ``document`` on which ``text`` first appears."""
    return document[: document.index(text)].count("\n") + 1


HEADER = """  <Header>
    <From><Credential domain="NetworkID"><Identity>AN01000000042</Identity></Credential></From>
    <To><Credential domain="DUNS"><Identity>412345678</Identity></Credential></To>
    <Sender>
      <Credential domain="NetworkID">
        <Identity>AN01000000042</Identity>
        <SharedSecret>not-a-real-secret</SharedSecret>
      </Credential>
      <UserAgent>FlexFleet ERP simulator</UserAgent>
    </Sender>
  </Header>"""

UNIT_OF_MEASURE = "<UnitOfMeasure>DAY</UnitOfMeasure>"
CLASSIFICATION = '<Classification domain="UNSPSC">78111808</Classification>'

CART = cxml(
    f"""{HEADER}
  <Message deploymentMode="test">
    <PunchOutOrderMessage>
      <BuyerCookie>c0ffee-42</BuyerCookie>
      <PunchOutOrderMessageHeader operationAllowed="edit">
        <Total><Money currency="EUR">178.50</Money></Total>
      </PunchOutOrderMessageHeader>
      <ItemIn quantity="3" lineNumber="1">
        <ItemID>
          <SupplierPartID>VAN-L2H2</SupplierPartID>
          <SupplierPartAuxiliaryID>booking-8841</SupplierPartAuxiliaryID>
        </ItemID>
        <ItemDetail>
          <UnitPrice><Money currency="EUR">59.50</Money></UnitPrice>
          <Description xml:lang="nl-NL"><ShortName>Bestelbus L2H2</ShortName>Bestelbus L2H2,
            drie dagen vanaf depot Utrecht</Description>
          {UNIT_OF_MEASURE}
          {CLASSIFICATION}
          <Extrinsic name="PickupDate">2026-03-16</Extrinsic>
        </ItemDetail>
      </ItemIn>
    </PunchOutOrderMessage>
  </Message>"""
)

SETUP_RESPONSE = cxml(
    """  <Response>
    <Status code="200" text="OK"/>
    <PunchOutSetupResponse>
      <StartPage><URL>https://ociflex.example/cxml/start/Zm9vYmFyYmF6</URL></StartPage>
    </PunchOutSetupResponse>
  </Response>"""
)

EXTRINSIC = '<Extrinsic name="CostCenter">4711</Extrinsic>'
BROWSER_FORM_POST = (
    "<BrowserFormPost><URL>https://erp.example.com/punchout/return</URL></BrowserFormPost>"
)
CONTACT = """<Contact role="endUser">
        <Name xml:lang="en-US">Jo Jansen</Name>
        <Email>jo.jansen@example.com</Email>
      </Contact>"""
SUPPLIER_SETUP = "<SupplierSetup><URL>https://ociflex.example/cxml/setup</URL></SupplierSetup>"
SHIP_TO = """<ShipTo>
        <Address isoCountryCode="NL" addressID="UT-01">
          <Name xml:lang="en-US">Utrecht depot</Name>
          <PostalAddress>
            <Street>Europalaan 1</Street>
            <City>Utrecht</City>
            <PostalCode>3526 KS</PostalCode>
            <Country isoCountryCode="NL">Netherlands</Country>
          </PostalAddress>
        </Address>
      </ShipTo>"""
ITEM_OUT = """<ItemOut quantity="3" lineNumber="1">
        <ItemID>
          <SupplierPartID>VAN-L2H2</SupplierPartID>
          <SupplierPartAuxiliaryID>booking-8841</SupplierPartAuxiliaryID>
        </ItemID>
      </ItemOut>"""


def setup_request(*children: str, operation: str = "create") -> str:
    """A PunchOutSetupRequest with ``children`` in the order given, after its BuyerCookie."""
    joined = "\n      ".join(children)
    return cxml(
        f"""{HEADER}
  <Request deploymentMode="production">
    <PunchOutSetupRequest operation="{operation}">
      <BuyerCookie>5ad1f3c2</BuyerCookie>
      {joined}
    </PunchOutSetupRequest>
  </Request>"""
    )


PROFILE_RESPONSE = cxml(
    """  <Response>
    <Status code="200" text="OK"/>
    <ProfileResponse effectiveDate="2026-01-01T00:00:00+01:00">
      <Transaction requestName="PunchOutSetupRequest">
        <URL>https://ociflex.example/cxml/setup</URL>
      </Transaction>
      <Transaction requestName="OrderRequest">
        <URL>https://ociflex.example/cxml/order</URL>
      </Transaction>
    </ProfileResponse>
  </Response>"""
)

ORDER = cxml(
    f"""{HEADER}
  <Request>
    <OrderRequest>
      <OrderRequestHeader orderID="4500012345" orderDate="2026-03-12T11:00:00+01:00" type="new">
        <Total><Money currency="EUR">178.50</Money></Total>
        <BillTo><Address><Name xml:lang="en">Example Logistics BV</Name></Address></BillTo>
        <Comments xml:lang="en">Keys at the reception desk</Comments>
      </OrderRequestHeader>
      <ItemOut quantity="3" lineNumber="1">
        <ItemID><SupplierPartID>VAN-L2H2</SupplierPartID></ItemID>
        <ItemDetail>
          <UnitPrice><Money currency="EUR">59.50</Money></UnitPrice>
          <Description xml:lang="en">Van L2H2, three days</Description>
          {UNIT_OF_MEASURE}
          {CLASSIFICATION}
        </ItemDetail>
      </ItemOut>
    </OrderRequest>
  </Request>"""
)


def test_a_correct_cart_has_no_problems():
    assert dtd_problems(CART) == []


def test_a_cart_as_bytes_and_as_a_parsed_element_has_no_problems_either():
    assert dtd_problems(CART.encode()) == []
    assert dtd_problems(etree.fromstring(CART.encode())) == []


def test_item_detail_children_out_of_order_are_a_problem_naming_the_element_and_its_line():
    swapped = CART.replace(UNIT_OF_MEASURE, "SWAP").replace(CLASSIFICATION, UNIT_OF_MEASURE)
    document = swapped.replace("SWAP", CLASSIFICATION)

    assert dtd_problems(document) == [
        f"line {line_of(document, '<ItemDetail>')}: Element ItemDetail content does not follow"
        " the DTD, expecting (UnitPrice , Description+ , OverallLimit? , ExpectedLimit? ,"
        " UnitOfMeasure , PriceBasisQuantity? , Classification+ , ManufacturerPartID? ,"
        " ManufacturerName? , URL? , LeadTime? , Dimension* , ItemDetailIndustry? ,"
        " AttachmentReference* , PlannedAcceptanceDays? , Extrinsic*), got (UnitPrice"
        " Description Classification UnitOfMeasure Extrinsic )"
    ]


@pytest.mark.parametrize(
    ("correct", "broken", "element", "attribute"),
    [
        ('<ItemIn quantity="3" ', "<ItemIn ", "ItemIn", "quantity"),
        ('<Money currency="EUR">59.50', "<Money>59.50", "Money", "currency"),
        ('<Description xml:lang="nl-NL">', "<Description>", "Description", "xml:lang"),
        ('operationAllowed="edit"', "", "PunchOutOrderMessageHeader", "operationAllowed"),
    ],
)
def test_a_missing_required_attribute_is_a_problem_naming_the_element_and_its_line(
    correct, broken, element, attribute
):
    document = CART.replace(correct, broken)

    assert dtd_problems(document) == [
        f"line {line_of(document, broken or '<' + element)}: "
        f"Element {element} does not carry attribute {attribute}"
    ]


def test_a_value_outside_an_enumeration_is_a_problem_naming_the_element_and_its_line():
    document = CART.replace('operationAllowed="edit"', 'operationAllowed="change"')

    assert dtd_problems(document) == [
        f'line {line_of(document, "change")}: Value "change" for attribute operationAllowed'
        " of PunchOutOrderMessageHeader is not among the enumerated set"
    ]


def test_a_deployment_mode_other_than_production_or_test_is_a_problem():
    document = setup_request(BROWSER_FORM_POST).replace('"production"', '"staging"')

    assert dtd_problems(document) == [
        f'line {line_of(document, "staging")}: Value "staging" for attribute deploymentMode'
        " of Request is not among the enumerated set"
    ]


def test_a_correct_setup_response_has_no_problems():
    assert dtd_problems(SETUP_RESPONSE) == []


def test_a_status_with_a_code_but_no_text_is_a_problem():
    document = SETUP_RESPONSE.replace(' text="OK"', "")

    assert dtd_problems(document) == [
        f"line {line_of(document, '<Status')}: Element Status does not carry attribute text"
    ]


def test_a_setup_request_in_dtd_order_has_no_problems():
    document = setup_request(EXTRINSIC, BROWSER_FORM_POST, CONTACT, SUPPLIER_SETUP, SHIP_TO)

    assert dtd_problems(document) == []


def test_an_edit_setup_request_with_the_cart_lines_has_no_problems():
    document = setup_request(BROWSER_FORM_POST, CONTACT, ITEM_OUT, operation="edit")

    assert dtd_problems(document) == []


def test_an_unknown_setup_operation_is_a_problem():
    document = setup_request(BROWSER_FORM_POST, operation="change")

    assert dtd_problems(document) == [
        f'line {line_of(document, "<PunchOutSetupRequest")}: Value "change" for attribute'
        " operation of PunchOutSetupRequest is not among the enumerated set"
    ]


def test_a_contact_before_the_browser_form_post_as_coupa_sends_it_is_out_of_order():
    document = setup_request(CONTACT, BROWSER_FORM_POST)

    assert dtd_problems(document) == [
        f"line {line_of(document, '<PunchOutSetupRequest')}: Element PunchOutSetupRequest"
        " content does not follow the DTD, expecting (BuyerCookie , Extrinsic* ,"
        " BrowserFormPost? , Contact* , SupplierSetup? , ShipTo? , SelectedItem? , ItemOut*),"
        " got (BuyerCookie Contact BrowserFormPost )"
    ]


def test_a_profile_response_with_its_transactions_has_no_problems():
    assert dtd_problems(PROFILE_RESPONSE) == []


def test_a_profile_response_without_its_effective_date_is_a_problem():
    document = PROFILE_RESPONSE.replace(' effectiveDate="2026-01-01T00:00:00+01:00"', "")

    assert dtd_problems(document) == [
        f"line {line_of(document, '<ProfileResponse')}: Element ProfileResponse does not carry"
        " attribute effectiveDate"
    ]


def test_a_profile_request_has_no_problems():
    document = cxml(f"{HEADER}\n  <Request><ProfileRequest/></Request>")

    assert dtd_problems(document) == []


def test_an_order_with_a_bill_to_and_one_line_has_no_problems():
    assert dtd_problems(ORDER) == []


def test_an_order_without_a_bill_to_is_a_problem():
    start = ORDER.index("<BillTo>")
    document = ORDER[:start] + ORDER[ORDER.index("<Comments") :]

    [problem] = dtd_problems(document)

    assert problem.startswith(
        f"line {line_of(document, '<OrderRequestHeader')}: Element OrderRequestHeader content"
        " does not follow the DTD, expecting (Total , ShipTo? , BillTo , "
    )


def test_the_cxml_org_dtd_is_not_fetched_when_the_network_is_unreachable(monkeypatch):
    def unreachable(*args):
        raise OSError("the network is unreachable in this test")

    monkeypatch.setattr(socket.socket, "connect", unreachable)

    assert CXML_DTD_URL in CART
    assert dtd_problems(CART) == []


def test_the_dtd_the_doctype_names_is_never_loaded(tmp_path):
    broken = tmp_path / "cXML.dtd"
    broken.write_text("<!ELEMENT cXML (((no end")  # a parser that loaded it would fail

    document = CART.replace(CXML_DTD_URL, broken.as_uri())

    assert dtd_problems(document) == []


def test_an_internal_doctype_subset_cannot_declare_more_elements():
    document = CART.replace(
        f'<!DOCTYPE cXML SYSTEM "{CXML_DTD_URL}">', "<!DOCTYPE cXML [<!ELEMENT Seat ANY>]>"
    ).replace("2026-03-16</Extrinsic>", "2026-03-16<Seat/></Extrinsic>")

    assert dtd_problems(document) == [
        f"line {line_of(document, '<Seat/>')}: No declaration for element Seat"
    ]


@pytest.mark.parametrize("document", [b"", b"this is no XML", "<cXML><Header></cXML>"])
def test_a_document_that_is_not_xml_is_one_problem_not_an_exception(document):
    [problem] = dtd_problems(document)

    assert problem.startswith("the document is not well-formed XML: ")


def test_an_element_the_subset_does_not_declare_is_reported():
    document = CART.replace("2026-03-16</Extrinsic>", "<Date>2026-03-16</Date></Extrinsic>")

    assert dtd_problems(document) == [
        f"line {line_of(document, '<Date>')}: No declaration for element Date"
    ]


def test_a_transaction_outside_the_subset_is_reported():
    document = cxml(f"{HEADER}\n  <Request><GetPendingRequest/></Request>")

    line = line_of(document, "<GetPendingRequest")
    assert dtd_problems(document) == [
        f"line {line}: Element Request content does not follow the DTD, expecting"
        " (ProfileRequest | PunchOutSetupRequest | OrderRequest), got (GetPendingRequest)",
        f"line {line}: No declaration for element GetPendingRequest",
    ]


def test_a_document_whose_root_is_not_cxml_is_a_problem():
    document = b'<Status code="200" text="OK"/>'

    assert dtd_problems(document) == ["line 1: the root element is Status, not cXML"]


def test_a_str_is_read_as_the_characters_it_holds_whatever_encoding_it_declares():
    # As US-ASCII, the UTF-8 of "Ü" would be invalid bytes and the document no XML.
    document = CART.replace('encoding="UTF-8"', 'encoding="US-ASCII"').replace(
        "drie dagen", "drie dagen, Überführung inbegrepen,"
    )

    assert dtd_problems(document) == []


def test_an_element_built_in_memory_is_located_by_its_path():
    root = etree.fromstring(SETUP_RESPONSE.encode())
    copy = etree.Element("cXML", root.attrib)  # built, not parsed: no line numbers
    response = etree.SubElement(copy, "Response")
    etree.SubElement(response, "Status", code="200")

    assert dtd_problems(copy) == [
        "/cXML/Response/Status: Element Status does not carry attribute text"
    ]
