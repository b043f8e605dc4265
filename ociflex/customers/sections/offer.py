"""What the customer can book: ``vehicles`` and ``locations``."""

import re
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation

from ociflex.customers.checks import Checker
from ociflex.customers.model import Vehicle
from ociflex.customers.yaml_nodes import item_path, key_path

VEHICLE_KEYS = ("code", "name", "day_rate", "description")
#: Letters, digits, ``_.-``; at most 40 characters, NEW_ITEM-EXT_PRODUCT_ID's limit.
VEHICLE_CODE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,39}")
#: A vehicle's description starts the basket line's DESCRIPTION (40), followed by the dates.
MAX_DESCRIPTION = 18
REQUIRED = {
    "code": "the vehicle's stable key (EXT_PRODUCT_ID), e.g. code: COMPACT",
    "name": "what employees see, e.g. name: {nl: Compacte auto, en: Compact car}",
    "day_rate": "the price per day, e.g. day_rate: '39.50'",
}


def read_vehicles(check: Checker, value: object) -> tuple[Vehicle, ...]:
    items = check.sequence(value, "vehicles", non_empty=True) or []
    vehicles = [_vehicle(check, item, item_path("vehicles", i)) for i, item in enumerate(items)]
    codes = [
        (key_path(item_path("vehicles", i), "code"), item["code"])
        for i, item in enumerate(items)
        if isinstance(item, dict) and isinstance(item.get("code"), str)
    ]
    _check_unique(check, codes, "vehicle code")
    return tuple(vehicle for vehicle in vehicles if vehicle is not None)


def read_locations(check: Checker, value: object) -> tuple[str, ...]:
    items = check.sequence(value, "locations", non_empty=False) or []
    paths = [item_path("locations", index) for index in range(len(items))]
    texts = [(path, check.string(item, path)) for path, item in zip(paths, items, strict=True)]
    locations = [(path, text) for path, text in texts if text is not None]
    _check_unique(check, locations, "location")
    return tuple(text for _, text in locations)


def _vehicle(check: Checker, value: object, path: str) -> Vehicle | None:
    entries = check.mapping(value, path, VEHICLE_KEYS, required=REQUIRED)
    if entries is None:
        return None
    code = _code(check, entries["code"], key_path(path, "code"))
    name = check.localized(entries["name"], key_path(path, "name"))
    day_rate = _day_rate(check, entries["day_rate"], key_path(path, "day_rate"))
    description = _description(check, entries, code, path)
    if code is None or name is None or day_rate is None or description is None:
        return None
    return Vehicle(code=code, name=name, day_rate=day_rate, description=description)


def _code(check: Checker, value: object, path: str) -> str | None:
    code = check.string(value, path)
    if code is not None and not VEHICLE_CODE.fullmatch(code):
        check.report(
            path,
            f"{code!r} is not a valid vehicle code: 1 to 40 letters, digits, '_', '.' or '-', "
            "starting with a letter or digit",
        )
        return None
    return code


def _day_rate(check: Checker, value: object, path: str) -> Decimal | None:
    text = check.text(value, path)
    if text is None:
        return None
    try:
        rate = Decimal(text)
    except InvalidOperation:
        rate = None
    if rate is None or not rate.is_finite() or rate <= 0:
        check.report(path, f"{text!r} is not a price; write an amount above 0 like 39.50")
        return None
    if rate.normalize().as_tuple().exponent < -2:
        check.report(path, f"{text!r} has more than 2 decimals; round it to cents")
        return None
    return rate


def _description(
    check: Checker, entries: Mapping[str, object], code: str | None, path: str
) -> str | None:
    """The vehicle's ``description``, or its code when that is short enough to stand in."""
    if "description" not in entries:
        if code is not None and len(code) > MAX_DESCRIPTION:
            check.report(
                key_path(path, "description"),
                f"the code is longer than {MAX_DESCRIPTION} characters, too long to start the "
                f"basket line's description: add a description of at most {MAX_DESCRIPTION}",
            )
            return None
        return code
    description = check.string(entries["description"], key_path(path, "description"))
    if description is not None and len(description) > MAX_DESCRIPTION:
        check.report(
            key_path(path, "description"),
            f"{len(description)} characters; at most {MAX_DESCRIPTION} fit before the rental "
            "dates in NEW_ITEM-DESCRIPTION (40): shorten it",
        )
        return None
    return description


def _check_unique(check: Checker, values: list[tuple[str, str]], what: str) -> None:
    """Report each value that repeats an earlier one, ignoring case."""
    first: dict[str, str] = {}
    for path, text in values:
        earlier = first.setdefault(text.casefold(), path)
        if earlier != path:
            check.report(path, f"duplicate {what} {text!r} (also at {earlier}); remove one")
