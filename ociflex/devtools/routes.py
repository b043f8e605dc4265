"""Developer tools: a small ERP simulator that punches out to ociflex and shows the basket.

Registered only when ``OCIFLEX_DEV_TOOLS`` is on (the default in development), because the
simulator hands out the customers' company passwords to fill in its call-up form.
"""

import re
import secrets
from urllib.parse import urlencode

from flask import Blueprint, abort, g, render_template, request, url_for

from ociflex.customers.model import Customer
from ociflex.customers.registry import customers
from ociflex.oci.form_encoding import FormEncodingError, decode_form

bp = Blueprint("devtools", __name__, url_prefix="/dev")

ITEM_FIELD = re.compile(r"^NEW_ITEM-([A-Z0-9_]+)\[(\d+)\]$")
LONGTEXT_FIELD = re.compile(r"^NEW_ITEM-LONGTEXT_(\d+):132\[\]$")
SAMPLE_VALUES = {"email": "jan.jansen@example.nl", "full_name": "Jan Jansen"}


@bp.before_request
def _dev_pages_frame_themselves() -> None:
    # The hook page may load inside the simulator's own catalogue frame (~TARGET=_self).
    g.frame_ancestors = ("'self'",)


def callup_parameters(customer: Customer, hook_url: str) -> list[tuple[str, str]]:
    """A complete call-up for ``customer`` as its ERP would send it."""
    login = customer.login
    params = [
        (login.username_param, login.username),
        (login.password_param, login.password or ""),
        ("HOOK_URL", hook_url),
        ("~OkCode", "ADDI"),
        ("~TARGET", "_top"),
        ("~CALLER", "CTLG"),
        ("OCI_VERSION", "4.0"),
        ("HTTP_CONTENT_CHARSET", customer.default_charset),
    ]
    for field in customer.fields.values():
        params.append((field.param, field.example or SAMPLE_VALUES.get(field.name, "")))
    return params


@bp.get("/erp")
def erp() -> str:
    served = customers().result.customers
    chosen = served.get(request.args.get("customer", "")) or next(iter(served.values()), None)
    hook_url = url_for("devtools.hook", session=secrets.token_hex(4), _external=True)
    return render_template(
        "devtools/erp.html",
        customers=served,
        problems=customers().result.problems,
        customer=chosen,
        params=callup_parameters(chosen, hook_url) if chosen else [],
    )


def basket_lines(pairs: list[tuple[str, str]]) -> tuple[dict[int, dict[str, str]], list]:
    """The NEW_ITEM fields per line index, and the other fields, as the ERP would read them."""
    lines: dict[int, dict[str, str]] = {}
    others = []
    for name, value in pairs:
        item, longtext = ITEM_FIELD.match(name), LONGTEXT_FIELD.match(name)
        if item:
            lines.setdefault(int(item.group(2)), {})[item.group(1)] = value
        elif longtext:
            lines.setdefault(int(longtext.group(1)), {})["LONGTEXT"] = value
        else:
            others.append((name, value))
    return dict(sorted(lines.items())), others


@bp.post("/erp/hook")
def hook() -> str:
    try:
        pairs, charset = decode_form(request.get_data())
    except FormEncodingError:
        abort(400)
    lines, others = basket_lines(pairs)
    return render_template(
        "devtools/hook.html",
        lines=lines,
        others=others,
        charset=charset,
        query=urlencode(list(request.args.items(multi=True))),
    )
