"""Customers for tests that change a loaded one."""

from dataclasses import replace

from ociflex.customers.model import Customer
from ociflex.oci.config import OCI, oci_settings


def with_oci_settings(customer: Customer, **changes: object) -> Customer:
    """``customer`` with its OCI settings changed (``basket``, ``max_lengths``, ...)."""
    changed = replace(oci_settings(customer), **changes)
    return replace(customer, protocols={**customer.protocols, OCI: changed})
