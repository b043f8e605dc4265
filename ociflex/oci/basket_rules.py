"""The OCI rules a basket must keep, checked on the posted name/value pairs.

SAP drops a basket line it cannot read without telling anyone, so every basket is checked
before it is sent; the ERP simulator runs the same checks on what it receives.

No value may hold a control character, with one exception: long text has lines, separated by
CR LF (:data:`LINE_BREAK`). The basket reaches the ERP as the browser's form post, and a form
post carries every line break of a value as CR LF, whatever the page held (LF, CR or CR LF:
HTML, "converting an entry list to a list of name-value pairs"). So CR LF is the line break
that SAP gets from every catalogue, the one ociflex builds, and the only one the checks let
through; a CR or LF on its own is flagged like any other control character.

Each problem's text is an English msgid with its values apart (:class:`Problem`): the ERP
simulator shows it in the page's language, the logs and errors in English.
"""

import difflib
import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from types import MappingProxyType
from typing import NamedTuple

from babel.numbers import list_currencies

from ociflex.digits import plain_digits
from ociflex.oci.charset import codec_for, first_unencodable
from ociflex.oci.limits import NEW_ITEM_MAX_LENGTHS
from ociflex.text import N_
from ociflex.units import UNIT_CODES, nearest_unit

#: Long text carries its line index in the name and has empty brackets.
LONGTEXT_NAME = "NEW_ITEM-LONGTEXT_1:132[]"

#: The line break of long text, as every browser posts it (see the module doc).
LINE_BREAK = "\r\n"

#: Call-up parameters that are echoed back after the items when the ERP sent them.
ECHOED_PARAMETERS = ("~OkCode", "~CALLER")

_ITEM_NAME = re.compile(r"NEW_ITEM-([A-Z][A-Z0-9_]*)\[([0-9]+)\]")
_LONGTEXT_ITEM_NAME = re.compile(r"NEW_ITEM-LONGTEXT_([0-9]+):132\[\]")
#: Anything that looks like a NEW_ITEM name, however wrong: (field part, bracket content).
_ITEM_LIKE_NAME = re.compile(r"NEW_ITEM-([^\[\]]*)\[([^\[\]]*)\]", re.IGNORECASE)
#: A long text name gone wrong: ``NEW_ITEM-LONGTEXT[1]``, ``NEW_ITEM-LONGTEXT_1[]``, ...
_LONGTEXT_LIKE_FIELD = re.compile(r"LONGTEXT(?:_([0-9]+))?(?::[0-9]*)?", re.IGNORECASE)
_LINE_INDEX = re.compile(r"[1-9][0-9]*")
_CONTROL_CHAR = re.compile(r"[\x00-\x1f\x7f-\x9f]")

#: NEW_ITEM field -> (format of a non-empty value, the problem of a value in another format).
_NUMBER_FORMATS = {
    "QUANTITY": (
        re.compile(r"(?=.*[1-9])[0-9]{1,11}(?:\.[0-9]{1,3})?"),
        N_(
            "%(name)s is %(value)s; it must be a positive number with a decimal point and at "
            "most 11 + 3 digits"
        ),
    ),
    "PRICE": (
        re.compile(r"[0-9]{1,11}(?:\.[0-9]{1,4})?"),
        N_(
            "%(name)s is %(value)s; it must be a number with a decimal point, no thousands "
            "separator and at most 11 + 4 digits"
        ),
    ),
    "PRICEUNIT": (
        re.compile(r"[1-9][0-9]*"),
        N_("%(name)s is %(value)s; it must be a positive whole number"),
    ),
}

#: NEW_ITEM fields that OCI requires on every line, unless the line names the buyer's material
#: (MATNR): SAP then takes the description and the unit from its material master.
_REQUIRED = ("DESCRIPTION", "QUANTITY", "UNIT")
_REQUIRED_UNLESS_MATNR = ("DESCRIPTION", "UNIT")

#: (field, field that OCI requires with it).
_REQUIRED_WITH = (("PRICE", "CURRENCY"), ("EXT_CATEGORY_ID", "EXT_SCHEMA_TYPE"))


class Problem(NamedTuple):
    #: The NEW_ITEM field (or, outside the items, the posted name) at fault, if any.
    field: str | None
    #: What is wrong: an English msgid (marked with N_) with ``%(name)s`` placeholders, to be
    #: translated where it is shown and filled in with :attr:`params`.
    text: str
    #: The posted name the problem concerns (``NEW_ITEM-PRICE[1]``), also when that name is
    #: missing from the post (``NEW_ITEM-CURRENCY[1]`` when PRICE came without it); ``None``
    #: for a problem of the whole basket, such as a gap in the line indexes.
    name: str | None = None
    #: The line index the problem concerns, as posted (``0`` for ``NEW_ITEM-UNIT[0]``), if any.
    line: int | None = None
    #: The values of the placeholders in :attr:`text`.
    params: Mapping[str, object] = MappingProxyType({})

    @property
    def message(self) -> str:
        """What is wrong, in English: for the logs and the errors of a basket ociflex builds."""
        return self.text % self.params


def posted_line(name: str) -> int | None:
    """The line index a posted name refers to, read leniently: 1 for ``NEW_ITEM-PRICE[1]``,
    ``NEW_ITEM-LONGTEXT_1:132[]``, ``NEW_ITEM-LONGTEXT[1]`` and ``new_item-price[01]``, 0 for
    ``NEW_ITEM-PRICE[0]``; ``None`` for a name that is not a NEW_ITEM name at all."""
    if not (match := _ITEM_LIKE_NAME.fullmatch(name)):
        return None
    field, inside = match[1], match[2]
    if plain_digits(inside):
        return int(inside)
    if (longtext := _LONGTEXT_LIKE_FIELD.fullmatch(field)) and longtext[1]:
        return int(longtext[1])
    return None


def basket_problems(
    fields: Iterable[tuple[str, str]], charset: str, limit: Callable[[str], int | None]
) -> list[Problem]:
    """Every OCI rule that the posted ``fields`` break; ``limit`` gives a field's maximum length.

    Besides lengths, number formats and required fields, UNIT must be a known ISO unit code
    (:data:`ociflex.units.UNIT_CODES`), CURRENCY an ISO 4217 code and SERVICE ``X`` or
    empty. Each problem names the posted name it concerns (:attr:`Problem.name`).
    """
    problems = []
    if codec_for(charset) is None:
        text = N_("The charset %(charset)s is unknown")
        problems.append(Problem(None, text, params={"charset": repr(charset)}))
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
            text = N_("%(name)s is posted more than once")
            problems.append(Problem(field, text, name, index, {"name": name}))
        lines[index][field] = value
        problems += _value_problems(name, field, value, charset)
        problems += _item_problems(name, field, value, limit)
        problems += _code_problems(name, field, value)
    problems += _index_problems(lines)
    for index, line in sorted(lines.items()):
        problems += _line_problems(index, line)
    return problems


def _parse_item_name(name: str) -> tuple[str, int] | Problem:
    """(NEW_ITEM field, line index) of a posted name, or what is wrong with the name."""
    line = posted_line(name)
    if match := _LONGTEXT_ITEM_NAME.fullmatch(name):
        field, index = "LONGTEXT", match[1]
    elif (match := _ITEM_NAME.fullmatch(name)) and match[1] != "LONGTEXT":
        field, index = match[1], match[2]
    else:
        return _name_problem(name, line)
    if field not in NEW_ITEM_MAX_LENGTHS:
        params = {"name": name, "field": field}
        if close := difflib.get_close_matches(field, list(NEW_ITEM_MAX_LENGTHS), n=1):
            text = N_("%(name)s: %(field)s is not an OCI NEW_ITEM field; did you mean %(close)s?")
            return Problem(name, text, name, line, {**params, "close": close[0]})
        text = N_("%(name)s: %(field)s is not an OCI NEW_ITEM field")
        return Problem(name, text, name, line, params)
    if not _LINE_INDEX.fullmatch(index):
        text = N_("%(name)s: OCI numbers lines from 1, without leading zeros")
        return Problem(field, text, name, line, {"name": name})
    return field, int(index)


def _name_problem(name: str, line: int | None) -> Problem:
    match = _ITEM_LIKE_NAME.fullmatch(name)
    if match and _LONGTEXT_LIKE_FIELD.fullmatch(match[1]):
        text = N_(
            "%(name)s is not an OCI basket field name; long text is posted as "
            "NEW_ITEM-LONGTEXT_%(index)s:132[] (the line index in the name, empty brackets)"
        )
        index = line if line is not None else "n"
        return Problem(name, text, name, line, {"name": name, "index": index})
    if match and name != name.upper() and not isinstance(_parse_item_name(name.upper()), Problem):
        text = N_("%(name)s is not an OCI basket field name; names are case-sensitive: %(upper)s")
        return Problem(name, text, name, line, {"name": name, "upper": name.upper()})
    return Problem(name, N_("%(name)s is not an OCI basket field name"), name, line, {"name": name})


def _value_problems(name: str, field: str, value: str, charset: str) -> list[Problem]:
    problems = []
    codec = codec_for(charset)
    line = posted_line(name)
    if match := _CONTROL_CHAR.search(_without_line_breaks(field, value)):
        params = {"name": name, "code_point": f"U+{ord(match[0]):04X}"}
        if field == "LONGTEXT" and match[0] in LINE_BREAK:
            text = N_(
                "%(name)s contains the control character %(code_point)s; a line break in long "
                "text is CR LF, as a browser posts it"
            )
        else:
            text = N_("%(name)s contains the control character %(code_point)s")
        problems.append(Problem(field, text, name, line, params))
    if codec is not None and (char := first_unencodable(value, codec)) is not None:
        text = N_("%(name)s contains %(character)s, which %(charset)s cannot encode")
        params = {"name": name, "character": repr(char), "charset": charset}
        problems.append(Problem(field, text, name, line, params))
    return problems


def _without_line_breaks(field: str, value: str) -> str:
    """``value`` as the control character check reads it: long text without its CR LFs."""
    return value.replace(LINE_BREAK, "") if field == "LONGTEXT" else value


def _item_problems(
    name: str, field: str, value: str, limit: Callable[[str], int | None]
) -> list[Problem]:
    problems = []
    line = posted_line(name)
    maximum = limit(field)
    if maximum is not None and len(value) > maximum:
        text = N_("%(name)s is %(length)s characters long; the limit is %(maximum)s")
        params = {"name": name, "length": len(value), "maximum": maximum}
        problems.append(Problem(field, text, name, line, params))
    if field in _NUMBER_FORMATS and value:
        pattern, text = _NUMBER_FORMATS[field]
        if not pattern.fullmatch(value):
            problems.append(Problem(field, text, name, line, {"name": name, "value": repr(value)}))
    return problems


def _code_problems(name: str, field: str, value: str) -> list[Problem]:
    """UNIT, CURRENCY and SERVICE hold codes from a fixed list; SAP drops a line it cannot map."""
    if not value:
        return []
    params: dict[str, object] = {"name": name, "value": repr(value)}
    if field == "UNIT" and value not in UNIT_CODES:
        if (nearest := nearest_unit(value)) is not None:
            text = N_(
                "%(name)s is %(value)s, not an ISO unit code (UN/ECE Recommendation 20) that "
                "SAP can map; did you mean %(nearest)s (%(unit)s)?"
            )
            params |= {"nearest": nearest, "unit": UNIT_CODES[nearest]}
        else:
            text = N_(
                "%(name)s is %(value)s, not an ISO unit code (UN/ECE Recommendation 20) that "
                "SAP can map"
            )
    elif field == "CURRENCY" and value not in list_currencies():
        if (capitals := value.strip().upper()) in list_currencies():
            text = N_(
                "%(name)s is %(value)s, not an ISO 4217 currency code; write it in capitals: "
                "%(capitals)s"
            )
            params["capitals"] = capitals
        else:
            text = N_("%(name)s is %(value)s, not an ISO 4217 currency code")
    elif field == "SERVICE" and value != "X":
        text = N_("%(name)s is %(value)s; it must be X (a service line) or empty")
    else:
        return []
    return [Problem(field, text, name, posted_line(name), params)]


def _index_problems(indexes: Iterable[int]) -> list[Problem]:
    found = sorted(indexes)
    if not found:
        return [Problem(None, N_("The basket has no NEW_ITEM lines"))]
    if found != list(range(1, len(found) + 1)):
        text = N_("Line indexes must run from 1 without gaps; found %(found)s")
        return [Problem(None, text, params={"found": ", ".join(map(str, found))})]
    return []


def _line_problems(index: int, line: Mapping[str, str]) -> list[Problem]:
    problems = []
    for field in _REQUIRED:
        if line.get(field) or (field in _REQUIRED_UNLESS_MATNR and line.get("MATNR")):
            continue
        name = f"NEW_ITEM-{field}[{index}]"
        if field in _REQUIRED_UNLESS_MATNR:
            text = N_("%(name)s is missing or empty; OCI requires it (or a MATNR)")
        else:
            text = N_("%(name)s is missing or empty; OCI requires it")
        problems.append(Problem(field, text, name, index, {"name": name}))
    for field, required in _REQUIRED_WITH:
        if line.get(field) and not line.get(required):
            name = f"NEW_ITEM-{required}[{index}]"
            text = N_("%(name)s is missing; OCI requires it with %(field)s")
            problems.append(Problem(required, text, name, index, {"name": name, "field": field}))
    return problems
