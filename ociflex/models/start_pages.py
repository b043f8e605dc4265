"""cXML punch-out sessions waiting for the employee's browser to open their StartPage.

A cXML punch-out starts server to server: the buyer's system posts a PunchOutSetupRequest and
answers its user with the StartPage URL ociflex gave back. That URL refers to one of these
rows (a random id, signed) rather than carrying the session's data, which a URL would expose
to logs and browser histories. Once the page is open the session travels in the page, as an
OCI punch-out's does; rows older than the StartPage's lifetime are pruned with the transfer
log (they hold personal data).
"""

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from ociflex.models.base import Base, UtcDateTime, utcnow


class StartPage(Base):
    __tablename__ = "start_pages"
    __table_args__ = (Index("ix_start_pages_created_at", "created_at"),)

    #: The punch-out session's id (:attr:`ociflex.booking.session.PunchoutSession.id`).
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    customer_id: Mapped[str] = mapped_column(String(64))
    #: The session as :meth:`~ociflex.booking.session.PunchoutSession.to_json` writes it.
    session: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
