"""The last request number handed out on SQLite, which has no sequences (PostgreSQL takes the
next value of the ``rental_requests.id`` sequence instead): see
:mod:`ociflex.booking.numbers`."""

from sqlalchemy import Integer
from sqlalchemy.orm import Mapped, mapped_column

from ociflex.models.base import Base


class RequestNumber(Base):
    __tablename__ = "request_numbers"

    #: Always 1: the table holds one row.
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    last: Mapped[int] = mapped_column(Integer)
