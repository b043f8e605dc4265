"""The NEW_ITEM side of a customer file: the ``basket`` templates and the ``max_lengths``.

SAP gives no answer when it drops a basket line, so whatever can be checked before a booking
is checked here, when the file is loaded: field names, placeholders, fixed texts that are
longer than the NEW_ITEM field takes, templates whose filled-in value can be. (The unit, the
currency and the material group are every protocol's: :mod:`ociflex.customers.sections.cart`
checks their codes.)
"""

from collections.abc import Collection, Mapping
from dataclasses import replace

from ociflex.customers.checks import Checker, Slot, check_fits, longest_value, unknown_key
from ociflex.customers.model import BUILTIN_PLACEHOLDERS, PLACEHOLDER, CartSettings, Field, Vehicle
from ociflex.customers.sections.cart import check_placeholders
from ociflex.customers.yaml_nodes import key_path
from ociflex.oci.limits import COMPUTED_FIELDS, MAPPABLE_FIELDS, NEW_ITEM_MAX_LENGTHS

#: NEW_ITEM field -> limit, after a customer's ``max_lengths`` (``None``: unlimited).
Limits = Mapping[str, int | None]

#: NEW_ITEM fields whose value is a code, never a template.
CODES = ("UNIT", "CURRENCY", "SERVICE")
#: ``{reference}`` is ``FF-`` and the request number in 6 digits, until request 999999.
REFERENCE_LENGTH = 9
_BASKET_KEYS = sorted(name.lower() for name in MAPPABLE_FIELDS)
_LIMITED = {name.lower(): name for name, limit in NEW_ITEM_MAX_LENGTHS.items() if limit}
#: The NEW_ITEM fields meant for the buyer's own data, which its SAP maps (say, with a BAdI).
_CUST_FIELDS = tuple(f"CUST_FIELD{number}" for number in range(1, 6))


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
    check: Checker, value: object, field_names: list[str], limits: Limits, cart: CartSettings
) -> dict[str, str]:
    """Upper-case NEW_ITEM name -> template, with the unit and currency of ``cart`` (checked
    there, as every protocol's) when the file leaves them out. ``value`` is a mapping or
    nothing: the section's type is checked with ``cart``."""
    basket = {}
    entries = value if isinstance(value, dict) else {}
    for key, item in entries.items():
        path = key_path("basket", key)
        new_item = _new_item(check, key, path)
        if new_item is None or new_item in ("UNIT", "CURRENCY"):
            continue
        template = check.text(item, path)
        if template is None:
            continue
        if new_item == "SERVICE":
            _check_service(check, template, path)
        else:
            check_placeholders(check, template, path, field_names)
            _check_fixed_length(check, template, path, new_item, limits[new_item])
        basket[new_item] = template
    return {"UNIT": cart.unit, "CURRENCY": cart.currency} | basket


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


def check_whole_values(
    check: Checker,
    fields: Mapping[str, Field],
    specs: Mapping[str, Mapping[str, object]],
    basket: Mapping[str, str],
    limits: Limits,
) -> None:
    """Report each field whose values can be longer than a NEW_ITEM field it fills whole.

    ``fields`` are as the file gives them, before :func:`limit_fields_by_basket`; ``specs``
    their entries as written, which say whether the file gives a ``max_length``.
    """
    for name, slots in _whole_value_slots(basket, limits).items():
        if name in fields:
            given = "max_length" in specs.get(name, {})
            for slot in slots:
                check_fits(check, fields[name], slot, max_length_given=given)


def _whole_value_slots(basket: Mapping[str, str], limits: Limits) -> dict[str, list[Slot]]:
    """Placeholder -> the NEW_ITEM fields whose template is exactly that placeholder."""
    widths = {name.lower(): limits[name] for name in _CUST_FIELDS if name not in basket}
    unused = tuple(
        sorted(
            ((key, width) for key, width in widths.items() if width is not None),
            key=lambda item: item[1],
        )
    )
    slots: dict[str, list[Slot]] = {}
    for new_item, template in basket.items():
        match = PLACEHOLDER.fullmatch(template)
        limit = limits[new_item]
        if match is None or limit is None:
            continue
        key = new_item.lower()
        default = NEW_ITEM_MAX_LENGTHS[new_item]
        source = (
            "SAP's default"
            if limit == default
            else f"agreed in max_lengths.{key}; SAP's default is {default}"
        )
        slot = Slot(
            path=key_path("basket", key),
            name=f"NEW_ITEM-{new_item}",
            width=limit,
            width_source=source,
            widen_key=f"max_lengths.{key}",
            unused=unused,
        )
        slots.setdefault(match[1], []).append(slot)
    return slots


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


def _check_service(check: Checker, value: str, path: str) -> None:
    if value not in ("", "X"):
        check.report(path, f"{value!r} is not possible: use X for a service line, or ''")


def _check_fixed_length(
    check: Checker, template: str, path: str, new_item: str, limit: int | None
) -> None:
    fixed = PLACEHOLDER.sub("", template)
    if limit is not None and len(fixed) > limit:
        what = "the value" if fixed == template else "the fixed text (without placeholders)"
        check.report(
            path,
            f"{what} is {len(fixed)} characters, but NEW_ITEM-{new_item} takes at most {limit}; "
            f"shorten it, or raise max_lengths.{new_item.lower()} if this buyer accepts more",
        )


def check_value_lengths(
    check: Checker,
    basket: Mapping[str, str],
    limits: Limits,
    fields: Mapping[str, Field],
    offer: tuple[Collection[Vehicle], Collection[str], int | None],
) -> None:
    """Report each template whose filled-in value can be longer than its NEW_ITEM field.

    ``fields`` are the fields after :func:`limit_fields_by_basket`: a template that is exactly
    ``{field}`` has lowered that field's ``max_length`` and always fits. ``offer`` is the
    vehicles, locations and ``max_days``, which bound the built-in placeholders.
    """
    longest = _placeholder_lengths(fields, *offer)
    for new_item, template in basket.items():
        limit = limits[new_item]
        names = PLACEHOLDER.findall(template)
        fixed = PLACEHOLDER.sub("", template)
        exact_field = PLACEHOLDER.fullmatch(template) and names[0] in fields
        if (
            new_item in CODES
            or limit is None
            or not names
            or exact_field
            or any(name not in longest for name in names)
            or "{" in fixed
            or "}" in fixed
            or len(fixed) > limit
        ):
            continue  # nothing to fill in, or fits by construction, or already reported
        total = len(fixed) + sum(longest[name][0] for name in names)
        if total > limit:
            check.report(
                key_path("basket", new_item.lower()),
                _overflow(new_item, limit, total, fixed, names, longest),
            )


def _placeholder_lengths(
    fields: Mapping[str, Field],
    vehicles: Collection[Vehicle],
    locations: Collection[str],
    max_days: int | None,
) -> dict[str, tuple[int, str]]:
    """Placeholder -> (longest value, where that bound comes from)."""
    days = max_days or 365
    return {name: longest_value(field) for name, field in fields.items()} | {
        "vehicle_code": (
            max((len(v.code) for v in vehicles), default=0),
            "the longest vehicle code",
        ),
        "reference": (REFERENCE_LENGTH, "FF- and 6 digits"),
        "start": (10, "YYYY-MM-DD"),
        "end": (10, "YYYY-MM-DD"),
        "days": (len(str(days)), f"max_days {days}"),
        "location": (max(map(len, locations), default=0), "the longest location"),
    }


def _overflow(
    new_item: str,
    limit: int,
    total: int,
    fixed: str,
    names: list[str],
    longest: Mapping[str, tuple[int, str]],
) -> str:
    parts = [f"fixed text {len(fixed)}"] if fixed else []
    parts += [f"{{{name}}} {longest[name][0]} ({longest[name][1]})" for name in names]
    fixes = [
        f"narrow fields.{name}.pattern"
        if longest[name][1] == "its pattern"
        else f"lower fields.{name}.max_length"
        for name in dict.fromkeys(names)
        if name not in BUILTIN_PLACEHOLDERS
    ]
    if "vehicle_code" in names:
        fixes.append("shorten the vehicle codes")
    if "location" in names:
        fixes.append("shorten the locations")
    fixes.append("take text or a placeholder out of the template")
    return (
        f"the filled-in value can be too long: {' + '.join(parts)} = {total} characters, but "
        f"NEW_ITEM-{new_item} takes at most {limit}; {', '.join(fixes)}, or raise "
        f"max_lengths.{new_item.lower()} if this buyer accepts more"
    )
