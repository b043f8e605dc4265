"""What every response gets: security headers, the CSP nonce, and error pages."""

import secrets

from flask import Flask, Response, g, render_template, request
from flask_babel import gettext
from werkzeug.exceptions import HTTPException

PUNCHOUT_FRAME_DEFAULT = "'none'"


def csp_nonce() -> str:
    """The nonce of this response's inline script (made on first use)."""
    if "csp_nonce" not in g:
        g.csp_nonce = secrets.token_urlsafe(16)
    return g.csp_nonce


def _content_security_policy() -> str:
    ancestors = g.get("frame_ancestors") or (PUNCHOUT_FRAME_DEFAULT,)
    script = f"'nonce-{g.csp_nonce}'" if "csp_nonce" in g else "'none'"
    return (
        "default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; "
        f"script-src {script}; frame-ancestors {' '.join(ancestors)}"
    )


def _secure_headers(response: Response) -> Response:
    response.headers.setdefault("Content-Security-Policy", _content_security_policy())
    response.headers["X-Content-Type-Options"] = "nosniff"
    # A GET call-up carries the company password in the URL: never send it on as a Referer.
    response.headers["Referrer-Policy"] = "no-referrer"
    if not request.path.startswith("/static/"):
        response.headers["Cache-Control"] = "no-store"
    return response


def _http_error(error: HTTPException) -> tuple[str, int]:
    messages = {
        404: gettext("This page does not exist. Check the address, or start again from your ERP."),
        405: gettext("This address does not accept this kind of request."),
        413: gettext("The request is too large. Send less data."),
    }
    message = messages.get(error.code or 500, gettext("The request could not be handled."))
    return render_template("error.html", code=error.code, message=message), error.code or 500


def init_app(app: Flask) -> None:
    app.after_request(_secure_headers)
    app.register_error_handler(HTTPException, _http_error)
    app.jinja_env.globals["csp_nonce"] = csp_nonce
