"""Operator accounts and the login check, without Flask: used by the login page and the CLI.

Password guessing is slowed down and then locked out per user name and client address, per
client address, and (more slowly) per user name from every address: a stranger who knows an
operator's user name locks it for his own address only. Every attempt is a row in
``login_attempts``, so the limits hold across all gunicorn workers (and servers) that share the
database; a slowed-down attempt is refused with the moment it may come, never kept waiting in
a worker. The functions here commit their own transactions.

Every change to an account is recorded in its trail (:mod:`ociflex.ops.operator_trail`) in the
transaction that makes it, with who made it: an admin in the browser, or the command line.
Once there is an active admin, no change leaves the operators without one.
"""

import logging
import math
import re
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from typing import ClassVar, NamedTuple

from sqlalchemy import ColumnElement, delete, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from ociflex.db import write_transaction
from ociflex.models import LoginAttempt, Operator
from ociflex.models.base import utcnow
from ociflex.ops.operator_trail import COMMAND_LINE, Actor, record
from ociflex.ops.sessions import end_operator_sessions
from ociflex.text import N_

log = logging.getLogger(__name__)

#: werkzeug's scrypt (N=2**15, r=8, p=1 by default): memory-hard, so guessing is expensive.
PASSWORD_METHOD = "scrypt"  # noqa: S105 (a hash method, not a password)
PASSWORD_MIN_LENGTH = 12
#: More than any password manager makes; keeps a pasted novel from being hashed.
PASSWORD_MAX_LENGTH = 1024
#: The longest user name (the column's size, and the forms' limit).
USERNAME_MAX_LENGTH = 64
USERNAME = re.compile(rf"[a-z0-9][a-z0-9._-]{{1,{USERNAME_MAX_LENGTH - 1}}}")
DISPLAY_NAME_MAX_LENGTH = 255

#: Failed logins are counted over this sliding window. An attempt refused by the limits below
#: checks no password and is not kept: it neither counts nor renews a lock.
LOCKOUT_WINDOW = timedelta(minutes=15)
#: This many failures for one user name from one client address within the window lock that
#: user name for that address only, whether or not the account exists: the operator at another
#: address can still log in. A successful login from the address restarts its count.
NAME_LOCKOUT_FAILURES = 5
#: This many failures from one client address within the window lock that address, whatever
#: the user names tried (an office behind one NAT address shares this budget).
ADDRESS_LOCKOUT_FAILURES = 20
#: This many failures for one user name from all addresses together within the window lock
#: that user name for everybody: the brake on a guess spread over many addresses. One address
#: stops at NAME_LOCKOUT_FAILURES, so pulling the brake takes at least ten.
NAME_BRAKE_FAILURES = 50
#: Before a lockout, each failure beyond these counts adds SLOW_DOWN_STEP (at most
#: SLOW_DOWN_MAX) between the newest failure and the next attempt: after 2 failures of a user
#: name from an address the 3rd attempt may come 0.5 s after the 2nd, the 4th 1 s after the
#: 3rd, ... An attempt that comes sooner is refused with the moment it may come.
NAME_SLOW_DOWN_AFTER = 2
ADDRESS_SLOW_DOWN_AFTER = 10
SLOW_DOWN_STEP = timedelta(milliseconds=500)
SLOW_DOWN_MAX = timedelta(seconds=3)
#: Attempts older than this are deleted, every PRUNE_EVERY-th attempt.
ATTEMPT_RETENTION = timedelta(hours=24)
PRUNE_EVERY = 50

#: Column sizes of login_attempts.
_STORED_LENGTH = 64


class OperatorError(ValueError):
    """An operator cannot be added or changed as asked. ``message`` is a catalogue text with
    ``%(name)s`` placeholders filled from ``params`` (translated where it is shown); ``str()``
    is the English sentence, as the command line prints it."""

    def __init__(self, message: str, **params: object) -> None:
        self.message = message
        self.params = params
        super().__init__(message % params)


class UnknownOperator(OperatorError):
    """No operator has the user name."""

    def __init__(self, username: str) -> None:
        super().__init__(N_("There is no operator '%(name)s'."), name=username)


class LoginRefused(Exception):
    """An attempt refused without checking its password: try again after ``retry_after``."""

    #: How the log names the refusal.
    reason: ClassVar[str]

    def __init__(self, retry_after: timedelta) -> None:
        super().__init__(f"login {self.reason} for {retry_after}")
        self.retry_after = retry_after

    @property
    def seconds(self) -> int:
        """Whole seconds to wait, at least 1 (as ``Retry-After`` says it)."""
        return max(1, math.ceil(self.retry_after.total_seconds()))

    @property
    def minutes(self) -> int:
        """Whole minutes to wait, at least 1."""
        return max(1, math.ceil(self.retry_after.total_seconds() / 60))


class LoginLocked(LoginRefused):
    """Too many failures for this user name from this address, from this address, or for this
    user name from everywhere: try again when the oldest counted failure is 15 minutes old."""

    reason = "locked"


class LoginTooSoon(LoginRefused):
    """Sooner after the newest failure than the slow-down allows: try again in a few seconds."""

    reason = "too soon"


def normalise_username(username: str) -> str:
    return username.strip().lower()


def _check_username(username: str) -> str:
    name = normalise_username(username)
    if not USERNAME.fullmatch(name):
        raise OperatorError(
            N_(
                "The user name '%(name)s' is not allowed: use 2 to 64 lower-case letters, "
                "digits, dots, hyphens or underscores, starting with a letter or digit."
            ),
            name=username,
        )
    return name


def _check_password(username: str, password: str) -> None:
    if len(password) < PASSWORD_MIN_LENGTH:
        raise OperatorError(
            N_("The password must have at least %(num)s characters."), num=PASSWORD_MIN_LENGTH
        )
    if len(password) > PASSWORD_MAX_LENGTH:
        raise OperatorError(
            N_("The password must have at most %(num)s characters."), num=PASSWORD_MAX_LENGTH
        )
    if normalise_username(password) == username:
        raise OperatorError(N_("The password must not be the user name."))


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
        raise UnknownOperator(normalise_username(username))
    return operator


def get_operator(session: Session, username: str) -> Operator | None:
    return session.scalar(select(Operator).where(Operator.username == normalise_username(username)))


def _keep_an_admin(session: Session, operator: Operator) -> None:
    """Refuse to take the last active admin away: nobody could manage the operators in the
    browser any more. The active admins' rows stay locked until the caller's transaction ends,
    so two admins revoking each other at once cannot both succeed (SQLite's write transactions
    are serial anyway)."""
    admins = session.scalars(
        select(Operator.id)
        .where(Operator.admin.is_(True), Operator.active.is_(True))
        .order_by(Operator.id)
        .with_for_update()
    ).all()
    if list(admins) == [operator.id]:
        raise OperatorError(
            N_(
                "%(name)s is the only active admin. Make another operator admin first, so that "
                "someone can still manage the operators."
            ),
            name=operator.username,
        )


def add_operator(
    session: Session,
    username: str,
    password: str,
    display_name: str = "",
    *,
    admin: bool = False,
    by: Actor = COMMAND_LINE,
) -> Operator:
    """Create an active operator (an admin with ``admin``); the user name is stored
    lower-case."""
    name = _check_username(username)
    _check_password(name, password)
    display_name = display_name.strip()
    if len(display_name) > DISPLAY_NAME_MAX_LENGTH:
        raise OperatorError(
            N_("The name must have at most %(num)s characters."), num=DISPLAY_NAME_MAX_LENGTH
        )
    password_hash = _hash(password)  # before the write transaction: scrypt takes a while
    taken = OperatorError(N_("There already is an operator '%(name)s'."), name=name)
    try:
        with write_transaction(session):
            if get_operator(session, name) is not None:
                raise taken
            operator = Operator(
                username=name,
                display_name=display_name,
                password_hash=password_hash,
                active=True,
                admin=admin,
            )
            session.add(operator)
            session.flush()
            record(session, by, operator, "add")
            if admin:
                record(session, by, operator, "grant_admin")
    except IntegrityError:  # added by someone else between the check and the commit
        raise taken from None
    log.info("operator added: %s%s", name, " (admin)" if admin else "")
    return operator


def set_password(
    session: Session, username: str, password: str, *, by: Actor = COMMAND_LINE
) -> Operator:
    """Give the operator a new password and end all its sessions (a reset after a leak must
    throw out whoever used the old one)."""
    name = normalise_username(username)
    _check_password(name, password)
    password_hash = _hash(password)
    with write_transaction(session):
        operator = _operator(session, name)
        operator.password_hash = password_hash
        ended = end_operator_sessions(session, operator.id)
        record(session, by, operator, "set_password")
    log.info("operator password set: %s (%d session(s) ended)", name, ended)
    return operator


def disable_operator(session: Session, username: str, *, by: Actor = COMMAND_LINE) -> int:
    """Refuse the operator's logins from now on and end its sessions; how many were ended.
    The last active admin is not disabled."""
    with write_transaction(session):
        operator = _operator(session, username)
        _keep_an_admin(session, operator)
        operator.active = False
        ended = end_operator_sessions(session, operator.id)
        record(session, by, operator, "disable")
    log.info("operator disabled: %s (%d session(s) ended)", operator.username, ended)
    return ended


def enable_operator(session: Session, username: str, *, by: Actor = COMMAND_LINE) -> Operator:
    with write_transaction(session):
        operator = _operator(session, username)
        operator.active = True
        record(session, by, operator, "enable")
    log.info("operator enabled: %s", operator.username)
    return operator


def set_admin(
    session: Session, username: str, admin: bool, *, by: Actor = COMMAND_LINE
) -> Operator:
    """Make the operator an admin, or (``admin`` false) no longer one; the last active admin
    stays one."""
    with write_transaction(session):
        operator = _operator(session, username)
        if not admin:
            _keep_an_admin(session, operator)
        operator.admin = admin
        record(session, by, operator, "grant_admin" if admin else "revoke_admin")
    log.info("operator %s: %s", "made admin" if admin else "no longer admin", operator.username)
    return operator


def lift_lockout(session: Session, username: str, *, by: Actor = COMMAND_LINE) -> int:
    """Forget every failed login attempt of the operator's user name, from every address; how
    many. Its lock from each address and the brake end at once, and so does its slow-down.
    Those failures no longer count towards their addresses' limit either; an address locked by
    the failures of other user names stays locked. Successful attempts are kept."""
    with write_transaction(session):
        operator = _operator(session, username)
        result = session.execute(
            delete(LoginAttempt).where(
                LoginAttempt.username == operator.username, LoginAttempt.succeeded.is_(False)
            )
        )
        record(session, by, operator, "lift_lockout")
    forgotten = result.rowcount or 0  # type: ignore[attr-defined]
    log.info("operator lockout lifted: %s (%d failure(s) forgotten)", operator.username, forgotten)
    return forgotten


def list_operators(session: Session) -> list[Operator]:
    """Every operator, active or not, by user name."""
    operators = list(session.scalars(select(Operator).order_by(Operator.username)))
    session.commit()  # end the read, so the caller may begin_write next
    return operators


# --- Logging in ------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Failures:
    """The recent failures of one limit (see :class:`_Counts`), newest first, at most
    ``limit``."""

    times: list[datetime]
    limit: int
    #: Failures before the slow-down starts; None when this count has no slow-down.
    slow_down_after: int | None = None

    @property
    def locked(self) -> bool:
        return len(self.times) >= self.limit

    @property
    def unlocked_at(self) -> datetime:
        """When the oldest of the ``limit`` newest failures leaves the window."""
        return self.times[self.limit - 1] + LOCKOUT_WINDOW

    @property
    def next_attempt_at(self) -> datetime | None:
        """The earliest moment the slow-down allows another attempt; None: at once."""
        if self.slow_down_after is None or len(self.times) < self.slow_down_after:
            return None
        steps = len(self.times) - self.slow_down_after + 1
        return self.times[0] + min(SLOW_DOWN_STEP * steps, SLOW_DOWN_MAX)


def _recent_failures(
    session: Session,
    attempt: LoginAttempt,
    alike: Sequence[ColumnElement[bool]],
    since: datetime,
    limit: int,
    slow_down_after: int | None = None,
) -> _Failures:
    """Failures other than ``attempt`` that are ``alike`` it, since ``since``. Attempts still
    running count as failures until they succeed: parallel guesses cannot slip past."""
    statement = (
        select(LoginAttempt.at)
        .where(
            *alike,
            LoginAttempt.succeeded.is_(False),
            LoginAttempt.at > since,
            LoginAttempt.id != attempt.id,
        )
        .order_by(LoginAttempt.at.desc())
        .limit(limit)
    )
    return _Failures(list(session.scalars(statement)), limit, slow_down_after)


class _Counts(NamedTuple):
    """The failures that may refuse an attempt."""

    #: Of its user name from its address, since the last success there.
    here: _Failures
    #: From its address, any user name.
    address: _Failures
    #: Of its user name, from any address.
    name: _Failures


def _failures_before(session: Session, attempt: LoginAttempt) -> _Counts:
    """The failures within the window before ``attempt``, as each limit counts them."""
    window_start = attempt.at - LOCKOUT_WINDOW
    same_name = LoginAttempt.username == attempt.username
    same_address = LoginAttempt.client_address == attempt.client_address
    last_success_here = session.scalar(
        select(func.max(LoginAttempt.at)).where(
            same_name,
            same_address,
            LoginAttempt.succeeded.is_(True),
            LoginAttempt.at > window_start,
        )
    )
    return _Counts(
        _recent_failures(
            session,
            attempt,
            [same_name, same_address],
            last_success_here or window_start,
            NAME_LOCKOUT_FAILURES,
            NAME_SLOW_DOWN_AFTER,
        ),
        _recent_failures(
            session,
            attempt,
            [same_address],
            window_start,
            ADDRESS_LOCKOUT_FAILURES,
            ADDRESS_SLOW_DOWN_AFTER,
        ),
        _recent_failures(session, attempt, [same_name], window_start, NAME_BRAKE_FAILURES),
    )


def _refusal(failures: _Counts, now: datetime) -> LoginRefused | None:
    """Why an attempt made ``now`` may not be checked (the longest wait wins), or None."""
    locks = [count.unlocked_at for count in failures if count.locked]
    if locks:
        return LoginLocked(max(locks) - now)
    waits = [at for count in failures if (at := count.next_attempt_at) and at > now]
    if waits:
        return LoginTooSoon(max(waits) - now)
    return None


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


def _forget_attempt(session: Session, attempt: LoginAttempt) -> None:
    """A refused attempt checked nothing, so it is no failure: kept, it would renew the lock
    with every try, and one address could fill the user name's count for everybody."""
    with write_transaction(session):
        session.execute(delete(LoginAttempt).where(LoginAttempt.id == attempt.id))


@dataclass(frozen=True)
class NameLockout:
    """How a user name is locked out by its own failures (see :func:`name_lockouts`)."""

    #: How many client addresses the name is locked for (its failures from each).
    addresses: int
    #: Whether the brake is on: the name is locked for everybody.
    everybody: bool
    #: When the last of these locks ends, unless failures go on.
    until: datetime


def name_lockouts(
    session: Session, usernames: Sequence[str], now: datetime
) -> dict[str, NameLockout]:
    """The user names among ``usernames`` that are locked out ``now``, counted as
    :func:`authenticate` counts them. An address locked by its failures with any names is the
    address's lock, not a name's, and not reported here."""
    attempts = session.execute(
        select(
            LoginAttempt.username,
            LoginAttempt.client_address,
            LoginAttempt.at,
            LoginAttempt.succeeded,
        )
        .where(LoginAttempt.username.in_(usernames), LoginAttempt.at > now - LOCKOUT_WINDOW)
        .order_by(LoginAttempt.at.desc())
    ).all()
    session.commit()
    failures: dict[str, list[datetime]] = defaultdict(list)
    #: user name -> address -> its failures there since its last success there.
    here: dict[str, dict[str, list[datetime]]] = defaultdict(lambda: defaultdict(list))
    succeeded_here: set[tuple[str, str]] = set()
    for username, address, at, succeeded in attempts:  # newest first
        if succeeded:
            succeeded_here.add((username, address))
            continue
        failures[username].append(at)
        if (username, address) not in succeeded_here:
            here[username][address].append(at)
    lockouts = {}
    for username, times in failures.items():
        brake = _Failures(times[:NAME_BRAKE_FAILURES], NAME_BRAKE_FAILURES)
        locks = [
            _Failures(at[:NAME_LOCKOUT_FAILURES], NAME_LOCKOUT_FAILURES)
            for at in here[username].values()
        ]
        locked = [count for count in [brake, *locks] if count.locked]
        if locked:
            lockouts[username] = NameLockout(
                addresses=len(locked) - brake.locked,
                everybody=brake.locked,
                until=max(count.unlocked_at for count in locked),
            )
    return lockouts


def prune_login_attempts(session: Session, now: datetime) -> int:
    """Delete attempts older than :data:`ATTEMPT_RETENTION` (in the caller's transaction)."""
    result = session.execute(delete(LoginAttempt).where(LoginAttempt.at < now - ATTEMPT_RETENTION))
    return result.rowcount or 0  # type: ignore[attr-defined]


def authenticate(
    session: Session, username: str, password: str, client_address: str
) -> Operator | None:
    """The active operator with this user name and password, or None.

    Raises :class:`LoginLocked` or :class:`LoginTooSoon` without checking the password (and
    without waiting) while the limits refuse the attempt; the refusal says nothing about
    whether the account exists. Unknown user names and disabled operators cost one scrypt
    check like everyone else, so timing does not tell them apart. Leaves ``session`` without
    an open transaction.
    """
    username = normalise_username(username)
    attempt = _record_attempt(session, username, client_address)
    failures = _failures_before(session, attempt)
    session.commit()  # no transaction stays open while this attempt hashes
    refusal = _refusal(failures, attempt.at)
    if refusal is not None:
        _forget_attempt(session, attempt)
        log.warning(
            "login refused (%s): username=%r address=%s failures: here=%d address=%d name=%d",
            refusal.reason,
            attempt.username,
            attempt.client_address,
            len(failures.here.times),
            len(failures.address.times),
            len(failures.name.times),
        )
        raise refusal

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
        # By its id, not through the ORM: an admin who lifted a lockout meanwhile has deleted
        # the attempt, and the ORM would fail the login over the row that is gone.
        session.execute(
            update(LoginAttempt).where(LoginAttempt.id == attempt.id).values(succeeded=True)
        )
        operator.last_login_at = utcnow()
    log.info("login: operator=%s address=%s", operator.username, attempt.client_address)
    return operator
