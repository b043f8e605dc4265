"""iCalendar text (RFC 5545) read back as a calendar program reads it: lines unfolded, the
events with their properties, text values unescaped, UTC times as datetimes."""

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime


def unfold(text: str) -> list[str]:
    """The logical lines; every physical line must end in CRLF and hold at most 75 octets."""
    assert text.endswith("\r\n"), "a calendar ends in CRLF"
    physical = text.removesuffix("\r\n").split("\r\n")
    assert all("\n" not in line and len(line.encode()) <= 75 for line in physical)
    return text.replace("\r\n ", "").removesuffix("\r\n").split("\r\n")


def unescape(value: str) -> str:
    return re.sub(r"\\(.)", lambda m: "\n" if m.group(1) in "nN" else m.group(1), value)


def utc_time(value: str) -> datetime:
    return datetime.strptime(value, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)


@dataclass
class Component:
    """A VCALENDAR or VEVENT: its properties (name with parameters -> raw value) and the
    components inside it."""

    name: str
    properties: dict[str, str] = field(default_factory=dict)
    children: list["Component"] = field(default_factory=list)

    def text(self, name: str) -> str:
        return unescape(self.properties[name])


def parse(text: str) -> Component:
    """The one VCALENDAR of ``text``."""
    stack: list[Component] = []
    top: Component | None = None
    for line in unfold(text):
        name, _, value = line.partition(":")
        if name == "BEGIN":
            component = Component(value)
            if stack:
                stack[-1].children.append(component)
            stack.append(component)
        elif name == "END":
            assert stack, f"END:{value} without its BEGIN"
            assert stack[-1].name == value, f"END:{value} out of place"
            top = stack.pop()
        else:
            assert stack, f"a property outside any component: {line}"
            assert name not in stack[-1].properties, f"{name} twice"
            stack[-1].properties[name] = value
    assert not stack
    assert top is not None
    assert top.name == "VCALENDAR"
    return top
