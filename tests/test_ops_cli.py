"""``flask --app app ociflex operator ...``: passwords asked twice or read from stdin, never
shown; clear errors with a non-zero exit. On SQLite and PostgreSQL."""

from datetime import timedelta
from pathlib import Path

import pytest
from click.testing import Result
from flask import Flask
from sqlalchemy import select
from werkzeug.security import check_password_hash

from ociflex.db import session_for
from ociflex.models import LoginAttempt, Operator, OperatorEvent, OperatorSession
from ociflex.models.base import utcnow
from ociflex.ops.sessions import token_hash
from tests.conftest import log_in
from tests.support.cli import flask_command

PASSWORD = "a-long-enough-secret"


def _run(app: Flask, *args: str, input: str | None = None) -> Result:
    return app.test_cli_runner().invoke(args=["ociflex", "operator", *args], input=input)


def _stored(app: Flask, username: str) -> Operator | None:
    with session_for(app) as session:
        return session.scalar(select(Operator).where(Operator.username == username))


def test_help_lists_the_commands_and_offers_no_password_argument(app: Flask) -> None:
    result = _run(app, "--help")

    assert result.exit_code == 0
    for command in ("add", "list", "disable", "enable", "set-password", "admin", "prune"):
        assert command in result.output
    add_help = _run(app, "add", "--help").output
    assert "--name" in add_help
    assert "--admin" in add_help
    assert "--password-stdin" in add_help
    assert "--password " not in add_help


def test_add_help_with_the_demo_secret_unset_prints_no_customer_problem(
    tmp_path: Path, customers_dir: Path
) -> None:
    """As on a fresh clone, where OCIFLEX_DEMO_PASSWORD is not set: managing operators needs no
    customer, and reads none."""
    environ = {
        "OCIFLEX_ENV": "development",
        "OCIFLEX_CUSTOMERS_DIR": str(customers_dir),
        "OCIFLEX_INSTANCE_PATH": str(tmp_path / "instance"),
    }

    result = flask_command("ociflex", "operator", "add", "--help", environ=environ)

    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("Usage: ")
    assert result.stderr == ""


def test_add_asks_for_the_password_twice_without_showing_it(app: Flask) -> None:
    result = _run(app, "add", "Piet", "--name", "Piet Jansen", input=f"{PASSWORD}\n{PASSWORD}\n")

    assert result.exit_code == 0, result.output
    assert "operator piet added" in result.output
    assert PASSWORD not in result.output
    piet = _stored(app, "piet")
    assert piet is not None
    assert piet.display_name == "Piet Jansen"
    assert check_password_hash(piet.password_hash, PASSWORD)


def test_add_refuses_passwords_that_differ(app: Flask) -> None:
    result = _run(app, "add", "piet", input=f"{PASSWORD}\nsomething-else-1\n")

    assert result.exit_code != 0
    assert _stored(app, "piet") is None


def test_add_reads_one_line_of_stdin_for_scripts(app: Flask) -> None:
    result = _run(app, "add", "piet", "--password-stdin", input=f"{PASSWORD}\nignored\n")

    assert result.exit_code == 0, result.output
    piet = _stored(app, "piet")
    assert piet is not None
    assert check_password_hash(piet.password_hash, PASSWORD)


@pytest.mark.parametrize(
    ("args", "stdin", "message"),
    [
        (
            ["add", "piet", "--password-stdin"],
            "short\n",
            "The password must have at least 12 characters.",
        ),
        (["add", "piet", "--password-stdin"], "\n", "no password on standard input"),
        (
            ["add", "piet jansen", "--password-stdin"],
            f"{PASSWORD}\n",
            "The user name 'piet jansen' is not allowed",
        ),
        (
            ["add", "olga", "--password-stdin"],
            f"{PASSWORD}\n",
            "There already is an operator 'olga'.",
        ),
        (["disable", "nobody"], None, "There is no operator 'nobody'"),
        (["enable", "nobody"], None, "There is no operator 'nobody'"),
        (["set-password", "nobody"], None, "There is no operator 'nobody'"),
        (["admin", "nobody"], None, "There is no operator 'nobody'"),
    ],
)
def test_errors_are_clear_and_exit_non_zero(
    app: Flask, operator: Operator, args: list[str], stdin: str | None, message: str
) -> None:
    result = _run(app, *args, input=stdin)

    assert result.exit_code == 1
    assert f"Error: {message}" in result.output


def test_list_shows_accounts_but_never_hashes(app: Flask, operator: Operator) -> None:
    _run(app, "add", "piet", "--password-stdin", input=f"{PASSWORD}\n")
    _run(app, "disable", "piet")

    result = _run(app, "list")

    assert result.exit_code == 0
    lines = result.output.splitlines()
    header = ["user", "name", "name", "active", "admin", "last", "login", "(UTC)"]
    assert lines[0].split() == header
    assert lines[1].split() == ["olga", "Olga", "Visser", "yes", "no", "never"]
    assert lines[2].split() == ["piet", "-", "no", "no", "never"]
    assert "scrypt" not in result.output


def test_list_without_operators_says_how_to_add_one(app: Flask) -> None:
    result = _run(app, "list")

    assert result.exit_code == 0
    assert "flask --app app ociflex operator add NAME" in result.output


def test_disable_enable_and_set_password(app: Flask, operator: Operator) -> None:
    assert _run(app, "disable", "OLGA").exit_code == 0
    olga = _stored(app, "olga")
    assert olga is not None
    assert not olga.active

    assert _run(app, "enable", "olga").exit_code == 0
    result = _run(app, "set-password", "olga", input="a-brand-new-secret\n" * 2)

    assert result.exit_code == 0, result.output
    assert "password of operator olga set" in result.output
    olga = _stored(app, "olga")
    assert olga is not None
    assert olga.active
    assert check_password_hash(olga.password_hash, "a-brand-new-secret")


# --- The first admin ---------------------------------------------------------------------------


def test_the_first_admin_comes_from_the_command_line_and_manages_the_operators(
    app: Flask, operator: Operator
) -> None:
    result = _run(app, "add", "boss", "--admin", "--password-stdin", input=f"{PASSWORD}\n")

    assert result.exit_code == 0, result.output
    assert "admin boss added" in result.output
    browser = app.test_client()
    log_in(browser, "boss", PASSWORD)
    assert browser.get("/ops/operators").status_code == 200
    olga = app.test_client()
    log_in(olga)
    assert olga.get("/ops/operators").status_code == 403


def test_admin_grants_and_revoke_takes_the_right_and_the_trail_says_the_command_line_did(
    app: Flask, operator: Operator
) -> None:
    granted = _run(app, "admin", "OLGA")

    assert granted.exit_code == 0, granted.output
    assert "operator olga is now an admin" in granted.output
    olga = _stored(app, "olga")
    assert olga is not None
    assert olga.admin
    _run(app, "add", "boss", "--admin", "--password-stdin", input=f"{PASSWORD}\n")
    revoked = _run(app, "admin", "olga", "--revoke")
    assert revoked.exit_code == 0, revoked.output
    assert "operator olga is no longer an admin" in revoked.output
    olga = _stored(app, "olga")
    assert olga is not None
    assert not olga.admin
    with session_for(app) as session:
        trail = session.execute(
            select(OperatorEvent.action, OperatorEvent.actor_id, OperatorEvent.client_address)
            .join(Operator, Operator.id == OperatorEvent.operator_id)
            .where(Operator.username == "olga")
            .order_by(OperatorEvent.id)
        ).all()
    assert [tuple(entry) for entry in trail] == [
        ("add", None, None),
        ("grant_admin", None, None),
        ("revoke_admin", None, None),
    ]


@pytest.mark.parametrize("command", [["admin", "olga", "--revoke"], ["disable", "olga"]])
def test_the_last_active_admin_stays_one_on_the_command_line_too(
    app: Flask, operator: Operator, command: list[str]
) -> None:
    _run(app, "admin", "olga")

    result = _run(app, *command)

    assert result.exit_code == 1
    assert "Error: olga is the only active admin. Make another operator admin first" in (
        result.output
    )
    olga = _stored(app, "olga")
    assert olga is not None
    assert (olga.active, olga.admin) == (True, True)


# --- Pruning -----------------------------------------------------------------------------------


def _sessions(app: Flask, **ages: tuple[timedelta, timedelta, bool]) -> None:
    """Sessions of olga named by token: (age, unused for, ended)."""
    now = utcnow()
    with session_for(app) as session:
        olga = session.scalar(select(Operator.id).where(Operator.username == "olga"))
        for token, (age, unused, ended) in ages.items():
            session.add(
                OperatorSession(
                    token_hash=token_hash(token),
                    operator_id=olga,
                    created_at=now - age,
                    last_seen_at=now - unused,
                    ended_at=now - unused if ended else None,
                    client_address="192.0.2.10",
                )
            )
        session.commit()


def test_prune_deletes_only_the_sessions_that_can_no_longer_be_resumed(
    app: Flask, operator: Operator
) -> None:
    minute, hour = timedelta(minutes=1), timedelta(hours=1)
    _sessions(
        app,
        working=(2 * hour, minute, False),
        # Idle 29 minutes of the 30 allowed, or 11 hours 59 minutes old of the 12 allowed.
        idle_but_alive=(hour, 29 * minute, False),
        old_but_alive=(12 * hour - minute, minute, False),
        logged_out=(hour, 5 * minute, True),
        idle_too_long=(hour, 31 * minute, False),
        too_old=(12 * hour + minute, minute, False),
    )

    result = _run(app, "prune")

    assert result.exit_code == 0, result.output
    assert "deleted 3 ended or expired operator sessions" in result.output
    with session_for(app) as session:
        kept = set(session.scalars(select(OperatorSession.token_hash)))
    assert kept == {token_hash(t) for t in ("working", "idle_but_alive", "old_but_alive")}


def test_prune_deletes_the_login_attempts_that_no_longer_count(
    app: Flask, operator: Operator
) -> None:
    now = utcnow()
    with session_for(app) as session:
        for hours, succeeded in ((25, False), (25, True), (23, False), (0, True)):
            session.add(
                LoginAttempt(
                    username="olga",
                    client_address="192.0.2.10",
                    at=now - timedelta(hours=hours),
                    succeeded=succeeded,
                )
            )
        session.commit()

    result = _run(app, "prune")

    assert result.exit_code == 0, result.output
    assert "deleted 2 login attempts older than 24 hours" in result.output
    with session_for(app) as session:
        kept = session.scalars(select(LoginAttempt.at).order_by(LoginAttempt.at)).all()
    assert [round((now - at) / timedelta(hours=1)) for at in kept] == [23, 0]
