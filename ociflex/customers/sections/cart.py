"""How a cart line is counted and classified (``basket``: ``unit``, ``currency``, ``matgroup``),
and the ``{placeholders}`` of the templates that fill a cart line from a booking.

The ``basket`` section is shared: these three keys are every protocol's (OCI sends them as
NEW_ITEM fields, cXML as UnitOfMeasure, Money's currency and the UNSPSC Classification); its
other keys are OCI's NEW_ITEM fields, read by :mod:`ociflex.oci.customer_basket`.
"""

import difflib
from collections.abc import Callable, Collection, Mapping
from functools import cache

from babel.core import get_global
from babel.numbers import get_territory_currencies, list_currencies

from ociflex.customers.checks import Checker
from ociflex.customers.model import BUILTIN_PLACEHOLDERS, PLACEHOLDER, CartSettings
from ociflex.customers.yaml_nodes import key_path
from ociflex.units import UNIT_CODES, nearest_code, nearest_unit


def read_cart(check: Checker, value: object) -> CartSettings:
    """The unit, currency and material group of the ``basket`` section (defaults where absent)."""
    entries = check.entries(value, "basket") or {}
    defaults = CartSettings()
    unit = _code(check, entries, "unit", UNIT_CODES, _unit_problem) or defaults.unit
    currency = _code(check, entries, "currency", list_currencies(), _currency_problem)
    matgroup = check.text(entries["matgroup"], "basket.matgroup") if "matgroup" in entries else None
    return CartSettings(
        unit=unit, currency=currency or defaults.currency, matgroup=matgroup or None
    )


def _code(
    check: Checker,
    entries: Mapping[str, object],
    key: str,
    codes: Collection[str],
    problem: Callable[[str], str],
) -> str | None:
    """The code under ``key``, if given and known; an unknown one is reported with a fix."""
    if key not in entries:
        return None
    path = key_path("basket", key)
    value = check.text(entries[key], path)
    if value is not None and value not in codes:
        check.report(path, problem(value))
        return None
    return value


def _unit_problem(value: str) -> str:
    if value.strip().upper() in UNIT_CODES:
        return f"{value!r} is not an ISO unit code; write it in capitals: {value.strip().upper()}"
    nearest = nearest_unit(value)
    what = f"{value!r} is not an ISO unit code (UN/ECE Recommendation 20) that ociflex knows"
    if nearest is not None:
        return f"{what}; did you mean {nearest} ({UNIT_CODES[nearest]})?"
    return (
        f"{what}; use one that the buyer's SAP has mapped, such as DAY, HUR, WEE, MON or C62 "
        "(all known codes are listed in docs/customer-config.md)"
    )


@cache
def _currencies_in_use() -> frozenset[str]:
    """The currencies that are legal tender somewhere today, preferred as suggestions."""
    return frozenset(
        code
        for territory in get_global("territory_currencies")
        for code in get_territory_currencies(territory)
    )


def _currency_problem(value: str) -> str:
    currencies = list_currencies()
    what = f"{value!r} is not an ISO 4217 currency code"
    if value.strip().upper() in currencies:
        return f"{what}; write it in capitals: {value.strip().upper()}"
    if nearest := nearest_code(value, currencies, _currencies_in_use()):
        return f"{what}; did you mean {nearest}?"
    return f"{what}; use three capital letters like EUR"


def check_placeholders(
    check: Checker, template: str, path: str, field_names: Collection[str]
) -> None:
    """Report each ``{placeholder}`` of ``template`` that is neither a field nor built in, and
    any brace that is not part of a placeholder."""
    known = list(dict.fromkeys([*field_names, *BUILTIN_PLACEHOLDERS]))
    for name in PLACEHOLDER.findall(template):
        if name not in known:
            close = difflib.get_close_matches(name, known, n=1)
            hint = f"did you mean {{{close[0]}}}?" if close else f"use one of: {', '.join(known)}"
            check.report(path, f"unknown placeholder {{{name}}}; {hint}")
    fixed = PLACEHOLDER.sub("", template)
    if "{" in fixed or "}" in fixed:
        check.report(
            path,
            "a '{' or '}' that is not part of a {name} placeholder (letters, digits and '_' "
            "only); fix the placeholder or remove the brace",
        )
