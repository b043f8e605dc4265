"""Reading an OCI call-up: the parameters an ERP sends when an employee punches out to us.

Plain functions over plain data: the web layer hands in the parameter pairs of the query string
and the body, and gets back a punch-out session
(:class:`~ociflex.booking.session.PunchoutSession`) or a :class:`CallupError` that says what is
wrong and what the ERP administrator should change.

Every call from the ERP carries the company login and a HOOK_URL (:func:`check_access`). A
call with a ``FUNCTION`` (PROTOCOL.md section 3) is no punch-out session: the web layer sends
it to :func:`ociflex.oci.functions.read_function_call` instead of :func:`read_callup`.
"""

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from ociflex.booking.fields import CONTROL_CHARACTERS, FieldProblem, on_one_line, refusing_problem
from ociflex.booking.session import CartReturn, PunchoutSession
from ociflex.customers.model import Customer, Field
from ociflex.oci.basket_rules import ECHOED_PARAMETERS
from ociflex.oci.config import OCI, OciSettings, oci_settings
from ociflex.oci.encodings import form_codec
from ociflex.oci.hook_url import check_hook_url, hook_origin
from ociflex.return_urls import ReturnUrlError
from ociflex.text import N_

Pairs = Sequence[tuple[str, str]]

#: Frame targets a basket may be posted into; anything else falls back to ``_top``.
KEYWORD_TARGETS = ("_top", "_parent", "_self", "_blank")
FRAME_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}")

#: ``~OkCode`` and ``~CALLER`` go back into the basket as they came: short codes ("ADDI").
ECHOED_MAX_LENGTH = 40

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
        self.params = {name: on_one_line(value) for name, value in params.items()}
        super().__init__(message % self.params)


def frame_target(params: Params) -> str:
    """OCI 4.0's ``returntarget`` wins over ``~TARGET``; unusable names fall back to ``_top``."""
    target = params.get("returntarget") or params.get("~TARGET") or "_top"
    lowered = target.lower()
    if lowered in KEYWORD_TARGETS:
        return lowered
    return target if FRAME_NAME.fullmatch(target) else "_top"


def _check_login(settings: OciSettings, params: Params) -> None:
    login = settings.login
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


def _check_hook_url(settings: OciSettings, params: Params) -> str:
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
        check_hook_url(hook_url, settings.hook_urls)
    except ReturnUrlError as error:
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
        return oci_settings(customer).default_charset
    if form_codec(requested) is None:
        # Only a charset a browser form can be posted in (not idna, unicode-escape, utf-16...).
        raise CallupError(
            400,
            N_("The character set %(charset)s in HTTP_CONTENT_CHARSET is unknown."),
            N_("Ask your ERP administrator to send utf-8 or iso-8859-1."),
            charset=requested[:40],
        )
    # Keep the ERP's own label: browsers know "windows-1252", not Python's "cp1252".
    return requested


#: What the call-up's page says about each problem a field's value can have.
_FIELD_PROBLEMS = {
    FieldProblem.MISSING: (
        N_("The required field %(param)s is missing from the call-up."),
        N_("Ask your ERP administrator to send %(param)s for this catalogue."),
    ),
    FieldProblem.CONTROL_CHARACTERS: (
        N_("The field %(param)s contains control characters or line breaks."),
        N_("Ask your ERP administrator to send %(param)s as a single line of text."),
    ),
    FieldProblem.TOO_LONG: (
        N_("The field %(param)s is longer than %(max)s characters."),
        N_("Ask your ERP administrator to send a shorter value for %(param)s."),
    ),
    FieldProblem.PATTERN: (
        N_("The value of %(param)s does not have the agreed format."),
        N_("Ask your ERP administrator to check the value sent in %(param)s."),
    ),
    FieldProblem.NOT_AN_EMAIL: (
        N_("The e-mail address in %(param)s is not valid."),
        N_("Ask your ERP administrator to send the requester's e-mail address in %(param)s."),
    ),
}


def check_field_value(field: Field, param: str, value: str) -> CallupError | None:
    """The problem with the value of ``field`` sent in ``param`` that refuses the call-up, or
    None (an editable field's value is corrected in the booking form)."""
    problem = refusing_problem(field, value)
    if problem is None:
        return None
    message, fix = _FIELD_PROBLEMS[problem]
    return CallupError(400, message, fix, param=param, max=field.max_length)


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


def _read_fields(customer: Customer, settings: OciSettings, params: Params) -> dict[str, str]:
    values: dict[str, str] = {}
    for field_ in customer.fields.values():
        param = settings.param(field_)
        value = (params.get(param) or "").strip()
        problem = check_field_value(field_, param, value)
        if problem is not None:
            raise problem
        values[field_.name] = value
    if values["email"] and not customer.accepts_email(values["email"]):
        raise CallupError(
            403,
            N_("The e-mail address %(email)s is not in a domain this catalogue accepts."),
            N_(
                "Ask your ERP administrator to send the requester's company e-mail address in "
                "%(param)s (accepted: %(domains)s)."
            ),
            email=values["email"],
            param=settings.param(customer.fields["email"]),
            domains=", ".join(customer.email_domains),
        )
    return values


def check_access(customer: Customer, params: Params) -> str:
    """The checks every call from the ERP passes, interactive or FUNCTION: the company login
    first, so that nobody without it learns anything about the customer's configuration, then
    the HOOK_URL, which is returned."""
    settings = oci_settings(customer)
    _check_login(settings, params)
    return _check_hook_url(settings, params)


def requested_function(params: Params) -> str | None:
    """The ``FUNCTION`` of a call as sent, or None for an interactive call-up."""
    return (params.get("FUNCTION") or "").strip() or None


def read_callup(customer: Customer, params: Params) -> PunchoutSession:
    """Check an interactive call-up for ``customer``: access first, then the user's fields.

    A call with a ``FUNCTION`` is no punch-out session and may lack the user's fields: pass it
    to :func:`ociflex.oci.functions.read_function_call`; here it is a ValueError (after the
    access checks, which apply to every call)."""
    hook_url = check_access(customer, params)
    if requested_function(params) is not None:
        raise ValueError("a FUNCTION call: read it with ociflex.oci.functions.read_function_call")
    settings = oci_settings(customer)
    cart_return = read_cart_return(customer, params, hook_url)
    return PunchoutSession(
        customer_id=customer.id,
        protocol=OCI,
        fields=_read_fields(customer, settings, params),
        cart_return=cart_return,
        inbound=inbound(params, settings),
    )


def read_cart_return(customer: Customer, params: Params, hook_url: str) -> CartReturn:
    """Where and how a basket goes back to the ERP, the same for a call-up and a FUNCTION call:
    to ``hook_url`` (checked by :func:`check_access`), into the frame asked for, in the charset
    asked for, with ``~OkCode`` and ``~CALLER`` echoed when they are short single-line codes."""
    echo = {name: _read_echoed(params, name) for name in ECHOED_PARAMETERS}
    return CartReturn(
        url=hook_url,
        target=frame_target(params),
        charset=read_charset(customer, params),
        echo={name: value for name, value in echo.items() if value is not None},
    )


def inbound(params: Params, settings: OciSettings) -> dict[str, Any]:
    """The call-up as a request keeps it: every parameter in order, without the password."""
    kept = params.without(settings.login.password_param, "PASSWORD")
    return {"parameters": [[name, value] for name, value in kept]}


def log_values(customer: Customer, params: Params | None = None) -> dict[str, Any]:
    """What an entry of the transfer log keeps of an OCI call besides its outcome: the
    parameters (the log leaves out the password, named here), and where the basket was to go."""
    values: dict[str, Any] = {"password_params": (oci_settings(customer).login.password_param,)}
    if params is not None:
        values["parameters"] = params.pairs
        values["return_origin"] = hook_origin(params.get("HOOK_URL"))
    return values
