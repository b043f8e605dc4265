"""E-mail waiting to be sent: written in the same transaction as the change it reports."""

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ociflex.models.base import Base, UtcDateTime, utcnow

#: pending: to be sent (again) at next_attempt_at; sent: delivered to the SMTP server;
#: failed: gave up after too many attempts, shown in the inbox for operations to act on.
OUTBOX_STATUSES = ("pending", "sent", "failed")


class OutboxMessage(Base):
    __tablename__ = "outbox"
    __table_args__ = (
        Index("ix_outbox_status_next_attempt", "status", "next_attempt_at"),
        Index("ix_outbox_request_id", "request_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    #: Stable Message-ID header: a rare double delivery is recognisable as one message.
    message_id: Mapped[str] = mapped_column(String(255), unique=True)
    request_id: Mapped[int | None] = mapped_column(ForeignKey("rental_requests.id"))
    #: confirmation, rejection, cancellation or new_request (to operations).
    kind: Mapped[str] = mapped_column(String(30))
    recipient: Mapped[str] = mapped_column(String(254))
    subject: Mapped[str] = mapped_column(String(255))
    body_text: Mapped[str] = mapped_column(Text)
    body_html: Mapped[str] = mapped_column(Text, default="")
    #: [{"filename", "content_type", "data"}], data as text (an .ics calendar entry).
    attachments: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)

    status: Mapped[str] = mapped_column(String(10), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    last_error: Mapped[str] = mapped_column(Text, default="")
    #: A worker that claimed the message holds it until then (SQLite has no SKIP LOCKED).
    claimed_until: Mapped[datetime | None] = mapped_column(UtcDateTime)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
