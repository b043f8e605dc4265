"""A throwaway PostgreSQL 15 cluster for tests that need the real database.

Every call of :func:`throwaway_postgres` runs ``initdb`` into a fresh temp dir and starts
a private server on a free loopback port, so tests never touch a shared or developer
database and leave nothing behind.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import psycopg
from psycopg import sql

PG_USER = "ociflex"
TEST_DB = "ociflex_test"
DEFAULT_BINDIR = "/usr/lib/postgresql/15/bin"
# Durability is pointless for a cluster that is deleted after the run; turning it off
# makes initdb, DDL and commits several times faster.
FAST_OPTIONS = "-c fsync=off -c synchronous_commit=off -c full_page_writes=off"


def pg_bindir() -> Path:
    """Where initdb/pg_ctl live: $OCIFLEX_PG_BINDIR, the PG 15 path, else pg_config."""
    if env := os.environ.get("OCIFLEX_PG_BINDIR"):
        return Path(env)
    if Path(DEFAULT_BINDIR).is_dir() or not shutil.which("pg_config"):
        return Path(DEFAULT_BINDIR)
    out = subprocess.run(["pg_config", "--bindir"], capture_output=True, text=True, check=False)
    return Path(out.stdout.strip() or DEFAULT_BINDIR)


def _as_root() -> bool:
    return os.geteuid() == 0


def postgres_available() -> bool:
    """True if initdb and pg_ctl exist (and, as root, a ``postgres`` user to run them)."""
    bindir = pg_bindir()
    if not all(os.access(bindir / tool, os.X_OK) for tool in ("initdb", "pg_ctl")):
        return False
    if _as_root():
        try:
            pwd.getpwnam("postgres")
        except KeyError:
            return False
        return shutil.which("runuser") is not None
    return True


def free_port() -> int:
    """A port the kernel just handed out on 127.0.0.1 (free unless someone races us)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _run(args: list[str | Path], cwd: Path) -> subprocess.CompletedProcess[str]:
    """Run a PostgreSQL tool; as root via ``runuser -u postgres`` since initdb and the
    server refuse to run as root. ``cwd`` is the temp dir so postgres can enter it."""
    cmd = [str(a) for a in args]
    if _as_root():
        cmd = ["runuser", "-u", "postgres", "--", *cmd]
    return subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, check=False)


def _initdb(bindir: Path, datadir: Path, cwd: Path) -> None:
    base = [bindir / "initdb", "-D", datadir, "-A", "trust", "-U", PG_USER, "--no-sync"]
    errors = []
    for locale in ("C.UTF-8", "C"):  # C.UTF-8 is missing on some minimal systems
        result = _run([*base, "-E", "UTF8", f"--locale={locale}"], cwd)
        if result.returncode == 0:
            return
        errors.append(result.stdout + result.stderr)
        shutil.rmtree(datadir, ignore_errors=True)
    raise RuntimeError("initdb failed:\n" + "\n".join(errors))


def _tail(path: Path, lines: int = 30) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no server log)"


def create_database(admin_url: str, name: str) -> str:
    """Create database ``name`` via the server of ``admin_url``; return the new DB's URL
    (e.g. one database per pytest-xdist worker in one cluster)."""
    with _admin_connection(admin_url) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    return admin_url.rsplit("/", 1)[0] + "/" + name


def drop_database(admin_url: str, name: str) -> None:
    """Drop database ``name``, kicking out lingering connections (PG 13+ FORCE)."""
    with _admin_connection(admin_url) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )


def _admin_connection(url: str) -> psycopg.Connection:
    """Autocommit connection to the ``postgres`` DB (CREATE DATABASE can't run in a tx)."""
    conninfo = url.replace("postgresql+psycopg://", "postgresql://").rsplit("/", 1)[0]
    return psycopg.connect(conninfo + "/postgres", autocommit=True)


@contextlib.contextmanager
def throwaway_postgres() -> Iterator[str]:
    """Start a brand-new cluster; yield ``postgresql+psycopg://ociflex@127.0.0.1:PORT/
    ociflex_test``. On exit the server is killed (``-m immediate``, nothing worth saving)
    and its directory removed. Raises RuntimeError with the server log tail on failure.
    """
    bindir = pg_bindir()
    tmp = Path(tempfile.mkdtemp(prefix="ociflex-pg-", dir="/tmp"))
    datadir, logfile = tmp / "data", tmp / "server.log"
    pg_ctl = bindir / "pg_ctl"
    try:
        if _as_root():  # the dir must belong to the user the server runs as
            shutil.chown(tmp, user="postgres", group="postgres")
        _initdb(bindir, datadir, tmp)
        for _attempt in range(3):  # retry if another process grabbed the port meanwhile
            port = free_port()
            opts = f"-c listen_addresses=127.0.0.1 -p {port} -k {tmp} {FAST_OPTIONS}"
            started = _run([pg_ctl, "-D", datadir, "-l", logfile, "-w", "-o", opts, "start"], tmp)
            if started.returncode == 0:
                break
            if "already in use" not in _tail(logfile):
                break
        if started.returncode != 0:
            raise RuntimeError(
                f"PostgreSQL failed to start: {started.stdout}{started.stderr}\n"
                f"--- server log tail ({logfile}) ---\n{_tail(logfile)}"
            )
        admin_url = f"postgresql+psycopg://{PG_USER}@127.0.0.1:{port}/postgres"
        yield create_database(admin_url, TEST_DB)
    finally:
        if (datadir / "postmaster.pid").exists():
            _run([pg_ctl, "-D", datadir, "-m", "immediate", "-w", "stop"], tmp)
        shutil.rmtree(tmp, ignore_errors=True)
