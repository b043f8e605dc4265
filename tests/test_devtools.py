"""The development ERP simulator proves the round trip without a real ERP."""

from html.parser import HTMLParser

import pytest
from flask.testing import FlaskClient
from werkzeug.datastructures import MultiDict

from ociflex import create_app


class _Inputs(HTMLParser):
    """The named inputs of the first form whose id is ``form_id``, in document order."""

    def __init__(self, form_id: str) -> None:
        super().__init__()
        self.form_id, self.inside, self.pairs = form_id, False, []
        self.action = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        if tag == "form" and attributes.get("id") == self.form_id:
            self.inside, self.action = True, attributes.get("action") or ""
        elif tag == "input" and self.inside and attributes.get("name"):
            self.pairs.append((attributes["name"], attributes.get("value") or ""))

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self.inside = False


#: Where the demo customer's hook_urls expect the development server.
DEV_SERVER = "http://127.0.0.1:5000"


def form_of(html: str, form_id: str) -> _Inputs:
    parser = _Inputs(form_id)
    parser.feed(html)
    return parser


@pytest.fixture
def dev_client(environ: dict[str, str]) -> FlaskClient:
    return create_app({**environ, "OCIFLEX_DEV_TOOLS": "1"}).test_client(use_cookies=False)


def test_simulator_round_trip_shows_the_basket_per_line(dev_client: FlaskClient) -> None:
    simulator = dev_client.get("/dev/erp?customer=demo", base_url=DEV_SERVER)
    assert simulator.status_code == 200
    callup = form_of(simulator.get_data(as_text=True), "callup")
    params = dict(callup.pairs)
    assert params["HOOK_URL"].startswith("http://127.0.0.1:5000/dev/erp/hook?session=")
    assert params["PASSWORD"] == "demo-secret"
    params["KOSTENPLAATS"] = "4100"

    form_page = dev_client.post(callup.action, data=params, base_url=DEV_SERVER)
    assert form_page.status_code == 200
    token = dict(form_of(form_page.get_data(as_text=True), "booking").pairs)["punchout"]
    basket_page = dev_client.post(
        "/oci/demo/book",
        data={
            "punchout": token,
            "vehicle": "COMPACT",
            "start": "2099-03-02",
            "end": "2099-03-04",
            "location": "Amsterdam Sloterdijk",
            "cost_centre": "4100",
        },
        base_url=DEV_SERVER,
    )
    basket = form_of(basket_page.get_data(as_text=True), "oci-basket")
    assert basket.action == params["HOOK_URL"]

    hook = dev_client.post(basket.action, data=MultiDict(basket.pairs))
    page = hook.get_data(as_text=True)
    assert hook.status_code == 200
    assert 'data-line="1"' in page
    assert '<td data-field="QUANTITY"><pre>3</pre></td>' in page
    assert '<td data-field="CUST_FIELD1"><pre>4100</pre></td>' in page
    assert '<td data-field="EXT_QUOTE_ID"><pre>FF-000001</pre></td>' in page
    assert '<td data-field="~OkCode">ADDI</td>' in page


def test_hook_page_reads_a_latin_1_basket(dev_client: FlaskClient) -> None:
    body = "NEW_ITEM-DESCRIPTION%5B1%5D=Caf%E9&NEW_ITEM-QUANTITY%5B1%5D=1"
    response = dev_client.post(
        "/dev/erp/hook", data=body, content_type="application/x-www-form-urlencoded"
    )
    page = response.get_data(as_text=True)
    assert "<pre>Café</pre>" in page
    assert "windows-1252" in page


def test_simulator_is_not_served_in_production(environ: dict[str, str]) -> None:
    production = create_app({**environ, "OCIFLEX_ENV": "production"})
    assert production.test_client().get("/dev/erp").status_code == 404
