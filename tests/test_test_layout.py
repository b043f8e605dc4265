"""The tests' own house rule: a test module imports no other test module. What several of them
share lives in ``tests/support/`` (fixtures in ``tests/conftest.py``)."""

import ast
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parent
ROOT = TESTS.parent


def _is_test_module(name: str) -> bool:
    """Whether an absolute module name is one of the test modules (``tests.test_*``)."""
    bits = name.split(".")
    return len(bits) == 2 and bits[0] == "tests" and bits[1].startswith("test_")


def imported_test_modules(source: str, package: str) -> set[str]:
    """The test modules that ``source``, a module of ``package``, imports: at module level or
    not, absolutely or relatively."""
    found = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = package.rsplit(".", node.level - 1)[0] if node.level else ""
            module = ".".join(part for part in (base, node.module or "") if part)
            names = [module, *(f"{module}.{alias.name}" for alias in node.names)]
        else:
            continue
        found.update(name for name in names if _is_test_module(name))
    return found


def test_no_test_module_imports_another() -> None:
    offenders = {}
    for path in sorted(TESTS.rglob("*.py")):
        package = ".".join(path.relative_to(ROOT).parent.parts)
        if imported := imported_test_modules(path.read_text(encoding="utf-8"), package):
            offenders[str(path.relative_to(ROOT))] = sorted(imported)
    assert offenders == {}


@pytest.mark.parametrize(
    ("source", "package", "expected"),
    [
        ("from tests.test_punchout import Page", "tests", {"tests.test_punchout"}),
        ("import tests.test_punchout", "tests", {"tests.test_punchout"}),
        ("from . import test_punchout", "tests", {"tests.test_punchout"}),
        ("from .test_punchout import Page", "tests", {"tests.test_punchout"}),
        ("from ..test_punchout import Page", "tests.support", {"tests.test_punchout"}),
        ("def f():\n    from tests import test_punchout", "tests", {"tests.test_punchout"}),
        ("from tests.support.punchout import Page", "tests", set()),
        ("from tests.conftest import ACME_PASSWORD", "tests", set()),
    ],
)
def test_the_check_sees_every_way_of_importing_a_test_module(
    source: str, package: str, expected: set[str]
) -> None:
    assert imported_test_modules(source, package) == expected
