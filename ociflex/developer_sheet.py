"""What the buyer's administrator needs to set up a punch-out, as ``flask ociflex customers show``
prints it: the parts every protocol shares (layout, the example booking, how fields are
described). Each protocol writes its own part (:mod:`ociflex.oci.developer_sheet`,
:mod:`ociflex.cxml.developer_sheet`), from an example cart built by the same code as a real one,
so that it cannot drift from what ociflex sends.
"""

import textwrap
from collections.abc import Sequence
from datetime import date, timedelta

from ociflex.booking.details import Booking
from ociflex.customers.model import Customer, Field

#: Output is wrapped to this many columns (a long URL may still stick out).
WIDTH = 100
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


def framing(customer: Customer) -> list[str]:
    """Where the punch-out may be shown: in a frame of the buyer's pages, or not."""
    if customer.frame_ancestors and "'none'" not in customer.frame_ancestors:
        origins = ", ".join(customer.frame_ancestors)
        return paragraph(f"It may be opened in an iframe of pages from: {origins}.")
    return paragraph("Open it in a new window or the whole page: it may not be framed.")


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
