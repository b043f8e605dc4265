"""/healthz/live and /healthz/ready, as a load balancer or platform probes them."""

from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask

from ociflex import migrate
from tests.support.tcp_proxy import TcpProxy


def test_a_running_service_is_live_and_ready(app: Flask) -> None:
    client = app.test_client()
    assert client.get("/healthz/live").get_json() == {"status": "live"}
    ready = client.get("/healthz/ready")
    assert ready.status_code == 200
    assert ready.get_json() == {
        "status": "ready",
        "database": "ok",
        "schema": "current",
        "customers": {"served": 2, "refused": 0},
    }
    assert ready.headers["Cache-Control"] == "no-store"


def test_without_its_database_the_service_is_live_but_not_ready(
    linked_app: Flask,
    database_link: TcpProxy,
) -> None:
    client = linked_app.test_client()
    database_link.stop()
    assert client.get("/healthz/live").status_code == 200
    ready = client.get("/healthz/ready")
    assert ready.status_code == 503
    assert ready.get_json()["database"] == "unavailable"
    database_link.start()
    assert client.get("/healthz/ready").status_code == 200


@pytest.fixture
def schema_one_behind(database_url: str) -> Iterator[None]:
    migrate.downgrade(database_url, "-1")
    yield
    migrate.upgrade(database_url)  # the PostgreSQL cluster is shared by the whole run


def test_a_database_without_the_latest_migration_is_not_ready(
    app: Flask, schema_one_behind: None
) -> None:
    ready = app.test_client().get("/healthz/ready")
    assert ready.status_code == 503
    assert ready.get_json()["schema"] == "outdated"


def test_readiness_counts_customer_files_but_never_names_them(
    app: Flask, customers_dir: Path
) -> None:
    body = app.test_client().get("/healthz/ready").get_data(as_text=True)
    for customer_file in customers_dir.glob("*.yaml"):
        assert customer_file.stem not in body
