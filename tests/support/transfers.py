"""Transfer-log entries for tests: an accepted OCI call-up of the demo customer, unless told."""

from typing import Any

from ociflex.transfers import transfer_values


def entry_values(**fields: Any) -> dict[str, Any]:
    """The column values of an entry (:func:`ociflex.transfers.transfer_values`)."""
    defaults = {
        "kind": "callup",
        "outcome": "accepted",
        "status": 200,
        "customer_id": "demo",
        "method": "POST",
        "protocol": "oci",
    }
    return transfer_values(**{**defaults, **fields})
