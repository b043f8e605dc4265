"""The NEW_ITEM side of a customer file: the ``basket`` templates and the ``max_lengths``.

SAP gives no answer when it drops a basket line, so whatever can be checked before a booking
is checked here, when the file is loaded: field names, placeholders, fixed texts that are
longer than the NEW_ITEM field takes, unit and currency codes.
"""

import difflib
import re
from collections.abc import Mapping
from dataclasses import replace

from babel.numbers import list_currencies

from ociflex.customers.checks import Checker, unknown_key
from ociflex.customers.model import BUILTIN_PLACEHOLDERS, PLACEHOLDER, Field
from ociflex.customers.yaml_nodes import key_path
from ociflex.oci.limits import COMPUTED_FIELDS, MAPPABLE_FIELDS, NEW_ITEM_MAX_LENGTHS

#: NEW_ITEM field -> limit, after a customer's ``max_lengths`` (``None``: unlimited).
Limits = Mapping[str, int | None]

#: What a basket without ``unit`` or ``currency`` sends.
DEFAULTS = {"UNIT": "DAY", "CURRENCY": "EUR"}
UNIT = re.compile(r"^[A-Z0-9]{1,3}$")
_BASKET_KEYS = sorted(name.lower() for name in MAPPABLE_FIELDS)
_LIMITED = {name.lower(): name for name, limit in NEW_ITEM_MAX_LENGTHS.items() if limit}


def read_max_lengths(check: Checker, value: object) -> dict[str, int]:
    """Upper-case NEW_ITEM name -> raised limit, for buyers whose system accepts more."""
    raised = {}
    for key, item in (check.entries(value, "max_lengths") or {}).items():
        path = key_path("max_lengths", key)
        if key not in _LIMITED:
            check.report(path, unknown_key(key, _LIMITED))
            continue
        sap_default = NEW_ITEM_MAX_LENGTHS[_LIMITED[key]] or 0
        length = check.integer(item, path)
        if length is not None and length < sap_default:
            check.report(
                path,
                f"{length} is below SAP's {sap_default}: max_lengths only raises limits, for "
                "buyers whose system accepts more; remove it",
            )
        elif length is not None:
            raised[_LIMITED[key]] = length
    return raised


def read_basket(
    check: Checker, value: object, field_names: list[str], limits: Limits
) -> dict[str, str]:
    """Upper-case NEW_ITEM name -> template, with the default unit and currency added."""
    basket = {}
    for key, item in (check.entries(value, "basket") or {}).items():
        path = key_path("basket", key)
        new_item = _new_item(check, key, path)
        template = check.text(item, path)
        if new_item is None or template is None:
            continue
        if new_item in ("UNIT", "CURRENCY", "SERVICE"):
            _check_code(check, new_item, template, path)
        else:
            _check_template(check, template, path, field_names, new_item, limits[new_item])
        basket[new_item] = template
    return DEFAULTS | basket


def limit_fields_by_basket(
    fields: Mapping[str, Field], basket: Mapping[str, str], limits: Limits
) -> dict[str, Field]:
    """``fields``, each no longer than the NEW_ITEM field its value goes into whole.

    A field whose value is a NEW_ITEM value as it is (``cust_field1: "{cost_centre}"``) then
    refuses a longer value at the call-up and in the form, where the employee can still act,
    instead of costing the basket line in SAP.
    """
    limited = dict(fields)
    for new_item, template in basket.items():
        match = PLACEHOLDER.fullmatch(template)
        limit = limits[new_item]
        if match and match[1] in limited and limit is not None:
            field = limited[match[1]]
            limited[field.name] = replace(field, max_length=min(field.max_length, limit))
    return limited


def _new_item(check: Checker, key: str, path: str) -> str | None:
    new_item = key.upper()
    if new_item in COMPUTED_FIELDS:
        check.report(
            path, f"ociflex fills NEW_ITEM-{new_item} itself from the booking; remove {key}"
        )
        return None
    if key not in _BASKET_KEYS:
        check.report(path, unknown_key(key, _BASKET_KEYS))
        return None
    return new_item


def _check_code(check: Checker, new_item: str, value: str, path: str) -> None:
    if new_item == "UNIT" and not UNIT.match(value):
        check.report(
            path,
            f"{value!r} is not an ISO unit code: 1 to 3 capital letters or digits that the "
            "buyer's SAP has mapped, such as DAY, HUR or C62",
        )
    elif new_item == "CURRENCY" and value not in list_currencies():
        check.report(
            path,
            f"{value!r} is not an ISO 4217 currency code; use three capital letters like EUR",
        )
    elif new_item == "SERVICE" and value not in ("", "X"):
        check.report(path, f"{value!r} is not possible: use X for a service line, or ''")


def _check_template(
    check: Checker,
    template: str,
    path: str,
    field_names: list[str],
    new_item: str,
    limit: int | None,
) -> None:
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
    if limit is not None and len(fixed) > limit:
        what = "the value" if fixed == template else "the fixed text (without placeholders)"
        check.report(
            path,
            f"{what} is {len(fixed)} characters, but NEW_ITEM-{new_item} takes at most {limit}; "
            f"shorten it, or raise max_lengths.{new_item.lower()} if this buyer accepts more",
        )
