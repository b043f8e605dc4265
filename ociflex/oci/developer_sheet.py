"""OCI's part of what the buyer's administrator needs (``flask ociflex customers show``): the
call-up's URL and parameters, the FUNCTION calls, and the basket that comes back, from an
example basket built by the same code as a real one. A NEW_ITEM field agreed wider than SAP's
default is marked, as the buyer's SAP has to take that length too."""

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
    frame_origin_entries,
    framing,
    local_testing_warning,
    paragraph,
    table,
    url_list,
)
from ociflex.oci.basket import build_basket
from ociflex.oci.basket_rules import ECHOED_PARAMETERS, LINE_BREAK, LONGTEXT_NAME
from ociflex.oci.callup import KEYWORD_TARGETS
from ociflex.oci.config import OciSettings, oci_settings
from ociflex.oci.functions import Function
from ociflex.oci.hook_url import SAPEVENT
from ociflex.oci.limits import NEW_ITEM_MAX_LENGTHS

#: Marks a NEW_ITEM field that this customer agreed wider than SAP's default.
WIDER = "*"

#: What each FUNCTION call sends and gets (see :mod:`ociflex.oci.functions`).
FUNCTION_CALLS = {
    Function.DETAIL: ("PRODUCTID", "the vehicle's page"),
    Function.DETAILADD: ("PRODUCTID", "the vehicle's page, with a form that adds it to the basket"),
    Function.VALIDATE: (
        "PRODUCTID and QUANTITY, or PRODUCTID[n] and QUANTITY[n]",
        "the vehicles' current basket lines, posted to the HOOK_URL at once; no form at all "
        "when none is offered any more",
    ),
    Function.BACKGROUND_SEARCH: (
        "SEARCHSTRING",
        "every vehicle found, as basket lines in a form that is not submitted",
    ),
    Function.SOURCING: ("SEARCHSTRING", "the vehicles found, each with a form that adds it"),
}


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
    settings = oci_settings(customer)
    hook_urls = [("HOOK_URL", hook_url, "hook_urls") for hook_url in settings.hook_urls]
    return [
        *local_testing_warning([*hook_urls, *frame_origin_entries(customer)]),
        *_address(customer, url),
        "",
        *_parameters(customer),
        "",
        *_functions(),
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
    rows = [
        [login.username_param, "yes", f"{login.username} (the company's user name)"],
        [login.password_param, "yes", "the password agreed with Euromobil"],
        ["HOOK_URL", "yes", "where the basket goes back; it must start with one listed below"],
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
        *paragraph("HOOK_URL must start with one of:"),
        *url_list(settings.hook_urls),
    ]


def _functions() -> list[str]:
    """The FUNCTION calls ociflex answers: the ERP asks about vehicles, without a session."""
    rows = [[function.value, *FUNCTION_CALLS[function]] for function in Function]
    return [
        "FUNCTION calls (the same URL, login and HOOK_URL as the call-up; no user fields needed)",
        *table(["FUNCTION", "parameters", "answer"], rows, [17, 30]),
        *paragraph(
            "The product id is the vehicle's code, as the basket sends it in EXT_PRODUCT_ID. Any "
            "other FUNCTION is refused."
        ),
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
    settings = oci_settings(customer)
    sent = dict(basket.fields)
    rows = []
    for name in _field_order(customer, basket):
        new_item = _new_item_of(name)
        if name == LONGTEXT_NAME:
            example = "(below)"
        elif name in sent:
            example = sent[name]
        else:
            example = "(no example in the file)"
        rows.append([name, _width(settings, new_item), _source(customer, name), example])
    lines = [
        "Basket fields (one line per request)",
        *paragraph(example_sentence(booking)),
        *table(
            ["field", "max", "value comes from", "example"],
            rows,
            [max(len(row[0]) for row in rows), 4, 32],
        ),
        *_wider(settings),
    ]
    if LONGTEXT_NAME in sent:
        lines += ["", f"Example {LONGTEXT_NAME} (lines separated by CR LF):"]
        lines += [f"  {line}" for line in sent[LONGTEXT_NAME].split(LINE_BREAK)]
    return lines


def _width(settings: OciSettings, new_item: str | None) -> str:
    """The ``max`` column: the field's length for this customer, marked when agreed wider."""
    limit = settings.limit(new_item) if new_item else None
    if limit is None:
        return ""
    return f"{limit}{WIDER}" if new_item in _agreed_wider(settings) else str(limit)


def _agreed_wider(settings: OciSettings) -> dict[str, int]:
    """NEW_ITEM field -> the length this customer agreed, where it exceeds SAP's default."""
    return {
        new_item: length
        for new_item, length in settings.max_lengths.items()
        if length > (NEW_ITEM_MAX_LENGTHS[new_item] or 0)
    }


def _wider(settings: OciSettings) -> list[str]:
    """The note on the marked lengths: the buyer's SAP must take them, or lines are lost."""
    wider = _agreed_wider(settings)
    if not wider:
        return []
    return [
        *paragraph(
            f"{WIDER} Agreed wider than SAP's default: your system must take these lengths, or "
            "SAP drops the line:"
        ),
        *(
            f"  - {new_item}: {length} (SAP's default {NEW_ITEM_MAX_LENGTHS[new_item]})"
            for new_item, length in wider.items()
        ),
    ]


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
