"""Purchase orders from the customers' ERPs, for operators.

``GET /ops/orders`` (``ops.orders``) lists the orders newest first: those that need an operator
(a line without a request), or with ``show=all`` every one; 50 to a page by keyset like the
inbox (``before=<id>``: the next, older page), read from the index on (handling, id) or the
primary key. ``GET /ops/orders/<id>`` (``ops.order_detail``, the address the e-mails to
operations link to) shows one order: its header, each line with the request it pays for and,
for a current order, how the two differ, the other documents of its orderID, and the document
as received.

An order that needs an operator offers, per line without a request, a form to link the line to
a request by its reference (``POST /ops/orders/<id>/lines/<line id>/link``), and a form to
dismiss the order with a reason (``POST /ops/orders/<id>/dismiss``). As a request's workflow
actions (:mod:`ociflex.ops.actions`), each POST carries the session's CSRF token and the
order's ``version`` as the operator saw it, and in one write transaction

1. refuses an order that changed since the operator saw it: 409, with its page as it is now;
2. refuses a form with errors (no reference, no such request, a request of another customer,
   no reason): 422, the page with the error next to the field and what was entered kept;
3. refuses what the order no longer allows (:class:`~ociflex.orders.handling.HandlingError`):
   409;
4. otherwise links or dismisses (:mod:`ociflex.orders.handling`), commits, and answers 303 See
   Other to the order's page with a message.

A refused action changes nothing. Every action changes the order's version, so of two operators
acting on one order the second is told; the version column (``version_id_col``) also settles
the race between step 1 and the commit: the loser's UPDATE matches no row (StaleDataError), and
it gets the answer of step 1.
"""

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime

from flask import abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext
from sqlalchemy import select
from sqlalchemy.orm import Session, defer
from sqlalchemy.orm.exc import StaleDataError

from ociflex.db import begin_write, get_session
from ociflex.i18n import date_formatter
from ociflex.models import PurchaseOrder, PurchaseOrderLine, RentalRequest, format_reference
from ociflex.ops import bp
from ociflex.ops.auth import client_address, current_operator, login_required
from ociflex.ops.inbox_filters import MAX_ID, page_cursor
from ociflex.ops.lists import Labels, id_url_maker, list_url_maker
from ociflex.ops.order_forms import (
    DismissForm,
    LinkForm,
    blank_dismiss_form,
    blank_link_form,
)
from ociflex.ops.order_labels import handling_label, shown_differences, state_label, type_label
from ociflex.ops.request_page import readable_document
from ociflex.ops.transfers import customer_name
from ociflex.orders.findings import unmatched
from ociflex.orders.handling import (
    HandlingError,
    Operator,
    dismiss,
    lines_of,
    link_line,
    waiting_count,
)

log = logging.getLogger(__name__)

PAGE_SIZE = 50
#: The most documents of one orderID an order's page lists.
RELATED_LIMIT = 50
#: ``show=all``: every order, not only those that need an operator.
SHOW_ALL = "all"
#: The handling of an order that needs an operator.
WAITING = "unmatched"


# --- The list -----------------------------------------------------------------------------------


@dataclass
class OrdersQuery:
    """An address of the list, read: which orders, from where, and what is wrong with it."""

    show_all: bool = False
    before: int | None = None
    problems: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class ListedOrder:
    order: PurchaseOrder
    #: How many lines it has.
    lines: int
    #: The ids of the requests its lines pay for, in line order.
    request_ids: list[int]


@dataclass
class OrderPage:
    rows: list[ListedOrder]
    #: ``before`` of the next (older) page, when there is one.
    older: int | None = None
    #: The newest page.
    first: bool = True


def read_query(args: Mapping[str, str]) -> OrdersQuery:
    """Which orders an address of the list asks for; an invalid part is left out, with why."""
    show = (args.get("show") or "").strip()
    raw_before = (args.get("before") or "").strip()
    query = OrdersQuery(show_all=show == SHOW_ALL)
    if show not in ("", SHOW_ALL):
        query.problems["show"] = gettext(
            "There is no such list; the orders that need an operator are shown."
        )
    if raw_before:
        query.before = page_cursor(raw_before)
        if query.before is None:
            query.problems["page"] = gettext(
                "This page address is not valid; the newest orders are shown."
            )
    return query


def fetch_page(session: Session, *, show_all: bool, before: int | None = None) -> OrderPage:
    """The orders that need an operator (or every one), newest first: the newest, or those
    older than ``before``. The list never reads the documents."""
    statement = (
        select(PurchaseOrder)
        .options(defer(PurchaseOrder.document, raiseload=True))
        .order_by(PurchaseOrder.id.desc())
        .limit(PAGE_SIZE + 1)
    )
    if not show_all:
        statement = statement.where(PurchaseOrder.handling == WAITING)
    if before is not None:
        statement = statement.where(PurchaseOrder.id < before)
    orders = list(session.scalars(statement))
    older = orders[PAGE_SIZE - 1].id if len(orders) > PAGE_SIZE else None
    return OrderPage(_listed(session, orders[:PAGE_SIZE]), older=older, first=before is None)


def _listed(session: Session, orders: list[PurchaseOrder]) -> list[ListedOrder]:
    """``orders`` with the number of their lines and the requests those pay for, read at once."""
    lines: dict[int, list[int | None]] = {order.id: [] for order in orders}
    if lines:
        rows = session.execute(
            select(PurchaseOrderLine.purchase_order_id, PurchaseOrderLine.request_id)
            .where(PurchaseOrderLine.purchase_order_id.in_(lines))
            .order_by(PurchaseOrderLine.purchase_order_id, PurchaseOrderLine.line_number)
        )
        for order_id, request_id in rows:
            lines[order_id].append(request_id)
    return [
        ListedOrder(
            order,
            len(lines[order.id]),
            list(dict.fromkeys(rid for rid in lines[order.id] if rid is not None)),
        )
        for order in orders
    ]


@bp.get("/orders")
@login_required
def orders() -> ResponseReturnValue:
    """The orders newest first: those that need an operator, or every one (see the module
    doc)."""
    session = get_session()
    query = read_query(request.args)
    page = fetch_page(session, show_all=query.show_all, before=query.before)
    return render_template(
        "ops/orders.html",
        query=query,
        page=page,
        waiting=waiting_count(session),
        orders_url=list_url_maker("ops.orders", {"show": SHOW_ALL} if query.show_all else {}),
        order_url=id_url_maker("ops.order_detail", "order_id"),
        request_url=id_url_maker("ops.request_detail", "request_id"),
        reference=format_reference,
        # What each row shows of its customer, type, state and handling: looked up once a page.
        customer_labels=Labels(customer_name),
        type_labels=Labels(type_label),
        state_labels=Labels(state_label),
        handling_labels=Labels(handling_label),
        dates=date_formatter(),
    )


# --- One order ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ShownLine:
    line: PurchaseOrderLine
    #: The request it pays for, if any.
    rental: RentalRequest | None
    #: What the line says that its request does not, in words (of a current order).
    differences: list[str]
    #: Why it has no request, while the order needs an operator.
    unmatched: str | None = None
    #: The form that links it to a request, while the order needs an operator.
    form: LinkForm | None = None


@dataclass(frozen=True)
class RelatedOrder:
    """Another document of the same orderID, as the order's page lists it."""

    id: int
    order_type: str
    state: str
    handling: str
    received_at: datetime


def _order(session: Session, order_id: int) -> PurchaseOrder | None:
    return session.get(PurchaseOrder, order_id) if order_id <= MAX_ID else None


def _shown_lines(
    session: Session, order: PurchaseOrder, linking: tuple[int, LinkForm] | None
) -> list[ShownLine]:
    """The order's lines with their requests; while it needs an operator, with a form for each
    line without one (``linking``: the form sent for one line, with its errors)."""
    lines = lines_of(session, order)
    ids = {line.request_id for line in lines if line.request_id is not None}
    requests = (
        {r.id: r for r in session.scalars(select(RentalRequest).where(RentalRequest.id.in_(ids)))}
        if ids
        else {}
    )
    shown = []
    for line in lines:
        rental = requests.get(line.request_id) if line.request_id is not None else None
        if rental is not None:
            shown.append(ShownLine(line, rental, shown_differences(order, line, rental)))
        elif order.handling == WAITING:
            sent = linking[1] if linking is not None and linking[0] == line.id else None
            why = unmatched(line).text(gettext)
            shown.append(ShownLine(line, None, [], why, sent or blank_link_form(order)))
        else:
            shown.append(ShownLine(line, None, []))
    return shown


def _related(session: Session, order: PurchaseOrder) -> list[RelatedOrder]:
    """Every document of the order's orderID from its customer, oldest first (itself too)."""
    rows = session.execute(
        select(
            PurchaseOrder.id,
            PurchaseOrder.order_type,
            PurchaseOrder.state,
            PurchaseOrder.handling,
            PurchaseOrder.received_at,
        )
        .where(
            PurchaseOrder.customer_id == order.customer_id,
            PurchaseOrder.order_id == order.order_id,
        )
        .order_by(PurchaseOrder.id)
        .limit(RELATED_LIMIT)
    )
    return [RelatedOrder(*row) for row in rows]


def _order_page(
    session: Session,
    order: PurchaseOrder,
    *,
    status: int = 200,
    problem: str | None = None,
    linking: tuple[int, LinkForm] | None = None,
    dismissing: DismissForm | None = None,
) -> ResponseReturnValue:
    waiting = order.handling == WAITING
    page = render_template(
        "ops/order.html",
        order=order,
        problem=problem,
        customer_name=customer_name(order.customer_id),
        lines=_shown_lines(session, order, linking),
        dismiss_form=(dismissing or blank_dismiss_form(order)) if waiting else None,
        related=_related(session, order),
        document=readable_document(order.document),
        type_label=type_label,
        state_label=state_label,
        handling_label=handling_label,
        reference=format_reference,
    )
    return page, status


@bp.get("/orders/<int:order_id>")
@login_required
def order_detail(order_id: int) -> ResponseReturnValue:
    """One order: its header, its lines with their requests, the other documents of its
    orderID and the document as received; 404 when there is no such order."""
    session = get_session()
    order = _order(session, order_id)
    if order is None:
        return render_template("ops/order.html", order=None, order_id=order_id), 404
    return _order_page(session, order)


# --- Linking and dismissing ---------------------------------------------------------------------


@bp.post("/orders/<int:order_id>/lines/<int:line_id>/link")
@login_required
def order_link(order_id: int, line_id: int) -> ResponseReturnValue:
    """Link a line without a request to the request the operator names (see the module doc)."""
    return _in_write_transaction(order_id, lambda session: _link(session, order_id, line_id))


@bp.post("/orders/<int:order_id>/dismiss")
@login_required
def order_dismiss(order_id: int) -> ResponseReturnValue:
    """Dismiss an order that needs an operator, with the reason (see the module doc)."""
    return _in_write_transaction(order_id, lambda session: _dismiss(session, order_id))


def _in_write_transaction(
    order_id: int, action: Callable[[Session], ResponseReturnValue]
) -> ResponseReturnValue:
    """``action`` in a write transaction that it commits; anything it did not commit is
    rolled back."""
    session = get_session()
    begin_write(session)
    try:
        return action(session)
    except StaleDataError:
        # Another operator's change was committed between our check and our UPDATE.
        order = _refreshed(session, order_id)
        return _refused(session, order, 409, _changed_meanwhile(), why="lost a race")
    finally:
        # A refused action leaves nothing behind; after a commit this does nothing.
        session.rollback()


def _refreshed(session: Session, order_id: int) -> PurchaseOrder:
    session.rollback()
    order = _order(session, order_id)
    if order is None:
        abort(404)
    return order


def _link(session: Session, order_id: int, line_id: int) -> ResponseReturnValue:
    order = _order(session, order_id)
    line = session.get(PurchaseOrderLine, line_id) if line_id <= MAX_ID else None
    if order is None or line is None or line.purchase_order_id != order.id:
        abort(404)
    form = LinkForm()
    if (stale := _stale(session, order, form)) is not None:
        return stale
    rental = _named_request(session, form)
    if rental is None:
        return _refused(
            session, order, 422, _not_changed(), why="errors in the form", linking=(line.id, form)
        )
    try:
        link_line(session, order, line, rental, _operator())
    except HandlingError as error:
        if rental.customer_id != order.customer_id:
            # About the request the operator named: said next to the reference.
            form.refuse(_translated(error))
            return _refused(
                session, order, 422, _not_changed(), why=str(error), linking=(line.id, form)
            )
        return _refused(session, order, 409, _translated(error), why=str(error))
    if order.handling == WAITING:
        done = gettext(
            "Line %(line)s of order %(order)s is linked to request %(reference)s.",
            line=line.line_number,
            order=order.order_id,
            reference=rental.reference,
        )
    else:
        done = gettext(
            "Line %(line)s of order %(order)s is linked to request %(reference)s; every line "
            "of the order has its request now.",
            line=line.line_number,
            order=order.order_id,
            reference=rental.reference,
        )
    return _committed(session, order, done)


def _named_request(session: Session, form: LinkForm) -> RentalRequest | None:
    """The request the form names; None, with the error next to its field, when the form is
    not valid or there is no such request."""
    if not form.validate() or form.request_id is None:
        return None
    rental = session.get(RentalRequest, form.request_id)
    if rental is None:
        reference = format_reference(form.request_id)
        form.refuse(gettext("There is no request %(reference)s.", reference=reference))
    return rental


def _dismiss(session: Session, order_id: int) -> ResponseReturnValue:
    order = _order(session, order_id)
    if order is None:
        abort(404)
    form = DismissForm()
    if (stale := _stale(session, order, form)) is not None:
        return stale
    if not form.validate():
        return _refused(
            session, order, 422, _not_changed(), why="errors in the form", dismissing=form
        )
    try:
        dismiss(session, order, form.reason.data, _operator())
    except HandlingError as error:
        return _refused(session, order, 409, _translated(error), why=str(error))
    return _committed(
        session, order, gettext("Order %(order)s is dismissed.", order=order.order_id)
    )


def _stale(
    session: Session, order: PurchaseOrder, form: LinkForm | DismissForm
) -> ResponseReturnValue | None:
    """The answer to a form from a broken page (400), or from a page of the order as it was
    before it changed (409); None when the form acts on the order as it is."""
    seen = form.seen_version()
    if seen is None:
        problem = gettext("This form is incomplete. Reload the order's page and try again.")
        return _refused(session, order, 400, problem, why="no version in the form")
    if seen != order.version:
        return _refused(session, order, 409, _changed_meanwhile(), why=f"version seen {seen}")
    return None


def _committed(session: Session, order: PurchaseOrder, done: str) -> ResponseReturnValue:
    session.commit()
    log.info("order %s: %s by %s", order.id, request.endpoint, current_operator().username)
    flash(done)
    return redirect(url_for("ops.order_detail", order_id=order.id), 303)


def _refused(
    session: Session,
    order: PurchaseOrder,
    status: int,
    problem: str,
    *,
    why: str,
    linking: tuple[int, LinkForm] | None = None,
    dismissing: DismissForm | None = None,
) -> ResponseReturnValue:
    """The order's page as it is now, nothing of the action kept, with ``problem``; a form sent
    with errors in place of its blank one."""
    session.rollback()
    log.info(
        "order %s: %s by %s refused (%s): %s",
        order.id,
        request.endpoint,
        current_operator().username,
        status,
        why,
    )
    return _order_page(
        session, order, status=status, problem=problem, linking=linking, dismissing=dismissing
    )


def _operator() -> Operator:
    operator = current_operator()
    return Operator(operator.username, operator.id, client_address())


def _translated(error: HandlingError) -> str:
    return gettext(error.message) % error.params


def _not_changed() -> str:
    return gettext("Nothing was changed: correct the fields marked below.")


def _changed_meanwhile() -> str:
    return gettext("Another operator changed this order meanwhile; review it and try again.")
