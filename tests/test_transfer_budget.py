"""Anyone can send rejected call-ups, refused cXML documents and replayed booking forms at will:
the transfer log keeps the first of a minute per client address and customer, and counts the
rest in one entry that operators see. Accepted entries and carts sent are never counted. Every
test runs on SQLite and on PostgreSQL.
"""

import logging
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select, text
from werkzeug.test import TestResponse

from ociflex import transfers
from ociflex.db import session_for
from ociflex.models import Transfer, TransferBudget
from ociflex.transfer_writer import record_transfer
from ociflex.transfers import BUDGET, UNKNOWN_CUSTOMERS, prune
from tests.support.cxml import Buyer, Order, Setup, order_request, setup_request
from tests.support.html import Html
from tests.support.punchout import acme_booking, basket_of, book, call_up

WRONG_PASSWORD = "wrong-Secret-4711"
OVER = 7


class Clock:
    """The transfer log's clock, set by the test: a flood never straddles two minutes."""

    def __init__(self) -> None:
        self.now = datetime(2026, 12, 2, 10, 15, 5, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, delta: timedelta) -> None:
        self.now += delta


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    clock = Clock()
    monkeypatch.setattr(transfers, "utcnow", clock)
    return clock


def entries(app: Flask) -> list[Transfer]:
    with session_for(app) as session:
        return list(session.scalars(select(Transfer).order_by(Transfer.id)))


def tally(app: Flask) -> dict[tuple[str, str], int]:
    """(kind, outcome) -> how many entries the log holds."""
    counts: dict[tuple[str, str], int] = {}
    for entry in entries(app):
        counts[entry.kind, entry.outcome] = counts.get((entry.kind, entry.outcome), 0) + 1
    return counts


def summaries(app: Flask) -> list[Transfer]:
    return [entry for entry in entries(app) if entry.kind == "suppressed"]


def flood(times: int, send: Callable[[int], TestResponse], status: int) -> None:
    """Send ``times`` requests (``send(n)``), each answered with ``status``."""
    for n in range(times):
        response = send(n)
        assert response.status_code == status, response.get_data(as_text=True)


def refused_callup(client: FlaskClient, callup: dict[str, str]) -> Callable[[int], TestResponse]:
    return lambda _n: client.post("/oci/acme", data={**callup, "pwd": WRONG_PASSWORD})


# --- What is kept, what is counted --------------------------------------------------------------


def test_a_flood_of_rejected_call_ups_keeps_the_first_of_the_minute_and_counts_the_rest(
    app: Flask,
    client: FlaskClient,
    ops_client: FlaskClient,
    acme_callup: dict[str, str],
    clock: Clock,
) -> None:
    flood(BUDGET + OVER, refused_callup(client, acme_callup), 403)

    assert tally(app) == {("callup", "rejected"): BUDGET, ("suppressed", "rejected"): 1}
    [summary] = summaries(app)
    assert (summary.customer_id, summary.client_address) == ("acme", "127.0.0.1")
    assert summary.suppressed == OVER
    assert summary.reason.startswith(f"{OVER} further rejected entries from 127.0.0.1 for acme")
    assert summary.parameters == []
    assert summary.id == entries(app)[-1].id  # after the entries kept

    # What operators read: how many, from where, for whom (in their language, whatever it is).
    listed = Html(ops_client.get("/ops/transfers")).text(f"suppressed-{summary.id}")
    shown = Html(ops_client.get(f"/ops/transfers/{summary.id}"))
    for said in (listed, shown.text("suppressed")):
        assert str(OVER) in said.split()  # the count, in whichever language the page speaks
        assert "127.0.0.1" in said
        assert "ACME Procurement Ltd" in said
    # A summary answered nothing and holds no parameters.
    assert "status" not in shown.elements
    assert "parameters-heading" not in shown.elements
    rejected_only = Html(ops_client.get("/ops/transfers", query_string={"outcome": "rejected"}))
    assert summary.id in rejected_only.row_ids


def test_unknown_customer_ids_from_one_address_share_one_budget(
    app: Flask, client: FlaskClient, ops_client: FlaskClient, clock: Clock
) -> None:
    """OCI call-ups and cXML documents alike, each to an id of its own."""
    half = (BUDGET + OVER) // 2
    flood(half, lambda n: client.post(f"/oci/nobody-{n}", data={"USERNAME": "x"}), 404)
    document = setup_request()
    flood(
        BUDGET + OVER - half,
        lambda n: client.post(f"/cxml/nobody-{n}", data=document, content_type="text/xml"),
        401,
    )

    assert tally(app) == {
        ("callup", "rejected"): half,
        ("setup", "rejected"): BUDGET - half,
        ("suppressed", "rejected"): 1,
    }
    [summary] = summaries(app)
    assert (summary.customer_id, summary.suppressed) == (UNKNOWN_CUSTOMERS, OVER)
    assert "nobody-" not in ops_client.get(f"/ops/transfers/{summary.id}").get_data(as_text=True)


def test_refused_cxml_setups_and_orders_count_against_one_budget(
    cxml_app: Flask, cxml_client: FlaskClient, clock: Clock
) -> None:
    buyer = Buyer(cxml_client)
    wrong_setup = setup_request(Setup(shared_secret="not-the-secret"))
    wrong_order = order_request(Order(shared_secret="not-the-secret"))
    for n in range(BUDGET + OVER):
        assert buyer.post(wrong_order if n % 2 else wrong_setup).code == 401

    counts = tally(cxml_app)
    assert counts[("setup", "rejected")] + counts[("order", "rejected")] == BUDGET
    [summary] = summaries(cxml_app)
    assert (summary.customer_id, summary.protocol, summary.suppressed) == ("globex", "cxml", OVER)


def test_a_replayed_booking_form_gets_its_basket_each_time_but_the_log_counts_the_replays(
    app: Flask, client: FlaskClient, acme_callup: dict[str, str], clock: Clock
) -> None:
    token = call_up(client, "acme", acme_callup).token
    first = basket_of(book(client, "acme", token, **acme_booking()))
    for _ in range(BUDGET + OVER):
        assert basket_of(book(client, "acme", token, **acme_booking())) == first

    assert tally(app) == {
        ("callup", "accepted"): 1,
        ("basket", "sent"): 1,
        ("basket", "resent"): BUDGET,
        ("suppressed", "resent"): 1,
    }
    [summary] = summaries(app)
    assert (summary.customer_id, summary.suppressed) == ("acme", OVER)


def test_accepted_call_ups_are_never_counted_nor_lost(
    app: Flask, client: FlaskClient, acme_callup: dict[str, str], clock: Clock
) -> None:
    flood(BUDGET + OVER, refused_callup(client, acme_callup), 403)
    flood(BUDGET + OVER, lambda _n: client.post("/oci/acme", data=acme_callup), 200)

    assert tally(app) == {
        ("callup", "rejected"): BUDGET,
        ("suppressed", "rejected"): 1,
        ("callup", "accepted"): BUDGET + OVER,
    }


def test_another_address_and_the_next_minute_each_have_a_budget_of_their_own(
    app: Flask, client: FlaskClient, acme_callup: dict[str, str], clock: Clock
) -> None:
    send = refused_callup(client, acme_callup)
    flood(BUDGET + OVER, send, 403)
    elsewhere = {"environ_base": {"REMOTE_ADDR": "10.0.0.9"}}
    flood(BUDGET, lambda _n: client.post("/oci/acme", data=acme_callup, **elsewhere), 200)
    flood(BUDGET, lambda _n: client.get("/oci/acme", **elsewhere), 401)
    clock.advance(timedelta(minutes=1))
    flood(BUDGET + 1, send, 403)

    kept = [e for e in entries(app) if e.kind == "callup" and e.outcome == "rejected"]
    assert [e.client_address for e in kept] == ["127.0.0.1"] * BUDGET + ["10.0.0.9"] * BUDGET + [
        "127.0.0.1"
    ] * BUDGET
    assert [(s.client_address, s.suppressed) for s in summaries(app)] == [
        ("127.0.0.1", OVER),
        ("127.0.0.1", 1),
    ]


# --- Across workers, and when the database fails ------------------------------------------------


def rejected_entry(customer_id: str = "acme") -> dict[str, Any]:
    return {
        "kind": "callup",
        "outcome": "rejected",
        "status": 403,
        "customer_id": customer_id,
        "method": "POST",
        "protocol": "oci",
        "reason": "The company login in the call-up is not correct.",
        "client_address": "192.0.2.7",
    }


def test_workers_recording_at_the_same_time_never_keep_more_than_the_budget(
    app: Flask, clock: Clock
) -> None:
    """Each thread is a worker of its own: its own connection, its own transaction."""
    workers, each = 6, 10
    start = threading.Barrier(workers)

    def worker() -> None:
        with app.app_context():
            start.wait()
            for _ in range(each):
                record_transfer(**rejected_entry())

    threads = [threading.Thread(target=worker) for _ in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert tally(app) == {("callup", "rejected"): BUDGET, ("suppressed", "rejected"): 1}
    assert summaries(app)[0].suppressed == workers * each - BUDGET


def test_a_budget_that_cannot_be_counted_still_answers_the_erp(
    app: Flask,
    client: FlaskClient,
    acme_callup: dict[str, str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    engine = app.extensions["ociflex.engine"]
    with engine.begin() as connection:
        connection.execute(text("ALTER TABLE transfer_budgets RENAME TO budgets_away"))
    try:
        refused = client.post("/oci/acme", data={**acme_callup, "pwd": WRONG_PASSWORD})
        accepted = client.post("/oci/acme", data=acme_callup)
    finally:
        with engine.begin() as connection:
            connection.execute(text("ALTER TABLE budgets_away RENAME TO transfer_budgets"))
    assert refused.status_code == 403
    assert accepted.status_code == 200
    failures = [r for r in caplog.records if "transfer log: could not record" in r.getMessage()]
    assert [r.levelno for r in failures] == [logging.ERROR]
    assert tally(app) == {("callup", "accepted"): 1}


# --- Pruning ------------------------------------------------------------------------------------


def budget_windows(app: Flask) -> list[datetime]:
    with session_for(app) as session:
        return list(session.scalars(select(TransferBudget.window_start).order_by("window_start")))


def test_the_daily_prune_deletes_the_budgets_whose_minute_is_over(app: Flask, clock: Clock) -> None:
    with app.app_context():
        for _ in range(BUDGET + 1):
            record_transfer(**rejected_entry())
        clock.advance(timedelta(minutes=1))
        record_transfer(**rejected_entry())
    first, current = budget_windows(app)
    assert current - first == timedelta(minutes=1)

    result = app.test_cli_runner().invoke(args=["ociflex", "transfers", "prune"])
    assert result.exit_code == 0, result.output
    assert budget_windows(app) == [current]
    # What the pruned budget counted stays in its summary, until the entries' retention.
    assert [s.suppressed for s in summaries(app)] == [1]
    with session_for(app) as session:
        assert prune(session, clock.now + timedelta(days=1)) == BUDGET + 2
