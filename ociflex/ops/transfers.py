"""The transfer log for operators: ``GET /ops/transfers`` (``ops.transfers``) lists every
document from the buyer's system and every cart sent, newest first, with its protocol;
``GET /ops/transfers/<id>`` (``ops.transfer_detail``) shows one entry with all it recorded (OCI
parameters; a cXML document and ociflex's answer, both made readable; the cart), and the other
entries of the same punch-out: the call-up, or the setup request and its StartPage, beside the
cart.

The list is filtered by ``customer``, ``outcome`` and ``kind`` and pages by keyset like the
inbox (``before=<id>``: the next, older page), 50 to a page. A customer's entries, a customer's
entries of one outcome, and the entries of one outcome are each read from an index ending in
``id`` (see :class:`ociflex.models.Transfer`). An invalid filter is left out with a message.
The log never holds the company password or a shared secret (:mod:`ociflex.transfers`); the
pages hide any parameter named as a password all the same. A ``suppressed`` entry says how many
rejected entries (or baskets sent again) of one client address were counted but not stored,
over their budget (see :mod:`ociflex.transfers`).
"""

from collections.abc import Mapping
from dataclasses import dataclass, field

from flask import render_template, request
from flask.typing import ResponseReturnValue
from flask_babel import gettext, ngettext
from sqlalchemy import ColumnElement, select
from sqlalchemy.orm import Session, defer

from ociflex.customers.registry import customers
from ociflex.db import get_session
from ociflex.i18n import date_formatter
from ociflex.models import TRANSFER_KINDS, TRANSFER_OUTCOMES, Transfer, format_reference
from ociflex.ops import bp
from ociflex.ops.auth import login_required
from ociflex.ops.inbox import _with_current
from ociflex.ops.inbox_filters import CUSTOMER_MAX_LENGTH, MAX_ID, page_cursor, plain_text
from ociflex.ops.lists import Labels, id_url_maker, list_url_maker
from ociflex.ops.request_page import hidden_params, protocol_name, readable_document
from ociflex.text import N_
from ociflex.transfers import BUDGET, UNKNOWN_CUSTOMERS

PAGE_SIZE = 50
#: The most entries of one punch-out a detail page shows (a double submit repeated...).
STORY_LIMIT = 100

KIND_LABELS = {
    "callup": N_("Call-up"),
    "function": N_("FUNCTION call"),
    "setup": N_("Setup request"),
    "profile": N_("Profile request"),
    "order": N_("Purchase order"),
    "request": N_("cXML document"),
    "start": N_("StartPage opened"),
    "booking": N_("Booking"),
    # A cart of either protocol: Dutch calls both a "winkelwagen".
    "basket": N_("Basket"),
    "suppressed": N_("Not stored"),
}
OUTCOME_LABELS = {
    "accepted": N_("Accepted"),
    "rejected": N_("Rejected"),
    "sent": N_("Sent"),
    "resent": N_("Sent again"),
}
#: The list and a punch-out's story never read the large columns (and fail loudly if they do).
WITHOUT_LARGE_COLUMNS = tuple(
    defer(column, raiseload=True)
    for column in (Transfer.parameters, Transfer.document, Transfer.answer, Transfer.cart)
)


def kind_label(kind: str) -> str:
    return gettext(KIND_LABELS[kind]) if kind in KIND_LABELS else kind


def outcome_label(outcome: str) -> str:
    return gettext(OUTCOME_LABELS[outcome]) if outcome in OUTCOME_LABELS else outcome


def customer_name(customer_id: str) -> str:
    if customer_id == UNKNOWN_CUSTOMERS:
        return gettext("Unknown customer ids")
    customer = customers().get(customer_id)
    return customer.name if customer is not None else customer_id


def summary_text(entry: Transfer) -> str:
    """What a ``suppressed`` entry counts, in the operator's language."""
    params = {
        "address": entry.client_address or "–",
        "customer": customer_name(entry.customer_id),
        "budget": BUDGET,
    }
    count = entry.suppressed or 0
    if entry.outcome == "resent":
        return ngettext(
            "%(num)s further basket sent again from %(address)s for %(customer)s was not "
            "stored: the log keeps the first %(budget)s of a minute.",
            "%(num)s further baskets sent again from %(address)s for %(customer)s were not "
            "stored: the log keeps the first %(budget)s of a minute.",
            count,
            **params,
        )
    return ngettext(
        "%(num)s further rejected entry from %(address)s for %(customer)s was not stored: "
        "the log keeps the first %(budget)s of a minute.",
        "%(num)s further rejected entries from %(address)s for %(customer)s were not stored: "
        "the log keeps the first %(budget)s of a minute.",
        count,
        **params,
    )


# --- Filters ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TransferFilters:
    customer: str | None = None
    outcome: str | None = None
    kind: str | None = None

    def args(self) -> dict[str, str]:
        """The filters as query parameters (for links that keep them)."""
        args = {"customer": self.customer, "outcome": self.outcome, "kind": self.kind}
        return {name: value for name, value in args.items() if value}

    def conditions(self) -> list[ColumnElement[bool]]:
        conditions: list[ColumnElement[bool]] = []
        if self.customer:
            conditions.append(Transfer.customer_id == self.customer)
        if self.outcome:
            conditions.append(Transfer.outcome == self.outcome)
        if self.kind:
            conditions.append(Transfer.kind == self.kind)
        return conditions


@dataclass
class TransferQuery:
    filters: TransferFilters
    #: The parameters as entered (the customer is shown in the form again).
    entered: dict[str, str]
    problems: dict[str, str] = field(default_factory=dict)
    before: int | None = None


def read_query(args: Mapping[str, str]) -> TransferQuery:
    """The filters and the page of a transfer-log address; an invalid one is left out."""
    raw = {
        name: (args.get(name) or "").strip() for name in ("customer", "outcome", "kind", "before")
    }
    problems: dict[str, str] = {}
    customer = raw["customer"] or None
    if customer is not None and not plain_text(customer, CUSTOMER_MAX_LENGTH):
        problems["customer"] = gettext(
            "This is no customer id; the entries of all customers are shown."
        )
        customer = None
    outcome = raw["outcome"] or None
    if outcome is not None and outcome not in TRANSFER_OUTCOMES:
        problems["outcome"] = gettext("There is no such outcome; all outcomes are shown.")
        outcome = None
    kind = raw["kind"] or None
    if kind is not None and kind not in TRANSFER_KINDS:
        problems["kind"] = gettext("There is no such kind of entry; all kinds are shown.")
        kind = None
    before = page_cursor(raw["before"]) if raw["before"] else None
    if raw["before"] and before is None:
        problems["page"] = gettext("This page address is not valid; the newest entries are shown.")
    return TransferQuery(TransferFilters(customer, outcome, kind), raw, problems, before)


# --- A page of entries --------------------------------------------------------------------------


@dataclass
class TransferPage:
    rows: list[Transfer]
    #: ``before`` of the next (older) page, when there is one.
    older: int | None = None
    #: The newest page.
    first: bool = True


def fetch_page(
    session: Session, filters: TransferFilters, before: int | None = None
) -> TransferPage:
    """The entries matching ``filters``, newest first: the newest, or those older than
    ``before``. The list never reads the parameters, the documents and the cart."""
    statement = (
        select(Transfer)
        .options(*WITHOUT_LARGE_COLUMNS)
        .where(*filters.conditions())
        .order_by(Transfer.id.desc())
        .limit(PAGE_SIZE + 1)
    )
    if before is not None:
        statement = statement.where(Transfer.id < before)
    rows = list(session.scalars(statement))
    older = rows[PAGE_SIZE - 1].id if len(rows) > PAGE_SIZE else None
    return TransferPage(rows[:PAGE_SIZE], older=older, first=before is None)


def _customer_choices() -> list[tuple[str, str]]:
    """(id, name) of every customer served, by name: unknown ids are filtered from a row."""
    served = customers().result.customers
    return sorted(
        ((cid, customer.name) for cid, customer in served.items()),
        key=lambda item: (item[1].casefold(), item[0]),
    )


@bp.get("/transfers")
@login_required
def transfers() -> ResponseReturnValue:
    """The log, newest first, filtered and paged (see the module doc)."""
    query = read_query(request.args)
    filters = query.filters
    page = fetch_page(get_session(), filters, before=query.before)

    transfers_url = list_url_maker("ops.transfers", filters.args())
    customer_choices = _with_current(_customer_choices(), filters.customer)
    return render_template(
        "ops/transfers.html",
        query=query,
        filters=filters,
        page=page,
        customer_choices=customer_choices,
        outcome_choices=[(outcome, outcome_label(outcome)) for outcome in TRANSFER_OUTCOMES],
        kind_choices=[(kind, kind_label(kind)) for kind in TRANSFER_KINDS],
        # What each row shows of its customer, kind and outcome: looked up once a page.
        customer_labels=Labels(customer_name, customer_choices),
        customer_urls=Labels(lambda customer_id: transfers_url(customer=customer_id)),
        kind_labels=Labels(kind_label),
        outcome_labels=Labels(outcome_label),
        protocol_names=Labels(protocol_name),
        summary_text=summary_text,
        budget=BUDGET,
        dates=date_formatter(),
        transfer_url=id_url_maker("ops.transfer_detail", "transfer_id"),
        transfers_url=transfers_url,
    )


# --- One entry ----------------------------------------------------------------------------------


def shown_parameters(entry: Transfer) -> list[tuple[str, str | None]]:
    """The recorded parameters in order; None as the value of one named as a password (none
    is ever recorded: this only makes sure none is ever shown)."""
    hidden = hidden_params(customers().get(entry.customer_id))
    shown: list[tuple[str, str | None]] = []
    for name, value in entry.parameters or []:
        shown.append((name, None if name.casefold() in hidden else value))
    return shown


@bp.get("/transfers/<int:transfer_id>")
@login_required
def transfer_detail(transfer_id: int) -> ResponseReturnValue:
    """One entry of the log, and the entries of its punch-out; 404 when there is none."""
    session = get_session()
    entry = session.get(Transfer, transfer_id) if transfer_id <= MAX_ID else None
    if entry is None:
        return render_template("ops/transfer.html", entry=None, transfer_id=transfer_id), 404
    story: list[Transfer] = []
    if entry.punchout_id:
        story = list(
            session.scalars(
                select(Transfer)
                .options(*WITHOUT_LARGE_COLUMNS)
                .where(Transfer.punchout_id == entry.punchout_id)
                .order_by(Transfer.id)
                .limit(STORY_LIMIT)
            )
        )
    return render_template(
        "ops/transfer.html",
        entry=entry,
        customer_name=customer_name,
        served=customers().get(entry.customer_id) is not None,
        kind_label=kind_label,
        outcome_label=outcome_label,
        summary_text=summary_text,
        protocol_name=protocol_name(entry.protocol),
        parameters=shown_parameters(entry),
        document=readable_document(entry.document),
        answer=readable_document(entry.answer),
        cart=entry.cart,
        cart_document=readable_document((entry.cart or {}).get("document")),
        story=story,
        reference=format_reference,
    )
