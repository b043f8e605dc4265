"""What a customer's ERP developer needs, as ``flask ociflex customers show`` prints it: the
punch-out URL, the parameters to send and the basket that comes back. The basket table comes
from an example basket built by the same code as a real one, so it cannot drift from what
ociflex sends.
"""

import textwrap
from collections.abc import Sequence
from datetime import date, timedelta

from flask import current_app, url_for
from flask_babel import force_locale, gettext

from ociflex.customers.model import PLACEHOLDER, Customer, Field
from ociflex.oci.basket import Basket, Booking, build_basket
from ociflex.oci.basket_rules import ECHOED_PARAMETERS, LONGTEXT_NAME
from ociflex.oci.callup import KEYWORD_TARGETS
from ociflex.oci.hook_url import SAPEVENT

#: Output is wrapped to this many columns (a long URL may still stick out).
WIDTH = 100
#: What the example basket of ``show`` is made of, besides the customer's first vehicle.
EXAMPLE_REFERENCE = "FF-000123"
EXAMPLE_DAYS = 3


def next_monday(today: date) -> date:
    return today + timedelta(days=7 - today.weekday())


def example_basket(customer: Customer, today: date) -> tuple[Basket, Booking]:
    """The basket of a typical request: the first vehicle for 3 days (at most ``max_days``)
    from next Monday, the first location, each field's ``example``."""
    start = next_monday(today)
    booking = Booking(
        vehicle=customer.vehicles[0],
        start=start,
        end=start + timedelta(days=min(EXAMPLE_DAYS, customer.max_days) - 1),
        location=customer.locations[0] if customer.locations else None,
        fields={name: customer.example_of(field) for name, field in customer.fields.items()},
    )
    with force_locale(customer.language):
        basket = build_basket(
            customer,
            booking,
            reference=EXAMPLE_REFERENCE,
            hook_url=customer.hook_urls[0],
            target="_top",
            charset=customer.default_charset,
            ok_code="ADDI",
            caller="CTLG",
            gettext=gettext,
        )
    return basket, booking


def punchout_url(customer: Customer) -> str:
    with current_app.test_request_context():
        path = url_for("punchout.callup", customer_id=customer.id)
    public_url = current_app.config.get("OCIFLEX_PUBLIC_URL")
    return f"{public_url}{path}" if public_url else path


def _wrap(text: str, width: int) -> list[str]:
    lines = []
    for paragraph in text.split("\n"):
        lines += textwrap.wrap(
            paragraph, width, break_long_words=False, break_on_hyphens=False
        ) or [""]
    return lines


def _paragraph(text: str, indent: str = "  ") -> list[str]:
    return [indent + line for line in _wrap(text, WIDTH - len(indent))]


def _table(
    headers: Sequence[str], rows: Sequence[Sequence[str]], widths: Sequence[int]
) -> list[str]:
    """A plain-text table; the last column takes the rest of the line, each cell is wrapped."""
    last = WIDTH - 2 - sum(width + 2 for width in widths)
    lines = []
    for row in [headers, *rows]:
        cells = [_wrap(cell, width) for cell, width in zip(row, [*widths, last], strict=True)]
        for index in range(max(map(len, cells))):
            parts = [
                (cell[index] if index < len(cell) else "").ljust(width)
                for cell, width in zip(cells, [*widths, last], strict=True)
            ]
            lines.append(("  " + "  ".join(parts)).rstrip())
    return lines


def describe_customer(customer: Customer, basket: Basket, booking: Booking) -> list[str]:
    """The whole text of ``show``."""
    return [
        f"{customer.name} (customer {customer.id}): OCI punch-out to Euromobil FlexFleet",
        "",
        *_address(customer),
        "",
        *_parameters(customer),
        "",
        *_return(customer),
        "",
        *_basket_fields(customer, basket, booking),
    ]


def _address(customer: Customer) -> list[str]:
    url = punchout_url(customer)
    lines = ["Punch-out URL", f"  {url}"]
    if not url.startswith("http"):
        lines += _paragraph("(a path on the ociflex server; Euromobil gives you its address)")
    lines += _paragraph(
        "Method: POST (recommended), as an HTML form (application/x-www-form-urlencoded). GET "
        "with the same parameters in the query string works too, but puts the company password "
        "in proxy logs and the browser history."
    )
    if customer.frame_ancestors and "'none'" not in customer.frame_ancestors:
        origins = ", ".join(customer.frame_ancestors)
        lines += _paragraph(f"It may be opened in an iframe of pages from: {origins}.")
    else:
        lines += _paragraph("Open it in a new window or the whole page: it may not be framed.")
    return lines


def _parameters(customer: Customer) -> list[str]:
    login = customer.login
    hook_urls = "\n".join(f"- {url}" for url in customer.hook_urls)
    rows = [
        [login.username_param, "yes", f"{login.username} (the company's user name)"],
        [login.password_param, "yes", "the password agreed with Euromobil"],
        [
            "HOOK_URL",
            "yes",
            "where the basket goes back; it must start with one of:\n" + hook_urls,
        ],
        ["~OkCode", "no", "ADDI; sent back with the basket"],
        [
            "~TARGET",
            "no",
            f"the frame the basket is posted into: {', '.join(KEYWORD_TARGETS)} or a frame "
            "name; default _top",
        ],
        ["returntarget", "no", "the same as ~TARGET (OCI 4.0); wins over it"],
        ["~CALLER", "no", "CTLG; sent back with the basket"],
        ["OCI_VERSION", "no", "e.g. 4.0"],
        [
            "HTTP_CONTENT_CHARSET",
            "no",
            f"the character set of the basket; default {customer.default_charset}",
        ],
    ]
    rows += [
        [field.param, "yes" if field.required else "no", _field_text(field, customer)]
        for field in customer.fields.values()
    ]
    width = max(len(row[0]) for row in rows)
    return [
        "Parameters of the call-up (names are matched ignoring case)",
        *_table(["parameter", "required", "value"], rows, [width, 8]),
    ]


def _field_text(field: Field, customer: Customer) -> str:
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


def _return(customer: Customer) -> list[str]:
    text = (
        "When the employee sends the request, the browser posts a form "
        "(application/x-www-form-urlencoded) to the HOOK_URL exactly as the call-up sent it, "
        "query string included, into the frame named by returntarget, else ~TARGET, else _top. "
        "Its character set is the one HTTP_CONTENT_CHARSET asked for, else "
        f"{customer.default_charset}. The basket has one line, index 1; ~OkCode and ~CALLER "
        "come back when the call-up sent them."
    )
    lines = ["What comes back", *_paragraph(text)]
    if SAPEVENT in customer.hook_urls:
        lines += _paragraph(f"In SAP GUI's embedded browser, HOOK_URL {SAPEVENT} works too.")
    lines += _paragraph(
        "The request is then registered with Euromobil under the reference in EXT_QUOTE_ID; "
        "operations confirm it to the requester by e-mail."
    )
    return lines


def _basket_fields(customer: Customer, basket: Basket, booking: Booking) -> list[str]:
    sent = dict(basket.fields)
    rows = []
    for name in _field_order(customer, basket):
        new_item = _new_item_of(name)
        limit = customer.limit(new_item) if new_item else None
        if name == LONGTEXT_NAME:
            example = "(below)"
        elif name in sent:
            example = sent[name]
        else:
            example = "(no example in the file)"
        rows.append([name, "" if limit is None else str(limit), _source(customer, name), example])
    example = (
        f"The examples are those of a request for {booking.vehicle.code} from "
        f"{booking.start:%a %d-%m-%Y} to {booking.end:%a %d-%m-%Y}, reference {EXAMPLE_REFERENCE}."
    )
    lines = [
        "Basket fields (one line per request)",
        *_paragraph(example),
        *_table(
            ["field", "max", "value comes from", "example"],
            rows,
            [max(len(row[0]) for row in rows), 3, 32],
        ),
    ]
    if LONGTEXT_NAME in sent:
        lines += ["", f"Example {LONGTEXT_NAME} (lines separated by a line feed):"]
        lines += [f"  {line}" for line in sent[LONGTEXT_NAME].split("\n")]
    return lines


def _field_order(customer: Customer, basket: Basket) -> list[str]:
    """The posted names in posting order, with the configured ones that the example left empty
    (a field without an example) before EXT_PRODUCT_ID."""
    names = [name for name, _ in basket.fields]
    missing = [
        f"NEW_ITEM-{new_item}[1]"
        for new_item in customer.basket
        if f"NEW_ITEM-{new_item}[1]" not in names
    ]
    cut = names.index("NEW_ITEM-EXT_PRODUCT_ID[1]")
    return names[:cut] + missing + names[cut:]


def _new_item_of(name: str) -> str | None:
    if name == LONGTEXT_NAME:
        return "LONGTEXT"
    if name.startswith("NEW_ITEM-"):
        return name[len("NEW_ITEM-") : name.index("[")]
    return None


_COMPUTED_SOURCES = {
    "DESCRIPTION": "the vehicle's description and the first and last rental day",
    "QUANTITY": "the number of rental days",
    "PRICE": "the vehicle's day rate (per PRICEUNIT)",
    "PRICEUNIT": "always 1",
    "EXT_PRODUCT_ID": "the vehicle's code (stable)",
    "EXT_QUOTE_ID": "Euromobil's request reference",
    "LONGTEXT": "every detail of the request, one per line",
}
PLACEHOLDER_SOURCES = {
    "vehicle_code": "the vehicle's code",
    "reference": "Euromobil's request reference",
    "start": "the first rental day, YYYY-MM-DD",
    "end": "the last rental day, YYYY-MM-DD",
    "days": "the number of rental days",
    "location": "the pickup location",
}


def _source(customer: Customer, name: str) -> str:
    if name in ECHOED_PARAMETERS:
        return "the call-up's own value"
    new_item = _new_item_of(name) or ""
    if new_item in _COMPUTED_SOURCES:
        return _COMPUTED_SOURCES[new_item]
    template = customer.basket[new_item]
    match = PLACEHOLDER.fullmatch(template)
    if match and match[1] in customer.fields:
        return f"call-up parameter {customer.fields[match[1]].param}"
    if match:
        return PLACEHOLDER_SOURCES[match[1]]
    if PLACEHOLDER.search(template):
        return f"{template!r}, filled in: " + ", ".join(
            f"{{{placeholder}}} = {_placeholder_source(customer, placeholder)}"
            for placeholder in dict.fromkeys(PLACEHOLDER.findall(template))
        )
    return "fixed"


def _placeholder_source(customer: Customer, placeholder: str) -> str:
    if placeholder in customer.fields:
        return customer.fields[placeholder].param
    return PLACEHOLDER_SOURCES[placeholder]
