"""cXML's part of what the buyer's administrator needs (``flask ociflex customers show``): the
address, the credentials, what the setup request must carry, the cart that comes back (as an
example document built by the same code as a real cart), and the purchase order (OrderRequest)
that the ERP sends afterwards. A customer whose ``cxml`` section has no BrowserFormPost URLs
punches out by another protocol and sends only its orders by cXML: its part is the address,
the credentials and the order.
"""

from collections.abc import Callable
from datetime import date

from lxml import etree

from ociflex.booking.cart import Cart
from ociflex.booking.details import Booking
from ociflex.booking.session import CartReturn
from ociflex.customers.model import Customer, Field
from ociflex.cxml.config import CxmlSettings, cxml_settings
from ociflex.cxml.customer_section import FROM_CONTACT
from ociflex.cxml.order_message import CartLine, build_cart
from ociflex.cxml.order_request import MAX_ORDER_ID
from ociflex.cxml.responses import Envelope
from ociflex.cxml.setup import CART_TARGET, OPERATIONS
from ociflex.developer_sheet import (
    EXAMPLE_REFERENCE,
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

#: The example cart's parties and cookie, as a buyer's setup request might name them.
EXAMPLE_COOKIE = "1J3YVWU9QWMTB"


def example_cart(
    customer: Customer, today: date, gettext: Callable[[str], str]
) -> tuple[Cart, Booking]:
    """The cart of a typical request (:func:`~ociflex.developer_sheet.example_booking`), its
    texts translated by ``gettext`` (in the customer's language)."""
    settings = cxml_settings(customer)
    credential = settings.credentials[0]
    cart_return = CartReturn(
        url=settings.browser_form_posts[0],
        target=CART_TARGET,
        charset="utf-8",
        echo={
            "buyer_cookie": EXAMPLE_COOKIE,
            "from": [[credential.domain, credential.identity]],
            "to": [["DUNS", "(Euromobil's identity in your system)"]],
        },
    )
    booking = example_booking(customer, today)
    envelope = Envelope(host="flexfleet.euromobil.example", language=customer.language)
    line = CartLine(booking, EXAMPLE_REFERENCE)
    return build_cart(customer, cart_return, [line], "edit", envelope, gettext), booking


def punches_out(customer: Customer) -> bool:
    """Whether ``customer`` punches out with cXML; else it sends only its orders by cXML."""
    return bool(cxml_settings(customer).browser_form_posts)


def cxml_sheet(
    customer: Customer,
    url: str,
    start_page_minutes: int,
    cart: Cart,
    booking: Booking,
    oci_baskets: bool,
) -> list[str]:
    """The whole cXML part: ``url`` is the address of every cXML request; ``oci_baskets``:
    the customer punches out with SAP OCI too."""
    settings = cxml_settings(customer)
    form_posts = [
        ("BrowserFormPost URL", form_post, "cxml.browser_form_posts")
        for form_post in settings.browser_form_posts
    ]
    return [
        *local_testing_warning([*form_posts, *frame_origin_entries(customer)]),
        *_address(url, "PunchOutSetupRequest, OrderRequest, ProfileRequest"),
        "",
        *_credentials(settings),
        "",
        *_setup(customer, settings, start_page_minutes),
        "",
        *_fields(customer, settings),
        "",
        *_cart(cart, booking),
        "",
        *_orders(customer, url, oci_baskets),
    ]


def orders_only_sheet(customer: Customer, url: str, oci_baskets: bool) -> list[str]:
    """The cXML part of a customer that sends only its purchase orders by cXML."""
    return [
        *_address(url, "OrderRequest, ProfileRequest"),
        *paragraph(
            "This customer sends only its purchase orders by cXML (its file names no "
            "BrowserFormPost URL): no PunchOutSetupRequest is taken from it."
        ),
        "",
        *_credentials(cxml_settings(customer)),
        "",
        *_orders(customer, url, oci_baskets),
    ]


def _address(url: str, requests: str) -> list[str]:
    lines = [f"Address of every cXML request ({requests})", f"  {url}"]
    if not url.startswith("http"):
        lines += paragraph("(a path on the ociflex server; Euromobil gives you its address)")
    return lines + paragraph(
        "Method: POST of the cXML document (Content-Type text/xml or application/xml, UTF-8). "
        "Every answer is a cXML Response: its Status code says what happened (200 OK; 4xx: "
        "fix the request, do not send it again; 5xx: try again later)."
    )


def _credentials(settings: CxmlSettings) -> list[str]:
    identities = "\n".join(
        f"- domain {c.domain}, identity {c.identity}" for c in settings.credentials
    )
    secret = settings.shared_secret
    kept = f"kept in {secret.env} at Euromobil" if secret.env else "kept as a hash at Euromobil"
    rows = [
        ["From", "one of:\n" + identities],
        [
            "Sender",
            f"SharedSecret: the secret agreed with Euromobil ({kept}); a network that "
            "forwards the request puts it there, or the From credential may carry it",
        ],
        ["To", "Euromobil's identity in your system (not checked)"],
    ]
    return ["Credentials in the Header", *table(["part", "value"], rows, [8])]


def _setup(customer: Customer, settings: CxmlSettings, start_page_minutes: int) -> list[str]:
    rows = [
        [
            "operation",
            f"{', '.join(OPERATIONS)} (edit and inspect: an ItemOut with the "
            "SupplierPartAuxiliaryID of the cart line; source is not offered)",
        ],
        ["BuyerCookie", "required; sent back in the cart unchanged"],
        [
            "BrowserFormPost",
            "required; where the cart goes back; its URL must start with one listed below",
        ],
    ]
    lines = [
        "PunchOutSetupRequest",
        *table(["element", "value"], rows, [15]),
        *paragraph("The BrowserFormPost URL must start with one of:"),
        *url_list(settings.browser_form_posts),
        *paragraph(
            f"The answer's StartPage URL is opened by the employee's browser within "
            f"{start_page_minutes} minutes (a new window, a popup or an iframe; no cookies "
            "needed)."
        ),
    ]
    return lines + framing(customer)


def _fields(customer: Customer, settings: CxmlSettings) -> list[str]:
    rows = [
        [_source(name, settings), "yes" if field.required else "no", field_text(field, customer)]
        for name, field in customer.fields.items()
        if name in settings.extrinsics or name in FROM_CONTACT
    ]
    left = [
        field for name, field in customer.fields.items() if _left_to_the_form(name, field, settings)
    ]
    lines = [
        "What the setup request says about the employee (Extrinsic names ignoring case)",
        *table(["element", "required", "value"], rows, [max(len(row[0]) for row in rows), 8]),
    ]
    if left:
        names = ", ".join(field.label_in("en") for field in left)
        lines += paragraph(f"The employee fills in the booking form: {names}.")
    return lines


def _source(name: str, settings: CxmlSettings) -> str:
    if name in settings.extrinsics:
        return "\n".join(f'Extrinsic name="{extrinsic}"' for extrinsic in settings.extrinsics[name])
    return f'Contact role="endUser"\n{FROM_CONTACT[name]}'


def _left_to_the_form(name: str, field: Field, settings: CxmlSettings) -> bool:
    return name not in settings.extrinsics and name not in FROM_CONTACT and field.editable


#: The parts of a cart line the sheet lists: (path below ItemIn, what it holds).
_ITEM_PARTS = (
    ("ItemID/SupplierPartID", "the vehicle's code (stable)"),
    ("ItemID/SupplierPartAuxiliaryID", "Euromobil's request reference"),
    ("ItemDetail/UnitPrice/Money", "the day rate"),
    ("ItemDetail/Description", "vehicle, period and reference, in the customer's language"),
    ("ItemDetail/Description/ShortName", "the vehicle and the period in a few words"),
    ("ItemDetail/UnitOfMeasure", "the unit of the quantity"),
    ("ItemDetail/Classification", "the UNSPSC commodity"),
)


def _cart(cart: Cart, booking: Booking) -> list[str]:
    ((field_name, _value),) = cart.fields
    encoded = " in base64 of UTF-8" if field_name == "cxml-base64" else ""
    text = (
        "When the employee sends the request, the browser posts a form to the BrowserFormPost "
        f"URL exactly as the setup request sent it, with one field, {field_name}: the "
        f"PunchOutOrderMessage{encoded}. It echoes the BuyerCookie; operationAllowed is edit "
        "while Euromobil has not started on the request, else inspect; Total is the days "
        "times the day rate. One ItemIn per request, its quantity the rental days. "
        "Cancelling sends a cart without ItemIn."
    )
    return [
        "What comes back",
        *paragraph(text),
        *paragraph(example_sentence(booking)),
        *table(["element of ItemIn", "holds", "example"], _item_rows(cart), [36, 22]),
    ]


def _item_rows(cart: Cart) -> list[list[str]]:
    item = etree.fromstring((cart.document or "").encode()).find(
        "Message/PunchOutOrderMessage/ItemIn"
    )
    rows = [["@quantity", "the rental days", item.get("quantity", "")]]
    for path, holds in _ITEM_PARTS:
        element = item.find(path)
        value = "" if element is None else (element.text or "").strip()
        if path.endswith("Money") and element is not None:
            value = f"{value} {element.get('currency')}"
        rows.append([path, holds, value])
    rows += [
        [f'ItemDetail/Extrinsic name="{extrinsic.get("name")}"', "as agreed", extrinsic.text or ""]
        for extrinsic in item.findall("ItemDetail/Extrinsic")
    ]
    return rows


def _orders(customer: Customer, url: str, oci_baskets: bool) -> list[str]:
    """The purchase order: where it goes, whether it needs the SharedSecret, what it carries."""
    reference = "Euromobil's request reference, e.g. FF-000123"
    if punches_out(customer):
        reference += ": the cart line's SupplierPartAuxiliaryID"
    if oci_baskets:
        reference += (
            "; after an SAP OCI punch-out, map the basket line's NEW_ITEM-EXT_QUOTE_ID here"
        )
    rows = [
        ["cXML @payloadID", "unique per document: the same payloadID again is the same order"],
        [
            "OrderRequestHeader @orderID",
            f"the purchase-order number, at most {MAX_ORDER_ID} characters",
        ],
        [
            "OrderRequestHeader @type",
            "new (the default); update replaces the earlier order of the same orderID, delete "
            "withdraws it: both name that order in DocumentReference payloadID",
        ],
        ["ItemOut @quantity", "the rental days"],
        ["ItemOut/ItemID/SupplierPartID", "the vehicle's code"],
        ["ItemOut/ItemID/SupplierPartAuxiliaryID", reference],
        ["ItemOut/ItemDetail/UnitPrice/Money", "the day rate and its currency"],
    ]
    return [
        "OrderRequest (the purchase order, server to server)",
        f"  {url}",
        *paragraph(
            "Once the customer has approved the cart, the ERP posts its purchase order to this "
            "address: one ItemOut per request, each naming its request. The answer is Status "
            "200 once the order is stored (no order confirmation: Euromobil confirms the "
            "rental itself). Without an answer, send the same document again: the same "
            "payloadID is answered 200 again and changes nothing. A line whose reference "
            "Euromobil does not know is kept for Euromobil to link by hand."
        ),
        *paragraph(_order_secret(cxml_settings(customer))),
        *table(["element", "value"], rows, [38]),
    ]


def _order_secret(settings: CxmlSettings) -> str:
    if settings.orders_without_shared_secret:
        return (
            "SharedSecret: may be left out of an OrderRequest, for a network that "
            "authenticates your system itself; the From credential must still be one of those "
            "above, and a SharedSecret that is sent must be the right one."
        )
    return "SharedSecret: required in every OrderRequest, as in every other request."
