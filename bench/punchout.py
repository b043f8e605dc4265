"""Sections 1 and 2: the booking form page (call-up by GET and by POST) and the cXML setup
request next to the bare hello-world app, and the whole punch-out (call-up, form, booking,
basket page) on SQLite and on PostgreSQL."""

from __future__ import annotations

import contextlib
import tempfile
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from bench.load import Load, run_wrk
from bench.servers import WORKERS, Gunicorn, production_environ
from ociflex import migrate
from ociflex.booking.form import today
from tests.support.cxml import DEMO_FROM, Setup, setup_request
from tests.support.postgres import throwaway_postgres

#: The demo customer's call-up, as its ERP sends it (config/customers/demo.yaml).
CALLUP = {
    "USERNAME": "demo-erp",
    "PASSWORD": "demo",
    "HOOK_URL": "http://127.0.0.1:5000/dev/erp/hook?session=42",
    "~OkCode": "ADDI",
    "~TARGET": "_top",
    "~CALLER": "CTLG",
    "oci_usermail": "jan.jansen@demo.example",
    "oci_userfullname": "Jan Jansen",
    "KOSTENPLAATS": "4100",
    "INKOOPNUMMER": "PO-2026-01",
}
#: Where each cXML setup request puts its own part of the payloadID and the BuyerCookie.
UNIQUE = "BENCH-UNIQUE"
READY = "ociflex worker "  # logged by each worker once it is ready (ociflex.serving)
CONNECTIONS = 32


def booking_body() -> str:
    """The booking form as the employee sends it (without its token): a week from today."""
    day = (today() + timedelta(days=7)).isoformat()
    fields = {
        "vehicle": "COMPACT",
        "start": day,
        "end": day,
        "location": "Utrecht Papendorp",
        "cost_centre": "4100",
        "remarks": "",
    }
    return urlencode(fields)


def cxml_setup_template() -> bytes:
    """The demo customer's PunchOutSetupRequest as its buyer's system sends it (the secret is
    the benchmark's ``OCIFLEX_DEMO_PASSWORD``), with :data:`UNIQUE` where each request's own
    payloadID and BuyerCookie go."""
    setup = Setup(
        from_credentials=(DEMO_FROM,),
        sender=DEMO_FROM,
        shared_secret=production_environ()["OCIFLEX_DEMO_PASSWORD"],
        browser_form_post="http://127.0.0.1:5000/dev/cxml/cart?session=42",
        extrinsics=(("CostCenter", "4100"), ("PONumber", "PO-2026-01")),
        contact=("Jan Jansen", "jan.jansen@demo.example"),
        buyer_cookie=UNIQUE,
        payload_id=f"{UNIQUE}@inkoop.demo.example",
        timestamp=datetime.now(UTC).isoformat(timespec="seconds"),
    )
    return setup_request(setup)


def measure(url: str, script: str, seconds: float, warmup: float, **options: Any) -> Load:
    """A wrk run after a warm-up run (each worker has compiled its templates and opened its
    database connection, as in a service that has been up for a while)."""
    if warmup:
        run_wrk(url, script, seconds=warmup, **options)
    return run_wrk(url, script, seconds=seconds, **options)


@contextlib.contextmanager
def sqlite_database() -> Iterator[str]:
    with tempfile.TemporaryDirectory(prefix="bench-db-") as folder:
        url = f"sqlite:///{Path(folder) / 'ociflex.sqlite3'}"
        migrate.upgrade(url)
        yield url


@contextlib.contextmanager
def postgres_database() -> Iterator[str]:
    with throwaway_postgres() as url:
        migrate.upgrade(url)
        yield url


def ociflex_server(
    database_url: str, instance: str, workers: int = WORKERS, **extra: str
) -> Gunicorn:
    environ = production_environ(DATABASE_URL=database_url, OCIFLEX_INSTANCE_PATH=instance, **extra)
    return Gunicorn("app:app", environ, workers=workers, ready_marker=READY)


def form_page(seconds: float, warmup: float, workers: int = WORKERS) -> dict[str, Any]:
    """Hello world, then the booking form by GET and by POST and the cXML setup request, each
    at 32 connections."""
    figures: dict[str, Any] = {"connections": CONNECTIONS}
    options = {"connections": CONNECTIONS, "seconds": seconds, "warmup": warmup}
    with Gunicorn("bench.hello:app", {}, workers=workers) as hello:
        figures["hello"] = measure(hello.url("/"), "get.lua", **options).as_json()
    body = urlencode(CALLUP)
    with (
        sqlite_database() as url,
        tempfile.TemporaryDirectory() as instance,
        ociflex_server(url, instance, workers) as server,
    ):
        get = measure(server.url(f"/oci/demo?{body}"), "get.lua", **options)
        post = measure(server.url("/oci/demo"), "callup_post.lua", args=[body], **options)
        document = cxml_setup_template().decode()
        cxml = measure(
            server.url("/cxml/demo"), "cxml_setup.lua", args=[document, UNIQUE], **options
        )
    hello_rps = figures["hello"]["rps"]
    for name, load in (("form_get", get), ("form_post", post), ("cxml_setup", cxml)):
        figures[name] = {**load.as_json(), "ratio_to_hello": round(load.rps / hello_rps, 3)}
    return figures


def round_trip(
    seconds: float, warmup: float, engines: list[str], workers: int = WORKERS
) -> dict[str, Any]:
    """Whole punch-outs at 32 connections (one wrk thread each, see bench/lua/roundtrip.lua)."""
    figures: dict[str, Any] = {"connections": CONNECTIONS}
    databases = {"sqlite": sqlite_database, "postgresql": postgres_database}
    args = ["demo", urlencode(CALLUP), booking_body()]
    for engine in engines:
        with (
            databases[engine]() as url,
            tempfile.TemporaryDirectory() as instance,
            ociflex_server(url, instance, workers) as server,
        ):
            load = measure(
                server.url("/"),
                "roundtrip.lua",
                seconds=seconds,
                warmup=warmup,
                connections=CONNECTIONS,
                threads=CONNECTIONS,
                args=args,
            )
        figures[engine] = load.as_json()
    return figures
