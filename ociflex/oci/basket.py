"""The OCI basket that the employee's browser posts back to the ERP: NEW_ITEM fields of a cart.

OCI has no reply and no error channel: SAP silently drops a line it cannot read. So a basket is
checked against the OCI rules and the customer's field limits before it is sent, and a
configuration that would produce an invalid basket is an error, never a silent truncation.
"""

from collections.abc import Callable, Mapping, Sequence

from ociflex.booking.cart import Cart, CartError
from ociflex.booking.details import Booking, fill, placeholder_values, plain_amount
from ociflex.booking.session import CartReturn
from ociflex.customers.model import Customer, Vehicle
from ociflex.oci.basket_rules import ECHOED_PARAMETERS, LINE_BREAK, basket_problems
from ociflex.oci.charset import in_charset
from ociflex.oci.config import OciSettings, oci_settings
from ociflex.oci.limits import NEW_ITEM_MAX_LENGTHS

_CANONICAL_ORDER = {name: position for position, name in enumerate(NEW_ITEM_MAX_LENGTHS)}
#: The fields every line starts with, in this order (see :func:`line_values`).
_HEAD_FIELDS = ("DESCRIPTION", "QUANTITY", "UNIT", "PRICE", "PRICEUNIT", "CURRENCY")


class BasketError(CartError):
    """The basket would be invalid; ``fields`` names the NEW_ITEM fields at fault (``UNIT``)."""

    def __init__(self, problems: list[str], fields: list[str]) -> None:
        super().__init__(problems)
        self.fields = fields


def _untranslated(text: str) -> str:
    return text


def build_basket(
    customer: Customer,
    booking: Booking,
    *,
    reference: str,
    cart_return: CartReturn,
    gettext: Callable[[str], str] = _untranslated,
) -> Cart:
    """The one-line basket for ``booking``, posted as ``cart_return`` says; raises
    :class:`BasketError` when it would be invalid.

    Values that the charset cannot encode are transliterated (``Ł`` -> ``L``, ``’`` -> ``'``).
    """
    line = _item_values(customer, booking, reference, gettext)
    return checked_basket(oci_settings(customer), [line], cart_return)


def checked_basket(
    settings: OciSettings, lines: Sequence[Sequence[tuple[str, str]]], cart_return: CartReturn
) -> Cart:
    """The basket of ``lines`` (each: NEW_ITEM field -> value, in posting order), numbered from
    1, with ``~OkCode`` and ``~CALLER`` echoed after them when the call-up sent them; values
    transliterated into the charset. Raises :class:`BasketError` when the result breaks an OCI
    rule or one of the customer's limits."""
    charset = cart_return.charset
    items = [
        (item_name(field, index), in_charset(value, charset, _limit(settings, field)))
        for index, line in enumerate(lines, start=1)
        for field, value in line
    ]
    echoed = [
        (name, in_charset(cart_return.echo[name], charset))
        for name in ECHOED_PARAMETERS
        if cart_return.echo.get(name) is not None
    ]
    fields = tuple(items + echoed)
    basket = Cart(action=cart_return.url, target=cart_return.target, charset=charset, fields=fields)
    if problems := basket_problems(basket.fields, basket.charset, settings.limit):
        raise BasketError(
            [problem.message for problem in problems],
            list(dict.fromkeys(problem.field for problem in problems if problem.field)),
        )
    return basket


def _limit(settings: OciSettings, field: str) -> int | None:
    """The customer's limit of a NEW_ITEM ``field``; ``None`` for a name OCI does not know,
    which :func:`basket_problems` reports."""
    return settings.limit(field) if field in NEW_ITEM_MAX_LENGTHS else None


def item_name(field: str, index: int) -> str:
    """The posted name of NEW_ITEM ``field`` on line ``index``; long text has the index in the
    name and empty brackets (``NEW_ITEM-LONGTEXT_2:132[]``)."""
    if field == "LONGTEXT":
        return f"NEW_ITEM-LONGTEXT_{index}:132[]"
    return f"NEW_ITEM-{field}[{index}]"


def check_basket(basket: Cart, customer: Customer) -> list[str]:
    """Everything in ``basket`` that breaks an OCI rule or one of ``customer``'s limits."""
    problems = basket_problems(basket.fields, basket.charset, oci_settings(customer).limit)
    return [problem.message for problem in problems]


def _item_values(
    customer: Customer, booking: Booking, reference: str, gettext: Callable[[str], str]
) -> list[tuple[str, str]]:
    """NEW_ITEM field -> value of the line, in posting order, without empty values."""
    vehicle = booking.vehicle
    return line_values(
        vehicle,
        description=booking.short_description,
        quantity=str(booking.days),
        configured=_render_templates(customer, booking, reference),
        tail=[
            ("EXT_PRODUCT_ID", vehicle.code),
            ("EXT_QUOTE_ID", reference),
            ("LONGTEXT", _longtext(customer, booking, reference, gettext)),
        ],
    )


def line_values(
    vehicle: Vehicle,
    *,
    description: str,
    quantity: str,
    configured: Mapping[str, str],
    tail: Sequence[tuple[str, str]],
) -> list[tuple[str, str]]:
    """NEW_ITEM field -> value of one line for ``vehicle``, in posting order, without empty
    values: description, quantity, unit, price per day, currency, the customer's other
    ``configured`` values in the canonical order, then ``tail``."""
    middle = {field: value for field, value in configured.items() if field not in _HEAD_FIELDS}
    head = [
        ("DESCRIPTION", description),
        ("QUANTITY", quantity),
        ("UNIT", configured.get("UNIT", "")),
        ("PRICE", plain_amount(vehicle.day_rate)),
        ("PRICEUNIT", "1"),
        ("CURRENCY", configured.get("CURRENCY", "")),
    ]
    ordered = sorted(middle.items(), key=_canonical_position)
    return [(field, value) for field, value in [*head, *ordered, *tail] if value]


def _canonical_position(item: tuple[str, str]) -> tuple[int, str]:
    field = item[0]
    return _CANONICAL_ORDER.get(field, len(_CANONICAL_ORDER)), field


def _render_templates(customer: Customer, booking: Booking, reference: str) -> dict[str, str]:
    """The customer's ``basket`` entries with their placeholders filled in."""
    values = placeholder_values(customer, booking, reference)
    return {
        field: fill(template, values) for field, template in oci_settings(customer).basket.items()
    }


def _longtext(
    customer: Customer, booking: Booking, reference: str, gettext: Callable[[str], str]
) -> str:
    """All details of the booking, one per line, for the buyer's approvers; lines end in CR LF,
    as the browser posts them (:data:`~ociflex.oci.basket_rules.LINE_BREAK`), so that the
    basket ociflex checks and keeps is the one the ERP receives."""
    language = customer.language
    vehicle = booking.vehicle
    period = f"{booking.start:%d-%m-%Y} – {booking.end:%d-%m-%Y} ({booking.days_text(gettext)})"
    lines = [
        _line(gettext("Requester"), f"{booking.fields['full_name']} <{booking.fields['email']}>"),
        vehicle_line(vehicle, language, gettext),
        _line(gettext("Period"), period),
    ]
    if booking.location:
        lines.append(_line(gettext("Pickup location"), booking.location))
    lines += [
        _line(field.label_in(language), value)
        for name, field in customer.fields.items()
        if name not in ("full_name", "email") and (value := booking.fields.get(name, ""))
    ]
    if remarks := _plain_lines(booking.remarks):
        lines.append(_line(gettext("Remarks"), remarks))
    lines.append(_line(gettext("Reference"), reference))
    return LINE_BREAK.join(lines)


def vehicle_line(vehicle: Vehicle, language: str, gettext: Callable[[str], str]) -> str:
    """The long text's line naming the vehicle: "Vehicle: Compact car (VW Polo) (COMPACT)"."""
    return _line(gettext("Vehicle"), f"{vehicle.name.get(language)} ({vehicle.code})")


def _line(label: str, value: str) -> str:
    return f"{label}: {value}"


def _plain_lines(text: str) -> str:
    """Free text from a form, with CR LF as its only line break and tabs as spaces."""
    return LINE_BREAK.join(text.strip().splitlines()).replace("\t", " ")
