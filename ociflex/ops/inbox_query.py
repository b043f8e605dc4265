"""The inbox's query side: the page of requests and the status counts that match the filters
of an inbox address (read by :mod:`ociflex.ops.inbox_filters`). No request or template here:
:mod:`ociflex.ops.inbox` serves them.

The inbox lists requests newest first (``ORDER BY id DESC``), 50 to a page, filtered by
``status``, ``customer``, ``vehicle``, pickup day ``from``/``to``, the ERP's purchase order
``po`` (``received`` or ``awaiting``) and a search ``q``. It pages by keyset, never by OFFSET:
``before=<id>`` shows the next (older) page, ``after=<id>`` the previous (newer) one, so a page
costs the same on page 1 and page 20,000, and a request that arrives meanwhile does not shift
the pages.

Every list query is served by an index of ``rental_requests`` (see its ``__table_args__``) or
of ``request_words``; tests/test_ops_inbox.py and tests/test_ops_word_search.py prove it with
EXPLAIN on SQLite and PostgreSQL, and on SQLite that a page costs as much with 20,000 more
requests. Four choices keep the planners from walking the whole table: a search collects its
matches through their indexes and sorts them (:func:`_sort_key`), except the words of a name,
read newest first from their own index (:func:`_word_stream`); SQLite is told that a pickup
range is selective (:func:`_selective`), and how the requests with and without a purchase
order are spread (:func:`_po_condition`). What the search ``q`` finds:

- ``FF-000123`` (or ``ff-123``): that request;
- text with an ``@``: e-mail addresses that begin with it (lower-cased), so a whole address
  finds its requests, and ``jan@`` all of Jan's;
- anything else: cost centre, PO number or the ERP's PO number equal to it, or an e-mail
  address that begins with it, or a requester whose name has a word beginning with each word
  of the search, case and accents ignored ("jansen", "JANS" and "jan jans" find "Jan Jansen",
  "zoe" finds "Zoë"; :mod:`ociflex.booking.words`); plain digits also find the request with
  that number. A search with a single letter among its words finds the names that begin with
  it instead (no word is kept that short).

"Begins with" is a range of code points (:func:`starts_with`): exact under any collation,
free of LIKE's wildcards, and served by an index on both engines.
"""

import re
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any, NamedTuple

from sqlalchemy import (
    ColumnElement,
    Select,
    and_,
    false,
    func,
    literal_column,
    or_,
    select,
    union,
)
from sqlalchemy.orm import Session, aliased

from ociflex.booking.words import query_words
from ociflex.digits import plain_digits
from ociflex.models import (
    STATUSES,
    RentalRequest,
    RequestWord,
    StatusCount,
    format_reference,
    parse_reference,
    search_key,
)
from ociflex.ops.inbox_filters import MAX_ID, Filters

PAGE_SIZE = 50
_REFERENCE = re.compile(r"FF-[0-9]+", re.IGNORECASE)


# --- Conditions, each served by an index --------------------------------------------------------


def prefix_end(prefix: str) -> str | None:
    """The least text above every text that begins with ``prefix``, in code point order
    (``"jan"`` -> ``"jao"``); None when there is none (``prefix`` is all U+10FFFF)."""
    stem = prefix.rstrip(chr(sys.maxunicode))
    if not stem:
        return None
    following = ord(stem[-1]) + 1
    if 0xD800 <= following <= 0xDFFF:  # surrogates are no characters of stored text
        following = 0xE000
    return stem[:-1] + chr(following)


def starts_with(column: Any, prefix: str, dialect: str) -> ColumnElement[bool]:
    """``column`` begins with ``prefix``: the range ``prefix <= column < prefix_end(prefix)``
    in code point order, which equals UTF-8 byte order.

    SQLite compares text byte by byte (BINARY), so an ordinary index serves the range. On
    PostgreSQL ``<`` follows the database's collation, under which "dé vries" may sort among
    "de ..." names; its byte-wise operators ``~>=~`` and ``~<~`` keep the range exact, served
    by an index with ``varchar_pattern_ops`` (migration 0003). No LIKE, so no wildcards to
    escape: ``jan_`` finds "jan_jansen@..." and not "jana@...".
    """
    upper = prefix_end(prefix)
    if dialect == "postgresql":
        at_least = column.op("~>=~", is_comparison=True)(prefix)
        below = column.op("~<~", is_comparison=True)(upper) if upper is not None else None
    else:
        at_least = column >= prefix
        below = column < upper if upper is not None else None
    return at_least if below is None else and_(at_least, below)


def _request_id(number: int) -> ColumnElement[bool]:
    return RentalRequest.id == number if number <= MAX_ID else false()


def name_words_sought(q: str) -> list[str] | None:
    """The word keys a search ``q`` finds names by (longest first), or None when it finds
    names otherwise: a reference, an e-mail address, or a word of a single letter."""
    if _REFERENCE.fullmatch(q) or "@" in q:
        return None
    return query_words(q)


def search_condition(q: str, dialect: str) -> ColumnElement[bool]:
    """What the search ``q`` finds in the columns of the request (see the module's
    documentation); the names found by their words come from :func:`_word_stream`."""
    if _REFERENCE.fullmatch(q):
        number = parse_reference(q)
        return _request_id(number) if number is not None else false()
    if "@" in q:
        return starts_with(RentalRequest.requester_email, q.lower(), dialect)
    # Numbers as entered, or in capitals as they are usually written: "po-12" finds "PO-12".
    numbers = list(dict.fromkeys((q, q.upper())))
    found = [
        RentalRequest.cost_centre.in_(numbers),
        RentalRequest.po_number.in_(numbers),
        RentalRequest.erp_po_number.in_(numbers),
        starts_with(RentalRequest.requester_email, q.lower(), dialect),
    ]
    if name_words_sought(q) is None:
        found.append(starts_with(RentalRequest.name_key, search_key(q), dialect))
    if plain_digits(q) and len(q) <= 12:
        found.append(_request_id(int(q)))
    return or_(*found)


def _likely(condition: ColumnElement[bool], dialect: str, share: str) -> ColumnElement[bool]:
    """``condition``, marked with the ``share`` of requests that meet it, for SQLite's planner,
    which plans without statistics. ``likelihood()`` changes nothing but its estimate.
    PostgreSQL knows the table's statistics and chooses by itself."""
    if dialect != "sqlite":
        return condition
    # Untyped: a Boolean result would be written "likelihood(...) = 1", which no index serves.
    hinted: ColumnElement[bool] = func.likelihood(condition, literal_column(share))
    return hinted


def _selective(condition: ColumnElement[bool], dialect: str) -> ColumnElement[bool]:
    """``condition``, marked as one that few requests meet, for SQLite's planner.

    For a pickup range SQLite would rather walk the whole table in id order (no sort) than read
    the few requests in the range from the pickup index and sort them; marked, the index is
    used. (A range of many months reads all of them and sorts; the ranges operations use are
    days and weeks.)
    """
    return _likely(condition, dialect, "0.001")


def _po_condition(po: str, dialect: str) -> ColumnElement[bool]:
    """Requests with the purchase-order number of the customer's ERP (``received``), or still
    without one (``awaiting``), marked for SQLite's planner as they are spread.

    Few requests have one (the orders of cXML customers, the numbers operations type in):
    SQLite reads those from their index and sorts them. Most are without one, the newest above
    all (a purchase order comes days after its request): SQLite walks the table in id order, as
    for the newest page of the whole inbox, and has a page after a few rows, where the index
    would have it read nearly every request and sort them.
    """
    if po == "received":
        return _selective(RentalRequest.erp_po_number.is_not(None), dialect)
    return _likely(RentalRequest.erp_po_number.is_(None), dialect, "0.9")


def filter_conditions(
    filters: Filters, dialect: str, *, search: bool = True
) -> list[ColumnElement[bool]]:
    """The conditions of ``filters`` on the request; without the search ``q`` when not
    ``search``."""
    conditions: list[ColumnElement[bool]] = []
    if filters.status:
        conditions.append(RentalRequest.status == filters.status)
    if filters.customer:
        conditions.append(RentalRequest.customer_id == filters.customer)
    if filters.vehicle:
        conditions.append(RentalRequest.vehicle_code == filters.vehicle)
    if filters.start_from:
        conditions.append(_selective(RentalRequest.start_date >= filters.start_from, dialect))
    if filters.start_to:
        conditions.append(_selective(RentalRequest.start_date <= filters.start_to, dialect))
    if filters.q and search:
        conditions.append(search_condition(filters.q, dialect))
    if filters.po:
        conditions.append(_po_condition(filters.po, dialect))
    return conditions


# --- A page of requests -------------------------------------------------------------------------


class ListedRequest(NamedTuple):
    """A request as the list shows it: the columns its template reads, named as on
    :class:`RentalRequest`. Plain rows, not ORM objects: a list only shows them, so it has no
    use for the identity map and the change tracking that loading objects pays for."""

    id: int
    created_at: datetime
    status: str
    customer_id: str
    protocol: str
    requester_name: str
    requester_email: str
    vehicle_name: str
    vehicle_code: str
    start_date: date
    end_date: date
    days: int
    day_rate: Decimal
    currency: str
    location: str | None
    cost_centre: str | None
    po_number: str | None
    erp_po_number: str | None

    @property
    def reference(self) -> str:
        return format_reference(self.id)


@dataclass
class InboxPage:
    rows: list[ListedRequest]
    #: ``after`` of the newer page, when there is one.
    newer: int | None = None
    #: ``before`` of the older page, when there is one.
    older: int | None = None
    #: The newest page (no newer requests to link to).
    first: bool = True


#: The requests as the list shows them (without the large columns, which it never reads).
_LISTED = select(*(getattr(RentalRequest, name) for name in ListedRequest._fields))


def _rows(session: Session, statement: Select[Any]) -> list[ListedRequest]:
    return [ListedRequest(*row) for row in session.execute(statement)]


def _sort_key(filters: Filters) -> ColumnElement[int]:
    """What a page is ordered by: the id; for a search, ``id + 0``.

    Walking the table in id order and skipping what does not match is the cheapest plan when
    the planner believes many rows match, and a walk through the whole table when few do.
    A search exists to find few, and its estimate is only a guess (PostgreSQL judges a prefix
    range by a sample). ``id + 0`` is no column an index is ordered by, so the database
    collects the matches through their indexes and sorts those: bounded by the number of
    matches, never by the size of the table.
    """
    if filters.q:
        return RentalRequest.id + literal_column("0")
    return RentalRequest.id


def _bounds(column: Any, below: int | None, above: int | None) -> list[ColumnElement[bool]]:
    """``column`` (a request id) below ``below`` and above ``above``, where given."""
    bounds = []
    if below is not None:
        bounds.append(column < below)
    if above is not None:
        bounds.append(column > above)
    return bounds


def _ordered(key: Any, ascending: bool) -> ColumnElement[Any]:
    ordered: ColumnElement[Any] = key.asc() if ascending else key.desc()
    return ordered


def _word_stream(
    words: list[str],
    conditions: list[ColumnElement[bool]],
    below: int | None,
    above: int | None,
    ascending: bool,
    limit: int,
) -> Select[Any]:
    """The first ``limit`` ids of requests named with a word beginning with each of ``words``
    (word keys, :mod:`ociflex.booking.words`) and meeting ``conditions``.

    The first (longest) word is an equality on the primary key (word, request id) of
    ``request_words``, whose entries are then in id order: the database reads them newest
    (or oldest) first and stops after ``limit`` that match, however many requests share the
    word. Each further word, and the request's other filters, are looked up by primary key for
    each entry read.
    """
    first, *others = words
    found = select(RequestWord.request_id).where(
        RequestWord.word == first, *_bounds(RequestWord.request_id, below, above)
    )
    for word in others:
        also = aliased(RequestWord)
        # OFFSET 0 keeps PostgreSQL from turning the EXISTS into a join: it would judge the
        # words independent, so their requests in common few, and read all requests of each
        # word to join them, where a lookup per entry read stops after a page.
        also_named = (
            select(also.request_id)
            .where(also.word == word, also.request_id == RequestWord.request_id)
            .offset(0)
        )
        found = found.where(also_named.exists())
    if conditions:
        found = found.join(RentalRequest, RentalRequest.id == RequestWord.request_id).where(
            *conditions
        )
    return found.order_by(_ordered(RequestWord.request_id, ascending)).limit(limit)


def _matches(
    filters: Filters,
    dialect: str,
    columns: Select[Any],
    *,
    limit: int,
    below: int | None = None,
    above: int | None = None,
    ascending: bool = False,
) -> Select[Any]:
    """The first ``limit`` requests matching ``filters`` as ``columns``, newest first (or
    oldest first when ``ascending``), with ids below ``below`` and above ``above``.

    A search by the words of a name takes the first ``limit`` of two lists, each read in
    order from its indexes: the names (:func:`_word_stream`) and the request's own columns
    (:func:`search_condition`); the page is the first ``limit`` of the two together.
    """
    order = _ordered(_sort_key(filters), ascending)
    words = name_words_sought(filters.q) if filters.q else None
    if words is None:
        conditions = [
            *filter_conditions(filters, dialect),
            *_bounds(RentalRequest.id, below, above),
        ]
        return columns.where(*conditions).order_by(order).limit(limit)
    others = filter_conditions(filters, dialect, search=False)
    by_columns = (
        select(RentalRequest.id)
        .where(search_condition(filters.q, dialect), *others)
        .where(*_bounds(RentalRequest.id, below, above))
        .order_by(order)
        .limit(limit)
    )
    # Each list in a subquery of its own: a part of a UNION takes no ORDER BY or LIMIT.
    found = union(
        select(_word_stream(words, others, below, above, ascending, limit).subquery()),
        select(by_columns.subquery()),
    )
    return columns.where(RentalRequest.id.in_(found)).order_by(order).limit(limit)


def _exists(
    session: Session,
    filters: Filters,
    dialect: str,
    *,
    below: int | None = None,
    above: int | None = None,
) -> bool:
    """Whether a request matching ``filters`` has an id below ``below`` / above ``above``."""
    statement = _matches(
        filters,
        dialect,
        select(RentalRequest.id),
        limit=1,
        below=below,
        above=above,
        ascending=above is not None,
    )
    return session.scalar(statement) is not None


def fetch_page(
    session: Session, filters: Filters, *, before: int | None = None, after: int | None = None
) -> InboxPage:
    """The page of requests matching ``filters``: the newest, those older than ``before``, or
    those newer than ``after`` (the newest page when fewer than a page are newer)."""
    dialect = session.get_bind().dialect.name
    if after is not None:
        statement = _matches(
            filters, dialect, _LISTED, limit=PAGE_SIZE + 1, above=after, ascending=True
        )
        rows = _rows(session, statement)
        if len(rows) > PAGE_SIZE:
            rows = rows[:PAGE_SIZE][::-1]
            older = rows[-1].id if _exists(session, filters, dialect, below=rows[-1].id) else None
            return InboxPage(rows, newer=rows[0].id, older=older, first=False)
        before = None
    rows = _rows(session, _matches(filters, dialect, _LISTED, limit=PAGE_SIZE + 1, below=before))
    older = rows[PAGE_SIZE - 1].id if len(rows) > PAGE_SIZE else None
    rows = rows[:PAGE_SIZE]
    # A page past the newest links to the newer page (or, when it is empty, to the newest).
    newer = None
    if before is not None and rows and _exists(session, filters, dialect, above=rows[0].id):
        newer = rows[0].id
    return InboxPage(rows, newer=newer, older=older, first=before is None)


def fetch_all(session: Session, filters: Filters, batch_size: int) -> Iterator[ListedRequest]:
    """Every request matching ``filters``, newest first, as the pages list them one after
    the other: read ``batch_size`` at a time by keyset, so that a download of the whole list
    never holds it whole."""
    dialect = session.get_bind().dialect.name
    below = None
    while batch := _rows(
        session, _matches(filters, dialect, _LISTED, limit=batch_size, below=below)
    ):
        yield from batch
        if len(batch) < batch_size:
            return
        below = batch[-1].id


#: Built once: a statement keeps its cache key, which SQLAlchemy otherwise works out anew for
#: every page.
_COUNTS = select(StatusCount.status, func.sum(StatusCount.count)).group_by(StatusCount.status)


def status_counts(session: Session, customer: str | None = None) -> dict[str, int]:
    """Requests per status (of one customer), from the counts kept in step with every change."""
    statement = _COUNTS
    if customer is not None:
        statement = statement.where(StatusCount.customer_id == customer)
    counts = dict.fromkeys(STATUSES, 0)
    for status, count in session.execute(statement):
        if status in counts:
            counts[status] = int(count or 0)
    return counts
