"""The OCI basket that the employee's browser posts back to the ERP, as plain data.

OCI has no reply and no error channel: SAP silently drops a line it cannot read. So a basket is
checked against the OCI rules and the customer's field limits before it is sent, and a
configuration that would produce an invalid basket is an error, never a silent truncation.
"""

import codecs
import re
import unicodedata
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, NamedTuple, Self

from ociflex.customers.model import PLACEHOLDER, Customer, Vehicle
from ociflex.oci.limits import NEW_ITEM_MAX_LENGTHS

#: Long text carries its line index in the name and has empty brackets.
LONGTEXT_NAME = "NEW_ITEM-LONGTEXT_1:132[]"

#: Call-up parameters that are echoed back after the items when the ERP sent them.
ECHOED_PARAMETERS = ("~OkCode", "~CALLER")

_ITEM_NAME = re.compile(r"NEW_ITEM-([A-Z][A-Z0-9_]*)\[([0-9]+)\]")
_LONGTEXT_ITEM_NAME = re.compile(r"NEW_ITEM-LONGTEXT_([0-9]+):132\[\]")
_LINE_INDEX = re.compile(r"[1-9][0-9]*")
_CONTROL_CHAR = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_CONTROL_CHAR_BUT_NEWLINE = re.compile(r"[\x00-\x09\x0b-\x1f\x7f-\x9f]")
_CANONICAL_ORDER = {name: position for position, name in enumerate(NEW_ITEM_MAX_LENGTHS)}

#: NEW_ITEM field -> (format of a non-empty value, what the format is in words).
_NUMBER_FORMATS = {
    "QUANTITY": (
        re.compile(r"(?=.*[1-9])[0-9]{1,11}(?:\.[0-9]{1,3})?"),
        "a positive number with a decimal point and at most 11 + 3 digits",
    ),
    "PRICE": (
        re.compile(r"[0-9]{1,11}(?:\.[0-9]{1,4})?"),
        "a number with a decimal point, no thousands separator and at most 11 + 4 digits",
    ),
    "PRICEUNIT": (re.compile(r"[1-9][0-9]*"), "a positive whole number"),
}

#: NEW_ITEM fields that OCI requires on every line.
_REQUIRED = ("DESCRIPTION", "QUANTITY", "UNIT")

#: (field, field that OCI requires with it).
_REQUIRED_WITH = (("PRICE", "CURRENCY"), ("EXT_CATEGORY_ID", "EXT_SCHEMA_TYPE"))

#: ASCII stand-ins for characters that NFKD does not reduce to something a legacy charset has.
_FALLBACKS = {
    "‘": "'",
    "’": "'",
    "‚": "'",
    "‛": "'",
    "“": '"',
    "”": '"',
    "„": '"',
    "‟": '"',
    "‐": "-",
    "‒": "-",
    "–": "-",
    "—": "-",
    "―": "-",
    "−": "-",
    "€": "EUR",
    "Ł": "L",
    "ł": "l",
    "Đ": "D",
    "đ": "d",
    "Œ": "OE",
    "œ": "oe",
    "ı": "i",
}


@dataclass(frozen=True)
class Booking:
    """What the employee booked, as the basket needs it."""

    vehicle: Vehicle
    start: date
    #: The last day of the rental (inclusive).
    end: date
    location: str | None
    #: Final value of every customer field after the employee's edits ("" when not given).
    fields: Mapping[str, str]
    remarks: str = ""

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1


@dataclass(frozen=True)
class Basket:
    """The hidden inputs of the return form, and where and how the browser posts them."""

    #: HOOK_URL exactly as received (query string included): the form's action.
    action: str
    target: str
    #: The form's accept-charset; every value is encodable in it.
    charset: str
    #: (name, value) pairs in posting order.
    fields: tuple[tuple[str, str], ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "action": self.action,
            "target": self.target,
            "charset": self.charset,
            "fields": [[name, value] for name, value in self.fields],
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Self:
        return cls(
            action=data["action"],
            target=data["target"],
            charset=data["charset"],
            fields=tuple((name, value) for name, value in data["fields"]),
        )


class BasketError(ValueError):
    """The basket would be invalid; ``fields`` names the NEW_ITEM fields at fault (``UNIT``)."""

    def __init__(self, problems: list[str], fields: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems
        self.fields = fields


class _Problem(NamedTuple):
    #: The NEW_ITEM field (or, outside the items, the posted name) at fault, if any.
    field: str | None
    message: str


def _untranslated(text: str) -> str:
    return text


def build_basket(
    customer: Customer,
    booking: Booking,
    *,
    reference: str,
    hook_url: str,
    target: str,
    charset: str,
    ok_code: str | None,
    caller: str | None,
    gettext: Callable[[str], str] = _untranslated,
) -> Basket:
    """The one-line basket for ``booking``; raises :class:`BasketError` when it would be invalid.

    Values that ``charset`` cannot encode are transliterated (``Ł`` -> ``L``, ``’`` -> ``'``).
    """
    items = [
        (LONGTEXT_NAME if field == "LONGTEXT" else f"NEW_ITEM-{field}[1]", value)
        for field, value in _item_values(customer, booking, reference, gettext)
    ]
    echoed = [
        (name, value)
        for name, value in zip(ECHOED_PARAMETERS, (ok_code, caller), strict=True)
        if value is not None
    ]
    fields = tuple((name, _in_charset(value, charset)) for name, value in items + echoed)
    basket = Basket(action=hook_url, target=target, charset=charset, fields=fields)
    if problems := _problems(basket, customer):
        raise BasketError(
            [problem.message for problem in problems],
            list(dict.fromkeys(problem.field for problem in problems if problem.field)),
        )
    return basket


def check_basket(basket: Basket, customer: Customer) -> list[str]:
    """Everything in ``basket`` that breaks an OCI rule or one of ``customer``'s limits."""
    return [problem.message for problem in _problems(basket, customer)]


def _item_values(
    customer: Customer, booking: Booking, reference: str, gettext: Callable[[str], str]
) -> list[tuple[str, str]]:
    """NEW_ITEM field -> value of the line, in posting order, without empty values."""
    vehicle = booking.vehicle
    configured = _render_templates(customer, booking, reference)
    head = [
        ("DESCRIPTION", f"{vehicle.description} {booking.start:%d-%m-%Y}–{booking.end:%d-%m-%Y}"),
        ("QUANTITY", str(booking.days)),
        ("UNIT", configured.pop("UNIT", "")),
        ("PRICE", _price(vehicle.day_rate)),
        ("PRICEUNIT", "1"),
        ("CURRENCY", configured.pop("CURRENCY", "")),
    ]
    tail = [
        ("EXT_PRODUCT_ID", vehicle.code),
        ("EXT_QUOTE_ID", reference),
        ("LONGTEXT", _longtext(customer, booking, reference, gettext)),
    ]
    middle = sorted(configured.items(), key=_canonical_position)
    return [(field, value) for field, value in head + middle + tail if value]


def _canonical_position(item: tuple[str, str]) -> tuple[int, str]:
    field = item[0]
    return _CANONICAL_ORDER.get(field, len(_CANONICAL_ORDER)), field


def _render_templates(customer: Customer, booking: Booking, reference: str) -> dict[str, str]:
    """The customer's ``basket`` entries with their placeholders filled in."""
    values = {name: booking.fields.get(name, "") for name in customer.fields} | {
        "vehicle_code": booking.vehicle.code,
        "reference": reference,
        "start": booking.start.isoformat(),
        "end": booking.end.isoformat(),
        "days": str(booking.days),
        "location": booking.location or "",
    }
    return {
        field: PLACEHOLDER.sub(lambda match: values[match[1]], template)
        for field, template in customer.basket.items()
    }


def _price(day_rate: Decimal) -> str:
    return format(day_rate.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP), "f")


def _longtext(
    customer: Customer, booking: Booking, reference: str, gettext: Callable[[str], str]
) -> str:
    """All details of the booking, one per line, for the buyer's approvers."""
    language = customer.language
    vehicle = booking.vehicle
    day_word = gettext("day") if booking.days == 1 else gettext("days")
    period = f"{booking.start:%d-%m-%Y} – {booking.end:%d-%m-%Y} ({booking.days} {day_word})"
    lines = [
        _line(gettext("Requester"), f"{booking.fields['full_name']} <{booking.fields['email']}>"),
        _line(gettext("Vehicle"), f"{vehicle.name.get(language)} ({vehicle.code})"),
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
    return "\n".join(lines)


def _line(label: str, value: str) -> str:
    return f"{label}: {value}"


def _plain_lines(text: str) -> str:
    """Free text from a form, with LF as its only line break and tabs as spaces."""
    return "\n".join(text.strip().splitlines()).replace("\t", " ")


def _in_charset(value: str, charset: str) -> str:
    """``value`` with every character that ``charset`` cannot encode transliterated."""
    value = unicodedata.normalize("NFC", value)
    codec = _codec(charset)
    if codec is None:
        return value  # check_basket reports the unknown charset
    return "".join(
        char if _encodable(char, codec) else _transliterated(char, codec) for char in value
    )


def _transliterated(char: str, codec: codecs.CodecInfo) -> str:
    """An encodable stand-in for ``char``: ASCII look-alike, base letter, else ``?``."""
    decomposed = _FALLBACKS.get(char) or unicodedata.normalize("NFKD", char)
    return "".join(
        part if _encodable(part, codec) else "?"
        for part in decomposed
        if not unicodedata.combining(part)
    )


def _codec(charset: str) -> codecs.CodecInfo | None:
    try:
        return codecs.lookup(charset)
    except LookupError:
        return None


def _encodable(text: str, codec: codecs.CodecInfo) -> bool:
    return _first_unencodable(text, codec) is None


def _first_unencodable(text: str, codec: codecs.CodecInfo) -> str | None:
    try:
        codec.encode(text)
    except UnicodeEncodeError as error:
        return text[error.start]
    return None


def _problems(basket: Basket, customer: Customer) -> list[_Problem]:
    problems = []
    if _codec(basket.charset) is None:
        problems.append(_Problem(None, f"The charset {basket.charset!r} is unknown"))
    lines: defaultdict[int, dict[str, str]] = defaultdict(dict)
    for name, value in basket.fields:
        if name in ECHOED_PARAMETERS:
            problems += _value_problems(name, name, value, basket.charset)
            continue
        key = _parse_item_name(name)
        if isinstance(key, _Problem):
            problems.append(key)
            continue
        field, index = key
        if field in lines[index]:
            problems.append(_Problem(field, f"{name} is posted more than once"))
        lines[index][field] = value
        problems += _value_problems(name, field, value, basket.charset)
        problems += _item_problems(name, field, value, customer)
    problems += _index_problems(lines)
    for index, line in sorted(lines.items()):
        problems += _line_problems(index, line)
    return problems


def _parse_item_name(name: str) -> tuple[str, int] | _Problem:
    """(NEW_ITEM field, line index) of a posted name, or what is wrong with the name."""
    if match := _LONGTEXT_ITEM_NAME.fullmatch(name):
        field, index = "LONGTEXT", match[1]
    elif (match := _ITEM_NAME.fullmatch(name)) and match[1] != "LONGTEXT":
        field, index = match[1], match[2]
    else:
        return _Problem(name, f"{name} is not an OCI basket field name")
    if field not in NEW_ITEM_MAX_LENGTHS:
        return _Problem(name, f"{name}: {field} is not an OCI NEW_ITEM field")
    if not _LINE_INDEX.fullmatch(index):
        return _Problem(field, f"{name}: OCI numbers lines from 1, without leading zeros")
    return field, int(index)


def _value_problems(name: str, field: str, value: str, charset: str) -> list[_Problem]:
    problems = []
    codec = _codec(charset)
    control = _CONTROL_CHAR_BUT_NEWLINE if field == "LONGTEXT" else _CONTROL_CHAR
    if match := control.search(value):
        problems.append(
            _Problem(field, f"{name} contains the control character U+{ord(match[0]):04X}")
        )
    if codec is not None and (char := _first_unencodable(value, codec)) is not None:
        problems.append(_Problem(field, f"{name} contains {char!r}, which {charset} cannot encode"))
    return problems


def _item_problems(name: str, field: str, value: str, customer: Customer) -> list[_Problem]:
    problems = []
    limit = customer.limit(field)
    if limit is not None and len(value) > limit:
        problems.append(
            _Problem(field, f"{name} is {len(value)} characters long; the limit is {limit}")
        )
    if field in _NUMBER_FORMATS and value:
        pattern, description = _NUMBER_FORMATS[field]
        if not pattern.fullmatch(value):
            problems.append(_Problem(field, f"{name} is {value!r}; it must be {description}"))
    return problems


def _index_problems(indexes: Iterable[int]) -> list[_Problem]:
    found = sorted(indexes)
    if not found:
        return [_Problem(None, "The basket has no NEW_ITEM lines")]
    if found != list(range(1, len(found) + 1)):
        listed = ", ".join(map(str, found))
        return [_Problem(None, f"Line indexes must run from 1 without gaps; found {listed}")]
    return []


def _line_problems(index: int, line: Mapping[str, str]) -> list[_Problem]:
    problems = [
        _Problem(field, f"NEW_ITEM-{field}[{index}] is missing or empty; OCI requires it")
        for field in _REQUIRED
        if not line.get(field)
    ]
    problems += [
        _Problem(required, f"NEW_ITEM-{required}[{index}] is missing; OCI requires it with {field}")
        for field, required in _REQUIRED_WITH
        if line.get(field) and not line.get(required)
    ]
    return problems
