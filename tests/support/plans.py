"""The query plans of the database, to prove that an index can serve a query."""

import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from flask import Flask
from sqlalchemy import event


def explain(app: Flask, statement: str, parameters: Any) -> list[str]:
    """The plan of a captured statement, run with its own parameters. On PostgreSQL with
    sequential scans off: with a few hundred rows a scan is cheapest, with a million it is
    not; what counts is that an index CAN serve the query."""
    engine = app.extensions["ociflex.engine"]
    connection = engine.raw_connection()
    try:
        cursor = connection.cursor()
        if engine.dialect.name == "sqlite":
            cursor.execute(f"EXPLAIN QUERY PLAN {statement}", parameters)
            plan = [row[3] for row in cursor.fetchall()]
        else:
            cursor.execute("SET enable_seqscan = off")
            cursor.execute(f"EXPLAIN {statement}", parameters)
            plan = [row[0] for row in cursor.fetchall()]
        cursor.close()
        connection.rollback()
    finally:
        connection.close()
    return plan


@contextmanager
def captured_queries(
    app: Flask, table: str, *, selects_only: bool = False
) -> Iterator[list[tuple[str, Any]]]:
    """The statements (and their parameters) that read ``table`` while the block runs; with
    ``selects_only``, SELECTs alone (a ``DELETE FROM`` reads the table too)."""
    engine = app.extensions["ociflex.engine"]
    seen: list[tuple[str, Any]] = []
    reads = re.compile(rf"\bFROM {re.escape(table)}\b")

    def listener(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        if reads.search(statement) and (not selects_only or statement.startswith("SELECT")):
            seen.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", listener)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", listener)


def sqlite_steps(app: Flask, statement: str, parameters: Any) -> int:
    """How many virtual-machine instructions SQLite runs for ``statement``: unlike a time, it
    grows with the rows a query reads, and nothing else on the machine moves it."""
    connection = app.extensions["ociflex.engine"].raw_connection()
    count = 0

    def step() -> int:
        nonlocal count
        count += 1
        return 0

    try:
        dbapi = connection.dbapi_connection
        dbapi.set_progress_handler(step, 1)
        dbapi.execute(statement, parameters).fetchall()
        dbapi.set_progress_handler(None, 1)
        connection.rollback()
    finally:
        connection.close()
    return count
