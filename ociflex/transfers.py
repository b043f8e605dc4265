"""The transfer log: what the buyer's system sent and what ociflex answered, for every OCI
call-up and FUNCTION call, every cXML document, every refused booking and every cart sent (what
implementers ask for most). Operators browse it at ``/ops/transfers``.

Recording never breaks a punch-out and never stores a secret:

- a cart is recorded by :func:`ociflex.booking.register.register_request` in the same
  transaction as its request, so it cannot be lost or half-written;
- everything else is written by :func:`ociflex.transfer_writer.record_transfer`, in batches
  after the answer; when that fails (the database is down), the error is logged and the buyer
  has its answer anyway;
- what anyone can send at will cannot bury the rest: of the rejected entries, and of the
  baskets sent again (a replayed booking form), one client address leaves at most
  :data:`BUDGET` per customer and :data:`BUDGET_WINDOW` (each outcome its own budget, all the
  ids that no customer file names one customer); the rest are counted in one ``suppressed``
  entry per address, customer, outcome and window, which operators see in the log. The count is
  kept in the database (:class:`~ociflex.models.TransferBudget`), so the budget holds across
  all workers and servers. Accepted entries and carts sent are never counted, never lost;
- OCI parameters are kept as received, but without the password (:func:`is_password`), and
  capped in number and length (:func:`recorded_parameters`); a cXML document arrives here
  without its secrets (its protocol removes them) and is capped in length: a hostile document
  cannot bloat the table.

Entries hold personal data (names, e-mail addresses): :func:`prune` deletes those older than
``OCIFLEX_TRANSFER_RETENTION_DAYS``, run daily as ``flask --app app ociflex transfers prune``,
which also deletes the budgets whose window is over and the cXML StartPages that can no longer
be opened (:func:`prune_start_pages`).
"""

import logging
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, bindparam, delete, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from ociflex.customers.registry import customers
from ociflex.db import write_transaction
from ociflex.models import StartPage, Transfer, TransferBudget, utcnow

log = logging.getLogger(__name__)

#: At most this many parameters of one call are kept ...
MAX_PARAMETERS = 200
#: ... each name cut to this many characters, each value to this many ...
MAX_NAME_LENGTH = 100
MAX_VALUE_LENGTH = 500
#: ... and no more than this many characters of names and values in all.
MAX_TOTAL_LENGTH = 20_000
#: A cXML document is kept up to this many characters.
MAX_DOCUMENT_LENGTH = 100_000
#: Appended to a name or value that was cut.
CUT = "…"
#: Unknown customers: a parameter whose name holds one of these may be a password.
PASSWORD_HINTS = ("pass", "pwd")
#: Rows deleted per transaction when pruning: no long lock on a big table.
PRUNE_BATCH = 5000

CUSTOMER_ID_LENGTH = 64
ADDRESS_LENGTH = 64
ORIGIN_LENGTH = 255

#: Of the entries anyone can send at will (rejected ones, baskets sent again) one client
#: address leaves this many per customer and window; the rest are only counted.
BUDGET = 20
#: The window a budget counts in (the operations pages say "a minute").
BUDGET_WINDOW = timedelta(minutes=1)
#: The outcomes that count against a budget, each against its own.
BUDGETED_OUTCOMES = frozenset({"rejected", "resent"})
#: The customer of the ids that no customer file names: an address trying one id after the
#: other has one budget for all (no customer id holds a ``*``).
UNKNOWN_CUSTOMERS = "*"
#: The kind of the entry that counts those over the budget.
SUMMARY_KIND = "suppressed"
#: A summary answers nothing itself: it has no HTTP status and no method.
SUMMARY_STATUS = 0
_EPOCH = datetime(2000, 1, 1, tzinfo=UTC)


def _text(value: str, max_length: int) -> str:
    """``value`` storable in a text column (PostgreSQL refuses NUL) and at most ``max_length``
    characters long, marked with :data:`CUT` when it was cut."""
    value = value.replace("\x00", "\ufffd")
    if len(value) <= max_length:
        return value
    return value[: max_length - len(CUT)] + CUT


def is_password(name: str, password_params: Collection[str] | None) -> bool:
    """Whether the parameter ``name`` may carry the company password, and is never kept.

    For a served customer: its ``password_params`` (OCI's ``password_param``) and ``PASSWORD``,
    whatever their case. For an unknown customer (``None``) nobody knows the name: any name
    that holds ``pass`` or ``pwd``.
    """
    folded = name.casefold()
    if folded == "password":
        return True
    if password_params is not None:
        return folded in {param.casefold() for param in password_params}
    return any(hint in folded for hint in PASSWORD_HINTS)


def recorded_parameters(
    pairs: Iterable[tuple[str, str]], password_params: Collection[str] | None
) -> list[list[str]]:
    """The [name, value] pairs to keep of ``pairs``, in order: without the password, at most
    :data:`MAX_PARAMETERS`, names and values cut (see the limits above)."""
    kept: list[list[str]] = []
    budget = MAX_TOTAL_LENGTH
    for name, value in pairs:
        if is_password(name, password_params):
            continue
        if len(kept) >= MAX_PARAMETERS or budget <= 0:
            break
        shown_name = _text(name, MAX_NAME_LENGTH)
        shown_value = _text(value, max(len(CUT), min(MAX_VALUE_LENGTH, budget - len(shown_name))))
        budget -= len(shown_name) + len(shown_value)
        kept.append([shown_name, shown_value])
    return kept


def transfer_values(
    *,
    kind: str,
    outcome: str,
    status: int,
    customer_id: str,
    method: str,
    protocol: str,
    password_params: Collection[str] | None = None,
    reason: str = "",
    punchout_id: str | None = None,
    request_id: int | None = None,
    return_origin: str | None = None,
    parameters: Iterable[tuple[str, str]] = (),
    document: str | None = None,
    answer: str | None = None,
    cart: dict[str, Any] | None = None,
    client_address: str | None = None,
) -> dict[str, Any]:
    """The column values of an entry of the log. ``password_params`` are the parameters that
    carry the served customer's password (None for an unknown customer, see
    :func:`is_password`). ``return_origin`` is what is kept of the return URL (its origin: the
    rest may hold the buyer's session ids). ``document`` and ``answer`` come without secrets."""
    pairs = list(parameters)
    return {
        "at": utcnow(),
        "customer_id": _text(customer_id, CUSTOMER_ID_LENGTH),
        "protocol": protocol,
        "kind": kind,
        "outcome": outcome,
        "status": status,
        "reason": _text(reason, 2000),
        "method": _text(method, 10),
        "punchout_id": _text(punchout_id, 64) if punchout_id else None,
        "request_id": request_id,
        "return_origin": _text(return_origin, ORIGIN_LENGTH) if return_origin else None,
        "parameters": recorded_parameters(pairs, password_params),
        "parameter_count": len(pairs),
        "document": _text(document, MAX_DOCUMENT_LENGTH) if document is not None else None,
        "answer": _text(answer, MAX_DOCUMENT_LENGTH) if answer is not None else None,
        "cart": cart,
        "client_address": _text(client_address, ADDRESS_LENGTH) if client_address else None,
    }


#: Built once: every call-up and every basket writes an entry.
_INSERT = insert(Transfer)


def store_transfer(
    connection: Connection, values: Mapping[str, Any], budget: "BudgetKey | None"
) -> bool:
    """Write an entry (:func:`transfer_values`) in ``connection``'s transaction, with a Core
    INSERT (for one lone row the ORM's unit of work is only overhead); whether it was stored.
    An entry over its ``budget`` (:func:`budget_of`; see the module doc) is counted in its
    summary instead."""
    if budget is not None:
        seen, summary_id = count_against_budget(connection, budget)
        if seen > BUDGET:
            summarise(connection, budget, values, seen - BUDGET, summary_id)
            return False
    connection.execute(_INSERT, values)
    return True


def budget_of(values: Mapping[str, Any]) -> "BudgetKey | None":
    """The budget the entry ``values`` counts against, or None when its outcome has none. Needs
    the app (which customer ids its files name): worked out in the request, so that the entry
    can be stored anywhere."""
    if values["outcome"] not in BUDGETED_OUTCOMES:
        return None
    return BudgetKey.of(values)


@dataclass(frozen=True)
class BudgetKey:
    """Whose budget an entry counts against: a client address, a customer, an outcome and a
    window of time (the columns of :class:`~ociflex.models.TransferBudget`'s primary key)."""

    client_address: str
    customer_key: str
    outcome: str
    window_start: datetime

    @classmethod
    def of(cls, values: Mapping[str, Any]) -> "BudgetKey":
        at: datetime = values["at"]
        return cls(
            client_address=values["client_address"] or "",
            customer_key=customer_key(values["customer_id"]),
            outcome=values["outcome"],
            window_start=at - (at - _EPOCH) % BUDGET_WINDOW,
        )


def customer_key(customer_id: str) -> str:
    """``customer_id`` when a customer file names it (served, or waiting for a fix), else
    :data:`UNKNOWN_CUSTOMERS`."""
    result = customers().result
    if customer_id in result.customers or (customer_id and customer_id in result.problems):
        return customer_id
    return UNKNOWN_CUSTOMERS


def _counting(insert: Callable[[type[TransferBudget]], Any]) -> Any:
    """One more entry of a budget key (bound parameters named as :class:`BudgetKey`'s fields),
    inserted or added, read back with its summary's id."""
    table = TransferBudget.__table__
    keys = [column.name for column in table.primary_key]
    return (
        insert(TransferBudget)
        .values({**{name: bindparam(name) for name in keys}, "seen": 1})
        .on_conflict_do_update(index_elements=keys, set_={"seen": table.c.seen + 1})
        .returning(table.c.seen, table.c.summary_id)
    )


#: Built once per dialect, as ociflex.history does its counts: under a flood every rejected
#: entry runs it.
_COUNTING = {"postgresql": _counting(postgresql.insert), "sqlite": _counting(sqlite.insert)}


def count_against_budget(connection: Connection, key: BudgetKey) -> tuple[int, int | None]:
    """Count one more entry of ``key``; how many it has seen now, with this one, and its
    summary entry's id when there is one.

    One statement that inserts the count or adds one to it, and reads it back (RETURNING:
    SQLite 3.35+, PostgreSQL): the row (SQLite: the database) stays locked until the
    transaction ends, so two workers can never both take the last entry of a budget.
    """
    seen, summary_id = connection.execute(_COUNTING[connection.dialect.name], asdict(key)).one()
    return seen, summary_id


def summary_reason(key: BudgetKey, suppressed: int) -> str:
    """The English reason of a summary entry (pages show their own, translated text)."""
    customer = "unknown customer ids" if key.customer_key == UNKNOWN_CUSTOMERS else key.customer_key
    counted = "baskets sent again" if key.outcome == "resent" else "rejected entries"
    return (
        f"{suppressed} further {counted} from {key.client_address or 'an unknown address'} for "
        f"{customer} were not stored (more than {BUDGET} in {BUDGET_WINDOW})"
    )


def summarise(
    connection: Connection,
    key: BudgetKey,
    values: Mapping[str, Any],
    suppressed: int,
    summary_id: int | None,
) -> None:
    """Count an entry over ``key``'s budget in its summary entry: written for the first one
    (then the budget remembers it), brought up to ``suppressed`` for the others."""
    reason = summary_reason(key, suppressed)
    if summary_id is not None:
        connection.execute(
            update(Transfer)
            .where(Transfer.id == summary_id)
            .values(suppressed=suppressed, reason=reason)
        )
        return
    log.warning(
        "transfer log: more than %s %s entries from %s for %s in %s: the rest are only counted",
        BUDGET,
        key.outcome,
        key.client_address,
        key.customer_key,
        BUDGET_WINDOW,
    )
    summary = {
        "at": values["at"],
        "customer_id": key.customer_key,
        "protocol": values["protocol"],
        "kind": SUMMARY_KIND,
        "outcome": key.outcome,
        "status": SUMMARY_STATUS,
        "reason": reason,
        "method": "",
        "parameters": [],
        "parameter_count": 0,
        "client_address": values["client_address"],
        "suppressed": suppressed,
    }
    summary_id = connection.execute(insert(Transfer).returning(Transfer.id), summary).scalar_one()
    connection.execute(
        update(TransferBudget)
        .where(*(getattr(TransferBudget, name) == value for name, value in asdict(key).items()))
        .values(summary_id=summary_id)
    )


def prune(session: Session, older_than: datetime, batch: int = PRUNE_BATCH) -> int:
    """Delete the entries from before ``older_than``, ``batch`` at a time, each batch in a
    transaction of its own (a big table is never locked for long); how many were deleted.
    The budgets whose window is over go first: what they counted is in their summaries."""
    prune_budgets(session, utcnow() - BUDGET_WINDOW)
    deleted = 0
    while True:
        oldest = (
            select(Transfer.id).where(Transfer.at < older_than).order_by(Transfer.at).limit(batch)
        )
        with write_transaction(session):
            result = session.execute(
                delete(Transfer).where(Transfer.id.in_(oldest)),
                execution_options={"synchronize_session": False},
            )
        count = result.rowcount or 0  # type: ignore[attr-defined]
        deleted += count
        if count < batch:
            return deleted


def prune_budgets(session: Session, older_than: datetime) -> None:
    """Delete the budgets of windows that began before ``older_than``."""
    with write_transaction(session):
        session.execute(
            delete(TransferBudget).where(TransferBudget.window_start < older_than),
            execution_options={"synchronize_session": False},
        )


def prune_start_pages(session: Session, older_than: datetime) -> int:
    """Delete the cXML StartPages made before ``older_than``: they can no longer be opened, and
    hold personal data; how many were deleted."""
    with write_transaction(session):
        result = session.execute(
            delete(StartPage).where(StartPage.created_at < older_than),
            execution_options={"synchronize_session": False},
        )
    return result.rowcount or 0  # type: ignore[attr-defined]


def retention_cutoff(days: int, now: datetime | None = None) -> datetime:
    """The moment before which entries are older than ``days`` days."""
    return (now or utcnow()) - timedelta(days=days)
