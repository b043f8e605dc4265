"""Operator accounts and the login check as functions, without a request: names, password
policy and hashes, sessions ended by disabling and password resets, the lockout's arithmetic,
equal work for unknown user names, pruning. On SQLite and PostgreSQL."""

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
    LoginLocked,
    OperatorError,
    add_operator,
    authenticate,
    disable_operator,
    enable_operator,
    list_operators,
    set_password,
)
from ociflex.ops.sessions import resume_session, start_session
from tests.conftest import OPERATOR_PASSWORD

LONG = timedelta(hours=1)


@pytest.fixture
def session(app: Flask) -> Iterator[Session]:
    with session_for(app) as session:
        yield session


@pytest.fixture
def pauses(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    waits: list[float] = []
    monkeypatch.setattr(operators, "pause", waits.append)
    return waits


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
    assert all(
        resume_session(session, token, idle_timeout=LONG, max_age=LONG) is None for token in tokens
    )
    assert authenticate(session, "olga", OPERATOR_PASSWORD, "127.0.0.1") is not None


def test_a_new_password_replaces_the_old_one_and_ends_the_sessions(
    session: Session, operator: Operator
) -> None:
    token = start_session(session, operator, "127.0.0.1")

    set_password(session, "olga", "a-brand-new-secret")

    assert resume_session(session, token, idle_timeout=LONG, max_age=LONG) is None
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
    session: Session, operator: Operator, hash_checks: list[str], pauses: list[float]
) -> None:
    assert authenticate(session, "olga", "wrong-password-1", "127.0.0.1") is None
    assert authenticate(session, "nobody", "wrong-password-1", "127.0.0.1") is None

    known, unknown = hash_checks
    assert known == operator.password_hash
    assert unknown != known
    assert unknown.split("$")[0] == known.split("$")[0]  # the same scrypt cost


def test_a_lockout_is_per_user_name_and_skips_the_check(
    session: Session, operator: Operator, hash_checks: list[str], pauses: list[float]
) -> None:
    for _ in range(5):
        assert authenticate(session, "olga", "wrong-password-1", "127.0.0.1") is None

    with pytest.raises(LoginLocked) as locked:
        authenticate(session, "olga", OPERATOR_PASSWORD, "127.0.0.1")

    assert len(hash_checks) == 5
    assert locked.value.minutes == 15
    assert pauses == [0.5, 1.0, 1.5]
    # Another user name from the same address is not locked.
    assert authenticate(session, "nobody", "wrong-password-1", "127.0.0.1") is None


def test_the_lockout_lasts_until_the_fifth_newest_failure_leaves_the_window(
    session: Session, operator: Operator, pauses: list[float]
) -> None:
    now = utcnow()
    session.add_all(
        LoginAttempt(
            username="olga",
            client_address="127.0.0.1",
            at=now - timedelta(minutes=minutes),
            succeeded=False,
        )
        for minutes in (14, 12, 9, 7, 2)
    )
    session.commit()

    with pytest.raises(LoginLocked) as locked:
        authenticate(session, "olga", OPERATOR_PASSWORD, "127.0.0.1")

    # With this refused attempt, the 5 newest failures are now, 2, 7, 9 and 12 minutes old:
    # the lock lifts when the one of 12 minutes leaves the 15-minute window.
    assert timedelta(minutes=2, seconds=55) < locked.value.retry_after <= timedelta(minutes=3)
    assert locked.value.minutes == 3


def test_attempts_of_other_workers_in_progress_count_as_failures(
    session: Session, operator: Operator, pauses: list[float]
) -> None:
    """Each attempt is stored (as failed) and committed before it checks anything: five
    parallel guesses still being checked elsewhere lock out a sixth."""
    session.add_all(
        LoginAttempt(username="olga", client_address=f"10.0.0.{n}", at=utcnow(), succeeded=False)
        for n in range(5)
    )
    session.commit()

    with pytest.raises(LoginLocked):
        authenticate(session, "olga", OPERATOR_PASSWORD, "10.0.1.1")


def test_the_address_lockout_counts_every_user_name(
    session: Session, operator: Operator, pauses: list[float]
) -> None:
    for n in range(20):
        assert authenticate(session, f"guess{n}", "wrong-password-1", "10.0.0.9") is None

    with pytest.raises(LoginLocked):
        authenticate(session, "olga", OPERATOR_PASSWORD, "10.0.0.9")
    assert authenticate(session, "olga", OPERATOR_PASSWORD, "10.0.0.10") is not None
    # 0.5 s from the 11th attempt on, 3 s at most.
    assert pauses == [0.5, 1.0, 1.5, 2.0, 2.5, 3.0, 3.0, 3.0, 3.0, 3.0]


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
