"""The hook page's checks: each posted basket field with what SAP would make of it.

The simulator stands in for the ERP, which does not know a customer's raised limits: a basket
is checked against SAP's defaults (:data:`ociflex.oci.limits.NEW_ITEM_MAX_LENGTHS`), ISO 4217
currencies and the ISO unit codes of :mod:`ociflex.units`, with
:func:`ociflex.oci.basket_rules.basket_problems`, the same rules ociflex keeps when it builds a
basket. Every problem is shown next to the posted field it concerns; a required field that was
not posted gets a row of its own.

The post's charset is compared with the one the ERP expects (:class:`CharsetCheck`), and a field
whose characters ociflex had to replace to fit that charset says which (``€`` became ``EUR``):
:func:`replacements`.
"""

import re
import unicodedata
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import NamedTuple

from flask_babel import gettext

from ociflex.oci.basket_rules import Problem, basket_problems, posted_line
from ociflex.oci.charset import codec_for, in_charset
from ociflex.oci.encodings import form_codec
from ociflex.oci.form_encoding import LEGACY_CHARSET
from ociflex.oci.limits import NEW_ITEM_MAX_LENGTHS

_FIELD_PART = re.compile(r"NEW_ITEM-([^\[\]]*)\[", re.IGNORECASE)


class Replacement(NamedTuple):
    """A character that the basket's charset has not, and the stand-in ociflex sent for it."""

    character: str
    stand_in: str

    @property
    def code_point(self) -> str:
        """``U+20AC``: look-alikes (``’`` and ``'``, ``–`` and ``-``) told apart."""
        return f"U+{ord(self.character):04X}"


@dataclass
class Row:
    """One posted field (or one required field that was not posted: ``value`` is None)."""

    #: The posted name, e.g. ``NEW_ITEM-PRICE[1]``.
    name: str
    #: The NEW_ITEM field it carries (``PRICE``, ``LONGTEXT``); for other fields their name.
    field: str
    value: str | None
    problems: list[str] = field(default_factory=list)
    #: Each character ociflex replaced in this value, in order.
    replacements: list[Replacement] = field(default_factory=list)

    def add(self, message: str) -> None:
        if message not in self.problems:
            self.problems.append(message)


#: The codecs of the labels that a browser posts in windows-1252 (WHATWG Encoding Standard:
#: ``iso-8859-1`` and ``us-ascii`` are windows-1252 to a browser, see :mod:`ociflex.oci.encodings`).
_WINDOWS_1252_CODECS = ("latin_1", "ascii", "cp1252")


@dataclass(frozen=True)
class CharsetCheck:
    """The charset the post arrived in, against the one the ERP expects."""

    #: How the post was read: ``utf-8``, ``windows-1252`` or ``unknown`` (see
    #: :func:`ociflex.oci.form_encoding.decode_form`).
    arrived: str
    #: Every name and value is ASCII: the same bytes in UTF-8, ISO-8859-1 and windows-1252, so
    #: the post's charset cannot be told (it was read as UTF-8) and does not matter.
    ascii_only: bool
    #: The charset label the ERP expects the basket in; None when the customer is not known.
    expected: str | None

    @property
    def browser_name(self) -> str | None:
        """The name a browser gives the expected charset when that is another one
        (``iso-8859-1`` -> ``windows-1252``), else None."""
        if self.expected is None or self.expected.lower() == LEGACY_CHARSET:
            return None
        return LEGACY_CHARSET if form_codec(self.expected) in _WINDOWS_1252_CODECS else None

    @property
    def matches(self) -> bool | None:
        """Whether the ERP reads what arrived as it was meant; None without an expectation."""
        if self.expected is None:
            return None
        if self.ascii_only:
            return True
        codec = form_codec(self.expected)
        if self.arrived == LEGACY_CHARSET:
            return codec in _WINDOWS_1252_CODECS
        return codec == form_codec(self.arrived)


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
    charset: CharsetCheck


def _field_of(name: str) -> str:
    match = _FIELD_PART.match(name)
    if match is None:
        return name
    part = match[1].upper()
    return "LONGTEXT" if part.startswith("LONGTEXT") else part


def check_basket_post(
    pairs: Iterable[tuple[str, str]],
    charset: str,
    expected: str | None = None,
    limit: Callable[[str], int | None] = NEW_ITEM_MAX_LENGTHS.get,
) -> BasketReport:
    """The rows of each line of a received basket with their verdicts (see the module doc);
    ``expected``: the charset the ERP expects the basket in, when known; ``limit``: a NEW_ITEM
    field's length, SAP's default unless the customer is known (its ``max_lengths``)."""
    pairs = list(pairs)
    charset_check = CharsetCheck(
        arrived=charset,
        ascii_only=all(name.isascii() and value.isascii() for name, value in pairs),
        expected=expected,
    )
    # A post that is neither UTF-8 nor windows-1252 was decoded with replacement characters.
    checked_charset = charset if codec_for(charset) is not None else "utf-8"
    problems = basket_problems(pairs, checked_charset, limit)
    lines: dict[int, list[Row]] = {}
    others: list[Row] = []
    by_name: dict[str, list[Row]] = {}
    for name, value in pairs:
        row = Row(name, _field_of(name), value)
        line = posted_line(name)
        (others if line is None else lines.setdefault(line, [])).append(row)
        by_name.setdefault(name, []).append(row)
    general = _charset_problems(charset_check, checked_charset)
    own_problems = len(general)
    for problem in problems:
        if problem.name is None:
            general.append(_said(problem))
            continue
        if problem.name not in by_name:
            # A field the line lacks: shown where it belongs.
            missing = Row(problem.name, problem.field or problem.name, None)
            by_name[problem.name] = [missing]
            target = others if problem.line is None else lines.setdefault(problem.line, [])
            target.append(missing)
        for row in by_name[problem.name]:
            row.add(_said(problem))
    return BasketReport(
        lines=dict(sorted(lines.items())),
        others=others,
        general=general,
        pairs=pairs,
        problem_count=len(problems) + own_problems,
        charset=charset_check,
    )


def _said(problem: Problem) -> str:
    """``problem`` in the page's language."""
    return gettext(problem.text, **problem.params)


def _charset_problems(check: CharsetCheck, checked_charset: str) -> list[str]:
    """What is wrong with the post's charset: unreadable, or not the one the ERP expects."""
    if checked_charset != check.arrived:
        return [gettext("The post is neither UTF-8 nor windows-1252.")]
    if check.matches is False:
        message = gettext(
            "The basket arrived in %(arrived)s, but the ERP expects %(expected)s: it would "
            "misread every character outside ASCII.",
            arrived=check.arrived,
            expected=check.expected,
        )
        return [message]
    return []


def mark_replacements(report: BasketReport, sent: Mapping[str, str], charset: str) -> None:
    """Give each row of ``report`` the characters that ociflex replaced in its value to fit
    ``charset``, where ``sent`` (posted name -> the value before ociflex fitted it to the
    charset) knows its value."""
    for row in (row for rows in report.lines.values() for row in rows):
        if row.value is not None and row.name in sent:
            row.replacements = replacements(sent[row.name], row.value, charset)


def replacements(original: str, arrived: str, charset: str) -> list[Replacement]:
    """Each character of ``original`` that ``charset`` cannot encode with the stand-in that
    ociflex sends for it (:func:`ociflex.oci.charset.in_charset`), once, in order; none when
    ``arrived`` is not ``original`` with exactly those replacements (say, the file changed)."""
    characters = unicodedata.normalize("NFC", original)
    stand_ins = [in_charset(char, charset) for char in characters]
    if "".join(stand_ins) != arrived:
        return []
    replaced = (
        Replacement(char, stand_in)
        for char, stand_in in zip(characters, stand_ins, strict=True)
        if char != stand_in
    )
    return list(dict.fromkeys(replaced))
