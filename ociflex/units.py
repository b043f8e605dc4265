"""ISO unit codes a cart line may carry: OCI's NEW_ITEM-UNIT, cXML's UnitOfMeasure.

Both protocols count in UN/CEFACT Recommendation 20 codes. SAP maps the ISO code it receives to
one of its own units (table T006I) and drops a line whose code it cannot map. The codes are
those of Recommendation 20, plus the few ISO codes of SAP's standard units that are not (or no
longer) in it, such as ``PCE`` and ``EA``. This is a curated table of what a rental, a service
or a simple article can be counted in, not all of Recommendation 20: a customer file whose buyer
really uses another code needs it added here.
"""

import difflib
from collections.abc import Collection
from typing import Final

#: ISO unit code -> its name.
UNIT_CODES: Final[dict[str, str]] = {
    # Time: what a rental is counted in.
    "SEC": "second",
    "MIN": "minute",
    "HUR": "hour",
    "DAY": "day",
    "E49": "working day",
    "WEE": "week",
    "MON": "month",
    "QAN": "quarter (of a year)",
    "ANN": "year",
    # Counts and services.
    "C62": "one (unit)",
    "H87": "piece",
    "PCE": "piece (the ISO code of SAP's unit PC)",
    "EA": "each",
    "NAR": "number of articles",
    "PR": "pair",
    "SET": "set",
    "KT": "kit",
    "PK": "pack",
    "DZN": "dozen",
    "IE": "person",
    "LS": "lump sum",
    "E48": "service unit",
    "ACT": "activity",
    "E54": "trip",
    # Distance, fuel, energy and weight: kilometres driven, litres refuelled, kWh charged.
    "MTR": "metre",
    "KMT": "kilometre",
    "SMI": "mile (statute mile)",
    "LTR": "litre",
    "MTQ": "cubic metre",
    "KWH": "kilowatt hour",
    "KGM": "kilogram",
    "TNE": "tonne (metric ton)",
}

#: SAP's own (commercial) unit names that people write instead of the ISO code SAP sends.
SAP_UNITS: Final[dict[str, str]] = {
    "TAG": "DAY",
    "H": "HUR",
    "STD": "HUR",
    "WCH": "WEE",
    "WO": "WEE",
    "JHR": "ANN",
    "ST": "PCE",
    "PC": "PCE",
    "KM": "KMT",
    "M": "MTR",
    "L": "LTR",
    "KG": "KGM",
    "TO": "TNE",
}


def nearest_code(value: str, codes: Collection[str], preferred: Collection[str] = ()) -> str | None:
    """The code that ``value`` is most likely a typo of: the one with the most characters in
    the same places, then the most alike, then the longest common start, then one of
    ``preferred`` (``EUX`` -> ``EUR``, not ``XEU``); ``None`` when no code is alike enough.
    For unit codes, and for currency codes too."""
    wanted = value.strip().upper()

    def score(code: str) -> tuple[int, float, int, bool]:
        same = [a == b for a, b in zip(wanted, code, strict=False)]
        prefix = same.index(False) if False in same else len(same)
        ratio = difflib.SequenceMatcher(None, wanted, code).ratio()
        return sum(same), ratio, prefix, code in preferred

    best = max(sorted(codes), key=score, default=None)
    return best if best is not None and score(best)[1] >= 0.6 else None


def nearest_unit(value: str) -> str | None:
    """The known code that ``value`` most likely means, if any: ``day`` and ``DYA`` -> ``DAY``,
    ``piece`` -> ``H87`` (by the unit's name), ``TAG`` -> ``DAY`` (SAP's own unit), ``DAY``
    itself -> ``DAY``."""
    wanted = value.strip()
    if wanted.upper() in UNIT_CODES:
        return wanted.upper()
    if wanted.upper() in SAP_UNITS:
        return SAP_UNITS[wanted.upper()]
    by_name = next(
        (code for code, name in UNIT_CODES.items() if name.split(" (")[0] == wanted.lower()), None
    )
    return by_name or nearest_code(wanted, UNIT_CODES)
