"""A licence plate planned twice for overlapping periods is found, across customers and however
the plate's hyphens were typed, by an index; and two transactions checking one plate at the
same moment are checked one after the other."""

import threading
from datetime import UTC, datetime, timedelta

import pytest
from flask import Flask
from sqlalchemy import text

from ociflex.db import begin_write, session_for
from ociflex.models import RentalRequest
from ociflex.ops.conflicts import (
    Plan,
    ShownConflict,
    conflicts_among,
    conflicts_with,
    lock_plate,
    shown_conflicts,
)
from tests.support.inbox import add_fillers, seed
from tests.support.plans import captured_queries, explain

MONDAY = datetime(2026, 12, 7, 8, 0, tzinfo=UTC)


def planned(plate: str, start: datetime, hours: int, **values: object) -> dict[str, object]:
    return {
        "status": "scheduled",
        "licence_plate": plate,
        "pickup_at": start,
        "return_at": start + timedelta(hours=hours),
        **values,
    }


def plan_of(request_id: int, plate: str, start: datetime, hours: int) -> Plan:
    return Plan(request_id, "acme", plate, start, start + timedelta(hours=hours))


def references(plans: list[Plan]) -> list[str]:
    return [plan.reference for plan in plans]


def test_a_plate_planned_for_an_overlapping_period_conflicts_across_customers(app: Flask) -> None:
    first, second = seed(
        app,
        planned("AB-123-C", MONDAY, 48, customer_id="acme"),
        planned("AB123C", MONDAY + timedelta(days=1), 24, customer_id="demo", status="confirmed"),
    )
    with session_for(app) as session:
        found = conflicts_with(session, plan_of(0, "ab-12-3c".upper(), MONDAY, 30))
    assert [plan.request_id for plan in found] == [first, second]


@pytest.mark.parametrize(
    ("start", "hours", "values"),
    [
        pytest.param(MONDAY + timedelta(hours=34), 24, {}, id="picked up when the other returns"),
        pytest.param(MONDAY - timedelta(hours=14), 24, {}, id="returned when the other starts"),
        pytest.param(MONDAY, 10, {"licence_plate": "XY-999-Z"}, id="another plate"),
        pytest.param(MONDAY, 10, {"status": "cancelled"}, id="a cancelled plan"),
        pytest.param(MONDAY, 10, {"status": "in_progress"}, id="a request not planned yet"),
    ],
)
def test_what_does_not_take_the_vehicle_is_no_conflict(
    app: Flask, start: datetime, hours: int, values: dict[str, object]
) -> None:
    seed(app, planned("AB-123-C", start, hours, **values))
    with session_for(app) as session:
        assert (
            conflicts_with(session, plan_of(0, "AB-123-C", MONDAY + timedelta(hours=10), 24)) == []
        )


def test_a_plan_never_conflicts_with_itself(app: Flask) -> None:
    [only] = seed(app, planned("AB-123-C", MONDAY, 24))
    with session_for(app) as session:
        assert conflicts_with(session, plan_of(only, "AB-123-C", MONDAY, 24)) == []


def test_a_page_marks_each_shown_request_in_conflict_with_the_others(app: Flask) -> None:
    first, second, apart, unplanned = seed(
        app,
        planned("AB-123-C", MONDAY, 48),
        planned("AB-123-C", MONDAY + timedelta(hours=24), 48),
        planned("AB-123-C", MONDAY + timedelta(days=10), 24),
        {"status": "new"},
    )
    with session_for(app) as session:
        marked = conflicts_among(session, [first, apart, unplanned])
    assert {request_id: [p.request_id for p in plans] for request_id, plans in marked.items()} == {
        first: [second]
    }


def test_a_conflict_is_shown_by_reference_link_customer_name_and_period(app: Flask) -> None:
    served, gone = seed(
        app,
        planned("AB-123-C", MONDAY, 24, customer_id="acme"),
        planned("AB-123-C", MONDAY, 24, customer_id="retired"),
    )
    with session_for(app) as session:
        found = conflicts_with(session, plan_of(0, "AB-123-C", MONDAY, 1))
    with app.test_request_context():
        shown = shown_conflicts(found)
    end = MONDAY + timedelta(hours=24)
    assert shown == [
        ShownConflict("FF-000001", f"/ops/requests/{served}", "ACME Procurement Ltd", MONDAY, end),
        ShownConflict("FF-000002", f"/ops/requests/{gone}", "retired", MONDAY, end),
    ]


def test_the_checks_are_served_by_the_plate_index(app: Flask) -> None:
    first, _second = seed(
        app, planned("AB-123-C", MONDAY, 48), planned("AB123C", MONDAY + timedelta(hours=8), 8)
    )
    # A table of some size, with statistics: on a handful of rows PostgreSQL may rather walk
    # the primary key, which gives the id order without a sort.
    with session_for(app) as session:
        add_fillers(session, 5000)
        session.commit()
        if session.get_bind().dialect.name == "postgresql":
            session.execute(text("ANALYZE rental_requests"))
            session.commit()
    with captured_queries(app, "rental_requests") as queries, session_for(app) as session:
        conflicts_with(session, plan_of(0, "AB-123-C", MONDAY, 30))
        conflicts_among(session, [first])
    by_plate = [(sql, params) for sql, params in queries if "replace(" in sql]
    assert len(by_plate) == 2
    for statement, parameters in by_plate:
        plan = "\n".join(explain(app, statement, parameters))
        assert "ix_rental_requests_plate_key" in plan, (statement, plan)


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_a_second_transaction_checking_the_plate_waits_for_the_first_and_sees_its_plan(
    app: Flask,
) -> None:
    [request_id] = seed(app, {"status": "in_progress"})
    wanted = plan_of(0, "AB-123-C", MONDAY, 24)
    seen_by_second: list[list[Plan]] = []
    first_holds_the_lock = threading.Event()

    def second() -> None:
        first_holds_the_lock.wait()
        with session_for(app) as session:
            begin_write(session)
            lock_plate(session, "AB123C")
            seen_by_second.append(conflicts_with(session, wanted))
            session.rollback()

    with session_for(app) as session:
        begin_write(session)
        lock_plate(session, "AB-123-C")
        assert conflicts_with(session, wanted) == []
        waiting = threading.Thread(target=second)
        waiting.start()
        first_holds_the_lock.set()
        waiting.join(timeout=1)
        assert waiting.is_alive(), "the second check did not wait for the first transaction"
        rental = session.get(RentalRequest, request_id)
        assert rental is not None
        rental.status, rental.licence_plate = "scheduled", "AB-123-C"
        rental.pickup_at, rental.return_at = MONDAY, MONDAY + timedelta(hours=24)
        session.commit()
    waiting.join(timeout=10)

    assert references(seen_by_second[0]) == [rental.reference]
