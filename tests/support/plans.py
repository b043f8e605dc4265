"""The query plans of the database, to prove that an index can serve a query."""

from typing import Any

from flask import Flask


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
