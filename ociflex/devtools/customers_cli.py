"""``flask --app app ociflex customers check|show``: onboarding a customer.

``check`` validates customer files with the loader, straight from their folder (not the app's
registry, which read them when the app started), and prints each problem as ``file:line:
key.path: message``; its exit status makes it usable in a customer repository's CI. ``show``
prints what the buyer's administrator needs, for each protocol the customer uses
(:mod:`ociflex.oci.developer_sheet`, :mod:`ociflex.cxml.developer_sheet`), purchase orders by
cXML included.
"""

import difflib
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import replace
from datetime import date
from pathlib import Path

import click
from flask import current_app, url_for
from flask.cli import AppGroup
from flask_babel import force_locale, gettext

from ociflex.booking.cart import CartError
from ociflex.customers.loader import LoadResult, load_customers
from ociflex.customers.model import Customer
from ociflex.customers.problems import Problem
from ociflex.customers.registry import customers
from ociflex.cxml.config import CXML
from ociflex.cxml.developer_sheet import cxml_sheet, example_cart, orders_only_sheet, punches_out
from ociflex.oci.config import OCI
from ociflex.oci.developer_sheet import example_basket, oci_sheet
from ociflex.protocols import PROTOCOL_NAMES

customers_cli = AppGroup(
    "customers",
    help="Customer files: check them, and show what the buyer's administrator needs.",
)

dir_option = click.option(
    "--dir",
    "directory",
    type=click.Path(file_okay=False, path_type=Path),
    help="Read the customer files from this folder instead of OCIFLEX_CUSTOMERS_DIR "
    "(e.g. in a customer repository's CI).",
)


class _UncheckedSecrets(Mapping[str, str]):
    """An environment in which every ``password_env`` counts as set (its value is never used)."""

    def __getitem__(self, name: str) -> str:
        return "not-checked"

    def __iter__(self) -> Iterator[str]:
        return iter(())

    def __len__(self) -> int:
        return 0


def _load(directory: Path | None, environ: Mapping[str, str]) -> tuple[Path, LoadResult]:
    folder = directory or current_app.config["OCIFLEX_CUSTOMERS_DIR"]
    return folder, load_customers(folder, customers().sections, environ)


def _shown(path: Path) -> Path:
    """``path`` relative to the current directory when it lies below it."""
    try:
        return path.absolute().relative_to(Path.cwd())
    except ValueError:
        return path


def _echo_problem(problem: Problem) -> None:
    click.echo(str(replace(problem, file=_shown(problem.file))))


def _check_ids(ids: Sequence[str], folder: Path, result: LoadResult) -> list[str]:
    """The ids asked for (all when none), or exit 2 naming the ones that have no file."""
    known = sorted(set(result.customers) | set(result.problems))
    for customer_id in ids:
        if customer_id not in known:
            close = difflib.get_close_matches(customer_id, known, n=1)
            hint = f"did you mean {close[0]!r}? " if close else ""
            listed = ", ".join(known) if known else "none"
            raise click.BadParameter(
                f"no customer file for {customer_id!r} in {_shown(folder)}; {hint}"
                f"the customers there are: {listed}",
                param_hint="ID",
            )
    return list(dict.fromkeys(ids)) or known


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


@customers_cli.command("check", short_help="Check customer files; print each problem.")
@click.argument("ids", metavar="[ID]...", nargs=-1)
@dir_option
@click.option("--quiet", "-q", is_flag=True, help="Print the problems only, no summary.")
@click.option(
    "--skip-env",
    is_flag=True,
    help="Do not require the password_env variables to be set (a CI job without the secrets).",
)
def check_command(
    ids: tuple[str, ...], directory: Path | None, quiet: bool, skip_env: bool
) -> None:
    """Check every customer file (or those of the IDs given) and print each problem.

    Exit status: 0 when all are valid, 1 when one has a problem, 2 for an unknown ID.
    """
    environ = _UncheckedSecrets() if skip_env else customers().environ
    folder, result = _load(directory, environ)
    if "" in result.problems:  # the folder itself
        for problem in result.problems[""]:
            _echo_problem(problem)
        raise click.exceptions.Exit(1)
    chosen = _check_ids(ids, folder, result)
    if not chosen:
        click.echo(f"no customer files (*.yaml, *.yml) in {_shown(folder)}")
        raise click.exceptions.Exit(1)
    problems = {customer_id: result.problems.get(customer_id, []) for customer_id in chosen}
    for found in problems.values():
        for problem in found:
            _echo_problem(problem)
    invalid = [found for found in problems.values() if found]
    if not quiet:
        summary = (
            f"{_plural(len(chosen), 'customer file')} checked: {len(chosen) - len(invalid)} valid"
        )
        if invalid:
            count = sum(map(len, invalid))
            summary += f", {len(invalid)} with {_plural(count, 'problem')}"
        click.echo(summary)
    if invalid:
        raise click.exceptions.Exit(1)


@customers_cli.command(
    "show", short_help="What the buyer's administrator needs: URLs, what to send, the cart."
)
@click.argument("customer_id", metavar="ID")
@dir_option
def show_command(customer_id: str, directory: Path | None) -> None:
    """Print what the buyer's administrator of customer ID needs, for each protocol it uses:
    the URL, what to send, and the cart that comes back.

    Never prints a password or shared secret. Send the output to the customer.
    """
    folder, result = _load(directory, _UncheckedSecrets())
    if "" in result.problems:
        for problem in result.problems[""]:
            _echo_problem(problem)
        raise click.exceptions.Exit(1)
    _check_ids([customer_id], folder, result)
    customer = result.customers.get(customer_id)
    if customer is None:
        for problem in result.problems[customer_id]:
            _echo_problem(problem)
        click.echo(
            f"fix the file first; then: flask --app app ociflex customers show {customer_id}"
        )
        raise click.exceptions.Exit(1)
    try:
        lines = _sheet(customer)
    except CartError as error:
        click.echo(f"the example basket of {customer_id} is invalid: {error}")
        raise click.exceptions.Exit(1) from None
    click.echo("\n".join(lines))


def _sheet(customer: Customer) -> list[str]:
    """The whole text of ``show``: a heading, then each protocol's part."""
    lines = _title(customer)
    with force_locale(customer.language):
        if customer.speaks(OCI):
            basket, booking = example_basket(customer, date.today(), gettext)
            url = _address("oci.callup", customer)
            lines += ["", *_heading("SAP OCI"), *oci_sheet(customer, url, basket, booking)]
        if customer.speaks(CXML):
            lines += ["", *_heading("cXML"), *_cxml_part(customer)]
    return lines


def _title(customer: Customer) -> list[str]:
    """The first lines: the protocols the customer punches out with, and how its orders come."""
    titles = [
        PROTOCOL_NAMES[name] for name in customer.protocols if name != CXML or punches_out(customer)
    ]
    who = f"{customer.name} (customer {customer.id})"
    lines = [f"{who}: punch-out to Euromobil FlexFleet with {' and '.join(titles) or 'none'}"]
    if customer.speaks(CXML):
        lines.append("Purchase orders: by cXML (OrderRequest), see the cXML part.")
    return lines


def _cxml_part(customer: Customer) -> list[str]:
    url = _address("cxml.endpoint", customer)
    oci_baskets = customer.speaks(OCI)
    if not punches_out(customer):
        return orders_only_sheet(customer, url, oci_baskets)
    cart, booking = example_cart(customer, date.today(), gettext)
    minutes = current_app.config["OCIFLEX_START_PAGE_MAX_AGE"] // 60
    return cxml_sheet(customer, url, minutes, cart, booking, oci_baskets)


def _heading(title: str) -> list[str]:
    return [title, "=" * len(title)]


def _address(endpoint: str, customer: Customer) -> str:
    """The URL of ``endpoint`` for ``customer``: absolute when OCIFLEX_PUBLIC_URL is set."""
    with current_app.test_request_context():
        path = url_for(endpoint, customer_id=customer.id)
    public_url = current_app.config.get("OCIFLEX_PUBLIC_URL")
    return f"{public_url}{path}" if public_url else path
