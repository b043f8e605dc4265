"""The arrows between ociflex's parts point one way: the protocols (``oci``, ``cxml``) import the
core, never the other way round; the customer model and the booking know no protocol; no two
parts import each other."""

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "ociflex"
PROTOCOLS = ("oci", "cxml")
#: Parts that serve every protocol and may know none of them.
CORE = (
    "customers",
    "booking",
    "models",
    "db",
    "transfers",
    "history",
    "mail",
    "units",
    "return_urls",
    "orders",
)
#: Parts that serve people over the web (they may know every protocol); nothing below imports
#: them.
WEB = ("punchout", "ops", "devtools", "health")


def _part(module: str) -> str | None:
    bits = module.split(".")
    return bits[1] if len(bits) > 1 and bits[0] == "ociflex" else None


def imports() -> dict[str, set[str]]:
    """First-level part of ociflex -> the parts its modules import (module level or not)."""
    edges: dict[str, set[str]] = {}
    for path in PACKAGE.rglob("*.py"):
        relative = path.relative_to(PACKAGE).parts
        source = relative[0].removesuffix(".py")
        if source == "__init__" or "migrations" in relative:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module]
            elif isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            else:
                continue
            for name in names:
                target = _part(name)
                if target and target != source:
                    edges.setdefault(source, set()).add(target)
    return edges


@pytest.mark.parametrize("part", CORE)
def test_the_core_imports_no_protocol_and_no_web_page(part: str) -> None:
    assert imports().get(part, set()) & {*PROTOCOLS, *WEB} == set()


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_a_protocol_imports_neither_the_other_nor_a_web_page(protocol: str) -> None:
    assert imports().get(protocol, set()) & {*PROTOCOLS, *WEB} == set()


def test_no_two_parts_import_each_other() -> None:
    edges = imports()
    cycles = sorted(
        (source, target)
        for source, targets in edges.items()
        for target in targets
        if source < target and source in edges.get(target, set())
    )
    assert cycles == []
