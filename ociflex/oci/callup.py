"""Reading an OCI call-up: the parameters an ERP sends when an employee punches out to us.

Plain functions over plain data: the web layer hands in the parameter pairs of the query string
and the body, and gets back a :class:`Punchout` or a :class:`CallupError` that says what is
wrong and what the ERP administrator should change.

Every call from the ERP carries the company login and a HOOK_URL (:func:`check_access`). A
call with a ``FUNCTION`` (PROTOCOL.md section 3) is no punch-out session: the web layer sends
it to :func:`ociflex.oci.functions.read_function_call` instead of :func:`read_callup`.
"""

import codecs
import functools
import re
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from email_validator import EmailNotValidError, validate_email

from ociflex.customers.model import Customer, Field
from ociflex.oci.hook_url import HookUrlError, check_hook_url
from ociflex.text import N_

Pairs = Sequence[tuple[str, str]]

#: Frame targets a basket may be posted into; anything else falls back to ``_top``.
KEYWORD_TARGETS = ("_top", "_parent", "_self", "_blank")
FRAME_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$")
CHARSET_LABEL = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,39}$")
CONTROL_CHARACTERS = re.compile(r"[\x00-\x1f\x7f-\x9f]")

#: ``~OkCode`` and ``~CALLER`` go back into the basket as they came: short codes ("ADDI").
ECHOED_MAX_LENGTH = 40
#: What a charset must encode as ASCII to carry a form post (not UTF-16, UTF-7, base64...).
_FORM_PROBE = "Az09=&+-%_."

#: Parameters that may be given once only: a second, different value is an attack or a bug.
SINGLE_VALUED = ("HOOK_URL",)


@dataclass(frozen=True)
class Params:
    """Call-up parameters in the order received, looked up case-insensitively by name."""

    pairs: tuple[tuple[str, str], ...]

    @classmethod
    def merge(cls, *sources: Iterable[tuple[str, str]]) -> "Params":
        """Query string and body together: some ERPs put part of the call-up in each."""
        return cls(tuple(pair for source in sources for pair in source))

    def values(self, name: str) -> list[str]:
        wanted = name.casefold()
        return [value for key, value in self.pairs if key.casefold() == wanted]

    def get(self, name: str) -> str | None:
        """The value of ``name``; when it was sent more than once, the first non-empty one."""
        values = self.values(name)
        return next((v for v in values if v), values[0] if values else None)

    def without(self, *names: str) -> tuple[tuple[str, str], ...]:
        dropped = {n.casefold() for n in names}
        return tuple((k, v) for k, v in self.pairs if k.casefold() not in dropped)


class CallupError(Exception):
    """A call-up that cannot start a punch-out.

    ``message`` and ``fix`` are catalogue texts (English msgids with ``%(name)s`` parameters)
    so the error page can show them in the customer's language; ``str()`` is the English text
    for the log, which never contains a password.
    """

    def __init__(self, status: int, message: str, fix: str, **params: Any) -> None:
        self.status = status
        self.message = message
        self.fix = fix
        self.params = params
        super().__init__(message % params)


@dataclass(frozen=True)
class Punchout:
    """One punch-out session: everything needed to show the form and to return the basket."""

    customer_id: str
    hook_url: str
    target: str
    charset: str
    ok_code: str | None
    caller: str | None
    oci_version: str | None
    #: ociflex field name -> value as sent by the ERP ("" for optional fields not sent).
    fields: dict[str, str]
    #: All parameters as received, without the password.
    callup: tuple[tuple[str, str], ...]
    #: Unique per call-up: two punch-outs never share state, a double submit is recognised.
    id: str = field(default_factory=lambda: secrets.token_urlsafe(16))

    def to_json(self) -> dict[str, Any]:
        return {
            "c": self.customer_id,
            "h": self.hook_url,
            "t": self.target,
            "cs": self.charset,
            "ok": self.ok_code,
            "ca": self.caller,
            "v": self.oci_version,
            "f": self.fields,
            "p": [list(pair) for pair in self.callup],
            "id": self.id,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "Punchout":
        return cls(
            customer_id=data["c"],
            hook_url=data["h"],
            target=data["t"],
            charset=data["cs"],
            ok_code=data["ok"],
            caller=data["ca"],
            oci_version=data["v"],
            fields=dict(data["f"]),
            callup=tuple((k, v) for k, v in data["p"]),
            id=data["id"],
        )


def frame_target(params: Params) -> str:
    """OCI 4.0's ``returntarget`` wins over ``~TARGET``; unusable names fall back to ``_top``."""
    target = params.get("returntarget") or params.get("~TARGET") or "_top"
    lowered = target.lower()
    if lowered in KEYWORD_TARGETS:
        return lowered
    return target if FRAME_NAME.match(target) else "_top"


def _check_login(customer: Customer, params: Params) -> None:
    login = customer.login
    username = params.get(login.username_param)
    password = params.get(login.password_param)
    if not username or not password:
        raise CallupError(
            401,
            N_("The call-up carries no company login (%(username_param)s / %(password_param)s)."),
            N_("Ask your ERP administrator to send the login parameters of this catalogue."),
            username_param=login.username_param,
            password_param=login.password_param,
        )
    for name in (login.username_param, login.password_param):
        if len(set(params.values(name))) > 1:
            raise duplicate_parameter(name)
    if not login.accepts(username, password):
        raise CallupError(
            403,
            N_("The company login in the call-up is not correct."),
            N_("Ask your ERP administrator to check the user name and password of this catalogue."),
        )


def duplicate_parameter(name: str) -> CallupError:
    return CallupError(
        400,
        N_("The parameter %(name)s was sent more than once with different values."),
        N_("Ask your ERP administrator to send %(name)s once."),
        name=name,
    )


def _check_hook_url(customer: Customer, params: Params) -> str:
    for name in SINGLE_VALUED:
        if len(set(params.values(name))) > 1:
            raise duplicate_parameter(name)
    hook_url = params.get("HOOK_URL")
    if not hook_url:
        raise CallupError(
            400,
            N_("The call-up has no HOOK_URL, so the basket could not be returned to your ERP."),
            N_("Ask your ERP administrator to send the HOOK_URL parameter."),
        )
    try:
        check_hook_url(hook_url, customer.hook_urls)
    except HookUrlError as error:
        raise CallupError(
            400,
            error.message,
            N_(
                "Ask your ERP administrator to check the HOOK_URL; "
                "Euromobil registers the addresses your ERP may use."
            ),
            **error.params,
        ) from None
    return hook_url


def read_charset(customer: Customer, params: Params) -> str:
    """The charset the ERP wants back (HTTP_CONTENT_CHARSET), else the customer's default."""
    requested = params.get("HTTP_CONTENT_CHARSET")
    if not requested:
        return customer.default_charset
    try:
        if not CHARSET_LABEL.match(requested):
            raise LookupError(requested)
        if _FORM_PROBE.encode(codecs.lookup(requested).name) != _FORM_PROBE.encode("ascii"):
            raise LookupError(requested)
    except (LookupError, UnicodeError):
        raise CallupError(
            400,
            N_("The character set %(charset)s in HTTP_CONTENT_CHARSET is unknown."),
            N_("Ask your ERP administrator to send utf-8 or iso-8859-1."),
            charset=requested,
        ) from None
    # Keep the ERP's own label: browsers know "windows-1252", not Python's "cp1252".
    return requested


def check_field_value(field: Field, value: str) -> CallupError | None:
    """The problem with a field's value, or None; shared by the call-up and the booking form."""
    if not value:
        if field.required:
            return CallupError(
                400,
                N_("The required field %(param)s is missing from the call-up."),
                N_("Ask your ERP administrator to send %(param)s for this catalogue."),
                param=field.param,
            )
        return None
    if CONTROL_CHARACTERS.search(value):
        return CallupError(
            400,
            N_("The field %(param)s contains control characters or line breaks."),
            N_("Ask your ERP administrator to send %(param)s as a single line of text."),
            param=field.param,
        )
    if len(value) > field.max_length:
        return CallupError(
            400,
            N_("The field %(param)s is longer than %(max)s characters."),
            N_("Ask your ERP administrator to send a shorter value for %(param)s."),
            param=field.param,
            max=field.max_length,
        )
    if field.pattern is not None and not field.pattern.search(value):
        return CallupError(
            400,
            N_("The value of %(param)s does not have the agreed format."),
            N_("Ask your ERP administrator to check the value sent in %(param)s."),
            param=field.param,
        )
    if field.name == "email" and not _is_email(value):
        return CallupError(
            400,
            N_("The e-mail address in %(param)s is not valid."),
            N_("Ask your ERP administrator to send the requester's e-mail address in %(param)s."),
            param=field.param,
        )
    return None


@functools.lru_cache(maxsize=4096)
def _is_email(value: str) -> bool:
    """Whether ``value`` is an e-mail address; cached, as the same employees call up again
    and again and the check costs about 0.1 ms."""
    try:
        validate_email(value, check_deliverability=False)
    except EmailNotValidError:
        return False
    return True


def _read_echoed(params: Params, name: str) -> str | None:
    """A parameter the basket echoes back, if it is a short single-line code."""
    value = params.get(name)
    if value is not None and (CONTROL_CHARACTERS.search(value) or len(value) > ECHOED_MAX_LENGTH):
        raise CallupError(
            400,
            N_("%(param)s must be a short code on one line (at most %(max)s characters)."),
            N_("Ask your ERP administrator to check the value sent in %(param)s."),
            param=name,
            max=ECHOED_MAX_LENGTH,
        )
    return value


def _read_fields(customer: Customer, params: Params) -> dict[str, str]:
    values: dict[str, str] = {}
    for field_ in customer.fields.values():
        value = (params.get(field_.param) or "").strip()
        problem = check_field_value(field_, value)
        if problem is not None:
            raise problem
        values[field_.name] = value
    email = customer.fields["email"]
    if values["email"] and not customer.accepts_email(values["email"]):
        raise CallupError(
            403,
            N_("The e-mail address %(email)s is not in a domain this catalogue accepts."),
            N_(
                "Ask your ERP administrator to send the requester's company e-mail address in "
                "%(param)s (accepted: %(domains)s)."
            ),
            email=values["email"],
            param=email.param,
            domains=", ".join(customer.email_domains),
        )
    return values


def check_access(customer: Customer, params: Params) -> str:
    """The checks every call from the ERP passes, interactive or FUNCTION: the company login
    first, so that nobody without it learns anything about the customer's configuration, then
    the HOOK_URL, which is returned."""
    _check_login(customer, params)
    return _check_hook_url(customer, params)


def requested_function(params: Params) -> str | None:
    """The ``FUNCTION`` of a call as sent, or None for an interactive call-up."""
    return (params.get("FUNCTION") or "").strip() or None


def read_callup(customer: Customer, params: Params) -> Punchout:
    """Check an interactive call-up for ``customer``: access first, then the user's fields.

    A call with a ``FUNCTION`` is no punch-out session and may lack the user's fields: pass it
    to :func:`ociflex.oci.functions.read_function_call`; here it is a ValueError (after the
    access checks, which apply to every call)."""
    hook_url = check_access(customer, params)
    if requested_function(params) is not None:
        raise ValueError("a FUNCTION call: read it with ociflex.oci.functions.read_function_call")
    return Punchout(
        customer_id=customer.id,
        hook_url=hook_url,
        target=frame_target(params),
        charset=read_charset(customer, params),
        ok_code=_read_echoed(params, "~OkCode"),
        caller=_read_echoed(params, "~CALLER"),
        oci_version=params.get("OCI_VERSION"),
        fields=_read_fields(customer, params),
        callup=params.without(customer.login.password_param, "PASSWORD"),
    )
