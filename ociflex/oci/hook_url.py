"""Checking the HOOK_URL of a call-up against the prefixes a customer allows.

The employee's browser posts the basket (names, e-mail addresses, cost centres) to HOOK_URL, so
whoever crafts a punch-out link chooses where that data goes, or runs script with a
``javascript:`` URL. A HOOK_URL is therefore accepted only when it is unambiguous (no user info,
no dot-segments, no characters that browsers and servers read differently) and falls under one
of the customer's allowed entries. The comparison is by parsed scheme, host, port and path, never
by string prefix: ``http://127.0.0.1:5000.evil.example/`` starts with ``http://127.0.0.1:5000``.
"""

import functools
import ipaddress
import re
import unicodedata
from collections.abc import Iterator, Sequence
from typing import NamedTuple
from urllib.parse import unquote, urlsplit

from ociflex.text import N_

#: The pseudo-URL by which SAP GUI's embedded browser takes the basket instead of an HTTP post.
SAPEVENT = "SAPEVENT:POST"

#: Longest HOOK_URL accepted; ERPs send a few hundred characters including their session ids.
MAX_LENGTH = 4096

_DEFAULT_PORTS = {"http": 80, "https": 443}
_LABEL = r"[a-z0-9_](?:[a-z0-9_-]*[a-z0-9_])?"
_HOST_NAME = re.compile(rf"{_LABEL}(?:\.{_LABEL})*")
_PORT = re.compile(r"[0-9]{1,5}")


class HookUrlError(ValueError):
    """A HOOK_URL that ociflex will not post a basket to.

    ``message`` is a catalogue text with ``%(name)s`` parameters, translated where it is shown;
    ``reason`` is the English text, for logs and the ERP simulator.
    """

    def __init__(self, message: str, **params: object) -> None:
        self.message = message
        self.params = params
        self.reason = message % params
        super().__init__(self.reason)


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


def check_hook_url(hook_url: str, allowed: Sequence[str]) -> None:
    """Raise :class:`HookUrlError` unless ``hook_url`` is safe and under one of ``allowed``.

    The HOOK_URL's own query string is allowed (ERPs put their session ids there) and plays no
    part in the comparison. Entries of ``allowed`` that are not valid themselves match nothing.
    """
    if _is_sapevent(hook_url):
        if not any(_is_sapevent(entry) for entry in allowed):
            raise HookUrlError(
                N_("HOOK_URL %(url)s (SAP GUI) is not allowed for this customer"), url=SAPEVENT
            )
        return
    url = _parse(hook_url)
    if not any(url.is_under(entry) for entry in _parse_valid(allowed)):
        raise HookUrlError(
            N_("HOOK_URL %(url)s is not in the list allowed for this customer"),
            url=url.origin + url.path,
        )


def origin_of(url: str) -> str | None:
    """``scheme://host[:port]`` of ``url`` (for CSP), or ``None`` when it is not a valid HOOK_URL.

    The port is left out when it is the scheme's default.
    """
    try:
        return _parse(url).origin
    except HookUrlError:
        return None


def _is_sapevent(url: str) -> bool:
    # isascii() first: str.upper() maps some non-ASCII letters to ASCII ones ("ſ" -> "S").
    return url.isascii() and url.upper() == SAPEVENT


def _parse_valid(entries: Sequence[str]) -> Iterator[_Url]:
    for entry in entries:
        try:
            yield _parse(entry)
        except HookUrlError:
            continue


@functools.lru_cache(maxsize=1024)
def _parse(url: str) -> _Url:
    """Split ``url`` into its compared parts, refusing anything ambiguous or unsafe.

    Cached (a refusal is not): a call-up parses its customer's allowed HOOK_URLs, which are
    the same every time, and its own HOOK_URL three times (the check, the log's origin, the
    log line)."""
    _check_text(url)
    try:
        parts = urlsplit(url)
    except ValueError:
        raise HookUrlError(N_("HOOK_URL is not a valid URL")) from None
    if parts.scheme not in _DEFAULT_PORTS:
        raise HookUrlError(N_("HOOK_URL is not an absolute http(s) URL"))
    if "@" in parts.netloc:
        raise HookUrlError(N_("HOOK_URL contains user information (user@host)"))
    host, port = _split_netloc(parts.netloc)
    if _has_dot_segment(parts.path):
        raise HookUrlError(N_("HOOK_URL path contains a dot-segment (/./ or /../)"))
    effective_port = _DEFAULT_PORTS[parts.scheme] if port is None else port
    return _Url(parts.scheme, host, effective_port, parts.path or "/")


def _check_text(url: str) -> None:
    """Refuse characters that browsers strip, servers read differently, or the eye misses."""
    if not url:
        raise HookUrlError(N_("HOOK_URL is missing"))
    if len(url) > MAX_LENGTH:
        raise HookUrlError(N_("HOOK_URL is longer than %(max)s characters"), max=MAX_LENGTH)
    if url != url.strip():
        raise HookUrlError(N_("HOOK_URL has leading or trailing whitespace"))
    if not _plain_ascii(url) and any(_is_unsafe_char(char) for char in url):
        raise HookUrlError(N_("HOOK_URL contains a space, a control character or a backslash"))
    if "#" in url:
        raise HookUrlError(N_("HOOK_URL contains a fragment (#...)"))


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
            raise HookUrlError(N_("HOOK_URL has an invalid port"))
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
        raise HookUrlError(N_("HOOK_URL host is not a valid IPv6 address"))
    return f"[{parsed.compressed}]"


def _host_name(host: str) -> str:
    if not host:
        raise HookUrlError(N_("HOOK_URL has no host"))
    if not host.isascii():
        raise HookUrlError(
            N_("HOOK_URL host is not plain ASCII (international host names must be sent as xn--)")
        )
    host = host.lower()
    if not _HOST_NAME.fullmatch(host):
        raise HookUrlError(N_("HOOK_URL host %(host)s is not a valid host name"), host=host)
    return host


def _port(text: str) -> int:
    if not _PORT.fullmatch(text) or not 0 < int(text) < 65536:
        raise HookUrlError(N_("HOOK_URL has an invalid port"))
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
