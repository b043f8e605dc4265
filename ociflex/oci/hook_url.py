"""Checking the HOOK_URL of a call-up against the entries a customer allows.

A HOOK_URL is a return URL like any other (:mod:`ociflex.return_urls` has the rule and
the threat), with one addition: SAP GUI's embedded browser takes the basket through the
pseudo-URL ``SAPEVENT:POST`` instead of an HTTP post, allowed only where the customer lists it.
"""

from collections.abc import Sequence

from ociflex.return_urls import ReturnUrlError, check_return_url, origin_of
from ociflex.text import N_

#: The pseudo-URL by which SAP GUI's embedded browser takes the basket instead of an HTTP post.
SAPEVENT = "SAPEVENT:POST"
#: How OCI calls its return URL, in messages.
NAME = "HOOK_URL"


def check_hook_url(hook_url: str, allowed: Sequence[str]) -> None:
    """Raise :class:`ReturnUrlError` unless ``hook_url`` is ``SAPEVENT:POST`` and ``allowed``
    lists it, or is a safe URL under one of the other entries."""
    if is_sapevent(hook_url):
        if not any(is_sapevent(entry) for entry in allowed):
            raise ReturnUrlError(
                N_("%(name)s %(url)s (SAP GUI) is not allowed for this customer"),
                name=NAME,
                url=SAPEVENT,
            )
        return
    check_return_url(hook_url, [entry for entry in allowed if not is_sapevent(entry)], NAME)


def is_sapevent(url: str) -> bool:
    # isascii() first: str.upper() maps some non-ASCII letters to ASCII ones ("ſ" -> "S").
    return url.isascii() and url.upper() == SAPEVENT


def hook_origin(hook_url: str | None) -> str | None:
    """What the transfer log keeps of a HOOK_URL: its origin (the query string may hold the
    ERP's session ids), ``SAPEVENT:POST`` for SAP GUI, None when it is neither."""
    if not hook_url:
        return None
    return SAPEVENT if is_sapevent(hook_url) else origin_of(hook_url)
