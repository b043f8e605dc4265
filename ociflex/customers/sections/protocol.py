"""The part of a customer file that belongs to one punch-out protocol.

The customers package knows no protocol: OCI's keys (``login``, ``hook_urls``, the NEW_ITEM
``basket``) are read by :mod:`ociflex.oci.customer_section`, cXML's ``cxml`` section by
:mod:`ociflex.cxml.customer_section`. Each describes itself as a :class:`ProtocolSection`,
and the loader is given the sections to read (``ociflex.protocols.CUSTOMER_SECTIONS``), so
that the arrows point from the protocols to the customers, never back.

A section reports its problems to the same :class:`~ociflex.customers.checks.Checker` as the
rest of the file, with lines and key paths, so a file's mistakes are all listed together.
"""

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from ociflex.customers.checks import Checker
from ociflex.customers.model import CartSettings, Field, ProtocolSettings, Vehicle


@dataclass(frozen=True)
class FileParts:
    """What a protocol's reader gets: the file, and what the protocol-neutral part made of it."""

    check: Checker
    #: The file's top-level keys and values (only keys that some part of ociflex reads).
    top: Mapping[str, object]
    #: Field name -> its entries as written (``{}`` for a built-in field the file leaves out),
    #: for the keys a protocol adds to each field (``param``, ``extrinsic``).
    field_specs: Mapping[str, Mapping[str, object]]
    #: The fields that could be read, by name.
    fields: Mapping[str, Field]
    vehicles: tuple[Vehicle, ...]
    locations: tuple[str, ...]
    max_days: int | None
    cart: CartSettings
    #: Where secrets named by ``*_env`` keys are looked up.
    environ: Mapping[str, str]


@dataclass(frozen=True)
class SectionReading:
    """What a protocol made of its part of a file."""

    #: None when the customer does not punch out with this protocol.
    settings: ProtocolSettings | None
    #: Field name -> the longest value this protocol's cart can carry of it, where that is
    #: shorter than the field's own ``max_length``: the call-up or setup then refuses a longer
    #: value while the employee can still act, instead of the buyer's system dropping the line.
    field_limits: Mapping[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class ProtocolSection:
    """One protocol's part of a customer file."""

    #: The protocol's name, its key in :attr:`ociflex.customers.Customer.protocols`.
    name: str
    #: The top-level keys it reads (a key may be read by the neutral part as well: ``basket``).
    keys: tuple[str, ...]
    #: The keys it adds to each entry of ``fields``.
    field_keys: tuple[str, ...]
    #: The top-level key whose presence says that the customer uses this protocol.
    marker: str
    #: What a file adds to use it, for the message of a file that uses none:
    #: ``login and hook_urls (SAP OCI)``.
    how_to_use: str
    read: Callable[[FileParts], SectionReading]
