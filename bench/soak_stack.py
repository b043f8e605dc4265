"""The real parts the soak runs against, started as in production: a database (a SQLite file or
a private PostgreSQL 15 cluster) migrated with ``flask ociflex db upgrade``, operators made with
``flask ociflex operator add --password-stdin``, gunicorn serving ``app:app`` with 4 workers,
and the outbox worker (``flask ociflex outbox run``) as a process of its own.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path

from tests.support.postgres import postgres_available, throwaway_postgres
from tests.support.servers import ROOT
from tests.support.service import Service

FLASK = (sys.executable, "-m", "flask", "--app", "app", "ociflex")
#: Seconds between the outbox worker's looks when nothing is due (its default is 5).
OUTBOX_INTERVAL = 1.0


@contextlib.contextmanager
def database(engine: str, workdir: Path) -> Iterator[str]:
    """The URL of an empty database of ``engine`` (``sqlite`` or ``postgresql``) for one run."""
    if engine == "sqlite":
        yield f"sqlite:///{workdir / 'ociflex.sqlite3'}"
        return
    if not postgres_available():
        raise RuntimeError("PostgreSQL 15 binaries are missing (see tests/support/postgres.py)")
    with throwaway_postgres() as url:
        yield url


def app_environ(
    database_url: str, workdir: Path, secret_key: str, demo_password: str, smtp_port: int
) -> dict[str, str]:
    """The service's settings for the run: production, the shipped demo customer, mail to the
    local SMTP server, and every new request announced to operations (more mail to check)."""
    return {
        "OCIFLEX_ENV": "production",
        "SECRET_KEY": secret_key,
        "DATABASE_URL": database_url,
        "OCIFLEX_CUSTOMERS_DIR": str(ROOT / "config" / "customers"),
        "OCIFLEX_INSTANCE_PATH": str(workdir / "instance"),
        "OCIFLEX_DEMO_PASSWORD": demo_password,
        "MAIL_SERVER": "127.0.0.1",
        "MAIL_PORT": str(smtp_port),
        "MAIL_TIMEOUT": "5",
        "MAIL_DEFAULT_SENDER": "Euromobil FlexFleet <noreply@flexfleet.example>",
        "OCIFLEX_OPS_EMAIL": "operations@flexfleet.example",
        "OCIFLEX_CONTACT_EMAIL": "operations@flexfleet.example",
    }


def _process_environ(environ: Mapping[str, str]) -> dict[str, str]:
    return {**os.environ, **environ, "PYTHONUNBUFFERED": "1"}


def flask_command(environ: Mapping[str, str], *args: str, stdin: str | None = None) -> str:
    """Run ``flask --app app ociflex <args>`` in the service's folder; its output, or
    RuntimeError with it when the command fails."""
    result = subprocess.run(  # noqa: S603 - our own interpreter, fixed arguments
        [*FLASK, *args],
        cwd=ROOT,
        env=_process_environ(environ),
        input=stdin,
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        output = result.stdout + result.stderr
        raise RuntimeError(f"flask ociflex {' '.join(args)} failed:\n{output}")
    return result.stdout


def prepare(environ: Mapping[str, str], operators: Mapping[str, str]) -> None:
    """Migrate the database and add the operators (user name -> password), as an
    administrator does before the first start."""
    flask_command(environ, "db", "upgrade")
    for username, password in operators.items():
        flask_command(
            environ,
            *("operator", "add", username, "--name", f"Soak {username}", "--password-stdin"),
            stdin=password + "\n",
        )


class OutboxWorker(Service):
    """``flask --app app ociflex outbox run`` in a process of its own, logging to ``log_path``;
    ``stop()`` sends SIGTERM, after which it finishes the message in hand and exits."""

    def __init__(self, environ: Mapping[str, str], log_path: Path) -> None:
        self.environ = _process_environ(environ)
        self.log_path = log_path
        self.returncode: int | None = None
        self._process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with self.log_path.open("ab") as log:
            self._process = subprocess.Popen(  # noqa: S603 - our own interpreter, fixed arguments
                [*FLASK, "outbox", "run", "--interval", str(OUTBOX_INTERVAL)],
                cwd=ROOT,
                env=self.environ,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
            )

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def stop(self) -> None:
        process, self._process = self._process, None
        if process is None:
            return
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        self.returncode = process.returncode
