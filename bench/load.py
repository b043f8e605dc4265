"""Load through wrk: one run of a Lua script from ``bench/lua`` against a URL, read back as
figures (requests per second, latency percentiles, errors, completed operations)."""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

LUA = Path(__file__).resolve().parent / "lua"
MARKER = "BENCH-JSON "


class MissingTool(RuntimeError):
    """A program the benchmark needs is not installed."""


def require_wrk() -> str:
    wrk = shutil.which("wrk")
    if wrk is None:
        raise MissingTool("wrk is not installed: apt-get update && apt-get install -y wrk")
    return wrk


@dataclass(frozen=True)
class Load:
    """What one wrk run measured."""

    requests: int
    seconds: float
    #: Responses the script did not accept (a wrong status or page) plus socket errors.
    errors: int
    #: Operations the script counted as done (a page as expected, a booking's basket).
    completed: int
    p50_ms: float
    p90_ms: float
    p99_ms: float
    max_ms: float
    connections: int

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    @property
    def completed_per_second(self) -> float:
        return self.completed / self.seconds if self.seconds else 0.0

    def as_json(self) -> dict[str, float | int]:
        return {
            **asdict(self),
            "rps": round(self.rps, 1),
            "completed_per_second": round(self.completed_per_second, 1),
        }


def run_wrk(
    url: str,
    script: str,
    *,
    connections: int,
    seconds: float,
    threads: int = 2,
    headers: Sequence[str] = (),
    args: Sequence[str] = (),
) -> Load:
    """Run ``bench/lua/<script>`` against ``url``; ``args`` go to the script's ``init``."""
    command = [
        require_wrk(),
        *("--threads", str(threads), "--connections", str(connections)),
        *("--duration", f"{max(1, round(seconds))}s", "--timeout", "10s", "--latency"),
        *("--script", str(LUA / script)),
    ]
    for header in headers:
        command += ["--header", header]
    command += [url, "--", *args]
    result = subprocess.run(command, capture_output=True, text=True, check=False)  # noqa: S603
    line = next((x for x in result.stdout.splitlines() if x.startswith(MARKER)), None)
    if result.returncode != 0 or line is None:
        raise RuntimeError(f"wrk failed ({result.returncode}):\n{result.stdout}\n{result.stderr}")
    figures = json.loads(line.removeprefix(MARKER))
    socket_errors = sum(
        figures[name] for name in ("connect_errors", "read_errors", "write_errors", "timeouts")
    )
    return Load(
        requests=figures["requests"],
        seconds=figures["duration_us"] / 1e6,
        errors=socket_errors + figures["failed"],
        completed=figures["completed"],
        p50_ms=figures["p50_us"] / 1000,
        p90_ms=figures["p90_us"] / 1000,
        p99_ms=figures["p99_us"] / 1000,
        max_ms=figures["max_us"] / 1000,
        connections=connections,
    )
