"""An inbox address read into filters: which are valid, what was entered, what is wrong.

An invalid filter (an unknown status, a date that is none) is left out with a message on the
page; the page itself always answers 200. :mod:`ociflex.ops.inbox_query` turns the filters into
the page of requests and the status counts.
"""

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date

from flask_babel import gettext

from ociflex.models import STATUSES

#: Ids are 32-bit integers; a larger number in an address or a search is no request.
MAX_ID = 2**31 - 1
#: The longest search: an e-mail address.
SEARCH_MAX_LENGTH = 254
CUSTOMER_MAX_LENGTH = 64
VEHICLE_MAX_LENGTH = 40
#: ``po``: requests with the purchase-order number of the customer's ERP, or without one yet.
PO_CHOICES = ("received", "awaiting")

_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_CURSOR = re.compile(r"[1-9][0-9]{0,9}")


@dataclass(frozen=True)
class Filters:
    """The valid filters of an inbox page."""

    status: str | None = None
    customer: str | None = None
    vehicle: str | None = None
    start_from: date | None = None
    start_to: date | None = None
    q: str = ""
    po: str | None = None

    def args(self) -> dict[str, str]:
        """The filters as query parameters (for links that keep them)."""
        args = {
            "status": self.status or "",
            "customer": self.customer or "",
            "vehicle": self.vehicle or "",
            "from": self.start_from.isoformat() if self.start_from else "",
            "to": self.start_to.isoformat() if self.start_to else "",
            "q": self.q,
            "po": self.po or "",
        }
        return {name: value for name, value in args.items() if value}

    @property
    def narrowing(self) -> bool:
        """Filters the status counts do not reflect (they count by customer and status only)."""
        return bool(self.vehicle or self.start_from or self.start_to or self.q or self.po)


@dataclass
class InboxQuery:
    """An inbox address, read: the filters that are valid, what was entered, what is wrong."""

    filters: Filters
    #: The parameters as entered, shown in the form again (also when invalid).
    entered: dict[str, str]
    #: Parameter -> what is wrong with it; that filter is left out.
    problems: dict[str, str] = field(default_factory=dict)
    before: int | None = None
    after: int | None = None


def plain_text(value: str, max_length: int) -> bool:
    """One line of printable text no longer than ``max_length`` (PostgreSQL refuses NUL)."""
    return len(value) <= max_length and not any(
        unicodedata.category(char) == "Cc" for char in value
    )


def _day(value: str) -> date | None:
    if not _ISO_DATE.fullmatch(value):
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        return None


def page_cursor(value: str) -> int | None:
    """The id of a page address (``before=`` / ``after=``), or None when it is none."""
    if not _CURSOR.fullmatch(value) or int(value) > MAX_ID:
        return None
    return int(value)


def read_query(args: Mapping[str, str]) -> InboxQuery:
    """The filters and the page of an inbox address; an invalid one is left out, with why."""
    names = ("status", "customer", "vehicle", "from", "to", "q", "po", "before", "after")
    raw = {name: (args.get(name) or "").strip() for name in names}
    problems: dict[str, str] = {}
    filters = _filters(raw, problems)
    before, after = _page(raw, problems)
    return InboxQuery(filters, _entered(raw), problems, before, after)


def _filters(raw: Mapping[str, str], problems: dict[str, str]) -> Filters:
    """The valid filters among the entered ones; ``problems`` gets why each other one is left
    out."""
    status = raw["status"] or None
    if status is not None and status not in STATUSES:
        problems["status"] = gettext("There is no such status; all statuses are shown.")
        status = None
    customer = raw["customer"] or None
    if customer is not None and not plain_text(customer, CUSTOMER_MAX_LENGTH):
        problems["customer"] = gettext(
            "Choose a customer from the list; the requests of all customers are shown."
        )
        customer = None
    vehicle = raw["vehicle"] or None
    if vehicle is not None and not plain_text(vehicle, VEHICLE_MAX_LENGTH):
        problems["vehicle"] = gettext(
            "Choose a vehicle from the list; the requests for all vehicles are shown."
        )
        vehicle = None
    start_from, start_to = _pickup_days(raw, problems)
    q = " ".join(raw["q"].split())
    if q and not plain_text(q, SEARCH_MAX_LENGTH):
        problems["q"] = gettext(
            "Search for at most %(max)s characters of plain text; the search is left out.",
            max=SEARCH_MAX_LENGTH,
        )
        q = ""
    po = raw["po"] or None
    if po is not None and po not in PO_CHOICES:
        problems["po"] = gettext(
            "There is no such choice; requests with and without a purchase order are shown."
        )
        po = None
    return Filters(status, customer, vehicle, start_from, start_to, q, po)


def _pickup_days(
    raw: Mapping[str, str], problems: dict[str, str]
) -> tuple[date | None, date | None]:
    """The first and last pickup day (``from``, ``to``); both are left out when reversed."""
    start_from = _day(raw["from"]) if raw["from"] else None
    if raw["from"] and start_from is None:
        problems["from"] = gettext(
            "The first pickup day is not a date (YYYY-MM-DD); it is left out."
        )
    start_to = _day(raw["to"]) if raw["to"] else None
    if raw["to"] and start_to is None:
        problems["to"] = gettext("The last pickup day is not a date (YYYY-MM-DD); it is left out.")
    if start_from and start_to and start_from > start_to:
        problems["from"] = problems["to"] = gettext(
            "The first pickup day is after the last one; the pickup days are left out."
        )
        start_from = start_to = None
    return start_from, start_to


def _page(raw: Mapping[str, str], problems: dict[str, str]) -> tuple[int | None, int | None]:
    """``before`` and ``after``: at most one, and a valid id; else the newest page."""
    before = page_cursor(raw["before"]) if raw["before"] else None
    after = page_cursor(raw["after"]) if raw["after"] else None
    wrong_page = (raw["before"] and before is None) or (raw["after"] and after is None)
    if wrong_page or (before is not None and after is not None):
        problems["page"] = gettext("This page address is not valid; the newest requests are shown.")
        before = after = None
    return before, after


def _entered(raw: Mapping[str, str]) -> dict[str, str]:
    """The parameters shown in the form again: a control character as the replacement
    character."""
    return {
        name: "".join("\ufffd" if unicodedata.category(c) == "Cc" else c for c in value)
        for name, value in raw.items()
    }
