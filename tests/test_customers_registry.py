"""The customer registry: live reload in development, start-up only everywhere else; read
before a server answers, and by a command only when it uses the customers; each problem of a
file logged once."""

import contextlib
import logging
import os
import signal
import subprocess
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from ociflex import create_app
from ociflex.customers import registry as registry_module
from ociflex.customers.loader import LoadResult
from ociflex.customers.registry import (
    CHECK_INTERVAL,
    CustomerRegistry,
    OnDemandCustomerRegistry,
    describe_changes,
    folder_signature,
)
from ociflex.protocols import CUSTOMER_SECTIONS
from tests.conftest import ACME_PASSWORD, DEMO_PASSWORD
from tests.support.cli import (
    FLASK,
    ROOT,
    customer_problems,
    not_served_lines,
    process_environ,
    without,
)
from tests.support.postgres import free_port
from tests.support.servers import GunicornServer


class Clock:
    """The registry's clock, moved by the test: the once-a-second limit without sleeping."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float = CHECK_INTERVAL) -> None:
        self.now += seconds


def environ_for(env: str, tmp_path: Path, customers_dir: Path) -> dict[str, str]:
    """No database is touched: the pages used here read only the customers."""
    return {
        "OCIFLEX_ENV": env,
        "SECRET_KEY": "test-secret-key-that-is-long-enough-0123456789",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'unused.sqlite3'}",
        "OCIFLEX_CUSTOMERS_DIR": str(customers_dir),
        "OCIFLEX_INSTANCE_PATH": str(tmp_path / "instance"),
        "OCIFLEX_DEMO_PASSWORD": DEMO_PASSWORD,
        "OCIFLEX_ACME_PASSWORD": ACME_PASSWORD,
    }


def make_app(env: str, tmp_path: Path, customers_dir: Path) -> Flask:
    return create_app(environ_for(env, tmp_path, customers_dir))


def registry_of(app: Flask) -> CustomerRegistry:
    return app.extensions["ociflex.customers"]


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def dev_app(tmp_path: Path, customers_dir: Path, clock: Clock) -> Iterator[Flask]:
    """OCIFLEX_ENV=development (no SECRET_KEY needed there), with the test's clock."""
    environ = environ_for("development", tmp_path, customers_dir)
    del environ["SECRET_KEY"]
    app = create_app(environ)
    registry_of(app).clock = clock
    yield app
    app.extensions["ociflex.engine"].dispose()


@pytest.fixture
def dev_client(dev_app: Flask) -> FlaskClient:
    return dev_app.test_client()


def edit(path: Path, old: str, new: str) -> None:
    """Change ``path`` and move its mtime on by a second: a file system with coarse timestamps
    might otherwise keep the old mtime within the same second."""
    before = path.stat()
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new), encoding="utf-8")
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns + 1_000_000_000))


def acme_name(client: FlaskClient) -> str | None:
    """The name of acme as the app serves it, through a request (which triggers the check)."""
    client.get("/dev/erp?customer=acme")
    customer = registry_of(client.application).get("acme")
    return customer.name if customer else None


# --- Development: the next request sees an edited file ---------------------------------------


def test_development_reloads_an_edited_file_on_the_next_request(
    dev_client: FlaskClient, customers_dir: Path, clock: Clock
) -> None:
    assert acme_name(dev_client) == "ACME Procurement Ltd"

    edit(customers_dir / "acme.yaml", "name: ACME Procurement Ltd", "name: ACME Renamed Ltd")
    clock.advance()
    page = dev_client.get("/dev/erp?customer=acme").get_data(as_text=True)

    assert "ACME Renamed Ltd" in page
    assert registry_of(dev_client.application).get("acme").name == "ACME Renamed Ltd"


def test_an_edited_vehicle_shows_in_the_next_booking_form(
    dev_client: FlaskClient, customers_dir: Path, clock: Clock, acme_callup: dict[str, str]
) -> None:
    """The booking form of a customer is built once and kept: an edit must not be hidden."""
    assert "Estate car (Škoda" in dev_client.post("/oci/acme", data=acme_callup).get_data(
        as_text=True
    )
    edit(customers_dir / "acme.yaml", "en: Estate car (Škoda", "en: Family estate (Škoda")
    clock.advance()
    page = dev_client.post("/oci/acme", data=acme_callup).get_data(as_text=True)
    assert "Family estate (Škoda Octavia Combi)" in page
    assert "Estate car (Škoda" not in page


def test_development_looks_at_the_folder_at_most_once_a_second(
    dev_client: FlaskClient, customers_dir: Path, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    looks = []
    original = registry_module.folder_signature
    monkeypatch.setattr(
        registry_module, "folder_signature", lambda d: looks.append(d) or original(d)
    )
    dev_client.get("/dev/erp")
    assert len(looks) == 1

    edit(customers_dir / "acme.yaml", "name: ACME Procurement Ltd", "name: ACME Renamed Ltd")
    clock.advance(CHECK_INTERVAL / 2)
    assert acme_name(dev_client) == "ACME Procurement Ltd"
    assert len(looks) == 1, "no second look within the same second"

    clock.advance(CHECK_INTERVAL / 2)
    assert acme_name(dev_client) == "ACME Renamed Ltd"
    assert len(looks) == 3, "one look, then one more before reading the files"


def test_unchanged_folder_is_not_read_again(
    dev_client: FlaskClient, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_reading(*_args: object) -> None:
        raise AssertionError("the files were read although none changed")

    monkeypatch.setattr(registry_module, "load_customers", no_reading)
    for _ in range(3):
        clock.advance()
        assert dev_client.get("/dev/erp").status_code == 200


def test_file_made_invalid_is_reported_and_no_longer_served(
    dev_client: FlaskClient,
    customers_dir: Path,
    clock: Clock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    assert dev_client.get("/oci/acme").status_code != 404

    edit(customers_dir / "acme.yaml", "name: ACME Procurement Ltd", "nam: ACME Procurement Ltd")
    clock.advance()
    with caplog.at_level(logging.INFO, logger="ociflex.customers.registry"):
        response = dev_client.get("/oci/acme")

    assert response.status_code == 503  # for now: it is served again once the file is fixed
    registry = registry_of(dev_client.application)
    assert registry.get("acme") is None
    assert registry.get("demo") is not None
    assert dev_client.get("/oci/demo").status_code != 404
    assert "acme" in registry.result.problems
    messages = [record.getMessage() for record in caplog.records]
    assert any("changed acme.yaml" in message for message in messages), messages
    assert any(
        record.levelno == logging.ERROR and "customer acme is not served" in record.getMessage()
        for record in caplog.records
    ), messages
    assert "no longer served: acme" in messages
    # The simulator lists the problem, with the file's line.
    page = dev_client.get("/dev/erp").get_data(as_text=True)
    assert "acme.yaml:" in page

    edit(customers_dir / "acme.yaml", "nam: ACME", "name: ACME")
    clock.advance()
    assert acme_name(dev_client) == "ACME Procurement Ltd"


def test_added_and_removed_files_are_noticed(
    dev_client: FlaskClient, customers_dir: Path, clock: Clock, caplog: pytest.LogCaptureFixture
) -> None:
    text = (customers_dir / "acme.yaml").read_text(encoding="utf-8")
    (customers_dir / "globex.yaml").write_text(text, encoding="utf-8")
    (customers_dir / "acme.yaml").unlink()
    clock.advance()

    with caplog.at_level(logging.INFO, logger="ociflex.customers.registry"):
        assert dev_client.get("/oci/acme").status_code == 404

    assert registry_of(dev_client.application).get("globex") is not None
    assert any("added globex.yaml; removed acme.yaml" in r.getMessage() for r in caplog.records)


# --- Testing and production: read at start-up only ----------------------------------------------


@pytest.mark.parametrize("env", ["testing", "production"])
def test_files_are_read_at_start_up_only(
    env: str, tmp_path: Path, customers_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = make_app(env, tmp_path, customers_dir)
    registry = registry_of(app)
    registry.clock = lambda: 10.0**9  # long after any once-a-second limit

    def never(*_args: object) -> None:
        raise AssertionError("customer files were touched while a request was answered")

    monkeypatch.setattr(registry_module, "load_customers", never)
    monkeypatch.setattr(registry_module, "folder_signature", never)
    edit(customers_dir / "acme.yaml", "name: ACME Procurement Ltd", "name: ACME Renamed Ltd")
    (customers_dir / "demo.yaml").unlink()

    client = app.test_client()
    for path in ("/oci/acme", "/oci/demo", "/ops/login", "/static/style.css", "/nowhere"):
        assert client.get(path).status_code < 500, path
        assert client.post(path, data={"a": "b"}).status_code < 500, path

    assert registry.get("acme").name == "ACME Procurement Ltd"
    assert registry.get("demo") is not None
    assert client.get("/oci/demo").status_code != 404
    app.extensions["ociflex.engine"].dispose()


# --- Who reads the files, and how their problems are logged -----------------------------------


def count_loads(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    """The folders the registry reads from now on, one entry per read."""
    reads: list[Path] = []
    original = registry_module.load_customers

    def counted(directory: Path, *args: object) -> LoadResult:
        reads.append(directory)
        return original(directory, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(registry_module, "load_customers", counted)
    return reads


def test_a_command_s_registry_reads_the_files_on_first_use_and_then_keeps_them(
    tmp_path: Path, customers_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    reads = count_loads(monkeypatch)
    environ = environ_for("testing", tmp_path, customers_dir)
    registry = OnDemandCustomerRegistry(customers_dir, CUSTOMER_SECTIONS, environ)
    assert reads == []

    assert registry.get("acme").name == "ACME Procurement Ltd"
    assert reads == [customers_dir]
    assert "demo" in registry.result.customers
    assert registry.get("demo") is not None
    assert reads == [customers_dir]


def test_threads_that_first_use_a_command_s_registry_at_once_read_the_files_once(
    tmp_path: Path, customers_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    reads = count_loads(monkeypatch)
    environ = environ_for("testing", tmp_path, customers_dir)
    registry = OnDemandCustomerRegistry(customers_dir, CUSTOMER_SECTIONS, environ)
    start = threading.Barrier(8)
    names: list[str] = []

    def first_use() -> None:
        start.wait()
        names.append(registry.get("acme").name)

    threads = [threading.Thread(target=first_use) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)

    assert names == ["ACME Procurement Ltd"] * 8
    assert reads == [customers_dir]


def test_a_look_for_changes_before_the_first_use_is_the_first_read_not_a_change(
    tmp_path: Path,
    customers_dir: Path,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    environ = environ_for("development", tmp_path, customers_dir)
    registry = OnDemandCustomerRegistry(customers_dir, CUSTOMER_SECTIONS, environ)
    reads = count_loads(monkeypatch)

    with caplog.at_level(logging.INFO, logger="ociflex.customers.registry"):
        assert registry.reload_if_changed(force=True) is False

    assert reads == [customers_dir]
    assert registry.get("acme") is not None
    assert not any("changed" in record.getMessage() for record in caplog.records)


def test_an_app_that_answers_requests_logs_each_problem_as_an_error_once_before_the_first_one(
    tmp_path: Path,
    customers_dir: Path,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    environ = without(environ_for("production", tmp_path, customers_dir), "OCIFLEX_DEMO_PASSWORD")
    problems = customer_problems(environ, "demo")
    reads = count_loads(monkeypatch)

    with caplog.at_level(logging.INFO, logger="ociflex"):
        app = create_app(environ)
        assert reads == [customers_dir], "read at start-up, not by the first request"
        assert type(registry_of(app)) is CustomerRegistry  # a request reads a plain attribute
        client = app.test_client()
        for _ in range(3):
            assert client.get("/oci/demo").status_code == 503
            assert client.get("/oci/acme").status_code != 404

    assert reads == [customers_dir]
    errors = [
        record.getMessage()
        for record in caplog.records
        if record.name == "ociflex.customers.registry" and record.levelno == logging.ERROR
    ]
    assert errors == [f"customer demo is not served: {problem}" for problem in problems]
    app.extensions["ociflex.engine"].dispose()


def test_a_command_that_uses_the_customers_logs_their_problems_as_warnings(
    tmp_path: Path, customers_dir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    environ = without(environ_for("testing", tmp_path, customers_dir), "OCIFLEX_DEMO_PASSWORD")
    app = Flask(__name__)
    app.config["OCIFLEX_CUSTOMERS_DIR"] = customers_dir
    app.config["OCIFLEX_ENV"] = "testing"

    with caplog.at_level(logging.INFO, logger="ociflex.customers.registry"):
        registry_module.init_app(app, CUSTOMER_SECTIONS, environ, serves_requests=False)
        assert caplog.records == [], "nothing read until a command uses the customers"
        assert registry_of(app).get("demo") is None
        assert registry_of(app).get("acme") is not None

    problems = [r for r in caplog.records if "is not served" in r.getMessage()]
    assert len(problems) == len(customer_problems(environ, "demo"))
    assert {record.levelno for record in problems} == {logging.WARNING}


def _answers(url: str) -> bool:
    try:
        with urllib.request.build_opener(urllib.request.ProxyHandler({})).open(url, timeout=2):
            return True
    except urllib.error.HTTPError:
        return True
    except OSError:
        return False


@pytest.mark.parametrize("options", [["--debug"], ["--no-debug"]], ids=["reloader", "plain"])
def test_the_development_server_logs_a_file_it_cannot_serve_once(
    options: list[str], tmp_path: Path, customers_dir: Path
) -> None:
    """``flask run --debug`` runs two processes, one that watches the code and one that serves:
    only the one that serves reads the files."""
    environ = environ_for("development", tmp_path, customers_dir)
    del environ["SECRET_KEY"], environ["OCIFLEX_DEMO_PASSWORD"]
    port = free_port()
    log_path = tmp_path / "server.log"
    with log_path.open("wb") as log:
        server = subprocess.Popen(
            [*FLASK, "run", *options, "--host", "127.0.0.1", "--port", str(port)],
            cwd=ROOT,
            env=process_environ(environ),
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # the reloader's server process goes with it
        )
    try:
        deadline = time.monotonic() + 30
        while not _answers(f"http://127.0.0.1:{port}/healthz/live"):
            assert server.poll() is None, log_path.read_text()
            assert time.monotonic() < deadline, log_path.read_text()
            time.sleep(0.1)
    finally:
        with contextlib.suppress(ProcessLookupError):  # the group's processes may all be gone
            os.killpg(server.pid, signal.SIGTERM)
        server.wait(10)

    text = log_path.read_text()
    for line in not_served_lines("demo", customer_problems(environ, "demo")):
        assert text.count(f"ERROR {line}") == 1, text
    assert text.count("ociflex started") == 1, text


def test_gunicorn_logs_a_file_it_cannot_serve_once_whatever_its_workers(
    tmp_path: Path, customers_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Read in the master, before the workers are forked; they do not read it again."""
    monkeypatch.delenv("OCIFLEX_DEMO_PASSWORD", raising=False)
    environ = without(environ_for("testing", tmp_path, customers_dir), "OCIFLEX_DEMO_PASSWORD")

    with GunicornServer(environ, workers=2) as server:
        server.wait_for_log("ociflex worker ", count=2, timeout=15)
    text = server.log_text()

    for line in not_served_lines("demo", customer_problems(environ, "demo")):
        assert text.count(f"ERROR {line}") == 1, text


# --- The folder's signature ----------------------------------------------------------------------


def test_signature_covers_customer_files_only(tmp_path: Path) -> None:
    (tmp_path / "acme.yaml").write_text("a")
    (tmp_path / "globex.yml").write_text("bb")
    (tmp_path / "notes.txt").write_text("ignored")
    (tmp_path / "folder.yaml").mkdir()
    os.utime(tmp_path / "acme.yaml", ns=(0, 5_000_000_000))

    signature = folder_signature(tmp_path)

    assert signature is not None
    assert [(name, size) for name, _mtime, size in signature] == [
        ("acme.yaml", 1),
        ("globex.yml", 2),
    ]
    assert signature[0][1] == 5_000_000_000
    assert folder_signature(tmp_path / "missing") is None


def test_describe_changes() -> None:
    before = (("acme.yaml", 1, 10), ("demo.yaml", 1, 10), ("old.yaml", 1, 10))
    after = (("acme.yaml", 2, 10), ("demo.yaml", 1, 10), ("new.yml", 1, 10))

    assert describe_changes(before, after) == "added new.yml; removed old.yaml; changed acme.yaml"
    assert describe_changes(None, after) == "the folder became readable"
    assert describe_changes(before, None) == "the folder is unreadable"
