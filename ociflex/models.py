"""Database models (SQLAlchemy 2). Schema changes go through Alembic: ``ociflex/migrations``."""

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    Date,
    DateTime,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


def utcnow() -> datetime:
    return datetime.now(UTC)


REFERENCE_PREFIX = "FF-"


def format_reference(request_id: int) -> str:
    return f"{REFERENCE_PREFIX}{request_id:06d}"


def parse_reference(text: str) -> int | None:
    """The request id in a reference such as ``FF-000123`` or ``ff-123``; None if it is none."""
    text = text.strip().upper()
    if text.startswith(REFERENCE_PREFIX):
        text = text[len(REFERENCE_PREFIX) :]
    return int(text) if text.isdigit() and len(text) <= 12 else None


class Base(DeclarativeBase):
    pass


class RentalRequest(Base):
    """One employee's request for a vehicle, as registered at the end of a punch-out."""

    __tablename__ = "rental_requests"
    __table_args__ = (
        Index("ix_rental_requests_customer_created", "customer_id", "created_at"),
        Index("ix_rental_requests_status_created", "status", "created_at"),
        UniqueConstraint("punchout_id", name="uq_rental_requests_punchout_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    #: The punch-out session this request ends; unique, so a double submit stores one request.
    punchout_id: Mapped[str] = mapped_column(String(64))
    customer_id: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(20), default="new")
    language: Mapped[str] = mapped_column(String(5))

    requester_email: Mapped[str] = mapped_column(String(254))
    requester_name: Mapped[str] = mapped_column(String(255))
    vehicle_code: Mapped[str] = mapped_column(String(40))
    vehicle_name: Mapped[str] = mapped_column(String(255))
    day_rate: Mapped[Decimal] = mapped_column(Numeric(12, 2))
    currency: Mapped[str] = mapped_column(String(3))
    start_date: Mapped[date] = mapped_column(Date)
    end_date: Mapped[date] = mapped_column(Date)
    days: Mapped[int] = mapped_column(Integer)
    location: Mapped[str | None] = mapped_column(String(255))
    remarks: Mapped[str] = mapped_column(Text, default="")

    #: Every customer field by ociflex name, as finally submitted (after the employee's edits).
    fields: Mapped[dict[str, str]] = mapped_column(JSON)
    #: The call-up parameters as received, in order, without the password.
    callup: Mapped[list[list[str]]] = mapped_column(JSON)
    #: The basket exactly as posted to HOOK_URL: action, target, charset and fields.
    basket: Mapped[dict[str, Any]] = mapped_column(JSON)

    @property
    def reference(self) -> str:
        """Human reference shown to everyone and sent as EXT_QUOTE_ID, e.g. ``FF-000123``."""
        return format_reference(self.id)

    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, onupdate=utcnow
    )
