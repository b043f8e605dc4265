"""The development server's own simulator as every customer's ERP (ociflex/punchout/
dev_server.py): in development only, on the origin the request came to and its loopback
aliases at the same port; nothing changes in testing or production."""

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from flask import Flask

from ociflex import create_app
from ociflex.customers.registry import customers
from ociflex.cxml.config import cxml_settings
from ociflex.oci.config import oci_settings
from ociflex.oci.hook_url import check_hook_url
from ociflex.punchout.dev_server import own_origins, served_here
from ociflex.return_urls import ReturnUrlError
from tests.conftest import make_environ


@pytest.fixture
def dev_app(tmp_path: Path, customers_dir: Path, migrated_sqlite: Path) -> Iterator[Flask]:
    url = f"sqlite:///{migrated_sqlite}"
    app = create_app({**make_environ(tmp_path, url, customers_dir), "OCIFLEX_ENV": "development"})
    yield app
    app.extensions["ociflex.engine"].dispose()


def hook_urls_at(app: Flask, base_url: str) -> tuple[str, ...]:
    with app.test_request_context("/oci/demo", base_url=base_url):
        return oci_settings(served_here(customers().get("demo"))).hook_urls


@pytest.mark.parametrize(
    ("host", "origins"),
    [
        (
            "localhost:5077",
            ("http://127.0.0.1:5077", "http://localhost:5077", "http://[::1]:5077"),
        ),
        ("127.0.0.1", ("http://127.0.0.1", "http://localhost", "http://[::1]")),
        ("[::1]:8000", ("http://127.0.0.1:8000", "http://localhost:8000", "http://[::1]:8000")),
        ("Dev.Example:8443", ("http://dev.example:8443",)),
    ],
)
def test_a_loopback_server_is_reached_under_each_of_its_names_on_its_port(
    host: str, origins: tuple[str, ...]
) -> None:
    assert own_origins("http", host) == origins


def test_in_development_the_simulator_of_the_server_is_an_allowed_erp(dev_app: Flask) -> None:
    allowed = hook_urls_at(dev_app, "http://localhost:5077")

    check_hook_url("http://127.0.0.1:5077/dev/erp/hook?session=1", allowed)
    check_hook_url("http://localhost:5077/dev/erp/hook", allowed)
    for elsewhere in (
        "http://127.0.0.1:5078/dev/erp/hook",  # another server on this machine
        "http://127.0.0.1:5077/ops/requests",  # not the simulator
        "http://evil.example:5077/dev/erp/hook",
    ):
        with pytest.raises(ReturnUrlError):
            check_hook_url(elsewhere, allowed)


def test_in_development_the_simulator_may_frame_the_punch_out(dev_app: Flask) -> None:
    with dev_app.test_request_context("/cxml/demo/start", base_url="http://localhost:5077"):
        demo = served_here(customers().get("demo"))

    assert "http://127.0.0.1:5077" in demo.frame_ancestors
    assert "http://127.0.0.1:5000" in demo.frame_ancestors  # the file's own entries stay


def test_outside_development_the_customer_is_served_as_its_file_says(app: Flask) -> None:
    with app.test_request_context("/oci/demo", base_url="http://localhost:5077"):
        demo = customers().get("demo")
        assert served_here(demo) is demo
    with pytest.raises(ReturnUrlError):
        check_hook_url("http://localhost:5077/dev/erp/hook", oci_settings(demo).hook_urls)


def test_a_customer_that_sends_only_orders_by_cxml_gets_no_cxml_punch_out_in_development(
    dev_app: Flask,
) -> None:
    with dev_app.test_request_context("/cxml/demo", base_url="http://localhost:5077"):
        demo = customers().get("demo")
        orders_only = replace(cxml_settings(demo), browser_form_posts=())
        served = served_here(replace(demo, protocols={**demo.protocols, "cxml": orders_only}))

    assert cxml_settings(served).browser_form_posts == ()
    assert "http://localhost:5077/dev/" in oci_settings(served).hook_urls
