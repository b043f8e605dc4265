"""The documents point at tests that exist: a renamed or deleted test breaks the claim."""

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
#: ``tests/x.py::name``, ``tests/x.py::name_*`` (a family), and ``...::name`` after one of them.
REFERENCE = re.compile(r"(tests/[\w/]+\.py)(?:::(\w+\*?))?|`\.\.\.::(\w+\*?)`")


def _references(document: Path) -> list[tuple[str, str | None]]:
    found: list[tuple[str, str | None]] = []
    current = ""
    for match in REFERENCE.finditer(document.read_text(encoding="utf-8")):
        path, name, continued = match.groups()
        current = path or current
        found.append((current, name or continued))
    return found


@pytest.mark.parametrize("document", ["docs/security.md"])
def test_every_test_a_document_names_exists(document: str) -> None:
    references = _references(ROOT / document)
    assert references
    for path, name in references:
        source = (ROOT / path).read_text(encoding="utf-8")
        if name is None:
            continue
        pattern = re.escape(name.rstrip("*")) + (r"\w*" if name.endswith("*") else r"\b")
        assert re.search(rf"^def {pattern}", source, re.MULTILINE), f"{path}::{name}"
