"""The punch-out over HTTP, as the ERP and the employee's browser go through it: call-up, booking
form, stored request and the basket posted back to HOOK_URL.

The client keeps no cookies (a framed punch-out often gets none), and every test runs on SQLite
and on PostgreSQL. Exact texts are asserted for the English ``acme`` customer; the ``demo``
customer's pages are Dutch, so for it only language-independent facts are asserted.
"""

import io
import re
import threading
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import date
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlencode

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from werkzeug.test import TestResponse

from ociflex import create_app
from ociflex.booking.token import PunchoutTokens
from ociflex.db import session_for
from ociflex.models import Transfer
from tests.conftest import (
    ACME_HOOK_URL,
    ACME_PASSWORD,
    DEMO_HOOK_URL,
    DEMO_PASSWORD,
    SigningClock,
)
from tests.support.punchout import (
    Page,
    acme_booking,
    basket_of,
    book,
    book_acme,
    book_demo,
    call_up,
    count_stored,
    csp,
    days_from_today,
    demo_booking,
    stored,
)


def dd_mm_yyyy(day: str) -> str:
    """A date as the basket writes it."""
    return date.fromisoformat(day).strftime("%d-%m-%Y")


# --- Call-up accepted ---------------------------------------------------------------------------


def test_a_call_up_shows_the_booking_form_for_the_requester(
    client: FlaskClient, acme_callup: dict[str, str]
) -> None:
    response = client.post("/oci/acme", data=acme_callup)
    page = Page(response)
    assert response.status_code == 200
    text = response.get_data(as_text=True)
    assert "Request a vehicle" in text
    assert "Jane Smith" in text
    assert "jane.smith@acme.example" in text
    form = page.booking_form
    assert form is not None
    assert form.attrs["action"] == "/oci/acme/book"
    assert form.values["project"] == "P-123"
    assert page.token


def test_a_get_call_up_with_everything_in_the_query_string(
    client: FlaskClient, demo_callup: dict[str, str]
) -> None:
    response = client.get("/oci/demo", query_string=demo_callup)
    assert response.status_code == 200
    assert Page(response).token


def test_a_post_call_up_may_put_part_in_the_query_string_and_part_in_the_body(
    client: FlaskClient, app: Flask, demo_callup: dict[str, str]
) -> None:
    in_query = {name: demo_callup.pop(name) for name in ("USERNAME", "PASSWORD", "HOOK_URL")}
    response = client.post("/oci/demo", query_string=in_query, data=demo_callup)
    assert response.status_code == 200
    booked = book(client, "demo", Page(response).token, **demo_booking())
    assert basket_of(booked).attrs["action"] == DEMO_HOOK_URL
    assert stored(app)[0].requester_email == "jan.jansen@demo.example"


def test_call_up_parameter_names_are_matched_ignoring_case(
    client: FlaskClient, acme_callup: dict[str, str]
) -> None:
    acme_callup["hook_url"] = acme_callup.pop("HOOK_URL")
    acme_callup["LOGINNAME"] = acme_callup.pop("loginname")
    acme_callup["PWD"] = acme_callup.pop("pwd")
    acme_callup["User_Email"] = acme_callup.pop("user_email")
    acme_callup["~okcode"] = acme_callup.pop("~OkCode")
    acme_callup["~target"] = "SRM_Frame"
    basket = basket_of(book_acme(client, acme_callup))
    assert basket.attrs["action"] == ACME_HOOK_URL
    assert basket.attrs["target"] == "SRM_Frame"
    assert ("~OkCode", "ADDI") in basket.hidden
    assert "jane.smith@acme.example" in dict(basket.hidden)["NEW_ITEM-LONGTEXT_1:132[]"]


def test_the_same_hook_url_in_query_string_and_body_is_accepted(
    client: FlaskClient, acme_callup: dict[str, str]
) -> None:
    response = client.post("/oci/acme", query_string={"HOOK_URL": ACME_HOOK_URL}, data=acme_callup)
    assert response.status_code == 200


# --- Call-up refused ----------------------------------------------------------------------------


def _apply(callup: dict[str, str], change: dict[str, str | None]) -> dict[str, str]:
    """``callup`` with ``change``: a value of None removes the parameter."""
    merged = {**callup, **change}
    return {name: value for name, value in merged.items() if value is not None}


@pytest.mark.parametrize(
    ("change", "status", "message"),
    [
        pytest.param(
            {"pwd": None},
            401,
            "The call-up carries no company login (loginname / pwd).",
            id="password-missing",
        ),
        pytest.param(
            {"loginname": None},
            401,
            "The call-up carries no company login (loginname / pwd).",
            id="username-missing",
        ),
        pytest.param(
            {"pwd": "wrong-password"},
            403,
            "The company login in the call-up is not correct.",
            id="password-wrong",
        ),
        pytest.param(
            {"HOOK_URL": None},
            400,
            "The call-up has no HOOK_URL, so the basket could not be returned to your ERP.",
            id="hook-url-missing",
        ),
        pytest.param(
            {"HOOK_URL": "https://erp.acme.example.evil.example/sap/bc/srm/hook"},
            400,
            "HOOK_URL "
            "https://erp.acme.example.evil.example/sap/bc/srm/hook "
            "is not in the list allowed for this customer",
            id="hook-url-not-allowed",
        ),
        pytest.param(
            {"HOOK_URL": "javascript:alert(1)"},
            400,
            "HOOK_URL is not an absolute http(s) URL",
            id="hook-url-javascript",
        ),
        pytest.param(
            {"user_email": None},
            400,
            "The required field user_email is missing from the call-up.",
            id="email-missing",
        ),
        pytest.param(
            {"user_email": "jane.smith"},
            400,
            "The e-mail address in user_email is not valid.",
            id="email-invalid",
        ),
        pytest.param(
            {"user_name": None},
            400,
            "The required field user_name is missing from the call-up.",
            id="name-missing",
        ),
        pytest.param(
            {"HTTP_CONTENT_CHARSET": "klingon"},
            400,
            "The character set klingon in HTTP_CONTENT_CHARSET is unknown.",
            id="charset-unknown",
        ),
        pytest.param(
            {"user_email": "jane.smith@acme.example.evil.example"},
            403,
            "The e-mail address jane.smith@acme.example.evil.example is not in a domain this "
            "catalogue accepts.",
            id="email-outside-the-domains",
        ),
        pytest.param(
            {"user_email": "jane@notacme.example"},
            403,
            "The e-mail address jane@notacme.example is not in a domain this catalogue accepts.",
            id="email-look-alike-domain",
        ),
        pytest.param(
            {"HTTP_CONTENT_CHARSET": "base64"},
            400,
            "The character set base64 in HTTP_CONTENT_CHARSET is unknown.",
            id="charset-not-text",
        ),
        pytest.param(
            {"HTTP_CONTENT_CHARSET": "utf-16"},
            400,
            "The character set utf-16 in HTTP_CONTENT_CHARSET is unknown.",
            id="charset-no-form-can-post",
        ),
        pytest.param(
            {"~OkCode": "ADDI\r\nX-Injected: 1"},
            400,
            "~OkCode must be a short code on one line (at most 40 characters).",
            id="okcode-line-break",
        ),
        pytest.param(
            {"~CALLER": "C" * 41},
            400,
            "~CALLER must be a short code on one line (at most 40 characters).",
            id="caller-too-long",
        ),
        pytest.param(
            {"FUNCTION": "TELEPORT"},
            400,
            "The OCI function TELEPORT is not offered by this catalogue; it offers "
            "DETAIL, DETAILADD, VALIDATE, BACKGROUND_SEARCH, SOURCING.",
            id="unknown-function",
        ),
    ],
)
def test_a_refused_call_up_says_why_and_stores_nothing(
    client: FlaskClient,
    app: Flask,
    acme_callup: dict[str, str],
    change: dict[str, str | None],
    status: int,
    message: str,
) -> None:
    response = client.post("/oci/acme", data=_apply(acme_callup, change))
    page = Page(response)
    assert response.status_code == status
    assert page.alert == message
    assert "No request was registered." in response.get_data(as_text=True)
    assert page.booking_form is None
    assert count_stored(app) == 0


@pytest.mark.parametrize(
    ("change", "status", "named"),
    [
        pytest.param({"PASSWORD": None}, 401, "PASSWORD", id="password-missing"),
        pytest.param({"PASSWORD": "geheim"}, 403, None, id="password-wrong"),
        pytest.param({"USERNAME": "iemand"}, 403, None, id="username-wrong"),
        pytest.param({"HOOK_URL": None}, 400, "HOOK_URL", id="hook-url-missing"),
        pytest.param(
            {"HOOK_URL": "http://127.0.0.1:5000.evil.example/"},
            400,
            "HOOK_URL",
            id="hook-url-evil-host",
        ),
        pytest.param(
            {"HOOK_URL": "http://localhost:5000/elsewhere/"},
            400,
            "HOOK_URL",
            id="hook-url-other-path",
        ),
        pytest.param({"oci_usermail": None}, 400, "oci_usermail", id="email-missing"),
        pytest.param({"oci_usermail": "jan@"}, 400, "oci_usermail", id="email-invalid"),
        # No confirmation could ever be sent to it: the outbox's messages carry no SMTPUTF8.
        pytest.param(
            {"oci_usermail": "jürgen@demo.example"},
            400,
            "oci_usermail",
            id="email-non-ascii-before-the-at",
        ),
        pytest.param({"oci_userfullname": None}, 400, "oci_userfullname", id="name-missing"),
        pytest.param({"INKOOPNUMMER": "X" * 11}, 400, "INKOOPNUMMER", id="too-long"),
    ],
)
def test_a_refused_demo_call_up_names_the_parameter_and_stores_nothing(
    client: FlaskClient,
    app: Flask,
    demo_callup: dict[str, str],
    change: dict[str, str | None],
    status: int,
    named: str | None,
) -> None:
    response = client.post("/oci/demo", data=_apply(demo_callup, change))
    page = Page(response)
    assert response.status_code == status
    if named is not None:
        assert named in page.alert
    assert page.booking_form is None
    assert count_stored(app) == 0


def test_the_login_is_checked_before_the_rest_of_the_call_up(client: FlaskClient) -> None:
    """Without the login, nobody learns which HOOK_URL or fields a customer expects."""
    response = client.post("/oci/acme", data={"loginname": "acme-sap", "pwd": "guess"})
    assert response.status_code == 403
    assert "HOOK_URL" not in response.get_data(as_text=True)


@pytest.mark.parametrize("email", ["jane@acme.example", "Jane@Sales.ACME.example"])
def test_an_email_in_the_customers_domains_or_their_subdomains_is_accepted(
    client: FlaskClient, acme_callup: dict[str, str], email: str
) -> None:
    acme_callup["user_email"] = email
    assert call_up(client, "acme", acme_callup).booking_form is not None


@pytest.mark.parametrize("where", ["query", "body"])
def test_a_call_up_in_no_readable_charset_is_refused_not_guessed(
    client: FlaskClient, app: Flask, demo_callup: dict[str, str], where: str
) -> None:
    """0x81 is neither UTF-8 nor windows-1252 (the demo's fallback): any reading would store
    garbled text. (A customer whose ERP sends ISO-8859-1 can read every byte.)"""
    demo_callup.pop("oci_userfullname")
    unreadable = "oci_userfullname=Jan%81"
    if where == "query":
        response = client.post(f"/oci/demo?{unreadable}", data=demo_callup)
    else:
        response = client.post(
            "/oci/demo",
            data=f"{urlencode(demo_callup)}&{unreadable}",
            content_type="application/x-www-form-urlencoded",
        )
    assert response.status_code == 400
    assert Page(response).alert == (
        "De aanroep bevat bytes die geen UTF-8 en ook geen windows-1252 zijn."
    )
    assert count_stored(app) == 0


def test_a_call_up_with_too_many_parameters_says_so(
    client: FlaskClient, acme_callup: dict[str, str]
) -> None:
    response = client.post("/oci/acme", data={**acme_callup, **{f"x{i}": "" for i in range(600)}})
    assert response.status_code == 400
    assert Page(response).alert == "The call-up has more than 500 parameters."


def test_a_booking_form_with_too_many_fields_is_refused(
    client: FlaskClient, app: Flask, acme_callup: dict[str, str]
) -> None:
    token = call_up(client, "acme", acme_callup).token
    form = {"punchout": token, **acme_booking(), **{f"x{i}": "" for i in range(600)}}
    response = client.post("/oci/acme/book", data=form)
    assert response.status_code == 400
    assert Page(response).alert == "The form has too many fields."
    assert count_stored(app) == 0


def test_a_booking_form_that_is_not_utf8_is_refused_not_guessed(
    client: FlaskClient, app: Flask, acme_callup: dict[str, str]
) -> None:
    token = call_up(client, "acme", acme_callup).token
    form = urlencode({"punchout": token, **acme_booking()}).encode() + b"&remarks=Zo%EB"
    response = client.post(
        "/oci/acme/book", data=form, content_type="application/x-www-form-urlencoded"
    )
    assert response.status_code == 400
    assert Page(response).alert == "The form arrived with characters that are not valid UTF-8."
    assert count_stored(app) == 0


def test_a_hook_url_sent_twice_with_different_values_is_refused(
    client: FlaskClient, app: Flask, acme_callup: dict[str, str]
) -> None:
    other = "https://erp.acme.example/sap/bc/srm/other"
    response = client.post("/oci/acme", query_string={"hook_url": other}, data=acme_callup)
    assert response.status_code == 400
    assert Page(response).alert == (
        "The parameter HOOK_URL was sent more than once with different values."
    )
    assert count_stored(app) == 0


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_an_unknown_customer_is_not_found(
    client: FlaskClient, app: Flask, acme_callup: dict[str, str], method: str
) -> None:
    response = client.open("/oci/nobody", method=method, data=acme_callup)
    assert response.status_code == 404
    assert Page(response).booking_form is None
    assert count_stored(app) == 0


def test_booking_for_an_unknown_customer_is_not_found(
    client: FlaskClient, app: Flask, acme_callup: dict[str, str]
) -> None:
    token = call_up(client, "acme", acme_callup).token
    assert book(client, "nobody", token, **acme_booking()).status_code == 404
    assert count_stored(app) == 0


def test_the_booking_address_takes_no_get(client: FlaskClient) -> None:
    assert client.get("/oci/acme/book").status_code == 405


# --- Customers that cannot be served ------------------------------------------------------------


@pytest.fixture
def app_with_broken_customers(environ: dict[str, str], customers_dir: Path) -> Iterator[Flask]:
    """The app started with a customer file that does not parse, and acme's password unset."""
    (customers_dir / "broken.yaml").write_text(
        "name: Broken B.V.\nlogin: {username: broken, password_env: OCIFLEX_DEMO_PASSWORD\n"
    )
    del environ["OCIFLEX_ACME_PASSWORD"]
    app = create_app(environ)
    yield app
    app.extensions["ociflex.engine"].dispose()


#: In Dutch, the default: the language is in the file that cannot be read.
CATALOGUE_UNAVAILABLE = (
    "Deze catalogus kan op dit moment niet worden gebruikt: de configuratie bij Euromobil wordt "
    "gecorrigeerd. Er is niets opgeslagen. Probeer het later opnieuw."
)


@pytest.mark.parametrize("customer", ["broken", "acme"])
def test_a_customer_whose_file_has_problems_is_not_served_for_now(
    app_with_broken_customers: Flask, acme_callup: dict[str, str], customer: str
) -> None:
    """Not a 404: the catalogue exists and comes back once its file is fixed."""
    client = app_with_broken_customers.test_client(use_cookies=False)
    response = client.post(f"/oci/{customer}", data=acme_callup)
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "30"
    assert Page(response).alert == CATALOGUE_UNAVAILABLE
    assert count_stored(app_with_broken_customers) == 0


def test_other_customers_are_served_next_to_a_broken_one(
    app_with_broken_customers: Flask, demo_callup: dict[str, str]
) -> None:
    client = app_with_broken_customers.test_client(use_cookies=False)
    assert basket_of(book_demo(client, demo_callup)).attrs["action"] == DEMO_HOOK_URL


# --- What every punch-out page sends ------------------------------------------------------------


def _callup_form(client: FlaskClient, callup: dict[str, str]) -> TestResponse:
    return client.post("/oci/acme", data=callup)


def _get_callup_form(client: FlaskClient, callup: dict[str, str]) -> TestResponse:
    return client.get("/oci/acme", query_string=callup)


def _callup_refused(client: FlaskClient, callup: dict[str, str]) -> TestResponse:
    return client.post("/oci/acme", data={**callup, "pwd": "wrong"})


def _form_errors(client: FlaskClient, callup: dict[str, str]) -> TestResponse:
    token = call_up(client, "acme", callup).token
    return book(client, "acme", token, **acme_booking(vehicle="TANK"))


def _basket(client: FlaskClient, callup: dict[str, str]) -> TestResponse:
    return book_acme(client, callup)


def _token_refused(client: FlaskClient, callup: dict[str, str]) -> TestResponse:
    return book(client, "acme", "forged", **acme_booking())


Visit = Callable[[FlaskClient, dict[str, str]], TestResponse]
PAGES = [
    pytest.param(visit, id=visit.__name__.strip("_").replace("_", "-"))
    for visit in (
        _callup_form,
        _get_callup_form,
        _callup_refused,
        _form_errors,
        _basket,
        _token_refused,
    )
]


@pytest.mark.parametrize("page", PAGES)
def test_punch_out_pages_never_set_a_cookie(
    client: FlaskClient, acme_callup: dict[str, str], page: Visit
) -> None:
    assert "Set-Cookie" not in page(client, acme_callup).headers


@pytest.mark.parametrize("page", PAGES)
def test_punch_out_pages_may_be_framed_by_the_customers_erp_only(
    client: FlaskClient, acme_callup: dict[str, str], page: Visit
) -> None:
    assert csp(page(client, acme_callup))["frame-ancestors"] == "https://erp.acme.example"


@pytest.mark.parametrize("page", PAGES)
def test_punch_out_pages_are_never_cached(
    client: FlaskClient, acme_callup: dict[str, str], page: Visit
) -> None:
    assert page(client, acme_callup).headers["Cache-Control"] == "no-store"


@pytest.mark.parametrize("page", PAGES)
def test_punch_out_pages_send_no_referrer(
    client: FlaskClient, acme_callup: dict[str, str], page: Visit
) -> None:
    """A GET call-up has the company password in its URL: it must not leak as a Referer."""
    assert page(client, acme_callup).headers["Referrer-Policy"] == "no-referrer"


@pytest.mark.parametrize("page", PAGES)
def test_punch_out_pages_keep_the_strict_base_policy(
    client: FlaskClient, acme_callup: dict[str, str], page: Visit
) -> None:
    policy = csp(page(client, acme_callup))
    assert policy["default-src"] == "'self'"
    assert policy["object-src"] == "'none'"
    assert policy["base-uri"] == "'none'"


@pytest.mark.parametrize("page", [p for p in PAGES if p.id != "basket"])
def test_punch_out_pages_post_forms_to_ociflex_only(
    client: FlaskClient, acme_callup: dict[str, str], page: Visit
) -> None:
    assert csp(page(client, acme_callup))["form-action"] == "'self'"


def test_the_basket_page_may_post_to_exactly_the_hook_urls_origin(
    client: FlaskClient, acme_callup: dict[str, str]
) -> None:
    assert csp(book_acme(client, acme_callup))["form-action"] == "'self' https://erp.acme.example"


def test_the_basket_page_names_a_hook_urls_port(
    client: FlaskClient, demo_callup: dict[str, str]
) -> None:
    response = book_demo(client, demo_callup)
    assert csp(response)["form-action"] == "'self' http://127.0.0.1:5000"


def test_the_demo_may_be_framed_by_each_of_its_origins(
    client: FlaskClient, demo_callup: dict[str, str]
) -> None:
    response = client.post("/oci/demo", data=demo_callup)
    ancestors = csp(response)["frame-ancestors"].split()
    assert ancestors == ["http://127.0.0.1:5000", "http://localhost:5000"]


def test_a_page_of_no_customer_may_not_be_framed(client: FlaskClient) -> None:
    assert csp(client.get("/oci/nobody"))["frame-ancestors"] == "'none'"


def test_a_get_call_up_removes_the_password_from_the_address_bar(
    client: FlaskClient, demo_callup: dict[str, str]
) -> None:
    response = client.get("/oci/demo", query_string=demo_callup)
    [(nonce, script)] = Page(response).scripts
    assert script == 'history.replaceState(null, "", "/oci/demo");'
    assert nonce
    assert csp(response)["script-src"] == f"'nonce-{nonce}'"


def test_a_post_call_up_with_the_login_in_the_query_string_also_cleans_the_address_bar(
    client: FlaskClient, demo_callup: dict[str, str]
) -> None:
    in_query = {name: demo_callup.pop(name) for name in ("USERNAME", "PASSWORD")}
    response = client.post("/oci/demo", query_string=in_query, data=demo_callup)
    [(nonce, script)] = Page(response).scripts
    assert script == 'history.replaceState(null, "", "/oci/demo");'
    assert csp(response)["script-src"] == f"'nonce-{nonce}'"


def test_a_post_call_up_page_runs_no_script(
    client: FlaskClient, demo_callup: dict[str, str]
) -> None:
    response = client.post("/oci/demo", data=demo_callup)
    assert Page(response).scripts == []
    assert csp(response)["script-src"] == "'none'"


def test_a_rejected_booking_form_runs_no_script(
    client: FlaskClient, acme_callup: dict[str, str]
) -> None:
    response = _form_errors(client, acme_callup)
    assert Page(response).scripts == []
    assert csp(response)["script-src"] == "'none'"


def test_every_page_gets_its_own_nonce(client: FlaskClient, demo_callup: dict[str, str]) -> None:
    first = client.get("/oci/demo", query_string=demo_callup)
    second = client.get("/oci/demo", query_string=demo_callup)
    assert csp(first)["script-src"] != csp(second)["script-src"]


def test_the_basket_page_submits_itself_with_a_nonced_script(
    client: FlaskClient, acme_callup: dict[str, str]
) -> None:
    response = book_acme(client, acme_callup)
    [(nonce, script)] = Page(response).scripts
    assert script == 'document.getElementById("oci-basket").submit();'
    assert csp(response)["script-src"] == f"'nonce-{nonce}'"


@pytest.mark.parametrize("password", [ACME_PASSWORD, "a-wrong-password"])
def test_the_password_is_never_shown_in_a_page(
    client: FlaskClient, acme_callup: dict[str, str], password: str
) -> None:
    acme_callup["pwd"] = password
    response = client.get("/oci/acme", query_string=acme_callup)
    assert password not in response.get_data(as_text=True)


def test_the_password_is_not_in_the_token(
    client: FlaskClient, app: Flask, acme_callup: dict[str, str]
) -> None:
    """The token is signed, not encrypted: anyone holding the page can read it."""
    token = call_up(client, "acme", acme_callup).token
    punchout = PunchoutTokens(app.config["SECRET_KEY"], [], 60).loads(token)
    assert ACME_PASSWORD not in repr(punchout.to_json())
    assert "pwd" not in dict(punchout.inbound["parameters"])


# --- A booking, returned to the ERP -------------------------------------------------------------


def test_the_basket_form_posts_back_to_the_hook_url_exactly(
    client: FlaskClient, acme_callup: dict[str, str]
) -> None:
    basket = basket_of(book_acme(client, acme_callup))
    assert basket.attrs["method"] == "post"
    assert basket.attrs["action"] == ACME_HOOK_URL
    assert basket.attrs["target"] == "_top"
    assert basket.attrs["accept-charset"] == "iso-8859-1"
    assert basket.attrs["enctype"] == "application/x-www-form-urlencoded"


def test_the_erp_receives_the_booking_field_by_field(
    client: FlaskClient, acme_callup: dict[str, str]
) -> None:
    start, end = days_from_today(7), days_from_today(9)
    response = book_acme(
        client, acme_callup, start=start, end=end, remarks="Child seat, please.\r\nThanks"
    )
    # In acme's ISO-8859-1 the en dashes become "-" and "Škoda" becomes "Skoda"; long text
    # lines end in CR LF, as the browser posts them.
    assert basket_of(response).hidden == [
        ("NEW_ITEM-DESCRIPTION[1]", f"Estate car {dd_mm_yyyy(start)}-{dd_mm_yyyy(end)}"),
        ("NEW_ITEM-QUANTITY[1]", "3"),
        ("NEW_ITEM-UNIT[1]", "DAY"),
        ("NEW_ITEM-PRICE[1]", "55.00"),
        ("NEW_ITEM-PRICEUNIT[1]", "1"),
        ("NEW_ITEM-CURRENCY[1]", "GBP"),
        ("NEW_ITEM-VENDORMAT[1]", "ESTATE"),
        ("NEW_ITEM-CUST_FIELD5[1]", "P-123"),
        ("NEW_ITEM-EXT_PRODUCT_ID[1]", "ESTATE"),
        ("NEW_ITEM-EXT_QUOTE_ID[1]", "FF-000001"),
        (
            "NEW_ITEM-LONGTEXT_1:132[]",
            "Requester: Jane Smith <jane.smith@acme.example>\r\n"
            "Vehicle: Estate car (Skoda Octavia Combi) (ESTATE)\r\n"
            f"Period: {dd_mm_yyyy(start)} - {dd_mm_yyyy(end)} (3 days)\r\n"
            "Project code: P-123\r\n"
            "Remarks: Child seat, please.\r\nThanks\r\n"
            "Reference: FF-000001",
        ),
        ("~OkCode", "ADDI"),
        ("~CALLER", "CTLG"),
    ]


def test_the_page_tells_the_employee_the_reference(
    client: FlaskClient, acme_callup: dict[str, str]
) -> None:
    response = book_acme(client, acme_callup)
    assert "Request FF-000001 registered" in response.get_data(as_text=True)


def test_the_demo_basket_carries_the_customers_mapping(
    client: FlaskClient, demo_callup: dict[str, str]
) -> None:
    start = days_from_today(3)
    fields = dict(basket_of(book_demo(client, demo_callup, start=start, end=start)).hidden)
    assert fields["NEW_ITEM-QUANTITY[1]"] == "1"
    assert fields["NEW_ITEM-UNIT[1]"] == "DAY"
    assert fields["NEW_ITEM-PRICE[1]"] == "39.50"
    assert fields["NEW_ITEM-CURRENCY[1]"] == "EUR"
    assert fields["NEW_ITEM-VENDOR[1]"] == "4711"
    assert fields["NEW_ITEM-MATGROUP[1]"] == "78111800"
    assert fields["NEW_ITEM-CUST_FIELD1[1]"] == "4100"
    assert fields["NEW_ITEM-CUST_FIELD2[1]"] == "PO-2026-01"
    assert fields["NEW_ITEM-EXT_PRODUCT_ID[1]"] == "COMPACT"
    assert fields["NEW_ITEM-EXT_QUOTE_ID[1]"] == "FF-000001"
    longtext = fields["NEW_ITEM-LONGTEXT_1:132[]"]
    for detail in ("Jan Jansen", "jan.jansen@demo.example", "Utrecht Papendorp", "FF-000001"):
        assert detail in longtext


def test_the_employee_may_change_an_editable_field(
    client: FlaskClient, app: Flask, acme_callup: dict[str, str]
) -> None:
    basket = basket_of(book_acme(client, acme_callup, project="P-999"))
    assert ("NEW_ITEM-CUST_FIELD5[1]", "P-999") in basket.hidden
    assert stored(app)[0].fields["project"] == "P-999"


def test_the_employee_cannot_change_what_the_erp_sent(
    client: FlaskClient, app: Flask, acme_callup: dict[str, str]
) -> None:
    """Only editable fields come from the form; the requester is the ERP's claim."""
    response = book_acme(client, acme_callup, email="mallory@evil.example", full_name="Mallory")
    assert "mallory" not in str(basket_of(response).hidden).lower()
    row = stored(app)[0]
    assert (row.requester_email, row.requester_name) == ("jane.smith@acme.example", "Jane Smith")


def test_okcode_and_caller_are_only_echoed_when_sent(
    client: FlaskClient, acme_callup: dict[str, str]
) -> None:
    del acme_callup["~OkCode"], acme_callup["~CALLER"]
    names = [name for name, _ in basket_of(book_acme(client, acme_callup)).hidden]
    assert "~OkCode" not in names
    assert "~CALLER" not in names


def test_a_basket_for_sap_gui_posts_to_the_sapevent_pseudo_url(
    client: FlaskClient, acme_callup: dict[str, str]
) -> None:
    acme_callup["HOOK_URL"] = "SAPEVENT:POST"
    response = book_acme(client, acme_callup)
    assert basket_of(response).attrs["action"] == "SAPEVENT:POST"
    assert csp(response)["form-action"] == "'self' sapevent:"


@pytest.mark.parametrize(
    ("sent", "target"),
    [
        pytest.param({}, "_top", id="absent"),
        pytest.param({"~TARGET": "_top"}, "_top", id="top"),
        pytest.param({"~TARGET": "_parent"}, "_parent", id="parent"),
        pytest.param({"~TARGET": "_self"}, "_self", id="self"),
        pytest.param({"~target": "SRM_Frame"}, "SRM_Frame", id="named-frame"),
        pytest.param({"~TARGET": '"><script>alert(1)</script>'}, "_top", id="junk"),
        pytest.param({"~TARGET": "_self", "returntarget": "_parent"}, "_parent", id="returntarget"),
        # A pattern's $ matches before a final line break: a name must be the name, whole.
        pytest.param({"~TARGET": "frame1\n"}, "_top", id="trailing-lf"),
        pytest.param({"~TARGET": "frame1\r"}, "_top", id="trailing-cr"),
        pytest.param({"~TARGET": "frame1\r\n"}, "_top", id="trailing-crlf"),
        pytest.param({"returntarget": "SRM_Frame\n"}, "_top", id="returntarget-trailing-lf"),
    ],
)
def test_the_basket_goes_to_the_frame_the_erp_asked_for(
    client: FlaskClient, acme_callup: dict[str, str], sent: dict[str, str], target: str
) -> None:
    basket = basket_of(book_acme(client, {**acme_callup, **sent}))
    assert basket.attrs["target"] == target


def test_a_basket_in_iso_8859_1_has_its_letters_transliterated(
    client: FlaskClient, app: Flask, demo_callup: dict[str, str]
) -> None:
    demo_callup["HTTP_CONTENT_CHARSET"] = "iso-8859-1"
    demo_callup["oci_userfullname"] = "Łukasz Żółw"  # ó is in ISO-8859-1, Ł Ż ł are not
    basket = basket_of(book_demo(client, demo_callup))
    assert basket.attrs["accept-charset"] == "iso-8859-1"
    longtext = dict(basket.hidden)["NEW_ITEM-LONGTEXT_1:132[]"]
    assert "Lukasz Zólw" in longtext
    for _, value in basket.hidden:
        value.encode("iso-8859-1")
    assert stored(app)[0].requester_name == "Łukasz Żółw"


def test_a_basket_in_utf_8_keeps_every_letter(
    client: FlaskClient, acme_callup: dict[str, str]
) -> None:
    acme_callup["http_content_charset"] = "utf-8"
    acme_callup["user_name"] = "Łukasz Nowak"
    basket = basket_of(book_acme(client, acme_callup))
    assert basket.attrs["accept-charset"] == "utf-8"
    assert "Requester: Łukasz Nowak <" in dict(basket.hidden)["NEW_ITEM-LONGTEXT_1:132[]"]


def test_a_call_up_posted_from_an_iso_8859_1_page_keeps_its_letters(
    client: FlaskClient, acme_callup: dict[str, str]
) -> None:
    acme_callup.update(user_name="Zoë Smith", HTTP_CONTENT_CHARSET="iso-8859-1")
    body = urlencode(acme_callup, encoding="iso-8859-1")  # as a browser encodes such a page
    response = client.post("/oci/acme", data=body, content_type="application/x-www-form-urlencoded")
    assert response.status_code == 200
    assert "Zoë Smith" in response.get_data(as_text=True)


def test_a_latin_1_call_up_reaches_a_utf_8_customer_intact(
    client: FlaskClient, demo_callup: dict[str, str]
) -> None:
    demo_callup["oci_userfullname"] = "Zoë de Vries"
    body = urlencode(demo_callup, encoding="iso-8859-1")
    response = client.post("/oci/demo", data=body, content_type="application/x-www-form-urlencoded")
    assert response.status_code == 200
    assert "Zoë de Vries" in response.get_data(as_text=True)


# --- The stored request -------------------------------------------------------------------------


def test_a_booking_stores_one_new_request(
    client: FlaskClient, app: Flask, acme_callup: dict[str, str]
) -> None:
    start, end = days_from_today(7), days_from_today(9)
    book_acme(client, acme_callup, start=start, end=end, remarks="Child seat")
    [row] = stored(app)
    assert row.status == "new"
    assert row.reference == "FF-000001"
    assert row.customer_id == "acme"
    assert row.language == "en"
    assert (row.requester_email, row.requester_name) == ("jane.smith@acme.example", "Jane Smith")
    assert (row.vehicle_code, row.vehicle_name) == ("ESTATE", "Estate car (Škoda Octavia Combi)")
    assert (row.day_rate, row.currency) == (Decimal("55.00"), "GBP")
    assert (row.start_date.isoformat(), row.end_date.isoformat(), row.days) == (start, end, 3)
    assert row.location is None
    assert row.remarks == "Child seat"
    assert row.fields == {
        "email": "jane.smith@acme.example",
        "full_name": "Jane Smith",
        "project": "P-123",
    }


def test_the_stored_call_up_is_complete_but_for_the_password(
    client: FlaskClient, app: Flask, acme_callup: dict[str, str]
) -> None:
    book_acme(client, acme_callup)
    [row] = stored(app)
    assert row.protocol == "oci"
    assert row.inbound == {
        "parameters": [[name, value] for name, value in acme_callup.items() if name != "pwd"]
    }
    assert ACME_PASSWORD not in repr(row.inbound)


def test_the_stored_basket_is_the_basket_posted(
    client: FlaskClient, app: Flask, acme_callup: dict[str, str]
) -> None:
    basket = basket_of(book_acme(client, acme_callup))
    [row] = stored(app)
    assert row.cart == {
        "action": basket.attrs["action"],
        "target": basket.attrs["target"],
        "charset": basket.attrs["accept-charset"],
        "fields": [list(pair) for pair in basket.hidden],
    }


def test_the_demo_request_stores_its_pickup_location_and_language(
    client: FlaskClient, app: Flask, demo_callup: dict[str, str]
) -> None:
    book_demo(client, demo_callup, location="Amsterdam Sloterdijk")
    [row] = stored(app)
    assert (row.location, row.language, row.currency) == ("Amsterdam Sloterdijk", "nl", "EUR")
    assert row.inbound["parameters"] == [
        [name, value] for name, value in demo_callup.items() if name != "PASSWORD"
    ]
    assert DEMO_PASSWORD not in repr(row.inbound)


# --- Double submits and parallel punch-outs -----------------------------------------------------


def test_a_double_submit_stores_one_request_and_shows_the_same_basket(
    client: FlaskClient, app: Flask, acme_callup: dict[str, str]
) -> None:
    token = call_up(client, "acme", acme_callup).token
    first = book(client, "acme", token, **acme_booking())
    second = book(client, "acme", token, **acme_booking())
    assert basket_of(second) == basket_of(first)
    assert count_stored(app) == 1


def test_a_form_submitted_twice_at_the_same_moment_stores_one_request(
    app: Flask, acme_callup: dict[str, str]
) -> None:
    """Both submits may find no request yet and take a number each: the punch-out's unique id
    lets one of them store it, and the other answers with the basket stored."""
    punchouts, submits = 5, 2
    tokens = [call_up(app.test_client(), "acme", acme_callup).token for _ in range(punchouts)]
    baskets: dict[str, list[list[tuple[str, str]]]] = {token: [] for token in tokens}

    def submit(token: str, start: threading.Barrier) -> None:
        client = app.test_client()
        start.wait()
        baskets[token].append(basket_of(book(client, "acme", token, **acme_booking())).pairs)

    for token in tokens:
        start = threading.Barrier(submits)
        threads = [threading.Thread(target=submit, args=(token, start)) for _ in range(submits)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

    assert count_stored(app) == punchouts
    for sent in baskets.values():
        assert len(sent) == submits
        assert sent[0] == sent[1]


def test_a_double_submit_says_the_request_was_already_registered(
    client: FlaskClient, acme_callup: dict[str, str]
) -> None:
    token = call_up(client, "acme", acme_callup).token
    first = book(client, "acme", token, **acme_booking())
    second = book(client, "acme", token, **acme_booking())
    notice = "This request had already been registered"
    assert notice not in first.get_data(as_text=True)
    assert notice in second.get_data(as_text=True)


def test_a_second_submit_with_other_choices_changes_nothing(
    client: FlaskClient, app: Flask, acme_callup: dict[str, str]
) -> None:
    token = call_up(client, "acme", acme_callup).token
    first = book(client, "acme", token, **acme_booking())
    later = book(client, "acme", token, **acme_booking(end=days_from_today(20), remarks="More"))
    assert basket_of(later) == basket_of(first)
    [row] = stored(app)
    assert (row.days, row.remarks) == (3, "")


def test_two_punch_outs_never_mix(
    client: FlaskClient, app: Flask, acme_callup: dict[str, str]
) -> None:
    """Two windows of one browser: both forms open, sent in the other order."""
    other_hook = "https://erp.acme.example/sap/bc/srm/hook?sid=second"
    jane = call_up(client, "acme", acme_callup).token
    john = call_up(
        client,
        "acme",
        {
            **acme_callup,
            "HOOK_URL": other_hook,
            "user_email": "john@acme.example",
            "user_name": "John Doe",
            "~OkCode": "ADDX",
        },
    ).token
    johns_basket = basket_of(book(client, "acme", john, **acme_booking()))
    janes_basket = basket_of(book(client, "acme", jane, **acme_booking()))

    assert johns_basket.attrs["action"] == other_hook
    assert janes_basket.attrs["action"] == ACME_HOOK_URL
    johns, janes = dict(johns_basket.hidden), dict(janes_basket.hidden)
    assert (johns["NEW_ITEM-EXT_QUOTE_ID[1]"], johns["~OkCode"]) == ("FF-000001", "ADDX")
    assert (janes["NEW_ITEM-EXT_QUOTE_ID[1]"], janes["~OkCode"]) == ("FF-000002", "ADDI")
    assert "John Doe" in johns["NEW_ITEM-LONGTEXT_1:132[]"]
    assert "Jane Smith" in janes["NEW_ITEM-LONGTEXT_1:132[]"]
    assert [(r.reference, r.requester_email) for r in stored(app)] == [
        ("FF-000001", "john@acme.example"),
        ("FF-000002", "jane.smith@acme.example"),
    ]


# --- The booking form refused -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "field_id", "message"),
    [
        pytest.param(
            {"start": days_from_today(5), "end": days_from_today(4)},
            "end",
            "The end date cannot be before the start date.",
            id="end-before-start",
        ),
        pytest.param(
            {"start": days_from_today(-1)},
            "start",
            "The start date cannot be in the past.",
            id="start-in-the-past",
        ),
        pytest.param(
            {"start": "2027-02-30"}, "start", "Not a valid date value.", id="start-not-a-date"
        ),
        pytest.param({"end": "morgen"}, "end", "Not a valid date value.", id="end-not-a-date"),
        pytest.param({"start": ""}, "start", "Please fill in this field.", id="start-missing"),
        pytest.param(
            {"start": days_from_today(1), "end": days_from_today(366)},
            "end",
            "A rental can last at most 365 days.",
            id="too-long",
        ),
        pytest.param(
            {"vehicle": "TANK"}, "vehicle", "Choose one of the vehicles in the list.", id="vehicle"
        ),
        pytest.param(
            {"project": "X-1"},
            "project",
            "This value does not have the agreed format.",
            id="pattern-mismatch",
        ),
        pytest.param(
            {"project": "P-1\n23"},
            "project",
            "Use a single line of plain text.",
            id="line-break",
        ),
    ],
)
def test_a_booking_form_error_is_shown_next_to_the_field(
    client: FlaskClient,
    app: Flask,
    acme_callup: dict[str, str],
    change: dict[str, str],
    field_id: str,
    message: str,
) -> None:
    token = call_up(client, "acme", acme_callup).token
    response = book(client, "acme", token, **acme_booking(**change))
    page = Page(response)
    assert response.status_code == 422
    assert page.alert == "Please correct the fields marked below."
    assert page.errors == {field_id: message}
    assert page.invalid == {field_id}
    assert count_stored(app) == 0


def test_a_rejected_form_keeps_what_was_entered_and_its_token(
    client: FlaskClient, acme_callup: dict[str, str]
) -> None:
    token = call_up(client, "acme", acme_callup).token
    entered = acme_booking(vehicle="TANK", remarks="Child seat")
    page = Page(book(client, "acme", token, **entered))
    assert page.token == token
    assert page.booking_form is not None
    values = page.booking_form.values
    assert (values["start"], values["end"]) == (entered["start"], entered["end"])
    assert (values["project"], values["remarks"]) == ("P-123", "Child seat")


def test_markup_in_what_was_entered_comes_back_as_text(
    client: FlaskClient, acme_callup: dict[str, str]
) -> None:
    token = call_up(client, "acme", acme_callup).token
    entered = acme_booking(
        vehicle='"><script>alert(1)</script>',
        project='P-1"><b>',
        remarks="</textarea><script>alert(2)</script>",
    )
    response = book(client, "acme", token, **entered)
    page = Page(response)
    assert response.status_code == 422
    assert page.scripts == []
    assert page.booking_form is not None
    assert (page.booking_form.values["project"], page.booking_form.values["remarks"]) == (
        entered["project"],
        entered["remarks"],
    )


def test_a_corrected_form_is_booked(
    client: FlaskClient, app: Flask, acme_callup: dict[str, str]
) -> None:
    token = call_up(client, "acme", acme_callup).token
    rejected = Page(book(client, "acme", token, **acme_booking(project="X-1")))
    accepted = book(client, "acme", rejected.token, **acme_booking(project="P-777"))
    assert ("NEW_ITEM-CUST_FIELD5[1]", "P-777") in basket_of(accepted).hidden
    assert count_stored(app) == 1


def test_a_booking_may_start_today(client: FlaskClient, acme_callup: dict[str, str]) -> None:
    response = book_acme(client, acme_callup, start=days_from_today(0), end=days_from_today(0))
    assert ("NEW_ITEM-QUANTITY[1]", "1") in basket_of(response).hidden


@pytest.mark.parametrize(
    ("change", "field_id"),
    [
        pytest.param({"location": "Maastricht"}, "location", id="unknown-location"),
        pytest.param({"cost_centre": "41a0"}, "cost_centre", id="pattern-mismatch"),
        pytest.param({"cost_centre": ""}, "cost_centre", id="cost-centre-missing"),
        pytest.param({"vehicle": "ESTATE"}, "vehicle", id="other-customers-vehicle"),
        pytest.param({"start": days_from_today(-1)}, "start", id="start-in-the-past"),
        pytest.param(
            {"start": days_from_today(3), "end": days_from_today(2)}, "end", id="end-before-start"
        ),
    ],
)
def test_a_demo_booking_form_error_is_marked_at_the_field(
    client: FlaskClient,
    app: Flask,
    demo_callup: dict[str, str],
    change: dict[str, str],
    field_id: str,
) -> None:
    token = call_up(client, "demo", demo_callup).token
    response = book(client, "demo", token, **demo_booking(**change))
    page = Page(response)
    assert response.status_code == 422
    assert list(page.errors) == [field_id]
    assert page.errors[field_id]
    assert page.invalid == {field_id}
    assert count_stored(app) == 0


# --- An editable field received wrong, corrected in the form (issue 18, item 6) -----------------


def test_a_malformed_editable_value_opens_the_form_with_the_field_marked(
    client: FlaskClient, app: Flask, acme_callup: dict[str, str]
) -> None:
    page = call_up(client, "acme", {**acme_callup, "PROJECT": "X-123"})

    assert page.alert == "Please correct the fields marked below."
    assert page.errors == {
        "project": "Your purchasing system sent “X-123”, which does not have the agreed "
        "format. Please correct it."
    }
    assert page.invalid == {"project"}
    assert page.booking_form is not None
    assert page.booking_form.values["project"] == "X-123"
    assert count_stored(app) == 0


def test_a_valid_editable_value_opens_the_form_unmarked(
    client: FlaskClient, acme_callup: dict[str, str]
) -> None:
    page = call_up(client, "acme", acme_callup)

    assert (page.alerts, page.errors, page.invalid) == ([], {}, set())


@pytest.mark.parametrize(
    ("sent", "shown"),
    [
        pytest.param(None, "", id="required-but-missing"),
        pytest.param("D-2026-0042", "D-2026-0042", id="not-the-agreed-format"),
        pytest.param("12345678901", "12345678901", id="longer-than-the-basket-field"),
        pytest.param("41\t00", "41 00", id="control-character"),
    ],
)
def test_a_demo_cost_centre_received_wrong_is_marked_with_what_was_sent_and_the_example(
    client: FlaskClient, demo_callup: dict[str, str], sent: str | None, shown: str
) -> None:
    """The Dutch demo: the texts are the catalogue's; what was sent, the example (4100) and
    the marking are the same in every language."""
    callup = _apply(demo_callup, {"KOSTENPLAATS": sent})
    page = call_up(client, "demo", callup)

    assert list(page.errors) == ["cost_centre"]
    assert shown in page.errors["cost_centre"]
    assert page.errors["cost_centre"].endswith("4100")
    assert page.invalid == {"cost_centre"}
    assert page.booking_form is not None
    assert page.booking_form.values["cost_centre"] == shown


def test_an_uncorrected_value_cannot_be_booked(
    client: FlaskClient, app: Flask, demo_callup: dict[str, str]
) -> None:
    token = call_up(client, "demo", {**demo_callup, "KOSTENPLAATS": "D-2026-0042"}).token

    response = book(client, "demo", token, **demo_booking(cost_centre="D-2026-0042"))

    assert response.status_code == 422
    assert list(Page(response).errors) == ["cost_centre"]
    assert count_stored(app) == 0


def test_the_corrected_value_is_stored_and_sent_while_the_call_up_keeps_what_was_received(
    client: FlaskClient, app: Flask, demo_callup: dict[str, str]
) -> None:
    token = call_up(client, "demo", {**demo_callup, "KOSTENPLAATS": "D-2026-0042"}).token

    basket = basket_of(book(client, "demo", token, **demo_booking(cost_centre="1234567890")))

    assert dict(basket.hidden)["NEW_ITEM-CUST_FIELD1[1]"] == "1234567890"
    assert dict(basket.hidden)["~OkCode"] == "ADDI"
    [row] = stored(app)
    assert (row.fields["cost_centre"], row.cost_centre) == ("1234567890", "1234567890")
    assert dict(row.inbound["parameters"])["KOSTENPLAATS"] == "D-2026-0042"


def test_the_token_carries_the_received_value_as_it_was_sent(
    client: FlaskClient, app: Flask, acme_callup: dict[str, str]
) -> None:
    """Signed, so that the page cannot pass off another value as the ERP's; the form shows it
    on one line, and books only what the employee sends back."""
    page = call_up(client, "acme", {**acme_callup, "PROJECT": "P-1\n23"})

    punchout = PunchoutTokens(app.config["SECRET_KEY"], [], 60).loads(page.token)
    assert punchout.fields["project"] == "P-1\n23"
    assert page.booking_form is not None
    assert page.booking_form.values["project"] == "P-1 23"


def test_markup_in_a_received_value_is_shown_as_text(
    client: FlaskClient, acme_callup: dict[str, str]
) -> None:
    sent = '"><script>alert(1)</script>'
    page = call_up(client, "acme", {**acme_callup, "PROJECT": sent})

    assert page.scripts == []
    assert f"“{sent}”" in page.errors["project"]
    assert page.booking_form is not None
    assert page.booking_form.values["project"] == sent


def test_a_long_received_value_is_quoted_shortened_and_kept_whole_in_the_input(
    client: FlaskClient, acme_callup: dict[str, str]
) -> None:
    sent = "P-" + "1" * 300
    page = call_up(client, "acme", {**acme_callup, "PROJECT": sent})

    assert f"“{sent[:60]}…”, which is longer than 50 characters." in page.errors["project"]
    assert page.booking_form is not None
    assert page.booking_form.values["project"] == sent


# --- The punch-out token refused ----------------------------------------------------------------

ALTERED = "This booking form was not issued by FlexFleet or has been altered."


def _altered(token: str) -> str:
    position = len(token) // 3
    return token[:position] + ("A" if token[position] != "A" else "B") + token[position + 1 :]


@pytest.mark.parametrize(
    "forge",
    [
        pytest.param(lambda token: None, id="missing"),
        pytest.param(lambda token: "", id="empty"),
        pytest.param(lambda token: "forged", id="garbage"),
        pytest.param(_altered, id="altered"),
        pytest.param(lambda token: token + "x", id="appended"),
    ],
)
def test_a_booking_without_a_genuine_token_is_refused(
    client: FlaskClient,
    app: Flask,
    acme_callup: dict[str, str],
    forge: Callable[[str], str | None],
) -> None:
    token = forge(call_up(client, "acme", acme_callup).token)
    form = acme_booking() if token is None else {"punchout": token, **acme_booking()}
    response = client.post("/oci/acme/book", data=form)
    assert response.status_code == 400
    assert Page(response).alert == ALTERED
    assert count_stored(app) == 0


def test_a_token_of_one_customer_is_refused_by_another(
    client: FlaskClient, app: Flask, acme_callup: dict[str, str]
) -> None:
    token = call_up(client, "acme", acme_callup).token
    response = book(client, "demo", token, **demo_booking())
    assert response.status_code == 400
    assert count_stored(app) == 0


def test_a_token_signed_with_another_key_is_refused(
    client: FlaskClient, app: Flask, environ: dict[str, str], acme_callup: dict[str, str]
) -> None:
    other = create_app({**environ, "SECRET_KEY": "another-server-key-0123456789-0123456789"})
    try:
        token = call_up(other.test_client(use_cookies=False), "acme", acme_callup).token
    finally:
        other.extensions["ociflex.engine"].dispose()
    response = book(client, "acme", token, **acme_booking())
    assert (response.status_code, Page(response).alert) == (400, ALTERED)
    assert count_stored(app) == 0


def test_an_expired_booking_form_is_refused(
    client: FlaskClient,
    app: Flask,
    acme_callup: dict[str, str],
    signing_clock: SigningClock,
) -> None:
    token = call_up(client, "acme", acme_callup).token
    signing_clock.advance(app.config["OCIFLEX_PUNCHOUT_MAX_AGE"] + 1)
    response = book(client, "acme", token, **acme_booking())
    assert response.status_code == 400
    assert Page(response).alert == "This booking form has expired."
    assert "Start again from your purchasing system." in response.get_data(as_text=True)
    assert count_stored(app) == 0


def test_a_booking_form_is_accepted_until_it_expires(
    client: FlaskClient,
    app: Flask,
    acme_callup: dict[str, str],
    signing_clock: SigningClock,
) -> None:
    token = call_up(client, "acme", acme_callup).token
    signing_clock.advance(app.config["OCIFLEX_PUNCHOUT_MAX_AGE"])
    assert book(client, "acme", token, **acme_booking()).status_code == 200


def test_an_open_form_survives_a_key_rotation(
    client: FlaskClient, environ: dict[str, str], acme_callup: dict[str, str]
) -> None:
    old_key = environ["SECRET_KEY"]
    token = call_up(client, "acme", acme_callup).token
    rotated = create_app(
        {
            **environ,
            "SECRET_KEY": "the-new-key-0123456789-0123456789",
            "SECRET_KEY_FALLBACKS": old_key,
        }
    )
    try:
        response = book(rotated.test_client(use_cookies=False), "acme", token, **acme_booking())
        assert basket_of(response).attrs["action"] == ACME_HOOK_URL
    finally:
        rotated.extensions["ociflex.engine"].dispose()


def test_the_reference_counts_up_per_request(
    client: FlaskClient, app: Flask, acme_callup: dict[str, str]
) -> None:
    for _ in range(3):
        book_acme(client, acme_callup)
    assert [row.reference for row in stored(app)] == ["FF-000001", "FF-000002", "FF-000003"]
    assert all(re.fullmatch(r"FF-\d{6}", row.reference) for row in stored(app))


# --- Only form posts: the checks read url-encoded forms (issue 17, item 3) ---------------------


def _transfers(app: Flask) -> int:
    with session_for(app) as session:
        return session.scalar(select(func.count()).select_from(Transfer)) or 0


_NOT_A_FORM = "This address accepts only ordinary form posts (application/x-www-form-urlencoded)"


@pytest.mark.parametrize("content_type", ["multipart/form-data", "text/plain", "application/json"])
def test_a_call_up_that_is_not_form_urlencoded_is_refused_with_415_and_nothing_stored(
    client: FlaskClient, app: Flask, acme_callup: dict[str, str], content_type: str
) -> None:
    """Multipart once passed around the parameter limit and the charset refusal."""
    many = {**acme_callup, **{f"x{i}": "" for i in range(510)}}
    data: dict[str, str] | str = many if content_type == "multipart/form-data" else "{}"
    response = client.post("/oci/acme", data=data, content_type=content_type)
    assert response.status_code == 415
    assert Page(response).alert.startswith(_NOT_A_FORM)
    assert Page(response).booking_form is None
    assert _transfers(app) == 0


def test_a_multipart_call_up_with_bytes_in_no_charset_is_refused_not_stored(
    client: FlaskClient, app: Flask, demo_callup: dict[str, str]
) -> None:
    body = {**demo_callup, "oci_userfullname": (io.BytesIO(b"J\x81rg"), "")}
    response = client.post("/oci/demo", data=body, content_type="multipart/form-data")
    assert response.status_code == 415
    assert "J\ufffdrg" not in response.get_data(as_text=True)
    assert _transfers(app) == 0


def test_a_booking_form_sent_as_multipart_is_refused_with_415_and_nothing_booked(
    client: FlaskClient, app: Flask, acme_callup: dict[str, str]
) -> None:
    token = call_up(client, "acme", acme_callup).token
    logged = _transfers(app)
    response = client.post(
        "/oci/acme/book",
        data={"punchout": token, **acme_booking(remarks="caf\xe9")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 415
    assert Page(response).alert.startswith(_NOT_A_FORM)
    assert count_stored(app) == 0
    assert _transfers(app) == logged


@pytest.mark.parametrize("path", ["/cxml/globex/book", "/cxml/globex/back"])
def test_a_cxml_booking_or_back_post_sent_as_multipart_is_refused_with_415(
    cxml_client: FlaskClient, cxml_app: Flask, path: str
) -> None:
    response = cxml_client.post(
        path, data={"punchout": "x", "remarks": "caf\xe9"}, content_type="multipart/form-data"
    )
    assert response.status_code == 415
    assert Page(response).alert.startswith(_NOT_A_FORM)
    assert _transfers(cxml_app) == 0


def test_the_cxml_endpoint_is_not_refused_as_a_form_post(cxml_client: FlaskClient) -> None:
    """The buyer's server posts XML there; it is answered in cXML, not with the 415 page."""
    response = cxml_client.post("/cxml/globex", data=b"<x/>", content_type="text/xml")
    assert response.status_code != 415
    assert response.mimetype == "text/xml"


def test_a_post_call_up_without_a_body_or_content_type_is_still_accepted(
    client: FlaskClient, demo_callup: dict[str, str]
) -> None:
    """Some ERPs POST the whole call-up in the query string, with no body."""
    response = client.post(f"/oci/demo?{urlencode(demo_callup)}")
    assert response.status_code == 200
    assert Page(response).token


# --- Only charsets a browser form posts in (issue 17, items 4 and 7) ---------------------------


@pytest.mark.parametrize(
    "charset",
    [
        "idna",
        "unicode-escape",
        "raw_unicode_escape",
        "hz",
        "cp65001",
        "cp1252:",
        "utf-8\n",
        "utf-8\r\n",
        "utf-8\r",
        " utf-8",
        "utf-16le",
        "x-user-defined",
        "\u212aoi8-r",  # the Kelvin sign, lower-cased "k"
    ],
)
def test_a_call_up_asking_for_a_charset_no_browser_form_posts_in_is_refused(
    client: FlaskClient, app: Flask, acme_callup: dict[str, str], charset: str
) -> None:
    acme_callup["HTTP_CONTENT_CHARSET"] = charset
    response = client.post("/oci/acme", data=acme_callup)
    assert response.status_code == 400
    shown = charset.replace("\r", "\\r").replace("\n", "\\n")  # a line break shows as its escape
    expected = f"The character set {shown} in HTTP_CONTENT_CHARSET is unknown."
    assert Page(response).alert.split() == expected.split()  # the page's whitespace is HTML's
    assert Page(response).booking_form is None
    assert count_stored(app) == 0


@pytest.mark.parametrize(
    ("charset", "encodes"),
    [
        ("ISO-8859-1", "latin-1"),
        ("latin1", "latin-1"),
        ("Windows-1252", "cp1252"),
        ("us-ascii", "ascii"),
        ("iso-8859-15", "iso8859-15"),
        ("koi8-r", "koi8-r"),
        ("shift_jis", "cp932"),
    ],
)
def test_a_browser_charset_label_in_any_case_gets_a_basket_in_that_charset(
    client: FlaskClient, acme_callup: dict[str, str], charset: str, encodes: str
) -> None:
    acme_callup.update(HTTP_CONTENT_CHARSET=charset, user_name="Łukasz Zoë")
    basket = basket_of(book_acme(client, acme_callup))
    assert basket.attrs["accept-charset"] == charset
    for _, value in basket.hidden:
        value.encode(encodes)


@pytest.mark.parametrize("charset", ["idna", "unicode-escape", "hz", "utf-8\n", "klingon"])
def test_a_booking_whose_session_asks_for_a_charset_no_browser_posts_in_is_refused_not_a_5xx(
    client: FlaskClient, app: Flask, acme_callup: dict[str, str], charset: str
) -> None:
    """A form issued before the call-up refused such charsets: a clear 400, nothing stored."""
    acme_callup["user_name"] = "Zoë Smith"
    token = call_up(client, "acme", acme_callup).token
    signer = app.extensions["ociflex.tokens"]
    session = signer.loads(token)
    old = replace(session, cart_return=replace(session.cart_return, charset=charset))
    response = book(client, "acme", signer.dumps(old), **acme_booking(remarks="Zoë"))
    assert response.status_code == 400
    assert Page(response).alert == (
        "Your purchasing system asked for the basket in a character set that no browser can send."
    )
    assert count_stored(app) == 0
