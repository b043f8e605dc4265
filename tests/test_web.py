"""Headers every response carries, whoever asks: the punch-out, the operations pages, errors
and static files (the punch-out's own policies are in tests/test_punchout.py)."""

from pathlib import Path

import pytest
from flask import Flask

from ociflex import create_app
from tests.conftest import PRODUCTION_SECRET_KEY
from tests.support.punchout import count_stored

ADDRESSES = [
    pytest.param("/oci/nobody", 404, id="unknown-customer"),
    pytest.param("/no/such/page", 404, id="no-such-page"),
    pytest.param("/ops/login", 200, id="ops-login"),
    pytest.param("/ops/", 302, id="ops-inbox-logged-out"),
    pytest.param("/static/style.css", 200, id="static"),
]


def _app(environ: dict[str, str], env: str) -> Flask:
    return create_app({**environ, "OCIFLEX_ENV": env, "SECRET_KEY": PRODUCTION_SECRET_KEY})


@pytest.mark.parametrize(("path", "status"), ADDRESSES)
def test_every_response_has_a_strict_content_security_policy(
    app: Flask, path: str, status: int
) -> None:
    response = app.test_client().get(path)
    assert response.status_code == status
    policy = dict(
        directive.strip().split(" ", 1)
        for directive in response.headers["Content-Security-Policy"].split(";")
    )
    assert policy["default-src"] == "'self'"
    assert policy["object-src"] == "'none'"
    assert policy["base-uri"] == "'none'"
    assert policy["script-src"] == "'none'"
    assert policy["form-action"] == "'self'"
    assert policy["frame-ancestors"] == "'none'"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "no-referrer"


@pytest.mark.parametrize(("path", "status"), [p for p in ADDRESSES if p.id != "static"])
def test_pages_are_never_stored_by_a_browser_or_proxy(app: Flask, path: str, status: int) -> None:
    assert app.test_client().get(path).headers["Cache-Control"] == "no-store"


def test_static_files_may_be_cached(app: Flask) -> None:
    assert "no-store" not in app.test_client().get("/static/style.css").headers.get(
        "Cache-Control", ""
    )


@pytest.mark.parametrize("env", ["production", "testing"])
@pytest.mark.parametrize(("path", "status"), ADDRESSES)
def test_browsers_are_told_to_use_https_only_outside_development(
    environ: dict[str, str], env: str, path: str, status: int
) -> None:
    response = _app(environ, env).test_client().get(path)
    assert response.headers["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"


def test_the_development_server_on_plain_http_sends_no_hsts(
    environ: dict[str, str], tmp_path: Path
) -> None:
    environ["OCIFLEX_INSTANCE_PATH"] = str(tmp_path / "instance")
    response = _app(environ, "development").test_client().get("/ops/login")
    assert "Strict-Transport-Security" not in response.headers


def test_a_request_over_the_size_limit_is_refused_with_a_clear_page(
    app: Flask, demo_callup: dict[str, str]
) -> None:
    demo_callup["oci_userfullname"] = "J" * 1_000_000
    response = app.test_client().post("/oci/demo", data=demo_callup)
    assert response.status_code == 413
    assert (
        "Het verzoek is groter dan de 64 KB die FlexFleet accepteert, dus er is niets "
        "opgeslagen." in response.get_data(as_text=True)
    )
    assert count_stored(app) == 0
