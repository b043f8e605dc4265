"""The OCI rules a basket must keep, checked on the posted name/value pairs.

SAP drops a basket line it cannot read without telling anyone, so every basket is checked
before it is sent; the ERP simulator runs the same checks on what it receives.
"""

import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from typing import NamedTuple

from ociflex.oci.charset import codec_for, first_unencodable
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


class Problem(NamedTuple):
    #: The NEW_ITEM field (or, outside the items, the posted name) at fault, if any.
    field: str | None
    message: str


def basket_problems(
    fields: Iterable[tuple[str, str]], charset: str, limit: Callable[[str], int | None]
) -> list[Problem]:
    """Every OCI rule that the posted ``fields`` break; ``limit`` gives a field's maximum length."""
    problems = []
    if codec_for(charset) is None:
        problems.append(Problem(None, f"The charset {charset!r} is unknown"))
    lines: defaultdict[int, dict[str, str]] = defaultdict(dict)
    for name, value in fields:
        if name in ECHOED_PARAMETERS:
            problems += _value_problems(name, name, value, charset)
            continue
        key = _parse_item_name(name)
        if isinstance(key, Problem):
            problems.append(key)
            continue
        field, index = key
        if field in lines[index]:
            problems.append(Problem(field, f"{name} is posted more than once"))
        lines[index][field] = value
        problems += _value_problems(name, field, value, charset)
        problems += _item_problems(name, field, value, limit)
    problems += _index_problems(lines)
    for index, line in sorted(lines.items()):
        problems += _line_problems(index, line)
    return problems


def _parse_item_name(name: str) -> tuple[str, int] | Problem:
    """(NEW_ITEM field, line index) of a posted name, or what is wrong with the name."""
    if match := _LONGTEXT_ITEM_NAME.fullmatch(name):
        field, index = "LONGTEXT", match[1]
    elif (match := _ITEM_NAME.fullmatch(name)) and match[1] != "LONGTEXT":
        field, index = match[1], match[2]
    else:
        return Problem(name, f"{name} is not an OCI basket field name")
    if field not in NEW_ITEM_MAX_LENGTHS:
        return Problem(name, f"{name}: {field} is not an OCI NEW_ITEM field")
    if not _LINE_INDEX.fullmatch(index):
        return Problem(field, f"{name}: OCI numbers lines from 1, without leading zeros")
    return field, int(index)


def _value_problems(name: str, field: str, value: str, charset: str) -> list[Problem]:
    problems = []
    codec = codec_for(charset)
    control = _CONTROL_CHAR_BUT_NEWLINE if field == "LONGTEXT" else _CONTROL_CHAR
    if match := control.search(value):
        problems.append(
            Problem(field, f"{name} contains the control character U+{ord(match[0]):04X}")
        )
    if codec is not None and (char := first_unencodable(value, codec)) is not None:
        problems.append(Problem(field, f"{name} contains {char!r}, which {charset} cannot encode"))
    return problems


def _item_problems(
    name: str, field: str, value: str, limit: Callable[[str], int | None]
) -> list[Problem]:
    problems = []
    maximum = limit(field)
    if maximum is not None and len(value) > maximum:
        problems.append(
            Problem(field, f"{name} is {len(value)} characters long; the limit is {maximum}")
        )
    if field in _NUMBER_FORMATS and value:
        pattern, description = _NUMBER_FORMATS[field]
        if not pattern.fullmatch(value):
            problems.append(Problem(field, f"{name} is {value!r}; it must be {description}"))
    return problems


def _index_problems(indexes: Iterable[int]) -> list[Problem]:
    found = sorted(indexes)
    if not found:
        return [Problem(None, "The basket has no NEW_ITEM lines")]
    if found != list(range(1, len(found) + 1)):
        listed = ", ".join(map(str, found))
        return [Problem(None, f"Line indexes must run from 1 without gaps; found {listed}")]
    return []


def _line_problems(index: int, line: Mapping[str, str]) -> list[Problem]:
    problems = [
        Problem(field, f"NEW_ITEM-{field}[{index}] is missing or empty; OCI requires it")
        for field in _REQUIRED
        if not line.get(field)
    ]
    problems += [
        Problem(required, f"NEW_ITEM-{required}[{index}] is missing; OCI requires it with {field}")
        for field, required in _REQUIRED_WITH
        if line.get(field) and not line.get(required)
    ]
    return problems
