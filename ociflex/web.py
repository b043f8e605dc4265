"""What every response gets: security headers, the CSP nonce, and error pages."""

import re
import secrets
from urllib.parse import quote, urlsplit

from flask import Flask, Response, current_app, g, render_template, request
from flask_babel import gettext
from werkzeug.exceptions import HTTPException, ServiceUnavailable

from ociflex.text import N_

PUNCHOUT_FRAME_DEFAULT = "'none'"

#: What a 503 tells browsers and ERPs to wait before trying again, in seconds.
RETRY_AFTER_S = 30

#: HSTS outside development: a year, as browsers' preload rules expect.
STRICT_TRANSPORT_SECURITY = "max-age=31536000; includeSubDomains"

#: What a CSP source built from a URL may contain: anything else could end the directive.
_SOURCE_CHARS = re.compile(r"[a-z][a-z0-9+.-]*:(//[a-z0-9.\-\[\]:]+)?")


def mailto(address: str) -> str:
    """A ``mailto:`` URL that sends to ``address`` and to nothing else (RFC 6068).

    The address is one ``to`` whose characters other than letters, digits, ``-._~`` and
    ``@`` are percent-encoded as UTF-8: a ``?``, ``&`` or ``#`` in a local part (which RFC 5322
    allows) cannot start a header (``?bcc=...``), a ``%`` cannot pass as an escape, and a quote
    or ``<`` cannot end the attribute it stands in. Build every ``mailto:`` with it (the
    ``mailto`` template filter), never by pasting an address after ``mailto:``.
    """
    return "mailto:" + quote(address, safe="@")


def csp_nonce() -> str:
    """The nonce of this response's inline script (made on first use)."""
    if "csp_nonce" not in g:
        g.csp_nonce = secrets.token_urlsafe(16)
    return g.csp_nonce


def _csp_source(url: str) -> str | None:
    """The CSP source of ``url``'s origin (``sapevent:`` for a scheme without a host); None for
    a relative URL, which ``'self'`` covers, or anything that is not a plain origin."""
    parts = urlsplit(url.strip())
    if not parts.scheme:
        return None
    host = parts.netloc.rpartition("@")[2]
    source = f"{parts.scheme}://{host}" if host else f"{parts.scheme}:"
    source = source.lower()
    return source if _SOURCE_CHARS.fullmatch(source) else None


def form_target(url: str) -> str:
    """``url``, for a form's ``action``: its origin joins this response's CSP ``form-action``.

    Every page may post forms to itself only, except to the addresses its templates name
    through this function (the basket page: exactly the HOOK_URL's origin, or the
    BrowserFormPost URL's).
    """
    return _allow(url, "form_targets")


def frame_source(url: str) -> str:
    """``url``, for what a frame of this page loads: its origin joins this response's CSP
    ``frame-src`` (the ERP simulator's catalogue frame, loading ociflex from the other loopback
    origin; every other frame loads this site only)."""
    return _allow(url, "frame_sources")


def _allow(url: str, sources_key: str) -> str:
    source = _csp_source(url)
    if source is not None:
        sources = g.setdefault(sources_key, [])
        if source not in sources:
            sources.append(source)
    return url


def _content_security_policy() -> str:
    ancestors = g.get("frame_ancestors") or (PUNCHOUT_FRAME_DEFAULT,)
    script = f"'nonce-{g.csp_nonce}'" if "csp_nonce" in g else "'none'"
    form_action = " ".join(["'self'", *g.get("form_targets", ())])
    frames = f"; frame-src 'self' {' '.join(g.frame_sources)}" if g.get("frame_sources") else ""
    return (
        "default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; "
        f"script-src {script}; form-action {form_action}; frame-ancestors {' '.join(ancestors)}"
        f"{frames}"
    )


def _secure_headers(response: Response) -> Response:
    response.headers.setdefault("Content-Security-Policy", _content_security_policy())
    response.headers["X-Content-Type-Options"] = "nosniff"
    # A GET call-up carries the company password in the URL: never send it on as a Referer.
    response.headers["Referrer-Policy"] = "no-referrer"
    if not request.path.startswith("/static/"):
        response.headers["Cache-Control"] = "no-store"
    if current_app.config["OCIFLEX_ENV"] != "development":
        # The development server speaks plain HTTP; every other deployment is HTTPS only.
        response.headers["Strict-Transport-Security"] = STRICT_TRANSPORT_SECURITY
    return response


class Unavailable(ServiceUnavailable):
    """A 503 whose page says why in :attr:`message` (a catalogue text); nothing was stored,
    and the same request may be sent again after ``Retry-After`` seconds."""

    message = N_("FlexFleet is not available at the moment. Please try again in a few minutes.")

    def __init__(self) -> None:
        super().__init__(retry_after=RETRY_AFTER_S)


def _http_error(error: HTTPException) -> tuple[str, int, dict[str, str]]:
    messages = {
        404: gettext("This page does not exist. Check the address, or start again from your ERP."),
        405: gettext("This address does not accept this kind of request."),
        413: gettext(
            "The request is larger than the %(limit)s KB FlexFleet accepts, so nothing was "
            "stored. Send less data.",
            limit=(current_app.config["MAX_CONTENT_LENGTH"] or 0) // 1024,
        ),
    }
    code = error.code or 500
    if isinstance(error, Unavailable):
        message = gettext(error.message)
    else:
        message = messages.get(code, gettext("The request could not be handled."))
    # A form that is safe to send twice (see resendable()) gets a button that sends it again.
    resend = list(request.form.items(multi=True)) if code == 503 and g.get("resendable") else None
    headers = {"Retry-After": str(retry)} if (retry := getattr(error, "retry_after", None)) else {}
    page = render_template("error.html", code=code, message=message, resend=resend)
    return page, code, headers


def resendable() -> None:
    """Mark this request's form as safe to send again as it is, should the service be briefly
    unavailable: the error page then offers a button that does (never for a login form)."""
    g.resendable = True


def init_app(app: Flask) -> None:
    app.after_request(_secure_headers)
    app.register_error_handler(HTTPException, _http_error)
    app.jinja_env.globals["csp_nonce"] = csp_nonce
    app.jinja_env.globals["form_target"] = form_target
    app.jinja_env.globals["frame_source"] = frame_source
    app.jinja_env.filters["mailto"] = mailto
