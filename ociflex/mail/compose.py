"""The e-mails ociflex sends, built from a request in the request's language.

Each function renders a plain-text and an HTML version from ``templates/mail/`` with Flask-Babel
forced to the language of the mail, whatever the language of the page or command that asks for
it. They need an app context (templates, catalogues, settings) and touch no database.

Values from the request are untrusted (the ERP and the employee typed them): HTML templates
escape them, and every value that stands on a line of its own is made single-line first, so a
name cannot add lines, let alone headers.
"""

import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from flask import current_app, render_template
from flask_babel import force_locale, format_date, format_time, gettext, ngettext

from ociflex.customers.model import LANGUAGES, Customer
from ociflex.i18n import DEFAULT_LANGUAGE
from ociflex.mail import ics
from ociflex.models import PurchaseOrder, RentalRequest
from ociflex.money import money, request_total
from ociflex.text import N_

#: Where pickup times are shown: Euromobil's branches are in the Netherlands.
LOCAL_TIME = ZoneInfo("Europe/Amsterdam")
#: Language of the mails to operations.
OPERATIONS_LANGUAGE = "nl"
#: The request's page in the operations inbox, below ``OCIFLEX_PUBLIC_URL``.
OPS_REQUEST_PATH = "/ops/requests/{id}"
#: A purchase order's page in the operations inbox, below ``OCIFLEX_PUBLIC_URL``.
OPS_ORDER_PATH = "/ops/orders/{id}"
#: A calendar entry without a known return time lasts this long.
PICKUP_SLOT = timedelta(hours=1)
SUBJECT_MAX = 255
UID_DOMAIN = "flexfleet.euromobil"

KINDS = ("confirmation", "rejection", "cancellation", "new_request", "order_notice")

_SPACES = re.compile(r"\s+")


@dataclass(frozen=True)
class Composed:
    """One e-mail, ready for the outbox."""

    kind: str
    recipient: str
    subject: str
    text: str
    html: str
    #: ``{"filename", "content_type", "data"}`` with ``data`` as text.
    attachments: tuple[dict[str, str], ...] = field(default_factory=tuple)


def one_line(value: object) -> str:
    """``value`` as one line: line breaks, tabs and other control characters become a space."""
    text = "" if value is None else str(value)
    cleaned = "".join(" " if unicodedata.category(char)[0] in "CZ" else char for char in text)
    return _SPACES.sub(" ", cleaned).strip()


def paragraph(value: object) -> str:
    """Multi-line text (a reason): lines kept, other control characters dropped."""
    text = "" if value is None else str(value)
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    return "\n".join(one_line(line) for line in lines).strip()


def _language(request: RentalRequest) -> str:
    return request.language if request.language in LANGUAGES else DEFAULT_LANGUAGE


def _customer(request: RentalRequest, customer: Customer | None) -> Customer | None:
    if customer is not None:
        return customer
    registry = current_app.extensions.get("ociflex.customers")
    return registry.get(request.customer_id) if registry is not None else None


def _moment(value: datetime | None) -> str | None:
    """A moment as the reader's locale writes it, in Dutch time: "dinsdag 1 december 2026 om
    09:00" or "Tuesday, December 1, 2026 at 9:00 AM"."""
    if value is None:
        return None
    local = value.astimezone(LOCAL_TIME)
    return gettext(
        "%(date)s at %(time)s",
        date=format_date(local.date(), "full"),
        time=format_time(local, "short", rebase=False),
    )


def _day(value: date) -> str:
    return format_date(value, "full")


def _facts(request: RentalRequest, customer: Customer | None) -> dict[str, Any]:
    """What every mail may show, formatted in the current (forced) locale."""
    config = current_app.config
    days = request.days
    return {
        "reference": request.reference,
        "name": one_line(request.requester_name),
        "email": one_line(request.requester_email),
        "customer_name": one_line(customer.name if customer else request.customer_id),
        "vehicle": one_line(request.vehicle_name),
        "vehicle_code": one_line(request.vehicle_code),
        "day_rate": money(request.day_rate, request.currency),
        "total": money(request_total(request), request.currency),
        "first_day": _day(request.start_date),
        "last_day": _day(request.end_date),
        "days": ngettext("%(num)s day", "%(num)s days", days),
        "planned_vehicle": one_line(request.planned_vehicle) or None,
        "licence_plate": one_line(request.licence_plate) or None,
        "pickup_location": one_line(request.pickup_location or request.location) or None,
        "pickup_time": _moment(request.pickup_at),
        "return_time": _moment(request.return_at),
        "purchase_order": one_line(request.erp_po_number) or None,
        "reason": paragraph(request.reason),
        "remarks": paragraph(request.remarks),
        "contact_phone": config["OCIFLEX_CONTACT_PHONE"],
        "contact_email": config["OCIFLEX_CONTACT_EMAIL"],
    }


def _subject(text: str) -> str:
    subject = one_line(text)
    return subject if len(subject) <= SUBJECT_MAX else subject[: SUBJECT_MAX - 1] + "…"


def _tidy_text(text: str) -> str:
    """Templates leave blank runs and trailing spaces where optional lines were left out."""
    lines = [line.rstrip() for line in text.replace("\r\n", "\n").split("\n")]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip() + "\n"


def _render(kind: str, language: str, subject: str, **context: Any) -> tuple[str, str]:
    context = {"kind": kind, "language": language, "subject": subject, **context}
    text = render_template(f"mail/{kind}.txt", **context)
    html = render_template(f"mail/{kind}.html", **context)
    return _tidy_text(text), html


def _calendar_entry(request: RentalRequest, facts: dict[str, Any]) -> dict[str, str]:
    """The pickup as a calendar entry: from pickup to return when operations planned the
    times, otherwise the rental's days as a whole-day event."""
    start: datetime | date
    end: datetime | date
    if request.pickup_at is not None:
        start = request.pickup_at
        end = request.return_at if request.return_at else request.pickup_at + PICKUP_SLOT
        if end <= start:
            end = start + PICKUP_SLOT
    else:
        start, end = request.start_date, request.end_date + timedelta(days=1)
    vehicle = facts["vehicle"]
    if facts["licence_plate"]:
        vehicle = gettext(
            "%(vehicle)s, licence plate %(plate)s",
            vehicle=facts["planned_vehicle"] or vehicle,
            plate=facts["licence_plate"],
        )
    elif facts["planned_vehicle"]:
        vehicle = facts["planned_vehicle"]
    description = "\n".join(
        [
            gettext("Reference: %(reference)s", reference=facts["reference"]),
            gettext("Vehicle: %(vehicle)s", vehicle=vehicle),
            gettext(
                "Rental period: %(first_day)s to %(last_day)s (%(days)s)",
                first_day=facts["first_day"],
                last_day=facts["last_day"],
                days=facts["days"],
            ),
            gettext(
                "Euromobil FlexFleet: %(phone)s, %(email)s",
                phone=facts["contact_phone"],
                email=facts["contact_email"],
            ),
        ]
    )
    event = ics.Event(
        uid=f"{request.reference}@{UID_DOMAIN}",
        start=start,
        end=end,
        summary=gettext(
            "Pick up FlexFleet rental %(reference)s: %(vehicle)s",
            reference=facts["reference"],
            vehicle=vehicle,
        ),
        location=facts["pickup_location"] or "",
        description=description,
    )
    return {
        "filename": f"{request.reference}.ics",
        "content_type": "text/calendar",
        "data": ics.calendar(event),
    }


#: Subjects of the mails to the requester (translated when composed).
SUBJECTS = {
    "confirmation": N_("Confirmed: your FlexFleet rental %(reference)s"),
    "rejection": N_("Your FlexFleet request %(reference)s has been declined"),
    "cancellation": N_("Your FlexFleet rental %(reference)s has been cancelled"),
}


def _to_requester(kind: str, request: RentalRequest, customer: Customer | None) -> Composed:
    customer = _customer(request, customer)
    language = _language(request)
    with force_locale(language):
        facts = _facts(request, customer)
        subject = _subject(gettext(SUBJECTS[kind], reference=facts["reference"]))
        text, html = _render(kind, language, subject, **facts)
        attachments = (_calendar_entry(request, facts),) if kind == "confirmation" else ()
    return Composed(kind, request.requester_email, subject, text, html, attachments)


def confirmation(request: RentalRequest, customer: Customer | None = None) -> Composed:
    """To the requester: the rental is confirmed, with the pickup and a calendar entry."""
    return _to_requester("confirmation", request, customer)


def rejection(request: RentalRequest, customer: Customer | None = None) -> Composed:
    """To the requester: the request is declined, and why."""
    return _to_requester("rejection", request, customer)


def cancellation(request: RentalRequest, customer: Customer | None = None) -> Composed:
    """To the requester: the rental is cancelled, and why."""
    return _to_requester("cancellation", request, customer)


def _request_url(request: RentalRequest) -> str | None:
    base = current_app.config.get("OCIFLEX_PUBLIC_URL")
    return base + OPS_REQUEST_PATH.format(id=request.id) if base else None


def _customer_fields(
    request: RentalRequest, customer: Customer | None, language: str
) -> list[tuple[str, str]]:
    """The customer's own fields (cost centre, PO number, ...) under the customer's labels."""
    shown = []
    for name, value in (request.fields or {}).items():
        if name in ("email", "full_name") or not one_line(value):
            continue
        field_def = customer.fields.get(name) if customer else None
        label = field_def.label_in(language) if field_def else name.replace("_", " ").capitalize()
        shown.append((one_line(label), one_line(value)))
    return shown


def new_request_notification(
    request: RentalRequest, recipient: str, customer: Customer | None = None
) -> Composed:
    """To operations (in Dutch): a request arrived, with what they need to plan it."""
    customer = _customer(request, customer)
    with force_locale(OPERATIONS_LANGUAGE):
        facts = _facts(request, customer)
        subject = _subject(
            gettext(
                "New request %(reference)s: %(customer)s, %(vehicle)s",
                reference=facts["reference"],
                customer=facts["customer_name"],
                vehicle=facts["vehicle"],
            )
        )
        text, html = _render(
            "new_request",
            OPERATIONS_LANGUAGE,
            subject,
            url=_request_url(request),
            customer_fields=_customer_fields(request, customer, OPERATIONS_LANGUAGE),
            **facts,
        )
    return Composed("new_request", recipient, subject, text, html)


class OrderFinding(Protocol):
    """Something operations must resolve about an order (an
    :class:`ociflex.orders.findings.Finding`)."""

    line_number: int | None
    reference: str

    def text(self, gettext: Callable[[str], str]) -> str: ...


def order_notice(
    recipient: str,
    customer: Customer | None,
    order: PurchaseOrder,
    findings: Sequence[OrderFinding],
) -> Composed:
    """To operations (in Dutch): a purchase order arrived that leaves something to resolve."""
    with force_locale(OPERATIONS_LANGUAGE):
        customer_name = one_line(customer.name if customer else order.customer_id)
        subject = _subject(
            gettext(
                "Purchase order %(order)s of %(customer)s: please check",
                order=order.order_id,
                customer=customer_name,
            )
        )
        items = [
            (
                gettext("Line %(number)s", number=f.line_number) if f.line_number else None,
                one_line(f.reference) or None,
                f.text(gettext),
            )
            for f in findings
        ]
        base = current_app.config.get("OCIFLEX_PUBLIC_URL")
        text, html = _render(
            "order_notice",
            OPERATIONS_LANGUAGE,
            subject,
            order=one_line(order.order_id),
            customer_name=customer_name,
            sender=one_line(order.sender),
            items=items,
            url=base + OPS_ORDER_PATH.format(id=order.id) if base else None,
        )
    return Composed("order_notice", recipient, subject, text, html)
