"""The employees' side of both protocols, and cXML's server-to-server endpoint.

OCI: the call-up and FUNCTION calls at ``/oci/<customer_id>``, the booking form posted back to
``/oci/<customer_id>/book`` (:mod:`~ociflex.punchout.oci_callup`,
:mod:`~ociflex.punchout.oci_functions`). The booking itself is the same for every protocol
(:mod:`~ociflex.punchout.booking`).

Each call is written to the transfer log (:mod:`ociflex.transfers`), accepted or rejected,
without secrets: a cart in the transaction that registers its request, the rest in a short
transaction of its own, whose failure never keeps the buyer's system from its answer.
"""

from flask import Flask

from ociflex.booking.token import PunchoutTokens
from ociflex.punchout import oci_callup
from ociflex.punchout.common import oci_bp

__all__ = ["init_app", "oci_callup"]


def init_app(app: Flask) -> None:
    config = app.config
    app.extensions["ociflex.tokens"] = PunchoutTokens(
        config["SECRET_KEY"], config["SECRET_KEY_FALLBACKS"], config["OCIFLEX_PUNCHOUT_MAX_AGE"]
    )
    app.register_blueprint(oci_bp)
