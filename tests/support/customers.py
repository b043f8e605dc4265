"""Customer files as the tests write and load them, and customers changed after loading."""

from dataclasses import replace
from pathlib import Path

import pytest

from ociflex.customers import CustomerConfigError, Problem, load_customer
from ociflex.customers.model import Customer
from ociflex.oci.config import OCI, oci_settings
from ociflex.protocols import CUSTOMER_SECTIONS

#: The secrets the test files of customer ``acme`` name (OCI password, cXML SharedSecret).
ACME_ENVIRON = {"ACME_PASSWORD": "acme-secret", "ACME_CXML_SECRET": "acme-cxml-secret"}


def write(directory: Path, text: str, name: str = "acme.yaml") -> Path:
    path = directory / name
    path.write_text(text, encoding="utf-8")
    return path


def load(tmp_path: Path, text: str, environ: dict[str, str] = ACME_ENVIRON) -> Customer:
    """The customer file ``text``, loaded as ociflex loads it."""
    return load_customer(write(tmp_path, text), CUSTOMER_SECTIONS, environ)


def problems_of(tmp_path: Path, text: str, environ: dict[str, str] = ACME_ENVIRON) -> list[Problem]:
    """Every mistake loading the customer file ``text`` reports."""
    with pytest.raises(CustomerConfigError) as raised:
        load(tmp_path, text, environ)
    return raised.value.problems


def only_problem(tmp_path: Path, text: str, environ: dict[str, str] = ACME_ENVIRON) -> Problem:
    """The one mistake loading ``text`` reports (the test fails when there are more)."""
    problems = problems_of(tmp_path, text, environ)
    assert len(problems) == 1, "\n".join(map(str, problems))
    return problems[0]


def line_of(text: str, fragment: str) -> int:
    """The 1-based line of the first line containing ``fragment``."""
    return next(n for n, line in enumerate(text.splitlines(), 1) if fragment in line)


def with_oci_settings(customer: Customer, **changes: object) -> Customer:
    """``customer`` with its OCI settings changed (``basket``, ``max_lengths``, ...)."""
    changed = replace(oci_settings(customer), **changes)
    return replace(customer, protocols={**customer.protocols, OCI: changed})
