"""Developer tools: an ERP simulator that punches out to ociflex and checks the basket.

On when ``OCIFLEX_DEV_TOOLS`` is (the default in development only), because the simulator
hands out the customers' company passwords to fill in its call-up. In development and testing
the pages are at ``/dev/`` and open to anyone who reaches the machine. In production they
need an operator's login: the operators' session cookie is only sent to ``/ops``, so there
the pages are at ``/ops/dev/`` (``/dev/...`` redirects there) and every request goes through
:func:`ociflex.ops.auth.login_required`. A customer whose ERP is simulated in production then
lists ``https://<ociflex>/ops/dev/erp/`` in its ``hook_urls``.

``/dev/erp``: choose a customer, edit every call-up parameter (prefilled from the customer
file, FUNCTION calls as presets), launch it as POST or GET into a frame of the page (from
another origin too), a new window or the whole window, and copy it as a link or a curl
command. ``/dev/erp/hook``: the basket that comes back, each line's fields checked against the
OCI rules (:mod:`ociflex.devtools.verdicts`).
"""

import secrets
import shlex
from dataclasses import dataclass
from urllib.parse import quote_plus, urlencode, urlsplit

from flask import (
    Blueprint,
    Flask,
    abort,
    current_app,
    g,
    redirect,
    render_template,
    request,
    url_for,
)
from flask.typing import ResponseReturnValue
from werkzeug.datastructures import MultiDict

from ociflex.customers.model import Customer
from ociflex.customers.registry import customers
from ociflex.devtools.verdicts import check_basket_post
from ociflex.oci.config import OCI, oci_settings
from ociflex.oci.form_encoding import FormEncodingError, decode_form
from ociflex.ops.auth import login_required

bp = Blueprint("devtools", __name__)

#: Where the pages are in development and testing, and where they are in production.
OPEN_PREFIX = "/dev"
PRODUCTION_PREFIX = "/ops/dev"

#: Empty rows under the parameters, to add parameters without JavaScript.
EXTRA_ROWS = 3
#: What the saved link and curl command show instead of the company password.
MASKED = "********"

#: Parameters that the FUNCTION presets set (and remove again), upper-case.
FUNCTION_PARAMS = ("FUNCTION", "PRODUCTID", "QUANTITY", "SEARCHSTRING")
PRESETS = ("none", "validate", "background_search", "detail")

METHODS = ("post", "get")
#: Launch window -> the call-up form's target.
WINDOWS = {"frame": "catalogue", "new": "_blank", "top": "_top"}
#: The two names of this machine's loopback address: the same service, two sites.
LOOPBACK_NAMES = {"127.0.0.1": "localhost", "localhost": "127.0.0.1"}


def init_app(app: Flask) -> None:
    """Register the simulator (the caller checks ``OCIFLEX_DEV_TOOLS``); see the module doc."""
    if app.config["OCIFLEX_ENV"] != "production":
        app.register_blueprint(bp, url_prefix=OPEN_PREFIX)
        return
    app.register_blueprint(bp, url_prefix=PRODUCTION_PREFIX)
    methods = ["GET", "HEAD", "POST"]
    app.add_url_rule(
        f"{OPEN_PREFIX}/", "devtools_moved", _moved, methods=methods, defaults={"rest": ""}
    )
    app.add_url_rule(f"{OPEN_PREFIX}/<path:rest>", "devtools_moved", _moved, methods=methods)


def _moved(rest: str) -> ResponseReturnValue:
    """``/dev/...`` in production: the same page under ``/ops/dev/`` (308 keeps a POST a POST)."""
    query = request.query_string.decode("latin-1")
    return redirect(f"{PRODUCTION_PREFIX}/{rest}" + (f"?{query}" if query else ""), 308)


def _logged_in() -> None:
    """Nothing: :func:`login_required` around it lets only an operator's request through."""


@bp.before_request
def _guard() -> ResponseReturnValue | None:
    # The hook page may load inside the simulator's own catalogue frame (~TARGET=_self).
    g.frame_ancestors = ("'self'",)
    if current_app.config["OCIFLEX_ENV"] == "production":
        return login_required(_logged_in)()
    return None


# --- The call-up ---------------------------------------------------------------------------------


def callup_parameters(customer: Customer, hook_url: str) -> list[tuple[str, str]]:
    """A complete call-up for ``customer`` as its ERP would send it."""
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
        ("HTTP_CONTENT_CHARSET", settings.default_charset),
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


def other_loopback_origin() -> str | None:
    """This service under the other loopback name (``127.0.0.1`` <-> ``localhost``, same port):
    another site to the browser, as a real ERP is; None when not reached by a loopback name."""
    parts = urlsplit(request.host_url)
    other = LOOPBACK_NAMES.get(parts.hostname or "")
    if other is None:
        return None
    return f"{parts.scheme}://{other}" + (f":{parts.port}" if parts.port else "")


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
    registry = customers()
    served = {
        customer_id: customer
        for customer_id, customer in registry.result.customers.items()
        if customer.speaks(OCI)
    }
    source = request.form if request.method == "POST" else request.args
    chosen = served.get(source.get("customer", "")) or next(iter(served.values()), None)
    launch = None
    if chosen is not None:
        if request.method == "POST" and source.get("customer") == chosen.id:
            params = edited_parameters(request.form)
        else:
            hook_url = url_for("devtools.hook", session=secrets.token_hex(4), _external=True)
            params = callup_parameters(chosen, hook_url)
        launch = _launch(chosen, source, params)
    other_origin = other_loopback_origin()
    return render_template(
        "devtools/erp.html",
        customers=served,
        problems=registry.result.problems,
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
    """The ERP's HOOK_URL: the basket the browser posts back, checked line by line."""
    query = urlencode(list(request.args.items(multi=True)))
    if request.method == "GET":
        return render_template("devtools/hook.html", report=None, charset=None, query=query)
    try:
        pairs, charset = decode_form(request.get_data())
    except FormEncodingError:
        abort(400)
    return render_template(
        "devtools/hook.html",
        report=check_basket_post(pairs, charset),
        charset=charset,
        query=query,
    )
