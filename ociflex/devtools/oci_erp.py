"""The ERP simulator for SAP OCI: ``/dev/erp`` builds and launches a call-up, ``/dev/erp/hook``
receives the basket and checks it (:mod:`ociflex.devtools.verdicts`), and for a customer whose
ERP sends its purchase orders by cXML offers that order (:mod:`ociflex.devtools.cxml_orders`);
see :mod:`ociflex.devtools.routes`. The HOOK_URL's query string names the customer."""

import secrets
import shlex
from dataclasses import dataclass
from urllib.parse import quote_plus, urlencode

from flask import abort, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import force_locale, gettext
from werkzeug.datastructures import MultiDict

from ociflex.booking.cart import Cart
from ociflex.booking.edit import booking_of
from ociflex.booking.session import CartReturn
from ociflex.customers.model import Customer
from ociflex.customers.registry import customers
from ociflex.db import get_session
from ociflex.devtools.common import EXTRA_ROWS, MASKED, bp, choose_customer, other_loopback_origin
from ociflex.devtools.cxml_orders import (
    basket_lines,
    first_order,
    order_customer,
    order_form_values,
)
from ociflex.devtools.verdicts import check_basket_post, mark_replacements
from ociflex.models import RentalRequest
from ociflex.models.requests import parse_reference
from ociflex.oci.basket import BasketError, build_basket
from ociflex.oci.callup import Params
from ociflex.oci.config import OCI, oci_settings
from ociflex.oci.encodings import form_codec
from ociflex.oci.form_encoding import FormEncodingError, decode_form
from ociflex.oci.limits import NEW_ITEM_MAX_LENGTHS

#: Parameters that the FUNCTION presets set (and remove again), upper-case.
FUNCTION_PARAMS = ("FUNCTION", "PRODUCTID", "QUANTITY", "SEARCHSTRING")
PRESETS = ("none", "validate", "background_search", "detail")

METHODS = ("post", "get")
#: Launch window -> the call-up form's target.
WINDOWS = {"frame": "catalogue", "new": "_blank", "top": "_top"}


# --- The call-up ---------------------------------------------------------------------------------


def callup_parameters(customer: Customer, hook_url: str) -> list[tuple[str, str]]:
    """A complete call-up for ``customer`` as its ERP would send it. It names no
    HTTP_CONTENT_CHARSET: the file's ``charset`` is what ociflex falls back to for an ERP that
    names none, and this is the call-up that tests it (the page says so)."""
    settings = oci_settings(customer)
    login = settings.login
    params = [
        (login.username_param, login.username),
        (login.password_param, login.password.value or ""),
        ("HOOK_URL", hook_url),
        ("~OkCode", "ADDI"),
        ("~TARGET", "_top"),
        ("~CALLER", "CTLG"),
        ("OCI_VERSION", "4.0"),
    ]
    for field in customer.fields.values():
        params.append((settings.param(field), customer.example_of(field)))
    return params


def apply_preset(
    customer: Customer, params: list[tuple[str, str]], preset: str
) -> list[tuple[str, str]]:
    """``params`` with the FUNCTION call ``preset`` (``none``: an interactive session)."""
    kept = [(name, value) for name, value in params if name.upper() not in FUNCTION_PARAMS]
    product = customer.vehicles[0].code if customer.vehicles else ""
    added = {
        "none": [],
        "validate": [("FUNCTION", "VALIDATE"), ("PRODUCTID", product), ("QUANTITY", "1")],
        "background_search": [("FUNCTION", "BACKGROUND_SEARCH"), ("SEARCHSTRING", product)],
        "detail": [("FUNCTION", "DETAIL"), ("PRODUCTID", product)],
    }
    return kept + added.get(preset, [])


def edited_parameters(form: MultiDict[str, str]) -> list[tuple[str, str]]:
    """The parameters of the edit form: its NAME=VALUE lines when given, else the table rows
    that have a name and are not marked for removal."""
    if pasted := form.get("pairs", "").strip():
        lines = (line.strip() for line in pasted.splitlines())
        return [
            (name.strip(), value)
            for name, _, value in (line.partition("=") for line in lines if line)
            if name.strip()
        ]
    removed = set(form.getlist("remove"))
    rows = zip(form.getlist("name"), form.getlist("value"), strict=False)
    return [
        (name.strip(), value)
        for position, (name, value) in enumerate(rows)
        if name.strip() and str(position) not in removed
    ]


def _choice(value: str | None, choices: tuple[str, ...] | dict[str, str]) -> str:
    return value if value in choices else next(iter(choices))


@dataclass(frozen=True)
class Launch:
    """One call-up as the simulator sends it."""

    customer: Customer
    params: list[tuple[str, str]]
    method: str
    window: str
    other_origin: bool
    show_password: bool

    @property
    def target(self) -> str:
        return WINDOWS[self.window]

    @property
    def url(self) -> str:
        """The punch-out address; on the other loopback name when asked and possible."""
        origin = other_loopback_origin() if self.other_origin else None
        if origin is None:
            return url_for("oci.callup", customer_id=self.customer.id, _external=True)
        return origin + url_for("oci.callup", customer_id=self.customer.id)

    @property
    def fallback_charset(self) -> str:
        """The basket's charset when the call-up names none: the file's ``charset``."""
        return oci_settings(self.customer).default_charset

    @property
    def named_charset(self) -> str | None:
        """The charset the call-up names in HTTP_CONTENT_CHARSET, read as ociflex reads it;
        None when it names none (left out or empty)."""
        return Params(tuple(self.params)).get("HTTP_CONTENT_CHARSET") or None

    @property
    def refused_charset(self) -> bool:
        """The call-up names a charset that no browser form is posted in: ociflex refuses it."""
        return self.named_charset is not None and form_codec(self.named_charset) is None

    def is_password(self, name: str) -> bool:
        return name.lower() == oci_settings(self.customer).login.password_param.lower()

    def shown_params(self) -> list[tuple[str, str]]:
        """The parameters to print: the password masked unless asked to show it."""
        if self.show_password:
            return self.params
        return [(name, MASKED if self.is_password(name) else value) for name, value in self.params]

    def get_link(self) -> str:
        """The call-up as one GET address (the mask stays readable)."""
        return f"{self.url}?{urlencode(self.shown_params(), safe='*')}"

    def curl(self) -> str:
        """The same call-up as a curl command, POST (or GET: ``-G``) as launched."""
        words = ["curl", "-X", "POST"] if self.method == "post" else ["curl", "-G"]
        lines = [" ".join([*words, shlex.quote(self.url)])]
        # curl encodes only what follows the first '='; the name must arrive encoded already.
        lines += [
            f"--data-urlencode {shlex.quote(f'{quote_plus(name)}={value}')}"
            for name, value in self.shown_params()
        ]
        return " \\\n  ".join(lines)


def _launch(customer: Customer, source: MultiDict[str, str], params: list) -> Launch:
    preset = source.get("preset")
    if preset in PRESETS:
        params = apply_preset(customer, params, preset)
    return Launch(
        customer=customer,
        params=params,
        method=_choice(source.get("method"), METHODS),
        window=_choice(source.get("window"), WINDOWS),
        other_origin=source.get("origin") == "other",
        show_password=source.get("show_password") == "1",
    )


@bp.route("/erp", methods=["GET", "POST"])
def erp() -> ResponseReturnValue:
    """GET: a customer's call-up as its ERP sends it (``?customer=``, ``&preset=``); POST:
    the edit form applied."""
    served, chosen = choose_customer(OCI)
    source = request.form if request.method == "POST" else request.args
    launch = None
    if chosen is not None:
        if request.method == "POST" and source.get("customer") == chosen.id:
            params = edited_parameters(request.form)
        else:
            hook_url = url_for(
                "devtools.hook", session=secrets.token_hex(4), customer=chosen.id, _external=True
            )
            params = callup_parameters(chosen, hook_url)
        launch = _launch(chosen, source, params)
    other_origin = other_loopback_origin()
    return render_template(
        "devtools/erp.html",
        customers=served,
        problems=customers().result.problems,
        customer=chosen,
        launch=launch,
        extra_rows=EXTRA_ROWS,
        other_origin=other_origin,
        other_simulator=(
            f"{other_origin}{url_for('devtools.erp', customer=chosen.id)}"
            if other_origin and chosen
            else None
        ),
        windows=WINDOWS,
    )


# --- The basket ----------------------------------------------------------------------------------


@bp.route("/erp/hook", methods=["GET", "POST"])
def hook() -> str:
    """The ERP's HOOK_URL: the basket the browser posts back, checked line by line against
    what the customer's ERP expects (``customer`` in the query string), and the form of the
    order for its bookings when the customer sends its orders by cXML."""
    query = urlencode(list(request.args.items(multi=True)))
    if request.method == "GET":
        return render_template(
            "devtools/hook.html",
            report=None,
            charset=None,
            query=query,
            customer_id=request.args.get("customer"),
        )
    try:
        pairs, charset = decode_form(request.get_data())
    except FormEncodingError:
        abort(400)
    customer = _oci_customer(request.args.get("customer", ""))
    settings = oci_settings(customer) if customer else None
    file_charset = settings.default_charset if settings else None
    raised = settings.max_lengths if settings else {}
    sent = _sent_basket(customer, pairs) if customer else None
    asked = sent.charset if sent else None
    limit = settings.limit if settings else NEW_ITEM_MAX_LENGTHS.get
    report = check_basket_post(pairs, charset, asked or file_charset, limit)
    if sent is not None:
        mark_replacements(report, dict(sent.fields), sent.charset)
    page = {
        "report": report,
        "raised": raised,
        "customer_id": customer.id if customer else None,
        "charset": charset,
        "file_charset": file_charset,
        "asked": asked,
        "query": query,
        "order": None,
    }
    order_to = order_customer(request.args.get("customer", ""))
    if order_to is not None and report.lines:
        order = first_order(order_to, basket_lines(report.lines, order_to))
        page |= order_form_values(order_to, order, False)
    return render_template("devtools/hook.html", **page)


def _oci_customer(customer_id: str) -> Customer | None:
    """The served customer ``customer_id`` when it punches out with OCI."""
    customer = customers().get(customer_id)
    return customer if customer is not None and customer.speaks(OCI) else None


@dataclass(frozen=True)
class SentBasket:
    """The basket ociflex sent for the request a post names, before it fitted the values to
    the charset, and the charset it posted it in (the basket form's accept-charset)."""

    fields: tuple[tuple[str, str], ...]
    charset: str


def _sent_basket(customer: Customer, pairs: list[tuple[str, str]]) -> SentBasket | None:
    """What ociflex sent for the request in the post's ``NEW_ITEM-EXT_QUOTE_ID[1]``: built again
    from the stored request in UTF-8, so that nothing is replaced. None when the post names no
    request of ``customer``, or the basket can no longer be built (the file changed since)."""
    reference = dict(pairs).get("NEW_ITEM-EXT_QUOTE_ID[1]", "")
    request_id = parse_reference(reference)
    stored = get_session().get(RentalRequest, request_id) if request_id is not None else None
    if stored is None or stored.customer_id != customer.id or stored.protocol != OCI:
        return None
    unchanged = CartReturn(url="", target="", charset="utf-8")
    try:
        with force_locale(customer.language):
            basket = build_basket(
                customer,
                booking_of(stored, customer),
                reference=stored.reference,
                cart_return=unchanged,
                gettext=gettext,
            )
    except BasketError:
        return None
    return SentBasket(fields=basket.fields, charset=Cart.from_json(stored.cart).charset)
