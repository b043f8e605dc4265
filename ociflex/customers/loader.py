"""Loading customer files: ``config/customers/<id>.yaml`` becomes a :class:`Customer`.

docs/customer-config.md documents every key. A file is read section by section (see
:mod:`ociflex.customers.sections`), each protocol's part by that protocol's own reader (a
:class:`~ociflex.customers.sections.protocol.ProtocolSection`, given to the loader), and every
mistake is collected with its line and key path, so that whoever edits a file sees all of its
problems at once, sorted by line.
"""

import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from ociflex.customers.checks import Checker
from ociflex.customers.model import (
    DEFAULT_MAX_ADVANCE_DAYS,
    LANGUAGES,
    Customer,
    Field,
    email_in_domains,
)
from ociflex.customers.problems import CustomerConfigError, Problem
from ociflex.customers.sections.access import (
    default_frame_ancestors,
    read_email_domains,
    read_frame_ancestors,
)
from ociflex.customers.sections.cart import read_cart
from ociflex.customers.sections.fields import read_fields
from ociflex.customers.sections.offer import read_locations, read_vehicles
from ociflex.customers.sections.protocol import FileParts, ProtocolSection
from ociflex.customers.yaml_nodes import read_document

__all__ = ["CustomerConfigError", "LoadResult", "Problem", "load_customer", "load_customers"]

CUSTOMER_ID = re.compile(r"[a-z0-9][a-z0-9_-]{0,62}")
SUFFIXES = (".yaml", ".yml")

#: Required top-level keys, with what to add when one is missing.
REQUIRED = {
    "name": "the customer's name as employees see it, e.g. name: Acme B.V.",
    "vehicles": "at least one vehicle, e.g. - {code: COMPACT, name: Compact car, day_rate: 39.50}",
}
OPTIONAL = (
    "language",
    "frame_ancestors",
    "fields",
    "basket",
    "locations",
    "max_days",
    "max_advance_days",
    "email_domains",
)


@dataclass(frozen=True)
class LoadResult:
    """The customers of a directory that can be served, and the problems of those that cannot.

    Both are keyed by customer id (the file stem) in id order; problems with the directory
    itself are under ``""``.
    """

    customers: dict[str, Customer]
    problems: dict[str, list[Problem]]


def load_customers(
    directory: Path,
    sections: Sequence[ProtocolSection],
    environ: Mapping[str, str] = os.environ,
) -> LoadResult:
    """Every ``*.yaml`` and ``*.yml`` file in ``directory``, with the protocol ``sections``; one
    bad file never stops the others."""
    try:
        files = _customer_files(directory)
    except OSError as error:
        message = (
            f"cannot read the customer directory ({error.strerror}); create it, or point "
            "OCIFLEX_CUSTOMERS_DIR at the right one"
        )
        return LoadResult({}, {"": [Problem(directory, None, "", message)]})
    result = LoadResult({}, {})
    for customer_id, (file, *others) in sorted(files.items()):
        if others:
            names = ", ".join(path.name for path in (file, *others))
            message = f"{names} all define customer {customer_id!r}; keep only one of them"
            result.problems[customer_id] = [Problem(file, None, "", message)]
            continue
        try:
            result.customers[customer_id] = load_customer(file, sections, environ)
        except CustomerConfigError as error:
            result.problems[customer_id] = error.problems
    return result


def _customer_files(directory: Path) -> dict[str, list[Path]]:
    """Customer id -> its files; more than one (``acme.yaml`` and ``acme.yml``) is a mistake."""
    files: dict[str, list[Path]] = {}
    for file in sorted(directory.iterdir()):
        if file.suffix in SUFFIXES and file.is_file():
            files.setdefault(file.stem, []).append(file)
    return files


def load_customer(
    path: Path, sections: Sequence[ProtocolSection], environ: Mapping[str, str] = os.environ
) -> Customer:
    """The customer described by ``path``, whose stem is the customer id, with the protocol
    ``sections`` it may use.

    Raises :class:`CustomerConfigError` with all of the file's problems when it has any.
    """
    document, yaml_problems = read_document(path)
    problems = _file_name_problems(path) + yaml_problems
    if document is None:
        raise CustomerConfigError(problems)
    check = Checker(path, document)
    check.problems.extend(problems)
    customer = _customer(check, path, sections, environ)
    if customer is None or check.problems:
        raise CustomerConfigError(sorted(check.problems, key=lambda problem: problem.line or 0))
    return customer


def _file_name_problems(path: Path) -> list[Problem]:
    if CUSTOMER_ID.fullmatch(path.stem):
        return []
    suggestion = re.sub(r"[^a-z0-9_-]+", "-", path.stem.lower()).strip("-_")[:63] or "customer"
    message = (
        f"{path.name!r} is not a valid file name: its stem is the customer id in /oci/<id>, made "
        "of lower-case letters, digits, '-' and '_' (starting with a letter or digit, at most 63)"
        f"; rename it, e.g. to {suggestion}{path.suffix}"
    )
    return [Problem(path, None, "", message)]


def _customer(
    check: Checker, path: Path, sections: Sequence[ProtocolSection], environ: Mapping[str, str]
) -> Customer | None:
    if check.document.data is None:
        check.report("", f"the file is empty; a customer needs at least {', '.join(REQUIRED)}")
        return None
    keys = dict.fromkeys([*REQUIRED, *OPTIONAL, *(key for s in sections for key in s.keys)])
    top = check.mapping(check.document.data, "", keys, required=REQUIRED)
    if top is None:
        return None
    protocol_field_keys = [key for section in sections for key in section.field_keys]
    fields, field_specs = read_fields(check, top.get("fields", {}), protocol_field_keys)
    parts = FileParts(
        check=check,
        top=top,
        field_specs=field_specs,
        fields=fields,
        vehicles=read_vehicles(check, top["vehicles"]),
        locations=read_locations(check, top.get("locations", [])),
        max_days=check.integer(top.get("max_days", 365), "max_days", 1, 3660),
        cart=read_cart(check, top.get("basket", {})),
        environ=environ,
    )
    readings = {section.name: section.read(parts) for section in sections}
    protocols = {name: r.settings for name, r in readings.items() if r.settings is not None}
    limited = _limited(fields, [reading.field_limits for reading in readings.values()])
    ways = " or ".join(section.how_to_use for section in sections)
    if not any(section.marker in top for section in sections):
        check.report("", f"the customer punches out with no protocol: add {ways}")
    elif protocols and not any(settings.return_urls for settings in protocols.values()):
        # A protocol may only take the customer's purchase orders (cXML without BrowserFormPost
        # URLs): its employees could then never book.
        check.report("", f"no protocol of the customer takes a cart back: add {ways}")
    if "frame_ancestors" in top:
        frame_ancestors = read_frame_ancestors(check, top["frame_ancestors"])
    else:
        return_urls = (url for settings in protocols.values() for url in settings.return_urls)
        frame_ancestors = default_frame_ancestors(return_urls)
    name = check.string(top["name"], "name")
    language = check.choice(top.get("language", "nl"), "language", LANGUAGES)
    max_advance_days = check.integer(
        top.get("max_advance_days", DEFAULT_MAX_ADVANCE_DAYS), "max_advance_days", 1, 3660
    )
    email_domains = (
        read_email_domains(check, top["email_domains"]) if "email_domains" in top else ()
    )
    _check_examples_fit(check, fields, email_domains)
    if (
        check.problems
        or name is None
        or language is None
        or parts.max_days is None
        or max_advance_days is None
    ):
        return None
    return Customer(
        id=path.stem,
        name=name,
        language=language,
        fields=limited,
        vehicles=parts.vehicles,
        protocols=protocols,
        frame_ancestors=frame_ancestors,
        cart=parts.cart,
        locations=parts.locations,
        max_days=parts.max_days,
        max_advance_days=max_advance_days,
        email_domains=email_domains,
        source=path,
    )


def _limited(fields: Mapping[str, Field], limits: Sequence[Mapping[str, int]]) -> dict[str, Field]:
    """``fields``, each no longer than the shortest limit a protocol sets on it."""
    limited = dict(fields)
    for protocol_limits in limits:
        for name, limit in protocol_limits.items():
            if name in limited and limit < limited[name].max_length:
                limited[name] = replace(limited[name], max_length=limit)
    return limited


def _check_examples_fit(
    check: Checker, fields: Mapping[str, Field], email_domains: tuple[str, ...]
) -> None:
    """An example the simulator would send must pass the call-up: its domain, and the
    ``max_length`` of ``fields`` as the file gives them (whether it fits the protocols' carts
    is each protocol's check, with the fixes that suit: see
    :func:`ociflex.customers.checks.check_fits`)."""
    email = fields.get("email")
    if email is not None and email.example and not email_in_domains(email.example, email_domains):
        check.report(
            "fields.email.example",
            f"{email.example!r} is not in email_domains ({', '.join(email_domains)}), so the "
            "call-up would refuse it; give an address in one of them",
        )
    for field in fields.values():
        if len(field.example) > field.max_length:
            check.report(
                f"fields.{field.name}.example",
                f"{field.example!r} is {len(field.example)} characters, longer than this "
                f"field's max_length {field.max_length}: give a typical value of at most "
                f"{field.max_length} characters, or raise max_length",
            )
