"""Type checks for the values of a customer file, reporting instead of raising.

Every check records a :class:`Problem` and returns ``None`` when the value is unusable, so that
one pass over a file finds all of its mistakes. A required key that is missing is reported once
by :meth:`Checker.mapping` and stands as :data:`MISSING` afterwards, which the other checks pass
over silently.
"""

import difflib
from collections.abc import Collection, Mapping
from datetime import date
from pathlib import Path
from types import MappingProxyType

from ociflex.customers.model import LANGUAGES, Localized
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
