import json
from dataclasses import replace
from datetime import date
from decimal import Decimal

import pytest

from ociflex.booking.cart import Cart
from ociflex.booking.details import Booking
from ociflex.booking.session import CartReturn
from ociflex.customers.model import (
    BUILTIN_PLACEHOLDERS,
    PLACEHOLDER,
    Customer,
    Field,
    Localized,
    Secret,
    Vehicle,
)
from ociflex.devtools.verdicts import check_basket_post
from ociflex.oci.basket import BasketError, build_basket, check_basket
from ociflex.oci.config import OCI, Login, OciSettings, oci_settings
from tests.support.journeys import as_a_browser_posts

HOOK_URL = "https://erp.example.com/sap/bc/hook?sap-client=100&session=abc%2F1"
MONDAY = date(2025, 3, 3)
WEDNESDAY = date(2025, 3, 5)

POLO = Vehicle(
    code="VW-POLO",
    name=Localized({"nl": "Volkswagen Polo of gelijkwaardig", "en": "Volkswagen Polo or similar"}),
    day_rate=Decimal("39.5"),
    description="VW Polo",
)


def make_customer(**changes) -> Customer:
    """A customer; ``basket`` and ``max_lengths`` among ``changes`` are its OCI settings'."""
    fields = {
        "email": Field("email", required=True),
        "full_name": Field("full_name", required=True),
        "cost_centre": Field(
            "cost_centre",
            editable=True,
            label=Localized({"nl": "Kostenplaats", "en": "Cost centre"}),
        ),
        "po_number": Field("po_number", label=Localized({"en": "PO number"})),
    }
    settings = OciSettings(
        login=Login("username", "password", "acme", Secret(value="secret")),
        hook_urls=("https://erp.example.com/sap/bc",),
        params={
            "email": "oci_usermail",
            "full_name": "oci_userfullname",
            "cost_centre": "oci_costcenter",
            "po_number": "oci_ponumber",
        },
        basket={
            "UNIT": "DAY",
            "CURRENCY": "EUR",
            "CUST_FIELD1": "{cost_centre}",
            "CUST_FIELD2": "{po_number}",
            "VENDOR": "4711",
            "MATGROUP": "78111800",
        },
    )
    oci_changes = {key: changes.pop(key) for key in ("basket", "max_lengths") if key in changes}
    customer = Customer(
        id="acme",
        name="ACME B.V.",
        language="en",
        fields=fields,
        vehicles=(POLO,),
        protocols={OCI: replace(settings, **oci_changes)},
        frame_ancestors=("https://erp.example.com",),
        locations=("Utrecht", "Amsterdam"),
    )
    return replace(customer, **changes)


def make_booking(**changes) -> Booking:
    booking = Booking(
        vehicle=POLO,
        start=MONDAY,
        end=WEDNESDAY,
        location="Utrecht",
        fields={
            "email": "j.jansen@acme.example",
            "full_name": "Jan Jansen",
            "cost_centre": "KST-4711",
            "po_number": "",
        },
        remarks="",
    )
    return replace(booking, **changes)


def with_fields(booking: Booking, **values: str) -> Booking:
    return replace(booking, fields={**booking.fields, **values})


def build(
    customer=None,
    booking=None,
    reference="FF-000042",
    target="_top",
    charset="utf-8",
    ok_code="ADDI",
    caller="CTLG",
    **changes,
) -> Cart:
    """The basket of ``booking`` as a call-up with these values asks for it."""
    pairs = (("~OkCode", ok_code), ("~CALLER", caller))
    echo = {name: value for name, value in pairs if value is not None}
    return build_basket(
        customer or make_customer(),
        booking or make_booking(),
        reference=reference,
        cart_return=CartReturn(url=HOOK_URL, target=target, charset=charset, echo=echo),
        **changes,
    )


def values(basket: Cart) -> dict[str, str]:
    return dict(basket.fields)


def longtext(basket: Cart) -> str:
    return values(basket)["NEW_ITEM-LONGTEXT_1:132[]"]


def test_booking_counts_days_inclusively():
    assert make_booking().days == 3
    assert make_booking(end=MONDAY).days == 1


def test_three_day_rental_gives_one_line_of_three_days():
    basket = build()

    line = values(basket)
    assert line["NEW_ITEM-DESCRIPTION[1]"] == "VW Polo 03-03-2025–05-03-2025"
    assert line["NEW_ITEM-QUANTITY[1]"] == "3"
    assert line["NEW_ITEM-UNIT[1]"] == "DAY"
    assert line["NEW_ITEM-PRICE[1]"] == "39.50"
    assert line["NEW_ITEM-PRICEUNIT[1]"] == "1"
    assert line["NEW_ITEM-CURRENCY[1]"] == "EUR"
    assert line["NEW_ITEM-EXT_PRODUCT_ID[1]"] == "VW-POLO"
    assert line["NEW_ITEM-EXT_QUOTE_ID[1]"] == "FF-000042"
    assert line["NEW_ITEM-CUST_FIELD1[1]"] == "KST-4711"
    assert line["NEW_ITEM-VENDOR[1]"] == "4711"
    assert line["NEW_ITEM-MATGROUP[1]"] == "78111800"
    assert "NEW_ITEM-SERVICE[1]" not in line


def test_basket_posts_to_the_hook_url_as_received():
    basket = build(target="erp_frame", charset="iso-8859-1")

    assert basket.action == HOOK_URL
    assert basket.target == "erp_frame"
    assert basket.charset == "iso-8859-1"


def test_field_names_and_order():
    names = [name for name, _ in build().fields]

    assert names == [
        "NEW_ITEM-DESCRIPTION[1]",
        "NEW_ITEM-QUANTITY[1]",
        "NEW_ITEM-UNIT[1]",
        "NEW_ITEM-PRICE[1]",
        "NEW_ITEM-PRICEUNIT[1]",
        "NEW_ITEM-CURRENCY[1]",
        "NEW_ITEM-VENDOR[1]",
        "NEW_ITEM-MATGROUP[1]",
        "NEW_ITEM-CUST_FIELD1[1]",
        "NEW_ITEM-EXT_PRODUCT_ID[1]",
        "NEW_ITEM-EXT_QUOTE_ID[1]",
        "NEW_ITEM-LONGTEXT_1:132[]",
        "~OkCode",
        "~CALLER",
    ]


def test_built_basket_passes_the_check():
    customer = make_customer()

    assert check_basket(build(customer), customer) == []


@pytest.mark.parametrize(
    ("day_rate", "price"),
    [
        ("39.5", "39.50"),
        ("40", "40.00"),
        ("1E+2", "100.00"),
        ("1234.5", "1234.50"),
        ("12.345", "12.35"),
        ("0.99", "0.99"),
    ],
)
def test_price_has_two_decimals_and_a_decimal_point(day_rate, price):
    vehicle = replace(POLO, day_rate=Decimal(day_rate))
    customer = make_customer(vehicles=(vehicle,))

    basket = build(customer, make_booking(vehicle=vehicle))

    assert values(basket)["NEW_ITEM-PRICE[1]"] == price


def test_one_day_rental():
    basket = build(booking=make_booking(end=MONDAY))

    assert values(basket)["NEW_ITEM-QUANTITY[1]"] == "1"
    assert values(basket)["NEW_ITEM-DESCRIPTION[1]"] == "VW Polo 03-03-2025–03-03-2025"
    assert "(1 day)" in longtext(basket)


def test_placeholders_are_filled_in():
    template = "{vehicle_code}|{reference}|{start}|{end}|{days}|{location}"
    assert set(PLACEHOLDER.findall(template)) == set(BUILTIN_PLACEHOLDERS)
    customer = make_customer(
        basket={
            **oci_settings(make_customer()).basket,
            "CUST_FIELD5": template,
            "CUST_FIELD4": "{full_name}",
            "CUST_FIELD3": "PO {po_number}",
        }
    )
    booking = with_fields(make_booking(), po_number="4500012")

    line = values(build(customer, booking, reference="R-1"))

    assert line["NEW_ITEM-CUST_FIELD5[1]"] == "VW-POLO|R-1|2025-03-03|2025-03-05|3|Utrecht"
    assert line["NEW_ITEM-CUST_FIELD4[1]"] == "Jan Jansen"
    assert line["NEW_ITEM-CUST_FIELD3[1]"] == "PO 4500012"
    assert line["NEW_ITEM-CUST_FIELD2[1]"] == "4500012"


def test_location_placeholder_is_empty_without_a_location():
    customer = make_customer(
        basket={**oci_settings(make_customer()).basket, "CUST_FIELD5": "at {location}."}
    )

    line = values(build(customer, make_booking(location=None)))

    assert line["NEW_ITEM-CUST_FIELD5[1]"] == "at ."


def test_entry_that_renders_empty_is_omitted():
    line = values(build())

    assert "NEW_ITEM-CUST_FIELD2[1]" not in line


@pytest.mark.parametrize(("ok_code", "caller"), [("ADDI", "CTLG"), ("addi", "ctlg")])
def test_ok_code_and_caller_are_echoed_after_the_items(ok_code, caller):
    basket = build(ok_code=ok_code, caller=caller)

    assert basket.fields[-2:] == (("~OkCode", ok_code), ("~CALLER", caller))


def test_ok_code_and_caller_are_left_out_when_not_received():
    names = [name for name, _ in build(ok_code=None, caller=None).fields]

    assert "~OkCode" not in names
    assert "~CALLER" not in names
    assert names[-1] == "NEW_ITEM-LONGTEXT_1:132[]"


def test_longtext_holds_all_details():
    booking = replace(
        with_fields(make_booking(), po_number="4500012"),
        remarks="Child seat please.\r\nReturn\tlate.",
    )

    text = longtext(build(booking=booking))

    # Lines end in CR LF, as the browser posts them: the remarks' own line breaks too.
    assert text.split("\r\n") == [
        "Requester: Jan Jansen <j.jansen@acme.example>",
        "Vehicle: Volkswagen Polo or similar (VW-POLO)",
        "Period: 03-03-2025 – 05-03-2025 (3 days)",
        "Pickup location: Utrecht",
        "Cost centre: KST-4711",
        "PO number: 4500012",
        "Remarks: Child seat please.",
        "Return late.",
        "Reference: FF-000042",
    ]


@pytest.mark.parametrize("charset", ["utf-8", "ISO-8859-1"])
def test_the_erp_receives_the_basket_as_built_and_its_simulator_accepts_it(charset):
    # Line breaks of every kind in the remarks; the form post turns each into CR LF.
    booking = replace(make_booking(), remarks="Child seat.\nReturn late.\rThanks!\r\nJan")

    basket = build(booking=booking, charset=charset)
    posted = [(name, as_a_browser_posts(value)) for name, value in basket.fields]

    assert posted == list(basket.fields)  # what ociflex checks and keeps is what SAP gets
    report = check_basket_post(posted, charset)
    assert report.problem_count == 0, [row.problems for row in report.lines[1]]


def test_longtext_leaves_out_what_is_empty():
    text = longtext(build(booking=make_booking(location=None)))

    assert "Pickup location" not in text
    assert "PO number" not in text
    assert "Remarks" not in text


def test_longtext_in_the_customers_language_through_gettext():
    dutch = {
        "Requester": "Aanvrager",
        "Vehicle": "Voertuig",
        "Period": "Periode",
        "days": "dagen",
        "Pickup location": "Ophaallocatie",
        "Reference": "Referentie",
    }

    basket = build(make_customer(language="nl"), gettext=lambda text: dutch.get(text, text))

    text = longtext(basket)
    assert "Aanvrager: Jan Jansen <j.jansen@acme.example>" in text
    assert "Voertuig: Volkswagen Polo of gelijkwaardig (VW-POLO)" in text
    assert "(3 dagen)" in text
    assert "Kostenplaats: KST-4711" in text
    assert "Referentie: FF-000042" in text


def test_latin1_basket_transliterates_what_latin1_lacks():
    booking = replace(
        with_fields(make_booking(), full_name="Łukasz Żółć", cost_centre="Café"),
        remarks="„Quoted” — with ‘care’… and a ☃, Zoe\u0308 ",
    )

    basket = build(booking=booking, charset="ISO-8859-1")

    text = longtext(basket)
    assert "Requester: Lukasz Zólc <" in text  # ó is in ISO-8859-1, so it stays
    assert "Cost centre: Café" in text
    assert "Remarks: \"Quoted\" - with 'care'... and a ?, Zoë" in text
    assert "Period: 03-03-2025 - 05-03-2025" in text
    assert values(basket)["NEW_ITEM-DESCRIPTION[1]"] == "VW Polo 03-03-2025-05-03-2025"
    assert values(basket)["NEW_ITEM-CUST_FIELD1[1]"] == "Café"
    for _, value in basket.fields:
        value.encode("iso-8859-1")


def test_windows_1252_basket_keeps_typographic_quotes():
    booking = replace(make_booking(), remarks="„Łódź”")

    text = longtext(build(booking=booking, charset="windows-1252"))

    assert "Remarks: „Lódz”" in text


def test_utf8_basket_keeps_every_character():
    booking = replace(with_fields(make_booking(), full_name="Łukasz Żółć"), remarks="☃ „x”")

    basket = build(booking=booking, charset="utf-8")

    assert "Łukasz Żółć" in longtext(basket)
    assert "Remarks: ☃ „x”" in longtext(basket)
    assert values(basket)["NEW_ITEM-DESCRIPTION[1]"] == "VW Polo 03-03-2025–05-03-2025"


def test_value_over_the_limit_is_an_error_not_a_truncation():
    booking = with_fields(make_booking(), cost_centre="KST-4711-001")

    with pytest.raises(BasketError) as caught:
        build(booking=booking)

    assert caught.value.fields == ["CUST_FIELD1"]
    assert caught.value.problems == [
        "NEW_ITEM-CUST_FIELD1[1] is 12 characters long; the limit is 10"
    ]


def test_raised_limit_allows_a_longer_value():
    customer = make_customer(max_lengths={"CUST_FIELD1": 20})
    booking = with_fields(make_booking(), cost_centre="KST-4711-001")

    basket = build(customer, booking)

    assert values(basket)["NEW_ITEM-CUST_FIELD1[1]"] == "KST-4711-001"


def test_too_long_description_is_an_error():
    vehicle = replace(POLO, description="Volkswagen Polo TSI")  # 19 characters
    customer = make_customer(vehicles=(vehicle,))

    with pytest.raises(BasketError) as caught:
        build(customer, make_booking(vehicle=vehicle))

    assert caught.value.fields == ["DESCRIPTION"]
    assert "41 characters long; the limit is 40" in caught.value.problems[0]


def test_too_long_reference_is_an_error():
    with pytest.raises(BasketError) as caught:
        build(reference="R" * 36)

    assert caught.value.fields == ["EXT_QUOTE_ID"]


def test_missing_unit_is_an_error():
    basket_config = {k: v for k, v in oci_settings(make_customer()).basket.items() if k != "UNIT"}

    with pytest.raises(BasketError) as caught:
        build(make_customer(basket=basket_config))

    assert caught.value.fields == ["UNIT"]


def test_json_round_trip():
    basket = build(charset="iso-8859-1")

    stored = json.loads(json.dumps(basket.to_json()))

    assert Cart.from_json(stored) == basket


VALID_LINE = (
    ("NEW_ITEM-DESCRIPTION[1]", "VW Polo"),
    ("NEW_ITEM-QUANTITY[1]", "3"),
    ("NEW_ITEM-UNIT[1]", "DAY"),
    ("NEW_ITEM-PRICE[1]", "39.50"),
    ("NEW_ITEM-PRICEUNIT[1]", "1"),
    ("NEW_ITEM-CURRENCY[1]", "EUR"),
    ("NEW_ITEM-LONGTEXT_1:132[]", "first\r\nsecond"),
)


def check(*fields: tuple[str, str], charset: str = "utf-8") -> list[str]:
    """The problems of a basket of ``VALID_LINE`` with ``fields`` replacing or added."""
    merged = dict(VALID_LINE) | dict(fields)
    basket = Cart(HOOK_URL, "_top", charset, tuple(merged.items()))
    return check_basket(basket, make_customer())


def test_check_accepts_a_valid_line():
    assert check() == []


def test_check_accepts_two_lines():
    second = [(name.replace("[1]", "[2]"), value) for name, value in VALID_LINE[:-1]]
    assert check(*second, ("NEW_ITEM-LONGTEXT_2:132[]", "x")) == []


@pytest.mark.parametrize(
    ("field", "expected"),
    [
        (("NEW_ITEM-DESCRIPTION[1]", ""), "NEW_ITEM-DESCRIPTION[1] is missing or empty"),
        (("NEW_ITEM-UNIT[1]", ""), "NEW_ITEM-UNIT[1] is missing or empty"),
        (("NEW_ITEM-QUANTITY[1]", ""), "NEW_ITEM-QUANTITY[1] is missing or empty"),
        (("NEW_ITEM-CURRENCY[1]", ""), "NEW_ITEM-CURRENCY[1] is missing; OCI requires it"),
        (("NEW_ITEM-EXT_CATEGORY_ID[1]", "78111800"), "NEW_ITEM-EXT_SCHEMA_TYPE[1] is missing"),
        (("NEW_ITEM-PRICE[1]", "39,50"), "NEW_ITEM-PRICE[1] is '39,50'; it must be"),
        (("NEW_ITEM-PRICE[1]", "1,234.00"), "NEW_ITEM-PRICE[1] is '1,234.00'"),
        (("NEW_ITEM-PRICE[1]", "39.5 "), "NEW_ITEM-PRICE[1] is '39.5 '"),
        (("NEW_ITEM-PRICE[1]", "-1.00"), "NEW_ITEM-PRICE[1] is '-1.00'"),
        (("NEW_ITEM-QUANTITY[1]", "0"), "NEW_ITEM-QUANTITY[1] is '0'"),
        (("NEW_ITEM-QUANTITY[1]", "-2"), "NEW_ITEM-QUANTITY[1] is '-2'"),
        (("NEW_ITEM-QUANTITY[1]", "1.2345"), "NEW_ITEM-QUANTITY[1] is '1.2345'"),
        (("NEW_ITEM-QUANTITY[1]", "123456789012"), "NEW_ITEM-QUANTITY[1] is '123456789012'"),
        (("NEW_ITEM-PRICEUNIT[1]", "0"), "NEW_ITEM-PRICEUNIT[1] is '0'"),
        (("NEW_ITEM-PRICEUNIT[1]", "1.5"), "NEW_ITEM-PRICEUNIT[1] is '1.5'"),
        (("NEW_ITEM-UNIT[1]", "DAYS"), "NEW_ITEM-UNIT[1] is 4 characters long; the limit is 3"),
        (("NEW_ITEM-DESCRIPTION[1]", "a\nb"), "control character U+000A"),
        (("NEW_ITEM-DESCRIPTION[1]", "a\r\nb"), "control character U+000D"),
        (("NEW_ITEM-LONGTEXT_1:132[]", "a\tb"), "control character U+0009"),
        (("NEW_ITEM-LONGTEXT_1:132[]", "a\nb"), "U+000A; a line break in long text is CR LF"),
        (("NEW_ITEM-LONGTEXT_1:132[]", "a\rb"), "U+000D; a line break in long text is CR LF"),
        (("~OkCode", "ADDI\r"), "~OkCode contains the control character U+000D"),
        (("NEW_ITEM-FOO[1]", "x"), "FOO is not an OCI NEW_ITEM field"),
        (("NEW_ITEM-LONGTEXT[1]", "x"), "NEW_ITEM-LONGTEXT[1] is not an OCI basket field name"),
        (("new_item-description[1]", "x"), "is not an OCI basket field name"),
        (("NEW_ITEM-VENDOR[0]", "x"), "OCI numbers lines from 1"),
        (("NEW_ITEM-VENDOR[01]", "x"), "OCI numbers lines from 1"),
        (("NEW_ITEM-VENDOR[3]", "x"), "Line indexes must run from 1 without gaps; found 1, 3"),
    ],
)
def test_check_finds_the_problem(field, expected):
    problems = check(field)

    assert any(expected in problem for problem in problems), problems


def test_check_accepts_an_empty_price_unit_and_no_price():
    assert check(("NEW_ITEM-PRICEUNIT[1]", "")) == []
    assert check(("NEW_ITEM-PRICE[1]", ""), ("NEW_ITEM-CURRENCY[1]", "")) == []


def test_check_accepts_decimal_quantity_and_price():
    assert check(("NEW_ITEM-QUANTITY[1]", "1.5"), ("NEW_ITEM-PRICE[1]", "39.5000")) == []


def test_check_finds_duplicates():
    basket = Cart(HOOK_URL, "_top", "utf-8", (*VALID_LINE, ("NEW_ITEM-UNIT[1]", "HUR")))

    assert check_basket(basket, make_customer()) == ["NEW_ITEM-UNIT[1] is posted more than once"]


def test_check_finds_an_empty_basket():
    basket = Cart(HOOK_URL, "_top", "utf-8", (("~OkCode", "ADDI"),))

    assert check_basket(basket, make_customer()) == ["The basket has no NEW_ITEM lines"]


def test_check_finds_characters_the_charset_lacks():
    problems = check(("NEW_ITEM-DESCRIPTION[1]", "Łada"), charset="iso-8859-1")

    assert problems == ["NEW_ITEM-DESCRIPTION[1] contains 'Ł', which iso-8859-1 cannot encode"]


def test_check_finds_an_unknown_charset():
    assert check(charset="klingon") == ["The charset 'klingon' is unknown"]


def test_check_uses_the_customers_raised_limits():
    basket = Cart(HOOK_URL, "_top", "utf-8", (*VALID_LINE, ("NEW_ITEM-CUST_FIELD1[1]", "x" * 15)))

    assert check_basket(basket, make_customer()) == [
        "NEW_ITEM-CUST_FIELD1[1] is 15 characters long; the limit is 10"
    ]
    assert check_basket(basket, make_customer(max_lengths={"CUST_FIELD1": 15})) == []
