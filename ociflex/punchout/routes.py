"""The employees' side of both protocols, and cXML's server-to-server endpoint.

OCI: the call-up and FUNCTION calls at ``/oci/<customer_id>``, the booking form posted back to
``/oci/<customer_id>/book`` (:mod:`~ociflex.punchout.oci_callup`,
:mod:`~ociflex.punchout.oci_functions`). cXML: every request of the buyer's server at
``/cxml/<customer_id>`` (:mod:`~ociflex.punchout.cxml_endpoint`); the StartPage, the booking
form posted back and the way back without booking (:mod:`~ociflex.punchout.cxml_start`). The
booking itself is the same for every protocol (:mod:`~ociflex.punchout.booking`).

Each call is written to the transfer log (:mod:`ociflex.transfers`), accepted or rejected,
without secrets: a cart in the transaction that registers its request, the rest in a short
transaction of its own, whose failure never keeps the buyer's system from its answer.
"""

from flask import Flask

from ociflex.booking.form_html import field_row
from ociflex.booking.token import PunchoutTokens
from ociflex.cxml.start_page import StartPageTokens
from ociflex.punchout import cxml_endpoint, cxml_start, oci_callup
from ociflex.punchout.common import cxml_bp, oci_bp

__all__ = ["cxml_endpoint", "cxml_start", "init_app", "oci_callup"]


def init_app(app: Flask) -> None:
    config = app.config
    keys = (config["SECRET_KEY"], config["SECRET_KEY_FALLBACKS"])
    app.extensions["ociflex.tokens"] = PunchoutTokens(*keys, config["OCIFLEX_PUNCHOUT_MAX_AGE"])
    app.extensions["ociflex.start_page_tokens"] = StartPageTokens(
        *keys, config["OCIFLEX_START_PAGE_MAX_AGE"]
    )
    # The booking form's fields (templates/punchout/form.html).
    app.jinja_env.globals["field_row"] = field_row
    app.register_blueprint(oci_bp)
    app.register_blueprint(cxml_bp)
