"""Section 3: the operations inbox with a small and a large table of requests, side by side:
the newest page, a status filter and searches, read by a logged-in operator."""

from __future__ import annotations

import contextlib
import http.client
import tempfile
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlencode

from flask import Flask
from sqlalchemy import select

from bench.load import Load, run_wrk
from bench.punchout import ociflex_server, postgres_database, sqlite_database
from bench.servers import production_environ
from ociflex import create_app
from ociflex.customers.registry import customers
from ociflex.db import session_for
from ociflex.devtools.seed import seed_customers, seed_requests
from ociflex.models import RentalRequest
from ociflex.ops.operators import add_operator
from tests.support.html import input_value

OPERATOR = ("bench", "bench-operator-password-1")
#: Operations are a handful of people: a few requests at once.
CONNECTIONS = 4
#: Requests are spread over the served customer(s) and made-up ones, as in a busy inbox.
SEED_CUSTOMERS = 20
#: The start of a surname one request in 23 has (``ociflex.devtools.seed.LAST_NAMES``'s
#: "Jansen"), and no first name: a search by a word that is not the name's first.
SHARED_WORD = "jans"


def log_in(port: int) -> str:
    """The Cookie header of an operator logged in through the real login form."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    connection.request("GET", "/ops/login")
    page = connection.getresponse()
    cookies = _cookies(page)
    token = input_value(page.read().decode(), "csrf_token")
    assert token, "the login page has no CSRF token"
    form = {"csrf_token": token, "username": OPERATOR[0], "password": OPERATOR[1]}
    headers = {"Content-Type": "application/x-www-form-urlencoded", "Cookie": cookies}
    connection.request("POST", "/ops/login", urlencode(form), headers)
    answer = connection.getresponse()
    answer.read()
    if answer.status != 303:
        raise RuntimeError(f"the operator login answered {answer.status}")
    return _cookies(answer)


def _cookies(response: http.client.HTTPResponse) -> str:
    pairs = [value.split(";", 1)[0] for value in response.headers.get_all("Set-Cookie") or []]
    return "; ".join(pairs)


@contextlib.contextmanager
def database_app(url: str, instance: str, **extra: str) -> Iterator[Flask]:
    """ociflex on ``url`` in this process, to seed and look up what the pages show."""
    app = create_app(
        {
            "OCIFLEX_ENV": "testing",
            "SECRET_KEY": production_environ()["SECRET_KEY"],
            "OCIFLEX_DEMO_PASSWORD": "demo",
            "DATABASE_URL": url,
            "OCIFLEX_INSTANCE_PATH": instance,
            **extra,
        }
    )
    try:
        with app.app_context():
            yield app
    finally:
        # What the transfer log still holds goes to the database before it is removed.
        app.extensions["ociflex.transfer_writer"].close()
        app.extensions["ociflex.engine"].dispose()


def _pages(app: Flask) -> dict[str, str]:
    """The inbox addresses measured: the newest page, a status tab, a search for one
    requester's e-mail address (a person's requests), a name prefix, and the start of a word
    of the names (matches grow with the table for these two)."""
    with session_for(app) as session:
        newest = session.scalar(select(RentalRequest).order_by(RentalRequest.id.desc()).limit(1))
    assert newest is not None
    return {
        "list": "/ops/",
        "filter": "/ops/?status=scheduled",
        "search": "/ops/?" + urlencode({"q": newest.requester_email}),
        "search_name": "/ops/?" + urlencode({"q": newest.requester_name.split()[0]}),
        "search_word": "/ops/?" + urlencode({"q": SHARED_WORD}),
    }


@contextlib.contextmanager
def _seeded(engine: str, rows: int) -> Iterator[tuple[str, float]]:
    databases = {"sqlite": sqlite_database, "postgresql": postgres_database}
    with databases[engine]() as url, tempfile.TemporaryDirectory() as instance:
        with database_app(url, instance) as app:
            chosen = seed_customers(customers().result.customers, SEED_CUSTOMERS)
            began = time.perf_counter()
            seed_requests(app.extensions["ociflex.engine"], rows, chosen)
            seeded = time.perf_counter() - began
            with session_for(app) as session:
                add_operator(session, *OPERATOR)
        yield url, seeded


def operators_load(url: str, cookie: str, seconds: float, warmup: float) -> Load:
    """A handful of logged-in operators (:data:`CONNECTIONS`) asking for the page ``url``,
    after ``warmup`` seconds of the same."""
    options: dict[str, Any] = {
        "connections": CONNECTIONS,
        "threads": 2,
        "headers": [f"Cookie: {cookie}"],
    }
    if warmup:
        run_wrk(url, "get.lua", seconds=warmup, **options)
    return run_wrk(url, "get.lua", seconds=seconds, **options)


def inbox(sizes: list[int], engines: list[str], seconds: float, warmup: float) -> dict[str, Any]:
    """For each engine and table size: seed, serve, log in, and measure each page."""
    figures: dict[str, Any] = {"connections": CONNECTIONS, "sizes": sizes}
    for engine in engines:
        for rows in sizes:
            seeding = _seeded(engine, rows)
            with seeding as (url, seeded), tempfile.TemporaryDirectory() as inst:
                entry: dict[str, Any] = {
                    "seed_seconds": round(seeded, 1),
                }
                with ociflex_server(url, inst) as server:
                    cookie = log_in(server.port)
                    with database_app(url, inst) as app:
                        pages = _pages(app)
                    for name, path in pages.items():
                        load = operators_load(server.url(path), cookie, seconds, warmup)
                        entry[name] = {**load.as_json(), "path": path}
                figures.setdefault(engine, {})[str(rows)] = entry
    return figures
