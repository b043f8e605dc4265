"""Calendars (RFC 5545) written by hand: the pickup's entry in its e-mail (one VEVENT), and a
branch's planning as a feed that calendar programs subscribe to (many).

Lines end in CRLF and are folded at 75 octets without splitting a UTF-8 character; text values
escape backslash, semicolon, comma and line breaks.
"""

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime

PRODID = "-//Euromobil//FlexFleet ociflex//EN"
LINE_OCTETS = 75
CRLF = "\r\n"


def escape_text(value: str) -> str:
    """A TEXT value: ``\\`` ``;`` ``,`` escaped, any line break as ``\\n``, controls dropped."""
    value = value.replace("\r\n", "\n").replace("\r", "\n")
    escaped = []
    for char in value:
        if char == "\\":
            escaped.append("\\\\")
        elif char in ";,":
            escaped.append("\\" + char)
        elif char == "\n":
            escaped.append("\\n")
        elif ord(char) < 32 or ord(char) == 127:
            escaped.append(" ")  # RFC 5545 allows no other control characters (a TAB is one)
        else:
            escaped.append(char)
    return "".join(escaped)


def fold(line: str) -> str:
    """``line`` folded into lines of at most 75 octets, continuations starting with a space."""
    parts: list[str] = []
    current, size = [], 0
    limit = LINE_OCTETS
    for char in line:
        octets = len(char.encode("utf-8"))
        if size + octets > limit:
            parts.append("".join(current))
            # A continuation line's leading space counts towards its 75 octets.
            current, size, limit = [], 0, LINE_OCTETS - 1
        current.append(char)
        size += octets
    parts.append("".join(current))
    return (CRLF + " ").join(parts)


def utc_stamp(moment: datetime) -> str:
    """A DATE-TIME in UTC, ``YYYYMMDDTHHMMSSZ``; a naive datetime is refused."""
    if moment.tzinfo is None:
        raise ValueError("a calendar time needs a time zone")
    return moment.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def _date_value(day: date) -> str:
    return day.strftime("%Y%m%d")


@dataclass(frozen=True)
class Event:
    """One event. ``start``/``end`` are aware datetimes, or dates for a whole-day event
    (``end`` is then the day after the last day, as RFC 5545 counts)."""

    uid: str
    start: datetime | date
    end: datetime | date
    summary: str
    location: str = ""
    description: str = ""


def _when(name: str, value: datetime | date) -> str:
    if isinstance(value, datetime):
        return f"{name}:{utc_stamp(value)}"
    return f"{name};VALUE=DATE:{_date_value(value)}"


def _event_lines(event: Event, stamp: datetime) -> list[str]:
    """The VEVENT of ``event``, one logical line each."""
    if isinstance(event.start, datetime) != isinstance(event.end, datetime):
        raise ValueError("start and end must both be datetimes, or both dates")
    if any(char in event.uid for char in "\r\n"):
        raise ValueError("a UID is one line")
    lines = [
        "BEGIN:VEVENT",
        f"UID:{event.uid}",
        f"DTSTAMP:{utc_stamp(stamp)}",
        _when("DTSTART", event.start),
        _when("DTEND", event.end),
        f"SUMMARY:{escape_text(event.summary)}",
    ]
    if event.location:
        lines.append(f"LOCATION:{escape_text(event.location)}")
    if event.description:
        lines.append(f"DESCRIPTION:{escape_text(event.description)}")
    return [*lines, "TRANSP:TRANSPARENT", "END:VEVENT"]


def _written(lines: Iterable[str]) -> str:
    return "".join(fold(line) + CRLF for line in lines)


_HEAD = ["BEGIN:VCALENDAR", "VERSION:2.0", f"PRODID:{PRODID}", "CALSCALE:GREGORIAN"]


def calendar(event: Event, *, stamp: datetime | None = None) -> str:
    """The VCALENDAR text of ``event`` (METHOD:PUBLISH: an entry, not an invitation)."""
    body = _event_lines(event, stamp or datetime.now(UTC))
    return _written([*_HEAD, "METHOD:PUBLISH", *body, "END:VCALENDAR"])


def feed(events: Iterable[Event], *, name: str, stamp: datetime | None = None) -> Iterator[str]:
    """A calendar to subscribe to, named ``name`` (``X-WR-CALNAME``, which calendar programs
    show), with ``events``: written an event at a time, so a long feed is never held whole."""
    moment = stamp or datetime.now(UTC)
    yield _written([*_HEAD, "METHOD:PUBLISH", f"X-WR-CALNAME:{escape_text(name)}"])
    for event in events:
        yield _written(_event_lines(event, moment))
    yield _written(["END:VCALENDAR"])
