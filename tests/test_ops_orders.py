"""The purchase orders for operators (/ops/orders): the list of those that need an operator, an
order's page with its lines, their requests and what differs, and linking a line by hand or
dismissing the order, as operators do it; on SQLite and PostgreSQL.

Requests are booked through the real cXML punch-out of ``globex`` and orders come through the
real cXML endpoint (tests/support/orders.py). The operations pages are Dutch; texts are
compared as the page's catalogue writes them (``shown``), found by ids and the values sent.
"""

import logging
import shutil
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select, update
from werkzeug.test import TestResponse

from ociflex.db import session_for
from ociflex.models import PurchaseOrder, PurchaseOrderLine, RentalRequest, RequestEvent
from ociflex.ops import orders
from ociflex.ops.operators import add_operator
from tests.conftest import CXML_CUSTOMERS, OPERATOR_USERNAME, csrf_token_in, log_in
from tests.support.cxml import GLOBEX_SECRET, Buyer, Line, Order
from tests.support.orders import (
    Form,
    Screen,
    booked,
    demo_order,
    ordered,
    shown,
    stored_order,
)

SECOND_OPERATOR = ("piet", "piet-correct-horse-43", "Piet de Boer")
UNKNOWN = "FF-999999"
RAW_TAG = "<script>alert(1)</script>"


@pytest.fixture
def customers_dir(customers_dir: Path) -> Path:
    """The test customers with the cXML test customer ``globex``, whose ERP sends the orders."""
    for file in CXML_CUSTOMERS.glob("*.yaml"):
        shutil.copy(file, customers_dir / file.name)
    return customers_dir


@pytest.fixture
def buyer(app: Flask) -> Buyer:
    """``globex``'s procurement system and its employee's browser."""
    return Buyer(app.test_client(use_cookies=False))


@pytest.fixture
def second_client(app: Flask) -> FlaskClient:
    """Another operator, logged in on another client."""
    username, password, name = SECOND_OPERATOR
    with session_for(app) as session:
        add_operator(session, username, password, name)
    client = app.test_client()
    assert log_in(client, username, password).status_code == 303
    return client


# --- Helpers ------------------------------------------------------------------------------------


def reference(request_id: int) -> str:
    return f"FF-{request_id:06d}"


def get(client: FlaskClient, path: str, status: int = 200) -> Screen:
    response = client.get(path)
    assert response.status_code == status, response.get_data(as_text=True)
    return Screen(response)


def order_page(client: FlaskClient, order_id: int) -> Screen:
    return get(client, f"/ops/orders/{order_id}")


def submit(client: FlaskClient, form: Form, **typed: str | None) -> TestResponse:
    """Send ``form`` as a browser would: what the page filled in, with ``typed`` over it (None
    leaves a field out)."""
    data = {name: value for name, value in {**form.values, **typed}.items() if value is not None}
    return client.post(form.action, data=data)


def link_form(page: Screen, line: int = 0) -> Form:
    """The form that links the ``line``-th line (from 0) of the order's page."""
    return page.form(f"link-{page.row_ids('lines')[line]}")


def state(app: Flask, order_id: int) -> dict[str, Any]:
    """Everything an action on an order may change: the order, its lines, the requests' purchase
    orders and histories."""
    with session_for(app) as session:
        order = session.get(PurchaseOrder, order_id)
        assert order is not None
        lines = session.execute(
            select(PurchaseOrderLine.request_id, PurchaseOrderLine.linked_by)
            .where(PurchaseOrderLine.purchase_order_id == order_id)
            .order_by(PurchaseOrderLine.id)
        )
        requests = session.execute(
            select(RentalRequest.id, RentalRequest.erp_po_number, RentalRequest.version)
        )
        return {
            "order": (order.version, order.handling, order.dismissed_reason, order.dismissed_by),
            "lines": [tuple(row) for row in lines],
            "requests": sorted(tuple(row) for row in requests),
            "events": session.scalar(select(func.count()).select_from(RequestEvent)),
        }


def request_of(app: Flask, request_id: int) -> RentalRequest:
    with session_for(app) as session:
        rental = session.get(RentalRequest, request_id)
        assert rental is not None
        return rental


def events_of(app: Flask, request_id: int) -> list[RequestEvent]:
    with session_for(app) as session:
        statement = select(RequestEvent).where(RequestEvent.request_id == request_id)
        return list(session.scalars(statement.order_by(RequestEvent.id)))


# --- The list -----------------------------------------------------------------------------------


def test_the_list_shows_the_orders_that_need_an_operator_newest_first(
    ops_client: FlaskClient, buyer: Buyer
) -> None:
    rental_id = booked(buyer)
    matched = ordered(buyer, Order([Line(reference(rental_id))], payload_id="p-1"))
    half = ordered(
        buyer,
        Order([Line(UNKNOWN), Line(reference(rental_id))], order_id="4500020000", payload_id="p-2"),
    )
    unnamed = ordered(buyer, Order([Line(None)], order_id="4500030000", payload_id="p-3"))

    waiting = get(ops_client, "/ops/orders")
    assert waiting.root.xpath("//nav[@class='ops-nav']/a[@aria-current='page']/@href") == [
        "/ops/orders"
    ]
    assert waiting.row_ids("orders") == [unnamed, half]
    assert waiting.text("show-waiting").endswith("2")
    assert waiting.root.get_element_by_id("show-waiting").get("aria-current") == "page"
    newest, older = waiting.rows("orders")
    assert newest[0] == "4500030000"
    assert newest[2] == "Globex Corporation"
    assert "AN01000099999" in newest[6]
    assert newest[7:] == ["1", "–"]
    assert older[0] == "4500020000"
    assert older[7:] == ["2", reference(rental_id)]
    assert (reference(rental_id), f"/ops/requests/{rental_id}") in waiting.links("orders")
    assert ("4500020000", f"/ops/orders/{half}") in waiting.links("orders")

    every = get(ops_client, "/ops/orders?show=all")
    assert every.row_ids("orders") == [unnamed, half, matched]
    assert every.root.get_element_by_id("show-all").get("aria-current") == "page"
    assert every.rows("orders")[-1][7:] == ["1", reference(rental_id)]


def test_the_inbox_announces_the_orders_that_wait_for_an_operator(
    ops_client: FlaskClient, buyer: Buyer
) -> None:
    rental_id = booked(buyer)
    ordered(buyer, Order([Line(reference(rental_id))], payload_id="p-1"))
    assert not get(ops_client, "/ops/").has("waiting-orders")

    ordered(buyer, Order([Line(UNKNOWN)], order_id="4500020000", payload_id="p-2"))
    ordered(buyer, Order([Line(None)], order_id="4500030000", payload_id="p-3"))

    inbox = get(ops_client, "/ops/")
    assert inbox.text("waiting-orders").startswith("2 ")
    assert ("Koppel of leg ze terzijde", "/ops/orders") in inbox.links("waiting-orders")


def test_the_list_says_when_no_order_needs_an_operator(app: Flask, ops_client: FlaskClient) -> None:
    page = get(ops_client, "/ops/orders")
    assert page.text("no-orders").startswith(shown(app, "No order needs an operator."))
    assert page.text("show-waiting").endswith("0")
    assert get(ops_client, "/ops/orders?show=all").has("no-orders")


def test_orders_are_paged_by_keyset(
    ops_client: FlaskClient, buyer: Buyer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(orders, "PAGE_SIZE", 2)
    ids = [
        ordered(buyer, Order([Line(UNKNOWN)], order_id=f"45000{n}", payload_id=f"p-{n}"))
        for n in range(5)
    ]
    first = get(ops_client, "/ops/orders?show=all")
    assert first.row_ids("orders") == [ids[4], ids[3]]
    assert not first.has("newest")
    second = get(ops_client, first.root.get_element_by_id("older").get("href"))
    assert "show=all" in first.root.get_element_by_id("older").get("href")
    assert second.row_ids("orders") == [ids[2], ids[1]]
    assert second.has("newest")
    last = get(ops_client, second.root.get_element_by_id("older").get("href"))
    assert last.row_ids("orders") == [ids[0]]
    assert not last.has("older")
    # A wrong page address shows the newest orders, and says so.
    wrong = get(ops_client, "/ops/orders?before=abc")
    assert wrong.row_ids("orders") == [ids[4], ids[3]]
    assert wrong.has("filter-problems")


# --- One order ----------------------------------------------------------------------------------


def test_the_order_page_shows_its_lines_their_requests_and_what_differs(
    app: Flask, ops_client: FlaskClient, buyer: Buyer
) -> None:
    rental_id = booked(buyer)
    differing = Line(reference(rental_id), quantity="5", unit_price="70.00", vehicle="PICKUP")
    order_id = ordered(buyer, Order([differing, Line(UNKNOWN)]))

    page = order_page(ops_client, order_id)
    assert page.text("order-id") == "4500012345"
    assert "Globex Corporation" in page.text("summary")
    assert "AN01000099999" in page.text("sender")
    assert GLOBEX_SECRET not in page.source
    matched, unmatched = page.rows("lines")
    assert matched[:6] == ["1", reference(rental_id), "PICKUP", "5", "70,00", "USD"]
    assert matched[6] == reference(rental_id)
    assert (reference(rental_id), f"/ops/requests/{rental_id}") in page.links("lines")
    for message, ordered_value, requested in [
        ("Days: %(ordered)s ordered, %(requested)s requested.", "5", "3"),
        ("Day rate: %(ordered)s ordered, %(requested)s requested.", "70.00", "64.00"),
        ("Vehicle: %(ordered)s ordered, %(requested)s requested.", "PICKUP", "SEDAN"),
    ]:
        assert shown(app, message, ordered=ordered_value, requested=requested) in matched[7]
    assert unmatched[:2] == ["2", UNKNOWN]
    why = (
        "This customer has no request %(reference)s: link the line to a request by hand, "
        "or dismiss the order."
    )
    assert shown(app, why, reference=UNKNOWN) in unmatched[7]
    # The document as received, one element a line, without its secret.
    document = page.root.get_element_by_id("document").text_content()
    assert "Approved by the cost-centre manager" in document
    assert "\n  <Header>" in document


def test_a_replaced_order_shows_no_differences_and_leads_to_its_successor(
    app: Flask, ops_client: FlaskClient, buyer: Buyer
) -> None:
    rental_id = booked(buyer)
    first = ordered(buyer, Order([Line(reference(rental_id), quantity="5")], payload_id="p-1"))
    days = shown(
        app, "Days: %(ordered)s ordered, %(requested)s requested.", ordered="5", requested="3"
    )
    assert days in order_page(ops_client, first).rows("lines")[0][7]
    second = ordered(
        buyer,
        Order(
            [Line(reference(rental_id), quantity="4")],
            order_type="update",
            payload_id="p-2",
            changes="p-1",
        ),
    )

    replaced = order_page(ops_client, first)
    assert replaced.text("state") == shown(app, "Replaced")
    assert replaced.rows("lines")[0][7] == ""
    assert replaced.row_ids("related") == [first, second]
    assert replaced.links("related") == [(shown(app, "Details"), f"/ops/orders/{second}")]
    current = order_page(ops_client, second)
    assert current.text("state") == shown(app, "Current")
    assert (
        shown(
            app, "Days: %(ordered)s ordered, %(requested)s requested.", ordered="4", requested="3"
        )
        in current.rows("lines")[0][7]
    )


@pytest.mark.parametrize("path", ["/ops/orders/999", "/ops/orders/99999999999"])
def test_an_unknown_order_is_a_404_page(app: Flask, ops_client: FlaskClient, path: str) -> None:
    page = get(ops_client, path, status=404)
    number = path.rsplit("/", 1)[1]
    assert page.alert == shown(
        app, "There is no purchase order with number %(number)s.", number=number
    )


def test_the_order_pages_escape_hostile_values(ops_client: FlaskClient, buyer: Buyer) -> None:
    order_id = ordered(buyer, Order([Line(RAW_TAG, vehicle=RAW_TAG)], order_id=RAW_TAG))
    for path in ("/ops/orders", f"/ops/orders/{order_id}"):
        page = get(ops_client, path)
        assert RAW_TAG not in page.source
        assert "&lt;script&gt;" in page.source


def test_the_pages_need_a_login(app: Flask, buyer: Buyer) -> None:
    order_id = ordered(buyer, Order([Line(UNKNOWN)]))
    before = state(app, order_id)
    stranger = app.test_client()
    for path in ("/ops/orders", f"/ops/orders/{order_id}"):
        response = stranger.get(path)
        assert response.status_code == 302
        assert response.headers["Location"].startswith("/ops/login")
    token = csrf_token_in(stranger.get("/ops/login").get_data(as_text=True))
    response = stranger.post(
        f"/ops/orders/{order_id}/dismiss",
        data={"csrf_token": token, "version": "1", "reason": "Not ours."},
    )
    assert response.status_code == 401
    assert state(app, order_id) == before


# --- Linking a line by hand ---------------------------------------------------------------------


@pytest.mark.parametrize("typed", ["FF-{:06d}", "ff-{}", " {} "])
def test_an_unmatched_order_can_be_linked_by_hand(
    app: Flask, ops_client: FlaskClient, buyer: Buyer, typed: str
) -> None:
    rental_id = booked(buyer)
    order_id = ordered(buyer, Order([Line(UNKNOWN)]))
    page = order_page(ops_client, order_id)
    [line_id] = page.row_ids("lines")

    response = submit(ops_client, page.form(f"link-{line_id}"), reference=typed.format(rental_id))

    assert response.status_code == 303
    assert response.headers["Location"] == f"/ops/orders/{order_id}"
    after = order_page(ops_client, order_id)
    assert after.notices == [
        shown(
            app,
            "Line %(line)s of order %(order)s is linked to request %(reference)s; every line "
            "of the order has its request now.",
            line=1,
            order="4500012345",
            reference=reference(rental_id),
        )
    ]
    assert after.text("handling") == shown(app, "Matched")
    assert not after.has(f"link-{line_id}")
    assert not after.has("dismiss")
    linked = after.rows("lines")[0][6]
    assert linked.startswith(reference(rental_id))
    assert OPERATOR_USERNAME in linked
    # The request has its purchase order now, and its history says who linked it, from where.
    assert request_of(app, rental_id).erp_po_number == "4500012345"
    event = events_of(app, rental_id)[-1]
    assert (event.action, event.actor, event.client_address) == (
        "po_linked",
        OPERATOR_USERNAME,
        "127.0.0.1",
    )
    assert event.changes == {
        "purchase_order": [None, "4500012345"],
        "erp_po_number": [None, "4500012345"],
    }
    request_page = get(ops_client, f"/ops/requests/{rental_id}")
    assert request_page.text("po-received") == shown(
        app, "PO %(number)s received", number="4500012345"
    )
    assert shown(app, "Purchase order linked by hand") in request_page.rows("history")[-1][2]
    # No longer waiting for an operator.
    assert get(ops_client, "/ops/orders").has("no-orders")


def test_linking_one_of_two_lines_leaves_the_order_waiting_for_the_other(
    app: Flask, ops_client: FlaskClient, buyer: Buyer
) -> None:
    rental_id = booked(buyer)
    order_id = ordered(buyer, Order([Line(UNKNOWN), Line(None)]))
    page = order_page(ops_client, order_id)
    first_line, second_line = page.row_ids("lines")

    assert submit(ops_client, link_form(page), reference=str(rental_id)).status_code == 303

    after = order_page(ops_client, order_id)
    assert after.notices == [
        shown(
            app,
            "Line %(line)s of order %(order)s is linked to request %(reference)s.",
            line=1,
            order="4500012345",
            reference=reference(rental_id),
        )
    ]
    assert not after.has(f"link-{first_line}")
    assert after.has(f"link-{second_line}")
    assert after.has("dismiss")
    assert stored_order(app, order_id).handling == "unmatched"
    assert get(ops_client, "/ops/orders").row_ids("orders") == [order_id]


NO_REFERENCE = "Enter a request's reference, such as FF-000123."
WRONG_REFERENCES: list[tuple[str, str, dict[str, str]]] = [
    ("", "Please fill in this field.", {}),
    ("   ", "Please fill in this field.", {}),
    ("abc", NO_REFERENCE, {}),
    ("FF-12a", NO_REFERENCE, {}),
    ("FF-99999999999", NO_REFERENCE, {}),
    ("0", "There is no request %(reference)s.", {"reference": "FF-000000"}),
    ("FF-999999", "There is no request %(reference)s.", {"reference": "FF-999999"}),
]


@pytest.mark.parametrize(
    ("typed", "message", "params"),
    WRONG_REFERENCES,
    ids=[typed for typed, _, _ in WRONG_REFERENCES],
)
def test_a_wrong_reference_is_refused_next_to_the_field_and_changes_nothing(
    app: Flask,
    ops_client: FlaskClient,
    buyer: Buyer,
    typed: str,
    message: str,
    params: dict[str, str],
) -> None:
    booked(buyer)
    order_id = ordered(buyer, Order([Line(UNKNOWN)]))
    page = order_page(ops_client, order_id)
    [line_id] = page.row_ids("lines")
    before = state(app, order_id)

    response = submit(ops_client, link_form(page), reference=typed)

    assert response.status_code == 422
    refused = Screen(response)
    assert refused.alert == shown(app, "Nothing was changed: correct the fields marked below.")
    assert refused.errors == {f"link-{line_id}-reference": shown(app, message, **params)}
    assert refused.form(f"link-{line_id}").values["reference"] == typed.strip()
    assert state(app, order_id) == before


def test_a_request_of_another_customer_is_refused_next_to_the_field(
    app: Flask, ops_client: FlaskClient, buyer: Buyer
) -> None:
    globex_request = booked(buyer)
    demo_buyer = Buyer(app.test_client(use_cookies=False), "demo")
    order_id = ordered(demo_buyer, demo_order(Line(UNKNOWN)))
    page = order_page(ops_client, order_id)
    [line_id] = page.row_ids("lines")
    before = state(app, order_id)

    response = submit(ops_client, link_form(page), reference=reference(globex_request))

    assert response.status_code == 422
    message = (
        "%(reference)s is a request of another customer: link the line to one of %(customer)s."
    )
    expected = shown(app, message, reference=reference(globex_request), customer="demo")
    assert Screen(response).errors == {f"link-{line_id}-reference": expected}
    assert state(app, order_id) == before
    assert request_of(app, globex_request).erp_po_number is None


def test_a_line_of_another_order_or_an_unknown_order_is_not_found(
    app: Flask, ops_client: FlaskClient, buyer: Buyer
) -> None:
    first = ordered(buyer, Order([Line(UNKNOWN)], payload_id="p-1"))
    second = ordered(buyer, Order([Line(UNKNOWN)], order_id="4500099999", payload_id="p-2"))
    form = link_form(order_page(ops_client, first))
    line_id = form.action.split("/")[-2]
    for action in (
        f"/ops/orders/{second}/lines/{line_id}/link",
        f"/ops/orders/999/lines/{line_id}/link",
        f"/ops/orders/{first}/lines/999/link",
        f"/ops/orders/{first}/lines/99999999999/link",
        "/ops/orders/999/dismiss",
    ):
        response = ops_client.post(action, data={**form.values, "reference": "1"})
        assert response.status_code == 404, action
    assert ops_client.get(form.action).status_code == 405


# --- Dismissing ---------------------------------------------------------------------------------


def test_an_order_can_be_dismissed_with_a_reason(
    app: Flask, ops_client: FlaskClient, buyer: Buyer
) -> None:
    order_id = ordered(buyer, Order([Line(UNKNOWN)]))
    reason = "A test order from Globex's ERP team,\nconfirmed by phone."

    response = submit(ops_client, order_page(ops_client, order_id).form("dismiss"), reason=reason)

    assert response.status_code == 303
    after = order_page(ops_client, order_id)
    assert after.notices == [shown(app, "Order %(order)s is dismissed.", order="4500012345")]
    assert after.text("handling") == shown(app, "Dismissed")
    assert after.root.get_element_by_id("dismissed-reason").text_content() == reason
    assert OPERATOR_USERNAME in after.text("dismissed")
    assert not after.has("dismiss")
    assert not after.root.xpath("//form[starts-with(@id, 'link-')]")
    order = stored_order(app, order_id)
    assert (order.handling, order.dismissed_reason, order.dismissed_by) == (
        "dismissed",
        reason,
        OPERATOR_USERNAME,
    )
    assert order.dismissed_at is not None
    assert get(ops_client, "/ops/orders").has("no-orders")
    assert get(ops_client, "/ops/orders?show=all").row_ids("orders") == [order_id]


BETWEEN = "Write between %(min)d and %(max)d characters."


@pytest.mark.parametrize(
    ("reason", "message"),
    [
        ("", "Please fill in this field."),
        (" \n ", "Please fill in this field."),
        ("ab", BETWEEN),
        ("x" * 1001, BETWEEN),
    ],
    ids=["empty", "blank", "short", "long"],
)
def test_dismissing_needs_a_reason(
    app: Flask, ops_client: FlaskClient, buyer: Buyer, reason: str, message: str
) -> None:
    order_id = ordered(buyer, Order([Line(UNKNOWN)]))
    page = order_page(ops_client, order_id)
    before = state(app, order_id)

    response = submit(ops_client, page.form("dismiss"), reason=reason)

    assert response.status_code == 422
    refused = Screen(response)
    assert refused.errors == {"dismiss-reason": shown(app, message, min=3, max=1000)}
    assert refused.form("dismiss").values["reason"] == reason.strip()
    assert state(app, order_id) == before


# --- Two operators, stale pages, broken forms ---------------------------------------------------


def test_of_two_operators_acting_on_one_order_the_second_is_told_and_changes_nothing(
    app: Flask, ops_client: FlaskClient, second_client: FlaskClient, buyer: Buyer
) -> None:
    rental_id = booked(buyer)
    order_id = ordered(buyer, Order([Line(UNKNOWN), Line(None)]))
    olga = order_page(ops_client, order_id)
    piet = order_page(second_client, order_id)
    first_line, second_line = olga.row_ids("lines")
    assert submit(ops_client, link_form(olga), reference=str(rental_id)).status_code == 303
    before = state(app, order_id)

    dismissed = submit(second_client, piet.form("dismiss"), reason="Nothing for us to do.")

    assert dismissed.status_code == 409
    refused = Screen(dismissed)
    changed = "Another operator changed this order meanwhile; review it and try again."
    assert refused.alert == shown(app, changed)
    assert state(app, order_id) == before
    # The page shows the order as it is now: the first line linked, the second still waiting.
    assert not refused.has(f"link-{first_line}")
    assert refused.has(f"link-{second_line}")
    # The same for a link from the old page.
    relinked = submit(second_client, link_form(piet, 1), reference=str(rental_id))
    assert relinked.status_code == 409
    assert state(app, order_id) == before
    # Having looked again, the second operator can act on what is there now.
    retried = submit(second_client, refused.form("dismiss"), reason="Nothing for us to do.")
    assert retried.status_code == 303
    assert stored_order(app, order_id).dismissed_by == SECOND_OPERATOR[0]


def test_a_change_committed_between_the_check_and_the_commit_makes_the_action_lose(
    app: Flask,
    ops_client: FlaskClient,
    buyer: Buyer,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The race the version check alone cannot close: another operator's change is committed
    after this action read the order and before it writes. Here the version is bumped behind
    the ORM's back on the action's own connection (on SQLite no other writer can get in
    meanwhile); the UPDATE then matches no row, as it would after the other commit."""
    order_id = ordered(buyer, Order([Line(UNKNOWN)]))
    page = order_page(ops_client, order_id)
    before = state(app, order_id)
    original = orders.dismiss

    def racing(session: Any, order: PurchaseOrder, reason: str, operator: Any) -> None:
        session.execute(
            update(PurchaseOrder)
            .where(PurchaseOrder.id == order.id)
            .values(version=PurchaseOrder.version + 1)
            .execution_options(synchronize_session=False)
        )
        original(session, order, reason, operator)

    monkeypatch.setattr(orders, "dismiss", racing)
    caplog.set_level(logging.INFO, logger="ociflex.ops.orders")
    response = submit(ops_client, page.form("dismiss"), reason="Nothing for us to do.")

    assert response.status_code == 409
    assert "lost a race" in caplog.text
    changed = "Another operator changed this order meanwhile; review it and try again."
    assert Screen(response).alert == shown(app, changed)
    assert state(app, order_id) == before


@pytest.mark.parametrize("token", [None, "", "not-the-sessions-token"])
def test_an_action_without_the_csrf_token_is_refused(
    app: Flask, ops_client: FlaskClient, buyer: Buyer, token: str | None
) -> None:
    order_id = ordered(buyer, Order([Line(UNKNOWN)]))
    page = order_page(ops_client, order_id)
    before = state(app, order_id)
    response = submit(ops_client, page.form("dismiss"), reason="Not ours.", csrf_token=token)
    assert response.status_code == 400
    assert state(app, order_id) == before


@pytest.mark.parametrize("version", [None, "", "abc", "-1"])
def test_an_action_without_the_orders_version_is_refused(
    app: Flask, ops_client: FlaskClient, buyer: Buyer, version: str | None
) -> None:
    order_id = ordered(buyer, Order([Line(UNKNOWN)]))
    page = order_page(ops_client, order_id)
    before = state(app, order_id)
    response = submit(ops_client, link_form(page), reference="1", version=version)
    assert response.status_code == 400
    incomplete = "This form is incomplete. Reload the order's page and try again."
    assert Screen(response).alert == shown(app, incomplete)
    assert state(app, order_id) == before
