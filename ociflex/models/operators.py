"""Euromobil's operations staff: accounts, server-side sessions, login attempts and the trail
of what admins did to the accounts."""

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from ociflex.models.base import Base, UtcDateTime, utcnow


class Operator(Base):
    __tablename__ = "operators"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    #: Lower-case; what the operator types at the login.
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(255), default="")
    #: werkzeug scrypt hash; the password itself is never stored or shown.
    password_hash: Mapped[str] = mapped_column(String(255))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    #: May administer the operators at /ops/operators; the first admin is named on the CLI.
    admin: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class OperatorSession(Base):
    """A logged-in browser. The cookie holds a random token; only its hash is stored, so
    logging out or disabling the operator ends the session everywhere at once."""

    __tablename__ = "operator_sessions"
    __table_args__ = (Index("ix_operator_sessions_operator_id", "operator_id"),)

    #: SHA-256 of the token in the session cookie.
    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    operator_id: Mapped[int] = mapped_column(ForeignKey("operators.id"))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    ended_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    client_address: Mapped[str | None] = mapped_column(String(64))


class LoginAttempt(Base):
    """Failed and successful logins, the shared memory of every gunicorn worker for
    slowing down and locking out password guessing per account and per client address."""

    __tablename__ = "login_attempts"
    __table_args__ = (
        Index("ix_login_attempts_username_at", "username", "at"),
        Index("ix_login_attempts_address_at", "client_address", "at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64))
    client_address: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    succeeded: Mapped[bool] = mapped_column(Boolean)


class OperatorEvent(Base):
    """One change to an operator account, kept for good: who made it, what, whom, when
    and from where. ``actor_id`` and ``client_address`` are None for a change made on the
    command line, by whoever may run it on the server."""

    __tablename__ = "operator_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("operators.id"))
    operator_id: Mapped[int] = mapped_column(ForeignKey("operators.id"))
    #: add, disable, enable, set_password, lift_lockout, grant_admin or revoke_admin.
    action: Mapped[str] = mapped_column(String(20))
    client_address: Mapped[str | None] = mapped_column(String(64))
