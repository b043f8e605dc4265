"""The transfer log's entries stored in batches after the answer: none is lost on the way, a
bad one costs only itself, and a worker that stops stores what still waits."""

import logging
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlencode

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import create_engine, func, select

from ociflex import transfer_writer as writer_module
from ociflex.db import make_engine, session_for
from ociflex.models import Transfer
from ociflex.transfer_writer import Entry, TransferWriter
from tests.conftest import make_environ
from tests.support.servers import GunicornServer
from tests.support.transfers import entry_values

_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def stored(app: Flask) -> list[tuple[str, str]]:
    """(kind, outcome) of the entries in the database, oldest first."""
    with session_for(app) as session:
        rows = session.execute(select(Transfer.kind, Transfer.outcome).order_by(Transfer.id))
        return [(kind, outcome) for kind, outcome in rows]


@pytest.fixture
def writer(app: Flask, monkeypatch: pytest.MonkeyPatch) -> Iterator[TransferWriter]:
    """The app's writer as production runs it, but with a flush interval no test outlasts:
    entries are stored only when a test (or a bound) says so."""
    batched = TransferWriter(app.extensions["ociflex.engine"], flush_seconds=600)
    monkeypatch.setitem(app.extensions, "ociflex.transfer_writer", batched)
    yield batched
    batched.close()


def entry(**fields: object) -> Entry:
    return Entry(entry_values(**fields), None)


def test_call_ups_are_answered_before_their_entries_are_stored_and_stored_together(
    app: Flask, client: FlaskClient, writer: TransferWriter, demo_callup: dict[str, str]
) -> None:
    for _ in range(3):
        assert client.post("/oci/demo", data=demo_callup).status_code == 200
    assert stored(app) == []

    writer.flush()

    assert stored(app) == [("callup", "accepted")] * 3


def test_the_flusher_stores_what_waits_without_a_further_request(
    app: Flask, client: FlaskClient, demo_callup: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    every_second = TransferWriter(app.extensions["ociflex.engine"], flush_seconds=1)
    monkeypatch.setitem(app.extensions, "ociflex.transfer_writer", every_second)
    try:
        assert client.post("/oci/demo", data=demo_callup).status_code == 200
        deadline = time.monotonic() + 15
        while not stored(app) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert stored(app) == [("callup", "accepted")]
    finally:
        every_second.close()


def test_the_request_that_fills_the_waiting_room_stores_everything_at_once(
    app: Flask,
    client: FlaskClient,
    writer: TransferWriter,
    demo_callup: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(writer_module, "MAX_WAITING", 3)
    client.post("/oci/demo", data=demo_callup)
    client.post("/oci/demo", data=demo_callup)
    assert stored(app) == []

    client.post("/oci/demo", data=demo_callup)

    assert stored(app) == [("callup", "accepted")] * 3


def test_a_few_long_documents_are_stored_at_once_so_that_memory_stays_bounded(
    app: Flask, writer: TransferWriter, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(writer_module, "MAX_WAITING_CHARS", 10_000)
    with app.app_context():
        writer.add(entry(document="<cXML/>" * 1000, protocol="cxml"))
        assert stored(app) == []
        writer.add(entry(document="<cXML/>" * 1000, answer="<cXML/>", protocol="cxml"))
    assert stored(app) == [("callup", "accepted")] * 2


def test_an_entry_the_database_refuses_costs_only_itself(
    app: Flask, writer: TransferWriter, caplog: pytest.LogCaptureFixture
) -> None:
    writer.add(entry(kind="start"))
    # A request that does not exist: the foreign key refuses the entry, and with it the batch.
    writer.add(entry(kind="basket", outcome="sent", request_id=999_999))
    writer.add(entry(kind="order"))

    writer.flush()

    assert stored(app) == [("start", "accepted"), ("order", "accepted")]
    lost = [r.getMessage() for r in caplog.records if "could not record" in r.getMessage()]
    assert len(lost) == 1
    assert "basket sent" in lost[0]
    assert not writer.failing


def test_entries_a_database_that_is_gone_cannot_take_are_logged_one_by_one(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    gone = make_engine(f"sqlite:///{tmp_path / 'no-such-folder' / 'ociflex.sqlite3'}")
    unreachable = TransferWriter(gone, flush_seconds=600)
    try:
        unreachable.add(entry(status=200))
        unreachable.add(entry(status=403, outcome="rejected"))
        unreachable.flush()
    finally:
        unreachable.close()

    lost = [r for r in caplog.records if "could not record" in r.getMessage()]
    assert [r.levelno for r in lost] == [logging.ERROR] * 2
    assert "status=403" in lost[1].getMessage()
    assert unreachable.failing


def test_after_close_entries_are_stored_at_once(app: Flask, writer: TransferWriter) -> None:
    writer.add(entry())
    writer.close()
    assert stored(app) == [("callup", "accepted")]

    writer.add(entry(kind="order"))

    assert stored(app) == [("callup", "accepted"), ("order", "accepted")]


def test_a_worker_stopped_by_sigterm_stores_the_entries_still_waiting(
    tmp_path: Path, migrated_sqlite: Path, customers_dir: Path, demo_callup: dict[str, str]
) -> None:
    database = tmp_path / "ociflex.sqlite3"
    database.write_bytes(migrated_sqlite.read_bytes())
    environ = {
        **make_environ(tmp_path, f"sqlite:///{database}", customers_dir),
        # Longer than the test: only the worker's exit can store the entries.
        "OCIFLEX_TRANSFER_LOG_FLUSH_SECONDS": "60",
    }
    engine = create_engine(f"sqlite:///{database}")
    count = select(func.count()).select_from(Transfer)
    with GunicornServer(environ, workers=2) as server:
        for _ in range(4):
            page = _OPENER.open(server.url(path=f"/oci/demo?{urlencode(demo_callup)}"), timeout=10)
            assert page.status == 200
        with engine.connect() as connection:
            assert connection.scalar(count) == 0
    with engine.connect() as connection:
        assert connection.scalar(count) == 4
    engine.dispose()
