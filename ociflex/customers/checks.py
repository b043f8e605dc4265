"""Type checks for the values of a customer file, reporting instead of raising.

Every check records a :class:`Problem` and returns ``None`` when the value is unusable, so that
one pass over a file finds all of its mistakes. A required key that is missing is reported once
by :meth:`Checker.mapping` and stands as :data:`MISSING` afterwards, which the other checks pass
over silently.

Besides types, :func:`check_fits` compares how long a field's values can be (by its pattern,
its ``max_length`` and its example) with a field of fixed width that a protocol's cart puts them
in whole (a :class:`Slot`, such as OCI's NEW_ITEM-CUST_FIELD2).
"""

import difflib
import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from re import _constants as regex_constants
from re import _parser as regex_parser
from types import MappingProxyType

from ociflex.customers.model import LANGUAGES, Field, Localized
from ociflex.customers.problems import Problem
from ociflex.customers.yaml_nodes import Document, key_path

#: Stands for a required key that is missing (and has been reported as such).
MISSING = object()

_NONE: Mapping[str, str] = MappingProxyType({})


def describe(value: object) -> str:
    """How a value reads in a message: ``an integer (4711)``."""
    if value is None:
        return "nothing (an empty value)"
    if isinstance(value, bool):
        return f"a boolean ({str(value).lower()})"
    if isinstance(value, int):
        return f"an integer ({value})"
    if isinstance(value, float):
        return f"a number ({value})"
    if isinstance(value, str):
        return f"text ({value!r})"
    if isinstance(value, date):
        return f"a date ({value})"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return type(value).__name__


def unknown_key(key: str, valid: Collection[str]) -> str:
    """The message for ``key`` where only ``valid`` keys are allowed, with the likely one."""
    if key.lower() in valid:
        return f"unknown key {key!r}; write it in lower case: {key.lower()!r}"
    close = difflib.get_close_matches(key, list(valid), n=1)
    if close:
        return f"unknown key {key!r}; did you mean {close[0]!r}?"
    return f"unknown key {key!r}; valid keys here: {', '.join(sorted(valid))}"


class Checker:
    """The problems of one file, and the checks that find them."""

    def __init__(self, file: Path, document: Document) -> None:
        self.file = file
        self.document = document
        self.problems: list[Problem] = []

    def report(self, path: str, message: str) -> None:
        self.problems.append(Problem(self.file, self.document.line(path), path, message))

    def wrong_type(self, value: object, path: str, expected: str) -> None:
        hint = ""
        if expected == "text" and isinstance(value, int | float | date):
            hint = "; put the value in quotes"
        self.report(path, f"expected {expected}, got {describe(value)}{hint}")

    def entries(self, value: object, path: str) -> dict[str, object] | None:
        """A mapping whose keys are all text (the keys themselves are the caller's business)."""
        if value is MISSING:
            return None
        if not isinstance(value, dict):
            self.wrong_type(value, path, "a mapping (indented 'key: value' lines)")
            return None
        for key in value:
            if not isinstance(key, str):
                self.report(key_path(path, key), f"keys must be text, got {describe(key)}")
        return {key: item for key, item in value.items() if isinstance(key, str)}

    def mapping(
        self,
        value: object,
        path: str,
        keys: Collection[str],
        *,
        required: Mapping[str, str] = _NONE,
        forbidden: Mapping[str, str] = _NONE,
    ) -> dict[str, object] | None:
        """A mapping with only ``keys``; ``required`` and ``forbidden`` map keys to messages."""
        entries = self.entries(value, path)
        if entries is None:
            return None
        known: dict[str, object] = {}
        for key, item in entries.items():
            if key in forbidden:
                self.report(key_path(path, key), forbidden[key])
            elif key in keys:
                known[key] = item
            else:
                self.report(key_path(path, key), unknown_key(key, keys))
        for key, message in required.items():
            if key not in entries:
                self.report(key_path(path, key), f"required key is missing: {message}")
                known[key] = MISSING
        return known

    def sequence(self, value: object, path: str, *, non_empty: bool) -> list[object] | None:
        if value is MISSING:
            return None
        if not isinstance(value, list):
            self.wrong_type(value, path, "a list (lines starting with '- ')")
            return None
        if non_empty and not value:
            self.report(path, "the list is empty; give at least one entry")
            return None
        return value

    def string(self, value: object, path: str) -> str | None:
        """Non-blank text."""
        if value is MISSING:
            return None
        if not isinstance(value, str):
            self.wrong_type(value, path, "text")
            return None
        if not value.strip():
            self.report(path, "must not be empty; fill it in or remove the key")
            return None
        return value

    def text(self, value: object, path: str) -> str | None:
        """Any text, also empty; a number counts as the text it is written as."""
        if value is MISSING:
            return None
        if isinstance(value, str):
            return value
        if isinstance(value, int | float) and not isinstance(value, bool):
            return self.document.text(path) or str(value)
        self.wrong_type(value, path, "text")
        return None

    def integer(
        self, value: object, path: str, low: int | None = None, high: int | None = None
    ) -> int | None:
        if value is MISSING:
            return None
        if not isinstance(value, int) or isinstance(value, bool):
            self.wrong_type(value, path, "a whole number")
            return None
        if (low is not None and value < low) or (high is not None and value > high):
            bounds = f"at least {low}" if high is None else f"between {low} and {high}"
            self.report(path, f"{value} is out of range: it must be {bounds}")
            return None
        return value

    def boolean(self, value: object, path: str) -> bool | None:
        if value is MISSING:
            return None
        if not isinstance(value, bool):
            self.wrong_type(value, path, "true or false")
            return None
        return value

    def choice(self, value: object, path: str, choices: Collection[str]) -> str | None:
        text = self.string(value, path)
        if text is not None and text not in choices:
            self.report(path, f"{text!r} is not possible here; use one of: {', '.join(choices)}")
            return None
        return text

    def localized(self, value: object, path: str) -> Localized | None:
        """One text for all languages, or a mapping language -> text."""
        if isinstance(value, str):
            text = self.string(value, path)
            return None if text is None else Localized(dict.fromkeys(LANGUAGES, text))
        if not isinstance(value, dict):
            if value is not MISSING:
                self.wrong_type(value, path, "text, or a mapping like {nl: ..., en: ...}")
            return None
        texts = self.mapping(value, path, LANGUAGES)
        if texts is None:
            return None
        if not texts:
            self.report(path, f"give a text for at least one language ({', '.join(LANGUAGES)})")
            return None
        checked = {lang: self.string(text, key_path(path, lang)) for lang, text in texts.items()}
        valid = {lang: text for lang, text in checked.items() if text is not None}
        return Localized(valid) if len(valid) == len(checked) else None


# --- How long a field's values can be, and where they have to fit ---------------------------------

_STARTS = (regex_constants.AT_BEGINNING, regex_constants.AT_BEGINNING_STRING)
_ENDS = (regex_constants.AT_END, regex_constants.AT_END_STRING)


def pattern_lengths(pattern: re.Pattern[str]) -> tuple[int, int | None]:
    """The shortest and the longest value ``pattern`` accepts as ociflex applies it
    (``re.search``); the longest is ``None`` when the pattern sets no bound.

    A value must hold a match, so it is at least as long as the pattern's narrowest match. Only
    a pattern anchored at both ends (``^...$``, ``\\A...\\Z``, in every alternative) bounds the
    value's length: any other lets text surround its match. A field holds one line, so ``$``
    before a final line break does not count.
    """
    parsed = regex_parser.parse(pattern.pattern, pattern.flags)
    shortest, widest = parsed.getwidth()
    bounded = _anchored(list(parsed), _STARTS, 0) and _anchored(list(parsed), _ENDS, -1)
    longest = widest if bounded and widest < regex_parser.MAXWIDTH else None
    return shortest, longest


def _anchored(items: list[tuple[object, object]], anchors: tuple[object, ...], edge: int) -> bool:
    """Whether the parsed pattern ``items`` is held at one edge of the value (``edge`` 0: its
    start, -1: its end), looking into groups and alternatives."""
    if not items:
        return False
    op, argument = items[edge]
    if op is regex_constants.AT:
        return argument in anchors
    if op is regex_constants.SUBPATTERN:
        return _anchored(list(argument[-1]), anchors, edge)
    if op is regex_constants.BRANCH:
        return all(_anchored(list(branch), anchors, edge) for branch in argument[1])
    return False


@dataclass(frozen=True)
class Slot:
    """A field of fixed width in a protocol's cart that a template of the customer file fills
    with one field's value, whole: an OCI ``basket`` value that is exactly ``{cost_centre}``.

    A value longer than the slot would be lost in the buyer's system, so the call-up refuses
    it; a field whose values can be longer refuses real requests.
    """

    #: Key path of the template: ``basket.cust_field2``.
    path: str
    #: The field of the cart, as the protocol calls it: ``NEW_ITEM-CUST_FIELD2``.
    name: str
    #: Characters it takes for this customer.
    width: int
    #: Where its width comes from: ``SAP's default``, ``agreed in max_lengths.cust_field2``.
    width_source: str
    #: The key that agrees a wider one with the customer: ``max_lengths.cust_field2``.
    widen_key: str
    #: Fields of the cart that the file leaves unused, with their widths, the widest last:
    #: ``(("cust_field4", 20), ("cust_field5", 50))``.
    unused: tuple[tuple[str, int], ...] = ()


def check_fits(check: Checker, field: Field, slot: Slot, *, max_length_given: bool) -> None:
    """Report ``field`` when values it accepts can be longer than ``slot`` takes: by its pattern
    and the ``max_length`` the file gives it (``max_length_given``), else by its example.

    Such a value passes the field's own rules and is then refused at the call-up, so the fix is
    never a shorter example: a wider slot agreed with the customer, another slot, or a narrower
    field. One problem per field and slot, on the key that says how long the values are (an
    example longer than the field's own ``max_length`` is the loader's to report).
    """
    shortest, pattern_longest = pattern_lengths(field.pattern) if field.pattern else (0, None)
    bounds = [pattern_longest, field.max_length if max_length_given else None]
    longest = min((bound for bound in bounds if bound is not None), default=None)
    path = f"fields.{field.name}"
    if shortest > slot.width:
        length = f"exactly {shortest}" if shortest == pattern_longest else f"at least {shortest}"
        check.report(
            f"{path}.pattern",
            f"the pattern only matches values of {length} characters, but {_into(slot)}, so "
            f"every value would be refused: {_fixes(slot, shortest, 'narrow the pattern')}",
        )
    elif longest is not None and longest > slot.width and longest == pattern_longest:
        narrower = f"narrow the pattern to at most {slot.width} characters"
        check.report(
            f"{path}.pattern",
            f"the pattern matches values of up to {longest} characters, but {_into(slot)}, so a "
            f"longer value would be refused: {_fixes(slot, longest, narrower)}",
        )
    elif longest is not None and longest > slot.width:
        narrower = f"lower max_length to {slot.width}"
        check.report(
            f"{path}.max_length",
            f"values of up to {longest} characters are allowed, but {_into(slot)}, so a longer "
            f"value would be refused: {_fixes(slot, longest, narrower)}",
        )
    elif field.max_length >= len(field.example) > slot.width:
        check.report(
            f"{path}.example",
            f"{field.example!r} is {len(field.example)} characters, longer than the "
            f"{slot.width} characters {slot.name} takes ({slot.width_source}; {slot.path} puts "
            f"this field there), so the call-up would refuse values like it: "
            f"{_fixes(slot, len(field.example), None)}",
        )


def _into(slot: Slot) -> str:
    return (
        f"{slot.path} puts this field in {slot.name}, which takes at most {slot.width} "
        f"({slot.width_source})"
    )


def _fixes(slot: Slot, length: int, narrower: str | None) -> str:
    """The ways to make values of ``length`` characters fit, or ``narrower`` ones."""
    fixes = [f"agree a wider field with the customer and set {slot.widen_key}: {length}"]
    wide_enough = [f"{key} takes {width}" for key, width in slot.unused if width >= length]
    if wide_enough:
        fixes.append(f"put the field in another one that takes more ({', '.join(wide_enough)})")
    if narrower is not None:
        fixes.append(narrower)
    return ", ".join(fixes[:-1]) + f", or {fixes[-1]}" if len(fixes) > 1 else fixes[0]


def longest_value(field: Field) -> tuple[int, str]:
    """How long ``field``'s values can be, and what says so (``its pattern``, ``its
    max_length``), for a template that puts the value amid other text."""
    longest = pattern_lengths(field.pattern)[1] if field.pattern else None
    if longest is not None and longest < field.max_length:
        return longest, "its pattern"
    return field.max_length, "its max_length"
