"""The development ERP simulator proves the round trip without a real ERP."""

import shlex
from collections.abc import Iterator
from pathlib import Path
from unittest.mock import ANY
from urllib.parse import urlencode

import pytest
from babel.support import Translations
from flask import Flask
from flask.testing import FlaskClient
from flask_babel import gettext
from sqlalchemy import select
from werkzeug.datastructures import MultiDict

from ociflex import create_app
from ociflex.customers.registry import customers_of
from ociflex.db import session_for
from ociflex.i18n import TRANSLATIONS
from ociflex.models import PurchaseOrder, RentalRequest
from tests.conftest import DEMO_PASSWORD
from tests.support.html import Form, Html, has_class
from tests.support.html import text_of as element_text
from tests.support.journeys import as_a_browser_posts
from tests.support.punchout import days_from_today

#: Where the demo customer's hook_urls expect the development server.
DEV_SERVER = "http://127.0.0.1:5000"


def form_of(html: str, form_id: str) -> Form:
    """The form ``form_id``; its ``inputs`` are what these tests post (text areas and selects
    left out)."""
    return Html(html).forms[form_id]


def rows_of(html: str) -> dict[str, tuple[int | None, str | None, str]]:
    """The hook page's rows (``<tr data-name=...>``): posted name -> (line, value, verdict).

    ``value`` is None for a required field that was not posted; ``verdict`` is "OK" or the
    problem texts, and ``line`` the ``data-line`` of the table (None outside the lines).
    """
    rows: dict[str, tuple[int | None, str | None, str]] = {}
    for row in Html(html).root.iter("tr"):
        if "data-name" not in row.attrib:
            continue
        table = next(row.iterancestors("table"), None)
        in_lines = table is not None and "data-line" in table.attrib
        line = int(table.get("data-line") or 0) if in_lines else None
        cells = [cell for cell in row if cell.tag in ("th", "td")]
        missing = any("data-field" in c.attrib and "muted" in c.get("class", "") for c in cells)
        _header, value, verdict = (element_text(cell).strip() for cell in cells)
        rows[row.get("data-name")] = (line, None if missing else value, verdict)
    return rows


def text_of(html: str, element_id: str) -> str:
    """The text of the element whose id is ``element_id``."""
    return Html(html).texts.get(element_id, "")


def accepted(app: Flask) -> str:
    """The hook page's verdict on a basket without problems, in the page's language."""
    with app.test_request_context():
        return gettext("SAP would accept every line.")


@pytest.fixture
def dev_app(environ: dict[str, str]) -> Iterator[Flask]:
    app = create_app({**environ, "OCIFLEX_DEV_TOOLS": "1"})
    yield app
    app.extensions["ociflex.engine"].dispose()


@pytest.fixture
def dev_client(dev_app: Flask) -> FlaskClient:
    return dev_app.test_client(use_cookies=False)


BOOKING = {
    "vehicle": "COMPACT",
    # Within the booking window (about 18 months ahead), three days.
    "start": days_from_today(30),
    "end": days_from_today(32),
    "location": "Amsterdam Sloterdijk",
    "cost_centre": "4100",
}


def booked_basket(
    client: FlaskClient,
    customer_id: str = "demo",
    remarks: str = "",
    added: tuple[tuple[str, str], ...] = (),
) -> tuple[dict[str, str], Form]:
    """Launch the call-up of ``customer_id`` (the demo customer or a copy) from the simulator,
    with the parameters ``added``, and book :data:`BOOKING`: the call-up's parameters, and the
    basket form that goes back to the HOOK_URL."""
    simulator = client.get(f"/dev/erp?customer={customer_id}", base_url=DEV_SERVER)
    assert simulator.status_code == 200
    callup = form_of(simulator.get_data(as_text=True), "callup")
    params = {**dict(callup.inputs), "KOSTENPLAATS": "4100", **dict(added)}
    form_page = client.post(callup.action, data=params, base_url=DEV_SERVER)
    assert form_page.status_code == 200
    token = dict(form_of(form_page.get_data(as_text=True), "booking").inputs)["punchout"]
    data = {"punchout": token, **BOOKING, "remarks": remarks}
    basket_page = client.post(f"/oci/{customer_id}/book", data=data, base_url=DEV_SERVER)
    return params, form_of(basket_page.get_data(as_text=True), "oci-basket")


def test_simulator_round_trip_shows_the_basket_per_line(
    dev_app: Flask, dev_client: FlaskClient
) -> None:
    params, basket = booked_basket(dev_client)
    assert params["HOOK_URL"].startswith("http://127.0.0.1:5000/dev/erp/hook?session=")
    assert params["PASSWORD"] == "demo-secret"
    assert basket.action == params["HOOK_URL"]

    # Posted as the employee's browser posts it: every line break as CR LF.
    posted = [(name, as_a_browser_posts(value)) for name, value in basket.inputs]
    assert posted == basket.inputs  # ociflex's basket has no other line breaks
    hook = dev_client.post(basket.action, data=MultiDict(posted))
    page = hook.get_data(as_text=True)
    assert hook.status_code == 200
    assert 'data-line="1"' in page
    assert '<td data-field="QUANTITY"><pre>3</pre></td>' in page
    assert '<td data-field="CUST_FIELD1"><pre>4100</pre></td>' in page
    assert '<td data-field="EXT_QUOTE_ID"><pre>FF-000001</pre></td>' in page
    assert '<td data-field="~OkCode">ADDI</td>' in page
    # Each field is checked against the OCI rules, and ociflex's basket keeps them all.
    rows = rows_of(page)
    assert rows["NEW_ITEM-UNIT[1]"] == (1, "DAY", "OK")
    assert rows["NEW_ITEM-LONGTEXT_1:132[]"][0] == 1
    assert rows["~OkCode"] == (None, "ADDI", "OK")
    assert {verdict for _line, _value, verdict in rows.values()} == {"OK"}
    assert 'class="problem' not in page
    assert text_of(page, "verdict") == accepted(dev_app)


def test_hook_page_reads_a_latin_1_basket(dev_client: FlaskClient) -> None:
    body = "NEW_ITEM-DESCRIPTION%5B1%5D=Caf%E9&NEW_ITEM-QUANTITY%5B1%5D=1"
    response = dev_client.post(
        "/dev/erp/hook", data=body, content_type="application/x-www-form-urlencoded"
    )
    page = response.get_data(as_text=True)
    assert "<pre>Café</pre>" in page
    assert "windows-1252" in page


# --- The charset: what the ERP sends, what arrives ----------------------------------------------

#: The demo customer as Euromobil's SAP SRM: ISO-8859-1, and no HTTP_CONTENT_CHARSET.
LATIN_1_CUSTOMER = "latin"


@pytest.fixture
def latin_1_customer(dev_app: Flask, customers_dir: Path) -> str:
    """A copy of the demo customer whose file says ``charset: iso-8859-1``, served."""
    demo = (customers_dir / "demo.yaml").read_text(encoding="utf-8")
    path = customers_dir / f"{LATIN_1_CUSTOMER}.yaml"
    path.write_text(f"{demo}\ncharset: iso-8859-1\n", encoding="utf-8")
    customers_of(dev_app).load()
    return LATIN_1_CUSTOMER


def as_a_browser_posts_in(charset: str, pairs: list[tuple[str, str]]) -> bytes:
    """The form data a browser posts for a form with ``accept-charset=charset``."""
    return urlencode(pairs, encoding=charset).encode("ascii")


def test_the_callup_names_no_charset_and_says_what_ociflex_falls_back_to(
    dev_client: FlaskClient, latin_1_customer: str
) -> None:
    page = dev_client.get(f"/dev/erp?customer={latin_1_customer}").get_data(as_text=True)

    assert "HTTP_CONTENT_CHARSET" not in callup_of(page)
    assert "iso-8859-1" in text_of(page, "charset")


def with_charset_named(client: FlaskClient, customer_id: str, charset: str) -> str:
    """The simulator's page for ``customer_id`` once an empty row names ``charset`` in
    HTTP_CONTENT_CHARSET (in lower case, as some ERPs write it)."""
    page = client.get(f"/dev/erp?customer={customer_id}").get_data(as_text=True)
    form = MultiDict(form_of(page, "edit").inputs)
    names, values = form.getlist("name"), form.getlist("value")
    names[-1], values[-1] = "http_content_charset", charset
    form.setlist("name", names)
    form.setlist("value", values)
    return client.post("/dev/erp", data=form).get_data(as_text=True)


def test_a_charset_added_to_the_callup_is_sent_and_named_on_the_page(
    dev_client: FlaskClient, latin_1_customer: str
) -> None:
    page = with_charset_named(dev_client, latin_1_customer, "utf-8")

    assert callup_of(page)["http_content_charset"] == "utf-8"
    said = Html(page).root.get_element_by_id("charset")
    assert "utf-8" in element_text(said)
    assert "iso-8859-1" in element_text(said), "and the file's charset that it replaces"
    assert not has_class(said, "problem")


def test_a_charset_no_browser_posts_in_is_marked_before_the_launch(
    dev_client: FlaskClient, latin_1_customer: str
) -> None:
    page = with_charset_named(dev_client, latin_1_customer, "utf-16")

    said = Html(page).root.get_element_by_id("charset")
    assert "utf-16" in element_text(said)
    assert has_class(said, "problem")


def test_hook_page_says_where_a_latin_1_basket_replaced_characters(
    dev_client: FlaskClient, latin_1_customer: str
) -> None:
    remarks = "Zoë's budget: € 200"
    _params, basket = booked_basket(dev_client, latin_1_customer, remarks=remarks)
    assert basket.attrs["accept-charset"] == "iso-8859-1"

    hook = dev_client.post(
        basket.action,
        data=as_a_browser_posts_in("windows-1252", basket.inputs),
        content_type="application/x-www-form-urlencoded",
    )

    page = hook.get_data(as_text=True)
    assert hook.status_code == 200
    replaced = {
        row.get("data-name"): [
            (span.get("data-character"), span.get("data-stand-in"), element_text(span))
            for span in row.iter("span")
            if has_class(span, "replacement")
        ]
        for row in Html(page).root.iter("tr")
    }
    # The dash of the period, and the employee's euro sign in the long text's remarks: each
    # named with its code point (an en dash looks like the hyphen that replaced it).
    assert {name: found for name, found in replaced.items() if found} == {
        "NEW_ITEM-DESCRIPTION[1]": [("–", "-", ANY)],
        "NEW_ITEM-LONGTEXT_1:132[]": [("–", "-", ANY), ("€", "EUR", ANY)],
    }
    assert "U+20AC" in replaced["NEW_ITEM-LONGTEXT_1:132[]"][1][2]
    assert "Zoë's budget: EUR 200" in rows_of(page)["NEW_ITEM-LONGTEXT_1:132[]"][1]
    # Arrived as windows-1252, which is how a browser posts iso-8859-1: what the file expects.
    assert "windows-1252" in text_of(page, "arrived")
    label = text_of(page, "browser-label")
    assert "iso-8859-1" in label
    assert "windows-1252" in label
    assert 'class="problem' not in page


def test_a_basket_in_the_charset_its_callup_named_is_what_the_erp_expects(
    dev_client: FlaskClient, latin_1_customer: str
) -> None:
    named = (("HTTP_CONTENT_CHARSET", "utf-8"),)
    _params, basket = booked_basket(dev_client, latin_1_customer, "Zoë: € 200", named)
    assert basket.attrs["accept-charset"] == "utf-8"

    hook = dev_client.post(basket.action, data=MultiDict(basket.inputs))

    page = hook.get_data(as_text=True)
    assert "Zoë: € 200" in rows_of(page)["NEW_ITEM-LONGTEXT_1:132[]"][1]
    assert 'class="muted replaced"' not in page
    assert 'class="problem' not in page
    # The page names both: the file's charset, and the one the call-up named instead.
    said = text_of(page, "charset")
    assert "iso-8859-1" in said
    assert "utf-8" in said.replace(text_of(page, "arrived"), "")


def test_hook_page_flags_a_basket_in_another_charset_than_the_erp_expects(
    dev_client: FlaskClient, latin_1_customer: str
) -> None:
    pairs = with_changes({"NEW_ITEM-DESCRIPTION[1]": "Zoë's VW Polo"})

    hook = dev_client.post(
        f"/dev/erp/hook?session=1&customer={latin_1_customer}",
        data=as_a_browser_posts_in("utf-8", pairs),
        content_type="application/x-www-form-urlencoded",
    )

    verdict = Html(hook.get_data(as_text=True)).root.get_element_by_id("verdict")
    assert has_class(verdict, "problem")
    [message] = [element_text(item) for item in verdict.iter("li")]
    assert "utf-8" in message
    assert "iso-8859-1" in message


def test_hook_page_takes_plain_ascii_for_any_charset(
    dev_app: Flask, dev_client: FlaskClient, latin_1_customer: str
) -> None:
    hook = dev_client.post(
        f"/dev/erp/hook?session=1&customer={latin_1_customer}",
        data=as_a_browser_posts_in("utf-8", VALID_LINE),
        content_type="application/x-www-form-urlencoded",
    )

    page = hook.get_data(as_text=True)
    assert text_of(page, "verdict") == accepted(dev_app)
    assert "utf-8" not in text_of(page, "arrived"), "ASCII says nothing about the charset"


# --- What a change needs -------------------------------------------------------------------------


def test_a_customer_whose_password_variable_is_not_set_is_listed_with_the_restart_it_needs(
    dev_app: Flask, dev_client: FlaskClient, customers_dir: Path
) -> None:
    demo = (customers_dir / "demo.yaml").read_text(encoding="utf-8")
    unset = demo.replace("password_env: OCIFLEX_DEMO_PASSWORD", "password_env: OCIFLEX_NEW_SECRET")
    (customers_dir / "new.yaml").write_text(unset, encoding="utf-8")
    (customers_dir / "broken.yaml").write_text("name: Broken\n", encoding="utf-8")
    customers_of(dev_app).load()

    page = dev_client.get("/dev/erp").get_data(as_text=True)

    listed = list(Html(page).root.iter("li"))
    restarts = [
        (element_text(item).split(":")[0], span.get("data-variable"), element_text(span))
        for item in listed
        for span in item.iter("span")
        if has_class(span, "restart")
    ]
    assert restarts == [(str(customers_dir / "new.yaml"), "OCIFLEX_NEW_SECRET", ANY)]
    assert "OCIFLEX_NEW_SECRET" in restarts[0][2]
    # A file with other mistakes is listed without it.
    assert any(element_text(item).startswith(str(customers_dir / "broken.yaml")) for item in listed)


def test_simulator_is_not_served_in_production(environ: dict[str, str]) -> None:
    production = create_app({**environ, "OCIFLEX_ENV": "production"})
    assert production.test_client().get("/dev/erp").status_code == 404
    assert production.test_client().get("/ops/dev/erp").status_code == 404


def test_simulator_is_off_when_dev_tools_are_off(environ: dict[str, str]) -> None:
    testing = create_app({**environ, "OCIFLEX_DEV_TOOLS": "0"})
    assert testing.test_client().get("/dev/erp").status_code == 404
    assert testing.test_client().post("/dev/erp/hook", data={"a": "b"}).status_code == 404


# --- The hook page's verdicts --------------------------------------------------------------------

VALID_LINE = [
    ("NEW_ITEM-DESCRIPTION[1]", "VW Polo 03-03-2099-05-03-2099"),
    ("NEW_ITEM-QUANTITY[1]", "3"),
    ("NEW_ITEM-UNIT[1]", "DAY"),
    ("NEW_ITEM-PRICE[1]", "39.50"),
    ("NEW_ITEM-PRICEUNIT[1]", "1"),
    ("NEW_ITEM-CURRENCY[1]", "EUR"),
    # As a browser posts it: the lines separated by CR LF.
    ("NEW_ITEM-LONGTEXT_1:132[]", "Requester: Jan Jansen\r\nReference: FF-000001"),
    ("~OkCode", "ADDI"),
]


def post_basket(client: FlaskClient, pairs: list[tuple[str, str]]) -> str:
    response = client.post("/dev/erp/hook?session=1", data=MultiDict(pairs))
    assert response.status_code == 200
    return response.get_data(as_text=True)


def with_changes(
    replace: dict[str, str | None], add: tuple[tuple[str, str], ...] = ()
) -> list[tuple[str, str]]:
    """:data:`VALID_LINE` with values replaced (None: left out) and pairs added."""
    pairs = [(name, replace.get(name, value)) for name, value in VALID_LINE]
    return [(name, value) for name, value in pairs if value is not None] + list(add)


def test_hook_page_accepts_a_valid_basket(dev_app: Flask, dev_client: FlaskClient) -> None:
    page = post_basket(dev_client, VALID_LINE)

    rows = rows_of(page)
    assert rows["NEW_ITEM-PRICE[1]"] == (1, "39.50", "OK")
    assert {verdict for _line, _value, verdict in rows.values()} == {"OK"}
    assert text_of(page, "verdict") == accepted(dev_app)
    assert 'class="problem' not in page


def test_hook_page_checks_a_field_at_the_length_agreed_with_the_customer(
    environ: dict[str, str], customers_dir: Path
) -> None:
    # The customer's SAP was agreed to take 11 characters in CUST_FIELD2 (a WBS element).
    acme = (customers_dir / "acme.yaml").read_text(encoding="utf-8")
    (customers_dir / "wider.yaml").write_text(f"{acme}max_lengths:\n  cust_field2: 11\n")
    app = create_app({**environ, "OCIFLEX_DEV_TOOLS": "1"})
    client = app.test_client(use_cookies=False)
    line = MultiDict([*VALID_LINE, ("NEW_ITEM-CUST_FIELD2[1]", "D-2026-0042")])

    agreed = client.post("/dev/erp/hook?customer=wider", data=line).get_data(as_text=True)
    anyone = client.post("/dev/erp/hook", data=line).get_data(as_text=True)
    app.extensions["ociflex.engine"].dispose()

    assert rows_of(agreed)["NEW_ITEM-CUST_FIELD2[1]"][2] == "OK"
    assert text_of(agreed, "verdict") == accepted(app)
    assert "CUST_FIELD2 11" in text_of(agreed, "checked-as")
    assert 'href="/dev/erp?customer=wider"' in agreed  # back to this customer's call-up
    # Without a customer, SAP's default length still holds.
    assert rows_of(anyone)["NEW_ITEM-CUST_FIELD2[1]"][2] != "OK"


def test_hook_page_accepts_long_text_lines_as_every_browser_posts_them(
    dev_app: Flask, dev_client: FlaskClient
) -> None:
    text = "Requester: Jan Jansen\r\nRemarks: Tow bar.\r\n\r\nAfter 9:00.\r\nReference: FF-000001"

    page = post_basket(dev_client, with_changes({"NEW_ITEM-LONGTEXT_1:132[]": text}))

    assert rows_of(page)["NEW_ITEM-LONGTEXT_1:132[]"][2] == "OK"
    assert text_of(page, "verdict") == accepted(dev_app)


#: The control character found in a value, as :func:`verdict` shows it.
CONTROL_CHARACTER = "%(name)s contains the control character %(code_point)s"
#: The same in long text, where CR LF is a line break.
LONGTEXT_CONTROL_CHARACTER = (
    "%(name)s contains the control character %(code_point)s; a line break in long text is CR "
    "LF, as a browser posts it"
)


def verdict(app: Flask, text: str, **params: object) -> str:
    """The hook page's verdict ``text`` (the English msgid) with ``params``, in the page's
    language."""
    with app.test_request_context():
        return gettext(text, **params)


@pytest.mark.parametrize(
    ("pairs", "name", "line", "expected"),
    [
        pytest.param(
            with_changes({"NEW_ITEM-DESCRIPTION[1]": "D" * 41}),
            "NEW_ITEM-DESCRIPTION[1]",
            1,
            (
                "%(name)s is %(length)s characters long; the limit is %(maximum)s",
                {"length": 41, "maximum": 40},
            ),
            id="description-41-characters",
        ),
        pytest.param(
            with_changes({"NEW_ITEM-PRICE[1]": "39,50"}),
            "NEW_ITEM-PRICE[1]",
            1,
            (
                "%(name)s is %(value)s; it must be a number with a decimal point, no thousands "
                "separator and at most 11 + 4 digits",
                {"value": "'39,50'"},
            ),
            id="price-with-a-comma",
        ),
        pytest.param(
            with_changes({"NEW_ITEM-LONGTEXT_1:132[]": None}, (("NEW_ITEM-LONGTEXT[1]", "x"),)),
            "NEW_ITEM-LONGTEXT[1]",
            1,
            (
                "%(name)s is not an OCI basket field name; long text is posted as "
                "NEW_ITEM-LONGTEXT_%(index)s:132[] (the line index in the name, empty brackets)",
                {"index": 1},
            ),
            id="longtext-with-the-index-in-brackets",
        ),
        pytest.param(
            with_changes({"NEW_ITEM-LONGTEXT_1:132[]": "Requester: Jan Jansen\rFF-000001"}),
            "NEW_ITEM-LONGTEXT_1:132[]",
            1,
            (LONGTEXT_CONTROL_CHARACTER, {"code_point": "U+000D"}),
            id="longtext-with-a-lone-cr",
        ),
        pytest.param(
            with_changes({"NEW_ITEM-LONGTEXT_1:132[]": "Requester: Jan Jansen\nFF-000001"}),
            "NEW_ITEM-LONGTEXT_1:132[]",
            1,
            (LONGTEXT_CONTROL_CHARACTER, {"code_point": "U+000A"}),
            id="longtext-with-a-lone-lf",
        ),
        pytest.param(
            with_changes({"NEW_ITEM-LONGTEXT_1:132[]": "Requester: Jan Jansen\r\n\x0bFF-000001"}),
            "NEW_ITEM-LONGTEXT_1:132[]",
            1,
            (CONTROL_CHARACTER, {"code_point": "U+000B"}),
            id="longtext-with-a-vertical-tab",
        ),
        pytest.param(
            with_changes({"NEW_ITEM-DESCRIPTION[1]": "VW Polo\r\n03-03-2099"}),
            "NEW_ITEM-DESCRIPTION[1]",
            1,
            (CONTROL_CHARACTER, {"code_point": "U+000D"}),
            id="description-with-a-line-break",
        ),
        pytest.param(
            with_changes({}, (("NEW_ITEM-DESCRIPTION[0]", "Line zero"),)),
            "NEW_ITEM-DESCRIPTION[0]",
            0,
            ("%(name)s: OCI numbers lines from 1, without leading zeros", {}),
            id="index-0",
        ),
        pytest.param(
            with_changes({"NEW_ITEM-UNIT[1]": "XYZ"}),
            "NEW_ITEM-UNIT[1]",
            1,
            (
                "%(name)s is %(value)s, not an ISO unit code (UN/ECE Recommendation 20) that "
                "SAP can map",
                {"value": "'XYZ'"},
            ),
            id="unknown-unit",
        ),
        pytest.param(
            with_changes({"NEW_ITEM-CURRENCY[1]": None}),
            "NEW_ITEM-CURRENCY[1]",
            1,
            ("%(name)s is missing; OCI requires it with %(field)s", {"field": "PRICE"}),
            id="price-without-currency",
        ),
    ],
)
def test_hook_page_shows_each_problem_next_to_its_field(
    dev_app: Flask,
    dev_client: FlaskClient,
    pairs: list[tuple[str, str]],
    name: str,
    line: int,
    expected: tuple[str, dict[str, object]],
) -> None:
    text, params = expected

    page = post_basket(dev_client, pairs)

    rows = rows_of(page)
    row_line, value, said = rows[name]
    assert row_line == line
    assert said == verdict(dev_app, text, name=name, **params)
    assert value == dict(pairs).get(name)  # None: shown as not posted
    # The other fields of the line keep their OK, and the page says a problem was found.
    assert rows["NEW_ITEM-QUANTITY[1]"] == (1, "3", "OK")
    assert [n for n, (_l, _v, said) in rows.items() if said != "OK"] == [name]
    assert 'class="problem" role="alert" id="verdict"' in page


def test_hook_page_gives_each_verdict_in_the_pages_language(dev_client: FlaskClient) -> None:
    dutch = Translations.load(str(TRANSLATIONS), ["nl"])
    english = "%(name)s is %(length)s characters long; the limit is %(maximum)s"
    translated = dutch.gettext(english)
    assert translated != english, "the Dutch catalogue translates the basket's verdicts"

    page = post_basket(dev_client, with_changes({"NEW_ITEM-DESCRIPTION[1]": "D" * 41}))

    verdict = rows_of(page)["NEW_ITEM-DESCRIPTION[1]"][2]
    assert verdict == translated % {"name": "NEW_ITEM-DESCRIPTION[1]", "length": 41, "maximum": 40}


def test_hook_page_lists_basket_wide_problems(dev_app: Flask, dev_client: FlaskClient) -> None:
    second = [("NEW_ITEM-DESCRIPTION[3]", "x"), ("NEW_ITEM-QUANTITY[3]", "1")]
    page = post_basket(dev_client, [*VALID_LINE, *second, ("NEW_ITEM-UNIT[3]", "DAY")])

    gap = "Line indexes must run from 1 without gaps; found %(found)s"
    assert verdict(dev_app, gap, found="1, 3") in text_of(page, "verdict")


def test_hook_page_without_a_basket_says_nothing_was_received(dev_client: FlaskClient) -> None:
    response = dev_client.get("/dev/erp/hook?session=1")

    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "HOOK_URL" in page
    assert 'id="verdict"' not in page
    assert rows_of(page) == {}


# --- The purchase order by cXML ------------------------------------------------------------------

#: The cxml section of an OCI customer whose ERP sends only its purchase orders by cXML.
ORDERS_BY_CXML = """
cxml:
  credentials:
    - {domain: NetworkID, identity: AN01000054321}
  shared_secret_env: OCIFLEX_ACME_PASSWORD
"""


def send_order(client: FlaskClient, hook_page: str) -> str:
    """Send the order that the hook page offers, as it is."""
    order = form_of(hook_page, "order")
    response = client.post(order.action, data=MultiDict([*order.inputs, ("action", "send")]))
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_data(as_text=True)


def test_an_oci_basket_is_ordered_by_cxml_with_its_ext_quote_id(
    dev_app: Flask, dev_client: FlaskClient
) -> None:
    params, basket = booked_basket(dev_client)
    assert "&customer=demo" in params["HOOK_URL"]
    hook_page = dev_client.post(basket.action, data=MultiDict(basket.inputs)).get_data(as_text=True)

    order = dict(form_of(hook_page, "order").inputs)
    assert (order["reference"], order["part_id"], order["quantity"]) == (
        "FF-000001",
        "COMPACT",
        "3",
    )
    answered = send_order(dev_client, hook_page)

    assert "200 OK" in text_of(answered, "answer-status")
    assert "<SupplierPartAuxiliaryID>FF-000001</SupplierPartAuxiliaryID>" in text_of(
        answered, "document"
    )
    with session_for(dev_app) as session:
        assert session.get(RentalRequest, 1).erp_po_number == order["order_id"]


def test_an_oci_customer_that_sends_only_orders_by_cxml_is_offered_the_order(
    environ: dict[str, str], customers_dir: Path
) -> None:
    acme = customers_dir / "acme.yaml"
    acme.write_text(acme.read_text(encoding="utf-8") + ORDERS_BY_CXML, encoding="utf-8")
    app = create_app({**environ, "OCIFLEX_DEV_TOOLS": "1"})
    try:
        client = app.test_client(use_cookies=False)
        pairs = [*VALID_LINE, ("NEW_ITEM-EXT_QUOTE_ID[1]", "FF-000042")]
        hook = client.post("/dev/erp/hook?session=1&customer=acme", data=MultiDict(pairs))
        hook_page = hook.get_data(as_text=True)

        assert dict(form_of(hook_page, "order").inputs)["reference"] == "FF-000042"
        answered = send_order(client, hook_page)

        # Stored, though no request FF-000042 exists: operations link it by hand.
        assert "200 OK" in text_of(answered, "answer-status")
        with session_for(app) as session:
            [order] = session.scalars(select(PurchaseOrder)).all()
        assert (order.customer_id, order.handling) == ("acme", "unmatched")
    finally:
        app.extensions["ociflex.engine"].dispose()


def test_a_basket_of_a_customer_without_cxml_offers_no_order(dev_client: FlaskClient) -> None:
    response = dev_client.post("/dev/erp/hook?session=1&customer=acme", data=MultiDict(VALID_LINE))

    assert response.status_code == 200
    assert 'id="order"' not in response.get_data(as_text=True)


# --- The simulator page --------------------------------------------------------------------------


def callup_of(page: str) -> dict[str, str]:
    return dict(form_of(page, "callup").inputs)


@pytest.mark.parametrize(
    ("preset", "expected"),
    [
        ("validate", {"FUNCTION": "VALIDATE", "PRODUCTID": "COMPACT", "QUANTITY": "1"}),
        ("background_search", {"FUNCTION": "BACKGROUND_SEARCH", "SEARCHSTRING": "COMPACT"}),
        ("detail", {"FUNCTION": "DETAIL", "PRODUCTID": "COMPACT"}),
    ],
)
def test_function_presets_prefill_the_callup(
    dev_client: FlaskClient, preset: str, expected: dict[str, str]
) -> None:
    page = dev_client.get(f"/dev/erp?customer=demo&preset={preset}").get_data(as_text=True)

    params = callup_of(page)
    assert {name: params[name] for name in expected} == expected
    assert params["USERNAME"] == "demo-erp"
    # The edit form lists them too, to be changed before the launch.
    edit = MultiDict(form_of(page, "edit").inputs)
    rows = dict(zip(edit.getlist("name"), edit.getlist("value"), strict=True))
    assert {name: rows[name] for name in expected} == expected


def test_a_preset_replaces_the_previous_function_and_keeps_edits(dev_client: FlaskClient) -> None:
    page = dev_client.get("/dev/erp?customer=demo&preset=validate").get_data(as_text=True)
    form = MultiDict(form_of(page, "edit").inputs)
    names = form.getlist("name")
    values = form.getlist("value")
    values[names.index("KOSTENPLAATS")] = "9999"
    form.setlist("value", values)
    form["preset"] = "detail"

    params = callup_of(dev_client.post("/dev/erp", data=form).get_data(as_text=True))

    assert params["FUNCTION"] == "DETAIL"
    assert params["PRODUCTID"] == "COMPACT"
    assert "QUANTITY" not in params
    assert params["KOSTENPLAATS"] == "9999"

    form["preset"] = "none"
    params = callup_of(dev_client.post("/dev/erp", data=form).get_data(as_text=True))
    assert "FUNCTION" not in params
    assert "PRODUCTID" not in params


def test_rows_are_added_removed_and_renamed_without_javascript(dev_client: FlaskClient) -> None:
    page = dev_client.get("/dev/erp?customer=demo").get_data(as_text=True)
    form = MultiDict(form_of(page, "edit").inputs)
    names, values = form.getlist("name"), form.getlist("value")
    assert names[-3:] == ["", "", ""], "three empty rows to add parameters"
    names[names.index("INKOOPNUMMER")] = "PO_NUMBER"
    names[-3], values[-3] = "EXTRA", "yes"
    form.setlist("name", names)
    form.setlist("value", values)
    form.setlist("remove", [str(names.index("OCI_VERSION"))])

    params = callup_of(dev_client.post("/dev/erp", data=form).get_data(as_text=True))

    assert params["PO_NUMBER"] == "4500012345"
    assert params["EXTRA"] == "yes"
    assert "INKOOPNUMMER" not in params
    assert "OCI_VERSION" not in params
    assert params["PASSWORD"] == DEMO_PASSWORD


def test_pasted_lines_replace_the_table(dev_client: FlaskClient) -> None:
    form = {"customer": "demo", "name": "USERNAME", "value": "ignored"}
    pasted = "USERNAME=demo-erp\nPASSWORD=x=y\n\n  ~OkCode=ADDI  \nno-equals-sign\n"

    params = form_of(
        dev_client.post("/dev/erp", data={**form, "pairs": pasted}).get_data(as_text=True),
        "callup",
    ).inputs

    assert params == [
        ("USERNAME", "demo-erp"),
        ("PASSWORD", "x=y"),
        ("~OkCode", "ADDI"),
        ("no-equals-sign", ""),
    ]


def test_launch_options_set_the_callup_form(dev_client: FlaskClient) -> None:
    page = dev_client.get(
        "/dev/erp?customer=demo&method=get&window=new", base_url=DEV_SERVER
    ).get_data(as_text=True)

    assert '<form method="get" action="http://127.0.0.1:5000/oci/demo" target="_blank"' in page
    assert '<iframe class="catalogue"' not in page

    framed = dev_client.get("/dev/erp?customer=demo", base_url=DEV_SERVER).get_data(as_text=True)
    assert 'method="post" action="http://127.0.0.1:5000/oci/demo" target="catalogue"' in framed
    assert '<iframe class="catalogue" name="catalogue"' in framed


@pytest.mark.parametrize(
    ("simulator", "catalogue"),
    [
        ("http://127.0.0.1:5000", "http://localhost:5000"),
        ("http://localhost:8000", "http://127.0.0.1:8000"),
    ],
)
def test_catalogue_from_another_origin_uses_the_other_loopback_name(
    dev_client: FlaskClient, simulator: str, catalogue: str
) -> None:
    page = dev_client.get("/dev/erp?customer=demo&origin=other", base_url=simulator).get_data(
        as_text=True
    )

    callup = form_of(page, "callup")
    assert callup.action == f"{catalogue}/oci/demo"
    # The basket still comes back to the simulator's own origin: cross-site, as from an ERP.
    assert dict(callup.inputs)["HOOK_URL"].startswith(f"{simulator}/dev/erp/hook?session=")
    assert f'href="{catalogue}/dev/erp?customer=demo"' in page


def test_the_frame_may_load_the_catalogue_from_the_other_origin(dev_client: FlaskClient) -> None:
    response = dev_client.get(
        "/dev/erp?customer=demo&origin=other&window=frame", base_url="http://127.0.0.1:5000"
    )

    policy = response.headers["Content-Security-Policy"]
    assert "frame-src 'self' http://localhost:5000" in policy
    assert "form-action 'self' http://localhost:5000" in policy


def test_other_origin_is_only_offered_on_a_loopback_name(dev_client: FlaskClient) -> None:
    page = dev_client.get(
        "/dev/erp?customer=demo&origin=other", base_url="https://ociflex.example"
    ).get_data(as_text=True)

    assert form_of(page, "callup").action == "https://ociflex.example/oci/demo"
    assert 'name="origin"' not in page


def test_saved_link_and_curl_mask_the_password(dev_client: FlaskClient) -> None:
    page = dev_client.get("/dev/erp?customer=demo", base_url=DEV_SERVER).get_data(as_text=True)

    link, curl = text_of(page, "get-link"), text_of(page, "curl")
    assert link.startswith("http://127.0.0.1:5000/oci/demo?USERNAME=demo-erp&PASSWORD=********&")
    assert "HOOK_URL=http%3A%2F%2F127.0.0.1%3A5000%2Fdev%2Ferp%2Fhook%3Fsession%3D" in link
    assert DEMO_PASSWORD not in link
    assert DEMO_PASSWORD not in curl
    words = shlex.split(curl.replace("\\\n", " "))
    assert words[:4] == ["curl", "-X", "POST", "http://127.0.0.1:5000/oci/demo"]
    data = words[5::2]
    assert words[4::2] == ["--data-urlencode"] * len(data)
    assert data[:2] == ["USERNAME=demo-erp", "PASSWORD=********"]
    assert "~OkCode=ADDI" in data
    assert "oci_userfullname=Jan Jansen" in data
    assert text_of(page, "get-warning"), "a GET link comes with a warning"


def test_saved_link_and_curl_show_the_password_when_asked(dev_client: FlaskClient) -> None:
    page = dev_client.get(
        "/dev/erp?customer=demo&show_password=1&method=get", base_url=DEV_SERVER
    ).get_data(as_text=True)

    link, curl = text_of(page, "get-link"), text_of(page, "curl")
    assert f"&PASSWORD={DEMO_PASSWORD}&" in link
    words = shlex.split(curl.replace("\\\n", " "))
    assert words[:3] == ["curl", "-G", "http://127.0.0.1:5000/oci/demo"]
    assert f"PASSWORD={DEMO_PASSWORD}" in words


def test_curl_command_quotes_awkward_names_and_values(dev_client: FlaskClient) -> None:
    pasted = "PRODUCTID[1]=A&B\nx y=it's $HOME\n"
    page = dev_client.post(
        "/dev/erp", data={"customer": "demo", "pairs": pasted}, base_url=DEV_SERVER
    ).get_data(as_text=True)

    words = shlex.split(text_of(page, "curl").replace("\\\n", " "))
    assert words[5::2] == ["PRODUCTID%5B1%5D=A&B", "x+y=it's $HOME"]


# --- In production: behind the operator login ----------------------------------------------------


class TestInProduction:
    """With ``OCIFLEX_DEV_TOOLS=1`` in production, the simulator needs an operator's login."""

    @pytest.fixture
    def app(self, environ: dict[str, str]) -> Iterator[Flask]:
        app = create_app({**environ, "OCIFLEX_ENV": "production", "OCIFLEX_DEV_TOOLS": "1"})
        yield app
        app.extensions["ociflex.engine"].dispose()

    def test_anonymous_visitor_is_sent_to_the_login(self, app: Flask) -> None:
        client = app.test_client()

        response = client.get("/dev/erp?customer=demo", follow_redirects=True)

        assert response.request.path == "/ops/login"
        assert response.request.args["next"] == "/ops/dev/erp?customer=demo"
        assert client.get("/ops/dev/erp").status_code == 302
        assert client.post("/ops/dev/erp/hook", data=dict(VALID_LINE)).status_code == 401

    def test_operator_uses_the_simulator(self, ops_client: FlaskClient) -> None:
        response = ops_client.get("/dev/erp?customer=demo", follow_redirects=True)

        assert response.status_code == 200
        assert response.request.path == "/ops/dev/erp"
        params = callup_of(response.get_data(as_text=True))
        assert params["HOOK_URL"].startswith("http://localhost/ops/dev/erp/hook?session=")
        hook = ops_client.post("/ops/dev/erp/hook?session=1", data=MultiDict(VALID_LINE))
        assert hook.status_code == 200
        assert rows_of(hook.get_data(as_text=True))["NEW_ITEM-UNIT[1]"] == (1, "DAY", "OK")

    def test_old_addresses_keep_a_post_a_post(self, ops_client: FlaskClient) -> None:
        response = ops_client.post("/dev/erp/hook?session=1", data=MultiDict(VALID_LINE))

        assert response.status_code == 308
        assert response.headers["Location"] == "/ops/dev/erp/hook?session=1"
