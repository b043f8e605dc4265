"""OCI's part of what the buyer's administrator needs (``flask ociflex customers show``): the
call-up's URL and parameters, and the basket that comes back, from an example basket built by
the same code as a real one."""

from collections.abc import Callable
from datetime import date

from ociflex.booking.cart import Cart
from ociflex.booking.details import Booking
from ociflex.booking.session import CartReturn
from ociflex.customers.model import PLACEHOLDER, Customer
from ociflex.developer_sheet import (
    EXAMPLE_REFERENCE,
    PLACEHOLDER_SOURCES,
    example_booking,
    example_sentence,
    field_text,
    framing,
    paragraph,
    table,
)
from ociflex.oci.basket import build_basket
from ociflex.oci.basket_rules import ECHOED_PARAMETERS, LINE_BREAK, LONGTEXT_NAME
from ociflex.oci.callup import KEYWORD_TARGETS
from ociflex.oci.config import oci_settings
from ociflex.oci.hook_url import SAPEVENT


def example_basket(
    customer: Customer, today: date, gettext: Callable[[str], str]
) -> tuple[Cart, Booking]:
    """The basket of a typical request (:func:`~ociflex.developer_sheet.example_booking`), its
    texts translated by ``gettext`` (in the customer's language)."""
    settings = oci_settings(customer)
    booking = example_booking(customer, today)
    cart_return = CartReturn(
        url=settings.hook_urls[0],
        target="_top",
        charset=settings.default_charset,
        echo={"~OkCode": "ADDI", "~CALLER": "CTLG"},
    )
    basket = build_basket(
        customer, booking, reference=EXAMPLE_REFERENCE, cart_return=cart_return, gettext=gettext
    )
    return basket, booking


def oci_sheet(customer: Customer, url: str, basket: Cart, booking: Booking) -> list[str]:
    """The whole OCI part: ``url`` is the call-up's address (:func:`example_basket` gives the
    basket and its booking)."""
    return [
        *_address(customer, url),
        "",
        *_parameters(customer),
        "",
        *_return(customer),
        "",
        *_basket_fields(customer, basket, booking),
    ]


def _address(customer: Customer, url: str) -> list[str]:
    lines = ["Punch-out URL", f"  {url}"]
    if not url.startswith("http"):
        lines += paragraph("(a path on the ociflex server; Euromobil gives you its address)")
    lines += paragraph(
        "Method: POST (recommended), as an HTML form (application/x-www-form-urlencoded). GET "
        "with the same parameters in the query string works too, but puts the company password "
        "in proxy logs and the browser history."
    )
    return lines + framing(customer)


def _parameters(customer: Customer) -> list[str]:
    settings = oci_settings(customer)
    login = settings.login
    hook_urls = "\n".join(f"- {url}" for url in settings.hook_urls)
    rows = [
        [login.username_param, "yes", f"{login.username} (the company's user name)"],
        [login.password_param, "yes", "the password agreed with Euromobil"],
        [
            "HOOK_URL",
            "yes",
            "where the basket goes back; it must start with one of:\n" + hook_urls,
        ],
        ["~OkCode", "no", "ADDI; sent back with the basket"],
        [
            "~TARGET",
            "no",
            f"the frame the basket is posted into: {', '.join(KEYWORD_TARGETS)} or a frame "
            "name; default _top",
        ],
        ["returntarget", "no", "the same as ~TARGET (OCI 4.0); wins over it"],
        ["~CALLER", "no", "CTLG; sent back with the basket"],
        ["OCI_VERSION", "no", "e.g. 4.0"],
        [
            "HTTP_CONTENT_CHARSET",
            "no",
            f"the character set of the basket; default {settings.default_charset}",
        ],
    ]
    rows += [
        [settings.param(field), "yes" if field.required else "no", field_text(field, customer)]
        for field in customer.fields.values()
    ]
    width = max(len(row[0]) for row in rows)
    return [
        "Parameters of the call-up (names are matched ignoring case)",
        *table(["parameter", "required", "value"], rows, [width, 8]),
    ]


def _return(customer: Customer) -> list[str]:
    text = (
        "When the employee sends the request, the browser posts a form "
        "(application/x-www-form-urlencoded) to the HOOK_URL exactly as the call-up sent it, "
        "query string included, into the frame named by returntarget, else ~TARGET, else _top. "
        "Its character set is the one HTTP_CONTENT_CHARSET asked for, else "
        f"{oci_settings(customer).default_charset}. The basket has one line, index 1; ~OkCode "
        "and ~CALLER "
        "come back when the call-up sent them."
    )
    lines = ["What comes back", *paragraph(text)]
    if SAPEVENT in oci_settings(customer).hook_urls:
        lines += paragraph(f"In SAP GUI's embedded browser, HOOK_URL {SAPEVENT} works too.")
    lines += paragraph(
        "The request is then registered with Euromobil under the reference in EXT_QUOTE_ID; "
        "operations confirm it to the requester by e-mail."
    )
    return lines


def _basket_fields(customer: Customer, basket: Cart, booking: Booking) -> list[str]:
    sent = dict(basket.fields)
    rows = []
    for name in _field_order(customer, basket):
        new_item = _new_item_of(name)
        limit = oci_settings(customer).limit(new_item) if new_item else None
        if name == LONGTEXT_NAME:
            example = "(below)"
        elif name in sent:
            example = sent[name]
        else:
            example = "(no example in the file)"
        rows.append([name, "" if limit is None else str(limit), _source(customer, name), example])
    lines = [
        "Basket fields (one line per request)",
        *paragraph(example_sentence(booking)),
        *table(
            ["field", "max", "value comes from", "example"],
            rows,
            [max(len(row[0]) for row in rows), 3, 32],
        ),
    ]
    if LONGTEXT_NAME in sent:
        lines += ["", f"Example {LONGTEXT_NAME} (lines separated by CR LF):"]
        lines += [f"  {line}" for line in sent[LONGTEXT_NAME].split(LINE_BREAK)]
    return lines


def _field_order(customer: Customer, basket: Cart) -> list[str]:
    """The posted names in posting order, with the configured ones that the example left empty
    (a field without an example) before EXT_PRODUCT_ID."""
    names = [name for name, _ in basket.fields]
    missing = [
        f"NEW_ITEM-{new_item}[1]"
        for new_item in oci_settings(customer).basket
        if f"NEW_ITEM-{new_item}[1]" not in names
    ]
    cut = names.index("NEW_ITEM-EXT_PRODUCT_ID[1]")
    return names[:cut] + missing + names[cut:]


def _new_item_of(name: str) -> str | None:
    if name == LONGTEXT_NAME:
        return "LONGTEXT"
    if name.startswith("NEW_ITEM-"):
        return name[len("NEW_ITEM-") : name.index("[")]
    return None


_COMPUTED_SOURCES = {
    "DESCRIPTION": "the vehicle's description and the first and last rental day",
    "QUANTITY": "the number of rental days",
    "PRICE": "the vehicle's day rate (per PRICEUNIT)",
    "PRICEUNIT": "always 1",
    "EXT_PRODUCT_ID": "the vehicle's code (stable)",
    "EXT_QUOTE_ID": "Euromobil's request reference",
    "LONGTEXT": "every detail of the request, one per line",
}


def _source(customer: Customer, name: str) -> str:
    if name in ECHOED_PARAMETERS:
        return "the call-up's own value"
    new_item = _new_item_of(name) or ""
    if new_item in _COMPUTED_SOURCES:
        return _COMPUTED_SOURCES[new_item]
    settings = oci_settings(customer)
    template = settings.basket[new_item]
    match = PLACEHOLDER.fullmatch(template)
    if match and match[1] in customer.fields:
        return f"call-up parameter {settings.params[match[1]]}"
    if match:
        return PLACEHOLDER_SOURCES[match[1]]
    if PLACEHOLDER.search(template):
        return f"{template!r}, filled in: " + ", ".join(
            f"{{{placeholder}}} = {_placeholder_source(customer, placeholder)}"
            for placeholder in dict.fromkeys(PLACEHOLDER.findall(template))
        )
    return "fixed"


def _placeholder_source(customer: Customer, placeholder: str) -> str:
    if placeholder in customer.fields:
        return oci_settings(customer).params[placeholder]
    return PLACEHOLDER_SOURCES[placeholder]
