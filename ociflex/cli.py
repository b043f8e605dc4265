"""Command line: ``flask --app app ociflex ...``."""

import click
from flask import Flask, current_app
from flask.cli import AppGroup

from ociflex import migrate
from ociflex.customers.cli import customers_cli
from ociflex.mail.cli import outbox_cli
from ociflex.ops.cli import operator_cli

ociflex_cli = AppGroup("ociflex", help="Manage the ociflex punch-out service.")
db_cli = AppGroup("db", help="The database schema.")
ociflex_cli.add_command(db_cli)
ociflex_cli.add_command(outbox_cli)
ociflex_cli.add_command(operator_cli)
ociflex_cli.add_command(customers_cli)


@db_cli.command("upgrade")
@click.argument("revision", default="head")
def db_upgrade(revision: str) -> None:
    """Bring the database schema up to REVISION (default: the newest)."""
    migrate.upgrade(current_app.config["DATABASE_URL"], revision)
    click.echo(f"database schema is at {revision}")


def init_app(app: Flask) -> None:
    app.cli.add_command(ociflex_cli)
