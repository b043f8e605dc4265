"""Typed, validated customer configuration: what one ``config/customers/<id>.yaml`` becomes.

Objects here are immutable and only ever built by :mod:`ociflex.customers.loader`, which
guarantees every invariant documented below; the rest of ociflex can trust them.

The model knows no punch-out protocol. What a customer sets for one (OCI's login, HOOK_URLs
and NEW_ITEM basket; cXML's credentials and BrowserFormPost URLs) is read by that protocol's
own package into its own settings object, kept in :attr:`Customer.protocols` under the
protocol's name (see :mod:`ociflex.customers.sections.protocol`).
"""

import hmac
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from decimal import Decimal
from pathlib import Path
from typing import Protocol, TypeVar

from werkzeug.security import check_password_hash

#: Languages a customer file may choose; Dutch is the default.
LANGUAGES = ("nl", "en")

#: Placeholders a cart template (an OCI ``basket`` value, a cXML ``item_extrinsics`` value)
#: may use besides the customer's own field names.
BUILTIN_PLACEHOLDERS = ("vehicle_code", "reference", "start", "end", "days", "location")

#: Names of the booking form's own inputs; an editable field's input is named after the field.
FORM_INPUTS = ("punchout", "vehicle", "start", "end", "location", "remarks", "csrf_token")

PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")

#: The UNSPSC commodity of passenger car rental, the classification of a cart line whose
#: customer names no material group.
DEFAULT_MATGROUP = "78111800"

#: The booking window when a customer file sets none: a rental starts at most 548 days (about
#: 18 months) after the day it is booked.
DEFAULT_MAX_ADVANCE_DAYS = 548


@dataclass(frozen=True)
class Localized:
    """A text given per language (``{nl: ..., en: ...}``) or as one plain string for all."""

    texts: Mapping[str, str]

    def get(self, language: str) -> str:
        """The text in ``language``, else Dutch, else whichever language is given."""
        return self.texts.get(language) or self.texts.get("nl") or next(iter(self.texts.values()))


@dataclass(frozen=True)
class Secret:
    """A secret agreed with the buyer (OCI's company password, cXML's SharedSecret).

    Never in the customer file itself: read from the environment variable ``env`` when the
    file is loaded, or kept as the werkzeug ``hash`` of the secret.
    """

    env: str | None = None
    hash: str | None = None
    #: The secret read from ``env`` at load time.
    value: str | None = field(default=None, repr=False)

    def matches(self, given: str) -> bool:
        """Whether ``given`` is the secret, compared in constant time."""
        if self.hash is not None:
            return check_password_hash(self.hash, given)
        return hmac.compare_digest(given.encode(), (self.value or "").encode())


@dataclass(frozen=True)
class Field:
    """A value the buyer's system sends about the requester, under ociflex's own ``name``.

    Where a protocol finds it (an OCI parameter, a cXML Extrinsic) is that protocol's setting.
    """

    name: str
    required: bool = False
    #: Shown in the booking form, prefilled from the punch-out, and changeable by the employee.
    editable: bool = False
    pattern: re.Pattern[str] | None = None
    label: Localized | None = None
    #: Longest accepted value: the file's ``max_length``, lowered by a protocol whose cart
    #: carries the value whole in a field of limited length (an OCI ``basket`` template that
    #: is exactly ``{name}``).
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
    #: Short label that starts a cart line's short description (at most 18 characters, so that
    #: label, dates and separators fit in OCI's DESCRIPTION of 40); defaults to the code.
    description: str


@dataclass(frozen=True)
class CartSettings:
    """How a cart line is counted and classified, whatever the protocol carries it."""

    #: ISO unit code (UN/CEFACT Recommendation 20) of the quantity, the rental days.
    unit: str = "DAY"
    #: ISO 4217 code of the day rates.
    currency: str = "EUR"
    #: The buyer's material group; cXML sends it as the UNSPSC classification.
    matgroup: str | None = None

    @property
    def classification(self) -> str:
        return self.matgroup or DEFAULT_MATGROUP


class ProtocolSettings(Protocol):
    """What the protocol-neutral part of ociflex needs of any protocol's settings."""

    @property
    def return_urls(self) -> tuple[str, ...]:
        """The URLs carts may go back to; their origins may frame ociflex by default."""
        ...

    def with_return_urls(self, urls: tuple[str, ...]) -> "ProtocolSettings":
        """The same settings, carts also allowed back to ``urls`` where carts go back at all."""
        ...


_Settings = TypeVar("_Settings", bound=ProtocolSettings)


class NotSpoken(LookupError):
    """The customer does not punch out with the protocol asked for."""


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
    #: The file name without extension; the punch-out URLs are ``/oci/<id>``, ``/cxml/<id>``.
    id: str
    name: str
    language: str
    #: ociflex name -> field, in file order; always holds ``email`` and ``full_name``.
    fields: Mapping[str, Field]
    vehicles: tuple[Vehicle, ...]
    #: Protocol name (``oci``, ``cxml``) -> that protocol's settings; at least one.
    protocols: Mapping[str, ProtocolSettings]
    #: Origins that may frame ociflex (defaults to the origins of the return URLs).
    frame_ancestors: tuple[str, ...]
    cart: CartSettings = field(default_factory=CartSettings)
    locations: tuple[str, ...] = ()
    #: Longest rental period, inclusive days.
    max_days: int = 365
    #: The booking window: a rental starts at most this many days after the day it is booked
    #: (548 days, about 18 months, by default).
    max_advance_days: int = DEFAULT_MAX_ADVANCE_DAYS
    #: Domains the requester's e-mail address must be in (``*.x`` also allows subdomains of
    #: ``x``); empty: any.
    email_domains: tuple[str, ...] = ()
    source: Path | None = None

    def speaks(self, protocol: str) -> bool:
        return protocol in self.protocols

    def with_return_urls(self, urls: tuple[str, ...], origins: tuple[str, ...]) -> "Customer":
        """This customer with its carts also allowed back to ``urls`` and its pages framed from
        ``origins`` too, by every protocol it speaks (see :mod:`ociflex.punchout.dev_server`)."""
        protocols = {
            name: settings.with_return_urls(urls) for name, settings in self.protocols.items()
        }
        ancestors = tuple(
            dict.fromkeys(a for a in (*self.frame_ancestors, *origins) if a != "'none'")
        )
        return replace(self, protocols=protocols, frame_ancestors=ancestors)

    def settings_for(self, protocol: str, kind: type[_Settings]) -> _Settings:
        """This customer's settings of ``protocol``, a ``kind``; :class:`NotSpoken` when it does
        not punch out with that protocol."""
        settings = self.protocols.get(protocol)
        if not isinstance(settings, kind):
            raise NotSpoken(f"customer {self.id} does not punch out with {protocol}")
        return settings

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

    def vehicle(self, code: str) -> Vehicle | None:
        return next((v for v in self.vehicles if v.code == code), None)
