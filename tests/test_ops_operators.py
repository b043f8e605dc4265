"""Operator accounts and the login check as functions, without a request: names, password
policy and hashes, sessions ended by disabling and password resets, the lockout's and the
slow-down's arithmetic per user name and address, per address and per user name, equal work
for unknown user names, pruning; the lockouts as the admins' page shows them, and lifting one.
On SQLite and PostgreSQL."""

from collections.abc import Iterator
from datetime import timedelta

import pytest
from flask import Flask
from sqlalchemy import select, update
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash

from ociflex.db import session_for
from ociflex.models import LoginAttempt, Operator, OperatorSession
from ociflex.models.base import utcnow
from ociflex.ops import operators
from ociflex.ops.operators import (
    NAME_BRAKE_FAILURES,
    SLOW_DOWN_MAX,
    LoginLocked,
    LoginTooSoon,
    OperatorError,
    add_operator,
    authenticate,
    disable_operator,
    enable_operator,
    lift_lockout,
    list_operators,
    name_lockouts,
    set_password,
)
from ociflex.ops.sessions import SessionLimits, resume_session, start_session
from tests.conftest import OPERATOR_PASSWORD

LIMITS = SessionLimits(idle_timeout=timedelta(hours=1), max_age=timedelta(hours=1))
#: Olga's desk, and someone who knows her user name.
DESK = "192.0.2.10"
ATTACKER = "203.0.113.66"


@pytest.fixture
def session(app: Flask) -> Iterator[Session]:
    with session_for(app) as session:
        yield session


def test_werkzeugs_scrypt_is_the_production_hash(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(operators, "PASSWORD_METHOD", "scrypt")  # undo the tests' cheap hash

    hashed = operators._hash("a-password-of-length")

    assert hashed.startswith("scrypt:32768:8:1$")
    assert check_password_hash(hashed, "a-password-of-length")


def test_an_operator_is_stored_lower_case_with_a_hash(session: Session) -> None:
    operator = add_operator(session, "  Piet.de-Vries_2 ", "a-long-enough-secret", " Piet ")

    assert operator.username == "piet.de-vries_2"
    assert operator.display_name == "Piet"
    assert operator.active
    assert operator.password_hash.startswith("scrypt:")
    assert "a-long-enough-secret" not in operator.password_hash
    assert check_password_hash(operator.password_hash, "a-long-enough-secret")
    assert [o.username for o in list_operators(session)] == ["piet.de-vries_2"]


@pytest.mark.parametrize(
    "username", ["a", "-olga", ".olga", "olga jansen", "olga@example.nl", "ölga", "x" * 65, ""]
)
def test_user_names_are_restricted(session: Session, username: str) -> None:
    with pytest.raises(OperatorError, match="is not allowed"):
        add_operator(session, username, "a-long-enough-secret")


@pytest.mark.parametrize(
    ("password", "message"),
    [
        ("short-pass1", "at least 12 characters"),
        ("Piet-Jansen1", "must not be the user name"),
        ("x" * 1025, "at most 1024 characters"),
    ],
)
def test_passwords_follow_the_policy(session: Session, password: str, message: str) -> None:
    with pytest.raises(OperatorError, match=message):
        add_operator(session, "piet-jansen1", password)
    assert list_operators(session) == []


def test_a_user_name_is_taken_once_whatever_its_case(session: Session, operator: Operator) -> None:
    with pytest.raises(OperatorError, match="There already is an operator 'olga'"):
        add_operator(session, "OLGA", "another-long-secret")


def test_unknown_operators_are_named_in_the_error(session: Session) -> None:
    for change in (disable_operator, enable_operator):
        with pytest.raises(OperatorError, match="There is no operator 'nobody'"):
            change(session, "nobody")
    with pytest.raises(OperatorError, match="There is no operator 'nobody'"):
        set_password(session, "nobody", "a-long-enough-secret")


def _open_sessions(session: Session, operator_id: int) -> int:
    rows = session.scalars(
        select(OperatorSession).where(
            OperatorSession.operator_id == operator_id, OperatorSession.ended_at.is_(None)
        )
    ).all()
    session.commit()
    return len(rows)


def test_disabling_ends_every_session_and_enabling_does_not_revive_them(
    session: Session, operator: Operator
) -> None:
    tokens = [start_session(session, operator, "127.0.0.1") for _ in range(2)]

    assert disable_operator(session, "olga") == 2

    assert _open_sessions(session, operator.id) == 0
    enable_operator(session, "olga")
    assert all(resume_session(session, token, LIMITS) is None for token in tokens)
    assert authenticate(session, "olga", OPERATOR_PASSWORD, "127.0.0.1") is not None


def test_a_new_password_replaces_the_old_one_and_ends_the_sessions(
    session: Session, operator: Operator
) -> None:
    token = start_session(session, operator, "127.0.0.1")

    set_password(session, "olga", "a-brand-new-secret")

    assert resume_session(session, token, LIMITS) is None
    assert authenticate(session, "olga", OPERATOR_PASSWORD, "127.0.0.1") is None
    assert authenticate(session, "olga", "a-brand-new-secret", "127.0.0.1") is not None


def test_a_disabled_operator_cannot_log_in(session: Session, operator: Operator) -> None:
    disable_operator(session, "olga")

    assert authenticate(session, "olga", OPERATOR_PASSWORD, "127.0.0.1") is None


@pytest.fixture
def hash_checks(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The hashes checked, in order (the checks still run)."""
    checked: list[str] = []

    def check(password_hash: str, password: str) -> bool:
        checked.append(password_hash)
        return check_password_hash(password_hash, password)

    monkeypatch.setattr(operators, "check_password_hash", check)
    return checked


def test_unknown_user_names_cost_one_hash_check_like_known_ones(
    session: Session, operator: Operator, hash_checks: list[str]
) -> None:
    assert authenticate(session, "olga", "wrong-password-1", "127.0.0.1") is None
    assert authenticate(session, "nobody", "wrong-password-1", "127.0.0.1") is None

    known, unknown = hash_checks
    assert known == operator.password_hash
    assert unknown != known
    assert unknown.split("$")[0] == known.split("$")[0]  # the same scrypt cost


def _later(session: Session, delta: timedelta = SLOW_DOWN_MAX) -> None:
    """As if ``delta`` had passed since every attempt so far (by default: any slow-down)."""
    for attempt in session.scalars(select(LoginAttempt)):
        attempt.at -= delta
    session.commit()


def _fail(session: Session, username: str = "olga", address: str = ATTACKER) -> None:
    """A wrong password, tried after the slow-down of the failures before it."""
    _later(session)
    assert authenticate(session, username, "wrong-password-1", address) is None


def _failures(session: Session, *addresses: str, age: timedelta = timedelta(minutes=1)) -> None:
    """One failure of olga's from each address (an address twice: two), ``age`` ago."""
    session.add_all(
        LoginAttempt(username="olga", client_address=address, at=utcnow() - age, succeeded=False)
        for address in addresses
    )
    session.commit()


def test_a_lockout_holds_for_one_user_name_from_one_address_and_skips_the_check(
    session: Session, operator: Operator, hash_checks: list[str]
) -> None:
    for _ in range(5):
        _fail(session)

    with pytest.raises(LoginLocked) as locked:
        authenticate(session, "olga", OPERATOR_PASSWORD, ATTACKER)

    assert len(hash_checks) == 5
    assert locked.value.minutes == 15
    # Another user name from that address, and olga from her desk, are not locked.
    assert authenticate(session, "nobody", "wrong-password-1", ATTACKER) is None
    assert authenticate(session, "olga", OPERATOR_PASSWORD, DESK) is not None


def test_refused_attempts_are_not_kept_so_one_address_never_pulls_the_brake(
    session: Session, operator: Operator, hash_checks: list[str]
) -> None:
    for _ in range(5):
        _fail(session)
    for _ in range(NAME_BRAKE_FAILURES):
        with pytest.raises(LoginLocked):
            authenticate(session, "olga", OPERATOR_PASSWORD, ATTACKER)

    assert authenticate(session, "olga", OPERATOR_PASSWORD, DESK) is not None
    assert len(hash_checks) == 6
    stored = session.scalars(select(LoginAttempt.succeeded).order_by(LoginAttempt.id)).all()
    assert stored == [False] * 5 + [True]


def test_trying_while_locked_does_not_lengthen_the_lock(
    session: Session, operator: Operator
) -> None:
    for _ in range(5):
        _fail(session)
    _later(session, timedelta(minutes=10))
    for _ in range(5):
        with pytest.raises(LoginLocked):
            authenticate(session, "olga", OPERATOR_PASSWORD, ATTACKER)

    with pytest.raises(LoginLocked) as locked:
        authenticate(session, "olga", OPERATOR_PASSWORD, ATTACKER)

    # The oldest failure, a little over 10 minutes old, leaves the window in 5, not 15.
    assert locked.value.minutes == 5


def test_the_lockout_lasts_until_the_fifth_newest_failure_leaves_the_window(
    session: Session, operator: Operator
) -> None:
    now = utcnow()
    session.add_all(
        LoginAttempt(
            username="olga",
            client_address=ATTACKER,
            at=now - timedelta(minutes=minutes),
            succeeded=False,
        )
        for minutes in (14, 12, 9, 7, 2)
    )
    session.commit()

    with pytest.raises(LoginLocked) as locked:
        authenticate(session, "olga", OPERATOR_PASSWORD, ATTACKER)

    # The lock lifts when the oldest of the five, 14 minutes old, leaves the 15-minute window.
    assert timedelta(seconds=55) < locked.value.retry_after <= timedelta(minutes=1)
    assert locked.value.minutes == 1


def test_attempts_of_other_workers_in_progress_count_as_failures(
    session: Session, operator: Operator
) -> None:
    """Each attempt is stored (as failed) and committed before it checks anything: five
    parallel guesses still being checked elsewhere lock out a sixth."""
    _failures(session, *[ATTACKER] * 5, age=timedelta(0))

    with pytest.raises(LoginLocked):
        authenticate(session, "olga", OPERATOR_PASSWORD, ATTACKER)


@pytest.mark.parametrize(("failures", "locked"), [(49, False), (50, True)])
def test_the_brake_locks_a_user_name_for_every_address_after_50_failures(
    session: Session, operator: Operator, failures: int, locked: bool
) -> None:
    """Ten addresses with five failures each (the most each may have) pull the brake."""
    _failures(session, *(f"198.51.100.{n // 5}" for n in range(failures)))

    if locked:
        with pytest.raises(LoginLocked) as refused:
            authenticate(session, "olga", OPERATOR_PASSWORD, DESK)
        assert refused.value.minutes == 14
    else:
        assert authenticate(session, "olga", OPERATOR_PASSWORD, DESK) is not None
    assert authenticate(session, "nobody", "wrong-password-1", DESK) is None


def test_a_success_restarts_the_count_of_its_own_address_only(
    session: Session, operator: Operator
) -> None:
    for _ in range(4):
        _fail(session)
        _fail(session, address=DESK)
    _later(session)
    assert authenticate(session, "olga", OPERATOR_PASSWORD, DESK) is not None

    _fail(session)  # the attacker's 5th
    _fail(session, address=DESK)  # olga's 1st since she logged in

    with pytest.raises(LoginLocked):
        authenticate(session, "olga", OPERATOR_PASSWORD, ATTACKER)
    assert authenticate(session, "olga", OPERATOR_PASSWORD, DESK) is not None


def test_the_address_lockout_counts_every_user_name(session: Session, operator: Operator) -> None:
    for n in range(20):
        _fail(session, f"guess{n}")

    with pytest.raises(LoginLocked):
        authenticate(session, "olga", OPERATOR_PASSWORD, ATTACKER)
    assert authenticate(session, "olga", OPERATOR_PASSWORD, DESK) is not None


@pytest.mark.parametrize(
    ("names", "wait"),
    [
        (["olga"] * 2, 0.5),
        (["olga"] * 3, 1.0),
        (["olga"] * 4, 1.5),
        (["guess"] * 10, 0.5),
        (["guess"] * 15, 3.0),
        (["guess"] * 19, 3.0),
    ],
)
def test_an_attempt_sooner_than_the_slow_down_allows_is_refused_unchecked_and_not_kept(
    session: Session,
    operator: Operator,
    hash_checks: list[str],
    monkeypatch: pytest.MonkeyPatch,
    names: list[str],
    wait: float,
) -> None:
    """Half a second more per failure of the user name from the address beyond 2, or of the
    address beyond 10, at most 3 s, counted from the newest failure; nobody is kept waiting."""
    now = utcnow()
    monkeypatch.setattr(operators, "utcnow", lambda: now)
    session.add_all(
        LoginAttempt(username=name, client_address=ATTACKER, at=now, succeeded=False)
        for name in names
    )
    session.commit()

    with pytest.raises(LoginTooSoon) as refused:
        authenticate(session, "olga", OPERATOR_PASSWORD, ATTACKER)
    assert refused.value.retry_after == timedelta(seconds=wait)
    assert hash_checks == []
    assert len(session.scalars(select(LoginAttempt)).all()) == len(names)


def test_an_attempt_after_the_slow_down_is_checked(session: Session, operator: Operator) -> None:
    _failures(session, *[ATTACKER] * 4, age=timedelta(0))
    with pytest.raises(LoginTooSoon):
        authenticate(session, "olga", OPERATOR_PASSWORD, ATTACKER)

    _later(session, timedelta(seconds=1.5))

    assert authenticate(session, "olga", OPERATOR_PASSWORD, ATTACKER) is not None


def test_old_attempts_are_pruned_now_and_then(
    session: Session, operator: Operator, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(operators, "PRUNE_EVERY", 1)
    session.add_all(
        LoginAttempt(username="olga", client_address="127.0.0.1", at=at, succeeded=False)
        for at in (utcnow() - timedelta(hours=25), utcnow() - timedelta(hours=23))
    )
    session.commit()

    authenticate(session, "olga", OPERATOR_PASSWORD, "127.0.0.1")

    ages = session.scalars(select(LoginAttempt.at).order_by(LoginAttempt.at)).all()
    assert len(ages) == 2
    assert utcnow() - ages[0] < timedelta(hours=24)


def test_a_success_is_recorded_with_the_last_login(session: Session, operator: Operator) -> None:
    session.execute(update(Operator).values(last_login_at=None))
    session.commit()

    olga = authenticate(session, "Olga", OPERATOR_PASSWORD, "127.0.0.1")

    assert olga is not None
    assert olga.last_login_at is not None
    attempt = session.scalars(select(LoginAttempt)).one()
    assert (attempt.username, attempt.client_address, attempt.succeeded) == (
        "olga",
        "127.0.0.1",
        True,
    )


# --- Lockouts as admins see and lift them ------------------------------------------------------


def test_the_lockouts_shown_count_as_the_login_does(session: Session, operator: Operator) -> None:
    """Olga locked from two addresses, not from her desk (a success there restarted its count);
    piet held by the brake; kees slowed down but not locked."""
    add_operator(session, "piet", "a-long-enough-secret")
    _failures(session, *[ATTACKER] * 5, *["198.51.100.1"] * 5, *[DESK] * 5)
    session.add(LoginAttempt(username="olga", client_address=DESK, at=utcnow(), succeeded=True))
    session.add_all(
        LoginAttempt(
            username=name,
            client_address=f"198.51.100.{n // 5 + 10}",
            at=utcnow() - timedelta(minutes=minutes),
            succeeded=False,
        )
        for name, count, minutes in (("piet", NAME_BRAKE_FAILURES, 3), ("kees", 4, 1))
        for n in range(count)
    )
    session.commit()
    now = utcnow()

    lockouts = name_lockouts(session, ["olga", "piet", "kees", "nobody"], now)

    assert set(lockouts) == {"olga", "piet"}
    assert (lockouts["olga"].addresses, lockouts["olga"].everybody) == (2, False)
    assert timedelta(minutes=13) < lockouts["olga"].until - now <= timedelta(minutes=14)
    assert (lockouts["piet"].addresses, lockouts["piet"].everybody) == (10, True)
    with pytest.raises(LoginLocked):
        authenticate(session, "olga", OPERATOR_PASSWORD, "198.51.100.1")
    assert authenticate(session, "olga", OPERATOR_PASSWORD, DESK) is not None


def test_lifting_a_lockout_forgets_the_failures_of_that_user_name_only(
    session: Session, operator: Operator
) -> None:
    _failures(session, *[ATTACKER] * 5)
    session.add_all(
        LoginAttempt(username=f"guess{n}", client_address=ATTACKER, at=utcnow(), succeeded=False)
        for n in range(3)
    )
    session.add(LoginAttempt(username="olga", client_address=DESK, at=utcnow(), succeeded=True))
    session.commit()

    assert lift_lockout(session, "OLGA") == 5

    left = session.execute(select(LoginAttempt.username, LoginAttempt.succeeded)).all()
    assert sorted(tuple(row) for row in left) == [
        ("guess0", False),
        ("guess1", False),
        ("guess2", False),
        ("olga", True),
    ]
    assert name_lockouts(session, ["olga"], utcnow()) == {}
    _later(session)
    assert authenticate(session, "olga", OPERATOR_PASSWORD, ATTACKER) is not None


def test_an_address_locked_by_other_user_names_stays_locked_after_lifting(
    session: Session, operator: Operator
) -> None:
    for n in range(20):
        _fail(session, f"guess{n}")

    lift_lockout(session, "olga")

    with pytest.raises(LoginLocked):
        authenticate(session, "olga", OPERATOR_PASSWORD, ATTACKER)


def test_a_lockout_lifted_while_the_operator_logs_in_does_not_fail_her_login(
    app: Flask, session: Session, operator: Operator, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The admin's lift deletes her attempt, still being checked, from under the login."""

    def check_while_an_admin_lifts(password_hash: str, password: str) -> bool:
        with session_for(app) as admins_session:
            lift_lockout(admins_session, "olga")
        return check_password_hash(password_hash, password)

    monkeypatch.setattr(operators, "check_password_hash", check_while_an_admin_lifts)

    olga = authenticate(session, "olga", OPERATOR_PASSWORD, DESK)

    assert olga is not None
    assert olga.last_login_at is not None
