"""Shared fixtures: a real database (a SQLite file, and a throw-away PostgreSQL server), the
app built from test customer files, and a test client that keeps no cookies, as a framed
punch-out in a browser that blocks third-party cookies."""

import os
import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from itsdangerous import TimestampSigner
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from werkzeug.test import TestResponse

from ociflex import create_app, migrate
from ociflex.db import session_for
from ociflex.models import Base, Operator
from ociflex.ops import operators
from ociflex.ops.operators import add_operator
from tests.support.html import input_value
from tests.support.postgres import postgres_available, throwaway_postgres
from tests.support.tcp_proxy import TcpProxy

ROOT = Path(__file__).resolve().parent.parent
TEST_CUSTOMERS = Path(__file__).parent / "customers"
CXML_CUSTOMERS = Path(__file__).parent / "customers_cxml"
#: A key production accepts (long, varied): for tests that build production settings.
PRODUCTION_SECRET_KEY = "production-key-0123456789abcdefghijklmnopqrstuvwxyz"
DEMO_PASSWORD = "demo-secret"
ACME_PASSWORD = "acme-secret"


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[str]:
    """One PostgreSQL cluster for the whole run, migrated once; tests empty its tables."""
    if not postgres_available():
        if os.environ.get("CI"):
            pytest.fail("PostgreSQL binaries are missing, and CI must test on PostgreSQL")
        pytest.skip("PostgreSQL binaries are not installed here")
    with throwaway_postgres() as url:
        migrate.upgrade(url)
        yield url


class _TableEmptier:
    """Empties the shared cluster's tables and restarts their ids, between tests.

    DELETE rather than TRUNCATE: on tables this small it is several times faster, which the
    suite notices once per PostgreSQL test (ociflex defines no triggers that DELETE would fire).
    """

    def __init__(self, url: str) -> None:
        self.engine = create_engine(url, pool_pre_ping=True)
        with self.engine.connect() as connection:
            self.sequences = connection.scalars(
                text("SELECT sequencename FROM pg_sequences WHERE schemaname = 'public'")
            ).all()

    def __call__(self) -> None:
        with self.engine.begin() as connection:
            for table in reversed(Base.metadata.sorted_tables):
                connection.execute(table.delete())
            for sequence in self.sequences:
                connection.execute(text(f'ALTER SEQUENCE "{sequence}" RESTART'))


@pytest.fixture(scope="session")
def table_emptier(postgres_server: str) -> Iterator[_TableEmptier]:
    emptier = _TableEmptier(postgres_server)
    yield emptier
    emptier.engine.dispose()


@pytest.fixture(scope="session")
def migrated_sqlite(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite file migrated once for the whole run, for tests to copy: the same file
    ``migrate.upgrade`` makes, without running every migration again for each test."""
    path = tmp_path_factory.mktemp("sqlite") / "migrated.sqlite3"
    migrate.upgrade(f"sqlite:///{path}")
    return path


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Every test that touches the database runs on both engines."""
    if request.param == "sqlite":
        path = tmp_path / "ociflex.sqlite3"
        shutil.copyfile(request.getfixturevalue("migrated_sqlite"), path)
        return f"sqlite:///{path}"
    return request.getfixturevalue("postgres_url")


@pytest.fixture
def postgres_url(postgres_server: str, table_emptier: _TableEmptier) -> str:
    """The PostgreSQL cluster alone, its tables emptied: for what only a database server does
    (going away and coming back, concurrent transactions)."""
    table_emptier()
    return postgres_server


@pytest.fixture
def database_link(postgres_url: str) -> Iterator[TcpProxy]:
    """The network between ociflex and PostgreSQL, which a test can cut and restore."""
    url = make_url(postgres_url)
    with TcpProxy((url.host or "127.0.0.1", url.port or 5432)) as link:
        yield link


@pytest.fixture
def linked_app(
    tmp_path: Path, postgres_url: str, customers_dir: Path, database_link: TcpProxy
) -> Iterator[Flask]:
    """An app that reaches PostgreSQL through :func:`database_link` only."""
    url = make_url(postgres_url).set(port=database_link.port)
    app = create_app(
        make_environ(tmp_path, url.render_as_string(hide_password=False), customers_dir)
    )
    yield app
    app.extensions["ociflex.engine"].dispose()


@pytest.fixture
def customers_dir(tmp_path: Path) -> Path:
    """The shipped demo customer plus the test customers, in a folder a test may change."""
    directory = tmp_path / "customers"
    shutil.copytree(TEST_CUSTOMERS, directory)
    shutil.copy(ROOT / "config" / "customers" / "demo.yaml", directory / "demo.yaml")
    return directory


def make_environ(tmp_path: Path, database_url: str, customers_dir: Path) -> dict[str, str]:
    """The environment of a testing app on ``database_url``."""
    return {
        "OCIFLEX_ENV": "testing",
        "SECRET_KEY": "test-secret-key-that-is-long-enough-0123456789",
        "DATABASE_URL": database_url,
        "OCIFLEX_CUSTOMERS_DIR": str(customers_dir),
        "OCIFLEX_INSTANCE_PATH": str(tmp_path / "instance"),
        "OCIFLEX_DEMO_PASSWORD": DEMO_PASSWORD,
        "OCIFLEX_ACME_PASSWORD": ACME_PASSWORD,
    }


@pytest.fixture(scope="module")
def module_app(tmp_path_factory: pytest.TempPathFactory, migrated_sqlite: Path) -> Iterator[Flask]:
    """One testing app for a whole module, on a SQLite file of its own with the demo and the
    test customers: for tests that look at what the app builds, not at what it stores."""
    tmp_path = tmp_path_factory.mktemp("module_app")
    database = tmp_path / "ociflex.sqlite3"
    shutil.copyfile(migrated_sqlite, database)
    customers_dir = tmp_path / "customers"
    shutil.copytree(TEST_CUSTOMERS, customers_dir)
    shutil.copy(ROOT / "config" / "customers" / "demo.yaml", customers_dir / "demo.yaml")
    app = create_app(make_environ(tmp_path, f"sqlite:///{database}", customers_dir))
    yield app
    app.extensions["ociflex.engine"].dispose()


@pytest.fixture
def environ(tmp_path: Path, database_url: str, customers_dir: Path) -> dict[str, str]:
    return make_environ(tmp_path, database_url, customers_dir)


@pytest.fixture
def app(environ: dict[str, str]) -> Iterator[Flask]:
    app = create_app(environ)
    yield app
    app.extensions["ociflex.engine"].dispose()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client(use_cookies=False)


@pytest.fixture
def cxml_app(tmp_path: Path, database_url: str, customers_dir: Path) -> Iterator[Flask]:
    """The app with the cXML test customers too (tests/customers_cxml: ``globex``)."""
    for file in CXML_CUSTOMERS.glob("*.yaml"):
        shutil.copy(file, customers_dir / file.name)
    app = create_app(make_environ(tmp_path, database_url, customers_dir))
    yield app
    app.extensions["ociflex.engine"].dispose()


@pytest.fixture
def cxml_client(cxml_app: Flask) -> FlaskClient:
    """A client without cookies for :func:`cxml_app`: a buyer's server, or a framed browser."""
    return cxml_app.test_client(use_cookies=False)


# --- Operators: the operations pages (/ops/) ------------------------------------------------------

OPERATOR_USERNAME = "olga"
OPERATOR_NAME = "Olga Visser"
OPERATOR_PASSWORD = "olga-correct-horse-42"


def csrf_token_in(html: str) -> str:
    """The CSRF token of the first form in ``html`` (an ops page: the login form, or the
    logout button every page shows to a logged-in operator). It is valid for every POST of the
    same client until its session ends."""
    token = input_value(html, "csrf_token")
    assert token, "the page has no csrf_token field"
    return token


def log_in(
    client: FlaskClient,
    username: str = OPERATOR_USERNAME,
    password: str = OPERATOR_PASSWORD,
    **kwargs: Any,
) -> TestResponse:
    """Log ``client`` (a client with cookies) in through the real login form: the page, its
    CSRF token, the POST. Extra keyword arguments go to both requests (e.g. ``environ_base``
    with another ``REMOTE_ADDR``, ``query_string`` with a ``next``)."""
    page = client.get("/ops/login", **kwargs)
    data = {"csrf_token": csrf_token_in(page.get_data(as_text=True))}
    return client.post(
        "/ops/login", data={**data, "username": username, "password": password}, **kwargs
    )


@pytest.fixture(autouse=True)
def cheap_password_hashes(monkeypatch: pytest.MonkeyPatch) -> None:
    """Operator passwords hashed with scrypt at N=2**10 instead of werkzeug's 2**15: the same
    code, ~30 times faster. tests/test_ops_operators.py checks the production setting."""
    monkeypatch.setattr(operators, "PASSWORD_METHOD", "scrypt:1024:8:1")
    operators._dummy_hash.cache_clear()


@pytest.fixture
def operator(app: Flask) -> Operator:
    """The active operator ``olga`` ("Olga Visser", password :data:`OPERATOR_PASSWORD`), made
    with :func:`ociflex.ops.operators.add_operator` in the test's database (SQLite and
    PostgreSQL). A detached, loaded :class:`~ociflex.models.Operator`: use its ``id``, or load
    it again in your own session."""
    with session_for(app) as session:
        return add_operator(session, OPERATOR_USERNAME, OPERATOR_PASSWORD, OPERATOR_NAME)


@pytest.fixture
def ops_client(app: Flask, operator: Operator) -> FlaskClient:
    """A test client WITH cookies (unlike ``client``), logged in as ``olga`` through the real
    login form, from 127.0.0.1. Its cookie ``ociflex_ops`` (path ``/ops``) holds the session.

    Every POST to an ops page needs the session's CSRF token: take it from a page the client
    got, ``csrf_token_in(ops_client.get("/ops/").get_data(as_text=True))``, and send it as the
    form field ``csrf_token`` (or the ``X-CSRFToken`` header)."""
    client = app.test_client()
    response = log_in(client)
    assert response.status_code == 303, response.get_data(as_text=True)
    return client


# --- Call-ups and the token clock, shared by the punch-out tests --------------------------------

#: A HOOK_URL with the ERP's own query string (a session id with escaped characters, an empty
#: value): the basket must be posted to it exactly as received.
ACME_HOOK_URL = "https://erp.acme.example/sap/bc/srm/hook?sap-client=100&sid=a%2Fb%3D%3D&x="
DEMO_HOOK_URL = "http://127.0.0.1:5000/dev/erp/hook?session=42"


@pytest.fixture
def demo_callup() -> dict[str, str]:
    """A complete, correct call-up of the (Dutch) demo customer, as its ERP sends it."""
    return {
        "USERNAME": "demo-erp",
        "PASSWORD": DEMO_PASSWORD,
        "HOOK_URL": DEMO_HOOK_URL,
        "~OkCode": "ADDI",
        "~TARGET": "_top",
        "~CALLER": "CTLG",
        "OCI_VERSION": "4.0",
        "oci_usermail": "jan.jansen@demo.example",
        "oci_userfullname": "Jan Jansen",
        "KOSTENPLAATS": "4100",
        "INKOOPNUMMER": "PO-2026-01",
    }


@pytest.fixture
def acme_callup() -> dict[str, str]:
    """A complete, correct call-up of the English acme customer: lower-case login names."""
    return {
        "loginname": "acme-sap",
        "pwd": ACME_PASSWORD,
        "HOOK_URL": ACME_HOOK_URL,
        "~OkCode": "ADDI",
        "~CALLER": "CTLG",
        "user_email": "jane.smith@acme.example",
        "user_name": "Jane Smith",
        "PROJECT": "P-123",
    }


class SigningClock:
    """The clock by which itsdangerous dates and ages punch-out tokens, set by the test."""

    def __init__(self) -> None:
        self.now = int(time.time())

    def advance(self, seconds: int) -> None:
        self.now += seconds


@pytest.fixture
def signing_clock(monkeypatch: pytest.MonkeyPatch) -> SigningClock:
    clock = SigningClock()
    monkeypatch.setattr(TimestampSigner, "get_timestamp", lambda _signer: clock.now)
    return clock
