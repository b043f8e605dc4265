"""``flask --app app ociflex operator ...``: the accounts of the operations inbox.

Passwords are asked for (twice, hidden) or read from the first line of standard input with
``--password-stdin``; never taken as an argument, where they would end up in the shell history
and the process list. The first admin, who manages the other operators at /ops/operators, is
named here (``add --admin`` or ``admin``); the changes are recorded in the operators' trail as
made on the command line.
"""

import sys
from collections.abc import Iterator
from contextlib import contextmanager

import click
from flask import current_app
from flask.cli import AppGroup
from sqlalchemy.orm import Session

from ociflex.db import session_for, write_transaction
from ociflex.models.base import utcnow
from ociflex.ops.operators import (
    ATTEMPT_RETENTION,
    PASSWORD_MIN_LENGTH,
    OperatorError,
    UnknownOperator,
    add_operator,
    disable_operator,
    enable_operator,
    get_operator,
    list_operators,
    prune_login_attempts,
    set_admin,
    set_password,
)
from ociflex.ops.sessions import SessionLimits, prune_sessions

operator_cli = AppGroup(
    "operator",
    help="Operators of the operations inbox (/ops/): add, list, disable, enable, set-password, "
    "admin, prune.",
)

password_stdin_option = click.option(
    "--password-stdin",
    is_flag=True,
    help="Read the password from the first line of standard input (for scripts) "
    "instead of asking for it twice.",
)


@contextmanager
def _operators() -> Iterator[Session]:
    """A database session for an operator command; its refusals become the command's error."""
    with session_for(current_app) as session:
        try:
            yield session
        except OperatorError as error:
            raise click.ClickException(str(error)) from None


def _password(from_stdin: bool) -> str:
    if from_stdin:
        line = sys.stdin.readline()
        password = line.rstrip("\r\n")
        if not password:
            raise click.ClickException("no password on standard input")
        return password
    return click.prompt(
        f"Password (at least {PASSWORD_MIN_LENGTH} characters)",
        hide_input=True,
        confirmation_prompt="Repeat the password",
    )


@operator_cli.command("add")
@click.argument("username")
@click.option("--name", "display_name", default="", help="Full name shown in the inbox.")
@click.option("--admin", is_flag=True, help="Let the operator manage the operators too.")
@password_stdin_option
def add_command(username: str, display_name: str, admin: bool, password_stdin: bool) -> None:
    """Add operator USERNAME, who can then log in at /ops/login."""
    password = _password(password_stdin)
    with _operators() as session:
        operator = add_operator(session, username, password, display_name, admin=admin)
        role = "admin" if admin else "operator"
        click.echo(f"{role} {operator.username} added; log in at /ops/login")


@operator_cli.command("list")
def list_command() -> None:
    """List the operators: user name, name, active, admin, last login (UTC)."""
    with session_for(current_app) as session:
        operators = list_operators(session)
    if not operators:
        click.echo("no operators yet; add one with: flask --app app ociflex operator add NAME")
        return
    rows = [("user name", "name", "active", "admin", "last login (UTC)")]
    for operator in operators:
        last = operator.last_login_at
        rows.append(
            (
                operator.username,
                operator.display_name or "-",
                "yes" if operator.active else "no",
                "yes" if operator.admin else "no",
                last.strftime("%Y-%m-%d %H:%M") if last else "never",
            )
        )
    widths = [max(len(row[column]) for row in rows) for column in range(len(rows[0]))]
    for row in rows:
        click.echo("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)))


@operator_cli.command("disable")
@click.argument("username")
def disable_command(username: str) -> None:
    """Disable operator USERNAME: refuse its logins and end its sessions at once."""
    with _operators() as session:
        ended = disable_operator(session, username)
    click.echo(f"operator {username.strip().lower()} disabled; {ended} session(s) ended")


@operator_cli.command("enable")
@click.argument("username")
def enable_command(username: str) -> None:
    """Enable operator USERNAME again."""
    with _operators() as session:
        operator = enable_operator(session, username)
        click.echo(f"operator {operator.username} enabled")


@operator_cli.command("set-password")
@click.argument("username")
@password_stdin_option
def set_password_command(username: str, password_stdin: bool) -> None:
    """Give operator USERNAME a new password; its open sessions end."""
    with _operators() as session:
        # A known operator first: no point asking for a password for a typo.
        known = get_operator(session, username) is not None
        session.commit()
        if not known:
            raise UnknownOperator(username.strip().lower())
        operator = set_password(session, username, _password(password_stdin))
        click.echo(f"password of operator {operator.username} set; its sessions ended")


@operator_cli.command("admin")
@click.argument("username")
@click.option("--revoke", is_flag=True, help="Take the admin right away instead.")
def admin_command(username: str, revoke: bool) -> None:
    """Make operator USERNAME an admin, who manages the operators at /ops/operators; with
    --revoke, no longer one (the last active admin stays one)."""
    with _operators() as session:
        operator = set_admin(session, username, not revoke)
        change = "is no longer an admin" if revoke else "is now an admin"
        click.echo(f"operator {operator.username} {change}")


@operator_cli.command("prune")
def prune_command() -> None:
    """Delete the operator sessions that have ended or expired, and the login attempts that
    no longer count (run it daily)."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    with session_for(app) as session:
        sessions = prune_sessions(session, SessionLimits.of(app.config))
        with write_transaction(session):
            attempts = prune_login_attempts(session, utcnow())
    hours = int(ATTEMPT_RETENTION.total_seconds() // 3600)
    click.echo(f"deleted {sessions} ended or expired operator sessions")
    click.echo(f"deleted {attempts} login attempts older than {hours} hours")
