"""``flask --app app ociflex outbox run|status``: the worker that sends queued e-mail."""

from datetime import datetime

import click
from flask import current_app
from flask.cli import AppGroup

from ociflex.db import session_for
from ociflex.mail.delivery import run_worker
from ociflex.mail.outbox import outbox_status

outbox_cli = AppGroup("outbox", help="E-mail waiting to be sent, and the worker that sends it.")


@outbox_cli.command("run")
@click.option("--once", is_flag=True, help="Send what is due now, then stop.")
@click.option(
    "--interval",
    type=click.FloatRange(min=0.1),
    default=5.0,
    show_default=True,
    help="Seconds between looks at the outbox when nothing is due.",
)
@click.option(
    "--batch",
    type=click.IntRange(min=1, max=1000),
    default=50,
    show_default=True,
    help="Messages claimed at a time.",
)
def run(once: bool, interval: float, batch: int) -> None:
    """Send queued e-mail; stops cleanly on SIGTERM or Ctrl-C. Several may run at once."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    report = run_worker(app, once=once, interval=interval, batch=batch)
    click.echo(f"sent {report.sent}, retried later {report.retried}, failed {report.failed}")


def _when(moment: datetime | None) -> str:
    return moment.isoformat(timespec="seconds") if moment else "-"


@outbox_cli.command("status")
def status() -> None:
    """Messages per status, and how long the oldest pending one has waited."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    with session_for(app) as session:
        state = outbox_status(session)
    for name, count in state.counts.items():
        click.echo(f"{name}: {count}")
    click.echo(f"oldest pending: {_when(state.oldest_pending)}")
    click.echo(f"next attempt: {_when(state.next_attempt)}")
    click.echo(f"needing attention: {state.failing}")
