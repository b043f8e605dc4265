"""Checking a return URL (OCI's HOOK_URL, cXML's BrowserFormPost) against a customer's list.

The employee's browser posts the cart (names, e-mail addresses, cost centres) to the URL that
the buyer's system sent, so whoever crafts a punch-out chooses where that data goes, or runs
script with a ``javascript:`` URL. A return URL is therefore accepted only when it is
unambiguous (no user info, no dot-segments, no characters that browsers and servers read
differently) and falls under one of the customer's allowed entries. The comparison is by parsed
scheme, host, port and path, never by string prefix: ``http://127.0.0.1:5000.evil.example/``
starts with ``http://127.0.0.1:5000``.

Messages name the URL as the protocol calls it (``%(name)s``: ``HOOK_URL``, ``BrowserFormPost
URL``), so that the buyer's administrator knows which setting to look at.
"""

import functools
import ipaddress
import re
import unicodedata
from collections.abc import Iterator, Sequence
from typing import NamedTuple
from urllib.parse import unquote, urlsplit

from ociflex.text import N_

#: Longest return URL accepted; ERPs send a few hundred characters including their session ids.
MAX_LENGTH = 4096

_DEFAULT_PORTS = {"http": 80, "https": 443}
_LABEL = r"[a-z0-9_](?:[a-z0-9_-]*[a-z0-9_])?"
_HOST_NAME = re.compile(rf"{_LABEL}(?:\.{_LABEL})*")
_PORT = re.compile(r"[0-9]{1,5}")


class ReturnUrlError(ValueError):
    """A return URL that ociflex will not post a cart to.

    ``message`` is a catalogue text with ``%(name)s`` parameters, translated where it is shown
    (``name`` is how the protocol calls the URL); ``reason`` is the English text, for logs and
    the ERP simulator.
    """

    def __init__(self, message: str, **params: object) -> None:
        self.message = message
        # Raised while parsing, before anyone says how the URL is called: see named().
        self.params = {"name": "URL", **params}
        self.reason = message % self.params
        super().__init__(self.reason)

    def named(self, name: str) -> "ReturnUrlError":
        """The same refusal for the URL as ``name`` calls it."""
        return ReturnUrlError(self.message, **{**self.params, "name": name})


class _Url(NamedTuple):
    scheme: str
    #: Lower-case host name, IPv4 address or bracketed IPv6 address.
    host: str
    #: The effective port: the scheme's default when the URL names none.
    port: int
    path: str

    @property
    def origin(self) -> str:
        if self.port == _DEFAULT_PORTS[self.scheme]:
            return f"{self.scheme}://{self.host}"
        return f"{self.scheme}://{self.host}:{self.port}"

    def is_under(self, allowed: "_Url") -> bool:
        return self.origin == allowed.origin and _path_is_under(self.path, allowed.path)


def check_return_url(url: str, allowed: Sequence[str], name: str) -> None:
    """Raise :class:`ReturnUrlError` unless ``url`` is safe and under one of ``allowed``.

    The URL's own query string is allowed (ERPs put their session ids there) and plays no part
    in the comparison. Entries of ``allowed`` that are not valid themselves match nothing.
    ``name`` is how the protocol calls the URL, for the message.
    """
    try:
        parsed = _parse(url)
    except ReturnUrlError as error:
        raise error.named(name) from None
    if not any(parsed.is_under(entry) for entry in _parse_valid(allowed)):
        raise ReturnUrlError(
            N_("%(name)s %(url)s is not in the list allowed for this customer"),
            name=name,
            url=parsed.origin + parsed.path,
        )


def url_problem(url: str, name: str) -> str | None:
    """Why an entry ``url`` of a customer's list could never match, in English for the file's
    check (``name``: how the protocol calls such a URL); None when it is a usable entry."""
    try:
        _parse(url)
    except ReturnUrlError as error:
        return error.named(name).reason
    return None


def origin_of(url: str) -> str | None:
    """``scheme://host[:port]`` of ``url`` (for CSP), or ``None`` when it is not a valid return
    URL. The port is left out when it is the scheme's default.
    """
    try:
        return _parse(url).origin
    except ReturnUrlError:
        return None


def _parse_valid(entries: Sequence[str]) -> Iterator[_Url]:
    for entry in entries:
        try:
            yield _parse(entry)
        except ReturnUrlError:
            continue


@functools.lru_cache(maxsize=1024)
def _parse(url: str) -> _Url:
    """Split ``url`` into its compared parts, refusing anything ambiguous or unsafe.

    Cached (a refusal is not): a call-up parses its customer's allowed URLs, which are the
    same every time, and its own return URL three times (the check, the log's origin, the log
    line)."""
    _check_text(url)
    try:
        parts = urlsplit(url)
    except ValueError:
        raise ReturnUrlError(N_("%(name)s is not a valid URL")) from None
    if parts.scheme not in _DEFAULT_PORTS:
        raise ReturnUrlError(N_("%(name)s is not an absolute http(s) URL"))
    if "@" in parts.netloc:
        raise ReturnUrlError(N_("%(name)s contains user information (user@host)"))
    host, port = _split_netloc(parts.netloc)
    if _has_dot_segment(parts.path):
        raise ReturnUrlError(N_("%(name)s path contains a dot-segment (/./ or /../)"))
    effective_port = _DEFAULT_PORTS[parts.scheme] if port is None else port
    return _Url(parts.scheme, host, effective_port, parts.path or "/")


def _check_text(url: str) -> None:
    """Refuse characters that browsers strip, servers read differently, or the eye misses."""
    if not url:
        raise ReturnUrlError(N_("%(name)s is missing"))
    if len(url) > MAX_LENGTH:
        raise ReturnUrlError(N_("%(name)s is longer than %(max)s characters"), max=MAX_LENGTH)
    if url != url.strip():
        raise ReturnUrlError(N_("%(name)s has leading or trailing whitespace"))
    if not _plain_ascii(url) and any(_is_unsafe_char(char) for char in url):
        raise ReturnUrlError(N_("%(name)s contains a space, a control character or a backslash"))
    if "#" in url:
        raise ReturnUrlError(N_("%(name)s contains a fragment (#...)"))


def _plain_ascii(url: str) -> bool:
    """The common case, decided at once: printable ASCII without space or backslash."""
    return url.isascii() and url.isprintable() and " " not in url and "\\" not in url


def _is_unsafe_char(char: str) -> bool:
    return char == "\\" or char.isspace() or unicodedata.category(char) in ("Cc", "Cf")


def _split_netloc(netloc: str) -> tuple[str, int | None]:
    """Host and port of an authority without user info (``None``: no port given)."""
    if netloc.startswith("["):
        address, _, rest = netloc[1:].partition("]")
        host = _ipv6_host(address)
        if rest and not rest.startswith(":"):
            raise ReturnUrlError(N_("%(name)s has an invalid port"))
        port_text = rest[1:] if rest else None
    else:
        host, colon, port_text = netloc.partition(":")
        host = _host_name(host)
        port_text = port_text if colon else None
    return host, None if port_text is None else _port(port_text)


def _ipv6_host(address: str) -> str:
    try:
        parsed = ipaddress.IPv6Address(address)
    except ValueError:
        parsed = None
    # A zone id (fe80::1%eth0) names a network interface of whichever machine runs the browser.
    if parsed is None or parsed.scope_id:
        raise ReturnUrlError(N_("%(name)s host is not a valid IPv6 address"))
    return f"[{parsed.compressed}]"


def _host_name(host: str) -> str:
    if not host:
        raise ReturnUrlError(N_("%(name)s has no host"))
    if not host.isascii():
        raise ReturnUrlError(
            N_("%(name)s host is not plain ASCII (international host names must be sent as xn--)")
        )
    host = host.lower()
    if not _HOST_NAME.fullmatch(host):
        raise ReturnUrlError(N_("%(name)s host %(host)s is not a valid host name"), host=host)
    return host


def _port(text: str) -> int:
    if not _PORT.fullmatch(text) or not 0 < int(text) < 65536:
        raise ReturnUrlError(N_("%(name)s has an invalid port"))
    return int(text)


def _has_dot_segment(path: str) -> bool:
    """Whether ``path`` has a ``.`` or ``..`` segment, also percent-encoded (even twice).

    Segment parameters are ignored (``/..;/`` is ``/../`` to some servers) and backslashes count
    as separators, as they do for browsers and some servers.
    """
    decoded = _unquote_fully(path)
    segments = re.split(r"[/\\]", decoded)
    return any(segment.split(";")[0] in (".", "..") for segment in segments)


def _unquote_fully(text: str) -> str:
    while (decoded := unquote(text)) != text:
        text = decoded
    return text


def _path_is_under(path: str, prefix: str) -> bool:
    """Whether ``path`` is ``prefix`` or below it, at a segment boundary (case-sensitive)."""
    if prefix.endswith("/"):
        return path.startswith(prefix)
    return path == prefix or path.startswith(prefix + "/")
