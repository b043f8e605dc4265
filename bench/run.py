"""The benchmark, in one command: ``.venv/bin/python -m bench.run`` (``--quick`` for a short
smoke run). It prints one table and writes it as JSON to ``bench/results/latest.json``.

Sections: the booking form page and the cXML setup request next to a bare Flask hello world
(same gunicorn settings, same run), the whole punch-out on SQLite and PostgreSQL, the inbox
and the planning view with a small and a large table, start-up and memory with 1, 100 and
1,000 customer files, and the outbox sending to a local SMTP server; and the CPU time one
request costs a worker (in-process, which other work on the machine does not inflate the way
it inflates latencies).
See docs/performance.md.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.cpu_cost import cpu_costs
from bench.inbox import inbox
from bench.load import MissingTool, require_wrk
from bench.outbox import outbox
from bench.planning import planning
from bench.punchout import form_page, round_trip
from bench.servers import ROOT, WORKERS
from bench.startup import startup
from bench.table import render
from bench.targets import check
from ociflex import serving
from tests.support.postgres import postgres_available

RESULTS = Path(__file__).resolve().parent / "results" / "latest.json"
SECTIONS = ("form_page", "round_trip", "inbox", "planning", "startup", "outbox", "cpu")


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__)
    parser.add_argument(
        "--quick", action="store_true", help="short runs, small tables, SQLite only"
    )
    parser.add_argument(
        "--inbox-rows",
        type=int,
        default=None,
        help="size of the large inbox and planning (default 1,000,000; --quick: 20,000)",
    )
    parser.add_argument("--seconds", type=float, default=None, help="length of each load run")
    parser.add_argument(
        "--only", choices=SECTIONS, action="append", help="run this section (repeatable)"
    )
    parser.add_argument(
        "--no-postgres", action="store_true", help="SQLite only (no PostgreSQL cluster)"
    )
    parser.add_argument(
        "--workers",
        type=int,
        default=WORKERS,
        help=f"gunicorn workers for the form page and round trip (default: one a core, {WORKERS})",
    )
    parser.add_argument("--output", type=Path, default=RESULTS, help="where the JSON goes")
    return parser.parse_args(argv)


def worker_class() -> str:
    """The gunicorn worker class the servers run: the Procfile's (``ociflex.serving``), unless
    ``GUNICORN_CMD_ARGS`` names another for a comparison."""
    words = os.environ.get("GUNICORN_CMD_ARGS", "").replace("=", " ").split()
    for option, value in itertools.pairwise(words):
        if option in ("-k", "--worker-class"):
            return value
    return serving.worker_class


def _revision() -> str:
    result = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"],  # noqa: S607
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    dirty = subprocess.run(
        ["git", "status", "--porcelain", "--untracked-files=no"],  # noqa: S607
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    ).stdout.strip()
    return result.stdout.strip() + ("+changes" if dirty else "")


def main(argv: list[str] | None = None) -> int:
    options = _arguments(argv)
    try:
        require_wrk()
    except MissingTool as missing:
        print(f"cannot run the benchmark: {missing}", file=sys.stderr)
        return 2
    engines = ["sqlite"]
    if not options.no_postgres:
        if not postgres_available():
            print(
                "cannot run the PostgreSQL parts: PostgreSQL 15 binaries are missing "
                "(/usr/lib/postgresql/15/bin); use --no-postgres",
                file=sys.stderr,
            )
            return 2
        engines.append("postgresql")
    quick = options.quick
    seconds = options.seconds or (2.0 if quick else 15.0)
    warmup = 0.5 if quick else 3.0
    large = options.inbox_rows or (20_000 if quick else 1_000_000)
    sizes = [min(10_000, large), large] if not quick else [2_000, large]
    inbox_seconds = seconds if quick else seconds / 2
    sections = options.only or list(SECTIONS)
    figures: dict[str, Any] = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "revision": _revision(),
        "cpu_count": os.cpu_count(),
        "python": sys.version.split()[0],
        "gunicorn_workers": options.workers,
        "gunicorn_worker_class": worker_class(),
        "quick": quick,
        "seconds_per_run": seconds,
    }
    runs = {
        "form_page": lambda: form_page(seconds, warmup, options.workers),
        "round_trip": lambda: round_trip(
            seconds, warmup, engines[:1] if quick else engines, options.workers
        ),
        "inbox": lambda: inbox(sizes, engines[:1] if quick else engines, inbox_seconds, warmup),
        "planning": lambda: planning(
            sizes, engines[:1] if quick else engines, inbox_seconds, warmup
        ),
        "startup": lambda: startup([1] if quick else [1, 100, 1000]),
        "outbox": lambda: outbox(500 if quick else 10_000),
        # The big inbox's CPU cost is shown by 200,000 requests already (seeding a second
        # million would add as much time as the inbox section's own seeding).
        "cpu": lambda: cpu_costs([sizes[0], min(large, 200_000)], 30 if quick else 200),
    }
    began = time.monotonic()
    for section in SECTIONS:
        if section in sections:
            started = time.monotonic()
            print(f"... {section}", file=sys.stderr, flush=True)
            load_before = os.getloadavg()[0]
            figures[section] = runs[section]()
            figures[section]["section_seconds"] = round(time.monotonic() - started, 1)
            # Other work on the machine takes cores from the measurement: shown with it.
            figures[section]["load_average"] = [round(load_before, 2), round(os.getloadavg()[0], 2)]
    figures["total_seconds"] = round(time.monotonic() - began, 1)
    figures["targets"] = check(figures)
    options.output.parent.mkdir(parents=True, exist_ok=True)
    options.output.write_text(json.dumps(figures, indent=2) + "\n")
    print(render(figures))
    print(f"\nwritten to {options.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
