"""``flask --app app ociflex dev ...``: tools for developers and benchmarks."""

import click
from flask import current_app
from flask.cli import AppGroup

from ociflex.customers.registry import customers
from ociflex.devtools.seed import seed_customers, seed_requests

dev_cli = AppGroup("dev", help="Tools for development and benchmarks (never for production data).")


@dev_cli.command("seed")
@click.option(
    "--requests",
    "count",
    type=click.IntRange(min=1),
    default=10_000,
    show_default=True,
    help="How many made-up rental requests to add.",
)
@click.option(
    "--customers",
    "customer_count",
    type=click.IntRange(min=1),
    default=None,
    help="Spread them over this many customers: the served ones, then made-up ids "
    "(default: every served customer).",
)
@click.option("--seed", type=int, default=7, show_default=True, help="Seed of the made-up data.")
def seed(count: int, customer_count: int | None, seed: int) -> None:
    """Add made-up requests straight to the database, with their events and status counts.

    Refused with OCIFLEX_ENV=production: made-up requests would land in the real inbox."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    if app.config["OCIFLEX_ENV"] == "production":
        raise click.UsageError(
            "refusing to add made-up requests to a production database; "
            "run with OCIFLEX_ENV=development or testing"
        )
    try:
        chosen = seed_customers(customers().result.customers, customer_count)
    except ValueError as error:  # no customer served (each file's problem is logged above)
        raise click.ClickException(str(error)) from None
    report = seed_requests(app.extensions["ociflex.engine"], count, chosen, seed=seed)
    click.echo(
        f"added {report.requests} requests ({report.first_id}..{report.last_id}) and "
        f"{report.events} events for {len(chosen)} customers in {report.seconds:.1f} s"
    )
