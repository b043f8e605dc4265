"""gunicorn for the benchmark: ociflex (``app:app``, as the Procfile serves it) or the bare
hello-world app, on a free loopback port, without an access log, and what its workers use."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Mapping
from pathlib import Path

from ociflex.serving import default_workers
from tests.support.postgres import free_port
from tests.support.service import Service

ROOT = Path(__file__).resolve().parent.parent
#: The recommended configuration (ociflex.serving, docs/performance.md): one worker per
#: core, or WEB_CONCURRENCY.
WORKERS = default_workers()
_NO_PROXY = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def production_environ(**extra: str) -> dict[str, str]:
    """ociflex's environment as in production, with a fixed key and the demo password."""
    return {
        "OCIFLEX_ENV": "production",
        "SECRET_KEY": "bench-secret-key-that-is-long-enough-0123456789",
        "OCIFLEX_DEMO_PASSWORD": "demo",
        **extra,
    }


class Gunicorn(Service):
    """``gunicorn <app>`` on 127.0.0.1 with ``workers`` workers of the Procfile's class (another
    class for a comparison: ``GUNICORN_CMD_ARGS="--worker-class sync"``); a context manager.

    :attr:`startup_seconds` is the time from spawning gunicorn until every worker is ready (the
    master loads the app and forks the workers, as the Procfile does with ``ociflex.serving``)
    and the port answers HTTP: ``ready_marker``, a line each worker logs once it is ready, must
    be in the log once per worker; without one, the first HTTP answer counts.
    """

    def __init__(
        self,
        app: str,
        environ: Mapping[str, str],
        *,
        workers: int = WORKERS,
        ready_marker: str | None = None,
        timeout: float = 60.0,
    ) -> None:
        self.app = app
        self.environ = {**os.environ, **environ, "PYTHONUNBUFFERED": "1"}
        self.workers = workers
        self.ready_marker = ready_marker
        self.timeout = timeout
        self.port = free_port()
        self.startup_seconds = 0.0
        self._log = tempfile.NamedTemporaryFile(prefix="bench-gunicorn-", suffix=".log")  # noqa: SIM115
        self._process: subprocess.Popen[bytes] | None = None

    def url(self, path: str = "/") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def log_text(self) -> str:
        return Path(self._log.name).read_text(errors="replace")

    def start(self) -> None:
        command = [
            *(sys.executable, "-m", "gunicorn", self.app, "--config", "python:ociflex.serving"),
            *("--bind", f"127.0.0.1:{self.port}", "--workers", str(self.workers)),
            *("--no-control-socket", "--error-logfile", "-"),
            *("--log-level", "warning"),
        ]
        began = time.perf_counter()
        self._process = subprocess.Popen(  # noqa: S603 (our own command line)
            command,
            cwd=ROOT,
            env=self.environ,
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self._wait_for_workers()
        self.startup_seconds = time.perf_counter() - began

    def _answers(self) -> bool:
        try:
            with _NO_PROXY.open(self.url("/"), timeout=2):
                return True
        except urllib.error.HTTPError:
            return True
        except OSError:
            return False

    def _ready(self) -> bool:
        if self.ready_marker and self.log_text().count(self.ready_marker) < self.workers:
            return False
        return self._answers()

    def _wait_for_workers(self) -> None:
        deadline = time.monotonic() + self.timeout
        assert self._process is not None
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise RuntimeError(f"gunicorn {self.app} exited:\n{self.log_text()[-3000:]}")
            if self._ready():
                return
            time.sleep(0.01)
        raise RuntimeError(f"gunicorn {self.app} did not start:\n{self.log_text()[-3000:]}")

    def worker_pids(self) -> list[int]:
        if self._process is None:
            return []
        children = Path(f"/proc/{self._process.pid}/task/{self._process.pid}/children")
        try:
            return [int(pid) for pid in children.read_text().split()]
        except OSError:
            return []

    def worker_rss_mib(self) -> list[float]:
        """Resident memory of each worker, in MiB (from /proc/<pid>/status)."""
        return [_rss_kib(pid) / 1024 for pid in self.worker_pids()]

    def stop(self) -> None:
        process, self._process = self._process, None
        if process is not None and process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        self._log.close()


def _rss_kib(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0
