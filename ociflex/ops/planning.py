"""The planning's weeks, days and branches, and the queries that read them (the pages are
:mod:`ociflex.ops.planning_page`).

A branch is a plan's ``pickup_location``: the free text operations type when they schedule.
A plan has no location of its own for the return, so a rental comes back where it went out:
its return is listed at its pickup branch. Pickups and returns are placed on the day and at
the time of the Dutch clock (Europe/Amsterdam), whatever the moment's UTC offset: a week that
changes the clocks puts every pickup on its Dutch day all the same.

Every query is bounded by an index of migration 0010 (``pickup_at``, ``return_at``,
``(status, start_date)``), so a week costs as much in a table of a million requests as in one
of ten thousand; tests/test_ops_planning.py proves it with EXPLAIN on both engines.
"""

import re
import unicodedata
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import NamedTuple

from sqlalchemy import ColumnElement, func, literal_column, select
from sqlalchemy.orm import InstrumentedAttribute, Session

from ociflex.mail.compose import LOCAL_TIME
from ociflex.models import RentalRequest, format_reference
from ociflex.ops.conflicts import PLANNED_STATUSES, Plan, conflicts_among

#: Requests still to plan: in these statuses, a request has no vehicle yet.
UNPLANNED_STATUSES = ("new", "in_progress")
PICKUP = "pickup"
RETURN = "return"
_WEEK = re.compile(r"(\d{4})-W(\d{2})")


# --- Weeks and days ----------------------------------------------------------------------------


def local_midnight(day: date) -> datetime:
    """The moment (UTC) the Dutch ``day`` begins. Dutch clocks change at 02:00 and 03:00, so
    midnight always exists once."""
    return datetime.combine(day, time(0), tzinfo=LOCAL_TIME).astimezone(UTC)


def local_today(now: datetime | None = None) -> date:
    """Today on the Dutch clock."""
    return (now or datetime.now(UTC)).astimezone(LOCAL_TIME).date()


@dataclass(frozen=True)
class Week:
    """An ISO week (Monday to Sunday) on the Dutch clock."""

    monday: date

    @classmethod
    def of(cls, day: date) -> "Week":
        return cls(day - timedelta(days=day.weekday()))

    @classmethod
    def parse(cls, text: str) -> "Week | None":
        """The week of ``2026-W13``; None when ``text`` names no week (``2026-W54``)."""
        match = _WEEK.fullmatch(text.strip())
        if match is None:
            return None
        try:
            return cls(date.fromisocalendar(int(match[1]), int(match[2]), 1))
        except ValueError:
            return None

    @property
    def label(self) -> str:
        year, week, _ = self.monday.isocalendar()
        return f"{year}-W{week:02d}"

    @property
    def days(self) -> list[date]:
        return [self.monday + timedelta(days=n) for n in range(7)]

    @property
    def previous(self) -> "Week":
        return Week(self.monday - timedelta(days=7))

    @property
    def next(self) -> "Week":
        return Week(self.monday + timedelta(days=7))


def branch_slug(name: str) -> str:
    """The branch in an address: lower case ASCII words joined by hyphens
    ("Utrecht Papendorp" -> ``utrecht-papendorp``, "Den Bosch (Rosmalen)" ->
    ``den-bosch-rosmalen``); a slug is its own slug."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_name.lower()).strip("-")


# --- What the planning shows -------------------------------------------------------------------


class Movement(NamedTuple):
    """A vehicle going out (``pickup``) or coming back (``return``) at a branch."""

    kind: str
    #: On the Dutch clock.
    at: datetime
    request_id: int
    customer_id: str
    requester_name: str
    vehicle: str
    #: None when operations planned the rental without one.
    licence_plate: str | None
    branch: str

    @property
    def reference(self) -> str:
        return format_reference(self.request_id)


class Unplanned(NamedTuple):
    """A request with no plan yet, by its first day."""

    id: int
    status: str
    customer_id: str
    requester_name: str
    vehicle_name: str
    start_date: date
    end_date: date
    location: str | None

    @property
    def reference(self) -> str:
        return format_reference(self.id)


@dataclass
class Branch:
    """One branch's movements by Dutch day, each day in time order."""

    name: str
    days: dict[date, list[Movement]] = field(default_factory=dict)

    @property
    def slug(self) -> str:
        return branch_slug(self.name)

    @property
    def count(self) -> int:
        return sum(len(movements) for movements in self.days.values())


@dataclass
class Planning:
    """The planning of some days: the branches by name, what is still to plan, and the plans
    of the shown requests that conflict with another plan (request id -> the others)."""

    branches: list[Branch]
    to_plan: list[Unplanned]
    conflicts: dict[int, list[Plan]]


_MOVEMENT_COLUMNS = (
    RentalRequest.id,
    RentalRequest.customer_id,
    RentalRequest.requester_name,
    func.coalesce(RentalRequest.planned_vehicle, RentalRequest.vehicle_name),
    RentalRequest.licence_plate,
    RentalRequest.pickup_location,
)


def _selective(condition: ColumnElement[bool], dialect: str) -> ColumnElement[bool]:
    """``condition``, marked for SQLite's planner as one that few requests meet: without
    statistics it would rather read every planned request from the (status, start) index than
    the few days of one moment's index. PostgreSQL knows its statistics."""
    if dialect != "sqlite":
        return condition
    # Untyped: a Boolean result would be written "likelihood(...) = 1", which no index serves.
    hinted: ColumnElement[bool] = func.likelihood(condition, literal_column("0.001"))
    return hinted


def _movements(
    session: Session,
    kind: str,
    column: InstrumentedAttribute[datetime | None],
    begin: datetime,
    end: datetime,
) -> list[Movement]:
    """The pickups or returns (``column``) of planned requests from ``begin`` until ``end``."""
    dialect = session.get_bind().dialect.name
    statement = select(column, *_MOVEMENT_COLUMNS).where(
        _selective(column >= begin, dialect),
        _selective(column < end, dialect),
        RentalRequest.status.in_(PLANNED_STATUSES),
    )
    return [
        Movement(kind, moment.astimezone(LOCAL_TIME), *rest[:-1], rest[-1] or "")
        for moment, *rest in session.execute(statement)
    ]


def _unplanned(session: Session, first: date, last: date) -> list[Unplanned]:
    """Requests still to plan whose period starts from ``first`` to ``last``, by first day."""
    statement = (
        select(*(getattr(RentalRequest, name) for name in Unplanned._fields))
        .where(
            RentalRequest.status.in_(UNPLANNED_STATUSES),
            RentalRequest.start_date >= first,
            RentalRequest.start_date <= last,
        )
        .order_by(RentalRequest.start_date, RentalRequest.id)
    )
    return [Unplanned(*row) for row in session.execute(statement)]


def group_by_branch(movements: Iterable[Movement], days: Collection[date]) -> list[Branch]:
    """``movements`` per branch (by name; the one without a name last), each branch with every
    day of ``days``, each day in time order (pickups before returns at one time)."""
    grouped: dict[str, Branch] = {}
    for movement in sorted(movements, key=lambda m: (m.at, m.kind, m.request_id)):
        branch = grouped.get(movement.branch)
        if branch is None:
            branch = grouped[movement.branch] = Branch(movement.branch, {d: [] for d in days})
        branch.days[movement.at.date()].append(movement)
    return sorted(grouped.values(), key=lambda b: (not b.name, b.name.casefold(), b.name))


def fetch_planning(session: Session, first: date, days: int, branch: str | None = None) -> Planning:
    """The planning of ``days`` Dutch days from ``first``: of every branch, or of the one whose
    :func:`branch_slug` is ``branch``'s (then without the requests still to plan)."""
    last = first + timedelta(days=days - 1)
    begin, end = local_midnight(first), local_midnight(last + timedelta(days=1))
    movements = _movements(session, PICKUP, RentalRequest.pickup_at, begin, end)
    movements += _movements(session, RETURN, RentalRequest.return_at, begin, end)
    # A request still to plan has no branch yet: it belongs to no branch's list.
    to_plan = _unplanned(session, first, last) if branch is None else []
    if branch is not None:
        wanted = branch_slug(branch)
        movements = [m for m in movements if branch_slug(m.branch) == wanted]
    shown = {movement.request_id for movement in movements}
    conflicts = conflicts_among(session, shown) if shown else {}
    days_shown = [first + timedelta(days=n) for n in range(days)]
    return Planning(group_by_branch(movements, days_shown), to_plan, conflicts)


def branch_names(session: Session, first: date, days: int) -> list[str]:
    """The branches rentals are picked up at in ``days`` Dutch days from ``first``, by name."""
    dialect = session.get_bind().dialect.name
    begin, end = local_midnight(first), local_midnight(first + timedelta(days=days))
    statement = (
        select(RentalRequest.pickup_location)
        .where(
            _selective(RentalRequest.pickup_at >= begin, dialect),
            _selective(RentalRequest.pickup_at < end, dialect),
            RentalRequest.status.in_(PLANNED_STATUSES),
            RentalRequest.pickup_location.is_not(None),
        )
        .distinct()
    )
    return sorted(session.scalars(statement), key=lambda name: (name.casefold(), name))


def rental_window(now: datetime, back: timedelta, ahead: timedelta) -> tuple[datetime, datetime]:
    """The moments from ``back`` before the Dutch day of ``now`` to ``ahead`` after it."""
    today = local_midnight(local_today(now))
    return today - back, today + ahead
