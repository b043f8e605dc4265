"""Developer tools: an ERP simulator that punches out to ociflex and checks the basket.

On when ``OCIFLEX_DEV_TOOLS`` is (the default in development only), because the simulator
hands out the customers' company passwords to fill in its call-up. In development and testing
the pages are at ``/dev/`` and open to anyone who reaches the machine. In production they
need an operator's login: the operators' session cookie is only sent to ``/ops``, so there
the pages are at ``/ops/dev/`` (``/dev/...`` redirects there) and every request goes through
:func:`ociflex.ops.auth.login_required`. A customer whose ERP is simulated in production then
lists ``https://<ociflex>/ops/dev/erp/`` in its ``hook_urls`` (cXML:
``https://<ociflex>/ops/dev/cxml/`` in ``browser_form_posts``).

``/dev/erp``: choose a customer, edit every call-up parameter (prefilled from the customer
file, FUNCTION calls as presets), launch it as POST or GET into a frame of the page (from
another origin too), a new window or the whole window, and copy it as a link or a curl
command. ``/dev/erp/hook``: the basket that comes back, each line's fields checked against the
OCI rules (:mod:`ociflex.devtools.verdicts`). ``/dev/cxml``: the same for cXML PunchOut, a buyer
that sends a PunchOutSetupRequest and checks the cart (:mod:`ociflex.devtools.cxml_buyer`).
``/dev/cxml/order``: the purchase order (a cXML OrderRequest) that the customer's ERP sends for
the bookings of a cart or basket that came back (:mod:`ociflex.devtools.cxml_orders`).
``/dev/mail``: the e-mails ociflex wrote, as their recipients read them
(:mod:`ociflex.devtools.mail_viewer`).
"""

from flask import Flask, redirect, request
from flask.typing import ResponseReturnValue

from ociflex.devtools import cxml_buyer, cxml_orders, mail_viewer, oci_erp
from ociflex.devtools.common import bp

__all__ = ["cxml_buyer", "cxml_orders", "init_app", "mail_viewer", "oci_erp"]

#: Where the pages are in development and testing, and where they are in production.
OPEN_PREFIX = "/dev"
PRODUCTION_PREFIX = "/ops/dev"


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
