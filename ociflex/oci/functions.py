"""OCI FUNCTION calls (PROTOCOL.md section 3): the ERP asks about products, not for a session.

A call with a ``FUNCTION`` parameter comes to the same URL as a call-up and carries the same
company login and HOOK_URL (checked by :func:`ociflex.oci.callup.check_access`), but no user:
SAP makes some of these calls in the background, without the catalogue-specific user fields. So
it is read by :func:`read_function_call` into a :class:`FunctionCall`, never into a
:class:`~ociflex.oci.callup.Punchout`, and nothing is stored.

=====================  ==========================  ===========================================
FUNCTION               parameters                  answer (ociflex.punchout.functions)
=====================  ==========================  ===========================================
DETAIL                 PRODUCTID                   the vehicle's page
DETAILADD              PRODUCTID                   the vehicle's page, with a form that adds it
VALIDATE               PRODUCTID, QUANTITY, or     the current lines, auto-posted to HOOK_URL;
                       PRODUCTID[n], QUANTITY[n]   no form at all when no vehicle exists
BACKGROUND_SEARCH      SEARCHSTRING                every hit as basket lines, not submitted
SOURCING               SEARCHSTRING                interactive results, each hit with a form
                                                   that adds it (as DETAILADD)
=====================  ==========================  ===========================================

The product id is the vehicle code, which baskets send as EXT_PRODUCT_ID. A vehicle offered
without a booking is a *catalogue line*: :func:`catalogue_basket` builds it from the vehicle and
the customer's fixed basket values, with the same helpers and rules as a booking's basket.
"""

import re
import unicodedata
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from enum import StrEnum

from ociflex.booking.cart import Cart
from ociflex.booking.details import fill
from ociflex.booking.fields import CONTROL_CHARACTERS
from ociflex.booking.session import CartReturn
from ociflex.customers.model import PLACEHOLDER, Customer, Vehicle
from ociflex.oci.basket import checked_basket, line_values, vehicle_line
from ociflex.oci.callup import (
    CallupError,
    Params,
    check_access,
    duplicate_parameter,
    read_cart_return,
    requested_function,
)
from ociflex.oci.charset import in_charset
from ociflex.oci.config import oci_settings
from ociflex.text import N_


class Function(StrEnum):
    """The OCI functions ociflex answers; the ERP's spelling is matched ignoring case."""

    DETAIL = "DETAIL"
    DETAILADD = "DETAILADD"
    VALIDATE = "VALIDATE"
    BACKGROUND_SEARCH = "BACKGROUND_SEARCH"
    SOURCING = "SOURCING"

    @property
    def takes_products(self) -> bool:
        return self in (Function.DETAIL, Function.DETAILADD, Function.VALIDATE)


#: The only placeholder a catalogue line can fill: there is a vehicle, but no booking.
CATALOGUE_PLACEHOLDERS = frozenset({"vehicle_code"})

#: ``PRODUCTID``, ``QUANTITY`` and their indexed forms ``PRODUCTID[1]``, ``quantity[2]``.
_LINE_PARAMETER = re.compile(r"(PRODUCTID|QUANTITY)(?:\[([0-9]{1,6})\])?", re.IGNORECASE)
_QUANTITY = re.compile(r"[0-9]+(?:\.[0-9]+)?")
#: A quantity as OCI takes it: at most 11 digits before and 3 after the decimal point.
_OCI_QUANTITY = re.compile(r"[0-9]{1,11}(?:\.[0-9]{1,3})?")
#: Longest product id shown in a message or the log; vehicle codes have at most 40 characters.
_SHOWN_LENGTH = 40


@dataclass(frozen=True)
class ProductLine:
    """One product the ERP asks about: a vehicle code and the quantity (OCI format)."""

    product_id: str
    quantity: str = "1"


@dataclass(frozen=True)
class FunctionRequest:
    """What a FUNCTION call asks for, read from the parameters alone."""

    function: Function
    #: DETAIL, DETAILADD, VALIDATE: the products in line order (at least one).
    lines: tuple[ProductLine, ...] = ()
    #: BACKGROUND_SEARCH, SOURCING: the search string ("" for everything).
    search: str = ""

    @property
    def product_id(self) -> str:
        """DETAIL and DETAILADD show one product: the first one sent."""
        return self.lines[0].product_id


@dataclass(frozen=True)
class FunctionCall:
    """A checked FUNCTION call: the request, and where and how an answer form is posted."""

    customer_id: str
    request: FunctionRequest
    cart_return: CartReturn
    oci_version: str | None

    @property
    def function(self) -> Function:
        return self.request.function


def read_function_call(customer: Customer, params: Params) -> FunctionCall:
    """Check a FUNCTION call for ``customer``: the login and the HOOK_URL as for every call-up
    (login first), then the function and its parameters; user fields are not required."""
    hook_url = check_access(customer, params)
    request = parse_function_request(params)
    return FunctionCall(
        customer_id=customer.id,
        request=request,
        cart_return=read_cart_return(customer, params, hook_url),
        oci_version=params.get("OCI_VERSION"),
    )


def parse_function_request(params: Params) -> FunctionRequest:
    """The function and its parameters; a :class:`CallupError` (400) when they are unusable."""
    if len({value.strip().upper() for value in params.values("FUNCTION") if value.strip()}) > 1:
        raise duplicate_parameter("FUNCTION")
    function = _function(requested_function(params) or "")
    if not function.takes_products:
        return FunctionRequest(function, search=(params.get("SEARCHSTRING") or "").strip())
    lines = _product_lines(params)
    if not lines:
        raise CallupError(
            400,
            N_("The OCI function %(function)s needs the parameter %(param)s."),
            N_("Ask your ERP administrator to send %(param)s with the function %(function)s."),
            function=function.value,
            param="PRODUCTID",
        )
    return FunctionRequest(function, lines=lines)


def _function(sent: str) -> Function:
    try:
        return Function(sent.upper())
    except ValueError:
        raise CallupError(
            400,
            N_(
                "The OCI function %(function)s is not offered by this catalogue; "
                "it offers %(functions)s."
            ),
            N_(
                "Ask your ERP administrator to call the catalogue without FUNCTION, "
                "or with one of the functions offered."
            ),
            function=shown(sent),
            functions=", ".join(Function),
        ) from None


def _product_lines(params: Params) -> tuple[ProductLine, ...]:
    """PRODUCTID with QUANTITY, and PRODUCTID[n] with QUANTITY[n], in index order (the plain
    form first); lines without a product id are skipped, a missing quantity is 1."""
    found: dict[tuple[str, int], str] = {}
    for name, value in params.pairs:
        match = _LINE_PARAMETER.fullmatch(name.strip())
        if match is None:
            continue
        key = (match[1].upper(), -1 if match[2] is None else int(match[2]))
        value = value.strip()
        if found.setdefault(key, value) != value:
            raise duplicate_parameter(_parameter_name(*key))
    lines = []
    for (kind, index), product_id in sorted(found.items(), key=lambda item: item[0][1]):
        if kind != "PRODUCTID" or not product_id:
            continue
        quantity = found.get(("QUANTITY", index), "")
        lines.append(
            ProductLine(product_id, _quantity(quantity, _parameter_name("QUANTITY", index)))
        )
    return tuple(lines)


def _parameter_name(kind: str, index: int) -> str:
    return kind if index < 0 else f"{kind}[{index}]"


def _quantity(sent: str, param: str) -> str:
    """``sent`` as OCI writes a quantity (``1.000`` -> ``1``); empty means 1."""
    if not sent:
        return "1"
    try:
        if not _QUANTITY.fullmatch(sent):
            raise InvalidOperation(sent)
        quantity = format(Decimal(sent).normalize(), "f")
        if Decimal(quantity) <= 0 or not _OCI_QUANTITY.fullmatch(quantity):
            raise InvalidOperation(sent)
    except InvalidOperation:
        raise CallupError(
            400,
            N_("The value of %(param)s is not a positive quantity such as 1 or 2.5."),
            N_(
                "Ask your ERP administrator to send %(param)s as a number with a decimal "
                "point and at most three decimals."
            ),
            param=param,
        ) from None
    return quantity


def shown(text: str) -> str:
    """A value from the ERP (a product id, a function name) as a page or the log may show it:
    one line, not too long."""
    return CONTROL_CHARACTERS.sub("?", text[:_SHOWN_LENGTH])


# --- Vehicles: by code, by search string --------------------------------------------------------


def vehicles_for(
    customer: Customer, lines: Iterable[ProductLine]
) -> tuple[list[tuple[Vehicle, str]], list[str]]:
    """(vehicle, quantity) of every line whose code the customer still offers, in line order,
    and the product ids that are no longer offered."""
    found, missing = [], []
    for line in lines:
        vehicle = customer.vehicle(line.product_id)
        if vehicle is None:
            missing.append(line.product_id)
        else:
            found.append((vehicle, line.quantity))
    return found, missing


def search_vehicles(customer: Customer, search: str) -> list[Vehicle]:
    """The customer's vehicles that match every word of ``search`` in their code, a name (in
    any language) or their description, ignoring case and accents (``skoda`` finds ``Škoda``).
    ``*`` separates words, as SAP's wildcard; an empty search finds every vehicle."""
    words = _folded(search.replace("*", " ")).split()
    return [
        vehicle
        for vehicle in customer.vehicles
        if all(any(word in text for text in _searched_texts(vehicle)) for word in words)
    ]


def _searched_texts(vehicle: Vehicle) -> list[str]:
    return [
        _folded(text) for text in (vehicle.code, *vehicle.name.texts.values(), vehicle.description)
    ]


def _folded(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(char for char in decomposed if not unicodedata.combining(char))


# --- Catalogue lines ----------------------------------------------------------------------------


def _untranslated(text: str) -> str:
    return text


def catalogue_basket(
    customer: Customer,
    lines: Sequence[tuple[Vehicle, str]],
    cart_return: CartReturn,
    gettext: Callable[[str], str] = _untranslated,
) -> Cart:
    """A basket of catalogue lines, one per (vehicle, quantity), numbered from 1 as a booking's
    basket; raises :class:`~ociflex.oci.basket.BasketError` when it would break an OCI rule.

    A catalogue line has no booking: no dates in DESCRIPTION, no EXT_QUOTE_ID, and of the
    customer's basket values only those without a placeholder, or with ``{vehicle_code}`` only.
    Without lines the basket has no fields at all (a search without hits: SAP reads no line).
    """
    charset = cart_return.charset
    if not lines:
        return Cart(action=cart_return.url, target=cart_return.target, charset=charset, fields=())
    return checked_basket(
        oci_settings(customer),
        [
            _catalogue_line(customer, vehicle, quantity, charset, gettext)
            for vehicle, quantity in lines
        ],
        cart_return,
    )


def _catalogue_line(
    customer: Customer,
    vehicle: Vehicle,
    quantity: str,
    charset: str,
    gettext: Callable[[str], str],
) -> list[tuple[str, str]]:
    return line_values(
        vehicle,
        description=catalogue_description(customer, vehicle, charset),
        quantity=quantity or "1",
        configured=catalogue_values(customer, vehicle),
        tail=[
            ("EXT_PRODUCT_ID", vehicle.code),
            ("LONGTEXT", vehicle_line(vehicle, customer.language, gettext)),
        ],
    )


def catalogue_description(customer: Customer, vehicle: Vehicle, charset: str) -> str:
    """The vehicle's name in the customer's language when it fits in DESCRIPTION (as sent in
    ``charset``), else its short description."""
    name = in_charset(vehicle.name.get(customer.language), charset)
    limit = oci_settings(customer).limit("DESCRIPTION")
    return name if limit is None or len(name) <= limit else vehicle.description


def catalogue_values(customer: Customer, vehicle: Vehicle) -> dict[str, str]:
    """The customer's basket values that need no booking: fixed texts, and templates whose
    only placeholder is ``{vehicle_code}``; templates with a field or booking placeholder
    (``{cost_centre}``, ``{start}``, ...) are left out."""
    values: Mapping[str, str] = {"vehicle_code": vehicle.code}
    return {
        field: fill(template, values)
        for field, template in oci_settings(customer).basket.items()
        if set(PLACEHOLDER.findall(template)) <= CATALOGUE_PLACEHOLDERS
    }
