"""A customer's OCI settings, as :mod:`ociflex.oci.customer_section` reads them from its file."""

import hmac
from collections.abc import Mapping
from dataclasses import dataclass, field, replace

from ociflex.customers.model import Customer, Field, Secret
from ociflex.oci.limits import NEW_ITEM_MAX_LENGTHS

#: The protocol's name in :attr:`ociflex.customers.model.Customer.protocols`.
OCI = "oci"


@dataclass(frozen=True)
class Login:
    """The company's general access, as the ERP sends it in every call-up."""

    username_param: str
    password_param: str
    username: str
    password: Secret

    def accepts(self, username: str, password: str) -> bool:
        """Compare both in constant time; a wrong user name costs as much as a wrong password."""
        user_ok = hmac.compare_digest(username.encode(), self.username.encode())
        password_ok = self.password.matches(password)
        return user_ok and password_ok


@dataclass(frozen=True)
class OciSettings:
    login: Login
    #: Allowed HOOK_URL prefixes, compared by parsed scheme, host, port and path.
    hook_urls: tuple[str, ...]
    #: ociflex field name -> the call-up parameter that carries it (matched ignoring case).
    params: Mapping[str, str]
    #: Upper-case NEW_ITEM field name (``CUST_FIELD1``) -> template with ``{placeholders}``;
    #: always holds ``UNIT`` and ``CURRENCY``.
    basket: Mapping[str, str]
    #: NEW_ITEM field -> maximum length where this buyer accepts more than SAP's default.
    max_lengths: Mapping[str, int] = field(default_factory=dict)
    #: Charset of the basket when the call-up names none.
    default_charset: str = "utf-8"

    @property
    def return_urls(self) -> tuple[str, ...]:
        return self.hook_urls

    def with_return_urls(self, urls: tuple[str, ...]) -> "OciSettings":
        return replace(self, hook_urls=(*self.hook_urls, *urls))

    def param(self, field: Field) -> str:
        return self.params[field.name]

    def limit(self, new_item_field: str) -> int | None:
        """Maximum length of a NEW_ITEM field for this buyer (``None``: unlimited, or no NEW_ITEM
        field: a received basket may name any)."""
        return self.max_lengths.get(new_item_field, NEW_ITEM_MAX_LENGTHS.get(new_item_field))


def oci_settings(customer: Customer) -> OciSettings:
    """``customer``'s OCI settings; :class:`~ociflex.customers.model.NotSpoken` when it has
    none."""
    return customer.settings_for(OCI, OciSettings)
