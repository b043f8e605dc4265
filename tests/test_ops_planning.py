"""The planning: a week per branch and Dutch day, with pickups and returns at their Dutch time
(also in the weeks the clocks change), requests in conflict marked, what is still to plan
apart; the day view to print; every query served by an index. On SQLite and PostgreSQL."""

from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import text

from ociflex.db import begin_write, session_for
from ociflex.ops.planning import Movement, Week, branch_slug, group_by_branch
from tests.support.html import Html
from tests.support.inbox import add_fillers, seed
from tests.support.plans import captured_queries, explain

AMSTERDAM = ZoneInfo("Europe/Amsterdam")


def dutch(*parts: int) -> datetime:
    """A moment on the Dutch clock (the first of an hour that occurs twice)."""
    return datetime(*parts, tzinfo=AMSTERDAM)  # type: ignore[misc]


def planned(plate: str | None, pickup: datetime, hours: int, **values: Any) -> dict[str, Any]:
    return {
        "status": "scheduled",
        "licence_plate": plate,
        "pickup_at": pickup,
        "return_at": pickup + timedelta(hours=hours),
        "pickup_location": "Utrecht Papendorp",
        "planned_vehicle": "VW Golf Variant",
        **values,
    }


def week_page(client: FlaskClient, week: str | None = None) -> Html:
    response = client.get("/ops/planning", query_string={"week": week} if week else {})
    assert response.status_code == 200, response.get_data(as_text=True)
    return Html(response)


def movements(page: Html) -> list[tuple[str, str, str, str, str]]:
    """(branch, Dutch day, time, pickup or return, reference) of every row, in page order."""
    found = []
    for row in page.root.xpath('//div[@class="planning-day"]//tbody/tr'):
        branch = row.xpath("ancestor::section/@data-branch")[0]
        day = row.xpath('ancestor::div[@class="planning-day"]/@data-day')[0]
        cells = row.xpath("./td")
        reference = cells[2].text_content().strip()
        found.append((branch, day, cells[0].text_content(), row.get("data-kind"), reference))
    return found


# --- Weeks, days and branches, without a database -----------------------------------------------


@pytest.mark.parametrize(
    ("text", "monday"),
    [
        ("2026-W13", date(2026, 3, 23)),
        ("2026-W43", date(2026, 10, 19)),
        ("2026-W53", date(2026, 12, 28)),
        (" 2027-W01 ", date(2027, 1, 4)),
    ],
)
def test_a_week_is_read_as_iso_writes_it(text: str, monday: date) -> None:
    week = Week.parse(text)
    assert week is not None
    assert week.monday == monday
    assert week.label == text.strip()


@pytest.mark.parametrize("text", ["2027-W53", "2026-W00", "2026-13", "W13", "2026-W1", ""])
def test_what_names_no_week_is_refused(text: str) -> None:
    assert Week.parse(text) is None


def test_the_weeks_before_and_after_cross_the_year() -> None:
    week = Week.of(date(2026, 12, 31))
    assert (week.label, week.previous.label, week.next.label) == (
        "2026-W53",
        "2026-W52",
        "2027-W01",
    )
    assert week.days[0].weekday() == 0
    assert week.days[-1] == date(2027, 1, 3)


@pytest.mark.parametrize(
    ("name", "slug"),
    [
        ("Utrecht Papendorp", "utrecht-papendorp"),
        ("Den Bosch (Rosmalen)", "den-bosch-rosmalen"),
        ("Rotterdam Zuid-Plein ", "rotterdam-zuid-plein"),
        ("Düsseldorf", "dusseldorf"),
        ("utrecht-papendorp", "utrecht-papendorp"),
    ],
)
def test_a_branch_has_an_address_form(name: str, slug: str) -> None:
    assert branch_slug(name) == slug


def test_branches_are_sorted_by_name_with_the_unnamed_last() -> None:
    week = Week.parse("2026-W50")
    assert week is not None

    def moved(branch: str, hour: int) -> Movement:
        at = dutch(2026, 12, 8, hour)
        return Movement("pickup", at, hour, "demo", "P", "Car", "AB-1", branch)

    branches = group_by_branch(
        [moved("", 9), moved("utrecht", 10), moved("Amsterdam", 8)], week.days
    )
    assert [branch.name for branch in branches] == ["Amsterdam", "utrecht", ""]
    assert list(branches[0].days) == week.days


# --- The week -------------------------------------------------------------------------------------


def test_the_week_shows_each_branchs_pickups_and_returns_on_their_days(
    app: Flask, ops_client: FlaskClient
) -> None:
    golf, no_plate, van, other_week, cancelled, to_plan, later = seed(
        app,
        planned("AB-123-C", dutch(2026, 12, 8, 9, 30), 50, requester_name="Jan Jansen"),
        planned(None, dutch(2026, 12, 13, 17, 0), 1, pickup_location="Zwolle"),
        planned(
            "VX-999-Z",
            dutch(2026, 12, 10, 8),
            4,
            status="confirmed",
            pickup_location="Amsterdam Sloterdijk",
            planned_vehicle=None,
            vehicle_name="Bestelbus",
        ),
        planned("GG-111-G", dutch(2026, 12, 15, 9), 5),
        planned("CC-222-C", dutch(2026, 12, 9, 9), 5, status="cancelled"),
        {"status": "new", "start_date": date(2026, 12, 11), "end_date": date(2026, 12, 12)},
        {"status": "in_progress", "start_date": date(2026, 12, 14), "end_date": date(2026, 12, 15)},
    )
    page = week_page(ops_client, "2026-W50")
    assert movements(page) == [
        ("amsterdam-sloterdijk", "2026-12-10", "08:00", "pickup", f"FF-{van:06d}"),
        ("amsterdam-sloterdijk", "2026-12-10", "12:00", "return", f"FF-{van:06d}"),
        ("utrecht-papendorp", "2026-12-08", "09:30", "pickup", f"FF-{golf:06d}"),
        ("utrecht-papendorp", "2026-12-10", "11:30", "return", f"FF-{golf:06d}"),
        ("zwolle", "2026-12-13", "17:00", "pickup", f"FF-{no_plate:06d}"),
        ("zwolle", "2026-12-13", "18:00", "return", f"FF-{no_plate:06d}"),
    ]
    row = page.root.xpath(f'//tr[@data-request="{golf}"]')[0]
    cells = [cell.text_content().strip() for cell in row.xpath("./td")]
    assert cells[3:7] == ["Jan Jansen", "Demo Inkoop B.V.", "VW Golf Variant", "AB-123-C"]
    assert row.xpath(".//a/@href")[0] == f"/ops/requests/{golf}"
    van_row = page.root.xpath(f'//tr[@data-request="{van}"]')[0]
    assert van_row.xpath("./td")[5].text_content() == "Bestelbus"
    plate_cell = page.root.xpath(f'//tr[@data-request="{no_plate}"]/td')[6]
    assert plate_cell.text_content() == ""

    to_plan_ids = [int(i) for i in page.root.xpath('//table[@id="to-plan"]//tr/@data-request')]
    assert to_plan_ids == [to_plan]
    assert str(other_week) not in page.root.xpath("//tr/@data-request")
    assert str(cancelled) not in page.root.xpath("//tr/@data-request")
    assert later not in to_plan_ids
    assert page.href("previous-week") == "/ops/planning?week=2026-W49"
    assert page.href("next-week") == "/ops/planning?week=2026-W51"


def test_without_a_week_the_page_shows_this_dutch_week(ops_client: FlaskClient) -> None:
    page = week_page(ops_client)
    today = datetime.now(UTC).astimezone(AMSTERDAM).date()
    assert page.text("week") == Week.of(today).label
    assert "nothing-planned" in page.elements
    assert "feeds-link" not in page.elements  # for admins only
    current = page.root.xpath('//nav[@class="ops-nav"]/a[@aria-current="page"]/@href')
    assert current == ["/ops/planning"]


@pytest.mark.parametrize("week", ["2026-W54", "next week", "2026-13"])
def test_a_week_that_is_none_gets_a_clear_400(ops_client: FlaskClient, week: str) -> None:
    response = ops_client.get("/ops/planning", query_string={"week": week})
    assert response.status_code == 400
    assert "2026-W13" in response.get_data(as_text=True)


def test_the_planning_needs_a_login(client: FlaskClient) -> None:
    response = client.get("/ops/planning?week=2026-W50")
    assert response.status_code == 302
    assert response.location.startswith("/ops/login")


# --- The weeks the clocks change -----------------------------------------------------------------


def test_the_week_the_clocks_go_forward_keeps_every_pickup_on_its_dutch_day(
    app: Flask, ops_client: FlaskClient
) -> None:
    """2026-W13: Sunday 29 March 2026 at 02:00 the clocks go to 03:00 (UTC+1 to UTC+2)."""
    first, sunday, late, next_week = seed(
        app,
        planned("AA-001-A", dutch(2026, 3, 23, 0, 30), 2),  # 22 March 23:30 UTC
        planned("AA-002-A", dutch(2026, 3, 29, 9, 0), 1),  # 07:00 UTC after the change
        planned("AA-003-A", dutch(2026, 3, 29, 23, 30), 1),  # 21:30 UTC
        planned("AA-004-A", dutch(2026, 3, 30, 0, 30), 2),  # 29 March 22:30 UTC: next week
    )
    page = week_page(ops_client, "2026-W13")
    pickups = [(day, at, ref) for _, day, at, kind, ref in movements(page) if kind == "pickup"]
    assert pickups == [
        ("2026-03-23", "00:30", f"FF-{first:06d}"),
        ("2026-03-29", "09:00", f"FF-{sunday:06d}"),
        ("2026-03-29", "23:30", f"FF-{late:06d}"),
    ]
    following = movements(week_page(ops_client, "2026-W14"))
    assert following[0][1:4] == ("2026-03-30", "00:30", "pickup")
    assert following[0][4] == f"FF-{next_week:06d}"


def test_the_week_the_clocks_go_back_keeps_every_pickup_on_its_dutch_day(
    app: Flask, ops_client: FlaskClient
) -> None:
    """2026-W43: Sunday 25 October 2026 at 03:00 the clocks go back to 02:00 (UTC+2 to
    UTC+1)."""
    monday, early, sunday, late = seed(
        app,
        planned("BB-001-B", dutch(2026, 10, 19, 0, 30), 2),  # 18 October 22:30 UTC
        planned("BB-002-B", datetime(2026, 10, 25, 1, 30, tzinfo=UTC), 1),  # 02:30 the 2nd
        planned("BB-003-B", dutch(2026, 10, 25, 9, 0), 1),  # 08:00 UTC after the change
        planned("BB-004-B", dutch(2026, 10, 25, 23, 30), 1),  # 22:30 UTC
    )
    page = week_page(ops_client, "2026-W43")
    pickups = [(day, at, ref) for _, day, at, kind, ref in movements(page) if kind == "pickup"]
    assert pickups == [
        ("2026-10-19", "00:30", f"FF-{monday:06d}"),
        ("2026-10-25", "02:30", f"FF-{early:06d}"),
        ("2026-10-25", "09:00", f"FF-{sunday:06d}"),
        ("2026-10-25", "23:30", f"FF-{late:06d}"),
    ]
    assert [m for m in movements(week_page(ops_client, "2026-W44")) if m[3] == "pickup"] == []


# --- Conflicts ------------------------------------------------------------------------------------


def test_requests_in_conflict_are_marked_with_the_other_reference(
    app: Flask, ops_client: FlaskClient
) -> None:
    first, second, apart = seed(
        app,
        planned("AB-123-C", dutch(2026, 12, 8, 9), 48, customer_id="acme"),
        planned("AB123C", dutch(2026, 12, 9, 9), 24, status="confirmed"),
        planned("XY-999-Z", dutch(2026, 12, 9, 9), 24),
    )
    page = week_page(ops_client, "2026-W50")
    assert "conflicts" in page.elements
    marks = {
        int(mark.get("data-conflict")): mark.xpath(".//a/text()")
        for mark in page.root.xpath('//span[@class="conflict"]')
    }
    assert marks == {first: [f"FF-{second:06d}"], second: [f"FF-{first:06d}"]}
    marked = {int(row.get("data-request")) for row in page.root.xpath('//tr[@class="in-conflict"]')}
    assert marked == {first, second}
    assert apart not in marked


# --- The day to print -----------------------------------------------------------------------------


def test_the_day_view_lists_one_branchs_day_to_print(app: Flask, ops_client: FlaskClient) -> None:
    utrecht, amsterdam, _tomorrow = seed(
        app,
        planned("AB-123-C", dutch(2026, 3, 29, 9), 30),
        planned("VX-999-Z", dutch(2026, 3, 29, 10), 4, pickup_location="Amsterdam Sloterdijk"),
        planned("GG-111-G", dutch(2026, 3, 30, 9), 5),
    )
    response = ops_client.get("/ops/planning/day?day=2026-03-29&branch=utrecht-papendorp")
    assert response.status_code == 200
    page = Html(response)
    rows = page.root.xpath("//section[@data-branch]//tbody/tr")
    assert [(r.get("data-request"), r.get("data-kind")) for r in rows] == [(str(utrecht), "pickup")]

    every = Html(ops_client.get("/ops/planning/day?day=2026-03-29"))
    sections = every.root.xpath("//section/@data-branch")
    assert sections == ["amsterdam-sloterdijk", "utrecht-papendorp"]
    assert str(amsterdam) in every.root.xpath("//tr/@data-request")
    # The week links each day to its page.
    week = week_page(ops_client, "2026-W13")
    assert "/ops/planning/day?day=2026-03-29&branch=utrecht-papendorp" in week.root.xpath(
        "//h3/a/@href"
    )


def test_the_print_stylesheet_hides_navigation_and_buttons_and_breaks_per_branch(
    ops_client: FlaskClient,
) -> None:
    css = ops_client.get("/static/style.css").get_data(as_text=True)
    printed = css[css.index("@media print") :]
    for rule in (".ops-nav", "button", "break-before: page", "#000", "#fff"):
        assert rule in printed, rule
    page = Html(ops_client.get("/ops/planning/day?day=2026-03-29"))
    assert page.root.xpath('//nav[@class="ops-nav"]')  # on screen; hidden when printed


@pytest.mark.parametrize("day", ["2026-02-30", "29-03-2026", "tomorrow"])
def test_a_day_that_is_none_gets_a_clear_400(ops_client: FlaskClient, day: str) -> None:
    response = ops_client.get("/ops/planning/day", query_string={"day": day})
    assert response.status_code == 400
    assert "2026-03-29" in response.get_data(as_text=True)


def test_a_day_without_movements_at_the_branch_says_so(ops_client: FlaskClient) -> None:
    page = Html(ops_client.get("/ops/planning/day?day=2026-03-29&branch=Utrecht"))
    assert "nothing-planned" in page.elements


# --- Every query is served by an index ------------------------------------------------------------


#: Planned requests out of the week, which a scan would read: the planner must not.
FILLERS = 20_000


def _index_seed(app: Flask) -> None:
    """40 rentals and 10 requests to plan in 2026-W50, then :data:`FILLERS` planned rentals
    before and after it (on other plates): a query that reads from an open range of pickups
    or returns, or every planned request, passes by thousands of them."""
    rows = [
        planned(f"AB-{n:03d}-C", dutch(2026, 12, 7 + n % 7, 8 + n % 9), 30 + n) for n in range(40)
    ]
    rows += [
        {"status": "new", "start_date": date(2026, 12, 7 + n % 7), "end_date": date(2026, 12, 14)}
        for n in range(10)
    ]
    seed(app, *rows)
    with session_for(app) as session:
        begin_write(session)
        add_fillers(session, FILLERS)
        for parity, month in ((0, "07"), (1, "03")):
            year = "2026" if month == "07" else "2027"
            session.execute(
                text(
                    "UPDATE rental_requests SET licence_plate = 'FL-' || id, "
                    "pickup_location = 'Utrecht Papendorp', "
                    f"pickup_at = '{year}-{month}-01 08:00:00', "
                    f"return_at = '{year}-{month}-02 08:00:00' "
                    "WHERE punchout_id LIKE 'filler-%' AND id % 2 = :parity"
                ),
                {"parity": parity},
            )
        session.commit()
        if session.get_bind().dialect.name == "postgresql":
            session.execute(text("ANALYZE rental_requests"))
            session.commit()


def _uses_an_index(dialect: str, plan: list[str]) -> bool:
    """The plan reads rental_requests through an index, and by more than the status: on
    SQLite ``USING INDEX ix_rental_requests_status_start (status=?)`` would read every
    planned request."""
    if dialect == "postgresql":
        text_plan = "\n".join(plan)
        return "Seq Scan" not in text_plan and "Index" in text_plan
    searches = [line for line in plan if "rental_requests" in line]
    return all(
        line.startswith("SEARCH rental_requests") and not line.endswith("(status=?)")
        for line in searches
    )


@pytest.mark.parametrize(
    ("path", "indexes"),
    [
        (
            "/ops/planning?week=2026-W50",
            [
                "ix_rental_requests_pickup_at",
                "ix_rental_requests_return_at",
                "ix_rental_requests_status_start",
                "ix_rental_requests_plate_key",
            ],
        ),
        (
            "/ops/planning/day?day=2026-12-08&branch=utrecht-papendorp",
            [
                "ix_rental_requests_pickup_at",
                "ix_rental_requests_return_at",
                "ix_rental_requests_plate_key",
            ],
        ),
    ],
)
def test_every_planning_query_is_served_by_an_index(
    app: Flask, ops_client: FlaskClient, path: str, indexes: list[str]
) -> None:
    _index_seed(app)
    dialect = app.extensions["ociflex.engine"].dialect.name
    with captured_queries(app, "rental_requests") as queries:
        response = ops_client.get(path)
    assert response.status_code == 200
    assert len(Html(response).root.xpath("//section[@data-branch]//tbody/tr")) > 5
    plans = [(sql, explain(app, sql, params)) for sql, params in queries]
    for statement, plan in plans:
        assert _uses_an_index(dialect, plan), (statement, plan)
    everything = "\n".join(line for _, plan in plans for line in plan)
    for index in indexes:
        assert index in everything, (index, everything)
