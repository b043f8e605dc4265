"""Section 4: the planning view of a week, in a small and a large table of requests, read by a
logged-in operator (seeded by the seeder, served and logged in as the inbox section does).

The week measured holds the same rentals at every table size: :data:`WEEK_REQUESTS` requests
that come in two years from now (the table's own requests come in during the year up to now)
and are picked up in the two months after, at the six branches of the seeder. So the two
figures differ only by the requests the week's queries must pass by through their indexes,
which is what the target holds them to. (The seeder's table has a busy inbox's arrivals,
2,740 requests a day at 1,000,000: its own current week holds some 29,000 pickups and returns,
where the 10,000 table's holds 2,000; that difference is the data's, not the indexes'.)
"""

from __future__ import annotations

import contextlib
import tempfile
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from bench.inbox import (
    CONNECTIONS,
    OPERATOR,
    SEED_CUSTOMERS,
    database_app,
    log_in,
    operators_load,
)
from bench.punchout import ociflex_server, postgres_database, sqlite_database
from ociflex.customers.registry import customers
from ociflex.db import session_for
from ociflex.devtools.seed import seed_customers, seed_requests
from ociflex.ops.operators import add_operator
from ociflex.ops.planning import Week, fetch_planning

#: The requests of the weeks measured: about 90 pickups and 90 returns a week at six branches,
#: and some 15 requests still to plan.
WEEK_REQUESTS = 1000
#: When the week's requests come in: beyond every request of the table.
ARRIVAL = timedelta(days=730)
#: The week measured: a month after they came in, in the middle of their pickups.
WEEK_AFTER = timedelta(weeks=4)


@dataclass(frozen=True)
class MeasuredWeek:
    """The week measured, and what its page shows."""

    week: str
    movements: int
    to_plan: int


@contextlib.contextmanager
def _seeded(engine: str, rows: int, newest: datetime) -> Iterator[tuple[str, float, MeasuredWeek]]:
    """A database of ``rows`` requests (as the inbox section seeds them, without its search
    words, which the planning does not read) and the week's requests coming in at ``newest``:
    its address, the seconds the ``rows`` took, and the week measured."""
    databases = {"sqlite": sqlite_database, "postgresql": postgres_database}
    with databases[engine]() as url, tempfile.TemporaryDirectory() as instance:
        with database_app(url, instance) as app:
            chosen = seed_customers(customers().result.customers, SEED_CUSTOMERS)
            database = app.extensions["ociflex.engine"]
            began = time.perf_counter()
            seed_requests(database, rows, chosen)
            seeded = time.perf_counter() - began
            seed_requests(database, WEEK_REQUESTS, chosen, newest=newest)
            week = Week.of((newest + WEEK_AFTER).date())
            with session_for(app) as session:
                add_operator(session, *OPERATOR)
                plan = fetch_planning(session, week.monday, 7)
        movements = sum(branch.count for branch in plan.branches)
        yield url, seeded, MeasuredWeek(week.label, movements, len(plan.to_plan))


def planning(sizes: list[int], engines: list[str], seconds: float, warmup: float) -> dict[str, Any]:
    """For each engine and table size: seed the table and the week, serve, log in, and
    measure the week's page."""
    figures: dict[str, Any] = {"connections": CONNECTIONS, "sizes": sizes}
    newest = datetime.now(UTC) + ARRIVAL
    for engine in engines:
        for rows in sizes:
            seeding = _seeded(engine, rows, newest)
            with seeding as (url, seeded, week), tempfile.TemporaryDirectory() as inst:
                path = f"/ops/planning?week={week.week}"
                with ociflex_server(url, inst) as server:
                    cookie = log_in(server.port)
                    load = operators_load(server.url(path), cookie, seconds, warmup)
                figures.setdefault(engine, {})[str(rows)] = {
                    "seed_seconds": round(seeded, 1),
                    "week": {**load.as_json(), **asdict(week), "path": path},
                }
    return figures
