"""The operations inbox as the tests fill and read it: requests and outbox rows seeded straight
into the database (with the status counts moved as the punch-out moves them), and the inbox
pages fetched and read."""

import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qs, urlsplit

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import insert, text
from sqlalchemy.orm import Session

from ociflex.booking.words import word_rows
from ociflex.db import begin_write, session_for
from ociflex.history import move_count
from ociflex.models import OutboxMessage, RentalRequest, RequestWord, search_key
from tests.support.html import Html

#: A name an attacker would like the inbox to run, and how it must come out instead.
HOSTILE = "<script>alert(1)</script>\"quotes'"
HOSTILE_ESCAPED = "&lt;script&gt;alert(1)&lt;/script&gt;&#34;quotes&#39;"
RAW_TAG = "<script>alert(1)</script>"
CREATED = datetime(2026, 11, 2, 8, 0, tzinfo=UTC)

# --- Seeding ------------------------------------------------------------------------------------


def request_row(**values: Any) -> RentalRequest:
    """A request as the punch-out stores it, with ``values`` in place of the defaults."""
    name = values.get("requester_name", "Piet Pieters")
    row: dict[str, Any] = {
        "punchout_id": uuid.uuid4().hex,
        "customer_id": "demo",
        "status": "new",
        "language": "nl",
        "requester_email": "piet@demo.example",
        "requester_name": name,
        "name_key": search_key(name),
        "vehicle_code": "COMPACT",
        "vehicle_name": "Compacte auto",
        "day_rate": Decimal("39.50"),
        "currency": "EUR",
        "start_date": date(2026, 12, 1),
        "end_date": date(2026, 12, 3),
        "days": 3,
        "location": None,
        "remarks": "",
        "cost_centre": None,
        "po_number": None,
        "fields": {},
        "inbound": {"parameters": []},
        "cart": {"action": "https://erp.example/hook", "target": "", "charset": "utf-8"}
        | {"fields": []},
        "created_at": CREATED,
    }
    row.update(values)
    return RentalRequest(**row)


def seed(app: Flask, *rows: dict[str, Any]) -> list[int]:
    """Store one request per mapping of values, in order (so ids ascend); their ids."""
    with session_for(app) as session:
        begin_write(session)
        stored = [request_row(**values) for values in rows]
        for index, row in enumerate(stored):
            row.created_at = row.created_at + timedelta(minutes=index)
        session.add_all(stored)
        session.flush()
        # Searchable by any word, as a registered request is.
        words = [word for row in stored for word in word_rows(row.id, row.requester_name)]
        if words:
            session.execute(insert(RequestWord), words)
        for row in stored:
            move_count(session, row.customer_id, None, row.status)
        session.commit()
        return [row.id for row in stored]


def seed_many(app: Flask, count: int, **values: Any) -> list[int]:
    return seed(app, *({"requester_name": f"Person {n}", **values} for n in range(count)))


_FILLERS = """
INSERT INTO rental_requests (punchout_id, customer_id, status, language, version,
    requester_email, requester_name, name_key, vehicle_code, vehicle_name, day_rate, currency,
    start_date, end_date, days, remarks, fields, inbound, cart, ops_notes, reason,
    created_at, updated_at)
SELECT 'filler-' || i, 'demo', 'confirmed', 'nl', 1, 'filler' || i || '@demo.example',
    'Filler ' || i, 'filler ' || i, 'COMPACT', 'Compacte auto', 39.5, 'EUR',
    '2026-07-01', '2026-07-01', 1, '', '{}', '[]', '{}', '', '',
    '2026-11-02 08:00:00.000000', '2026-11-02 08:00:00.000000'
"""


def add_fillers(session: Session, count: int) -> None:
    """``count`` newer requests in one statement (confirmed, demo, COMPACT, 1 July 2026): the
    volume of a busy year, which none of the test filters or searches match."""
    if count <= 0:
        return
    if session.get_bind().dialect.name == "postgresql":
        statement = _FILLERS + "FROM generate_series(1, :count) AS g(i)"
    else:
        recursive = (
            "WITH RECURSIVE g(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM g WHERE i < :count)"
        )
        statement = recursive + _FILLERS + "FROM g"
    session.execute(text(statement), {"count": count})
    session.execute(
        text(
            "UPDATE request_status_counts SET count = count + :count "
            "WHERE customer_id = 'demo' AND status = 'confirmed'"
        ),
        {"count": count},
    )


def add_message(app: Flask, **values: Any) -> int:
    """An outbox row, as the worker leaves it."""
    row: dict[str, Any] = {
        "message_id": f"<{uuid.uuid4()}@test>",
        "kind": "confirmation",
        "recipient": "jan@demo.example",
        "subject": "Bevestigd",
        "body_text": "...",
        "status": "failed",
        "attempts": 8,
        "last_error": "SMTPRecipientsRefused: 550 no such user",
    }
    row.update(values)
    with session_for(app) as session:
        begin_write(session)
        message = OutboxMessage(**row)
        session.add(message)
        session.commit()
        return message.id


# --- Reading the inbox -------------------------------------------------------------------------


def inbox(client: FlaskClient, query: dict[str, str] | str | None = None) -> Html:
    response = client.get("/ops/", query_string=query or {})
    assert response.status_code == 200, response.get_data(as_text=True)
    return Html(response)


def follow(client: FlaskClient, href: str) -> Html:
    response = client.get(href)
    assert response.status_code == 200, response.get_data(as_text=True)
    return Html(response)


def args_of(href: str) -> dict[str, str]:
    return {name: values[0] for name, values in parse_qs(urlsplit(href).query).items()}
