"""Operator accounts and the login check, without Flask: used by the login page and the CLI.

Password guessing is slowed down and then locked out per account and per client address. Every
attempt is a row in ``login_attempts``, so the limits hold across all gunicorn workers (and
servers) that share the database. The functions here commit their own transactions.
"""

import logging
import math
import re
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache

from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from ociflex.db import write_transaction
from ociflex.models import LoginAttempt, Operator
from ociflex.models.base import utcnow
from ociflex.ops.sessions import end_operator_sessions

log = logging.getLogger(__name__)

#: werkzeug's scrypt (N=2**15, r=8, p=1 by default): memory-hard, so guessing is expensive.
PASSWORD_METHOD = "scrypt"  # noqa: S105 (a hash method, not a password)
PASSWORD_MIN_LENGTH = 12
#: More than any password manager makes; keeps a pasted novel from being hashed.
PASSWORD_MAX_LENGTH = 1024
USERNAME = re.compile(r"[a-z0-9][a-z0-9._-]{1,63}")
DISPLAY_NAME_MAX_LENGTH = 255

#: Failed logins are counted over this sliding window. A successful login restarts the count
#: of its account (not of its address).
LOCKOUT_WINDOW = timedelta(minutes=15)
#: This many failures for one user name within the window lock that user name: further
#: attempts are refused without checking the password, whether or not the account exists.
ACCOUNT_LOCKOUT_FAILURES = 5
#: This many failures from one client address within the window lock that address, whatever
#: the user names tried (an office behind one NAT address shares this budget).
ADDRESS_LOCKOUT_FAILURES = 20
#: Before the lockout, an attempt waits SLOW_DOWN_STEP for each failure beyond these counts
#: (so the 3rd attempt after 2 failures waits 0.5 s, the 4th 1 s, ...), at most SLOW_DOWN_MAX.
ACCOUNT_SLOW_DOWN_AFTER = 2
ADDRESS_SLOW_DOWN_AFTER = 10
SLOW_DOWN_STEP = 0.5
SLOW_DOWN_MAX = 3.0
#: Attempts older than this are deleted, every PRUNE_EVERY-th attempt.
ATTEMPT_RETENTION = timedelta(hours=24)
PRUNE_EVERY = 50

#: Column sizes of login_attempts.
_STORED_LENGTH = 64


class OperatorError(ValueError):
    """An operator cannot be added or changed as asked; the message says why (English)."""


class LoginLocked(Exception):
    """Too many failed attempts for this user name or from this address: try again later."""

    def __init__(self, retry_after: timedelta) -> None:
        super().__init__(f"login locked for {retry_after}")
        self.retry_after = retry_after

    @property
    def minutes(self) -> int:
        """Whole minutes to wait, at least 1."""
        return max(1, math.ceil(self.retry_after.total_seconds() / 60))


def pause(seconds: float) -> None:
    """How a slowed-down attempt waits; tests replace it so that they do not sleep."""
    time.sleep(seconds)


def normalise_username(username: str) -> str:
    return username.strip().lower()


def _check_username(username: str) -> str:
    name = normalise_username(username)
    if not USERNAME.fullmatch(name):
        raise OperatorError(
            f"The user name {username!r} is not allowed: use 2 to 64 lower-case letters, "
            "digits, dots, hyphens or underscores, starting with a letter or digit."
        )
    return name


def _check_password(username: str, password: str) -> None:
    if len(password) < PASSWORD_MIN_LENGTH:
        raise OperatorError(f"The password must have at least {PASSWORD_MIN_LENGTH} characters.")
    if len(password) > PASSWORD_MAX_LENGTH:
        raise OperatorError(f"The password must have at most {PASSWORD_MAX_LENGTH} characters.")
    if normalise_username(password) == username:
        raise OperatorError("The password must not be the user name.")


def _hash(password: str) -> str:
    return generate_password_hash(password, method=PASSWORD_METHOD)


@cache
def _dummy_hash() -> str:
    """Checked for unknown user names, so that the answer takes as long as for known ones."""
    return _hash("no operator has this password, it only costs the same time")


def _operator(session: Session, username: str) -> Operator:
    operator = session.scalar(
        select(Operator).where(Operator.username == normalise_username(username))
    )
    if operator is None:
        raise OperatorError(f"There is no operator {normalise_username(username)!r}.")
    return operator


def get_operator(session: Session, username: str) -> Operator | None:
    return session.scalar(select(Operator).where(Operator.username == normalise_username(username)))


def add_operator(
    session: Session, username: str, password: str, display_name: str = ""
) -> Operator:
    """Create an active operator; the user name is stored lower-case."""
    name = _check_username(username)
    _check_password(name, password)
    display_name = display_name.strip()
    if len(display_name) > DISPLAY_NAME_MAX_LENGTH:
        raise OperatorError(f"The name must have at most {DISPLAY_NAME_MAX_LENGTH} characters.")
    password_hash = _hash(password)  # before the write transaction: scrypt takes a while
    try:
        with write_transaction(session):
            if get_operator(session, name) is not None:
                raise OperatorError(f"There already is an operator {name!r}.")
            operator = Operator(
                username=name, display_name=display_name, password_hash=password_hash, active=True
            )
            session.add(operator)
    except IntegrityError:  # added by someone else between the check and the commit
        raise OperatorError(f"There already is an operator {name!r}.") from None
    log.info("operator added: %s", name)
    return operator


def set_password(session: Session, username: str, password: str) -> Operator:
    """Give the operator a new password and end all its sessions (a reset after a leak must
    throw out whoever used the old one)."""
    name = normalise_username(username)
    _check_password(name, password)
    password_hash = _hash(password)
    with write_transaction(session):
        operator = _operator(session, name)
        operator.password_hash = password_hash
        ended = end_operator_sessions(session, operator.id)
    log.info("operator password set: %s (%d session(s) ended)", name, ended)
    return operator


def disable_operator(session: Session, username: str) -> int:
    """Refuse the operator's logins from now on and end its sessions; how many were ended."""
    with write_transaction(session):
        operator = _operator(session, username)
        operator.active = False
        ended = end_operator_sessions(session, operator.id)
    log.info("operator disabled: %s (%d session(s) ended)", operator.username, ended)
    return ended


def enable_operator(session: Session, username: str) -> Operator:
    with write_transaction(session):
        operator = _operator(session, username)
        operator.active = True
    log.info("operator enabled: %s", operator.username)
    return operator


def list_operators(session: Session) -> list[Operator]:
    """Every operator, active or not, by user name."""
    operators = list(session.scalars(select(Operator).order_by(Operator.username)))
    session.commit()  # end the read, so the caller may begin_write next
    return operators


# --- Logging in ------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Failures:
    """The recent failures of one account or address, newest first (at most ``limit``)."""

    times: list[datetime]
    limit: int

    @property
    def locked(self) -> bool:
        return len(self.times) >= self.limit

    def unlocked_at(self, now: datetime) -> datetime:
        """When fewer than ``limit`` failures, this attempt counted, remain in the window."""
        counted = [now, *self.times]
        return counted[self.limit - 1] + LOCKOUT_WINDOW


def _recent_failures(
    session: Session, attempt: LoginAttempt, column: str, since: datetime, limit: int
) -> _Failures:
    """Failures other than ``attempt`` for its user name or address since ``since``. Attempts
    still running count as failures until they succeed: parallel guesses cannot slip past."""
    statement = (
        select(LoginAttempt.at)
        .where(
            getattr(LoginAttempt, column) == getattr(attempt, column),
            LoginAttempt.succeeded.is_(False),
            LoginAttempt.at > since,
            LoginAttempt.id != attempt.id,
        )
        .order_by(LoginAttempt.at.desc())
        .limit(limit)
    )
    return _Failures(list(session.scalars(statement)), limit)


def _record_attempt(session: Session, username: str, client_address: str) -> LoginAttempt:
    """Store the attempt as failed before anything is checked, and commit it at once, so every
    other worker counts it from now on; a successful login marks it afterwards."""
    attempt = LoginAttempt(
        username=username[:_STORED_LENGTH],
        client_address=client_address[:_STORED_LENGTH],
        at=utcnow(),
        succeeded=False,
    )
    with write_transaction(session):
        session.add(attempt)
        session.flush()
        if attempt.id % PRUNE_EVERY == 0:
            prune_login_attempts(session, attempt.at)
    return attempt


def prune_login_attempts(session: Session, now: datetime) -> int:
    """Delete attempts older than :data:`ATTEMPT_RETENTION` (in the caller's transaction)."""
    result = session.execute(delete(LoginAttempt).where(LoginAttempt.at < now - ATTEMPT_RETENTION))
    return result.rowcount or 0  # type: ignore[attr-defined]


def _slow_down(account: _Failures, address: _Failures) -> float:
    extra = max(
        len(account.times) - ACCOUNT_SLOW_DOWN_AFTER + 1,
        len(address.times) - ADDRESS_SLOW_DOWN_AFTER + 1,
        0,
    )
    return min(SLOW_DOWN_STEP * extra, SLOW_DOWN_MAX)


def authenticate(
    session: Session, username: str, password: str, client_address: str
) -> Operator | None:
    """The active operator with this user name and password, or None.

    Raises :class:`LoginLocked` without checking the password while the user name or the
    address is locked out; the lockout says nothing about whether the account exists. Unknown
    user names and disabled operators cost one scrypt check like everyone else, so timing does
    not tell them apart. Leaves ``session`` without an open transaction.
    """
    username = normalise_username(username)
    attempt = _record_attempt(session, username, client_address)
    now = attempt.at
    window_start = now - LOCKOUT_WINDOW
    last_success = session.scalar(
        select(func.max(LoginAttempt.at)).where(
            LoginAttempt.username == attempt.username, LoginAttempt.succeeded.is_(True)
        )
    )
    account_since = max(window_start, last_success) if last_success else window_start
    account = _recent_failures(
        session, attempt, "username", account_since, ACCOUNT_LOCKOUT_FAILURES
    )
    address = _recent_failures(
        session, attempt, "client_address", window_start, ADDRESS_LOCKOUT_FAILURES
    )
    session.commit()  # no transaction stays open while this attempt waits or hashes

    locks = [failures.unlocked_at(now) for failures in (account, address) if failures.locked]
    if locks:
        log.warning(
            "login locked: username=%r address=%s account_failures=%d address_failures=%d",
            attempt.username,
            attempt.client_address,
            len(account.times),
            len(address.times),
        )
        raise LoginLocked(max(locks) - now)
    delay = _slow_down(account, address)
    if delay:
        pause(delay)

    operator = get_operator(session, username)
    session.commit()
    if operator is None:
        check_password_hash(_dummy_hash(), password)
        correct = False
    else:
        correct = check_password_hash(operator.password_hash, password) and operator.active
    if not correct:
        log.warning(
            "login failed: username=%r address=%s", attempt.username, attempt.client_address
        )
        return None

    with write_transaction(session):
        attempt.succeeded = True
        operator.last_login_at = utcnow()
    log.info("login: operator=%s address=%s", operator.username, attempt.client_address)
    return operator
