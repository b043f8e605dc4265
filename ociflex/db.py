"""The database engine, one SQLAlchemy session per request, and the 503 when it is gone."""

import logging
from collections.abc import Iterator
from contextlib import contextmanager

from flask import Flask, current_app, g, request
from flask.typing import ResponseReturnValue
from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError, SQLAlchemyError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from sqlalchemy.orm import Session, sessionmaker

from ociflex.text import N_
from ociflex.web import Unavailable

log = logging.getLogger(__name__)

SQLITE_BUSY_TIMEOUT_MS = 5000
#: How long a PostgreSQL connection attempt may take before the request gets its 503.
POSTGRES_CONNECT_TIMEOUT_S = 5

#: Errors that say the database cannot be reached, or is too busy: not that a request is wrong.
UNREACHABLE = (OperationalError, InterfaceError, PoolTimeoutError)


class DatabaseUnavailable(Unavailable):
    """The database cannot take the request now; nothing was stored, and it may be repeated."""

    message = N_(
        "FlexFleet cannot reach its database at the moment, so nothing was stored. "
        "Please try again in a few minutes."
    )


def error_summary(error: SQLAlchemyError) -> str:
    """The driver's message only: SQLAlchemy's own repeats the statement's parameters, which
    hold personal data."""
    detail = error.orig if isinstance(error, DBAPIError) else error
    first_line = str(detail).strip().splitlines()[:1]
    return f"{type(detail).__name__}: {first_line[0] if first_line else ''}"[:300]


WRITE = "ociflex_write"


def _tune_sqlite(engine: Engine) -> None:
    """WAL lets readers work while one request writes; foreign keys are off by default.

    pysqlite starts transactions lazily as DEFERRED: a request that reads and then writes
    must upgrade its lock and fails at once with "database is locked" when another writer got
    there first, without waiting for ``busy_timeout``. So ociflex begins transactions itself,
    and those marked by :func:`begin_write` as ``BEGIN IMMEDIATE``, which waits its turn.
    """

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection) -> None:  # type: ignore[no-untyped-def]
        write = connection.get_execution_options().get(WRITE)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000})
        _tune_sqlite(engine)
        return engine
    return create_engine(
        url, pool_pre_ping=True, connect_args={"connect_timeout": POSTGRES_CONNECT_TIMEOUT_S}
    )


def init_app(app: Flask) -> None:
    engine = make_engine(app.config["DATABASE_URL"])
    app.extensions["ociflex.engine"] = engine
    app.extensions["ociflex.sessionmaker"] = sessionmaker(engine, expire_on_commit=False)
    app.teardown_appcontext(_close_session)
    for error in UNREACHABLE:
        app.register_error_handler(error, _unreachable)


def _unreachable(error: SQLAlchemyError) -> ResponseReturnValue:
    """A 503 page (its transaction rolled back when the session closes), never a 500."""
    log.error("database unavailable: %s %s: %s", request.method, request.path, error_summary(error))
    return current_app.handle_http_exception(DatabaseUnavailable())


def get_session() -> Session:
    """The session of the current request (or app context), opened on first use."""
    if "db_session" not in g:
        g.db_session = current_app.extensions["ociflex.sessionmaker"]()
    return g.db_session


def _close_session(_exc: BaseException | None) -> None:
    session = g.pop("db_session", None)
    if session is not None:
        session.close()


def begin_write(session: Session) -> None:
    """Start ``session``'s transaction as one that will write (see :func:`_tune_sqlite`)."""
    session.connection(execution_options={WRITE: True})


def reachable() -> bool:
    """Whether the current app's database answers a query now."""
    try:
        with current_app.extensions["ociflex.engine"].connect() as connection:
            connection.exec_driver_sql("SELECT 1")
    except SQLAlchemyError as error:
        log.error("database unavailable: %s", error_summary(error))
        return False
    return True


@contextmanager
def write_transaction(session: Session) -> Iterator[Session]:
    """A write transaction of ``session`` (see :func:`begin_write`), committed when the block
    ends, rolled back and the error raised again when it fails."""
    begin_write(session)
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise


@contextmanager
def write_connection(engine: Engine) -> Iterator[Connection]:
    """A Core connection in a write transaction (see :func:`begin_write`), committed when the
    block ends: for a lone INSERT, where the ORM's unit of work costs more than the statement."""
    with engine.connect().execution_options(**{WRITE: True}) as connection, connection.begin():
        yield connection


@contextmanager
def session_for(app: Flask) -> Iterator[Session]:
    """A session outside a request, for commands and tests."""
    with app.extensions["ociflex.sessionmaker"]() as session:
        yield session
