"""The service's own address, ``/``: what someone who opens it needs.

In development it is the way in for a developer: the ERP simulator for each protocol, the
operations inbox (and how to make its first operator), the customers served and the docs. In
testing and production it is a short neutral page: what this service is, that employees start
from their organisation's purchasing system, and the way to the operators' login; it names no
customer, so that the address tells a stranger nothing about who buys here.
"""

from flask import Blueprint, current_app, render_template
from flask.typing import ResponseReturnValue

from ociflex.customers.registry import customers

bp = Blueprint("home", __name__)

#: The documents a developer starts with, relative to the repository.
DOCS = ("README.md", "docs/onboarding.md", "docs/customer-config.md", "docs/security.md")


@bp.get("/")
def home() -> ResponseReturnValue:
    """The service's front page: a developer's way in, or a neutral page (see the module doc)."""
    if current_app.config["OCIFLEX_ENV"] != "development":
        return render_template("home.html")
    registry = customers()
    return render_template(
        "home_development.html",
        served=sorted(registry.result.customers.values(), key=lambda customer: customer.name),
        problems=sorted(registry.result.problems),
        docs=DOCS,
    )
