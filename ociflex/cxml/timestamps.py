"""The identity and time of a document ociflex sends (PROTOCOL.md section 1).

``payloadID`` is unique per document (``datetime.process.random@host``, as cXML suggests);
``timestamp`` is ISO 8601 with the offset written ``+hh:mm``, as every buyer reads it.
"""

import os
import secrets
from datetime import UTC, datetime


def timestamp(moment: datetime | None = None) -> str:
    """``moment`` (default: now) as ``YYYY-MM-DDThh:mm:ss+00:00``."""
    moment = (moment or datetime.now(UTC)).astimezone(UTC)
    return moment.replace(microsecond=0).isoformat()


def payload_id(host: str, moment: datetime | None = None) -> str:
    """A new payloadID: ``20261202T054512.4711.3f9c0a1b2d4e6f70@host``."""
    moment = (moment or datetime.now(UTC)).astimezone(UTC)
    return f"{moment:%Y%m%dT%H%M%S}.{os.getpid()}.{secrets.token_hex(8)}@{host}"
