"""What the buyer's administrator needs to set up a punch-out, as ``flask ociflex customers show``
prints it: the parts every protocol shares (layout, the example booking, how fields are
described). Each protocol writes its own part (:mod:`ociflex.oci.developer_sheet`,
:mod:`ociflex.cxml.developer_sheet`), from an example cart built by the same code as a real one,
so that it cannot drift from what ociflex sends.

The sheet is what the customer configures from, so it is laid out to be copied from: every URL
on a line of its own, whole, and a warning first when the file still holds addresses of a
developer's own machine.
"""

import ipaddress
import textwrap
from collections.abc import Iterable, Sequence
from datetime import date, timedelta
from urllib.parse import urlsplit

from ociflex.booking.details import Booking
from ociflex.customers.model import Customer, Field

#: Output is wrapped to this many columns (a long URL may still stick out).
WIDTH = 100
#: The key of the customer file that lists the origins that may frame ociflex.
FRAME_ANCESTORS = "frame_ancestors"
#: What the example cart is made of, besides the customer's first vehicle.
EXAMPLE_REFERENCE = "FF-000123"
EXAMPLE_DAYS = 3

#: What each built-in placeholder of a cart template stands for.
PLACEHOLDER_SOURCES = {
    "vehicle_code": "the vehicle's code",
    "reference": "Euromobil's request reference",
    "start": "the first rental day, YYYY-MM-DD",
    "end": "the last rental day, YYYY-MM-DD",
    "days": "the number of rental days",
    "location": "the pickup location",
}


def next_monday(today: date) -> date:
    return today + timedelta(days=7 - today.weekday())


def example_booking(customer: Customer, today: date) -> Booking:
    """A typical request: the first vehicle for 3 days (at most ``max_days``) from next
    Monday, the first location, each field's ``example``."""
    start = next_monday(today)
    return Booking(
        vehicle=customer.vehicles[0],
        start=start,
        end=start + timedelta(days=min(EXAMPLE_DAYS, customer.max_days) - 1),
        location=customer.locations[0] if customer.locations else None,
        fields={name: customer.example_of(field) for name, field in customer.fields.items()},
    )


def example_sentence(booking: Booking) -> str:
    return (
        f"The examples are those of a request for {booking.vehicle.code} from "
        f"{booking.start:%a %d-%m-%Y} to {booking.end:%a %d-%m-%Y}, reference {EXAMPLE_REFERENCE}."
    )


def wrap(text: str, width: int) -> list[str]:
    lines = []
    for paragraph in text.split("\n"):
        lines += textwrap.wrap(
            paragraph, width, break_long_words=False, break_on_hyphens=False
        ) or [""]
    return lines


def paragraph(text: str, indent: str = "  ") -> list[str]:
    return [indent + line for line in wrap(text, WIDTH - len(indent))]


def table(
    headers: Sequence[str], rows: Sequence[Sequence[str]], widths: Sequence[int]
) -> list[str]:
    """A plain-text table; the last column takes the rest of the line, each cell is wrapped."""
    last = WIDTH - 2 - sum(width + 2 for width in widths)
    lines = []
    for row in [headers, *rows]:
        cells = [wrap(cell, width) for cell, width in zip(row, [*widths, last], strict=True)]
        for index in range(max(map(len, cells))):
            parts = [
                (cell[index] if index < len(cell) else "").ljust(width)
                for cell, width in zip(cells, [*widths, last], strict=True)
            ]
            lines.append(("  " + "  ".join(parts)).rstrip())
    return lines


def url_list(urls: Iterable[str], indent: str = "  ") -> list[str]:
    """One line per URL, never wrapped, so that each can be copied whole."""
    return [f"{indent}- {url}" for url in urls]


def framing(customer: Customer) -> list[str]:
    """Where the punch-out may be shown: in a frame of the buyer's pages, or not."""
    if customer.frame_ancestors and "'none'" not in customer.frame_ancestors:
        return [
            *paragraph("It may be opened in an iframe of pages from:"),
            *url_list(customer.frame_ancestors),
        ]
    return paragraph("Open it in a new window or the whole page: it may not be framed.")


def is_loopback(url: str) -> bool:
    """Whether ``url`` (or an origin) names the computer it is opened on: ``localhost``,
    ``127.0.0.1``, ``[::1]``. The browser then reaches the developer's own machine, which is
    right for local testing and never for a customer."""
    try:
        host = urlsplit(url).hostname
    except ValueError:
        return False
    if host is None:
        return False
    host = host.rstrip(".")
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def local_testing_warning(entries: Iterable[tuple[str, str, str]]) -> list[str]:
    """A warning block for the loopback ones of ``entries`` (what it is, the URL, its key in the
    customer file); nothing when there are none."""
    local = [(what, url, key) for what, url, key in entries if is_loopback(url)]
    if not local:
        return []
    keys = list(dict.fromkeys(key for _what, _url, key in local))
    text = (
        "These entries of the customer file name the computer the browser runs on (loopback), "
        "so they work on a developer's own machine and nowhere else. Replace them with the "
        f"customer's real addresses ({', '.join(keys)}) before this sheet goes to the customer."
    )
    if FRAME_ANCESTORS in keys:
        text += f" A file without {FRAME_ANCESTORS} has the origins of its return URLs there."
    return [
        "WARNING: for local testing only",
        *paragraph(text),
        *(f"  - {what} {url}" for what, url, _key in local),
        "",
    ]


def frame_origin_entries(customer: Customer) -> list[tuple[str, str, str]]:
    """The origins that may frame ociflex, as :func:`local_testing_warning` takes them."""
    return [("frame origin", origin, FRAME_ANCESTORS) for origin in customer.frame_ancestors]


def field_text(field: Field, customer: Customer) -> str:
    """What a field is and what its value must be, for the table of what the buyer sends."""
    what = {
        "email": "the requester's e-mail address",
        "full_name": "the requester's full name",
    }.get(field.name, field.label_in("en"))
    details = [f"at most {field.max_length} characters"]
    if field.name == "email" and customer.email_domains:
        details.append(f"in {', '.join(customer.email_domains)}")
    if field.pattern is not None:
        details.append(f"matching {field.pattern.pattern}")
    if example := customer.example_of(field):
        details.append(f"e.g. {example}")
    if field.editable:
        details.append("the employee can change it in the booking form")
    return f"{what} ({field.name}): {'; '.join(details)}"
