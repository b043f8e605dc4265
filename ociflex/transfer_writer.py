"""The transfer log's entries stored in batches, off the request's path.

Every call-up, FUNCTION call, cXML document and refused booking leaves an entry
(:mod:`ociflex.transfers`). Stored one at a time, each was a write transaction of its own inside
the request: on SQLite the single writer's lock taken once more per call-up, and a large share
of a call-up's CPU (docs/performance.md, "Third round"). A process's :class:`TransferWriter`
keeps the entries in memory and stores those waiting together, in one transaction:

- every ``flush_seconds`` (``OCIFLEX_TRANSFER_LOG_FLUSH_SECONDS``, 1 by default), by a
  background thread of the process (a greenlet under gunicorn's gevent-based worker);
- at once, in the request that adds one, when :data:`MAX_WAITING` entries or
  :data:`MAX_WAITING_CHARS` characters of documents wait: memory stays bounded under any load;
- when the process exits (``atexit``: a gunicorn worker's graceful stop on SIGTERM, too).

A worker killed without its exit (SIGKILL, a power cut) loses the entries of its last
``flush_seconds``: diagnostics of the last second, never a booking, whose cart entry is written
in the booking's own transaction (:mod:`ociflex.booking.register`; docs/security.md says so
too). A batch the database refuses is stored again one entry per transaction, so that a bad
entry costs only itself; an entry that cannot be stored is logged, never a failed answer.

With ``flush_seconds`` 0 (the tests' default) each entry is stored at once, in the request.
"""

import atexit
import logging
import os
import threading
from collections.abc import Mapping
from typing import Any, NamedTuple

from flask import Flask, current_app
from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from ociflex.db import UNREACHABLE, error_summary, write_connection
from ociflex.transfers import BudgetKey, budget_of, store_transfer, transfer_values

log = logging.getLogger(__name__)

#: Entries that may wait in one process before the request that adds one stores them all ...
MAX_WAITING = 1000
#: ... and characters of documents and answers (a cXML entry keeps up to 200,000).
MAX_WAITING_CHARS = 2_000_000


class Entry(NamedTuple):
    """An entry's column values (:func:`~ociflex.transfers.transfer_values`) and the budget it
    counts against (:func:`~ociflex.transfers.budget_of`): all that storing it needs, without
    the request or the app."""

    values: Mapping[str, Any]
    budget: BudgetKey | None

    @property
    def chars(self) -> int:
        return len(self.values.get("document") or "") + len(self.values.get("answer") or "")


class _Waiting:
    """The entries waiting in one process: made anew in a forked worker, whose locks and
    flusher thread must be its own (under gevent, made after the worker was patched)."""

    def __init__(self) -> None:
        self.pid = os.getpid()
        self.entries: list[Entry] = []
        self.chars = 0
        #: Guards ``entries`` and ``chars``: held only to add or take, never while storing.
        self.lock = threading.Lock()
        #: One batch at a time, so entries are stored in the order they came.
        self.storing = threading.Lock()
        self.stopping = threading.Event()

    def add(self, entry: Entry) -> bool:
        """Add ``entry``; whether so much waits now that it must be stored at once."""
        with self.lock:
            self.entries.append(entry)
            self.chars += entry.chars
            return len(self.entries) >= MAX_WAITING or self.chars >= MAX_WAITING_CHARS

    def take(self) -> list[Entry]:
        with self.lock:
            taken, self.entries, self.chars = self.entries, [], 0
        return taken


class TransferWriter:
    """Stores a process's transfer-log entries in batches (module doc)."""

    def __init__(self, engine: Engine, flush_seconds: float) -> None:
        self.engine = engine
        self.flush_seconds = flush_seconds
        #: Whether the last entries could not be stored: the database may be down.
        self.failing = False
        self._waiting: _Waiting | None = None

    def add(self, entry: Entry) -> None:
        """Store ``entry`` soon, or now when entries are not batched or too many wait."""
        if self.flush_seconds <= 0:
            self._store([entry])
            return
        waiting = self._process_waiting()
        if waiting.add(entry):
            self.flush()

    def flush(self) -> None:
        """Store the entries waiting now."""
        waiting = self._own_waiting()
        if waiting is None:
            return
        with waiting.storing:
            if entries := waiting.take():
                self._store(entries)

    def close(self) -> None:
        """Store what waits and stop the flusher: the process is stopping. Entries added after
        this are stored at once."""
        self.flush_seconds = 0
        waiting = self._own_waiting()
        if waiting is not None:
            waiting.stopping.set()
            self.flush()

    def _own_waiting(self) -> _Waiting | None:
        """This process's waiting entries; None before its first (a forked worker inherits
        its parent's, which are not its own)."""
        waiting = self._waiting
        return waiting if waiting is not None and waiting.pid == os.getpid() else None

    def _process_waiting(self) -> _Waiting:
        waiting = self._own_waiting()
        if waiting is None:
            waiting = self._waiting = _Waiting()
            flusher = threading.Thread(
                target=self._flush_every_interval,
                args=(waiting,),
                name="ociflex-transfer-writer",
                daemon=True,
            )
            flusher.start()
            atexit.register(self.close)
        return waiting

    def _flush_every_interval(self, waiting: _Waiting) -> None:
        while not waiting.stopping.wait(self.flush_seconds):
            try:
                self.flush()
            except Exception:
                # Whatever went wrong with one batch, the next ones must still be stored.
                log.exception("transfer log: a batch of entries could not be stored")

    def _store(self, entries: list[Entry]) -> None:
        """Store ``entries`` in one transaction, or one per entry when the batch is refused."""
        try:
            with write_connection(self.engine) as connection:
                for entry in entries:
                    store_transfer(connection, entry.values, entry.budget)
        except SQLAlchemyError as error:
            if len(entries) == 1 or isinstance(error, UNREACHABLE):
                # Stored one by one, a database that is gone would refuse each entry as slowly.
                for entry in entries:
                    self._lost(entry, error)
                return
            for entry in entries:
                self._store([entry])
            return
        self.failing = False

    def _lost(self, entry: Entry, error: SQLAlchemyError) -> None:
        self.failing = True
        values = entry.values
        log.error(
            "transfer log: could not record %s %s: customer=%s status=%s error=%s",
            values["kind"],
            values["outcome"],
            values["customer_id"],
            values["status"],
            error_summary(error),
        )


def init_app(app: Flask) -> None:
    writer = TransferWriter(
        app.extensions["ociflex.engine"], app.config["OCIFLEX_TRANSFER_LOG_FLUSH_SECONDS"]
    )
    app.extensions["ociflex.transfer_writer"] = writer


def transfer_writer() -> TransferWriter:
    """The current app's writer of transfer-log entries."""
    return current_app.extensions["ociflex.transfer_writer"]


def record_transfer(**fields: Any) -> None:
    """Store an entry (the arguments of :func:`~ociflex.transfers.transfer_values`) soon, or
    count it in its summary when over its budget (:func:`~ociflex.transfers.store_transfer`).
    Never fails: an entry that cannot be stored is logged."""
    values = transfer_values(**fields)
    transfer_writer().add(Entry(values, budget_of(values)))
