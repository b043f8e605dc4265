"""Where carts may go, who may show ociflex, who may book: the return URL lists of the protocols
(``hook_urls``, ``cxml.browser_form_posts``), ``frame_ancestors`` and ``email_domains``."""

import re
from collections.abc import Callable, Iterable, Iterator
from urllib.parse import urlsplit

from ociflex.customers.checks import Checker
from ociflex.customers.yaml_nodes import item_path
from ociflex.return_urls import origin_of, url_problem

#: YAML reads ``- 'self'`` as the text ``self``: both spellings mean the CSP keyword.
CSP_KEYWORDS = {"'self'": "'self'", "self": "'self'", "'none'": "'none'", "none": "'none'"}


def read_return_urls(
    check: Checker,
    value: object,
    path: str,
    name: str,
    pseudo_url: tuple[str, Callable[[str], bool]] | None = None,
) -> tuple[str, ...]:
    """A list of allowed return URLs (``name``: how the protocol calls them). Each entry is a
    prefix that a return URL can fall under (see :mod:`ociflex.return_urls`), or the
    protocol's own ``pseudo_url``: its spelling, and what recognises it."""
    items = check.sequence(value, path, non_empty=True) or []
    urls = [
        _return_url(check, item, item_path(path, index), name, pseudo_url)
        for index, item in enumerate(items)
    ]
    return tuple(url for url in urls if url is not None)


def _return_url(
    check: Checker,
    value: object,
    path: str,
    name: str,
    pseudo_url: tuple[str, Callable[[str], bool]] | None,
) -> str | None:
    url = check.string(value, path)
    if url is None or (pseudo_url is not None and pseudo_url[1](url)):
        return url
    reason = url_problem(url, name)
    if reason is None and urlsplit(url).query:
        reason = "a query string (?...) plays no part in the comparison"
    if reason is not None:
        alternative = f", or {pseudo_url[0]}" if pseudo_url is not None else ""
        check.report(
            path,
            f"not a usable {name} prefix: {reason}; write it like "
            f"https://erp.example.com/sap/oci/ (no user@, no #, no ?){alternative}",
        )
        return None
    return url


def default_frame_ancestors(return_urls: Iterable[str]) -> tuple[str, ...]:
    """The distinct origins of the http(s) ``return_urls``: the buyer's pages are served there."""
    return tuple(dict.fromkeys(filter(None, map(origin_of, return_urls))))


def _strings(check: Checker, value: object, key: str, non_empty: bool) -> Iterator[tuple[str, str]]:
    """(key path, text) of each string item of the list ``value``; anything else is reported."""
    for index, item in enumerate(check.sequence(value, key, non_empty=non_empty) or []):
        path = item_path(key, index)
        if (text := check.string(item, path)) is not None:
            yield path, text


def read_frame_ancestors(check: Checker, value: object) -> tuple[str, ...]:
    ancestors = []
    for path, text in _strings(check, value, "frame_ancestors", non_empty=False):
        if text in CSP_KEYWORDS:
            ancestors.append(CSP_KEYWORDS[text])
        elif (reason := _origin_problem(text)) is not None:
            check.report(
                path,
                f"{text!r} is not an origin ({reason}); write scheme://host[:port], like "
                "https://erp.example.com, or 'self' or 'none'",
            )
        else:
            ancestors.append(text)
    if "'none'" in ancestors and len(ancestors) > 1:
        check.report("frame_ancestors", "'none' forbids all framing: remove it or the others")
    return tuple(ancestors)


def _origin_problem(text: str) -> str | None:
    reason = url_problem(text, "the origin")
    if reason is not None:
        return reason
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https"):
        return "not an http(s) address"
    if parts.path or parts.query:
        return f"it has a path; write {origin_of(text)}"
    return None


#: A domain name as written in an e-mail address, optionally ``*.`` for its subdomains.
_EMAIL_DOMAIN = re.compile(r"(\*\.)?([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}")


def read_email_domains(check: Checker, value: object) -> tuple[str, ...]:
    """``email_domains``: where requesters' e-mail addresses may be (lower-case, checked);
    none when the key is absent."""
    if value is None:
        return ()
    domains = []
    for path, text in _strings(check, value, "email_domains", non_empty=True):
        domain = text.strip().lower()
        if _EMAIL_DOMAIN.fullmatch(domain):
            domains.append(domain)
        else:
            check.report(
                path,
                f"{text!r} is not a domain name; write it as in an address after the @, like "
                "acme.example, or *.acme.example to allow its subdomains as well (an "
                "internationalised domain in its xn-- form)",
            )
    return tuple(dict.fromkeys(domains))
