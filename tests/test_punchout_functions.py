"""The ERP's FUNCTION calls over HTTP (PROTOCOL.md section 3): DETAIL, DETAILADD, VALIDATE,
BACKGROUND_SEARCH and SOURCING on the call-up's URL, as GET or POST, with the call-up's login
and HOOK_URL but without the user. Nothing is ever stored.

The client keeps no cookies, and every test runs on SQLite and on PostgreSQL. Exact texts are
asserted for the English ``acme`` customer; for the Dutch ``demo`` only language-independent
facts, or the Dutch texts themselves.
"""

import logging

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from tests.conftest import ACME_HOOK_URL, ACME_PASSWORD, DEMO_HOOK_URL, DEMO_PASSWORD
from tests.support.punchout import Page, count_stored, csp

#: What SAP sends with a FUNCTION call: the company login and the HOOK_URL, no user fields.
ACME_ACCESS = {"loginname": "acme-sap", "pwd": ACME_PASSWORD, "HOOK_URL": ACME_HOOK_URL}
DEMO_ACCESS = {
    "USERNAME": "demo-erp",
    "PASSWORD": DEMO_PASSWORD,
    "HOOK_URL": DEMO_HOOK_URL,
    "~OkCode": "ADDI",
    "~CALLER": "CTLG",
}
SUBMIT_SCRIPT = 'document.getElementById("oci-basket").submit();'


def acme(client: FlaskClient, method: str = "POST", **sent: str) -> TestResponse:
    return _call(client, "acme", ACME_ACCESS, method, sent)


def demo(client: FlaskClient, method: str = "POST", **sent: str) -> TestResponse:
    return _call(client, "demo", DEMO_ACCESS, method, sent)


def _call(
    client: FlaskClient, customer: str, access: dict[str, str], method: str, sent: dict[str, str]
) -> TestResponse:
    params = {**access, **sent}
    if method == "GET":
        return client.get(f"/oci/{customer}", query_string=params)
    return client.post(f"/oci/{customer}", data=params)


def ok(response: TestResponse) -> Page:
    assert response.status_code == 200, response.get_data(as_text=True)
    return Page(response)


def text_of(response: TestResponse) -> str:
    return " ".join(response.get_data(as_text=True).split())


def lines_of(hidden: list[tuple[str, str]]) -> dict[int, dict[str, str]]:
    """Line index -> NEW_ITEM field -> value, from the posted names."""
    lines: dict[int, dict[str, str]] = {}
    for name, value in hidden:
        if not name.startswith("NEW_ITEM-"):
            continue
        if name.startswith("NEW_ITEM-LONGTEXT_"):
            field, index = "LONGTEXT", name.removeprefix("NEW_ITEM-LONGTEXT_").split(":")[0]
        else:
            field, _, rest = name.removeprefix("NEW_ITEM-").partition("[")
            index = rest.rstrip("]")
        lines.setdefault(int(index), {})[field] = value
    return lines


# --- DETAIL and DETAILADD -----------------------------------------------------------------------


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_detail_shows_the_vehicle(client: FlaskClient, method: str) -> None:
    response = acme(client, method, FUNCTION="DETAIL", PRODUCTID="ESTATE")
    page = ok(response)
    text = text_of(response)
    assert "<h1>Estate car (Škoda Octavia Combi)</h1>" in text
    for shown in ("Code</dt><dd>ESTATE", "Day rate</dt><dd>£55.00 per day", "Estate car</dd>"):
        assert shown in text
    assert page.forms == {}
    assert "start a punch-out from your purchasing system" in text
    assert not any("submit" in script for _, script in page.scripts)


def test_detail_is_in_the_customers_language(client: FlaskClient) -> None:
    response = demo(client, FUNCTION="detail", PRODUCTID="COMPACT")
    ok(response)
    text = text_of(response)
    assert '<html lang="nl">' in text
    assert "<h1>Compacte auto (VW Polo of gelijkwaardig)</h1>" in text
    html = response.get_data(as_text=True)  # text_of would take the no-break space apart
    assert "Dagprijs</dt><dd>€\N{NO-BREAK SPACE}39,50 per dag" in html


@pytest.mark.parametrize("function", ["DETAIL", "DETAILADD"])
def test_an_unknown_product_is_not_found(client: FlaskClient, function: str) -> None:
    response = acme(client, FUNCTION=function, PRODUCTID="TANK")
    page = Page(response)
    assert response.status_code == 404
    assert page.alert == "The vehicle TANK is not offered in this catalogue (any more)."
    assert page.forms == {}


def test_detailadd_offers_a_form_that_adds_the_vehicle(client: FlaskClient) -> None:
    response = demo(client, FUNCTION="DETAILADD", PRODUCTID="VAN")
    page = ok(response)
    form = page.basket
    assert form.attrs["action"] == DEMO_HOOK_URL
    assert form.attrs["method"] == "post"
    assert form.attrs["target"] == "_top"
    assert form.attrs["accept-charset"] == "utf-8"
    assert form.values == {"NEW_ITEM-QUANTITY[1]": "1"}  # visible, for the employee to change
    assert 'type="number" name="NEW_ITEM-QUANTITY[1]"' in text_of(response)
    assert form.hidden == [
        ("NEW_ITEM-DESCRIPTION[1]", "Bestelbus (VW Transporter)"),
        ("NEW_ITEM-UNIT[1]", "DAY"),
        ("NEW_ITEM-PRICE[1]", "79.00"),
        ("NEW_ITEM-PRICEUNIT[1]", "1"),
        ("NEW_ITEM-CURRENCY[1]", "EUR"),
        ("NEW_ITEM-VENDOR[1]", "4711"),
        ("NEW_ITEM-MATGROUP[1]", "78111800"),
        ("NEW_ITEM-EXT_PRODUCT_ID[1]", "VAN"),
        ("NEW_ITEM-LONGTEXT_1:132[]", "Voertuig: Bestelbus (VW Transporter) (VAN)"),
        ("~OkCode", "ADDI"),
        ("~CALLER", "CTLG"),
    ]
    assert '<button type="submit">' in text_of(response)
    assert page.scripts == []  # the employee adds it; nothing is sent by itself


# --- VALIDATE -----------------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_validate_posts_the_current_data_back_at_once(client: FlaskClient, method: str) -> None:
    response = acme(client, method, FUNCTION="VALIDATE", PRODUCTID="ESTATE", QUANTITY="3.000")
    page = ok(response)
    form = page.basket
    assert form.attrs["action"] == ACME_HOOK_URL
    assert form.attrs["target"] == "_top"
    assert form.attrs["accept-charset"] == "iso-8859-1"
    assert form.hidden == [
        ("NEW_ITEM-DESCRIPTION[1]", "Estate car (Skoda Octavia Combi)"),
        ("NEW_ITEM-QUANTITY[1]", "3"),
        ("NEW_ITEM-UNIT[1]", "DAY"),
        ("NEW_ITEM-PRICE[1]", "55.00"),
        ("NEW_ITEM-PRICEUNIT[1]", "1"),
        ("NEW_ITEM-CURRENCY[1]", "GBP"),
        ("NEW_ITEM-VENDORMAT[1]", "ESTATE"),
        ("NEW_ITEM-EXT_PRODUCT_ID[1]", "ESTATE"),
        ("NEW_ITEM-LONGTEXT_1:132[]", "Vehicle: Estate car (Skoda Octavia Combi) (ESTATE)"),
    ]
    nonce, script = page.scripts[-1]
    assert script == SUBMIT_SCRIPT
    assert csp(response)["script-src"] == f"'nonce-{nonce}'"
    assert "Return to purchasing system" in text_of(response)  # the fallback button


def test_validate_answers_every_line_numbered_from_1(client: FlaskClient) -> None:
    response = demo(
        client,
        FUNCTION="VALIDATE",
        **{
            "PRODUCTID[1]": "VAN",
            "QUANTITY[1]": "2",
            "PRODUCTID[2]": "COMPACT",
            "QUANTITY[2]": "1.500",
            "PRODUCTID[3]": "VAN",
        },
    )
    lines = lines_of(ok(response).basket.hidden)
    assert sorted(lines) == [1, 2, 3]
    assert [lines[n]["EXT_PRODUCT_ID"] for n in (1, 2, 3)] == ["VAN", "COMPACT", "VAN"]
    assert [lines[n]["QUANTITY"] for n in (1, 2, 3)] == ["2", "1.5", "1"]
    assert [lines[n]["PRICE"] for n in (1, 2, 3)] == ["79.00", "39.50", "79.00"]
    assert lines[2]["LONGTEXT"] == "Voertuig: Compacte auto (VW Polo of gelijkwaardig) (COMPACT)"


def test_validate_leaves_out_a_vehicle_that_is_gone(client: FlaskClient) -> None:
    response = demo(
        client,
        FUNCTION="VALIDATE",
        **{"PRODUCTID[1]": "GONE", "PRODUCTID[2]": "COMPACT", "QUANTITY[2]": "4"},
    )
    page = ok(response)
    lines = lines_of(page.basket.hidden)
    assert list(lines) == [1]
    assert (lines[1]["EXT_PRODUCT_ID"], lines[1]["QUANTITY"]) == ("COMPACT", "4")
    assert page.scripts[-1][1] == SUBMIT_SCRIPT


@pytest.mark.parametrize(
    "products",
    [
        pytest.param({"PRODUCTID": "TANK"}, id="one"),
        pytest.param({"PRODUCTID[1]": "TANK", "PRODUCTID[2]": "estate"}, id="several"),
    ],
)
def test_validate_of_vehicles_that_are_gone_has_no_form_at_all(
    client: FlaskClient, products: dict[str, str]
) -> None:
    response = acme(client, FUNCTION="VALIDATE", **products)
    page = ok(response)
    assert page.forms == {}
    assert page.scripts == []
    assert "<form" not in response.get_data(as_text=True)
    assert "The requested vehicle is no longer offered in this catalogue: TANK" in text_of(response)


def test_validate_with_a_wrong_quantity_is_refused(client: FlaskClient) -> None:
    response = acme(client, FUNCTION="VALIDATE", PRODUCTID="ESTATE", QUANTITY="2,5")
    assert response.status_code == 400
    assert Page(response).alert == (
        "The value of QUANTITY is not a positive quantity such as 1 or 2.5."
    )


def test_validate_without_a_product_id_is_refused(client: FlaskClient) -> None:
    response = acme(client, FUNCTION="VALIDATE")
    assert response.status_code == 400
    assert Page(response).alert == "The OCI function VALIDATE needs the parameter PRODUCTID."


def test_validate_answers_in_the_charset_the_erp_asks_for(client: FlaskClient) -> None:
    response = acme(
        client,
        FUNCTION="VALIDATE",
        PRODUCTID="ESTATE",
        HTTP_CONTENT_CHARSET="utf-8",
        returntarget="_parent",
    )
    form = ok(response).basket
    assert (form.attrs["accept-charset"], form.attrs["target"]) == ("utf-8", "_parent")
    assert ("NEW_ITEM-DESCRIPTION[1]", "Estate car (Škoda Octavia Combi)") in form.hidden


# --- BACKGROUND_SEARCH and SOURCING -------------------------------------------------------------


def test_background_search_returns_every_hit_as_a_basket_not_submitted(
    client: FlaskClient,
) -> None:
    response = demo(client, FUNCTION="BACKGROUND_SEARCH", SEARCHSTRING="vw")
    page = ok(response)
    form = page.basket
    assert form.attrs["action"] == DEMO_HOOK_URL
    lines = lines_of(form.hidden)
    assert sorted(lines) == [1, 2]
    assert [lines[n]["EXT_PRODUCT_ID"] for n in (1, 2)] == ["COMPACT", "VAN"]
    assert [lines[n]["PRICE"] for n in (1, 2)] == ["39.50", "79.00"]
    assert all(lines[n]["QUANTITY"] == "1" for n in (1, 2))
    assert form.hidden[-2:] == [("~OkCode", "ADDI"), ("~CALLER", "CTLG")]
    assert form.values == {}
    assert page.scripts == []
    assert csp(response)["script-src"] == "'none'"
    assert "<button" not in response.get_data(as_text=True)


def test_background_search_by_get_is_not_submitted_either(client: FlaskClient) -> None:
    page = ok(demo(client, "GET", FUNCTION="BACKGROUND_SEARCH", SEARCHSTRING="polo"))
    assert list(lines_of(page.basket.hidden)) == [1]
    assert not any("submit" in script for _, script in page.scripts)


def test_background_search_without_search_string_returns_every_vehicle(
    client: FlaskClient,
) -> None:
    page = ok(demo(client, FUNCTION="BACKGROUND_SEARCH"))
    assert [line["EXT_PRODUCT_ID"] for line in lines_of(page.basket.hidden).values()] == [
        "COMPACT",
        "VAN",
    ]


def test_background_search_without_hits_is_an_empty_form(client: FlaskClient) -> None:
    response = acme(client, FUNCTION="BACKGROUND_SEARCH", SEARCHSTRING="tractor")
    page = ok(response)
    assert page.basket.hidden == []
    assert page.basket.attrs["action"] == ACME_HOOK_URL
    assert "Vehicles found: 0" in text_of(response)


def test_sourcing_shows_the_hits_each_with_a_form_that_adds_it(client: FlaskClient) -> None:
    response = demo(client, FUNCTION="SOURCING", SEARCHSTRING="vw")
    page = ok(response)
    assert sorted(page.forms) == ["oci-item-1", "oci-item-2"]
    for form_id, code in (("oci-item-1", "COMPACT"), ("oci-item-2", "VAN")):
        form = page.forms[form_id]
        assert form.attrs["action"] == DEMO_HOOK_URL
        assert ("NEW_ITEM-EXT_PRODUCT_ID[1]", code) in form.hidden
        assert form.values == {"NEW_ITEM-QUANTITY[1]": "1"}
    assert page.scripts == []


def test_sourcing_without_hits_says_so(client: FlaskClient) -> None:
    response = acme(client, FUNCTION="SOURCING", SEARCHSTRING="tractor")
    page = ok(response)
    assert page.forms == {}
    assert "No vehicle matches your search." in text_of(response)


# --- The checks of every call-up ----------------------------------------------------------------

FUNCTION_CALLS = {
    "DETAIL": {"FUNCTION": "DETAIL", "PRODUCTID": "ESTATE"},
    "DETAILADD": {"FUNCTION": "DETAILADD", "PRODUCTID": "ESTATE"},
    "VALIDATE": {"FUNCTION": "VALIDATE", "PRODUCTID": "ESTATE"},
    "VALIDATE-gone": {"FUNCTION": "VALIDATE", "PRODUCTID": "TANK"},
    "BACKGROUND_SEARCH": {"FUNCTION": "BACKGROUND_SEARCH", "SEARCHSTRING": "estate"},
    "SOURCING": {"FUNCTION": "SOURCING", "SEARCHSTRING": ""},
}
CALLS = [pytest.param(sent, id=name) for name, sent in FUNCTION_CALLS.items()]


@pytest.mark.parametrize("sent", CALLS)
def test_a_function_call_needs_the_company_login(client: FlaskClient, sent: dict[str, str]) -> None:
    wrong = acme(client, **sent, pwd="wrong-password")
    assert wrong.status_code == 403
    assert Page(wrong).alert == "The company login in the call-up is not correct."
    assert Page(wrong).forms == {}
    missing = client.post("/oci/acme", data={"HOOK_URL": ACME_HOOK_URL, **sent})
    assert missing.status_code == 401


@pytest.mark.parametrize("sent", CALLS)
def test_a_function_call_needs_an_allowed_hook_url(
    client: FlaskClient, sent: dict[str, str]
) -> None:
    other = acme(client, **sent, HOOK_URL="https://erp.acme.example.evil.example/sap/bc/srm/hook")
    assert other.status_code == 400
    assert Page(other).alert.startswith("HOOK_URL https://erp.acme.example.evil.example/")
    missing = client.post("/oci/acme", data={"loginname": "acme-sap", "pwd": ACME_PASSWORD, **sent})
    assert missing.status_code == 400
    assert "HOOK_URL" in Page(missing).alert


def test_a_function_call_needs_no_user_fields(client: FlaskClient) -> None:
    """The demo's call-up requires e-mail, name and cost centre; SAP's background calls lack
    them."""
    assert "oci_usermail" not in DEMO_ACCESS
    ok(demo(client, FUNCTION="VALIDATE", PRODUCTID="VAN"))


def test_an_unknown_function_is_refused_naming_the_ones_offered(client: FlaskClient) -> None:
    response = acme(client, FUNCTION="TELEPORT")
    assert response.status_code == 400
    assert Page(response).alert == (
        "The OCI function TELEPORT is not offered by this catalogue; it offers "
        "DETAIL, DETAILADD, VALIDATE, BACKGROUND_SEARCH, SOURCING."
    )


def test_an_empty_function_is_a_normal_call_up(
    client: FlaskClient, acme_callup: dict[str, str]
) -> None:
    response = client.post("/oci/acme", data={**acme_callup, "FUNCTION": ""})
    assert ok(response).booking_form is not None


@pytest.mark.parametrize("sent", CALLS)
def test_a_function_call_stores_nothing(
    client: FlaskClient, app: Flask, sent: dict[str, str]
) -> None:
    ok(acme(client, **sent))
    ok(acme(client, "GET", **sent))
    assert count_stored(app) == 0


@pytest.mark.parametrize("sent", CALLS)
def test_a_function_page_may_be_framed_by_the_customers_erp_only(
    client: FlaskClient, sent: dict[str, str]
) -> None:
    assert csp(acme(client, **sent))["frame-ancestors"] == "https://erp.acme.example"
    ancestors = csp(demo(client, **sent))["frame-ancestors"].split()
    assert ancestors == ["http://127.0.0.1:5000", "http://localhost:5000"]


@pytest.mark.parametrize("sent", CALLS)
def test_a_function_page_sets_no_cookie_and_is_never_cached(
    client: FlaskClient, sent: dict[str, str]
) -> None:
    for response in (acme(client, **sent), acme(client, "GET", **sent)):
        assert "Set-Cookie" not in response.headers
        assert response.headers["Cache-Control"] == "no-store"
        assert response.headers["Referrer-Policy"] == "no-referrer"


@pytest.mark.parametrize("sent", CALLS)
def test_a_get_function_call_removes_the_password_from_the_address_bar(
    client: FlaskClient, sent: dict[str, str]
) -> None:
    response = acme(client, "GET", **sent)
    assert ACME_PASSWORD not in response.get_data(as_text=True)
    assert any("history.replaceState" in script for _, script in Page(response).scripts)


# --- The log ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sent", "outcome"),
    [
        pytest.param(FUNCTION_CALLS["DETAIL"], "outcome=shown product=ESTATE", id="detail"),
        pytest.param(
            {"FUNCTION": "DETAIL", "PRODUCTID": "TANK"}, "outcome=unknown product='TANK'", id="gone"
        ),
        pytest.param(
            {"FUNCTION": "VALIDATE", "PRODUCTID[1]": "ESTATE", "PRODUCTID[2]": "TANK"},
            "outcome=validated lines=1 missing=['TANK']",
            id="validate",
        ),
        pytest.param(FUNCTION_CALLS["BACKGROUND_SEARCH"], "outcome=hits=1", id="search"),
    ],
)
def test_every_function_call_is_logged_without_the_password(
    client: FlaskClient, caplog: pytest.LogCaptureFixture, sent: dict[str, str], outcome: str
) -> None:
    caplog.set_level(logging.INFO, logger="ociflex")
    acme(client, "GET", **sent)
    [line] = [r.getMessage() for r in caplog.records if "function call" in r.getMessage()]
    function = sent["FUNCTION"]
    assert line.startswith(f"function call answered: customer=acme function={function} method=GET")
    assert "hook=https://erp.acme.example" in line
    assert line.endswith(outcome)
    assert all(ACME_PASSWORD not in record.getMessage() for record in caplog.records)


def test_a_refused_function_call_is_logged_without_the_password(
    client: FlaskClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="ociflex")
    acme(client, FUNCTION="VALIDATE", PRODUCTID="ESTATE", pwd="a-wrong-password")
    [line] = [r.getMessage() for r in caplog.records if "function call" in r.getMessage()]
    assert line.startswith("function call rejected: customer=acme function=VALIDATE status=403")
    assert "a-wrong-password" not in caplog.text
    assert ACME_PASSWORD not in caplog.text
