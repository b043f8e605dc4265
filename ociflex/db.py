"""The database engine and one SQLAlchemy session per request."""

from collections.abc import Iterator
from contextlib import contextmanager

from flask import Flask, current_app, g
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker

SQLITE_BUSY_TIMEOUT_MS = 5000


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
    return create_engine(url, pool_pre_ping=True)


def init_app(app: Flask) -> None:
    engine = make_engine(app.config["DATABASE_URL"])
    app.extensions["ociflex.engine"] = engine
    app.extensions["ociflex.sessionmaker"] = sessionmaker(engine, expire_on_commit=False)
    app.teardown_appcontext(_close_session)


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


@contextmanager
def session_for(app: Flask) -> Iterator[Session]:
    """A session outside a request, for commands and tests."""
    with app.extensions["ociflex.sessionmaker"]() as session:
        yield session
