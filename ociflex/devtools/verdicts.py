"""The hook page's checks: each posted basket field with what SAP would make of it.

The simulator stands in for the ERP, which does not know a customer's raised limits: a basket
is checked against SAP's defaults (:data:`ociflex.oci.limits.NEW_ITEM_MAX_LENGTHS`), ISO 4217
currencies and the ISO unit codes of :mod:`ociflex.units`, with
:func:`ociflex.oci.basket_rules.basket_problems`, the same rules ociflex keeps when it builds a
basket. Every problem is shown next to the posted field it concerns; a required field that was
not posted gets a row of its own.
"""

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from ociflex.oci.basket_rules import basket_problems, posted_line
from ociflex.oci.charset import codec_for
from ociflex.oci.limits import NEW_ITEM_MAX_LENGTHS

_FIELD_PART = re.compile(r"NEW_ITEM-([^\[\]]*)\[", re.IGNORECASE)


@dataclass
class Row:
    """One posted field (or one required field that was not posted: ``value`` is None)."""

    #: The posted name, e.g. ``NEW_ITEM-PRICE[1]``.
    name: str
    #: The NEW_ITEM field it carries (``PRICE``, ``LONGTEXT``); for other fields their name.
    field: str
    value: str | None
    problems: list[str] = field(default_factory=list)

    def add(self, message: str) -> None:
        if message not in self.problems:
            self.problems.append(message)


@dataclass
class BasketReport:
    #: Line index as posted (0 too, which is wrong) -> its rows, in posting order.
    lines: dict[int, list[Row]]
    #: Posted fields that are no NEW_ITEM field of a line (``~OkCode``, a misspelt name).
    others: list[Row]
    #: Problems of the whole basket: no lines, a gap in the indexes, an unknown charset.
    general: list[str]
    #: Every (name, value) pair in posting order.
    pairs: list[tuple[str, str]]
    problem_count: int


def _field_of(name: str) -> str:
    match = _FIELD_PART.match(name)
    if match is None:
        return name
    part = match[1].upper()
    return "LONGTEXT" if part.startswith("LONGTEXT") else part


def check_basket_post(pairs: Iterable[tuple[str, str]], charset: str) -> BasketReport:
    """The rows of each line of a received basket with their verdicts (see the module doc)."""
    pairs = list(pairs)
    # A post that is neither UTF-8 nor windows-1252 was decoded with replacement characters.
    checked_charset = charset if codec_for(charset) is not None else "utf-8"
    problems = basket_problems(pairs, checked_charset, NEW_ITEM_MAX_LENGTHS.get)
    lines: dict[int, list[Row]] = {}
    others: list[Row] = []
    by_name: dict[str, list[Row]] = {}
    for name, value in pairs:
        row = Row(name, _field_of(name), value)
        line = posted_line(name)
        (others if line is None else lines.setdefault(line, [])).append(row)
        by_name.setdefault(name, []).append(row)
    general = []
    if checked_charset != charset:
        general.append(f"The post is neither UTF-8 nor windows-1252 ({charset})")
    for problem in problems:
        if problem.name is None:
            general.append(problem.message)
            continue
        if problem.name not in by_name:
            # A field the line lacks: shown where it belongs.
            missing = Row(problem.name, problem.field or problem.name, None)
            by_name[problem.name] = [missing]
            target = others if problem.line is None else lines.setdefault(problem.line, [])
            target.append(missing)
        for row in by_name[problem.name]:
            row.add(problem.message)
    return BasketReport(
        lines=dict(sorted(lines.items())),
        others=others,
        general=general,
        pairs=pairs,
        problem_count=len(problems) + (checked_charset != charset),
    )
