"""Requests stored as a worker or the inbox loads them, and the outbox they fill."""

import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from flask import Flask
from sqlalchemy import select

from ociflex.db import begin_write, session_for
from ociflex.mail import compose
from ociflex.mail.outbox import enqueue
from ociflex.models import OutboxMessage, RentalRequest, search_key


def request_values(**changes: Any) -> dict[str, Any]:
    """A Dutch demo request for three days in December, planned by operations."""
    name = changes.pop("requester_name", "Jan Jansen")
    values: dict[str, Any] = {
        "punchout_id": uuid.uuid4().hex,
        "customer_id": "demo",
        "status": "scheduled",
        "language": "nl",
        "requester_email": "jan.jansen@demo.example",
        "requester_name": name,
        "name_key": search_key(name),
        "vehicle_code": "COMPACT",
        "vehicle_name": "Compacte auto (VW Polo of gelijkwaardig)",
        "day_rate": Decimal("39.50"),
        "currency": "EUR",
        "start_date": date(2026, 12, 1),
        "end_date": date(2026, 12, 3),
        "days": 3,
        "location": "Utrecht Papendorp",
        "remarks": "",
        "cost_centre": "4100",
        "fields": {
            "email": "jan.jansen@demo.example",
            "full_name": name,
            "cost_centre": "4100",
            "po_number": "4500012345",
        },
        "inbound": {"parameters": []},
        "cart": {},
        "planned_vehicle": "VW Polo 1.0 TSI",
        "licence_plate": "AB-123-C",
        # 08:00 UTC is 09:00 in Amsterdam in December.
        "pickup_at": datetime(2026, 12, 1, 8, 0, tzinfo=UTC),
        "return_at": datetime(2026, 12, 3, 16, 30, tzinfo=UTC),
        "pickup_location": None,
    }
    values.update(changes)
    return values


def store_request(app: Flask, **changes: Any) -> RentalRequest:
    """Store a request and read it back, as the inbox or the worker would load it."""
    with session_for(app) as session:
        begin_write(session)
        row = RentalRequest(**request_values(**changes))
        session.add(row)
        session.commit()
        row_id = row.id
    with session_for(app) as session:
        loaded = session.get(RentalRequest, row_id)
        assert loaded is not None
        return loaded


def queue(
    app: Flask,
    request: RentalRequest,
    build: Callable[[RentalRequest], compose.Composed] = compose.confirmation,
) -> OutboxMessage:
    # A request context: the notification to operations links to the request's page.
    with app.test_request_context(), session_for(app) as session:
        begin_write(session)
        message = enqueue(session, build(request), request)
        session.commit()
        return message


def outbox(app: Flask) -> list[OutboxMessage]:
    with session_for(app) as session:
        return list(session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))
