"""Line breaks put into every value a punch-out reads, and what may come back of them (issue 17,
item 7: a pattern's ``$`` matched before a final line break, and ``frame1\\n`` became a target).

What is tried: each value of an OCI call (call-up or FUNCTION) and of a cXML setup request, with
a CR, an LF and a CR LF at its end, at its start and in its middle (:func:`line_break_variants`).
Whatever the value, the punch-out either refuses it with a 4xx that names it, on one line, or
accepts it; and then no line break of it reaches a place where a line break changes what is
read: a response header, a form's action, target or charset, a hidden field (the basket's
values; long text has lines, ending in CR LF), a single-line column of the stored request, an
e-mail's recipient or subject, a text or attribute of the cXML cart. The helpers that look say
what they found wrong, as text, so that a test can report every case at once.
"""

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from functools import partial

from flask import Flask
from lxml import etree
from sqlalchemy import select
from werkzeug.test import TestResponse

from ociflex.customers.model import Customer
from ociflex.db import session_for
from ociflex.models import OutboxMessage, RentalRequest
from ociflex.oci.config import oci_settings
from ociflex.oci.customer_section import OCI_PARAMS
from ociflex.oci.functions import Function
from tests.support.cxml import DEMO_FROM, DEMO_SECRET, Setup
from tests.support.html import Form, Html, single_spaced, text_of

#: The line breaks a value is tried with, by the name a failure shows.
LINE_BREAKS = {"CR": "\r", "LF": "\n", "CR LF": "\r\n"}

#: Long text is the one basket value with lines; each ends in CR LF, as a browser posts it.
_LONGTEXT = re.compile(r"NEW_ITEM-LONGTEXT_[0-9]+:132\[\]")
#: The stored request's columns that hold one line each (remarks are free text, with lines).
_SINGLE_LINE_COLUMNS = (
    "reference",
    "requester_email",
    "requester_name",
    "cost_centre",
    "po_number",
    "vehicle_code",
    "vehicle_name",
    "currency",
    "location",
)


@dataclass(frozen=True)
class Variant:
    """A value with a line break put in, and which break where, for a failure's message."""

    value: str
    line_break: str
    place: str

    def __str__(self) -> str:
        return f"{self.place} {self.line_break}: {self.value!r}"


def line_break_variants(value: str) -> list[Variant]:
    """``value`` with each line break of :data:`LINE_BREAKS` at its end, start and middle."""
    middle = len(value) // 2
    return [
        variant
        for name, line_break in LINE_BREAKS.items()
        for variant in (
            Variant(value + line_break, name, "trailing"),
            Variant(line_break + value, name, "leading"),
            Variant(value[:middle] + line_break + value[middle:], name, "middle"),
        )
    ]


def has_line_break(text: str | None) -> bool:
    return text is not None and ("\r" in text or "\n" in text)


def with_value(pairs: Mapping[str, str], name: str, value: str) -> dict[str, str]:
    """``pairs`` with ``name`` set to ``value``, replacing a key that differs only in case (the
    call-up reads parameter names ignoring case: two spellings would be two values)."""
    kept = {key: old for key, old in pairs.items() if key.casefold() != name.casefold()}
    return {**kept, name: value}


# --- What is tried: every value of an OCI call and of a cXML setup request -----------------


#: A valid value of each of OCI's own parameters (OCI_PARAMS, the call-up's reading of them).
OCI_EXAMPLES = {
    "HOOK_URL": None,  # the customer's own: see oci_examples()
    "~OKCODE": "ADDI",
    "~TARGET": "SRM_Frame",
    "~CALLER": "CTLG",
    "RETURNTARGET": "SRM_Frame",
    "OCI_VERSION": "4.0",
    "OPI_VERSION": "1.0",
    "HTTP_CONTENT_CHARSET": "utf-8",
    "FUNCTION": None,  # makes another call: see function_calls()
    "PRODUCTID": None,  # the customer's first vehicle
    "QUANTITY": "2",
    "SEARCHSTRING": None,  # the customer's first vehicle
}


def oci_examples(customer: Customer, callup: dict[str, str]) -> dict[str, str]:
    """A valid value of every parameter of OCI_PARAMS for ``customer``'s call-up ``callup``."""
    assert set(OCI_EXAMPLES) == {name.upper() for name in OCI_PARAMS}, "OCI_PARAMS changed"
    vehicle = customer.vehicles[0].code
    return {
        **OCI_EXAMPLES,
        "HOOK_URL": next(v for k, v in callup.items() if k.upper() == "HOOK_URL"),
        "PRODUCTID": vehicle,
        "SEARCHSTRING": vehicle.lower(),
    }


#: Parameter -> the one that wins over it when both are sent (frame_target): it is tried alone.
MASKED_BY = {"~TARGET": "RETURNTARGET"}


def tried(call: dict[str, str], parameter: str, value: str) -> dict[str, str]:
    """``call`` with ``value`` for ``parameter``, and without a parameter that would win over
    it."""
    masking = MASKED_BY.get(parameter.upper(), "")
    kept = {name: sent for name, sent in call.items() if name.upper() != masking}
    return with_value(kept, parameter, value)


def callup_with_every_parameter(customer: Customer, callup: dict[str, str]) -> dict[str, str]:
    """``callup`` with a value for every parameter of OCI_PARAMS but FUNCTION."""
    examples = oci_examples(customer, callup)
    for name, value in examples.items():
        if name != "FUNCTION":
            callup = with_value(callup, name, value)
    return callup


def callup_values(customer: Customer, callup: dict[str, str]) -> list[tuple[str, str]]:
    """(parameter, valid value) of everything a call-up of ``customer`` carries: the login,
    every parameter of OCI_PARAMS but FUNCTION, each field's parameter; and a free-text field's
    value at its ``max_length`` too (a line break must not pass because the value was cut)."""
    sent = callup_with_every_parameter(customer, callup)
    settings = oci_settings(customer)
    parameters = [
        settings.login.username_param,
        settings.login.password_param,
        *(name for name in OCI_EXAMPLES if name != "FUNCTION"),
        *settings.params.values(),
    ]
    values = [(name, _value_of(sent, name)) for name in parameters]
    for field in customer.fields.values():
        if field.pattern is None and field.name != "email":
            value = _value_of(sent, settings.param(field))
            values.append((settings.param(field), (value * field.max_length)[: field.max_length]))
    return values


def _value_of(pairs: Mapping[str, str], name: str) -> str:
    return next(value for key, value in pairs.items() if key.casefold() == name.casefold())


def function_calls(customer: Customer, callup: dict[str, str]) -> dict[str, dict[str, str]]:
    """A valid call of each OCI function (Function) for ``customer``: ``callup``'s login and
    HOOK_URL, OCI's other parameters, the function's own; VALIDATE also with indexed product
    lines. No user fields: SAP makes some of these calls without them."""
    examples = oci_examples(customer, callup)
    login = oci_settings(customer).login
    base = {
        name: value
        for name, value in callup.items()
        if name in (login.username_param, login.password_param)
    }
    for name in OCI_EXAMPLES:
        if name not in ("FUNCTION", "PRODUCTID", "QUANTITY", "SEARCHSTRING"):
            base[name] = examples[name]
    products = {"PRODUCTID": examples["PRODUCTID"], "QUANTITY": examples["QUANTITY"]}
    calls = {
        function.value: {
            **base,
            "FUNCTION": function.value,
            **(products if function.takes_products else {"SEARCHSTRING": examples["SEARCHSTRING"]}),
        }
        for function in Function
    }
    calls["VALIDATE[1]"] = {
        **base,
        "FUNCTION": Function.VALIDATE.value,
        **{f"{name}[1]": value for name, value in products.items()},
    }
    return calls


#: A correct setup request of each customer that punches out by cXML in the tests: ``globex``
#: (tests/customers_cxml) and the shipped ``demo``.
CXML_SETUPS = {
    "globex": Setup(),
    "demo": Setup(
        from_credentials=(DEMO_FROM,),
        sender=DEMO_FROM,
        shared_secret=DEMO_SECRET,
        browser_form_post="http://127.0.0.1:5000/dev/cxml/cart?session=42",
        extrinsics=(("CostCenter", "4100"), ("PONumber", "PO-2026-01")),
        contact=("Jan Jansen", "jan.jansen@demo.example"),
    ),
}


@dataclass(frozen=True)
class SetupValue:
    """One value of a setup request: how to change it, and what its refusal names."""

    label: str
    value: str
    change: Callable[[str], Setup]
    names: tuple[str, ...]


def setup_values(setup: Setup, credentials_refused: str) -> list[SetupValue]:
    """Every value a buyer sends in ``setup``: BuyerCookie, BrowserFormPost URL, the domain and
    Identity of each credential (From, To, Sender), the SharedSecret, each Extrinsic's name and
    text, the Contact's Name and Email, the operation, the payloadID, and the reference of the
    booking an edit opens (``FF-000001``: book once first). A credential's refusal is the same
    whichever part was wrong: ``credentials_refused``, the Status text of a wrong SharedSecret."""
    values = [
        SetupValue(
            "BuyerCookie",
            setup.buyer_cookie,
            lambda v: replace(setup, buyer_cookie=v),
            ("BuyerCookie",),
        ),
        SetupValue(
            "BrowserFormPost URL",
            setup.browser_form_post,
            lambda v: replace(setup, browser_form_post=v),
            ("BrowserFormPost",),
        ),
        SetupValue(
            "SharedSecret",
            setup.shared_secret,
            lambda v: replace(setup, shared_secret=v),
            (credentials_refused,),
        ),
        SetupValue(
            "operation", setup.operation, lambda v: replace(setup, operation=v), ("operation",)
        ),
        SetupValue(
            "payloadID", setup.payload_id, lambda v: replace(setup, payload_id=v), ("payloadID",)
        ),
    ]
    for party in ("from_credentials", "to_credentials"):
        for index, credential in enumerate(getattr(setup, party)):
            for part, what in enumerate(("domain", "Identity")):
                values.append(
                    SetupValue(
                        f"{party.removesuffix('_credentials').title()} Credential {index} {what}",
                        credential[part],
                        partial(_with_credential, setup, party, index, part),
                        (credentials_refused,),
                    )
                )
    for part, what in enumerate(("domain", "Identity")):
        values.append(
            SetupValue(
                f"Sender Credential {what}",
                setup.sender[part],
                partial(_with_sender, setup, part),
                (credentials_refused,),
            )
        )
    for index, (name, text) in enumerate(setup.extrinsics):
        for part, sent in enumerate((name, text)):
            values.append(
                SetupValue(
                    f"Extrinsic {name} {('name', 'text')[part]}",
                    sent,
                    partial(_with_extrinsic, setup, index, part),
                    (name,),
                )
            )
    for part, element in enumerate(("Name", "Email")):
        values.append(
            SetupValue(
                f"Contact {element}",
                setup.contact[part],
                partial(_with_contact, setup, part),
                ("Contact",),
            )
        )
    # Last: the booking an edit opens again is the first one the values above made.
    values.append(
        SetupValue(
            "ItemOut SupplierPartAuxiliaryID (edit)",
            "FF-000001",
            lambda v: replace(setup, operation="edit", items=(v,)),
            ("SupplierPartAuxiliaryID",),
        )
    )
    return values


def _replaced(values: tuple, index: int, value: object) -> tuple:
    return (*values[:index], value, *values[index + 1 :])


def _with_credential(setup: Setup, party: str, index: int, part: int, value: str) -> Setup:
    credentials = getattr(setup, party)
    changed = _replaced(credentials[index], part, value)
    return replace(setup, **{party: _replaced(tuple(credentials), index, changed)})


def _with_sender(setup: Setup, part: int, value: str) -> Setup:
    return replace(setup, sender=_replaced(setup.sender, part, value))


def _with_extrinsic(setup: Setup, index: int, part: int, value: str) -> Setup:
    changed = _replaced(setup.extrinsics[index], part, value)
    return replace(setup, extrinsics=_replaced(tuple(setup.extrinsics), index, changed))


def _with_contact(setup: Setup, part: int, value: str) -> Setup:
    return replace(setup, contact=_replaced(setup.contact, part, value))


# --- What came back ---------------------------------------------------------------------------


def header_line_breaks(response: TestResponse) -> list[str]:
    """The response headers that carry a line break."""
    return [
        f"header {name}: {value!r}" for name, value in response.headers if has_line_break(value)
    ]


def form_line_breaks(form: Form) -> list[str]:
    """What of ``form`` carries a line break where none belongs: its action, target and charset,
    a hidden field's name or value (long text's lines may end in CR LF, and only there). A
    visible field may show a received value as it came, for the employee to correct: a browser
    takes no line break from a single-line input, and the form's checks refuse one."""
    found = [
        f"form {attribute}={form.attrs[attribute]!r}"
        for attribute in ("action", "target", "accept-charset")
        if has_line_break(form.attrs.get(attribute))
    ]
    for name, value in form.hidden:
        single_lines = value.replace("\r\n", "") if _LONGTEXT.fullmatch(name) else value
        if has_line_break(name) or has_line_break(single_lines):
            found.append(f"form field {name!r}={value!r}")
    return found


def page_line_breaks(response: TestResponse) -> list[str]:
    """The headers and every form of a page that carry a line break where none belongs."""
    found = header_line_breaks(response)
    for form in Html(response).forms.values():
        found += form_line_breaks(form)
    return found


def stored_line_breaks(app: Flask) -> list[str]:
    """What of the newest stored request, and of the e-mails waiting to go out, carries a line
    break where none belongs: a single-line column, a field, a recipient or a subject."""
    with session_for(app) as session:
        rental = session.scalars(select(RentalRequest).order_by(RentalRequest.id.desc())).first()
        mails = session.scalars(select(OutboxMessage)).all()
        found = []
        if rental is not None:
            columns = {name: getattr(rental, name) for name in _SINGLE_LINE_COLUMNS}
            fields = {f"fields.{name}": value for name, value in (rental.fields or {}).items()}
            found += [
                f"stored {name}={value!r}"
                for name, value in {**columns, **fields}.items()
                if has_line_break(value)
            ]
        for mail in mails:
            if has_line_break(mail.recipient) or has_line_break(mail.subject):
                found.append(f"e-mail to {mail.recipient!r}: {mail.subject!r}")
    return found


def refusal_problems(response: TestResponse, names: Iterable[str]) -> list[str]:
    """What is wrong with ``response`` as the refusal of a value that one of ``names`` stands
    for: it must be a 4xx page whose alert (or, on the booking form, the field's error) says
    what is wrong on one line, and the page must name the value (ignoring case)."""
    status = response.status_code
    page = Html(response)
    if not 400 <= status < 500:
        return [f"status {status}"]
    problems = []
    alerts = [text_of(e) for e in page.root.iter() if e.get("role") == "alert"]
    if not any(alert.strip() for alert in alerts) and not page.errors:
        problems.append(f"{status} without a message")
    problems += [f"alert with a line break: {alert!r}" for alert in alerts if has_line_break(alert)]
    shown = single_spaced(text_of(page.root.find("body"))).casefold()
    if not any(name.casefold() in shown or name in page.errors for name in names):
        problems.append(f"{status} that names none of {list(names)}: {page.alerts}")
    return problems


def cart_line_breaks(document: bytes, echoed: Iterable[str]) -> list[str]:
    """What of a cXML cart (the PunchOutOrderMessage as the buyer decodes it) carries a line
    break where none belongs: an element's text or an attribute, but for the ``echoed`` values
    (the BuyerCookie and the credentials the setup request sent: the buyer gets them back as it
    sent them, escaped as XML)."""
    root = etree.fromstring(document, etree.XMLParser(resolve_entities=False, no_network=True))
    kept = set(echoed)
    found = []
    for element in root.iter(etree.Element):
        text = (element.text or "").strip()
        if has_line_break(text) and text not in kept:
            found.append(f"cart <{element.tag}> {text!r}")
        found += [
            f"cart <{element.tag} {name}={value!r}>"
            for name, value in element.attrib.items()
            if has_line_break(value) and value not in kept
        ]
    return found
