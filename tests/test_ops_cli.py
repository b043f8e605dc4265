"""``flask --app app ociflex operator ...``: passwords asked twice or read from stdin, never
shown; clear errors with a non-zero exit. On SQLite and PostgreSQL."""

from pathlib import Path

import pytest
from click.testing import Result
from flask import Flask
from sqlalchemy import select
from werkzeug.security import check_password_hash

from ociflex.db import session_for
from ociflex.models import Operator
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
    for command in ("add", "list", "disable", "enable", "set-password"):
        assert command in result.output
    add_help = _run(app, "add", "--help").output
    assert "--name" in add_help
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
    assert lines[0].split() == ["user", "name", "name", "active", "last", "login", "(UTC)"]
    assert lines[1].split() == ["olga", "Olga", "Visser", "yes", "never"]
    assert lines[2].split() == ["piet", "-", "no", "never"]
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
