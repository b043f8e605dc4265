"""The service's own address, ``/`` (ociflex/home.py): in development the way in to the
simulators, the inbox, the customers and the docs; elsewhere a neutral page that names no
customer and leads Euromobil's staff to their login."""

from collections.abc import Iterator
from pathlib import Path

import lxml.html
import pytest
from flask import Flask

from ociflex import create_app
from tests.conftest import make_environ


@pytest.fixture
def dev_app(tmp_path: Path, customers_dir: Path, migrated_sqlite: Path) -> Iterator[Flask]:
    url = f"sqlite:///{migrated_sqlite}"
    app = create_app({**make_environ(tmp_path, url, customers_dir), "OCIFLEX_ENV": "development"})
    yield app
    app.extensions["ociflex.engine"].dispose()


def links(page: str) -> dict[str, str]:
    root = lxml.html.document_fromstring(page)
    return {" ".join(a.text_content().split()): a.get("href") for a in root.iter("a")}


def test_in_development_the_front_page_leads_to_the_simulators_and_the_inbox(
    dev_app: Flask,
) -> None:
    response = dev_app.test_client().get("/")

    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert set(links(page).values()) >= {"/dev/erp", "/dev/cxml", "/ops/", "/dev/mail"}
    assert "ociflex operator add" in page
    assert "Demo Inkoop B.V." in page
    assert "docs/onboarding.md" in page


def test_elsewhere_the_front_page_names_no_customer_and_leads_to_the_operators_login(
    app: Flask,
) -> None:
    response = app.test_client().get("/")

    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert list(links(page).values()) == ["/ops/login"]
    for name in ("Demo Inkoop", "demo", "Acme", "acme", "/dev/"):
        assert name not in page
    assert response.headers["Content-Security-Policy"].startswith("default-src 'self'")
