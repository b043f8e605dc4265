"""A customer's cXML settings, as :mod:`ociflex.cxml.customer_section` reads them from its file."""

from collections.abc import Mapping
from dataclasses import dataclass, field, replace

from ociflex.customers.model import Customer, Secret

#: The protocol's name in :attr:`ociflex.customers.model.Customer.protocols`.
CXML = "cxml"
#: The form fields a cart can travel in: base64 of the UTF-8 document (the default: no
#: character is mangled on the way), or the document itself, for buyers that read only that.
CART_FIELDS = ("cxml-base64", "cxml-urlencoded")


@dataclass(frozen=True)
class Credential:
    """A ``<Credential domain="..."><Identity>...</Identity>`` of the buyer, as the file gives it.

    Buyers spell domains in any case (``NetworkID``, ``networkid``) and some pad identities with
    blanks: both are compared ignoring case and surrounding blanks."""

    domain: str
    identity: str

    def matches(self, domain: str, identity: str) -> bool:
        return (
            domain.strip().casefold() == self.domain.strip().casefold()
            and identity.strip().casefold() == self.identity.strip().casefold()
        )


@dataclass(frozen=True)
class CxmlSettings:
    #: The From credentials that identify this buyer; a request may carry any one of them.
    credentials: tuple[Credential, ...]
    #: The SharedSecret agreed for this buyer (the Sender's, or a hub's in its place).
    shared_secret: Secret
    #: Allowed BrowserFormPost URL prefixes, compared as HOOK_URLs are; none: the customer
    #: sends purchase orders only, and punches out by another protocol.
    browser_form_posts: tuple[str, ...]
    #: ociflex field name -> the names of the setup request's Extrinsics that carry it (their
    #: values joined with one space); a field without an entry is not read from the request
    #: (``email`` and ``full_name`` then come from ``Contact role="endUser"``).
    extrinsics: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    #: Extrinsic name -> template with ``{placeholders}``: sent on each cart line.
    item_extrinsics: Mapping[str, str] = field(default_factory=dict)
    #: The form field the cart travels in (one of :data:`CART_FIELDS`).
    cart_field: str = CART_FIELDS[0]
    #: OrderRequests may come without a SharedSecret: for networks that authenticate the
    #: buyer themselves. A secret that is sent must still be the right one.
    orders_without_shared_secret: bool = False

    @property
    def return_urls(self) -> tuple[str, ...]:
        return self.browser_form_posts

    def with_return_urls(self, urls: tuple[str, ...]) -> "CxmlSettings":
        """Only where carts go back at all: a customer that sends only its orders by cXML
        stays one."""
        if not self.browser_form_posts:
            return self
        return replace(self, browser_form_posts=(*self.browser_form_posts, *urls))

    def identifies(self, domain: str, identity: str) -> bool:
        """Whether a From credential names this buyer."""
        return any(credential.matches(domain, identity) for credential in self.credentials)


def cxml_settings(customer: Customer) -> CxmlSettings:
    """``customer``'s cXML settings; :class:`~ociflex.customers.model.NotSpoken` when it has
    none."""
    return customer.settings_for(CXML, CxmlSettings)
