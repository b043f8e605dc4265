"""The inbox's search finds a request by the start of any word of its requester's name, case and
accents ignored, read newest first from the word index on both engines (issue 14, item 5)."""

import re
from datetime import timedelta
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select, text

from ociflex.booking.form import today
from ociflex.booking.words import name_words, word_rows
from ociflex.db import begin_write, session_for
from ociflex.models import RequestWord
from ociflex.ops.inbox_filters import Filters
from ociflex.ops.inbox_query import PAGE_SIZE, fetch_page
from tests.support.cxml import Buyer, Setup
from tests.support.inbox import add_fillers, args_of, follow, inbox, seed
from tests.support.plans import captured_queries, explain, sqlite_steps
from tests.support.punchout import book_demo, stored


def seed_named(app: Flask, *names: str, **values: Any) -> list[int]:
    """Requests by ``names`` (ids ascending), searchable as registered requests are."""
    return seed(app, *({"requester_name": name, **values} for name in names))


NAMES = [
    "Jan Jansen",  # 1
    "Pieter van den Berg-Jansen",  # 2
    "Zoë O'Brien",  # 3
    "Anna Jansma",  # 4
    "Dé Vries",  # 5
    "Li Wu",  # 6
    "Kees Janssen",  # 7
]


def test_a_request_is_found_by_the_start_of_any_word_of_its_name(
    app: Flask, ops_client: FlaskClient
) -> None:
    assert seed_named(app, *NAMES, requester_email="someone@demo.example") == list(range(1, 8))
    cases = [
        ("jansen", [2, 1]),
        ("jans", [7, 4, 2, 1]),
        ("JAN", [7, 4, 2, 1]),
        ("berg", [2]),
        ("berg-jan", [2]),
        ("van den", [2]),
        # Each word of the search begins a word of the name, in any order.
        ("kees jans", [7]),
        ("jans kees", [7]),
        ("jan jansen", [2, 1]),  # "jan" begins "Jansen" too
        ("zoe", [3]),  # accents ignored, either way round
        ("ZOË", [3]),
        ("brien", [3]),
        ("o'brien", [3]),
        ("de vries", [5]),
        ("dé", [5, 2]),  # "Dé", and "den" as "de" begins it
        ("wu", [6]),
        ("ansen", []),  # a word's start, not its middle
        ("jansen anna", []),
    ]
    for q, expected in cases:
        page = inbox(ops_client, {"q": q})
        assert page.row_ids == expected, q
        assert "filter-problems" not in page.elements, q


def test_a_word_search_keeps_the_other_filters(app: Flask, ops_client: FlaskClient) -> None:
    seed_named(app, "Jan Jansen", "Kees Jansen", customer_id="acme")
    seed_named(app, "Piet Jansen", "Kees Jansen", status="confirmed")
    assert inbox(ops_client, {"q": "jansen"}).row_ids == [4, 3, 2, 1]
    assert inbox(ops_client, {"q": "jansen", "customer": "acme"}).row_ids == [2, 1]
    assert inbox(ops_client, {"q": "kees jansen", "status": "confirmed"}).row_ids == [4]


def test_a_word_search_also_finds_cost_centres_and_addresses(
    app: Flask, ops_client: FlaskClient
) -> None:
    seed_named(app, "Jan Jansen", requester_email="jan@demo.example")
    seed_named(app, "Anna Bakker", requester_email="jansen.office@demo.example")
    seed_named(app, "Bob Smit", cost_centre="jansen")
    assert inbox(ops_client, {"q": "jansen"}).row_ids == [3, 2, 1]


def test_paging_goes_through_many_matches_newest_first(app: Flask, ops_client: FlaskClient) -> None:
    names = [("Piet Jansen" if n % 3 else "Anna Bakker") for n in range(1, 181)]
    ids = seed_named(app, *names)
    matching = [i for i, name in zip(ids, names, strict=True) if "Jansen" in name][::-1]
    assert len(matching) == 120

    first = inbox(ops_client, {"q": "jansen"})
    second = follow(ops_client, first.href("older"))
    third = follow(ops_client, second.href("older"))

    assert first.row_ids + second.row_ids + third.row_ids == matching
    assert "older" not in third.elements
    assert args_of(second.href("older")) == {"q": "jansen", "before": str(matching[99])}
    back = follow(ops_client, third.href("newer"))
    assert back.row_ids == second.row_ids


# --- Served by the word index ---------------------------------------------------------------


#: Requests named "Filler n" that share the word searched with the 300 seeded: enough for a plan
#: that reads every match to show.
SHARING = 20_000
#: Searches and their pages, each read by keyset from the word index.
PAGED = [{"q": "jansen"}, {"q": "jans", "before": "200"}, {"q": "jan jansen", "after": "100"}]
#: With another filter: the index entries read are those of the newest requests with the word
#: until a page meets the filter too (or the planner reads the filter's index and looks the
#: word up for each of its requests, whichever it judges cheaper).
SEARCHES = [*PAGED, {"q": "jansen", "status": "new"}, {"q": "jansen", "customer": "acme"}]


def _explain_seed(app: Flask, sharing: int) -> None:
    """300 requests named Jansen, each 30th new and 25th of acme; then ``sharing`` more that
    have the words of "Jansen" but match no filter."""
    seed_named(app, *(f"Jan Jansen {n}" for n in range(300)), requester_email="x@demo.example")
    with session_for(app) as session:
        begin_write(session)
        session.execute(text("UPDATE rental_requests SET status = 'confirmed' WHERE id % 30 <> 0"))
        session.execute(text("UPDATE rental_requests SET customer_id = 'acme' WHERE id % 25 = 0"))
        session.commit()
    _add_sharing(app, sharing)


def _add_sharing(app: Flask, count: int) -> None:
    with session_for(app) as session:
        begin_write(session)
        first = session.scalar(text("SELECT coalesce(max(id), 0) + 1 FROM rental_requests"))
        add_fillers(session, count)
        rows = [
            row
            for request_id in range(first, first + count)
            for row in word_rows(request_id, "Jansen")
        ]
        if rows:
            session.execute(RequestWord.__table__.insert(), rows)
        session.commit()
        if session.get_bind().dialect.name == "postgresql":
            session.execute(text("ANALYZE rental_requests, request_words"))
            session.commit()


def _statements(
    app: Flask, ops_client: FlaskClient, query: dict[str, str]
) -> list[tuple[str, Any]]:
    with captured_queries(app, "request_words") as queries:
        page = inbox(ops_client, query)
    assert page.row_ids, query
    assert queries, query
    return queries


def test_a_word_search_reads_the_word_index_on_both_engines(
    app: Flask, ops_client: FlaskClient
) -> None:
    _explain_seed(app, SHARING)
    dialect = app.extensions["ociflex.engine"].dialect.name
    for query in SEARCHES:
        for statement, parameters in _statements(app, ops_client, query):
            plan = "\n".join(explain(app, statement, parameters))
            if dialect == "postgresql":
                assert "request_words_pkey" in plan, (query, plan)
                assert "Seq Scan" not in plan, (query, plan)
            else:
                assert "SEARCH request_words USING PRIMARY KEY (word=?" in plan, (query, plan)
                assert not re.search(r"SCAN (rental_requests|request_words)\b", plan), plan


def _word_entries_read(app: Flask, statement: str, parameters: Any) -> list[int]:
    """The rows each read of ``request_words`` returned, as PostgreSQL ran ``statement``."""
    connection = app.extensions["ociflex.engine"].raw_connection()
    try:
        cursor = connection.cursor()
        cursor.execute(f"EXPLAIN (ANALYZE, TIMING OFF) {statement}", parameters)
        plan = [row[0] for row in cursor.fetchall()]
        connection.rollback()
    finally:
        connection.close()
    return [
        int(re.search(r"actual rows=(\d+)", line)[1])  # type: ignore[index]
        for line in plan
        if "on request_words" in line
    ]


def test_a_page_of_a_word_search_reads_a_page_of_the_index_however_many_match(
    app: Flask, ops_client: FlaskClient
) -> None:
    """A page of a word shared by 20,300 requests reads a page of its entries: on SQLite as
    many instructions as with 300; on PostgreSQL, as the executor counts them."""
    dialect = app.extensions["ociflex.engine"].dialect.name
    _explain_seed(app, 0)
    measured = [
        (query, statement, parameters, sqlite_steps(app, statement, parameters))
        for query in PAGED
        for statement, parameters in _statements(app, ops_client, query)
        if dialect == "sqlite"
    ]
    _add_sharing(app, SHARING)
    if dialect == "sqlite":
        for query, statement, parameters, small in measured:
            large = sqlite_steps(app, statement, parameters)
            assert large <= small * 1.5 + 500, (query, small, large)
        return
    for query in PAGED:
        for statement, parameters in _statements(app, ops_client, query):
            read = _word_entries_read(app, statement, parameters)
            assert read, (query, statement)
            assert max(read) <= PAGE_SIZE + 1, (query, read)


# --- Kept by the booking ----------------------------------------------------------------------


def test_a_request_booked_through_a_punch_out_is_found_by_any_word(
    app: Flask, client: FlaskClient, ops_client: FlaskClient, demo_callup: dict[str, str]
) -> None:
    response = book_demo(client, {**demo_callup, "oci_userfullname": "Jan van der Wiel"})
    assert response.status_code == 200
    [request] = stored(app)
    with session_for(app) as session:
        words = session.scalars(
            select(RequestWord.word).where(RequestWord.request_id == request.id)
        ).all()
    assert {"wiel", "van", "der", "jan"} <= set(words)
    assert inbox(ops_client, {"q": "wiel"}).row_ids == [request.id]


def _found_by(app: Flask, q: str) -> list[str]:
    """The requesters' names the inbox's search ``q`` lists."""
    with app.app_context(), session_for(app) as session:
        return [row.requester_name for row in fetch_page(session, Filters(q=q)).rows]


def test_an_edit_keeps_the_requesters_name_and_so_its_words(
    cxml_client: FlaskClient, cxml_app: Flask
) -> None:
    """The words are written once, at the booking: an edit session opens the request with its
    stored fields (ociflex.cxml.setup.punchout_session), and no customer file can make the name
    editable in the form, so a name the buyer's system sends otherwise in an edit is not taken."""
    buyer = Buyer(cxml_client)
    first_day = today() + timedelta(days=14)
    booking = {"start": first_day.isoformat(), "end": first_day.isoformat(), "project": "Apollo"}
    assert buyer.book(buyer.start(), **booking).status_code == 200
    [request] = stored(cxml_app)

    renamed = Setup(
        operation="edit",
        items=[request.reference],
        buyer_cookie="COOKIE-2",
        extrinsics=[
            ("UserEmail", "jane.doe@globex.example"),
            ("FirstName", "Jane"),
            ("LastName", "Peters"),
            ("CostCenter", "CC-410"),
            ("Project", "Apollo"),
        ],
        contact=("Jane Peters", "jane.doe@globex.example"),
    )
    changed = buyer.book(buyer.start(renamed), **{**booking, "vehicle": "PICKUP"})
    assert changed.status_code == 200

    [edited] = stored(cxml_app)
    assert (edited.vehicle_code, edited.requester_name) == ("PICKUP", "Jane Doe")
    assert edited.fields["full_name"] == "Jane Doe"
    assert _found_by(cxml_app, "doe") == ["Jane Doe"]
    assert _found_by(cxml_app, "peters") == []
    with session_for(cxml_app) as session:
        words = set(
            session.scalars(select(RequestWord.word).where(RequestWord.request_id == request.id))
        )
    assert words == name_words("Jane Doe")
