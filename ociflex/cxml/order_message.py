"""The cXML cart: a PunchOutOrderMessage the employee's browser posts to the BrowserFormPost URL
(PROTOCOL.md section 4).

One ``ItemIn`` per booking: the vehicle code as SupplierPartID, the request's reference as
SupplierPartAuxiliaryID (it comes back in edit, inspect and the purchase order), the rental days
as quantity, the day rate as unit price, a description in the customer's language, the
customer's unit and UNSPSC classification, and its configured Extrinsics. The header echoes the
parties of the setup request (the buyer's From as To, and the other way round) and the
BuyerCookie; it never carries a credential's secret, as it travels through the browser.

The document goes in one hidden field, ``cxml-base64`` (base64 of the UTF-8 document: no
character of any language is mangled by a form post) or ``cxml-urlencoded`` where a buyer's
system reads only that one.
"""

import base64
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from lxml import etree

from ociflex.booking.cart import Cart
from ociflex.booking.details import Booking, fill, placeholder_values, plain_amount
from ociflex.booking.session import CartReturn
from ociflex.customers.model import Customer
from ociflex.cxml.config import cxml_settings
from ociflex.cxml.responses import XML_LANG, Envelope, cxml_root, serialized

#: Who ociflex says it is in the cart's Sender.
USER_AGENT = "Euromobil FlexFleet (ociflex)"
#: ociflex's credential when the setup request named none for the supplier (an empty To).
OWN_CREDENTIAL = ("FlexFleet", "Euromobil")


@dataclass(frozen=True)
class CartLine:
    """One booking in the cart, under its reference."""

    booking: Booking
    reference: str


def build_cart(
    customer: Customer,
    cart_return: CartReturn,
    lines: Sequence[CartLine],
    operation_allowed: str,
    envelope: Envelope,
    gettext: Callable[[str], str],
) -> Cart:
    """The cart of ``lines`` (none: the employee cancelled, or only looked), posted as
    ``cart_return`` says; ``operation_allowed`` is what the buyer may do with it later
    (``edit``, ``inspect``, ``create``)."""
    document = order_message(customer, cart_return, lines, operation_allowed, envelope, gettext)
    field = cxml_settings(customer).cart_field
    text = document.decode("utf-8")
    value = base64.b64encode(document).decode("ascii") if field == "cxml-base64" else text
    return Cart(
        action=cart_return.url,
        target=cart_return.target,
        charset="utf-8",
        fields=((field, value),),
        document=text,
    )


def order_message(
    customer: Customer,
    cart_return: CartReturn,
    lines: Sequence[CartLine],
    operation_allowed: str,
    envelope: Envelope,
    gettext: Callable[[str], str],
) -> bytes:
    """The PunchOutOrderMessage document of ``lines``."""
    root = cxml_root(envelope)
    _header(etree.SubElement(root, "Header"), cart_return.echo)
    message = etree.SubElement(etree.SubElement(root, "Message"), "PunchOutOrderMessage")
    etree.SubElement(message, "BuyerCookie").text = cart_return.echo["buyer_cookie"]
    header = etree.SubElement(
        message, "PunchOutOrderMessageHeader", operationAllowed=operation_allowed
    )
    total = sum((line.booking.total for line in lines), Decimal(0))
    _money(etree.SubElement(header, "Total"), total, customer.cart.currency)
    for line in lines:
        _item(message, customer, line, gettext)
    return serialized(root)


def _header(header: etree._Element, echo: Any) -> None:
    """From: the supplier as the setup request's To named it; To: the buyer's From."""
    # Some buyers name the supplier with an empty identity: as good as none.
    named = [credential for credential in echo.get("to", []) if credential[1].strip()]
    supplier = named or [list(OWN_CREDENTIAL)]
    for party, credentials in (("From", supplier), ("To", echo["from"]), ("Sender", supplier)):
        element = etree.SubElement(header, party)
        for domain, identity in credentials:
            credential = etree.SubElement(element, "Credential", domain=domain)
            etree.SubElement(credential, "Identity").text = identity
    etree.SubElement(header[-1], "UserAgent").text = USER_AGENT


def _money(parent: etree._Element, amount: Decimal, currency: str) -> None:
    etree.SubElement(parent, "Money", currency=currency).text = plain_amount(amount)


def _item(
    message: etree._Element, customer: Customer, line: CartLine, gettext: Callable[[str], str]
) -> None:
    booking = line.booking
    vehicle = booking.vehicle
    item = etree.SubElement(message, "ItemIn", quantity=str(booking.days))
    item_id = etree.SubElement(item, "ItemID")
    etree.SubElement(item_id, "SupplierPartID").text = vehicle.code
    etree.SubElement(item_id, "SupplierPartAuxiliaryID").text = line.reference
    detail = etree.SubElement(item, "ItemDetail")
    _money(etree.SubElement(detail, "UnitPrice"), vehicle.day_rate, customer.cart.currency)
    description = etree.SubElement(detail, "Description")
    description.set(XML_LANG, customer.language)
    description.text = description_of(customer, line, gettext)
    etree.SubElement(description, "ShortName").text = booking.short_description
    etree.SubElement(detail, "UnitOfMeasure").text = customer.cart.unit
    values = placeholder_values(customer, booking, line.reference)
    classification = etree.SubElement(detail, "Classification", domain="UNSPSC")
    classification.text = fill(customer.cart.classification, values)
    for name, template in cxml_settings(customer).item_extrinsics.items():
        if value := fill(template, values):
            etree.SubElement(detail, "Extrinsic", name=name).text = value


def description_of(customer: Customer, line: CartLine, gettext: Callable[[str], str]) -> str:
    """What the buyer's approvers read: the vehicle, the period and the reference."""
    booking = line.booking
    text = gettext("%(vehicle)s, %(first_day)s to %(last_day)s (%(days)s), reference %(reference)s")
    return text % {
        "vehicle": booking.vehicle.name.get(customer.language),
        "first_day": f"{booking.start:%d-%m-%Y}",
        "last_day": f"{booking.end:%d-%m-%Y}",
        "days": booking.days_text(gettext),
        "reference": line.reference,
    }
