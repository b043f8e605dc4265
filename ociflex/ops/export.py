"""The inbox as a CSV download (``GET /ops/inbox.csv``): every request that the inbox's current
filters find, all pages, newest first, for finance and for FlexFleet's own planning.

The address takes the inbox's own filter arguments (read by
:func:`ociflex.ops.inbox_filters.read_query`, found by
:func:`ociflex.ops.inbox_query.fetch_all`), so the download holds exactly the inbox's rows.
The file is made for Dutch Excel, which opens it with a double click:

- UTF-8 with a byte order mark (without one Excel reads ANSI and mangles "é"), ``;`` between
  the cells and CR LF after each row, a header row first;
- the header's names are fixed English ones, whatever the operator's language: finance's
  sheets and FlexFleet's import find their columns by name;
- the status as its code (``confirmed``), for the same reason;
- days ISO (``2026-12-01``), and the moment a request came in as Dutch local time
  (``2026-12-01 09:15:00``, Europe/Amsterdam, as the pages show it): Excel reads both as
  dates, which it does not with an offset or a ``T``;
- amounts with a decimal comma and no thousands separator (``1234,50``): Dutch Excel reads
  that as the number, where ``1234.50`` (a dot: its thousands separator) would be text or
  another number (:func:`ociflex.money.decimal_comma`);
- a cell that begins with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return starts with
  a ``'`` (:func:`neutralised`): names and numbers come from the ERP and the employee, and
  Excel would run such a cell as a formula.

The rows are read and written a batch at a time, never all at once.
"""

import csv
import io
from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import UTC, datetime
from decimal import Decimal
from typing import Final

from flask import Response, render_template, request, stream_with_context
from flask.typing import ResponseReturnValue
from flask_babel import gettext

from ociflex.db import get_session
from ociflex.mail.compose import LOCAL_TIME
from ociflex.money import Price, decimal_comma, request_total
from ociflex.ops import bp
from ociflex.ops.auth import login_required
from ociflex.ops.inbox_filters import read_query
from ociflex.ops.inbox_query import ListedRequest, fetch_all
from ociflex.ops.lists import Labels
from ociflex.ops.transfers import customer_name

#: Requests read from the database, and rows written out, at a time.
BATCH_SIZE: Final = 1000
#: What makes Excel read a cell as a formula (OWASP, "CSV Injection").
FORMULA_STARTS: Final = ("=", "+", "-", "@", "\t", "\r")
#: The header row; :func:`row_cells` writes each request's cells in this order.
COLUMNS: Final = (
    "Reference",
    "Status",
    "Customer ID",
    "Customer",
    "Requester",
    "E-mail",
    "Vehicle code",
    "Vehicle",
    "First day",
    "Last day",
    "Days",
    "Day rate",
    "Currency",
    "Total",
    "Cost centre",
    "PO number",
    "ERP PO number",
    "Location",
    "Created at (Europe/Amsterdam)",
)


def neutralised(value: str) -> str:
    """``value`` as a cell Excel shows as text: with a ``'`` in front when it would otherwise
    be run as a formula."""
    return f"'{value}" if value.startswith(FORMULA_STARTS) else value


def local_moment(value: datetime) -> str:
    """A stored moment (UTC) as Dutch local time, ``YYYY-MM-DD HH:MM:SS``."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(LOCAL_TIME).replace(tzinfo=None).isoformat(" ", "seconds")


def amount_cells(price: tuple[Decimal, int]) -> tuple[str, str]:
    """The day rate and the total of (day rate, days), as Dutch Excel reads amounts."""
    day_rate, days = price
    return decimal_comma(day_rate), decimal_comma(request_total(Price(day_rate, days)))


def row_cells(
    row: ListedRequest,
    customer_names: Mapping[str, str],
    amounts: Mapping[tuple[Decimal, int], tuple[str, str]],
) -> list[str]:
    """One request's cells, in the order of :data:`COLUMNS`. ``customer_names`` maps a
    customer id to its name, ``amounts`` (day rate, days) to :func:`amount_cells`: rows
    repeat both. What came from the ERP or the employee is :func:`neutralised`; what ociflex
    wrote or checked (the reference, status, ids, days, amounts, codes) cannot start a
    formula."""
    day_rate, total = amounts[row.day_rate, row.days]
    return [
        row.reference,
        row.status,
        row.customer_id,
        neutralised(customer_names[row.customer_id]),
        neutralised(row.requester_name),
        neutralised(row.requester_email),
        row.vehicle_code,
        neutralised(row.vehicle_name),
        row.start_date.isoformat(),
        row.end_date.isoformat(),
        str(row.days),
        day_rate,
        row.currency,
        total,
        neutralised(row.cost_centre or ""),
        neutralised(row.po_number or ""),
        neutralised(row.erp_po_number or ""),
        neutralised(row.location or ""),
        local_moment(row.created_at),
    ]


def csv_chunks(
    rows: Iterable[ListedRequest], customer_name: Callable[[str], str]
) -> Iterator[bytes]:
    """The CSV file of ``rows``, in pieces of :data:`BATCH_SIZE` rows: the byte order mark and
    the header row first."""
    customer_names = Labels(customer_name)
    amounts = Labels(amount_cells)
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    writer.writerow(COLUMNS)
    yield "\ufeff".encode() + _taken(buffer)
    for count, row in enumerate(rows, start=1):
        writer.writerow(row_cells(row, customer_names, amounts))
        if count % BATCH_SIZE == 0:
            yield _taken(buffer)
    if rest := _taken(buffer):
        yield rest


def _taken(buffer: io.StringIO) -> bytes:
    """What ``buffer`` holds, encoded, and the buffer emptied."""
    text = buffer.getvalue()
    buffer.seek(0)
    buffer.truncate()
    return text.encode("utf-8")


def export_filename(today: datetime) -> str:
    """The download's name, with the day it was made: ``ociflex-requests-2026-12-01.csv``."""
    return f"ociflex-requests-{today.astimezone(LOCAL_TIME):%Y-%m-%d}.csv"


@bp.get("/inbox.csv")
@login_required
def inbox_export() -> ResponseReturnValue:
    """Every request the inbox's filters find, newest first, as a CSV file for Excel (see the
    module doc); 400 when a filter is not valid, as the download would hold other requests
    than the operator asked for. ``before`` and ``after`` are left out: the download holds
    every page."""
    query = read_query(request.args)
    if set(query.problems) - {"page"}:
        message = gettext(
            "A filter in this address is not valid, so no file was made. Export again from the "
            "inbox, which shows what is wrong with the filter."
        )
        return render_template("error.html", code=400, message=message, resend=None), 400
    rows = fetch_all(get_session(), query.filters, BATCH_SIZE)
    body = csv_chunks(rows, customer_name)
    filename = export_filename(datetime.now(UTC))
    return Response(
        stream_with_context(body),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )
