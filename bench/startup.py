"""Section 4: start-up time and memory per worker with 1, 100 and 1,000 customer files, and a
check that a running service reads no customer file while it answers."""

from __future__ import annotations

import http.client
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from bench.punchout import CALLUP, ociflex_server, sqlite_database
from bench.servers import ROOT, production_environ

DEMO = ROOT / "config" / "customers" / "demo.yaml"
_CREATE_APP = (
    "import time; began = time.perf_counter(); import app; print(time.perf_counter() - began)"
)


def write_customers(folder: Path, count: int) -> None:
    """``count`` valid customers, copies of the demo customer: ``c0001.yaml``, ..."""
    text = DEMO.read_text()
    for number in range(1, count + 1):
        (folder / f"c{number:04d}.yaml").write_text(text)


def create_app_seconds(environ: dict[str, str]) -> float:
    """Importing ``app`` (which builds the app) in a fresh Python process, as a worker does."""
    result = subprocess.run(  # noqa: S603 (our own interpreter)
        [sys.executable, "-c", _CREATE_APP],
        cwd=ROOT,
        env=environ,
        capture_output=True,
        text=True,
        check=True,
    )
    return float(result.stdout.strip().splitlines()[-1])


def _answers_from_memory(port: int, folder: Path) -> bool:
    """After every customer file is broken, a call-up is still answered with the booking form:
    the files were read at start-up, not while answering."""

    for path in folder.glob("*.yaml"):
        path.write_text("name: [this is no longer valid\n")
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    connection.request("GET", "/oci/c0001?" + urlencode(CALLUP))
    response = connection.getresponse()
    return response.status == 200 and b'name="punchout"' in response.read()


def startup(counts: list[int]) -> dict[str, Any]:
    figures: dict[str, Any] = {}
    for count in counts:
        with (
            tempfile.TemporaryDirectory(prefix="bench-customers-") as folder,
            tempfile.TemporaryDirectory() as instance,
            sqlite_database() as url,
        ):
            write_customers(Path(folder), count)
            environ = production_environ(
                DATABASE_URL=url, OCIFLEX_INSTANCE_PATH=instance, OCIFLEX_CUSTOMERS_DIR=folder
            )
            create_app = create_app_seconds({**os.environ, **environ})
            began = time.perf_counter()
            with ociflex_server(url, instance, OCIFLEX_CUSTOMERS_DIR=folder) as server:
                ready = time.perf_counter() - began
                rss = server.worker_rss_mib()
                from_memory = _answers_from_memory(server.port, Path(folder))
            figures[str(count)] = {
                "gunicorn_ready_seconds": round(ready, 3),
                "create_app_seconds": round(create_app, 3),
                "worker_rss_mib": [round(value, 1) for value in rss],
                "no_yaml_read_while_answering": from_memory,
            }
    return figures
