"""``flask --app app ...`` as a shell runs it.

A command that does not use the customers does not read their files, so a customer's missing
secret is none of its output. Help and the customer file tools work on a machine that has none
of the service's settings (a developer's fresh clone, a customer repository's CI); the commands
that act on the service say in one line what is missing, never with a traceback.
"""

from collections.abc import Iterator
from pathlib import Path

import click
import pytest

from ociflex.cli import ociflex_cli
from tests.conftest import ACME_PASSWORD, DEMO_PASSWORD
from tests.support.cli import flask_command

#: What production prints when SECRET_KEY is not set (see ociflex.settings).
NO_SECRET_KEY = "Error: SECRET_KEY is not set. Set it to a long random value"


def command_paths(command: click.Command, path: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    """The path of every command under ``command`` (``("db", "upgrade")``, ...)."""
    if isinstance(command, click.Group):
        for name, subcommand in command.commands.items():
            yield from command_paths(subcommand, (*path, name))
    else:
        yield path


@pytest.fixture
def bare_environ(tmp_path: Path) -> dict[str, str]:
    """No OCIFLEX_ENV (so production), no SECRET_KEY; a database the test can look for."""
    return {
        "OCIFLEX_INSTANCE_PATH": str(tmp_path / "instance"),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'ociflex.sqlite3'}",
    }


def test_commands_that_do_not_use_the_customers_do_not_read_them(
    tmp_path: Path, customers_dir: Path
) -> None:
    # As on a fresh clone: development, and the demo customer's secret not set.
    environ = {
        "OCIFLEX_ENV": "development",
        "OCIFLEX_CUSTOMERS_DIR": str(customers_dir),
        "OCIFLEX_INSTANCE_PATH": str(tmp_path / "instance"),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'ociflex.sqlite3'}",
    }
    commands = [
        ["db", "upgrade"],
        ["operator", "list"],
        ["outbox", "status"],
        ["transfers", "prune"],
        ["customers", "--help"],
    ]
    for command in commands:
        result = flask_command("ociflex", *command, environ=environ)

        assert result.returncode == 0, (command, result.stderr)
        assert "ociflex.customers" not in result.stderr, (command, result.stderr)
        assert "OCIFLEX_DEMO_PASSWORD" not in result.stdout + result.stderr, command


@pytest.mark.parametrize(
    "command",
    [(), ("ociflex",), *command_paths(ociflex_cli, ("ociflex",))],
    ids=lambda command: " ".join(command) or "flask",
)
def test_every_command_s_help_works_without_the_service_s_settings(
    bare_environ: dict[str, str], command: tuple[str, ...]
) -> None:
    result = flask_command(*command, "--help", environ=bare_environ)

    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("Usage: ")
    assert result.stderr == ""


def test_customer_files_are_checked_and_shown_without_the_secret_key(
    bare_environ: dict[str, str], customers_dir: Path
) -> None:
    # A customer repository's CI: the customers' secrets, none of the service's.
    environ = {
        **bare_environ,
        "OCIFLEX_CUSTOMERS_DIR": str(customers_dir),
        "OCIFLEX_DEMO_PASSWORD": DEMO_PASSWORD,
        "OCIFLEX_ACME_PASSWORD": ACME_PASSWORD,
    }

    check = flask_command("ociflex", "customers", "check", environ=environ)
    show = flask_command("ociflex", "customers", "show", "demo", environ=environ)

    assert (check.returncode, check.stdout, check.stderr) == (
        0,
        "2 customer files checked: 2 valid\n",
        "",
    )
    assert show.returncode == 0, show.stderr
    assert "\n  /oci/demo\n" in show.stdout
    assert show.stderr == ""


@pytest.mark.parametrize(
    "command",
    [
        ("run",),
        ("ociflex", "db", "upgrade"),
        ("ociflex", "operator", "list"),
        ("ociflex", "outbox", "status"),
        ("ociflex", "transfers", "prune"),
        ("ociflex", "dev", "seed", "--requests", "1"),
    ],
    ids=" ".join,
)
def test_a_command_that_acts_on_the_service_names_the_missing_key_in_one_line(
    bare_environ: dict[str, str], tmp_path: Path, command: tuple[str, ...]
) -> None:
    result = flask_command(*command, environ=bare_environ)

    assert result.returncode == 1
    assert result.stderr.startswith(NO_SECRET_KEY)
    assert len(result.stderr.splitlines()) == 1, result.stderr
    assert not (tmp_path / "ociflex.sqlite3").exists()  # it did nothing


def test_a_wrong_setting_is_one_line_too(bare_environ: dict[str, str]) -> None:
    environ = {**bare_environ, "OCIFLEX_ENV": "prod"}

    result = flask_command("ociflex", "customers", "check", environ=environ)

    assert result.returncode == 1
    assert result.stderr == (
        "Error: OCIFLEX_ENV must be one of development, testing, production, not 'prod'\n"
    )
