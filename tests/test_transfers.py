"""The transfer log: every call-up, FUNCTION call, refused booking and basket sent is recorded
(never the company password), browsable by operators at /ops/transfers, and pruned after the
retention period. Every test runs on SQLite and on PostgreSQL.

Entries come from real punch-outs through the test client where what was recorded matters, and
are seeded straight into the database for the pages' lists, pages and hostile values.
"""

import logging
import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient
from flask_babel import gettext
from sqlalchemy import select, text
from sqlalchemy.exc import SQLAlchemyError

from ociflex import create_app
from ociflex.db import begin_write, session_for
from ociflex.models import Transfer
from ociflex.settings import SettingsError, from_environment
from ociflex.transfers import (
    MAX_NAME_LENGTH,
    MAX_PARAMETERS,
    MAX_TOTAL_LENGTH,
    MAX_VALUE_LENGTH,
    is_password,
    prune,
    recorded_parameters,
)
from tests.conftest import ACME_HOOK_URL, ACME_PASSWORD, PRODUCTION_SECRET_KEY, SigningClock
from tests.support.html import Html
from tests.support.inbox import HOSTILE, HOSTILE_ESCAPED, RAW_TAG, args_of
from tests.support.plans import captured_queries, explain
from tests.support.punchout import (
    Page,
    acme_booking,
    basket_of,
    book,
    call_up,
    stored,
)
from tests.support.transfers import entry_values

WRONG_PASSWORD = "wrong-Secret-4711"

# --- Helpers ------------------------------------------------------------------------------------


def entries(app: Flask) -> list[Transfer]:
    with session_for(app) as session:
        return list(session.scalars(select(Transfer).order_by(Transfer.id)))


def only_entry(app: Flask) -> Transfer:
    [entry] = entries(app)
    return entry


def raw_rows(app: Flask) -> str:
    """Every column of every entry as the database holds it, as one text."""
    with app.extensions["ociflex.engine"].connect() as connection:
        return repr([tuple(row) for row in connection.execute(text("SELECT * FROM transfers"))])


def assert_nowhere(app: Flask, secret: str) -> None:
    """``secret`` is in no column of any entry, read through the model and raw."""
    for entry in entries(app):
        for column in Transfer.__table__.columns:
            assert secret not in repr(getattr(entry, column.key)), column.key
    assert secret not in raw_rows(app)


def seed(app: Flask, *rows: dict[str, Any]) -> list[int]:
    """Store one entry per mapping of :func:`transfer_values` arguments (plus ``at``), in order."""
    with session_for(app) as session:
        begin_write(session)
        stored_rows = []
        for values in rows:
            values = dict(values)
            at = values.pop("at", None)
            entry = Transfer(**entry_values(**values))
            if at is not None:
                entry.at = at
            stored_rows.append(entry)
        session.add_all(stored_rows)
        session.commit()
        return [row.id for row in stored_rows]


def transfer_page(client: FlaskClient, query: dict[str, str] | None = None) -> Html:
    response = client.get("/ops/transfers", query_string=query or {})
    assert response.status_code == 200, response.get_data(as_text=True)
    return Html(response)


def detail_page(client: FlaskClient, transfer_id: int) -> Html:
    response = client.get(f"/ops/transfers/{transfer_id}")
    assert response.status_code == 200, response.get_data(as_text=True)
    return Html(response)


def row_ids_in(page: Html, table: str) -> list[int]:
    """The ``data-id`` of each row of a table, in order."""
    start = page.source.index(f'id="{table}"')
    end = page.source.index("</table>", start)
    return [int(n) for n in re.findall(r'<tr data-id="(\d+)"', page.source[start:end])]


def pairs(page: Html, table: str) -> list[tuple[str, str]]:
    """(name, value) of a raw table, the value as a browser reads its <pre>."""
    return [(row[1], row[2].removeprefix("\n")) for row in page.tables.get(table, [])]


# --- Call-ups -----------------------------------------------------------------------------------


def test_the_transfer_log_records_a_rejected_call_up_without_the_password(
    app: Flask, client: FlaskClient, ops_client: FlaskClient, acme_callup: dict[str, str]
) -> None:
    callup = {**acme_callup, "pwd": WRONG_PASSWORD}
    response = client.post("/oci/acme", data=callup)
    assert response.status_code == 403
    assert "The company login in the call-up is not correct." in response.get_data(as_text=True)

    entry = only_entry(app)
    assert (entry.kind, entry.outcome, entry.status) == ("callup", "rejected", 403)
    assert entry.customer_id == "acme"
    assert entry.reason == "The company login in the call-up is not correct."
    assert entry.method == "POST"
    assert entry.punchout_id is None
    assert entry.request_id is None
    assert entry.return_origin == "https://erp.acme.example"
    assert entry.client_address == "127.0.0.1"
    assert entry.parameters == [[k, v] for k, v in acme_callup.items() if k != "pwd"]
    assert entry.parameter_count == len(acme_callup)
    assert entry.cart is None
    assert_nowhere(app, WRONG_PASSWORD)

    listed = ops_client.get("/ops/transfers").get_data(as_text=True)
    shown = ops_client.get(f"/ops/transfers/{entry.id}").get_data(as_text=True)
    for html in (listed, shown):
        assert "The company login in the call-up is not correct." in html
        assert WRONG_PASSWORD not in html
    page = Html(shown)
    assert page.text("status") == "403"
    assert "pwd" not in [name for name, _ in pairs(page, "parameters")]
    assert ("HOOK_URL", ACME_HOOK_URL) in pairs(page, "parameters")


def test_the_real_password_with_a_wrong_user_name_is_not_recorded(
    app: Flask, client: FlaskClient, ops_client: FlaskClient, acme_callup: dict[str, str]
) -> None:
    """Also a password under any spelling of PASSWORD, next to the customer's own name."""
    callup = {**acme_callup, "loginname": "someone-else", "Password": ACME_PASSWORD}
    response = client.get("/oci/acme", query_string=callup)
    assert response.status_code == 403
    entry = only_entry(app)
    assert (entry.outcome, entry.status, entry.method) == ("rejected", 403, "GET")
    assert [name for name, _ in entry.parameters] == [
        name for name in callup if name not in ("pwd", "Password")
    ]
    assert_nowhere(app, ACME_PASSWORD)
    for path in ("/ops/transfers", f"/ops/transfers/{entry.id}"):
        assert ACME_PASSWORD not in ops_client.get(path).get_data(as_text=True)


@pytest.mark.parametrize(
    ("change", "status", "reason"),
    [
        ({"pwd": None}, 401, "The call-up carries no company login (loginname / pwd)."),
        (
            {"HOOK_URL": "https://evil.example/steal?x=1"},
            400,
            "HOOK_URL https://evil.example/steal is not in the list allowed for this customer",
        ),
        ({"user_email": "not an address"}, 400, "The e-mail address in user_email is not valid."),
    ],
)
def test_each_rejected_call_up_is_recorded_with_its_reason_and_status(
    app: Flask,
    client: FlaskClient,
    acme_callup: dict[str, str],
    change: dict[str, str | None],
    status: int,
    reason: str,
) -> None:
    callup = {k: v for k, v in {**acme_callup, **change}.items() if v is not None}
    assert client.post("/oci/acme", data=callup).status_code == status
    entry = only_entry(app)
    assert (entry.kind, entry.outcome, entry.status, entry.reason) == (
        "callup",
        "rejected",
        status,
        reason,
    )
    assert_nowhere(app, ACME_PASSWORD)


def test_a_call_up_for_an_unknown_customer_is_recorded(app: Flask, client: FlaskClient) -> None:
    sent = {
        "USERNAME": "erp",
        "PASSWORD": "top-secret-1",
        "pass_word": "top-secret-2",
        "UserPwd": "top-secret-3",
        "~passcode": "top-secret-4",
        "HOOK_URL": "https://erp.unknown.example/hook?sid=1",
        "oci_usermail": "a@b.example",
    }
    response = client.post("/oci/nobody-here", data=sent)
    assert response.status_code == 404
    entry = only_entry(app)
    assert (entry.kind, entry.outcome, entry.status) == ("callup", "rejected", 404)
    assert entry.customer_id == "nobody-here"
    assert entry.reason.startswith("unknown customer")
    assert entry.parameters == [
        ["USERNAME", "erp"],
        ["HOOK_URL", "https://erp.unknown.example/hook?sid=1"],
        ["oci_usermail", "a@b.example"],
    ]
    assert entry.parameter_count == len(sent)
    assert entry.return_origin == "https://erp.unknown.example"
    for n in range(1, 5):
        assert_nowhere(app, f"top-secret-{n}")


def test_an_unknown_customer_id_is_recorded_cut_and_storable(
    app: Flask, client: FlaskClient
) -> None:
    long_id = "x" * 100 + "%00y"
    assert client.get(f"/oci/{long_id}").status_code == 404
    assert client.post("/oci/bad%00id/book", data={"punchout": "t"}).status_code == 404
    first, second = entries(app)
    assert first.customer_id == "x" * 63 + "…"
    assert (second.kind, second.customer_id, second.status) == ("booking", "bad\ufffdid", 404)
    assert second.parameters == []  # the token is never recorded


def test_an_accepted_call_up_and_its_basket_are_linked_by_the_punch_out(
    app: Flask, client: FlaskClient, ops_client: FlaskClient, acme_callup: dict[str, str]
) -> None:
    token = call_up(client, "acme", acme_callup).token
    basket = basket_of(book(client, "acme", token, **acme_booking()))
    [rental] = stored(app)
    callup_entry, basket_entry = entries(app)

    assert (callup_entry.kind, callup_entry.outcome, callup_entry.status) == (
        "callup",
        "accepted",
        200,
    )
    assert callup_entry.reason == ""
    assert callup_entry.parameters == [[k, v] for k, v in acme_callup.items() if k != "pwd"]
    assert callup_entry.parameters == rental.inbound["parameters"]
    assert callup_entry.return_origin == "https://erp.acme.example"
    assert callup_entry.punchout_id == rental.punchout_id
    assert callup_entry.request_id is None

    assert (basket_entry.kind, basket_entry.outcome, basket_entry.status) == ("basket", "sent", 200)
    assert basket_entry.punchout_id == rental.punchout_id
    assert basket_entry.request_id == rental.id
    assert basket_entry.cart == rental.cart
    assert basket_entry.cart["fields"] == [list(pair) for pair in basket.hidden]
    assert basket_entry.return_origin == "https://erp.acme.example"
    assert basket_entry.parameters == []
    assert_nowhere(app, ACME_PASSWORD)

    # The basket's page: the basket as posted, its request, and the call-up beside it.
    page = detail_page(ops_client, basket_entry.id)
    assert pairs(page, "basket") == basket.hidden
    assert page.href("request-link") == f"/ops/requests/{rental.id}"
    assert page.text("request-link") == rental.reference
    assert row_ids_in(page, "story") == [callup_entry.id, basket_entry.id]
    assert "parameters" not in page.tables
    callup_page = detail_page(ops_client, callup_entry.id)
    assert pairs(callup_page, "parameters") == [
        (k, v) for k, v in acme_callup.items() if k != "pwd"
    ]
    assert f"/ops/transfers/{basket_entry.id}" in [a["href"] for a, _ in callup_page.links]
    assert "basket" not in callup_page.tables
    request_page = Html(ops_client.get(f"/ops/requests/{rental.id}"))
    assert request_page.href("transfer-link") == f"/ops/transfers/{callup_entry.id}"


def test_a_double_submit_is_recorded_as_the_basket_sent_again(
    app: Flask, client: FlaskClient, acme_callup: dict[str, str]
) -> None:
    token = call_up(client, "acme", acme_callup).token
    first = book(client, "acme", token, **acme_booking())
    second = book(client, "acme", token, **acme_booking())
    assert basket_of(second) == basket_of(first)
    [rental] = stored(app)
    callup_entry, sent, resent = entries(app)
    assert (sent.outcome, resent.outcome) == ("sent", "resent")
    assert resent.kind == "basket"
    assert resent.request_id == sent.request_id == rental.id
    assert resent.cart == sent.cart == rental.cart
    assert {callup_entry.punchout_id, sent.punchout_id, resent.punchout_id} == {rental.punchout_id}


# --- FUNCTION calls and refused bookings --------------------------------------------------------


def test_function_calls_are_recorded_with_what_they_answered(
    app: Flask, client: FlaskClient
) -> None:
    access = {"loginname": "acme-sap", "pwd": ACME_PASSWORD, "HOOK_URL": ACME_HOOK_URL}
    detail = {**access, "FUNCTION": "DETAIL", "PRODUCTID": "ESTATE"}
    assert client.post("/oci/acme", data=detail).status_code == 200
    unknown = client.get(
        "/oci/acme", query_string={**access, "FUNCTION": "detail", "PRODUCTID": "X"}
    )
    assert unknown.status_code == 404
    validate = {**access, "FUNCTION": "VALIDATE", "PRODUCTID": "ESTATE"}
    assert client.post("/oci/acme", data=validate).status_code == 200
    refused = {**access, "pwd": WRONG_PASSWORD, "FUNCTION": "VALIDATE"}
    assert client.post("/oci/acme", data=refused).status_code == 403

    detail, missing, validated, rejected = entries(app)
    assert {entry.kind for entry in entries(app)} == {"function"}
    assert (detail.outcome, detail.status, detail.reason) == (
        "accepted",
        200,
        "DETAIL: shown product=ESTATE",
    )
    assert (missing.outcome, missing.status, missing.method) == ("accepted", 404, "GET")
    assert missing.reason == "DETAIL: unknown product='X'"
    assert validated.reason == "VALIDATE: validated lines=1 missing=[]"
    assert validated.return_origin == "https://erp.acme.example"
    assert (rejected.outcome, rejected.status) == ("rejected", 403)
    assert rejected.reason == "VALIDATE: The company login in the call-up is not correct."
    assert ["FUNCTION", "VALIDATE"] in rejected.parameters
    assert_nowhere(app, ACME_PASSWORD)
    assert_nowhere(app, WRONG_PASSWORD)


def test_a_booking_with_a_false_token_is_recorded_as_refused(
    app: Flask, client: FlaskClient
) -> None:
    response = book(client, "acme", "forged-token", **acme_booking(remarks="Child seat"))
    assert response.status_code == 400
    entry = only_entry(app)
    assert (entry.kind, entry.outcome, entry.status, entry.reason) == (
        "booking",
        "rejected",
        400,
        "invalid token",
    )
    assert entry.punchout_id is None
    assert ["remarks", "Child seat"] in entry.parameters
    assert "punchout" not in [name for name, _ in entry.parameters]


def test_an_expired_booking_form_is_recorded_with_its_punch_out(
    app: Flask, client: FlaskClient, acme_callup: dict[str, str], signing_clock: SigningClock
) -> None:
    token = call_up(client, "acme", acme_callup).token
    signing_clock.advance(app.config["OCIFLEX_PUNCHOUT_MAX_AGE"] + 60)
    assert book(client, "acme", token, **acme_booking()).status_code == 400
    callup_entry, refused = entries(app)
    assert (refused.kind, refused.outcome, refused.reason) == (
        "booking",
        "rejected",
        "expired token",
    )
    assert callup_entry.punchout_id is not None
    assert refused.punchout_id == callup_entry.punchout_id
    assert stored(app) == []


# --- Recording never breaks a punch-out ---------------------------------------------------------


@contextmanager
def transfers_table_gone(app: Flask) -> Iterator[None]:
    """The table renamed away while the block runs (as good as a failing database for the
    log), and back afterwards."""
    engine = app.extensions["ociflex.engine"]
    with engine.begin() as connection:
        connection.execute(text("ALTER TABLE transfers RENAME TO transfers_away"))
    try:
        yield
    finally:
        with engine.begin() as connection:
            connection.execute(text("ALTER TABLE transfers_away RENAME TO transfers"))


def test_a_failing_transfer_log_still_answers_the_erp(
    app: Flask,
    client: FlaskClient,
    acme_callup: dict[str, str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO)
    with transfers_table_gone(app):
        rejected = client.post("/oci/acme", data={**acme_callup, "pwd": WRONG_PASSWORD})
        accepted = client.post("/oci/acme", data=acme_callup)
        unknown = client.post("/oci/nobody", data=acme_callup)
    assert rejected.status_code == 403
    assert "The company login in the call-up is not correct." in rejected.get_data(as_text=True)
    assert Page(accepted).booking_form is not None
    assert unknown.status_code == 404
    failures = [r for r in caplog.records if "transfer log: could not record" in r.getMessage()]
    assert len(failures) == 3
    assert all(record.levelno == logging.ERROR for record in failures)
    assert "call-up rejected: customer=acme status=403" in caplog.text  # the usual line too
    assert WRONG_PASSWORD not in caplog.text
    assert ACME_PASSWORD not in caplog.text
    # Back to normal once the database is.
    assert client.post("/oci/acme", data=acme_callup).status_code == 200
    assert [entry.outcome for entry in entries(app)] == ["accepted"]


def test_a_basket_is_recorded_with_its_request_or_not_at_all(
    app: Flask, client: FlaskClient, acme_callup: dict[str, str]
) -> None:
    """The basket's entry is written in the request's transaction: never a request without
    its entry (the basket sent unrecorded), never an entry without its request."""
    token = call_up(client, "acme", acme_callup).token
    with transfers_table_gone(app):
        if app.config["DATABASE_URL"].startswith("sqlite"):
            # SQLite calls a missing table an OperationalError: the "try again later" page.
            assert book(client, "acme", token, **acme_booking()).status_code == 503
        else:
            with pytest.raises(SQLAlchemyError):
                book(client, "acme", token, **acme_booking())
    assert stored(app) == []
    assert [entry.kind for entry in entries(app)] == ["callup"]
    # The employee sends the form again: request and entry are stored together.
    assert book(client, "acme", token, **acme_booking()).status_code == 200
    [rental] = stored(app)
    assert [(e.kind, e.outcome, e.request_id) for e in entries(app)] == [
        ("callup", "accepted", None),
        ("basket", "sent", rental.id),
    ]


# --- Capped parameters --------------------------------------------------------------------------


def test_a_huge_call_up_is_recorded_capped(app: Flask, client: FlaskClient) -> None:
    sent = [("HOOK_URL", ACME_HOOK_URL), ("LONG", "L" * 5000)]
    sent += [(f"P{n}", "v" * 150) for n in range(300)]
    response = client.post(
        "/oci/acme", data=urlencode(sent), content_type="application/x-www-form-urlencoded"
    )
    assert response.status_code == 401
    entry = only_entry(app)
    assert entry.parameter_count == len(sent)
    assert len(entry.parameters) < len(sent)
    assert entry.parameters[0] == ["HOOK_URL", ACME_HOOK_URL]
    assert entry.parameters[1] == ["LONG", "L" * (MAX_VALUE_LENGTH - 1) + "…"]
    assert sum(len(n) + len(v) for n, v in entry.parameters) <= MAX_TOTAL_LENGTH
    assert len(raw_rows(app)) < 2 * MAX_TOTAL_LENGTH


def test_too_many_parameters_are_recorded_as_a_rejected_call_up(
    app: Flask, client: FlaskClient
) -> None:
    body = "&".join(f"p{n}=1" for n in range(600))
    response = client.post("/oci/acme", data=body, content_type="application/x-www-form-urlencoded")
    assert response.status_code == 400
    entry = only_entry(app)
    assert (entry.outcome, entry.status) == ("rejected", 400)
    assert entry.reason == "the call-up has more than 500 parameters"
    assert entry.parameters == []


def test_recorded_parameters_are_capped_in_number_and_length() -> None:
    many = [(f"n{i}", "v") for i in range(1000)]
    assert recorded_parameters(many, None) == [[f"n{i}", "v"] for i in range(MAX_PARAMETERS)]
    [[name, value]] = recorded_parameters([("N" * 1000, "\x00" + "v" * 1000)], None)
    assert name == "N" * (MAX_NAME_LENGTH - 1) + "…"
    assert value == "\ufffd" + "v" * (MAX_VALUE_LENGTH - 2) + "…"
    wide = recorded_parameters([(f"n{i}", "v" * 1000) for i in range(100)], None)
    assert sum(len(n) + len(v) for n, v in wide) <= MAX_TOTAL_LENGTH
    assert len(wide) < 100


def test_names_that_may_carry_a_password() -> None:
    for name in ("PASSWORD", "password", "Pass", "pwd", "USER_PWD", "~passcode", "Passwort"):
        assert is_password(name, None), name
    for name in ("USERNAME", "HOOK_URL", "oci_usermail", "~OkCode"):
        assert not is_password(name, None), name


# --- The operator pages -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path", ["/ops/transfers", "/ops/transfers?outcome=rejected", "/ops/transfers/1"]
)
def test_the_pages_send_an_anonymous_visitor_to_the_login(client: FlaskClient, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 302
    assert urlsplit(response.headers["Location"]).path == "/ops/login"
    assert args_of(response.headers["Location"])["next"] == path


def test_every_operations_page_links_to_the_transfer_log(ops_client: FlaskClient) -> None:
    inbox = Html(ops_client.get("/ops/"))
    nav = {label: attrs for attrs, label in inbox.links if attrs.get("href", "").startswith("/ops")}
    assert nav["Overdrachtslog"]["href"] == "/ops/transfers"
    assert nav["Inbox"].get("aria-current") == "page"
    log_page = transfer_page(ops_client)
    nav = {label: attrs for attrs, label in log_page.links}
    assert nav["Overdrachtslog"].get("aria-current") == "page"
    assert "aria-current" not in nav["Inbox"]


def test_the_log_lists_entries_newest_first(app: Flask, ops_client: FlaskClient) -> None:
    ids = seed(
        app,
        {"customer_id": "acme", "return_origin": "https://erp.acme.example", "punchout_id": "p-1"},
        {
            "customer_id": "demo",
            "outcome": "rejected",
            "status": 403,
            "reason": "The company login in the call-up is not correct.",
            "method": "GET",
        },
        {
            "customer_id": "ghost",
            "outcome": "rejected",
            "status": 404,
            "reason": "unknown customer",
        },
    )
    page = transfer_page(ops_client)
    assert page.row_ids == ids[::-1]
    rows = [[" ".join(cell.split()) for cell in row] for row in page.tables["transfers"]]
    assert rows[0][1] == "ghost"
    assert rows[0][3] == "Afgewezen 404"
    assert rows[1][1] == "Demo Inkoop B.V. demo"
    assert rows[1][4] == "The company login in the call-up is not correct."
    assert rows[1][5] == "GET"
    assert rows[2][1] == "ACME Procurement Ltd acme"
    assert rows[2][2] == "Call-up"
    assert rows[2][3] == "Geaccepteerd 200"
    assert rows[2][6] == "https://erp.acme.example"
    details = [a["href"] for a, _ in page.links if "details" in a.get("class", "")]
    assert details == [f"/ops/transfers/{n}" for n in ids[::-1]]
    customers = [a["href"] for a, _ in page.links if "customer" in a.get("class", "").split()]
    assert args_of(customers[0]) == {"customer": "ghost"}
    assert "older" not in page.elements


def test_an_empty_log_says_so(ops_client: FlaskClient) -> None:
    page = transfer_page(ops_client)
    assert page.row_ids == []
    assert "no-transfers" in page.elements


def test_the_log_shows_each_entry_s_time_in_amsterdam_time(
    app: Flask, ops_client: FlaskClient
) -> None:
    """Either side of the change to summer time and of a new year; each row with its kind."""
    seed(
        app,
        {"at": datetime(2026, 3, 29, 0, 59, tzinfo=UTC)},
        {"at": datetime(2026, 3, 29, 1, 0, tzinfo=UTC), "kind": "basket", "outcome": "sent"},
        {"at": datetime(2026, 12, 31, 23, 30, tzinfo=UTC)},
    )
    rows = [
        [" ".join(cell.split()) for cell in row]
        for row in transfer_page(ops_client).tables["transfers"]
    ]
    assert [row[0] for row in rows] == [
        "01-01-2027, 00:30",
        "29-03-2026, 03:00",
        "29-03-2026, 01:59",
    ]
    assert [row[2] for row in rows] == ["Call-up", "Winkelwagen", "Call-up"]


def test_the_log_pages_by_keyset(app: Flask, ops_client: FlaskClient) -> None:
    ids = seed(app, *({"customer_id": "demo", "reason": f"n{n}"} for n in range(120)))
    newest = transfer_page(ops_client)
    assert newest.row_ids == ids[::-1][:50]
    second = transfer_page(ops_client, args_of(newest.href("older")))
    assert args_of(newest.href("older")) == {"before": str(ids[::-1][49])}
    assert second.row_ids == ids[::-1][50:100]
    assert "newest" in second.elements
    third = transfer_page(ops_client, args_of(second.href("older")))
    assert third.row_ids == ids[::-1][100:]
    assert "older" not in third.elements


def test_the_log_is_filtered_by_customer_outcome_and_kind(
    app: Flask, ops_client: FlaskClient
) -> None:
    ids = seed(
        app,
        {"customer_id": "acme"},
        {"customer_id": "acme", "outcome": "rejected", "status": 403},
        {"customer_id": "demo", "outcome": "rejected", "status": 400},
        {"customer_id": "demo", "kind": "basket", "outcome": "sent"},
        {"customer_id": "demo", "kind": "function"},
        *({"customer_id": "acme", "outcome": "rejected"} for _ in range(60)),
    )
    acme_rejected = [*ids[5:][::-1], ids[1]]
    assert (
        transfer_page(ops_client, {"customer": "acme"}).row_ids
        == (ids[5:][::-1] + ids[:2][::-1])[:50]
    )
    page = transfer_page(ops_client, {"customer": "acme", "outcome": "rejected"})
    assert page.row_ids == acme_rejected[:50]
    older = transfer_page(ops_client, args_of(page.href("older")))
    assert older.row_ids == acme_rejected[50:]
    assert args_of(page.href("older"))["outcome"] == "rejected"
    assert transfer_page(ops_client, {"customer": "demo", "outcome": "rejected"}).row_ids == [
        ids[2]
    ]
    assert transfer_page(ops_client, {"kind": "basket"}).row_ids == [ids[3]]
    assert transfer_page(ops_client, {"kind": "function", "customer": "demo"}).row_ids == [ids[4]]
    assert transfer_page(ops_client, {"outcome": "sent"}).row_ids == [ids[3]]
    form = transfer_page(ops_client, {"customer": "demo", "outcome": "sent", "kind": "basket"})
    assert 'value="demo" selected' in form.source
    assert 'value="sent" selected' in form.source
    assert 'value="basket" selected' in form.source
    none = transfer_page(ops_client, {"customer": "nobody"})
    assert none.row_ids == []
    assert "no-transfers" in none.elements


@pytest.mark.parametrize(
    "query",
    [
        {"outcome": "maybe"},
        {"kind": "x"},
        {"customer": "a\x01b"},
        {"customer": "c" * 65},
        {"before": "x"},
    ],
)
def test_a_wrong_filter_is_left_out_with_a_message(
    app: Flask, ops_client: FlaskClient, query: dict[str, str]
) -> None:
    ids = seed(app, {}, {"outcome": "rejected", "status": 400})
    page = transfer_page(ops_client, query)
    assert "filter-problems" in page.elements
    assert page.row_ids == ids[::-1]


def test_a_missing_entry_is_not_found(ops_client: FlaskClient) -> None:
    for transfer_id in (1, 2**40):
        response = ops_client.get(f"/ops/transfers/{transfer_id}")
        assert response.status_code == 404
        assert "Overdrachtslog" in response.get_data(as_text=True)


def test_the_pages_escape_hostile_values(app: Flask, ops_client: FlaskClient) -> None:
    [entry_id, other_id] = seed(
        app,
        {
            "customer_id": HOSTILE,
            "outcome": "rejected",
            "status": 400,
            "reason": HOSTILE,
            "method": "POST",
            "punchout_id": HOSTILE,
            "parameters": [(HOSTILE, HOSTILE), ("HOOK_URL", f"https://x.example/{HOSTILE}")],
            "client_address": HOSTILE,
        },
        {
            "customer_id": HOSTILE,
            "kind": "basket",
            "outcome": "sent",
            "punchout_id": HOSTILE,
            "reason": HOSTILE,
            "cart": {
                "action": HOSTILE,
                "target": HOSTILE,
                "charset": HOSTILE,
                "fields": [[HOSTILE, HOSTILE]],
            },
        },
    )
    pages = [
        ops_client.get("/ops/transfers"),
        ops_client.get("/ops/transfers", query_string={"customer": HOSTILE}),
        ops_client.get("/ops/transfers", query_string={"customer": HOSTILE, "kind": HOSTILE}),
        ops_client.get(f"/ops/transfers/{entry_id}"),
        ops_client.get(f"/ops/transfers/{other_id}"),
    ]
    for response in pages:
        html = response.get_data(as_text=True)
        assert response.status_code == 200
        assert RAW_TAG not in html
        assert HOSTILE_ESCAPED in html
    assert Html(pages[1]).row_ids == [other_id, entry_id]
    shown = Html(pages[3])
    assert pairs(shown, "parameters")[0] == (HOSTILE, HOSTILE)
    assert pairs(Html(pages[4]), "basket") == [(HOSTILE, HOSTILE)]


def test_a_parameter_named_as_the_password_is_never_shown(
    app: Flask, ops_client: FlaskClient
) -> None:
    """None is ever recorded; an entry written otherwise still does not show it."""
    [entry_id] = seed(app, {"customer_id": "acme"})
    with session_for(app) as session:
        begin_write(session)
        entry = session.get(Transfer, entry_id)
        entry.parameters = [["pwd", "leaked-1"], ["PASSWORD", "leaked-2"], ["a", "b"]]
        session.commit()
    page = detail_page(ops_client, entry_id)
    assert "leaked-" not in page.source
    assert [row[1] for row in page.tables["parameters"]] == ["pwd", "PASSWORD", "a"]


def test_a_capped_entry_says_how_many_parameters_came(app: Flask, ops_client: FlaskClient) -> None:
    [entry_id] = seed(app, {"parameters": [(f"n{i}", "v") for i in range(250)]})
    page = detail_page(ops_client, entry_id)
    assert len(page.tables["parameters"]) == MAX_PARAMETERS
    assert f"{MAX_PARAMETERS} van 250" in page.source


# --- Retention ----------------------------------------------------------------------------------


def test_prune_deletes_only_entries_older_than_the_retention(app: Flask) -> None:
    now = datetime.now(UTC)
    ids = seed(
        app,
        {"reason": "old", "at": now - timedelta(days=400)},
        {"reason": "just too old", "at": now - timedelta(days=90, minutes=5)},
        {"reason": "kept", "at": now - timedelta(days=89)},
        {"reason": "new", "at": now},
    )
    runner = app.test_cli_runner()
    result = runner.invoke(args=["ociflex", "transfers", "prune"])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("deleted 2 transfer log entries older than 90 days")
    assert [entry.id for entry in entries(app)] == ids[2:]
    again = runner.invoke(args=["ociflex", "transfers", "prune"])
    assert again.output.startswith("deleted 0 ")
    shorter = runner.invoke(args=["ociflex", "transfers", "prune", "--days", "30"])
    assert shorter.output.startswith("deleted 1 transfer log entries older than 30 days")
    assert [entry.reason for entry in entries(app)] == ["new"]
    refused = runner.invoke(args=["ociflex", "transfers", "prune", "--days", "0"])
    assert refused.exit_code != 0
    assert len(entries(app)) == 1


def test_prune_deletes_in_batches(app: Flask) -> None:
    now = datetime.now(UTC)
    ids = seed(
        app,
        *({"at": now - timedelta(days=8, minutes=n)} for n in range(7)),
        {"at": now - timedelta(days=6)},
    )
    with session_for(app) as session:
        assert prune(session, now - timedelta(days=7), batch=3) == 7
    assert [entry.id for entry in entries(app)] == ids[-1:]


def test_prune_keeps_the_configured_days(environ: dict[str, str]) -> None:
    app = create_app({**environ, "OCIFLEX_TRANSFER_RETENTION_DAYS": "7"})
    try:
        now = datetime.now(UTC)
        ids = seed(app, {"at": now - timedelta(days=8)}, {"at": now - timedelta(days=6)})
        result = app.test_cli_runner().invoke(args=["ociflex", "transfers", "prune"])
        assert result.output.startswith("deleted 1 transfer log entries older than 7 days")
        assert [entry.id for entry in entries(app)] == ids[1:]
    finally:
        app.extensions["ociflex.engine"].dispose()


@pytest.mark.parametrize("value", ["0", "-1", "3651", "ninety"])
def test_the_retention_must_be_a_sensible_number_of_days(tmp_path: Path, value: str) -> None:
    with pytest.raises(SettingsError, match="OCIFLEX_TRANSFER_RETENTION_DAYS"):
        from_environment(
            {"SECRET_KEY": PRODUCTION_SECRET_KEY, "OCIFLEX_TRANSFER_RETENTION_DAYS": value},
            tmp_path,
        )


def test_the_retention_is_90_days_by_default(tmp_path: Path) -> None:
    settings = from_environment({"SECRET_KEY": PRODUCTION_SECRET_KEY}, tmp_path)
    assert settings["OCIFLEX_TRANSFER_RETENTION_DAYS"] == 90


# --- Indexes ------------------------------------------------------------------------------------


CUSTOMER_INDEXES = ("ix_transfers_customer_id_id", "ix_transfers_customer_outcome_id")


def test_the_lists_and_the_pruning_are_served_by_an_index(
    app: Flask, ops_client: FlaskClient
) -> None:
    """Each filter matches few of 3,000 entries, as a customer's failures do in production."""
    now = datetime.now(UTC)
    ids = seed(
        app,
        *(
            {
                "customer_id": "acme" if n % 60 == 0 else "demo",
                "outcome": "rejected" if n % 45 == 0 else "accepted",
                "punchout_id": f"p{n}",
                "at": now - timedelta(minutes=3000 - n),
            }
            for n in range(3000)
        ),
    )
    engine = app.extensions["ociflex.engine"]
    if engine.dialect.name == "postgresql":
        with engine.begin() as connection:
            connection.execute(text("ANALYZE transfers"))
    scenarios: list[tuple[str, str, tuple[str, ...]]] = [
        ("customer", "/ops/transfers?customer=acme", CUSTOMER_INDEXES),
        ("customer, older", "/ops/transfers?customer=acme&before=2000", CUSTOMER_INDEXES),
        (
            "customer and outcome",
            "/ops/transfers?customer=acme&outcome=rejected",
            ("ix_transfers_customer_outcome_id",),
        ),
        ("outcome", "/ops/transfers?outcome=rejected", ("ix_transfers_outcome_id",)),
        ("punch-out", f"/ops/transfers/{ids[7]}", ("ix_transfers_punchout_id",)),
    ]
    for name, path, indexes in scenarios:
        with captured_queries(app, "transfers", selects_only=True) as queries:
            assert ops_client.get(path).status_code == 200
        plans = "\n".join(line for sql, params in queries for line in explain(app, sql, params))
        assert any(index in plans for index in indexes), (name, plans)
        assert "SCAN transfers\n" not in plans + "\n", (name, plans)
        assert "Seq Scan" not in plans, (name, plans)

    # Pruning finds the oldest entries by their time.
    oldest = select(Transfer.id).where(Transfer.at < now).order_by(Transfer.at).limit(5000)
    compiled = oldest.compile(engine)
    plan = "\n".join(explain(app, str(compiled), _bound(engine, compiled)))
    assert "ix_transfers_at" in plan, plan


def _bound(engine: Any, compiled: Any) -> Any:
    """The parameters of a compiled statement, as the driver takes them."""
    params = compiled.params
    if engine.dialect.name == "sqlite":
        return tuple(
            value.replace(tzinfo=None).isoformat(" ") if isinstance(value, datetime) else value
            for value in (params[name] for name in compiled.positiontup)
        )
    return params


# --- cXML entries -------------------------------------------------------------------------------


def shown_as(app: Flask, message: str) -> str:
    """``message`` as the (Dutch) operations pages show it, translated or not yet."""
    with app.test_request_context():
        return gettext(message)


def test_the_log_names_each_entry_s_protocol_and_kind(app: Flask, ops_client: FlaskClient) -> None:
    cxml = {"protocol": "cxml", "customer_id": "acme", "method": "POST"}
    ids = seed(
        app,
        {"kind": "callup"},
        {**cxml, "kind": "setup", "document": "<cXML/>", "answer": "<cXML/>"},
        {**cxml, "kind": "profile", "document": "<cXML/>", "answer": "<cXML/>"},
        {**cxml, "kind": "request", "outcome": "rejected", "status": 406, "document": "x"},
        {**cxml, "kind": "start", "method": "GET"},
        {**cxml, "kind": "basket", "outcome": "sent", "cart": {"document": "<cXML/>"}},
    )
    with captured_queries(app, "transfers", selects_only=True) as queries:
        page = transfer_page(ops_client)
    assert page.row_ids == ids[::-1]
    rows = [[" ".join(cell.split()) for cell in row] for row in page.tables["transfers"]]
    assert [row[7] for row in rows] == ["cXML"] * 5 + ["SAP OCI"]
    kinds = ["Basket", "StartPage opened", "cXML document", "Profile request", "Setup request"]
    assert [row[2] for row in rows] == [shown_as(app, kind) for kind in kinds] + ["Call-up"]
    # The list reads no document, answer or cart: a million entries stay a quick page.
    [listing] = [sql for sql, _params in queries if "ORDER BY transfers.id DESC" in sql]
    listed = listing.split(" FROM ")[0]
    assert "transfers.document" not in listed
    assert "transfers.answer" not in listed
    assert "transfers.cart" not in listed

    # The filter offers every kind by its label, and finds each.
    offered = re.findall(r'<option value="(\w+)"[^>]*>([^<]+)</option>', page.source)
    labels = dict(offered)
    assert labels["setup"] == shown_as(app, "Setup request")
    assert labels["profile"] == shown_as(app, "Profile request")
    assert labels["request"] == shown_as(app, "cXML document")
    assert labels["start"] == shown_as(app, "StartPage opened")
    assert transfer_page(ops_client, {"kind": "start"}).row_ids == [ids[4]]
    assert transfer_page(ops_client, {"kind": "basket"}).row_ids == [ids[5]]


def test_a_cxml_entry_shows_the_document_received_and_the_answer_sent(
    app: Flask, ops_client: FlaskClient
) -> None:
    [entry_id] = seed(
        app,
        {
            "protocol": "cxml",
            "customer_id": "acme",
            "kind": "setup",
            "return_origin": "https://buyer.example",
            "document": "<cXML><Request>"
            '<PunchOutSetupRequest operation="create"/></Request></cXML>',
            "answer": '<?xml version="1.0" encoding="UTF-8"?>\n<cXML><Response>'
            '<Status code="200" text="OK"/></Response></cXML>',
        },
    )
    page = detail_page(ops_client, entry_id)
    assert page.text("protocol") == "cXML"
    assert shown_as(app, "BrowserFormPost origin") in page.text("summary")
    assert page.text("return-origin") == "https://buyer.example"
    assert page.texts["document"].removeprefix("\n").splitlines() == [
        "<cXML>",
        "  <Request>",
        '    <PunchOutSetupRequest operation="create"/>',
        "  </Request>",
        "</cXML>",
    ]
    assert page.texts["answer"].removeprefix("\n").splitlines() == [
        "<cXML>",
        "  <Response>",
        '    <Status code="200" text="OK"/>',
        "  </Response>",
        "</cXML>",
    ]
    assert "parameters" not in page.elements
    assert "basket" not in page.tables


def test_the_pages_escape_hostile_cxml_documents(app: Flask, ops_client: FlaskClient) -> None:
    """A document that is no XML is shown as it came; one that is, laid out anew: in both, what
    looks like markup stays text."""
    as_xml_text = HOSTILE.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    cxml = {"protocol": "cxml", "customer_id": HOSTILE, "punchout_id": HOSTILE}
    raw_id, parsed_id, cart_id = seed(
        app,
        {**cxml, "kind": "request", "outcome": "rejected", "status": 406, "reason": HOSTILE}
        | {"document": HOSTILE, "answer": HOSTILE, "return_origin": HOSTILE},
        {**cxml, "kind": "setup", "document": f"<cXML><From>{as_xml_text}</From></cXML>"}
        | {"answer": f"<cXML><Status>{as_xml_text}</Status></cXML>"},
        {**cxml, "kind": "basket", "outcome": "sent"}
        | {
            "cart": {
                "action": HOSTILE,
                "target": HOSTILE,
                "charset": HOSTILE,
                "fields": [[HOSTILE, HOSTILE]],
                "document": HOSTILE,
            }
        },
    )
    responses = [ops_client.get(f"/ops/transfers/{n}") for n in (raw_id, parsed_id, cart_id)]
    responses.append(ops_client.get("/ops/transfers"))
    for response in responses:
        assert response.status_code == 200
        assert RAW_TAG not in response.get_data(as_text=True)
    raw, parsed, cart, listed = (Html(response) for response in responses)
    assert raw.texts["document"].removeprefix("\n") == HOSTILE
    assert raw.texts["answer"].removeprefix("\n") == HOSTILE
    assert HOSTILE_ESCAPED in raw.source
    assert f"  <From>{as_xml_text}</From>" in parsed.texts["document"].splitlines()
    assert f"  <Status>{as_xml_text}</Status>" in parsed.texts["answer"].splitlines()
    assert cart.texts["cart-document"].removeprefix("\n") == HOSTILE
    assert HOSTILE in cart.text("cart-form")
    assert listed.row_ids == [cart_id, parsed_id, raw_id]
    assert HOSTILE_ESCAPED in listed.source
