"""The checks a field's value passes wherever it comes from: the buyer's system (an OCI
parameter, a cXML Extrinsic or Contact) or the booking form. Each protocol words the problem for
the buyer's administrator, naming where it found the value; a value of an editable field is
corrected in the booking form instead (:func:`refusing_problem`)."""

import functools
import re
from enum import StrEnum
from typing import Any

from email_validator import EmailNotValidError, validate_email

from ociflex.customers.model import Field

#: Control characters, line breaks included: a field holds one line of text. U+FFFE and U+FFFF
#: are no characters at all (and no XML document, a cXML cart's included, can carry them).
CONTROL_CHARACTERS = re.compile(r"[\x00-\x1f\x7f-\x9f\ufffe\uffff]")


def on_one_line(value: Any) -> Any:
    """A value from the buyer's system as a refusal quotes it: a control character written as
    its escape (``utf-8\\n``), so that the administrator sees what was sent and the page, the
    log line and the transfer log's reason stay one line each. Other types pass unchanged."""
    if not isinstance(value, str):
        return value
    return CONTROL_CHARACTERS.sub(lambda char: ascii(char[0])[1:-1], value)


class FieldProblem(StrEnum):
    MISSING = "missing"
    CONTROL_CHARACTERS = "control characters"
    TOO_LONG = "too long"
    PATTERN = "pattern"
    NOT_AN_EMAIL = "not an e-mail address"


def field_problem(field: Field, value: str) -> FieldProblem | None:
    """What is wrong with ``value`` as the value of ``field`` (stripped), or None."""
    if not value:
        return FieldProblem.MISSING if field.required else None
    if CONTROL_CHARACTERS.search(value):
        return FieldProblem.CONTROL_CHARACTERS
    if len(value) > field.max_length:
        return FieldProblem.TOO_LONG
    if field.pattern is not None and not field.pattern.search(value):
        return FieldProblem.PATTERN
    if field.name == "email" and not is_email(value):
        return FieldProblem.NOT_AN_EMAIL
    return None


def refusing_problem(field: Field, value: str) -> FieldProblem | None:
    """What is wrong with ``value``, sent by the buyer's system for ``field``, that refuses the
    punch-out, or None. The value of an editable field never does: the booking form opens with
    it marked for the employee to correct (:mod:`ociflex.booking.correction`), and the form's
    own checks keep the booking from going out until it is right. Nobody can correct a field
    the employee cannot change, so its problem refuses the punch-out."""
    return None if field.editable else field_problem(field, value)


#: Characters RFC 5322 allows in a local part that no employee's address holds, yet that
#: structure a URL: ``?`` and ``&`` start and separate the headers of a ``mailto:`` link
#: (``a?bcc=x@example.com``), ``%`` starts an escape. Microsoft 365 replaces ``?`` and ``%`` in
#: synchronised addresses and forbids ``&`` in user names; Google Workspace allows none of
#: them. ``#``, ``'``, ``+``, ``!`` and the like stay accepted (Entra ID user names may hold
#: ``#``, ``'`` and ``!``); links escape every address anyway (:func:`ociflex.web.mailto`).
URL_DELIMITERS_IN_LOCAL_PART = frozenset("?&%")


@functools.lru_cache(maxsize=4096)
def is_email(value: str) -> bool:
    """Whether ``value`` is an e-mail address a requester can have: valid by email-validator,
    with none of :data:`URL_DELIMITERS_IN_LOCAL_PART` before the ``@``, and ASCII before the
    ``@`` (an internationalized domain is fine): a local part such as ``jürgen`` needs SMTPUTF8,
    which the outbox's messages cannot carry, so the confirmation could never be sent. Cached,
    as the same employees punch out again and again and email-validator's check is heavy next
    to the rest of a call-up's checks."""
    if URL_DELIMITERS_IN_LOCAL_PART.intersection(value.rpartition("@")[0]):
        return False
    try:
        validate_email(value, check_deliverability=False, allow_smtputf8=False)
    except EmailNotValidError:
        return False
    return True
