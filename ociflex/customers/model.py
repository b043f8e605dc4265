"""Typed, validated customer configuration: what one ``config/customers/<id>.yaml`` becomes.

Objects here are immutable and only ever built by :mod:`ociflex.customers.loader`, which
guarantees every invariant documented below; the rest of ociflex can trust them.
"""

import hmac
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from werkzeug.security import check_password_hash

from ociflex.oci.limits import NEW_ITEM_MAX_LENGTHS

#: Languages a customer file may choose; Dutch is the default.
LANGUAGES = ("nl", "en")

#: Placeholders a ``basket`` template may use besides the customer's own field names.
BUILTIN_PLACEHOLDERS = ("vehicle_code", "reference", "start", "end", "days", "location")

#: Names of the booking form's own inputs; an editable field's input is named after the field.
FORM_INPUTS = ("punchout", "vehicle", "start", "end", "location", "remarks", "csrf_token")

PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")


@dataclass(frozen=True)
class Localized:
    """A text given per language (``{nl: ..., en: ...}``) or as one plain string for all."""

    texts: Mapping[str, str]

    def get(self, language: str) -> str:
        """The text in ``language``, else Dutch, else whichever language is given."""
        return self.texts.get(language) or self.texts.get("nl") or next(iter(self.texts.values()))


@dataclass(frozen=True)
class Login:
    """The company's general access, as the ERP sends it in every call-up."""

    username_param: str
    password_param: str
    username: str
    password_env: str | None = None
    password_hash: str | None = None
    #: The secret read from ``password_env`` at load time (never from the file itself).
    password: str | None = field(default=None, repr=False)

    def accepts(self, username: str, password: str) -> bool:
        """Compare both in constant time; a wrong user name costs as much as a wrong password."""
        user_ok = hmac.compare_digest(username.encode(), self.username.encode())
        if self.password_hash is not None:
            password_ok = check_password_hash(self.password_hash, password)
        else:
            password_ok = hmac.compare_digest(password.encode(), (self.password or "").encode())
        return user_ok and password_ok


@dataclass(frozen=True)
class Field:
    """A value the ERP sends in the call-up, under ociflex's own ``name``."""

    name: str
    #: The OCI parameter that carries it (matched case-insensitively).
    param: str
    required: bool = False
    #: Shown in the booking form, prefilled from the call-up, and changeable by the employee.
    editable: bool = False
    pattern: re.Pattern[str] | None = None
    label: Localized | None = None
    #: Longest accepted value: the file's ``max_length``, lowered to the NEW_ITEM field's limit
    #: when a ``basket`` template is exactly ``{name}``.
    max_length: int = 255
    #: A typical value, for the ERP simulator and the onboarding documentation.
    example: str = ""

    def label_in(self, language: str) -> str:
        return self.label.get(language) if self.label else self.name.replace("_", " ").capitalize()


@dataclass(frozen=True)
class Vehicle:
    code: str
    name: Localized
    day_rate: Decimal
    #: Short label that starts the basket line's DESCRIPTION (at most 18 characters, so that
    #: label, dates and separators fit in DESCRIPTION's 40); defaults to the code.
    description: str


def email_in_domains(address: str, domains: tuple[str, ...]) -> bool:
    """Whether ``address`` is in one of ``domains`` (``*.x``: the subdomains of x); any
    address is, when there are none."""
    if not domains:
        return True
    domain = address.rpartition("@")[2].strip().lower().rstrip(".")
    return any(
        domain.endswith(allowed[1:]) if allowed.startswith("*.") else domain == allowed
        for allowed in domains
    )


#: Made-up values of the two fields every customer has, where its file gives no example.
SAMPLE_VALUES = {"email": "jan.jansen@example.nl", "full_name": "Jan Jansen"}


@dataclass(frozen=True)
class Customer:
    #: The file name without extension; the punch-out URL is ``/oci/<id>``.
    id: str
    name: str
    language: str
    login: Login
    #: Allowed HOOK_URL prefixes, compared by parsed scheme, host, port and path.
    hook_urls: tuple[str, ...]
    #: Origins that may frame ociflex (defaults to the origins of ``hook_urls``).
    frame_ancestors: tuple[str, ...]
    #: ociflex name -> field, in file order; always holds ``email`` and ``full_name``.
    fields: Mapping[str, Field]
    #: Upper-case NEW_ITEM field name (``CUST_FIELD1``) -> template with ``{placeholders}``.
    basket: Mapping[str, str]
    vehicles: tuple[Vehicle, ...]
    locations: tuple[str, ...] = ()
    #: NEW_ITEM field -> maximum length where this buyer accepts more than SAP's default.
    max_lengths: Mapping[str, int] = field(default_factory=dict)
    #: Longest rental period, inclusive days.
    max_days: int = 365
    #: Charset of the basket when the call-up names none.
    default_charset: str = "utf-8"
    #: Domains the requester's e-mail address must be in (``*.x`` also allows subdomains of
    #: ``x``); empty: any.
    email_domains: tuple[str, ...] = ()
    source: Path | None = None

    def example_of(self, field: "Field") -> str:
        """The value the simulator and ``customers show`` use for ``field``: its ``example``,
        else a made-up one (an e-mail address in the customer's first domain)."""
        if field.example:
            return field.example
        if field.name == "email" and self.email_domains:
            domain = self.email_domains[0]
            return f"jan.jansen@{'mail.' + domain[2:] if domain.startswith('*.') else domain}"
        return SAMPLE_VALUES.get(field.name, "")

    def accepts_email(self, address: str) -> bool:
        """Whether ``address`` is in one of :attr:`email_domains` (any, when none is listed)."""
        return email_in_domains(address, self.email_domains)

    def limit(self, new_item_field: str) -> int | None:
        """Maximum length of a NEW_ITEM field for this buyer (``None``: unlimited)."""
        return self.max_lengths.get(new_item_field, NEW_ITEM_MAX_LENGTHS[new_item_field])

    def vehicle(self, code: str) -> Vehicle | None:
        return next((v for v in self.vehicles if v.code == code), None)
