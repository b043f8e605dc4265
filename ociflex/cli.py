"""Command line: ``flask --app app ociflex ...``.

Every command's ``--help`` works in any environment, and so do ``customers check`` and
``customers show``, which read customer files only. The commands that act on the service (its
database, its e-mail) run only with the settings it would start with: without them they exit 1
with the one line that says what to set (see :func:`ociflex.create_app`).
"""

import functools
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import click
from flask import Flask, current_app
from flask.cli import AppGroup, with_appcontext

from ociflex import migrate
from ociflex.db import session_for
from ociflex.devtools.cli import dev_cli
from ociflex.devtools.customers_cli import customers_cli
from ociflex.mail.cli import outbox_cli
from ociflex.models import utcnow
from ociflex.ops.cli import operator_cli
from ociflex.settings import MAX_TRANSFER_RETENTION_DAYS
from ociflex.transfers import prune, prune_start_pages, retention_cutoff

ociflex_cli = AppGroup("ociflex", help="Manage the ociflex punch-out service.")
db_cli = AppGroup("db", help="The database schema.")
transfers_cli = AppGroup(
    "transfers", help="The transfer log of call-ups and baskets (/ops/transfers)."
)


@db_cli.command("upgrade")
@click.argument("revision", default="head")
def db_upgrade(revision: str) -> None:
    """Bring the database schema up to REVISION (default: the newest)."""
    migrate.upgrade(current_app.config["DATABASE_URL"], revision)
    click.echo(f"database schema is at {revision}")


@transfers_cli.command("prune")
@click.option(
    "--days",
    type=click.IntRange(min=1, max=MAX_TRANSFER_RETENTION_DAYS),
    default=None,
    help="Keep this many days instead of OCIFLEX_TRANSFER_RETENTION_DAYS.",
)
def transfers_prune(days: int | None) -> None:
    """Delete transfer-log entries older than the retention period, and the cXML StartPages
    that can no longer be opened (run it daily)."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    days = days or app.config["OCIFLEX_TRANSFER_RETENTION_DAYS"]
    cutoff = retention_cutoff(days)
    expired = utcnow() - timedelta(seconds=app.config["OCIFLEX_START_PAGE_MAX_AGE"])
    with session_for(app) as session:
        deleted = prune(session, cutoff)
        start_pages = prune_start_pages(session, expired)
    when = cutoff.isoformat(timespec="seconds")
    click.echo(f"deleted {deleted} transfer log entries older than {days} days (before {when})")
    click.echo(f"deleted {start_pages} cXML StartPages that can no longer be opened")


def _needing_settings(command: click.Command) -> click.Command:
    """``command``, and every command under it, refusing to run while the app's settings are
    incomplete (``OCIFLEX_SETTINGS_ERROR``); ``--help`` is answered before that check."""
    if isinstance(command, click.Group):
        for subcommand in command.commands.values():
            _needing_settings(subcommand)
    elif command.callback is not None:
        command.callback = with_appcontext(_refusing_without_settings(command.callback))
    return command


def _refusing_without_settings(callback: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(callback)
    def checked(*args: Any, **kwargs: Any) -> Any:
        if error := current_app.config["OCIFLEX_SETTINGS_ERROR"]:
            raise click.ClickException(str(error))
        return callback(*args, **kwargs)

    return checked


# Last: the commands above must be defined before they are wrapped.
for group in (db_cli, transfers_cli, outbox_cli, operator_cli, dev_cli):
    ociflex_cli.add_command(_needing_settings(group))
ociflex_cli.add_command(customers_cli)


def init_app(app: Flask) -> None:
    app.cli.add_command(ociflex_cli)
