"""``flask --app app ociflex ...`` as a shell runs it: a command that does not use the customers
does not read their files, so a customer's missing secret is none of its output."""

from pathlib import Path

from tests.support.cli import flask_command


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
