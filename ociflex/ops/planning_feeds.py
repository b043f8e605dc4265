"""A branch's planning as a calendar feed (``GET /ops/planning/feed/<slug>.ics``), and the
admins' page that creates and rotates the feeds' tokens (``/ops/planning/feeds``).

A calendar program cannot log in, so a feed is read either by a logged-in operator or with
the branch's secret token in the address (``?token=...``). Only the token's SHA-256 is
stored: the address is shown once, right after the admin made the token, and a rotation
replaces the hash, so the old address stops working at once. A token in the address is
judged alone, even in a logged-in browser: an admin who checks a subscription sees what the
calendar program gets. A wrong or replaced token is answered 404, as an address that is no
feed: it tells a guesser nothing, and a calendar program shows it as a feed that is gone.
Without a token and without a login the answer is the login (302 for a browser).

The feed holds one event per rental picked up at the branch from four weeks ago to twelve
weeks ahead: the branch looks back at what came back late and plans about a quarter ahead;
a calendar program fetches the whole feed every time, so the window bounds its size.
"""

import hmac
import logging
import secrets
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Final, NamedTuple

from flask import Response, render_template, request, stream_with_context, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ociflex.db import begin_write, get_session
from ociflex.mail.compose import UID_DOMAIN
from ociflex.mail.ics import Event, feed
from ociflex.models import PlanningFeed, RentalRequest, format_reference
from ociflex.ops import bp
from ociflex.ops.auth import admin_required, client_address, current_operator, login_required
from ociflex.ops.conflicts import PLANNED_STATUSES
from ociflex.ops.planning import Week, branch_names, branch_slug, local_today, rental_window
from ociflex.ops.sessions import token_hash
from ociflex.ops.transfers import customer_name

log = logging.getLogger(__name__)

#: The rentals a feed holds: picked up from this long before today ...
FEED_BACK: Final = timedelta(weeks=4)
#: ... until this long after it.
FEED_AHEAD: Final = timedelta(weeks=12)
#: The longest branch name (the column's length).
BRANCH_MAX_LENGTH: Final = 255


# --- The feed ----------------------------------------------------------------------------------


class Rental(NamedTuple):
    """A planned rental as its event shows it (the columns, named as on
    :class:`~ociflex.models.RentalRequest`)."""

    id: int
    pickup_at: datetime
    return_at: datetime
    licence_plate: str | None
    vehicle: str
    pickup_location: str
    requester_name: str
    requester_email: str
    customer_id: str


_RENTAL_COLUMNS = (
    RentalRequest.id,
    RentalRequest.pickup_at,
    RentalRequest.return_at,
    RentalRequest.licence_plate,
    func.coalesce(RentalRequest.planned_vehicle, RentalRequest.vehicle_name),
    RentalRequest.pickup_location,
    RentalRequest.requester_name,
    RentalRequest.requester_email,
    RentalRequest.customer_id,
)


def _rental_event(rental: Rental) -> Event:
    """A planned rental as the branch's calendar shows it: from pickup to return."""
    reference = format_reference(rental.id)
    what = [reference, rental.licence_plate, rental.vehicle]
    return Event(
        uid=f"{reference}.planning@{UID_DOMAIN}",
        start=rental.pickup_at,
        end=rental.return_at,
        summary=" · ".join(part for part in what if part),
        location=rental.pickup_location,
        description=gettext(
            "Requester: %(requester)s (%(email)s)\nCustomer: %(customer)s",
            requester=rental.requester_name,
            email=rental.requester_email,
            customer=customer_name(rental.customer_id),
        ),
    )


def rentals(session: Session, branch: str, now: datetime) -> Iterator[Rental]:
    """The planned rentals picked up at ``branch`` in the feed's window, by pickup."""
    begin, end = rental_window(now, FEED_BACK, FEED_AHEAD)
    statement = (
        select(*_RENTAL_COLUMNS)
        .where(
            RentalRequest.pickup_location == branch,
            RentalRequest.pickup_at >= begin,
            RentalRequest.pickup_at < end,
            RentalRequest.status.in_(PLANNED_STATUSES),
            RentalRequest.return_at.is_not(None),
        )
        .order_by(RentalRequest.pickup_at, RentalRequest.id)
    )
    for row in session.execute(statement):
        yield Rental(*row)


def _feed_response(planning_feed: PlanningFeed) -> Response:
    """The feed, written an event at a time as the rentals are read."""
    session = get_session()
    found = rentals(session, planning_feed.branch, datetime.now(UTC))
    name = gettext("FlexFleet planning %(branch)s", branch=planning_feed.branch)
    chunks = (chunk.encode() for chunk in feed(map(_rental_event, found), name=name))
    return Response(
        stream_with_context(chunks),
        mimetype="text/calendar",
        headers={
            "Content-Disposition": f'inline; filename="{planning_feed.slug}.ics"',
            "Cache-Control": "private, no-store",
        },
    )


def _not_a_feed() -> ResponseReturnValue:
    message = gettext(
        "There is no calendar feed at this address. Ask an admin for the branch's current "
        "feed address."
    )
    return render_template("error.html", code=404, message=message, resend=None), 404


@login_required
def _feed_for_operator(slug: str) -> ResponseReturnValue:
    planning_feed = get_session().get(PlanningFeed, slug)
    return _not_a_feed() if planning_feed is None else _feed_response(planning_feed)


@bp.get("/planning/feed/<slug>.ics")
def planning_feed(slug: str) -> ResponseReturnValue:
    """The branch's rentals as an iCalendar feed, for a logged-in operator or with the
    branch's token (see the module doc)."""
    token = request.args.get("token")
    if token is None:
        return _feed_for_operator(slug)
    planning_feed = get_session().get(PlanningFeed, slug)
    if planning_feed is None or not hmac.compare_digest(
        planning_feed.token_hash, token_hash(token)
    ):
        log.warning("planning feed refused: wrong token for %s from %s", slug, client_address())
        return _not_a_feed()
    return _feed_response(planning_feed)


# --- The admins' page --------------------------------------------------------------------------


def _branches_without_feed(session: Session, feeds: list[PlanningFeed]) -> list[str]:
    """The branches of this week's and next week's pickups that have no feed yet, by name."""
    with_feed = {feed_row.slug for feed_row in feeds}
    names = branch_names(session, Week.of(local_today()).monday, 14)
    return [name for name in names if branch_slug(name) and branch_slug(name) not in with_feed]


def _feeds_page(
    *, made: tuple[PlanningFeed, str] | None = None, problem: str | None = None, status: int = 200
) -> ResponseReturnValue:
    session = get_session()
    feeds = list(session.scalars(select(PlanningFeed).order_by(PlanningFeed.branch)))
    page = render_template(
        "ops/planning_feeds.html",
        feeds=feeds,
        branches=_branches_without_feed(session, feeds),
        made=made,
        problem=problem,
        max_length=BRANCH_MAX_LENGTH,
    )
    return page, status


@bp.get("/planning/feeds")
@admin_required
def planning_feeds() -> ResponseReturnValue:
    """The branches' feeds, to create and rotate their tokens."""
    return _feeds_page()


def _branch_problem(branch: str) -> str | None:
    if not branch or not branch_slug(branch):
        return gettext("Enter the branch's name, with at least one letter or digit.")
    if len(branch) > BRANCH_MAX_LENGTH or any(ord(char) < 32 for char in branch):
        return gettext(
            "Enter the branch's name on one line, in at most %(num)s characters.",
            num=BRANCH_MAX_LENGTH,
        )
    return None


@bp.post("/planning/feeds")
@admin_required
def rotate_planning_feed() -> ResponseReturnValue:
    """Make a branch's feed, or give it a new token (the old one stops working at once), and
    show its address with the new token, this once."""
    branch = request.form.get("branch", "").strip()
    problem = _branch_problem(branch)
    if problem is not None:
        return _feeds_page(problem=problem, status=422)
    token = secrets.token_urlsafe(32)
    slug = branch_slug(branch)
    session = get_session()
    begin_write(session)
    planning_feed = session.get(PlanningFeed, slug, with_for_update=True)
    if planning_feed is None:
        planning_feed = PlanningFeed(slug=slug, branch=branch, token_hash="", generation=0)
        session.add(planning_feed)
    planning_feed.token_hash = token_hash(token)
    planning_feed.rotated_at = datetime.now(UTC)
    planning_feed.rotated_by = current_operator().id
    planning_feed.generation += 1
    session.commit()
    log.info(
        "planning feed %s: token %s by %s from %s",
        slug,
        "made" if planning_feed.generation == 1 else "rotated",
        current_operator().username,
        client_address(),
    )
    url = url_for("ops.planning_feed", slug=slug, token=token, _external=True)
    return _feeds_page(made=(planning_feed, url))
