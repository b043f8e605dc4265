"""A branch's planning as an iCalendar feed: read back as a calendar program reads it, behind
the operator login or the branch's secret token, which an admin makes and rotates (the old
one stops working at once; only its hash is stored). On SQLite and PostgreSQL."""

import hashlib
import re
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import event, select, text
from werkzeug.test import TestResponse

from ociflex.db import begin_write, session_for
from ociflex.models import Operator, PlanningFeed
from ociflex.ops.operators import add_operator, set_admin
from ociflex.ops.planning_feeds import rentals
from tests.conftest import csrf_token_in, log_in
from tests.support.html import Html
from tests.support.ical import Component, parse, utc_time
from tests.support.inbox import add_fillers, seed
from tests.support.plans import explain

BRANCH = "Utrecht Papendorp"
SLUG = "utrecht-papendorp"
#: A moment of a whole hour, a few days from now: inside the feed's window.
SOON = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) + timedelta(days=3)


@pytest.fixture
def admin_client(app: Flask, operator: Operator, ops_client: FlaskClient) -> FlaskClient:
    """``ops_client``, logged in as olga, whom the command line made an admin."""
    with session_for(app) as session:
        set_admin(session, "olga", True)
    return ops_client


def planned(plate: str | None, pickup: datetime, hours: int, **values: Any) -> dict[str, Any]:
    return {
        "status": "confirmed",
        "licence_plate": plate,
        "pickup_at": pickup,
        "return_at": pickup + timedelta(hours=hours),
        "pickup_location": BRANCH,
        "planned_vehicle": "VW Golf Variant",
        **values,
    }


def _post(client: FlaskClient, data: dict[str, str]) -> TestResponse:
    token = csrf_token_in(client.get("/ops/planning/feeds").get_data(as_text=True))
    return client.post("/ops/planning/feeds", data={"csrf_token": token, **data})


def make_feed(client: FlaskClient, branch: str = BRANCH) -> str:
    """The feed address an admin is shown after making (or rotating) the branch's token."""
    response = _post(client, {"branch": branch})
    assert response.status_code == 200, response.get_data(as_text=True)
    return Html(response).text("feed-url").strip()


def local_path(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}"


def events(response: TestResponse) -> list[Component]:
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.mimetype == "text/calendar"
    calendar = parse(response.get_data(as_text=True))
    return [child for child in calendar.children if child.name == "VEVENT"]


def test_the_feed_holds_one_event_per_rental_of_the_branch_from_pickup_to_return(
    app: Flask, admin_client: FlaskClient, client: FlaskClient
) -> None:
    golf, van, no_plate, _elsewhere, _cancelled, _too_old, _too_far = seed(
        app,
        planned("AB-123-C", SOON, 50, requester_name="Jan Jansen; de 2e, \\ junior"),
        planned("VX-999-Z", SOON + timedelta(days=1), 4, status="scheduled", planned_vehicle=None),
        planned(None, SOON + timedelta(days=2), 4),
        planned("GG-111-G", SOON, 5, pickup_location="Amsterdam Sloterdijk"),
        planned("CC-222-C", SOON, 5, status="cancelled"),
        planned("OO-333-O", SOON - timedelta(weeks=5), 5),
        planned("FF-444-F", SOON + timedelta(weeks=13), 5),
    )
    url = make_feed(admin_client)
    assert urlsplit(url).path == f"/ops/planning/feed/{SLUG}.ics"

    found = events(client.get(local_path(url)))
    assert [event.text("UID") for event in found] == [
        f"FF-{golf:06d}.planning@flexfleet.euromobil",
        f"FF-{van:06d}.planning@flexfleet.euromobil",
        f"FF-{no_plate:06d}.planning@flexfleet.euromobil",
    ]
    first = found[0]
    assert utc_time(first.properties["DTSTART"]) == SOON
    assert utc_time(first.properties["DTEND"]) == SOON + timedelta(hours=50)
    assert first.text("SUMMARY") == f"FF-{golf:06d} · AB-123-C · VW Golf Variant"
    assert first.text("LOCATION") == BRANCH
    description = first.text("DESCRIPTION")
    assert "Jan Jansen; de 2e, \\ junior" in description
    assert "Demo Inkoop B.V." in description
    assert found[1].text("SUMMARY") == f"FF-{van:06d} · VX-999-Z · Compacte auto"
    assert found[2].text("SUMMARY") == f"FF-{no_plate:06d} · VW Golf Variant"
    # The same rental keeps its UID: a calendar program updates the event, never doubles it.
    again = events(client.get(local_path(url)))
    assert [e.text("UID") for e in again] == [e.text("UID") for e in found]


def test_a_rotated_token_stops_working_at_once_and_the_new_one_works(
    app: Flask, admin_client: FlaskClient, client: FlaskClient
) -> None:
    seed(app, planned("AB-123-C", SOON, 5))
    old = make_feed(admin_client)
    assert events(client.get(local_path(old)))
    rows = Html(admin_client.get("/ops/planning/feeds"))
    assert "feed-url" not in rows.elements  # shown once, after making it
    assert rows.root.xpath(f'//button[@data-rotate="{SLUG}"]')

    new = make_feed(admin_client)
    assert new != old
    assert client.get(local_path(old)).status_code == 404
    assert len(events(client.get(local_path(new)))) == 1


def test_only_the_tokens_hash_is_stored(app: Flask, admin_client: FlaskClient) -> None:
    token = parse_qs(urlsplit(make_feed(admin_client)).query)["token"][0]
    with session_for(app) as session:
        stored = session.scalars(select(PlanningFeed)).one()
        operator = session.get(Operator, stored.rotated_by)
    assert stored.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert token not in (stored.slug, stored.branch, stored.token_hash)
    assert (stored.branch, stored.generation) == (BRANCH, 1)
    assert operator is not None
    assert operator.username == "olga"


@pytest.mark.parametrize("token", ["", "wrong", "x" * 43])
def test_a_wrong_token_is_answered_as_no_feed(
    admin_client: FlaskClient, client: FlaskClient, token: str
) -> None:
    make_feed(admin_client)
    response = client.get(f"/ops/planning/feed/{SLUG}.ics", query_string={"token": token})
    assert response.status_code == 404
    assert "BEGIN:VCALENDAR" not in response.get_data(as_text=True)


def test_a_token_of_another_branch_opens_no_feed(
    admin_client: FlaskClient, client: FlaskClient
) -> None:
    other = make_feed(admin_client, "Amsterdam Sloterdijk")
    make_feed(admin_client)
    token = parse_qs(urlsplit(other).query)["token"][0]
    response = client.get(f"/ops/planning/feed/{SLUG}.ics", query_string={"token": token})
    assert response.status_code == 404


def test_without_a_token_the_feed_needs_the_login(
    app: Flask, admin_client: FlaskClient, client: FlaskClient
) -> None:
    seed(app, planned("AB-123-C", SOON, 5))
    make_feed(admin_client)
    response = client.get(f"/ops/planning/feed/{SLUG}.ics")
    assert response.status_code == 302
    assert response.location.startswith("/ops/login")
    assert len(events(admin_client.get(f"/ops/planning/feed/{SLUG}.ics"))) == 1


def test_a_branch_without_a_feed_is_no_feed_for_an_operator(ops_client: FlaskClient) -> None:
    assert ops_client.get(f"/ops/planning/feed/{SLUG}.ics").status_code == 404


def test_only_admins_manage_the_feeds(app: Flask, operator: Operator) -> None:
    with session_for(app) as session:
        add_operator(session, "piet", "piet-staple-battery-7", "Piet Jansen")
    piet = app.test_client()
    assert log_in(piet, "piet", "piet-staple-battery-7").status_code == 303
    refused = piet.get("/ops/planning/feeds")
    assert refused.status_code == 403
    assert "agendafeeds" in " ".join(Html(refused).alerts)
    token = csrf_token_in(piet.get("/ops/").get_data(as_text=True))
    response = piet.post("/ops/planning/feeds", data={"csrf_token": token, "branch": BRANCH})
    assert response.status_code == 403
    with session_for(app) as session:
        assert session.scalars(select(PlanningFeed)).all() == []


def test_a_feed_is_made_only_with_the_csrf_token(app: Flask, admin_client: FlaskClient) -> None:
    response = admin_client.post("/ops/planning/feeds", data={"branch": BRANCH})
    assert response.status_code == 400
    with session_for(app) as session:
        assert session.scalars(select(PlanningFeed)).all() == []


@pytest.mark.parametrize("branch", ["", "   ", "---", "x" * 256, "Utrecht\nPapendorp"])
def test_a_branch_name_that_is_none_is_refused_with_a_message(
    app: Flask, admin_client: FlaskClient, branch: str
) -> None:
    response = _post(admin_client, {"branch": branch})
    assert response.status_code == 422
    assert "feed-problem" in Html(response).elements
    with session_for(app) as session:
        assert session.scalars(select(PlanningFeed)).all() == []


def test_the_feeds_page_offers_the_branches_planned_soon(
    app: Flask, admin_client: FlaskClient
) -> None:
    seed(app, planned("AB-123-C", SOON, 5), planned("GG-111-G", SOON, 5, pickup_location="Breda"))
    make_feed(admin_client, "Breda")
    planning = Html(admin_client.get("/ops/planning"))
    assert planning.href("feeds-link") == "/ops/planning/feeds"
    page = Html(admin_client.get("/ops/planning/feeds"))
    assert page.root.xpath('//datalist[@id="branches"]/option/@value') == [BRANCH]
    assert page.root.xpath('//table[@id="feeds"]//tr/@data-slug') == ["breda"]


def test_the_feed_reads_its_rentals_by_an_index(app: Flask, admin_client: FlaskClient) -> None:
    """Among rentals of the branch long ago and of another branch in the window, the feed
    reads its own by the (pickup location, pickup) index."""
    seed(app, planned("AB-123-C", SOON, 5))
    with session_for(app) as session:
        begin_write(session)
        add_fillers(session, 4000)
        session.execute(
            text(
                "UPDATE rental_requests SET licence_plate = 'FL-' || id, return_at = :back, "
                "pickup_at = CASE WHEN id % 2 = 0 THEN :old ELSE :soon END, "
                "pickup_location = CASE WHEN id % 2 = 0 THEN :branch ELSE 'Breda' END "
                "WHERE punchout_id LIKE 'filler-%'"
            ),
            {
                "old": datetime(2025, 1, 6, 8, tzinfo=UTC),
                "soon": SOON,
                "back": SOON + timedelta(hours=5),
                "branch": BRANCH,
            },
        )
        session.commit()
        if session.get_bind().dialect.name == "postgresql":
            session.execute(text("ANALYZE rental_requests"))
            session.commit()
    engine = app.extensions["ociflex.engine"]
    captured: list[tuple[str, Any]] = []

    def listener(_c: Any, _cur: Any, statement: str, parameters: Any, *_: Any) -> None:
        if re.search(r"\bFROM rental_requests\b", statement):
            captured.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", listener)
    try:
        with app.test_request_context(), session_for(app) as session:
            assert len(list(rentals(session, BRANCH, datetime.now(UTC)))) == 1
    finally:
        event.remove(engine, "before_cursor_execute", listener)
    ((statement, parameters),) = captured
    plan = "\n".join(explain(app, statement, parameters))
    assert "ix_rental_requests_location_pickup" in plan, plan
