"""``flask --app app ociflex dev seed``: made-up requests written straight to the database, which
the inbox must treat exactly like registered ones (counts, pages, search, history), on SQLite and
on PostgreSQL."""

import re
import shutil
from collections import Counter
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from ociflex import create_app
from ociflex.db import session_for
from ociflex.devtools.seed import BRANCHES, seed_customers, seed_requests
from ociflex.history import move_count
from ociflex.models import STATUSES, RentalRequest, RequestEvent, format_reference
from ociflex.ops.inbox_query import PAGE_SIZE
from tests.support.cli import ROOT, customer_problems, flask_command, not_served_lines
from tests.support.html import Html
from tests.support.inbox import follow, inbox
from tests.support.inbox import request_row as registered_request

AMSTERDAM = ZoneInfo("Europe/Amsterdam")


def dev_seed(app: Flask, *args: str) -> str:
    result = app.test_cli_runner().invoke(args=["ociflex", "dev", "seed", *args])
    assert result.exit_code == 0, result.output
    return result.output


def expected_tabs(rows: list[RentalRequest]) -> dict[str, int]:
    """The inbox's status tabs (``""``: all) as counted from the rows themselves."""
    by_status = Counter(row.status for row in rows)
    return {"": len(rows), **{status: by_status[status] for status in STATUSES}}


def stored(app: Flask) -> list[RentalRequest]:
    with session_for(app) as session:
        return list(session.scalars(select(RentalRequest).order_by(RentalRequest.id)))


def test_seeded_requests_are_listed_and_counted_like_registered_ones(
    app: Flask, ops_client: FlaskClient
) -> None:
    output = dev_seed(app, "--requests", "300", "--customers", "3")
    assert output.startswith("added 300 requests (1..300)")
    rows = stored(app)
    assert len(rows) == 300
    by_status = Counter(row.status for row in rows)
    assert len(by_status) > 2, by_status

    page = inbox(ops_client)
    assert page.tab_counts == expected_tabs(rows)
    assert page.row_ids == list(range(300, 300 - PAGE_SIZE, -1))
    # Spread over the served customers by id first.
    assert len({row.customer_id for row in rows}) == 3

    status = by_status.most_common(1)[0][0]
    filtered = inbox(ops_client, {"status": status})
    expected = sorted((r.id for r in rows if r.status == status), reverse=True)[:PAGE_SIZE]
    assert filtered.row_ids == expected

    newest = rows[-1]
    assert inbox(ops_client, {"q": newest.reference}).row_ids == [newest.id]
    by_mail = inbox(ops_client, {"q": newest.requester_email})
    assert by_mail.row_ids == sorted(
        (r.id for r in rows if r.requester_email == newest.requester_email), reverse=True
    )


def test_each_seeded_request_has_its_history(app: Flask, ops_client: FlaskClient) -> None:
    dev_seed(app, "--requests", "200", "--customers", "2")
    with session_for(app) as session:
        events = list(session.scalars(select(RequestEvent).order_by(RequestEvent.id)))
    rows = stored(app)
    last_status = {event.request_id: event.to_status for event in events}
    assert last_status == {row.id: row.status for row in rows}
    assert {e.request_id for e in events if e.action == "registered"} == {r.id for r in rows}

    done = next(row for row in rows if row.status == "confirmed")
    page = follow(ops_client, f"/ops/requests/{done.id}")
    assert format_reference(done.id) in page.source
    assert done.requester_name in page.source


def test_seeding_adds_to_what_is_stored_and_the_next_request_follows(
    app: Flask, ops_client: FlaskClient
) -> None:
    with session_for(app) as session:
        session.add(registered_request(customer_id="demo", status="new"))
        session.flush()
        move_count(session, "demo", None, "new")
        session.commit()
    dev_seed(app, "--requests", "250", "--customers", "1")
    dev_seed(app, "--requests", "250", "--customers", "1", "--seed", "8")
    with session_for(app) as session:
        after = registered_request(customer_id="demo", status="new")
        session.add(after)
        session.flush()
        move_count(session, "demo", None, "new")
        session.commit()
        # The id sequence moved past the seeded rows (COPY on PostgreSQL sets explicit ids).
        assert after.id == 502

    rows = stored(app)
    assert [row.id for row in rows] == list(range(1, 503))
    assert len({row.punchout_id for row in rows}) == 502
    assert inbox(ops_client).tab_counts == expected_tabs(rows)


def test_seeding_is_refused_in_production(environ: dict[str, str]) -> None:
    app = create_app({**environ, "OCIFLEX_ENV": "production"})
    try:
        result = app.test_cli_runner().invoke(args=["ociflex", "dev", "seed", "--requests", "5"])
        assert result.exit_code != 0
        assert "production" in result.output
        assert stored(app) == []
    finally:
        app.extensions["ociflex.engine"].dispose()


def test_seeding_with_no_customer_served_warns_once_per_problem_and_says_why_it_stops(
    tmp_path: Path,
) -> None:
    """A command that uses the customers reads them once, and a customer it cannot use is a
    warning there (no server stops serving it); with none left the command fails, no traceback."""
    customers_dir = tmp_path / "customers"
    customers_dir.mkdir()
    shutil.copy(ROOT / "config" / "customers" / "demo.yaml", customers_dir)  # the demo alone
    environ = {
        "OCIFLEX_ENV": "development",
        "OCIFLEX_CUSTOMERS_DIR": str(customers_dir),
        "OCIFLEX_INSTANCE_PATH": str(tmp_path / "instance"),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'ociflex.sqlite3'}",
    }

    result = flask_command("ociflex", "dev", "seed", "--requests", "3", environ=environ)

    assert result.returncode == 1
    for line in not_served_lines("demo", customer_problems(environ, "demo")):
        assert result.stderr.count(f"WARNING {line}") == 1, result.stderr
    assert "ERROR" not in result.stderr
    assert "Traceback" not in result.stderr
    assert result.stderr.endswith("Error: no customer to seed requests for: none is served\n")


def test_seeded_scheduled_and_confirmed_requests_have_plans_in_dutch_opening_hours(
    app: Flask, ops_client: FlaskClient
) -> None:
    dev_seed(app, "--requests", "400", "--customers", "2")
    rows = stored(app)
    planned = [row for row in rows if row.status in ("scheduled", "confirmed")]
    assert len(planned) > 100
    for row in planned:
        assert row.pickup_at is not None
        assert row.return_at is not None
        pickup, back = row.pickup_at.astimezone(AMSTERDAM), row.return_at.astimezone(AMSTERDAM)
        assert (pickup.date(), back.date()) == (row.start_date, row.end_date), row.id
        assert time(8) <= pickup.time() < time(12), pickup
        assert time(14) <= back.time() < time(18), back
        assert pickup.minute % 15 == 0
        assert row.pickup_location in BRANCHES
        assert row.planned_vehicle == row.vehicle_name
    assert len({row.licence_plate for row in planned}) == len(planned)
    assert all(re.fullmatch(r"[A-Z]{2}-\d{3}-[A-Z]", row.licence_plate or "") for row in planned)
    unplanned = [row for row in rows if row not in planned]
    assert all(
        row.licence_plate is row.pickup_at is row.pickup_location is None for row in unplanned
    )

    # The planning shows them: the week of the newest pickup, at its branch and Dutch day.
    newest = max(planned, key=lambda row: row.pickup_at or row.created_at)
    assert newest.pickup_at is not None
    pickup = newest.pickup_at.astimezone(AMSTERDAM)
    week = "{}-W{:02d}".format(*pickup.isocalendar()[:2])
    page = Html(ops_client.get("/ops/planning", query_string={"week": week}))
    row = page.root.xpath(f'//tr[@data-request="{newest.id}"][@data-kind="pickup"]')[0]
    assert row.xpath("ancestor::div/@data-day")[0] == pickup.date().isoformat()
    assert row.xpath("./td")[0].text_content() == f"{pickup:%H:%M}"
    assert not page.root.xpath('//tr[@class="in-conflict"]')


def test_seeded_requests_can_come_in_up_to_a_chosen_moment(app: Flask) -> None:
    newest = datetime(2028, 6, 1, 12, 0, tzinfo=UTC)
    chosen = seed_customers({}, 2)
    report = seed_requests(app.extensions["ociflex.engine"], 300, chosen, newest=newest)
    rows = stored(app)
    assert report.requests == len(rows) == 300
    assert newest - timedelta(minutes=1) <= max(row.created_at for row in rows) < newest
    assert min(row.created_at for row in rows) > newest - timedelta(days=1)
    assert all(row.start_date > newest.date() for row in rows)
    assert all(row.start_date <= newest.date() + timedelta(days=60) for row in rows)
