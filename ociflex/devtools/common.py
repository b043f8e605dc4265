"""What both simulators share (:mod:`ociflex.devtools.oci_erp`, :mod:`ociflex.devtools.cxml_buyer`):
the blueprint with its guard, the customer chooser with the files not served, and the other
loopback origin."""

import re
from urllib.parse import urlsplit

from flask import Blueprint, current_app, g, request
from flask.typing import ResponseReturnValue

from ociflex.customers.model import Customer
from ociflex.customers.problems import Problem
from ociflex.customers.registry import customers
from ociflex.ops.auth import login_required

bp = Blueprint("devtools", __name__)

#: Empty rows under the parameters, to add parameters without JavaScript.
EXTRA_ROWS = 3
#: What the saved link and curl command show instead of the company password.
MASKED = "********"
#: The two names of this machine's loopback address: the same service, two sites.
LOOPBACK_NAMES = {"127.0.0.1": "localhost", "localhost": "127.0.0.1"}
#: How the customer loader says that a secret's variable is missing
#: (:mod:`ociflex.customers.sections.secrets`).
_UNSET_VARIABLE = re.compile(r"environment variable ([A-Za-z_][A-Za-z0-9_]*) is not set")


def _logged_in() -> None:
    """Nothing: :func:`login_required` around it lets only an operator's request through."""


@bp.before_request
def _guard() -> ResponseReturnValue | None:
    # The hook and cart pages may load inside the simulator's own catalogue frame (~TARGET=_self).
    g.frame_ancestors = ("'self'",)
    if current_app.config["OCIFLEX_ENV"] == "production":
        return login_required(_logged_in)()
    return None


def other_loopback_origin() -> str | None:
    """This service under the other loopback name (``127.0.0.1`` <-> ``localhost``, same port):
    another site to the browser, as a real ERP is; None when not reached by a loopback name."""
    parts = urlsplit(request.host_url)
    other = LOOPBACK_NAMES.get(parts.hostname or "")
    if other is None:
        return None
    return f"{parts.scheme}://{other}" + (f":{parts.port}" if parts.port else "")


def choose_customer(protocol: str) -> tuple[dict[str, Customer], Customer | None]:
    """The served customers that punch out with ``protocol`` (by id), and the one a simulator
    page is asked for (``customer`` in its form or query string; else the first)."""
    served = {
        customer_id: customer
        for customer_id, customer in customers().result.customers.items()
        if customer.speaks(protocol)
    }
    source = request.form if request.method == "POST" else request.args
    return served, served.get(source.get("customer", "")) or next(iter(served.values()), None)


@bp.app_template_global()
def unset_variable(problem: Problem) -> str | None:
    """The environment variable that ``problem`` says is not set, if it says so: ociflex reads
    the variables once, when it starts, so an ``export`` after that needs a restart (the chooser
    says so under the problem)."""
    match = _UNSET_VARIABLE.search(problem.message)
    return match[1] if match else None
