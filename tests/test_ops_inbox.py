"""The operations inbox (/ops/): the list, its filters, search and pages, the counts per status,
the e-mails that keep failing, and proof that every list query is served by an index.

Every test runs on SQLite and on PostgreSQL. Requests are seeded straight into the database
(:func:`seed`), with the status counts moved as the punch-out moves them. The operations pages
are Dutch, so the tests find things by id, ``data-`` attributes and the seeded values.
"""

import re
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any
from urllib.parse import urlsplit

import pytest
from flask import Flask, g, url_for
from flask.testing import FlaskClient
from flask_babel import format_date, format_datetime
from sqlalchemy import create_engine, event, inspect, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from ociflex import migrate
from ociflex.booking.words import fill_request_words
from ociflex.db import begin_write, session_for
from ociflex.history import move_count
from ociflex.i18n import date_formatter
from ociflex.mail.outbox import failing_messages
from ociflex.models import Base, OutboxMessage, RentalRequest
from ociflex.ops.inbox_filters import Filters, read_query
from ociflex.ops.inbox_query import fetch_page, prefix_end
from ociflex.ops.lists import id_url_maker
from ociflex.ops.outbox_page import failing_count
from tests.conftest import csrf_token_in
from tests.support.html import Html
from tests.support.inbox import (
    HOSTILE,
    HOSTILE_ESCAPED,
    RAW_TAG,
    add_fillers,
    add_message,
    args_of,
    follow,
    inbox,
    request_row,
    seed,
    seed_many,
)
from tests.support.orders import shown
from tests.support.plans import captured_queries, explain, sqlite_steps


def descending(ids: list[int]) -> list[int]:
    return sorted(ids, reverse=True)


# --- Access -------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/ops/", "/ops/?status=new", "/ops/requests/1", "/ops/outbox"])
def test_the_pages_send_an_anonymous_visitor_to_the_login(client: FlaskClient, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 302
    location = urlsplit(response.headers["Location"])
    assert location.path == "/ops/login"
    assert args_of(response.headers["Location"])["next"] == path


def test_retrying_an_e_mail_needs_a_login_and_the_csrf_token(app: Flask) -> None:
    message_id = add_message(app)
    anonymous = app.test_client()
    response = anonymous.post(f"/ops/outbox/{message_id}/retry")
    assert response.status_code == 400  # no CSRF token: refused before anything else
    with session_for(app) as session:
        assert session.get(OutboxMessage, message_id).status == "failed"


# --- The list and its pages ---------------------------------------------------------------------


def test_requests_are_listed_newest_first(app: Flask, ops_client: FlaskClient) -> None:
    ids = seed(
        app,
        {"requester_name": "Anna Arends", "requester_email": "anna@demo.example"},
        {"requester_name": "Bert Bos", "customer_id": "acme", "status": "confirmed"},
        {
            "requester_name": "Cor Claes",
            "vehicle_code": "VAN",
            "vehicle_name": "Bestelbus",
            "location": "Utrecht Papendorp",
            "cost_centre": "4100",
            "po_number": "PO-7",
            "start_date": date(2026, 12, 7),
            "end_date": date(2026, 12, 11),
            "days": 5,
        },
    )
    page = inbox(ops_client)
    assert page.row_ids == descending(ids)
    listed = page.tables["requests"]
    newest = [" ".join(cell.split()) for cell in listed[0]]
    assert newest[0] == "FF-000003"
    assert newest[2] == "Nieuw"
    assert newest[3] == "Demo Inkoop B.V."
    assert newest[4] == "Cor Claes piet@demo.example"
    assert newest[5] == "Bestelbus VAN"
    assert newest[6] == "7 dec 2026 – 11 dec 2026 (5 dagen)"
    assert newest[7] == "€ 197,50 € 39,50 per dag"
    assert newest[8] == "Utrecht Papendorp"
    assert newest[9] == "4100 PO-7"
    assert " ".join(listed[1][3].split()) == "ACME Procurement Ltd"
    assert " ".join(listed[1][2].split()) == "Bevestigd"
    assert 'class="badge badge-confirmed"' in page.source
    links = [a["href"] for a, label in page.links if label.startswith("FF-")]
    assert links == [f"/ops/requests/{n}" for n in descending(ids)]
    assert "newer" not in page.elements
    assert "older" not in page.elements


def test_each_request_shows_its_total_in_the_pages_language(
    app: Flask, ops_client: FlaskClient
) -> None:
    seed(
        app,
        {"day_rate": Decimal("411.50"), "days": 3},
        {"day_rate": Decimal("55.00"), "days": 1, "currency": "GBP", "customer_id": "acme"},
    )
    totals = [row[7].split("\n") for row in inbox(ops_client).tables["requests"]]
    assert totals == [
        ["£\N{NO-BREAK SPACE}55,00", "£\N{NO-BREAK SPACE}55,00 per dag"],
        ["€\N{NO-BREAK SPACE}1.234,50", "€\N{NO-BREAK SPACE}411,50 per dag"],
    ]


def test_an_empty_inbox_says_so(ops_client: FlaskClient) -> None:
    page = inbox(ops_client)
    assert page.row_ids == []
    assert "no-requests" in page.elements
    assert page.tab_counts[""] == 0


def test_pages_go_by_keyset_through_120_requests(app: Flask, ops_client: FlaskClient) -> None:
    ids = seed_many(app, 120)
    assert ids == list(range(1, 121))
    with captured_queries(app, "rental_requests") as queries:
        first = inbox(ops_client)
        assert first.row_ids == list(range(120, 70, -1))
        assert "newer" not in first.elements
        assert args_of(first.href("older")) == {"before": "71"}

        second = follow(ops_client, first.href("older"))
        assert second.row_ids == list(range(70, 20, -1))
        assert args_of(second.href("newer")) == {"after": "70"}
        assert second.href("newest") == "/ops/"
        assert args_of(second.href("older")) == {"before": "21"}

        last = follow(ops_client, second.href("older"))
        assert last.row_ids == list(range(20, 0, -1))
        assert "older" not in last.elements

        back = follow(ops_client, last.href("newer"))
        assert back.row_ids == list(range(70, 20, -1))
        assert args_of(back.href("older")) == {"before": "21"}

        top = follow(ops_client, back.href("newer"))
        assert top.row_ids == list(range(120, 70, -1))
        assert "newer" not in top.elements
        assert follow(ops_client, back.href("newest")).row_ids == top.row_ids
    assert queries
    # No OFFSET: SQLAlchemy writes "OFFSET ?" for SQLite with every LIMIT, always bound to 0.
    for sql, params in queries:
        if re.search(r"\bOFFSET\b", sql):
            assert sql.rstrip().endswith("OFFSET ?"), sql
            assert params[-1] == 0, (sql, params)
    assert all("LIMIT" in sql for sql, _ in queries)


def test_a_new_request_does_not_shift_the_pages(app: Flask, ops_client: FlaskClient) -> None:
    seed_many(app, 60)
    first = inbox(ops_client)
    assert first.row_ids == list(range(60, 10, -1))
    [newest] = seed(app, {"requester_name": "Late Arrival"})
    older = follow(ops_client, first.href("older"))
    assert older.row_ids == list(range(10, 0, -1))
    assert inbox(ops_client).row_ids[0] == newest


def test_pages_keep_the_filters(app: Flask, ops_client: FlaskClient) -> None:
    seed(app, *({"status": "new" if n % 2 else "confirmed"} for n in range(1, 121)))
    first = inbox(ops_client, {"status": "new", "customer": "demo"})
    new_ids = [n for n in range(120, 0, -1) if n % 2]
    assert first.row_ids == new_ids[:50]
    assert args_of(first.href("older")) == {
        "status": "new",
        "customer": "demo",
        "before": str(new_ids[49]),
    }
    second = follow(ops_client, first.href("older"))
    assert second.row_ids == new_ids[50:]
    assert "older" not in second.elements
    assert args_of(second.href("newer"))["status"] == "new"
    assert follow(ops_client, second.href("newer")).row_ids == new_ids[:50]


def test_a_cursor_beyond_the_last_request_shows_an_empty_page_with_a_way_back(
    app: Flask, ops_client: FlaskClient
) -> None:
    seed_many(app, 3)
    page = inbox(ops_client, {"before": "1"})
    assert page.row_ids == []
    assert "no-requests" in page.elements
    assert "newer" not in page.elements
    assert follow(ops_client, page.href("newest")).row_ids == [3, 2, 1]


# --- Filters and search -------------------------------------------------------------------------

FILTERED = [
    {"customer_id": "demo", "status": "new", "start_date": date(2026, 12, 1)},
    {"customer_id": "acme", "status": "new", "vehicle_code": "ESTATE"}
    | {"start_date": date(2026, 12, 5)},
    {"customer_id": "demo", "status": "confirmed", "vehicle_code": "VAN"}
    | {"start_date": date(2026, 12, 10)},
    {"customer_id": "acme", "status": "rejected", "vehicle_code": "ESTATE"}
    | {"start_date": date(2026, 12, 15)},
    {"customer_id": "demo", "status": "in_progress", "vehicle_code": "VAN"}
    | {"start_date": date(2026, 12, 20)},
]


def test_each_filter_lists_exactly_its_requests(app: Flask, ops_client: FlaskClient) -> None:
    assert seed(app, *FILTERED) == [1, 2, 3, 4, 5]
    cases: list[tuple[dict[str, str], list[int]]] = [
        ({}, [5, 4, 3, 2, 1]),
        ({"status": "new"}, [2, 1]),
        ({"status": "scheduled"}, []),
        ({"customer": "acme"}, [4, 2]),
        ({"customer": "no-such-customer"}, []),
        ({"vehicle": "VAN"}, [5, 3]),
        ({"from": "2026-12-10"}, [5, 4, 3]),
        ({"to": "2026-12-05"}, [2, 1]),
        ({"from": "2026-12-05", "to": "2026-12-15"}, [4, 3, 2]),
        ({"from": "2026-12-10", "to": "2026-12-10"}, [3]),
        ({"customer": "demo", "status": "new"}, [1]),
        ({"customer": "acme", "vehicle": "ESTATE", "from": "2026-12-10"}, [4]),
        ({"status": "new", "q": "FF-000003"}, []),
    ]
    for query, expected in cases:
        page = inbox(ops_client, query)
        assert page.row_ids == expected, query
        assert "filter-problems" not in page.elements, query


def test_the_po_filter_lists_the_requests_with_a_purchase_order_or_still_without_one(
    app: Flask, ops_client: FlaskClient
) -> None:
    assert seed(
        app,
        {"status": "confirmed", "erp_po_number": "4500012345"},
        {"status": "confirmed"},
        {"status": "new", "erp_po_number": "4500012346"},
        {"status": "new"},
    ) == [1, 2, 3, 4]
    cases: list[tuple[dict[str, str], list[int]]] = [
        ({"po": "received"}, [3, 1]),
        ({"po": "awaiting"}, [4, 2]),
        ({"status": "confirmed", "po": "awaiting"}, [2]),
        ({"status": "new", "po": "received"}, [3]),
        ({"po": "awaiting", "q": "4500012345"}, []),
    ]
    for query, expected in cases:
        page = inbox(ops_client, query)
        assert page.row_ids == expected, query
        assert "filter-problems" not in page.elements, query

    # "Which confirmed requests still await a PO?": one form, both choices kept, and kept by
    # the status tabs.
    page = inbox(ops_client, {"status": "confirmed", "po": "awaiting"})
    start = page.source.index('id="filters"')
    form = page.source[start : page.source.index("</form>", start)]
    assert '<option value="confirmed" selected>' in form
    assert '<option value="awaiting" selected>' in form
    assert args_of(page.tab_href("new")) == {"status": "new", "po": "awaiting"}
    # The list marks the requests whose purchase order arrived.
    badges = re.findall(r'<span class="badge badge-po">([^<]*)</span>', inbox(ops_client).source)
    assert badges == [
        shown(app, "PO %(number)s", number="4500012346"),
        shown(app, "PO %(number)s", number="4500012345"),
    ]


def test_the_filter_form_shows_the_filters_in_use(app: Flask, ops_client: FlaskClient) -> None:
    seed(app, *FILTERED)
    page = inbox(ops_client, {"customer": "acme", "vehicle": "ESTATE", "from": "2026-12-10"})
    assert page.elements["from"]["value"] == "2026-12-10"
    assert re.search(r'<option value="acme" selected>ACME Procurement Ltd</option>', page.source)
    assert re.search(r'<option value="ESTATE" selected>ESTATE · ', page.source)
    # A customer no longer served, with requests still in the inbox, can still be chosen.
    seed(app, {"customer_id": "gone"})
    assert '<option value="gone">gone</option>' in inbox(ops_client).source


SEARCHED = [
    {"requester_name": "Jan Jansen", "requester_email": "jan.jansen@demo.example"}
    | {"cost_centre": "4100", "po_number": "PO-2026-01"},
    {"requester_name": "Jan-Willem de Vries", "requester_email": "jw@acme.example"}
    | {"customer_id": "acme", "cost_centre": "4200", "erp_po_number": "4500012345"},
    {"requester_name": "Dé Vries", "requester_email": "de.vries@demo.example"},
    {"requester_name": "Janneke Smit", "requester_email": "jan@smit.example"}
    | {"cost_centre": "4100"},
    {"requester_name": "Anna Bakker", "requester_email": "jan_b@demo.example"},
    {"requester_name": "Bob Jana", "requester_email": "jana@demo.example"}
    | {"cost_centre": "4", "po_number": "100%"},
    {"requester_name": "Zoë O'Brien", "requester_email": "zoe@demo.example"},
]


def test_each_kind_of_search_finds_exactly_its_requests(
    app: Flask, ops_client: FlaskClient
) -> None:
    assert seed(app, *SEARCHED) == [1, 2, 3, 4, 5, 6, 7]
    seed_many(app, 5)  # 8 to 12, "Person n", nothing in common with the searches
    cases: list[tuple[str, list[int]]] = [
        # A reference: that request only.
        ("FF-000003", [3]),
        ("ff-3", [3]),
        (" FF-000003 ", [3]),
        ("FF-999999", []),
        ("FF-99999999999", []),
        # Plain digits: the request with that number, or a cost centre / PO number equal to it.
        ("4", [6, 4]),
        ("4100", [4, 1]),
        ("410", []),
        ("4500012345", [2]),
        # Cost centre and PO numbers: equal, also when typed in lower case.
        ("PO-2026-01", [1]),
        ("po-2026-01", [1]),
        ("100%", [6]),
        # E-mail addresses (with @): the address, or those that begin with it.
        ("jan.jansen@demo.example", [1]),
        ("JAN.Jansen@Demo.Example", [1]),
        ("jan@", [4]),
        ("jan.jansen@demo.example.org", []),
        # Names by the first letters of any of their words, case, accents and spacing
        # ignored; addresses by their first letters.
        ("jan", [6, 5, 4, 2, 1]),
        ("Jan Jansen", [1]),
        ("  JAN   jansen ", [1]),
        ("jan-w", [2]),
        ("willem", [2]),
        ("jan_", [5]),  # no wildcard: not "jana@..."
        ("dé", [3, 2]),
        ("de", [3, 2]),
        ("vries", [3, 2]),
        ("zoë o'", [7]),
        ("zoe", [7]),
        # A single letter: names that begin with it, as no word is kept that short.
        ("z", [7]),
        ("%", []),
        ("_", []),
        (RAW_TAG, []),
    ]
    for q, expected in cases:
        page = inbox(ops_client, {"q": q})
        assert page.row_ids == expected, q
        assert "filter-problems" not in page.elements, q
    # The search keeps the other filters.
    assert inbox(ops_client, {"q": "jan", "customer": "acme"}).row_ids == [2]


def test_a_search_without_results_offers_all_statuses(app: Flask, ops_client: FlaskClient) -> None:
    seed(app, *SEARCHED)
    page = inbox(ops_client, {"q": "FF-000002", "status": "confirmed"})
    assert page.row_ids == []
    assert "Zoek in alle statussen" in page.text("no-requests")
    assert '<a href="/ops/?q=FF-000002">Zoek in alle statussen</a>' in page.source
    assert follow(ops_client, "/ops/?q=FF-000002").row_ids == [2]


def test_prefix_end_is_the_least_text_above_the_prefix() -> None:
    assert prefix_end("jan") == "jao"
    assert prefix_end("jan ") == "jan!"
    assert prefix_end("a\U0010ffff") == "b"
    assert prefix_end("\U0010ffff") is None
    assert prefix_end("\ud7ff") == "\ue000"


# --- Counts per status --------------------------------------------------------------------------


def test_the_status_tabs_count_every_request_by_status(app: Flask, ops_client: FlaskClient) -> None:
    seed(
        app,
        *[{"customer_id": "demo", "status": "new"}] * 3,
        *[{"customer_id": "demo", "status": "confirmed"}] * 2,
        {"customer_id": "acme", "status": "new"},
        {"customer_id": "acme", "status": "rejected"},
    )
    page = inbox(ops_client)
    assert page.tab_counts == {
        "": 7,
        "new": 4,
        "in_progress": 0,
        "scheduled": 0,
        "confirmed": 2,
        "rejected": 1,
        "cancelled": 0,
    }
    assert page.elements["requests"]
    # For one customer: that customer's counts; the tabs keep the customer.
    acme = inbox(ops_client, {"customer": "acme"})
    assert acme.tab_counts == {"": 2, "new": 1, "rejected": 1} | dict.fromkeys(
        ("in_progress", "scheduled", "confirmed", "cancelled"), 0
    )
    assert args_of(acme.tab_href("new")) == {"customer": "acme", "status": "new"}
    assert follow(ops_client, acme.tab_href("new")).row_ids == [6]
    assert (
        'data-status="new" class="tab-new" aria-current="page"'
        in follow(ops_client, acme.tab_href("new")).source
    )
    # A status moves: the counts move with it.
    with session_for(app) as session:
        begin_write(session)
        row = session.get(RentalRequest, 1)
        row.status = "in_progress"
        move_count(session, "demo", "new", "in_progress")
        session.commit()
    assert inbox(ops_client).tab_counts["new"] == 3
    assert inbox(ops_client).tab_counts["in_progress"] == 1


def test_the_page_says_when_the_counts_leave_filters_out(
    app: Flask, ops_client: FlaskClient
) -> None:
    seed(app, *FILTERED)
    assert "counts-note" not in inbox(ops_client, {"status": "new", "customer": "demo"}).elements
    for query in ({"q": "jan"}, {"vehicle": "VAN"}, {"from": "2026-12-01"}, {"po": "awaiting"}):
        assert "counts-note" in inbox(ops_client, query).elements, query


# --- Wrong filters ------------------------------------------------------------------------------

BAD_INPUT: list[tuple[dict[str, str], str]] = [
    ({"status": "bogus"}, "status"),
    ({"status": "NEW"}, "status"),
    ({"from": "2026-13-01"}, "from"),
    ({"from": "yesterday"}, "from"),
    ({"to": "1-12-2026"}, "to"),
    ({"to": "20261201"}, "to"),
    ({"from": "2026-12-10", "to": "2026-12-01"}, "from"),
    ({"before": "abc"}, "page"),
    ({"before": "0"}, "page"),
    ({"after": "-1"}, "page"),
    ({"before": "99999999999"}, "page"),
    ({"before": "10", "after": "5"}, "page"),
    ({"customer": "demo\x00"}, "customer"),
    ({"customer": "c" * 65}, "customer"),
    ({"vehicle": "VAN\x00"}, "vehicle"),
    ({"q": "jan\x00"}, "q"),
    ({"q": "j" * 255}, "q"),
    ({"po": "yes"}, "po"),
    ({"po": "RECEIVED"}, "po"),
]


@pytest.mark.parametrize(("query", "problem"), BAD_INPUT, ids=[str(q) for q, _ in BAD_INPUT])
def test_read_query_leaves_a_wrong_filter_out_and_says_why(
    app: Flask, query: dict[str, str], problem: str
) -> None:
    with app.test_request_context("/ops/"):
        read = read_query(query)
    assert list(read.problems) == [problem] or set(read.problems) == {"from", "to"}
    assert read.filters == Filters()
    assert read.before is None
    assert read.after is None


def test_wrong_filters_are_left_out_with_a_message_never_an_error(
    app: Flask, ops_client: FlaskClient
) -> None:
    seed(app, *FILTERED)
    for query, problem in BAD_INPUT:
        response = ops_client.get("/ops/", query_string=query)
        assert response.status_code == 200, query
        page = Html(response)
        assert page.row_ids == [5, 4, 3, 2, 1], query
        assert page.text("filter-problems"), query
        field = {"page": None}.get(problem, problem)
        if field is not None:
            assert page.elements[field].get("aria-invalid") == "true", query
    # The valid filters still apply next to a wrong one, and the wrong one is shown as entered.
    page = inbox(ops_client, {"status": "new", "from": "1-12-2026"})
    assert page.row_ids == [2, 1]
    assert page.elements["from"]["value"] == "1-12-2026"
    assert "eerste ophaaldag is geen datum" in page.text("filter-problems")
    later = inbox(ops_client, {"from": "2026-12-10", "to": "2026-12-01"})
    assert "na de laatste" in later.text("filter-problems")


# --- Hostile content ----------------------------------------------------------------------------


def test_the_inbox_escapes_hostile_names_and_values(app: Flask, ops_client: FlaskClient) -> None:
    seed(
        app,
        {
            "customer_id": HOSTILE,
            "requester_name": HOSTILE,
            "requester_email": HOSTILE.lower() + "@evil.example",
            "vehicle_code": HOSTILE,
            "vehicle_name": HOSTILE,
            "location": HOSTILE,
            "cost_centre": HOSTILE,
            "po_number": HOSTILE,
            "erp_po_number": HOSTILE,
        },
    )
    add_message(app, subject=HOSTILE)
    pages = [
        ops_client.get("/ops/"),
        ops_client.get("/ops/", query_string={"q": HOSTILE}),
        ops_client.get("/ops/", query_string={"q": "<script>alert(1)</script>"}),
        ops_client.get("/ops/", query_string={"vehicle": HOSTILE}),
        ops_client.get("/ops/", query_string={"customer": HOSTILE, "status": HOSTILE}),
        ops_client.get("/ops/", query_string={"from": HOSTILE}),
    ]
    for response in pages:
        html = response.get_data(as_text=True)
        assert response.status_code == 200
        assert RAW_TAG not in html
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    listed = pages[0].get_data(as_text=True)
    assert HOSTILE_ESCAPED in listed
    assert Html(pages[1]).elements["q"]["value"] == HOSTILE
    assert Html(pages[1]).row_ids == [1]
    assert Html(pages[4]).row_ids == [1]


# --- E-mails that keep failing ------------------------------------------------------------------


def test_failing_e_mails_are_announced_in_the_inbox(app: Flask, ops_client: FlaskClient) -> None:
    [request_id] = seed(app, {})
    assert "failing-mail" not in inbox(ops_client).elements
    add_message(app, status="sent", attempts=1, last_error="")
    add_message(app, status="pending", attempts=2)
    assert "failing-mail" not in inbox(ops_client).elements
    add_message(app, status="failed", request_id=request_id)
    add_message(app, status="pending", attempts=3)
    page = inbox(ops_client)
    assert page.text("failing-mail").startswith("2 e-mails konden niet worden verstuurd")
    assert re.search(r'id="failing-mail"[^<]*<a href="/ops/outbox">', page.source)
    with session_for(app) as session:
        assert failing_count(session) == len(failing_messages(session)) == 2


def test_the_outbox_page_lists_the_failing_e_mails_and_retries_one(
    app: Flask, ops_client: FlaskClient
) -> None:
    [request_id] = seed(app, {})
    sent = add_message(app, status="sent", attempts=1, last_error="")
    failed = add_message(app, status="failed", request_id=request_id, recipient="a@x.example")
    stuck = add_message(app, status="pending", attempts=4, kind="new_request")
    page = Html(ops_client.get("/ops/outbox"))
    assert [int(n) for n in re.findall(r'<tr data-id="(\d+)"', page.source)] == [stuck, failed]
    rows = {
        int(n): [" ".join(c.split()) for c in cells]
        for n, cells in zip(
            re.findall(r'<tr data-id="(\d+)"', page.source), page.tables["messages"], strict=True
        )
    }
    assert rows[failed][:6] == [
        "a@x.example",
        "Bevestigd",
        "Bevestiging",
        "FF-000001",
        "Mislukt, geen nieuwe pogingen meer",
        "8",
    ]
    assert rows[failed][6] == "SMTPRecipientsRefused: 550 no such user"
    assert rows[failed][7] == "–"
    assert rows[stuck][3] == "–"
    assert ("/ops/requests/1", "FF-000001") in [(a["href"], t) for a, t in page.links]

    token = csrf_token_in(page.source)
    response = ops_client.post(f"/ops/outbox/{failed}/retry", data={"csrf_token": token})
    assert response.status_code == 303
    assert response.headers["Location"] == "/ops/outbox"
    with session_for(app) as session:
        message = session.get(OutboxMessage, failed)
        assert (message.status, message.attempts) == ("pending", 0)
        assert message.next_attempt_at <= datetime.now(UTC)
    after = Html(ops_client.get("/ops/outbox"))
    assert "De e-mail aan a@x.example wordt zo opnieuw verstuurd." in after.source
    assert re.findall(r'<tr data-id="(\d+)"', after.source) == [str(stuck)]
    assert inbox(ops_client).text("failing-mail").startswith("1 e-mail kon niet")

    # A sent message, or none at all: nothing changes, and the operator is told.
    for message_id in (sent, 999, 99999999999):
        response = ops_client.post(f"/ops/outbox/{message_id}/retry", data={"csrf_token": token})
        assert response.status_code == 303
        assert "al verstuurd, of bestaat niet" in ops_client.get("/ops/outbox").get_data(
            as_text=True
        )
    with session_for(app) as session:
        assert session.get(OutboxMessage, sent).status == "sent"


def test_a_retry_goes_back_where_it_came_from_on_the_operations_pages_only(
    app: Flask, ops_client: FlaskClient
) -> None:
    message_id = add_message(app)
    token = csrf_token_in(ops_client.get("/ops/outbox").get_data(as_text=True))
    for next_url, expected in (
        ("/ops/requests/1", "/ops/requests/1"),
        ("https://evil.example/", "/ops/outbox"),
        ("//evil.example/ops/", "/ops/outbox"),
    ):
        response = ops_client.post(
            f"/ops/outbox/{message_id}/retry", data={"csrf_token": token, "next": next_url}
        )
        assert response.headers["Location"] == expected


def test_a_retry_without_the_csrf_token_changes_nothing(
    app: Flask, ops_client: FlaskClient
) -> None:
    message_id = add_message(app)
    response = ops_client.post(f"/ops/outbox/{message_id}/retry", data={})
    assert response.status_code == 400
    with session_for(app) as session:
        assert session.get(OutboxMessage, message_id).status == "failed"


def test_the_outbox_page_says_when_nothing_fails(ops_client: FlaskClient) -> None:
    assert "no-failing" in Html(ops_client.get("/ops/outbox")).elements


def test_the_outbox_page_escapes_hostile_values(app: Flask, ops_client: FlaskClient) -> None:
    add_message(app, recipient=HOSTILE, subject=HOSTILE, last_error=HOSTILE, kind=HOSTILE[:30])
    html = ops_client.get("/ops/outbox").get_data(as_text=True)
    assert RAW_TAG not in html
    assert HOSTILE_ESCAPED in html


# --- Dates and links as the operators read them ------------------------------------------------

#: Instants (UTC) either side of Amsterdam's changes to and from summer time, and of a new year
#: that begins an hour before it does in UTC.
AROUND_DST = [
    datetime(2026, 3, 29, 0, 59, tzinfo=UTC),
    datetime(2026, 3, 29, 1, 0, tzinfo=UTC),
    datetime(2026, 10, 25, 0, 59, tzinfo=UTC),
    datetime(2026, 10, 25, 1, 0, tzinfo=UTC),
    datetime(2026, 12, 31, 23, 30, tzinfo=UTC),
]


def test_the_inbox_shows_when_requests_came_in_in_amsterdam_time(
    app: Flask, ops_client: FlaskClient
) -> None:
    for created in AROUND_DST:
        seed(app, {"created_at": created})
    received = [" ".join(row[1].split()) for row in inbox(ops_client).tables["requests"]]
    assert received == [
        "01-01-2027, 00:30",
        "25-10-2026, 02:00",
        "25-10-2026, 02:59",
        "29-03-2026, 03:00",
        "29-03-2026, 01:59",
    ]


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
@pytest.mark.parametrize("language", ["nl", "en"])
def test_list_dates_are_written_as_flask_babel_writes_them(app: Flask, language: str) -> None:
    """The lists format dates from patterns looked up once (:class:`DateFormatter`); the
    other pages use Flask-Babel's filters. Both must write every date alike."""
    with app.test_request_context("/ops/"):
        g.language = language
        dates = date_formatter()
        for at in AROUND_DST + [at.replace(tzinfo=None) for at in AROUND_DST]:
            for format in ("short", "medium", "long", "full"):
                assert dates.datetime(at, format) == format_datetime(at, format), (at, format)
                assert dates.date(at, format) == format_date(at, format), (at, format)
                assert dates.date(at.date(), format) == format_date(at.date(), format)
        summer = {"nl": "29-03-2026, 03:00", "en": "3/29/26, 3:00\u202fAM"}
        assert dates.datetime(AROUND_DST[1], "short") == summer[language]


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
@pytest.mark.parametrize("script_root", ["", "/ociflex", f"/{2**31 - 1}"])
def test_row_links_are_the_addresses_url_for_builds(app: Flask, script_root: str) -> None:
    with app.test_request_context("/ops/", base_url=f"http://localhost{script_root}"):
        request_url = id_url_maker("ops.request_detail", "request_id")
        transfer_url = id_url_maker("ops.transfer_detail", "transfer_id")
        for n in (1, 42, 123_456, 2**31 - 1):
            assert request_url(n) == url_for("ops.request_detail", request_id=n)
            assert transfer_url(n) == url_for("ops.transfer_detail", transfer_id=n)
        assert request_url(7) == f"{script_root}/ops/requests/7"


# --- Every list query is served by an index -----------------------------------------------------


#: The condition of ``po=awaiting`` on SQLite (see ociflex.ops.inbox_query._po_condition).
AWAITING = "likelihood(rental_requests.erp_po_number IS NULL, 0.9)"


def _uses_an_index(dialect: str, statement: str, plan: list[str]) -> bool:
    if dialect == "postgresql":
        text_plan = "\n".join(plan)
        return "Seq Scan" not in text_plan and "Index" in text_plan
    scans = [line for line in plan if line.startswith("SCAN rental_requests")]
    if not scans:
        return any("rental_requests USING" in line for line in plan)
    # The scans allowed walk the table in id order and stop after 51 rows (no sort;
    # test_the_work_of_a_page_does_not_grow... below): the newest page of the whole inbox, and
    # of the requests awaiting a purchase order, as the newest requests mostly do.
    where = " ".join(statement.split()).partition(" WHERE ")[2].partition(" ORDER BY ")[0]
    walks = where in ("", AWAITING) and "ORDER BY rental_requests.id DESC" in statement
    return walks and plan == ["SCAN rental_requests"]


#: The primary key of request_words, which a search by a name's words reads.
WORDS = "words"


def _index_names(dialect: str, names: tuple[str, ...]) -> tuple[str, ...]:
    postgresql = dialect == "postgresql"
    known = {
        "pk": "rental_requests_pkey" if postgresql else "INTEGER PRIMARY KEY",
        WORDS: "request_words_pkey" if postgresql else "request_words USING PRIMARY KEY",
    }
    return tuple(known.get(name, name) for name in names)


#: Newer requests that match no scenario: with them the planner meets a table where a wrong
#: plan costs, as in production, rather than 300 rows that any plan reads in no time.
FILLERS = 20_000


def _explain_seed(app: Flask, *, fillers: int = FILLERS) -> None:
    """300 requests, each filter of the scenarios matching a few; then ``fillers`` more."""
    rows = []
    for n in range(300):
        start = date(2026, 6, 1) + timedelta(days=n % 60)
        if n % 50 == 0:
            start = date(2026, 1, 5)
        if n % 45 == 0:
            start = date(2027, 3, 1)
        rows.append(
            {
                "status": "new" if n % 30 == 0 else "confirmed",
                "customer_id": "acme" if n % 25 == 0 else "demo",
                "vehicle_code": "VAN" if n % 20 == 0 else "COMPACT",
                "start_date": start,
                "end_date": start,
                "requester_name": f"Person {n}",
                "requester_email": f"person{n}@demo.example",
                "cost_centre": str(1000 + n),
                "po_number": f"PO-{n}",
                "erp_po_number": f"45000{n:05d}" if n % 7 == 0 else None,
            }
        )
    seed(app, *rows)
    with session_for(app) as session:
        begin_write(session)
        add_fillers(session, fillers)
        session.commit()
        if session.get_bind().dialect.name == "postgresql":
            session.execute(text("ANALYZE rental_requests"))
            session.commit()


INDEXED = "ix_rental_requests_"
CUSTOMER = (INDEXED + "customer_id_id", INDEXED + "customer_status_id")
#: Scenario, query, the indexes its plans must name (a tuple: any one of them).
EXPLAINED: list[tuple[str, dict[str, str], list[str | tuple[str, ...]]]] = [
    ("newest", {}, []),
    ("older page", {"before": "200"}, ["pk"]),
    ("newer page", {"after": "100"}, ["pk"]),
    ("status", {"status": "new"}, [INDEXED + "status_id"]),
    ("status, older page", {"status": "new", "before": "200"}, [INDEXED + "status_id"]),
    ("customer", {"customer": "acme"}, [CUSTOMER]),
    ("customer, older page", {"customer": "acme", "before": "200"}, [CUSTOMER]),
    (
        "customer and status",
        {"customer": "acme", "status": "new"},
        [INDEXED + "customer_status_id"],
    ),
    ("vehicle", {"vehicle": "VAN"}, [INDEXED + "vehicle_id"]),
    ("po received", {"po": "received"}, [INDEXED + "erp_po_number"]),
    ("po awaiting", {"po": "awaiting"}, []),
    ("po awaiting, older page", {"po": "awaiting", "before": "200"}, ["pk"]),
    ("status, po awaiting", {"status": "confirmed", "po": "awaiting"}, []),
    ("status, po received", {"status": "new", "po": "received"}, []),
    ("customer, po received", {"customer": "acme", "po": "received"}, []),
    ("pickup from", {"from": "2027-01-01"}, [INDEXED + "start_id"]),
    ("pickup until", {"to": "2026-02-01"}, [INDEXED + "start_id"]),
    ("pickup days", {"from": "2026-01-01", "to": "2026-01-31"}, [INDEXED + "start_id"]),
    ("reference", {"q": "FF-000042"}, ["pk"]),
    ("e-mail", {"q": "person42@demo.example"}, [INDEXED + "email"]),
    (
        "name",
        {"q": "person 4"},
        [INDEXED + name for name in ("name_key", "email", "cost_centre", "po_number")]
        + [INDEXED + "erp_po_number"],
    ),
    (
        "number",
        {"q": "1042"},
        ["pk", WORDS] + [INDEXED + name for name in ("email", "cost_centre", "po_number")],
    ),
    # A name's word, read newest first from the word index (tests/test_ops_word_search.py).
    ("name's word", {"q": "person"}, [WORDS]),
    ("name's word, older page", {"q": "person", "before": "200"}, [WORDS]),
    ("name's words, newer page", {"q": "person 42", "after": "100"}, [WORDS]),
]


def _plans(
    app: Flask, ops_client: FlaskClient, query: dict[str, str]
) -> list[tuple[str, Any, list[str]]]:
    with captured_queries(app, "rental_requests") as queries:
        response = ops_client.get("/ops/", query_string=query)
    assert response.status_code == 200
    assert "filter-problems" not in Html(response).elements
    assert queries, query
    return [(sql, params, explain(app, sql, params)) for sql, params in queries]


def test_every_list_query_is_served_by_an_index(app: Flask, ops_client: FlaskClient) -> None:
    _explain_seed(app)
    dialect = app.extensions["ociflex.engine"].dialect.name
    for name, query, indexes in EXPLAINED:
        plans = _plans(app, ops_client, query)
        for statement, _params, plan in plans:
            assert _uses_an_index(dialect, statement, plan), (name, statement, plan)
        everything = "\n".join(line for _, _, plan in plans for line in plan)
        for wanted in indexes:
            choices = _index_names(dialect, wanted if isinstance(wanted, tuple) else (wanted,))
            assert any(index in everything for index in choices), (name, choices, everything)


def test_the_work_of_a_page_does_not_grow_with_the_table(
    app: Flask, ops_client: FlaskClient
) -> None:
    """SQLite's plans name no row counts; its instruction count shows that each inbox query
    reads as few rows with 300 requests as with 20,300."""
    if app.extensions["ociflex.engine"].dialect.name != "sqlite":
        pytest.skip("counts SQLite's instructions; on PostgreSQL the plans above prove it")
    _explain_seed(app, fillers=0)
    measured = []
    for name, query, _indexes in EXPLAINED:
        for statement, params, _plan in _plans(app, ops_client, query):
            measured.append((name, statement, params, sqlite_steps(app, statement, params)))
    with session_for(app) as session:
        begin_write(session)
        add_fillers(session, FILLERS)
        session.commit()
    for name, statement, params, small in measured:
        large = sqlite_steps(app, statement, params)
        assert large <= small * 1.5 + 500, (name, small, large, statement)


def test_the_prefix_search_indexes_are_byte_ordered_on_postgresql(database_url: str) -> None:
    """Alembic's comparison of the schema with the models ignores operator classes: check the
    ones the models ask for are in the migrated database."""
    engine = create_engine(database_url)
    try:
        indexes = {i["name"]: i for i in inspect(engine).get_indexes("rental_requests")}
        wanted = {
            index.name: index.dialect_options["postgresql"]["ops"]
            for index in Base.metadata.tables["rental_requests"].indexes
            if index.dialect_options["postgresql"]["ops"]
        }
        assert set(wanted) == {"ix_rental_requests_email", "ix_rental_requests_name_key"}
        assert INDEXED + "customer_status_id" in indexes
        if engine.dialect.name != "postgresql":
            return
        with engine.connect() as connection:
            definitions = dict(
                connection.execute(
                    text("SELECT indexname, indexdef FROM pg_indexes WHERE tablename = :t"),
                    {"t": "rental_requests"},
                ).all()
            )
        for name, ops in wanted.items():
            for column, opclass in ops.items():
                assert f"({column} {opclass})" in definitions[name], definitions[name]
    finally:
        engine.dispose()


# --- Under a linguistic collation ---------------------------------------------------------------


@pytest.fixture
def icu_database(postgres_server: str) -> Iterator[str]:
    """A migrated database whose text follows ICU's en-US collation, as a production server
    set up with a language locale orders it (the test cluster itself uses C)."""
    admin = create_engine(postgres_server, isolation_level="AUTOCOMMIT")
    name = "ociflex_icu"
    try:
        with admin.connect() as connection:
            connection.execute(text(f"DROP DATABASE IF EXISTS {name}"))
            locale = connection.scalar(
                text("SELECT datcollate FROM pg_database WHERE datname = current_database()")
            )
            try:
                connection.execute(
                    text(
                        f"CREATE DATABASE {name} TEMPLATE template0 ENCODING 'UTF8' "
                        f"LOCALE_PROVIDER icu ICU_LOCALE 'en-US' LOCALE '{locale}'"
                    )
                )
            except Exception as error:  # PostgreSQL < 15, or built without ICU
                pytest.skip(f"no ICU collation here: {error}")
        url = make_url(postgres_server).set(database=name).render_as_string(hide_password=False)
        migrate.upgrade(url)
        yield url
    finally:
        with admin.connect() as connection:
            connection.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        admin.dispose()


def test_prefix_searches_are_exact_and_indexed_under_a_linguistic_collation(
    icu_database: str,
) -> None:
    """Under en-US, "dé vries" and "de-vries" sort between "de v..." names, and "jan_jansen"
    among "jan j...": a plain ``>=``/``<`` range would find them too. (A search with a
    single-letter word compares whole names; the others, words: equal or not, byte for byte.)"""
    engine = create_engine(icu_database)
    names = ["De Vries", "Dé Vries", "De-Vries", "Devries", "Jan Jansen", "Jan_Jansen", "Janj"]
    try:
        with Session(engine) as session:
            session.add_all(
                request_row(requester_name=name, requester_email=f"{n}@x.example")
                for n, name in enumerate(names)
            )
            session.flush()
            fill_request_words(session.connection())
            add_fillers(session, FILLERS)
            session.commit()
            session.execute(text("ANALYZE rental_requests"))
            session.commit()
            statements: list[tuple[str, Any]] = []

            def capture(_c: Any, _cur: Any, statement: str, parameters: Any, *_: Any) -> None:
                statements.append((statement, parameters))

            event.listen(engine, "before_cursor_execute", capture)
            found = {
                q: [row.requester_name for row in fetch_page(session, Filters(q=q)).rows]
                for q in ("de v", "dé v", "de-", "jan j", "jan_")
            }
            event.remove(engine, "before_cursor_execute", capture)
            assert found == {
                "de v": ["De Vries"],
                "dé v": ["Dé Vries"],
                "de-": ["De-Vries"],
                "jan j": ["Jan Jansen"],
                "jan_": ["Jan_Jansen"],
            }
            connection = session.connection().connection.dbapi_connection
            cursor = connection.cursor()
            cursor.execute("SET enable_seqscan = off")
            statement, parameters = statements[0]
            cursor.execute(f"EXPLAIN {statement}", parameters)
            plan = "\n".join(row[0] for row in cursor.fetchall())
            assert "ix_rental_requests_name_key" in plan, plan
            assert "~>=~" in plan, plan
            assert "Seq Scan" not in plan, plan
    finally:
        engine.dispose()


def test_seeded_rows_read_back(app: Flask) -> None:
    """Guards the seeding helper the other tests rely on."""
    ids = seed(app, {"requester_name": "Ann"}, {"requester_name": "Bo", "status": "confirmed"})
    with session_for(app) as session:
        rows = list(session.scalars(select(RentalRequest).order_by(RentalRequest.id)))
    assert [r.id for r in rows] == ids
    assert [r.name_key for r in rows] == ["ann", "bo"]
