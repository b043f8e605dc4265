"""OCI FUNCTION calls without a web server (PROTOCOL.md section 3): reading the call, finding
vehicles by code and by search string, and the catalogue lines that answer it."""

from dataclasses import replace
from decimal import Decimal

import pytest

from ociflex.booking.cart import Cart
from ociflex.booking.session import CartReturn
from ociflex.customers.loader import load_customer
from ociflex.customers.model import Customer, Localized, Vehicle
from ociflex.oci.basket import BasketError, check_basket
from ociflex.oci.callup import CallupError, Params
from ociflex.oci.config import oci_settings
from ociflex.oci.functions import (
    Function,
    FunctionRequest,
    ProductLine,
    catalogue_basket,
    catalogue_values,
    parse_function_request,
    read_function_call,
    search_vehicles,
    vehicles_for,
)
from ociflex.protocols import CUSTOMER_SECTIONS
from tests.conftest import (
    ACME_HOOK_URL,
    ACME_PASSWORD,
    DEMO_HOOK_URL,
    DEMO_PASSWORD,
    ROOT,
    TEST_CUSTOMERS,
)
from tests.support.customers import with_oci_settings

ENVIRON = {"OCIFLEX_ACME_PASSWORD": ACME_PASSWORD, "OCIFLEX_DEMO_PASSWORD": DEMO_PASSWORD}
SUPPORTED = "DETAIL, DETAILADD, VALIDATE, BACKGROUND_SEARCH, SOURCING"


@pytest.fixture(scope="module")
def acme() -> Customer:
    return load_customer(TEST_CUSTOMERS / "acme.yaml", CUSTOMER_SECTIONS, ENVIRON)


@pytest.fixture(scope="module")
def demo() -> Customer:
    return load_customer(ROOT / "config" / "customers" / "demo.yaml", CUSTOMER_SECTIONS, ENVIRON)


def params(*pairs: tuple[str, str], **named: str) -> Params:
    return Params.merge(pairs, named.items())


def parse(*pairs: tuple[str, str], **named: str) -> FunctionRequest:
    return parse_function_request(params(*pairs, **named))


def refusal(*pairs: tuple[str, str], **named: str) -> CallupError:
    with pytest.raises(CallupError) as refused:
        parse(*pairs, **named)
    return refused.value


#: What SAP sends with every FUNCTION call to acme: the login and the HOOK_URL, no user.
ACME_ACCESS = {"loginname": "acme-sap", "pwd": ACME_PASSWORD, "HOOK_URL": ACME_HOOK_URL}
DEMO_ACCESS = {"USERNAME": "demo-erp", "PASSWORD": DEMO_PASSWORD, "HOOK_URL": DEMO_HOOK_URL}


# --- The function and its parameters ------------------------------------------------------------


@pytest.mark.parametrize("sent", ["DETAIL", "detail", "Detail", " DETAIL "])
def test_the_function_name_is_matched_ignoring_case(sent: str) -> None:
    assert parse(FUNCTION=sent, PRODUCTID="VAN").function is Function.DETAIL


@pytest.mark.parametrize("function", ["DETAIL", "DETAILADD"])
def test_detail_takes_one_product_id(function: str) -> None:
    request = parse(FUNCTION=function, PRODUCTID=" VAN ")
    assert request.function == function
    assert request.product_id == "VAN"
    assert request.lines == (ProductLine("VAN", "1"),)


def test_names_of_the_parameters_are_matched_ignoring_case() -> None:
    request = parse(("function", "validate"), ("productid", "VAN"), ("quantity", "2"))
    assert request == FunctionRequest(Function.VALIDATE, lines=(ProductLine("VAN", "2"),))


def test_validate_takes_a_product_id_and_a_quantity() -> None:
    request = parse(FUNCTION="VALIDATE", PRODUCTID="COMPACT", QUANTITY="3")
    assert request.lines == (ProductLine("COMPACT", "3"),)


def test_validate_takes_several_indexed_lines_in_index_order() -> None:
    request = parse(
        ("FUNCTION", "VALIDATE"),
        ("PRODUCTID[2]", "VAN"),
        ("QUANTITY[2]", "2"),
        ("PRODUCTID[1]", "COMPACT"),
        ("QUANTITY[1]", "1.000"),
        ("productid[10]", "ESTATE"),
        ("PRODUCTID[3]", "GONE"),
        ("QUANTITY[3]", "4.5"),
    )
    assert request.lines == (
        ProductLine("COMPACT", "1"),
        ProductLine("VAN", "2"),
        ProductLine("GONE", "4.5"),
        ProductLine("ESTATE", "1"),
    )


def test_a_plain_product_id_comes_before_the_indexed_ones() -> None:
    request = parse(("FUNCTION", "VALIDATE"), ("PRODUCTID[1]", "VAN"), ("PRODUCTID", "COMPACT"))
    assert [line.product_id for line in request.lines] == ["COMPACT", "VAN"]


def test_an_indexed_quantity_belongs_to_its_own_line_only() -> None:
    request = parse(
        ("FUNCTION", "VALIDATE"),
        ("PRODUCTID[1]", "VAN"),
        ("QUANTITY[2]", "5"),
        ("QUANTITY", "7"),
    )
    assert request.lines == (ProductLine("VAN", "1"),)


def test_lines_without_a_product_id_are_skipped() -> None:
    request = parse(
        ("FUNCTION", "VALIDATE"),
        ("PRODUCTID[1]", ""),
        ("QUANTITY[1]", "2"),
        ("PRODUCTID[2]", "VAN"),
    )
    assert request.lines == (ProductLine("VAN", "1"),)


def test_the_same_line_sent_twice_with_the_same_value_is_one_line() -> None:
    """Query string and body may both carry it."""
    request = parse(("FUNCTION", "VALIDATE"), ("PRODUCTID[1]", "VAN"), ("productid[1]", "VAN"))
    assert request.lines == (ProductLine("VAN", "1"),)


@pytest.mark.parametrize(
    ("pairs", "named"),
    [
        pytest.param(
            [("PRODUCTID[1]", "VAN"), ("PRODUCTID[1]", "COMPACT")], "PRODUCTID[1]", id="id"
        ),
        pytest.param(
            [("PRODUCTID", "VAN"), ("QUANTITY", "1"), ("QUANTITY", "2")], "QUANTITY", id="q"
        ),
        pytest.param([("PRODUCTID", "VAN"), ("FUNCTION", "DETAIL")], "FUNCTION", id="function"),
    ],
)
def test_a_parameter_sent_twice_with_different_values_is_refused(
    pairs: list[tuple[str, str]], named: str
) -> None:
    error = refusal(("FUNCTION", "VALIDATE"), *pairs)
    assert (error.status, str(error)) == (
        400,
        f"The parameter {named} was sent more than once with different values.",
    )


@pytest.mark.parametrize(
    ("sent", "quantity"),
    [
        ("1", "1"),
        ("1.000", "1"),
        ("2.500", "2.5"),
        ("10", "10"),
        (" 3 ", "3"),
        ("0.125", "0.125"),
        ("", "1"),
        ("99999999999.999", "99999999999.999"),
    ],
)
def test_the_quantity_is_written_as_oci_writes_it(sent: str, quantity: str) -> None:
    request = parse(FUNCTION="VALIDATE", PRODUCTID="VAN", QUANTITY=sent)
    assert request.lines[0].quantity == quantity


@pytest.mark.parametrize(
    "sent", ["0", "0.000", "-1", "2,5", "1,000.00", "abc", "1e3", "1.2345", "123456789012", "."]
)
def test_a_quantity_that_is_not_a_positive_number_is_refused(sent: str) -> None:
    error = refusal(("FUNCTION", "VALIDATE"), ("PRODUCTID[1]", "VAN"), ("QUANTITY[1]", sent))
    assert error.status == 400
    assert str(error) == ("The value of QUANTITY[1] is not a positive quantity such as 1 or 2.5.")


@pytest.mark.parametrize("function", ["DETAIL", "DETAILADD", "VALIDATE"])
def test_a_product_function_without_a_product_id_is_refused(function: str) -> None:
    error = refusal(FUNCTION=function, PRODUCTID=" ")
    assert (error.status, str(error)) == (
        400,
        f"The OCI function {function} needs the parameter PRODUCTID.",
    )
    assert (error.fix % error.params).startswith("Ask your ERP administrator")


@pytest.mark.parametrize("function", ["BACKGROUND_SEARCH", "SOURCING", "background_search"])
def test_a_search_takes_the_search_string(function: str) -> None:
    request = parse(FUNCTION=function, searchstring="  polo ")
    assert request == FunctionRequest(Function(function.upper()), search="polo")


def test_a_search_without_a_search_string_searches_everything() -> None:
    assert parse(FUNCTION="BACKGROUND_SEARCH").search == ""


@pytest.mark.parametrize("sent", ["TELEPORT", "DETAILS", "VALIDATE_ALL"])
def test_an_unknown_function_is_refused_naming_the_ones_offered(sent: str) -> None:
    error = refusal(FUNCTION=sent, PRODUCTID="VAN")
    assert error.status == 400
    assert str(error) == (
        f"The OCI function {sent} is not offered by this catalogue; it offers {SUPPORTED}."
    )
    assert (error.fix % error.params).startswith("Ask your ERP administrator")


def test_an_unknown_function_is_shown_as_one_short_line() -> None:
    error = refusal(FUNCTION="EVIL\r\nLOG LINE" + "X" * 100)
    assert "\n" not in str(error)
    assert "\r" not in str(error)
    assert len(error.params["function"]) == 40


# --- read_function_call: the checks of every call-up, without the user --------------------------


def test_a_function_call_needs_no_user_fields(acme: Customer) -> None:
    call = read_function_call(acme, params(**ACME_ACCESS, FUNCTION="DETAIL", PRODUCTID="ESTATE"))
    assert call.customer_id == "acme"
    assert call.function is Function.DETAIL
    assert call.request.product_id == "ESTATE"
    assert call.cart_return.url == ACME_HOOK_URL
    assert (call.cart_return.target, call.cart_return.charset) == ("_top", "iso-8859-1")
    assert (call.cart_return.echo, call.oci_version) == ({}, None)


def test_a_function_call_reads_where_and_how_the_answer_goes(demo: Customer) -> None:
    sent = params(
        **DEMO_ACCESS,
        FUNCTION="VALIDATE",
        PRODUCTID="VAN",
        returntarget="_parent",
        HTTP_CONTENT_CHARSET="iso-8859-1",
        OCI_VERSION="5.0",
        **{"~OkCode": "ADDI", "~CALLER": "CTLG"},
    )
    call = read_function_call(demo, sent)
    assert (call.cart_return.target, call.cart_return.charset) == ("_parent", "iso-8859-1")
    assert call.cart_return.echo == {"~OkCode": "ADDI", "~CALLER": "CTLG"}
    assert call.oci_version == "5.0"


@pytest.mark.parametrize(
    ("change", "status"),
    [
        pytest.param({"pwd": "wrong"}, 403, id="password-wrong"),
        pytest.param({"pwd": None}, 401, id="password-missing"),
        pytest.param({"loginname": "someone"}, 403, id="username-wrong"),
        pytest.param({"HOOK_URL": None}, 400, id="hook-url-missing"),
        pytest.param({"HOOK_URL": "https://evil.example/sap/bc/srm"}, 400, id="hook-url-other"),
        pytest.param({"HTTP_CONTENT_CHARSET": "klingon"}, 400, id="charset-unknown"),
    ],
)
def test_a_function_call_is_checked_as_a_call_up(
    acme: Customer, change: dict[str, str | None], status: int
) -> None:
    sent = {**ACME_ACCESS, "FUNCTION": "VALIDATE", "PRODUCTID": "ESTATE", **change}
    with pytest.raises(CallupError) as refused:
        read_function_call(acme, params(**{k: v for k, v in sent.items() if v is not None}))
    assert refused.value.status == status


def test_the_login_is_checked_before_the_function(acme: Customer) -> None:
    """Without the login, nobody learns which functions or parameters are offered."""
    with pytest.raises(CallupError) as refused:
        read_function_call(acme, params(loginname="acme-sap", pwd="guess", FUNCTION="TELEPORT"))
    assert refused.value.status == 403


def test_the_hook_url_is_checked_before_the_function(acme: Customer) -> None:
    sent = {**ACME_ACCESS, "HOOK_URL": "https://evil.example/", "FUNCTION": "TELEPORT"}
    with pytest.raises(CallupError, match="HOOK_URL"):
        read_function_call(acme, params(**sent))


# --- Vehicles by code and by search string ------------------------------------------------------


def test_vehicles_for_keeps_the_line_order_and_names_what_is_gone(demo: Customer) -> None:
    lines = [ProductLine("VAN", "2"), ProductLine("GONE"), ProductLine("COMPACT")]
    found, missing = vehicles_for(demo, lines)
    assert [(vehicle.code, quantity) for vehicle, quantity in found] == [
        ("VAN", "2"),
        ("COMPACT", "1"),
    ]
    assert missing == ["GONE"]


def test_a_vehicle_code_is_matched_exactly(demo: Customer) -> None:
    assert vehicles_for(demo, [ProductLine("van")]) == ([], ["van"])


def codes(customer: Customer, search: str) -> list[str]:
    return [vehicle.code for vehicle in search_vehicles(customer, search)]


@pytest.mark.parametrize("search", ["", "   ", "*", "* *"])
def test_an_empty_search_finds_every_vehicle(demo: Customer, search: str) -> None:
    assert codes(demo, search) == ["COMPACT", "VAN"]


@pytest.mark.parametrize(
    ("search", "found"),
    [
        pytest.param("compact", ["COMPACT"], id="code-lower-case"),
        pytest.param("VAN", ["VAN"], id="code"),
        pytest.param("polo", ["COMPACT"], id="dutch-and-english-name"),
        pytest.param("Bestelbus", ["VAN"], id="dutch-name"),
        pytest.param("vw", ["COMPACT", "VAN"], id="two-hits"),
        pytest.param("similar", ["COMPACT"], id="english-name"),
        pytest.param("vw polo", ["COMPACT"], id="every-word-must-match"),
        pytest.param("polo*", ["COMPACT"], id="sap-wildcard"),
        pytest.param("VW*Trans", ["VAN"], id="wildcard-between-words"),
        pytest.param("tractor", [], id="no-hit"),
        pytest.param("polo transporter", [], id="words-in-different-vehicles"),
    ],
)
def test_a_search_matches_code_and_names(demo: Customer, search: str, found: list[str]) -> None:
    assert codes(demo, search) == found


def test_a_search_ignores_accents(acme: Customer) -> None:
    assert codes(acme, "skoda") == ["ESTATE"]
    assert codes(acme, "ŠKODA octavia") == ["ESTATE"]


def test_a_search_matches_the_description(acme: Customer) -> None:
    assert codes(acme, "estate car") == ["ESTATE"]
    hidden = replace(acme.vehicles[0], description="Kombi")
    assert codes(replace(acme, vehicles=(hidden,)), "kombi") == ["ESTATE"]


# --- Catalogue lines ----------------------------------------------------------------------------


def vehicle(customer: Customer, code: str) -> Vehicle:
    found = customer.vehicle(code)
    assert found is not None
    return found


def basket_for(
    customer: Customer,
    *lines: tuple[Vehicle, str],
    charset: str = "utf-8",
    target: str = "_top",
    ok_code: str | None = "ADDI",
    caller: str | None = "CTLG",
    **changes: object,
) -> Cart:
    """The catalogue basket of ``lines`` as a call-up with these values asks for it."""
    pairs = (("~OkCode", ok_code), ("~CALLER", caller))
    echo = {name: value for name, value in pairs if value is not None}
    cart_return = CartReturn(url=DEMO_HOOK_URL, target=target, charset=charset, echo=echo)
    return catalogue_basket(customer, list(lines), cart_return, **changes)


def test_a_catalogue_line_carries_the_vehicles_current_data(demo: Customer) -> None:
    van = vehicle(demo, "VAN")
    basket = basket_for(demo, (van, "1"))
    assert (basket.action, basket.target, basket.charset) == (DEMO_HOOK_URL, "_top", "utf-8")
    assert basket.fields == (
        ("NEW_ITEM-DESCRIPTION[1]", "Bestelbus (VW Transporter)"),
        ("NEW_ITEM-QUANTITY[1]", "1"),
        ("NEW_ITEM-UNIT[1]", "DAY"),
        ("NEW_ITEM-PRICE[1]", "79.00"),
        ("NEW_ITEM-PRICEUNIT[1]", "1"),
        ("NEW_ITEM-CURRENCY[1]", "EUR"),
        ("NEW_ITEM-VENDOR[1]", "4711"),
        ("NEW_ITEM-MATGROUP[1]", "78111800"),
        ("NEW_ITEM-EXT_PRODUCT_ID[1]", "VAN"),
        ("NEW_ITEM-LONGTEXT_1:132[]", "Vehicle: Bestelbus (VW Transporter) (VAN)"),
        ("~OkCode", "ADDI"),
        ("~CALLER", "CTLG"),
    )
    assert check_basket(basket, demo) == []


def test_catalogue_lines_are_numbered_from_1_with_their_quantities(demo: Customer) -> None:
    compact, van = vehicle(demo, "COMPACT"), vehicle(demo, "VAN")
    basket = basket_for(demo, (van, "2.5"), (compact, "1"), (van, "3"))
    fields = dict(basket.fields)
    assert [fields[f"NEW_ITEM-EXT_PRODUCT_ID[{n}]"] for n in (1, 2, 3)] == ["VAN", "COMPACT", "VAN"]
    assert [fields[f"NEW_ITEM-QUANTITY[{n}]"] for n in (1, 2, 3)] == ["2.5", "1", "3"]
    assert [fields[f"NEW_ITEM-PRICE[{n}]"] for n in (1, 2, 3)] == ["79.00", "39.50", "79.00"]
    assert fields["NEW_ITEM-LONGTEXT_2:132[]"] == (
        "Vehicle: Compacte auto (VW Polo of gelijkwaardig) (COMPACT)"
    )
    assert "NEW_ITEM-DESCRIPTION[4]" not in fields
    assert check_basket(basket, demo) == []


def test_a_catalogue_line_has_no_booking_data(demo: Customer) -> None:
    compact = vehicle(demo, "COMPACT")
    names = [name for name, _ in basket_for(demo, (compact, "1")).fields]
    assert "NEW_ITEM-EXT_QUOTE_ID[1]" not in names
    # cust_field1 "{cost_centre}" and cust_field2 "{po_number}" need a requester.
    assert "NEW_ITEM-CUST_FIELD1[1]" not in names
    assert "NEW_ITEM-CUST_FIELD2[1]" not in names


def test_fixed_values_and_the_vehicle_code_placeholder_are_kept(acme: Customer) -> None:
    estate = acme.vehicles[0]
    assert catalogue_values(acme, estate) == {
        "UNIT": "DAY",
        "CURRENCY": "GBP",
        "VENDORMAT": "ESTATE",
    }
    customer = with_oci_settings(
        acme,
        basket={
            **oci_settings(acme).basket,
            "CUST_FIELD1": "X-{vehicle_code}",
            "CUST_FIELD2": "{days}d",
            "CUST_FIELD3": "{reference}",
            "CUST_FIELD4": "{start}-{vehicle_code}",
            "MATGROUP": "78111800",
        },
    )
    assert catalogue_values(customer, estate) == {
        "UNIT": "DAY",
        "CURRENCY": "GBP",
        "VENDORMAT": "ESTATE",
        "CUST_FIELD1": "X-ESTATE",
        "MATGROUP": "78111800",
    }


def test_the_acme_line_in_iso_8859_1(acme: Customer) -> None:
    basket = basket_for(acme, (acme.vehicles[0], "1"), charset="iso-8859-1", ok_code=None)
    assert basket.fields == (
        ("NEW_ITEM-DESCRIPTION[1]", "Estate car (Skoda Octavia Combi)"),
        ("NEW_ITEM-QUANTITY[1]", "1"),
        ("NEW_ITEM-UNIT[1]", "DAY"),
        ("NEW_ITEM-PRICE[1]", "55.00"),
        ("NEW_ITEM-PRICEUNIT[1]", "1"),
        ("NEW_ITEM-CURRENCY[1]", "GBP"),
        ("NEW_ITEM-VENDORMAT[1]", "ESTATE"),
        ("NEW_ITEM-EXT_PRODUCT_ID[1]", "ESTATE"),
        ("NEW_ITEM-LONGTEXT_1:132[]", "Vehicle: Estate car (Skoda Octavia Combi) (ESTATE)"),
        ("~CALLER", "CTLG"),
    )


def test_a_name_longer_than_description_allows_gives_way_to_the_short_description(
    demo: Customer,
) -> None:
    long_name = Vehicle(
        code="MINIBUS",
        name=Localized({"nl": "Personenbus voor negen personen (VW Caravelle)"}),
        day_rate=Decimal("99"),
        description="Personenbus 9p",
    )
    fields = dict(basket_for(demo, (long_name, "1")).fields)
    assert fields["NEW_ITEM-DESCRIPTION[1]"] == "Personenbus 9p"
    assert fields["NEW_ITEM-LONGTEXT_1:132[]"] == (
        "Vehicle: Personenbus voor negen personen (VW Caravelle) (MINIBUS)"
    )
    raised = with_oci_settings(demo, max_lengths={"DESCRIPTION": 60})
    fields = dict(basket_for(raised, (long_name, "1")).fields)
    assert fields["NEW_ITEM-DESCRIPTION[1]"] == "Personenbus voor negen personen (VW Caravelle)"


def test_the_name_is_in_the_customers_language(demo: Customer) -> None:
    compact = vehicle(demo, "COMPACT")
    english = replace(demo, language="en")
    fields = dict(basket_for(english, (compact, "1")).fields)
    assert fields["NEW_ITEM-DESCRIPTION[1]"] == "Compact car (VW Polo or similar)"


def test_the_long_text_is_translated_with_gettext(demo: Customer) -> None:
    van = vehicle(demo, "VAN")
    basket = basket_for(demo, (van, "1"), gettext={"Vehicle": "Voertuig"}.get)
    assert dict(basket.fields)["NEW_ITEM-LONGTEXT_1:132[]"] == (
        "Voertuig: Bestelbus (VW Transporter) (VAN)"
    )


def test_an_empty_quantity_is_one(demo: Customer) -> None:
    van = vehicle(demo, "VAN")
    assert dict(basket_for(demo, (van, "")).fields)["NEW_ITEM-QUANTITY[1]"] == "1"


@pytest.mark.parametrize("quantity", ["0", "-1", "2,5", "1.2345"])
def test_a_quantity_that_breaks_the_rules_is_an_error(demo: Customer, quantity: str) -> None:
    van = vehicle(demo, "VAN")
    with pytest.raises(BasketError) as caught:
        basket_for(demo, (van, quantity))
    assert caught.value.fields == ["QUANTITY"]


def test_a_configuration_that_breaks_the_rules_is_an_error(demo: Customer) -> None:
    van = vehicle(demo, "VAN")
    broken = with_oci_settings(demo, basket={**oci_settings(demo).basket, "VENDOR": "12345678901"})
    with pytest.raises(BasketError) as caught:
        basket_for(broken, (van, "1"))
    assert caught.value.fields == ["VENDOR"]


def test_a_basket_without_lines_has_no_fields(demo: Customer) -> None:
    basket = basket_for(demo, target="_parent", charset="iso-8859-1")
    assert basket == Cart(DEMO_HOOK_URL, "_parent", "iso-8859-1", ())


def test_okcode_and_caller_are_echoed_only_when_sent(demo: Customer) -> None:
    van = vehicle(demo, "VAN")
    names = [name for name, _ in basket_for(demo, (van, "1"), ok_code=None, caller=None).fields]
    assert names[-1] == "NEW_ITEM-LONGTEXT_1:132[]"
