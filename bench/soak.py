"""Load and soak: ociflex under gunicorn (4 workers) on SQLite and on PostgreSQL, a few hundred
simulated employees punching out while operators confirm requests, and the SMTP server stopped
for a while midway. At the end every basket an employee received must be exactly one stored
request, every e-mail must have been delivered exactly once, and no response may be a 5xx.

    .venv/bin/python -m bench.soak [--engine sqlite|postgresql|both] [--minutes N]
                                   [--employees N] [--operators N]

Prints a table per engine, writes them to bench/results/soak-latest.json, and exits 1 when
anything was lost, duplicated, undelivered or answered with a 5xx. It is a script that reports
figures, not a test: nothing here asserts a speed.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import secrets
import sys
import tempfile
import time
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
from sqlalchemy import create_engine, func, select

from bench.soak_employees import KINDS, Crowd, employee
from bench.soak_http import Tally
from bench.soak_logs import scan
from bench.soak_operators import Desk, operator
from bench.soak_report import table, write_results
from bench.soak_stack import OUTBOX_INTERVAL, OutboxWorker, app_environ, database, prepare
from bench.soak_verify import read_database, verify
from ociflex.models import OutboxMessage
from tests.support.servers import GunicornServer
from tests.support.smtp import SmtpSink

GUNICORN_WORKERS = 4
#: Seconds over which the employees start, so they do not all call up in the same instant.
RAMP_UP = 10.0
#: Seconds one HTTP exchange may take before it counts as unanswered.
REQUEST_TIMEOUT = 120.0


def main(argv: list[str] | None = None) -> int:
    args = _arguments(argv)
    engines = ["sqlite", "postgresql"] if args.engine == "both" else [args.engine]
    runs = []
    for engine in engines:
        runs.append(soak(engine, args))
    print(table(runs), flush=True)
    print(f"results written to {write_results(runs)}")
    return 0 if all(run["passed"] for run in runs) else 1


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.soak",
        description="Load and soak ociflex under gunicorn; prints a table of figures and "
        "writes bench/results/soak-latest.json. Exits 1 when anything was lost, duplicated, "
        "undelivered or answered with a 5xx.",
    )
    parser.add_argument("--engine", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--minutes", type=float, default=3.0, help="load time (default 3)")
    parser.add_argument("--employees", type=int, default=200, help="concurrent employees")
    parser.add_argument("--operators", type=int, default=3, help="concurrent operator sessions")
    parser.add_argument(
        "--smtp-outage",
        type=float,
        default=30.0,
        help="seconds the SMTP server is down midway (at most a third of the load time)",
    )
    parser.add_argument(
        "--drain-timeout",
        type=float,
        default=300.0,
        help="seconds to wait after the load for the outbox to be sent",
    )
    parser.add_argument("--seed", type=int, default=None, help="seed of the load's choices")
    return parser.parse_args(argv)


def soak(engine: str, args: argparse.Namespace) -> dict[str, Any]:
    """One run on ``engine``: the stack started, the load, the drain, the verification."""
    workdir = Path(tempfile.mkdtemp(prefix=f"ociflex-soak-{engine}-"))
    seed = args.seed if args.seed is not None else secrets.randbits(32)
    load_seconds = args.minutes * 60
    outage = min(args.smtp_outage, load_seconds / 3)
    demo_password = secrets.token_urlsafe(12)
    operators = {f"soak-op{n}": secrets.token_urlsafe(16) for n in range(1, args.operators + 1)}
    settings = {
        "employees": args.employees,
        "operators": args.operators,
        "minutes": args.minutes,
        "gunicorn_workers": GUNICORN_WORKERS,
        "smtp_outage_seconds": outage,
        "outbox_interval_seconds": OUTBOX_INTERVAL,
        "journey_weights": {name: kind.weight for name, kind in KINDS.items()},
        "seed": seed,
        # Other work on the machine competes with the run for the same cores.
        "load_average_at_start": [round(value, 2) for value in os.getloadavg()],
    }
    print(f"--- {engine}: starting (work folder {workdir})", flush=True)
    with ExitStack() as stack:
        sink = stack.enter_context(SmtpSink())
        url = stack.enter_context(database(engine, workdir))
        environ = app_environ(url, workdir, secrets.token_hex(32), demo_password, sink.port)
        prepare(environ, operators)
        server = GunicornServer(
            environ,
            workers=GUNICORN_WORKERS,
            log_path=workdir / "gunicorn.log",
            startup_timeout=60,
        )
        worker = OutboxWorker(environ, workdir / "outbox.log")
        with server, worker:
            print(f"--- {engine}: load for {args.minutes} min", flush=True)
            load = asyncio.run(
                _load(
                    server.url("127.0.0.1"),
                    demo_password,
                    operators,
                    sink,
                    load_seconds,
                    outage,
                    args.employees,
                    random.Random(seed),  # noqa: S311 - a load pattern, not a secret
                )
            )
            print(f"--- {engine}: waiting for the outbox", flush=True)
            drain = _wait_for_outbox(url, args.drain_timeout)
        stored = read_database(url)
        verdict = verify(stored, load.crowd.journeys, load.desk, list(sink.messages))
    log_figures, log_evidence = scan(workdir / "gunicorn.log", workdir / "outbox.log")
    problems = verdict.evidence()
    if load.tally.server_errors:
        problems["5xx responses"] = [str(error) for error in load.tally.server_errors]
    if load.failures:
        problems["simulated clients that crashed"] = load.failures
    problems.update({f"log: {kind}": lines for kind, lines in log_evidence.items()})
    return {
        "engine": engine,
        "settings": settings,
        "table": _figures(verdict.figures, load, drain, worker.returncode, log_figures),
        "latency_seconds": load.tally.percentiles(),
        "problems": problems,
        "passed": load.tally.count_5xx == 0 and not problems,
        "workdir": str(workdir),
    }


def _figures(
    verified: dict[str, Any],
    load: Load,
    drain: dict[str, Any],
    worker_status: int | None,
    log_figures: dict[str, int],
) -> dict[str, Any]:
    """The table of one run: what the verification found, then the run's own figures."""
    tally = load.tally
    return {
        **verified,
        "responses": {
            "total": tally.responses,
            "5xx": tally.count_5xx,
            "by status": {str(status): n for status, n in sorted(tally.statuses.items())},
        },
        "SMTP outage and outbox": {
            "SMTP server stopped at (s into the load)": load.outage[0],
            "SMTP server down for (s)": load.outage[1],
            "outbox drained after the load (s)": drain["seconds"],
            "outbox left pending / failed": f"{drain['pending']} / {drain['failed']}",
            "outbox worker exit status": worker_status,
        },
        "server logs": log_figures,
        "throughput (figures, not asserted)": {
            "load seconds": round(load.seconds, 1),
            "responses per second": round(tally.responses / load.seconds, 1),
            "journeys per minute": round(len(load.crowd.journeys) / load.seconds * 60),
            "CPU s of the soak process (clients, SMTP)": round(load.client_cpu_seconds, 1),
        },
        "latency in s (n/p50/p95/p99/max)": {
            step: "/".join(
                [str(p["count"])] + [f"{p[k]:.2f}" for k in ("p50", "p95", "p99", "max")]
            )
            for step, p in tally.percentiles().items()
        },
    }


@dataclass
class Load:
    """What the load phase produced."""

    crowd: Crowd
    desk: Desk
    tally: Tally
    seconds: float
    #: CPU seconds this process (the simulated clients and the SMTP server) used meanwhile:
    #: taken from the same cores as the service's.
    client_cpu_seconds: float
    #: When the SMTP server went down (s into the load) and for how long.
    outage: tuple[float | None, float | None]
    #: Simulated clients that ended with an exception.
    failures: list[str]


async def _load(
    base_url: str,
    demo_password: str,
    operators: dict[str, str],
    sink: SmtpSink,
    seconds: float,
    outage: float,
    employees: int,
    rng: random.Random,
) -> Load:
    """Employees and operators against the server for ``seconds``, the SMTP server down for
    ``outage`` seconds from the middle on; journeys under way at the end are finished."""
    tally = Tally()
    started = time.monotonic()
    cpu_started = time.process_time()
    deadline = started + seconds
    connector = aiohttp.TCPConnector(limit=0)
    timeout = aiohttp.ClientTimeout(total=REQUEST_TIMEOUT)
    outage_at: list[float] = []
    async with aiohttp.ClientSession(
        connector=connector, timeout=timeout, cookie_jar=aiohttp.DummyCookieJar()
    ) as http:
        crowd = Crowd(base_url, demo_password, secrets.token_hex(3), deadline, http, tally, rng)
        desk = Desk(base_url, deadline, tally, rng)
        ramp = min(RAMP_UP, seconds / 4)
        tasks = [employee(crowd, ramp * n / employees) for n in range(employees)]
        tasks += [operator(desk, http, name, password) for name, password in operators.items()]
        tasks.append(_smtp_outage(sink, seconds / 2, outage, started, outage_at))
        results = await asyncio.gather(*tasks, return_exceptions=True)
    failures = [f"{type(r).__name__}: {r}" for r in results if isinstance(r, BaseException)]
    outage_seen = (outage_at[0], outage_at[1]) if outage_at else (None, None)
    cpu = time.process_time() - cpu_started
    return Load(crowd, desk, tally, time.monotonic() - started, cpu, outage_seen, failures)


async def _smtp_outage(
    sink: SmtpSink, after: float, seconds: float, started: float, record: list[float]
) -> None:
    """Stop the SMTP server ``after`` seconds into the load and start it again ``seconds``
    later, on the same port; ``record`` gets when and for how long it was down."""
    await asyncio.sleep(after)
    stopped = time.monotonic()
    await asyncio.to_thread(sink.stop)
    try:
        await asyncio.sleep(seconds)
    finally:
        await asyncio.to_thread(sink.start)
        record += [round(stopped - started, 1), round(time.monotonic() - stopped, 1)]


def _wait_for_outbox(url: str, timeout: float) -> dict[str, Any]:
    """Wait until no outbox message is pending (or ``timeout``); what was left."""
    engine = create_engine(url)
    started = time.monotonic()
    try:
        while True:
            with engine.connect() as connection:
                counts = dict(
                    connection.execute(
                        select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status)
                    ).all()
                )
            pending = counts.get("pending", 0)
            waited = time.monotonic() - started
            if pending == 0 or waited > timeout:
                return {
                    "seconds": round(waited, 1),
                    "pending": pending,
                    "failed": counts.get("failed", 0),
                }
            time.sleep(1)
    finally:
        engine.dispose()


if __name__ == "__main__":
    sys.exit(main())
