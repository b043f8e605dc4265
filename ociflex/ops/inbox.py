"""The operations inbox (``GET /ops/``): the requests newest first, 50 to a page, filtered by
``status``, ``customer``, ``vehicle``, pickup day ``from``/``to``, the ERP's purchase order
``po`` and a search ``q``; each request with its total as its cart stated it. The same filters
download as CSV from :mod:`ociflex.ops.export`.

What the filters and the search find, and how a page is fetched through the indexes, is
:mod:`ociflex.ops.inbox_query`. An invalid filter (an unknown status, a date that is none) is
left out with a message on the page; the page itself always answers 200.
"""

from decimal import Decimal

from flask import render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext
from sqlalchemy import select
from sqlalchemy.orm import Session

from ociflex.customers.registry import customers
from ociflex.cxml.config import CXML
from ociflex.db import get_session
from ociflex.i18n import date_formatter
from ociflex.models import STATUSES, StatusCount
from ociflex.money import Price, money_formatter, request_total
from ociflex.ops import bp
from ociflex.ops.auth import login_required
from ociflex.ops.inbox_filters import PO_CHOICES, read_query
from ociflex.ops.inbox_query import fetch_page, status_counts
from ociflex.ops.labels import days_label, page_language, status_label
from ociflex.ops.lists import Labels, id_url_maker, list_url_maker
from ociflex.ops.outbox_page import failing_count
from ociflex.ops.request_page import protocol_name
from ociflex.orders.handling import waiting_count
from ociflex.text import N_

#: The protocols whose requests the list marks next to their reference; OCI, by which most
#: requests come, goes unmarked.
MARKED_PROTOCOLS = (CXML,)
#: The choices of the ``po`` filter (:data:`ociflex.ops.inbox_filters.PO_CHOICES`).
PO_LABELS = {"received": N_("PO received"), "awaiting": N_("Awaiting a PO")}
#: Built once, as :data:`ociflex.ops.inbox_query._COUNTS` (for its cache key).
_WITH_REQUESTS = select(StatusCount.customer_id).distinct()


def _customer_choices(session: Session) -> list[tuple[str, str]]:
    """(id, name) of every customer served or with requests, by name."""
    served = customers().result.customers
    known = set(served) | set(session.scalars(_WITH_REQUESTS))
    names = {cid: served[cid].name if cid in served else cid for cid in known}
    return sorted(names.items(), key=lambda item: (item[1].casefold(), item[0]))


def _vehicle_choices() -> list[tuple[str, str]]:
    """(code, name) of every vehicle the served customers offer, by code."""
    language = page_language()
    vehicles: dict[str, str] = {}
    for customer in customers().result.customers.values():
        for vehicle in customer.vehicles:
            vehicles.setdefault(vehicle.code, vehicle.name.get(language))
    return sorted(vehicles.items())


def _with_current(choices: list[tuple[str, str]], current: str | None) -> list[tuple[str, str]]:
    """``choices``, plus the filter's value when it is not among them (an old vehicle)."""
    if current and current not in dict(choices):
        return [*choices, (current, current)]
    return choices


def _customer_name(customer_id: str) -> str:
    customer = customers().get(customer_id)
    return customer.name if customer is not None else customer_id


def _money_labels() -> Labels[tuple[Decimal, int, str], tuple[str, str]]:
    """What a row shows of its money, its total and its day rate, by (day rate, days,
    currency): a page repeats a few day rates and lengths, and money is the dearest text of a
    row to write."""
    money = money_formatter()

    def label(key: tuple[Decimal, int, str]) -> tuple[str, str]:
        day_rate, days, currency = key
        per_day = gettext("%(amount)s per day", amount=money(day_rate, currency))
        return money(request_total(Price(day_rate, days)), currency), per_day

    return Labels(label)


# --- The inbox ----------------------------------------------------------------------------------


@bp.get("/")
@login_required
def inbox() -> ResponseReturnValue:
    """The requests newest first, filtered and paged (see the module doc), with the counts
    per status."""
    session = get_session()
    query = read_query(request.args)
    filters = query.filters
    page = fetch_page(session, filters, before=query.before, after=query.after)
    counts = status_counts(session, filters.customer)

    status_labels = Labels(status_label)
    customer_choices = _with_current(_customer_choices(session), filters.customer)
    vehicle_choices = _with_current(_vehicle_choices(), filters.vehicle)
    return render_template(
        "ops/inbox.html",
        query=query,
        filters=filters,
        page=page,
        counts=counts,
        total=sum(counts.values()),
        status_choices=[(status, status_labels[status]) for status in STATUSES],
        customer_choices=customer_choices,
        vehicle_choices=[(code, f"{code} · {name}") for code, name in vehicle_choices],
        po_choices=[(choice, gettext(PO_LABELS[choice])) for choice in PO_CHOICES],
        # What each row shows of its status, customer and length: looked up once a page.
        status_labels=status_labels,
        customer_labels=Labels(_customer_name, customer_choices),
        days_labels=Labels(days_label),
        protocol_badges={protocol: protocol_name(protocol) for protocol in MARKED_PROTOCOLS},
        dates=date_formatter(),
        money_labels=_money_labels(),
        request_url=id_url_maker("ops.request_detail", "request_id"),
        failing=failing_count(session),
        waiting_orders=waiting_count(session),
        inbox_url=list_url_maker("ops.inbox", filters.args()),
        export_url=url_for("ops.inbox_export", **filters.args()),
    )
