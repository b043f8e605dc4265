"""What the server's and the outbox worker's logs say about a soak run: errors, tracebacks,
killed workers, 5xx in the access log, and the outbox's failed attempts."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

#: The access log's status, as tests.support.servers.ACCESS_LOG_FORMAT writes it.
_ACCESS_STATUS = re.compile(r'^\S+ "[A-Z]+ \S+" (\d{3}) ')
#: How many messages one failed round of the outbox worker left for later.
_MESSAGES = re.compile(r" messages=(\d+) ")
#: Log lines kept as evidence per kind.
EXAMPLES = 10


def _read(path: Path) -> list[str]:
    try:
        return path.read_text(errors="replace").splitlines()
    except OSError:
        return []


def scan(gunicorn_log: Path, outbox_log: Path) -> tuple[dict[str, Any], dict[str, list[str]]]:
    """Figures for the table, and example lines of every kind of trouble found."""
    server = _read(gunicorn_log)
    worker = _read(outbox_log)
    found: dict[str, list[str]] = {
        "server ERROR lines": [line for line in server if " ERROR " in line or "[ERROR]" in line],
        "server tracebacks": [line for line in server if line.startswith("Traceback")],
        "gunicorn worker timeouts": [line for line in server if "WORKER TIMEOUT" in line],
        "access log 5xx": [
            line
            for line in server
            if (match := _ACCESS_STATUS.match(line)) and match.group(1).startswith("5")
        ],
        "outbox worker tracebacks": [line for line in worker if line.startswith("Traceback")],
        "outbox gave up": [line for line in worker if "outbox: gave up on" in line],
    }
    figures = {kind: len(lines) for kind, lines in found.items()}
    figures["access log lines"] = sum(1 for line in server if _ACCESS_STATUS.match(line))
    figures["outbox attempts failed (retried later)"] = sum(
        int(match.group(1))
        for line in worker
        if "outbox: will retry" in line and (match := _MESSAGES.search(line))
    )
    evidence = {kind: lines[:EXAMPLES] for kind, lines in found.items() if lines}
    return figures, evidence
