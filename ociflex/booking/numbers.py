"""A request's number before its row exists.

The cart carries the request's reference (``FF-`` and its id), and so does the e-mail to
operations. Taking the number from the inserted row meant building both inside the booking's
write transaction, and on SQLite that held the database's single writer for the whole
booking. With the number taken first, everything is built before the transaction, which then
only writes (:func:`ociflex.booking.register.register_request`).

A number is never handed out twice, by any worker or server: PostgreSQL takes the next value of
the id's own sequence; SQLite, which has no sequences, adds one to ``request_numbers`` in a
transaction of its own (BEGIN IMMEDIATE: one worker at a time, for one tiny statement), never
below the highest id stored, so rows that came in another way (a seeded demo database) are
never met again. A number taken by a booking that is then not stored (a double submit, a cart
its protocol refuses) is not used again: references may have gaps, never duplicates.
"""

from typing import Any

from sqlalchemy import func, literal, select, text
from sqlalchemy.dialects import sqlite
from sqlalchemy.orm import Session

from ociflex.db import write_transaction
from ociflex.models import RentalRequest, RequestNumber


def _sqlite_next() -> Any:
    highest = select(func.coalesce(func.max(RentalRequest.id), 0)).scalar_subquery()
    statement = sqlite.insert(RequestNumber).values(id=1, last=highest + 1)
    return statement.on_conflict_do_update(
        index_elements=[RequestNumber.id],
        # SQLite's max() of two values is the larger one.
        set_={"last": func.max(RequestNumber.last, highest) + literal(1)},
    ).returning(RequestNumber.last)


#: Built once per dialect: every booking runs one.
_NEXT = {
    "postgresql": text("SELECT nextval(pg_get_serial_sequence('rental_requests', 'id'))"),
    "sqlite": _sqlite_next(),
}


def take_request_number(session: Session) -> int:
    """A new request's id, in a transaction of its own (committed: the number is taken)."""
    with write_transaction(session):
        connection = session.connection()
        return int(connection.execute(_NEXT[connection.dialect.name]).scalar_one())
