"""The planning pages: a week per branch (``GET /ops/planning?week=2026-W13``) and one day to
print for the branch desk (``GET /ops/planning/day?day=2026-03-29&branch=utrecht``).

What they show and how it is read is :mod:`ociflex.ops.planning`. A week or a day that is
none is answered 400 with what to enter instead; without one the page shows this week (today)
on the Dutch clock.
"""

from datetime import date

from flask import render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext

from ociflex.db import get_session
from ociflex.i18n import date_formatter
from ociflex.ops import bp
from ociflex.ops.auth import login_required
from ociflex.ops.labels import status_label
from ociflex.ops.lists import Labels, id_url_maker
from ociflex.ops.planning import PICKUP, RETURN, Week, fetch_planning, local_today
from ociflex.ops.transfers import customer_name


def _refused(message: str) -> ResponseReturnValue:
    return render_template("error.html", code=400, message=message, resend=None), 400


def _parse_day(text: str) -> date | None:
    try:
        return date.fromisoformat(text)
    except ValueError:
        return None


def _shared() -> dict[str, object]:
    """What both pages use to write their rows, looked up once a page."""
    return {
        "dates": date_formatter(),
        "kind_labels": {PICKUP: gettext("Pickup"), RETURN: gettext("Return")},
        "customer_labels": Labels(customer_name),
        "status_labels": Labels(status_label),
        "request_url": id_url_maker("ops.request_detail", "request_id"),
    }


@bp.get("/planning")
@login_required
def planning() -> ResponseReturnValue:
    """A week's pickups and returns per branch and day, the requests in conflict marked, and
    the requests still to plan that start in the week."""
    entered = request.args.get("week", "")
    week = Week.parse(entered) if entered else Week.of(local_today())
    if week is None:
        return _refused(
            gettext(
                "%(week)s is no week. Enter a year and a week number, such as 2026-W13.",
                week=entered,
            )
        )
    plan = fetch_planning(get_session(), week.monday, 7)
    return render_template(
        "ops/planning.html",
        week=week,
        plan=plan,
        this_week=Week.of(local_today()),
        **_shared(),
    )


@bp.get("/planning/day")
@login_required
def planning_day() -> ResponseReturnValue:
    """One day's pickups and returns of every branch, or of ``branch`` (its name or its
    address form), each branch on a page of its own when printed."""
    entered = request.args.get("day", "")
    day = _parse_day(entered) if entered else local_today()
    if day is None:
        return _refused(gettext("%(day)s is no day. Enter a date such as 2026-03-29.", day=entered))
    branch = request.args.get("branch") or None
    plan = fetch_planning(get_session(), day, 1, branch)
    return render_template(
        "ops/planning_day.html",
        day=day,
        branch=branch,
        plan=plan,
        week_url=url_for("ops.planning", week=Week.of(day).label),
        **_shared(),
    )
