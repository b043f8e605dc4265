"""Who may punch out, and where baskets may go: ``login``, ``hook_urls``, ``frame_ancestors``."""

import re
from collections.abc import Iterator, Mapping, Sequence
from urllib.parse import urlsplit

from ociflex.customers.checks import Checker
from ociflex.customers.model import Login
from ociflex.customers.yaml_nodes import item_path
from ociflex.oci.hook_url import SAPEVENT, HookUrlError, check_hook_url, origin_of

#: Parameters of OCI itself (call-up and FUNCTION calls); neither a field nor the login may use
#: them. Like all parameter names, they are compared ignoring case.
OCI_PARAMS = (
    "HOOK_URL",
    "~OKCODE",
    "~TARGET",
    "~CALLER",
    "RETURNTARGET",
    "OCI_VERSION",
    "OPI_VERSION",
    "HTTP_CONTENT_CHARSET",
    "FUNCTION",
    "PRODUCTID",
    "QUANTITY",
    "SEARCHSTRING",
)
LOGIN_KEYS = ("username_param", "password_param", "username", "password_env", "password_hash")
ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
#: YAML reads ``- 'self'`` as the text ``self``: both spellings mean the CSP keyword.
CSP_KEYWORDS = {"'self'": "'self'", "self": "'self'", "'none'": "'none'", "none": "'none'"}

HASH_HOWTO = (
    'make one with: python -c "from werkzeug.security import generate_password_hash as g; '
    "print(g('...'))\""
)
NO_SECRETS = (
    "secrets never sit in a customer file: remove password and put the company password in an "
    "environment variable named by password_env, or its hash in password_hash; " + HASH_HOWTO
)


def reserved_params() -> dict[str, str]:
    """Parameter names (casefolded) already taken before the file claims any, by whom."""
    return {param.casefold(): "a standard OCI parameter" for param in OCI_PARAMS}


def claim_param(check: Checker, value: object, path: str, taken: dict[str, str]) -> str | None:
    """An OCI parameter name, claimed for ``path``: no two values can share one parameter."""
    param = check.string(value, path)
    if param is None:
        return None
    if any(char.isspace() for char in param):
        check.report(path, f"{param!r}: parameter names contain no spaces")
        return None
    owner = taken.setdefault(param.casefold(), f"used by {path}")
    if owner != f"used by {path}":
        check.report(
            path,
            f"parameter {param!r} is already {owner} (names are compared ignoring case); "
            "every parameter carries one value: choose another one",
        )
        return None
    return param


def read_login(
    check: Checker, value: object, environ: Mapping[str, str], taken: dict[str, str]
) -> Login | None:
    required = {"username": "the company's user name as the ERP sends it, e.g. username: acme"}
    entries = check.mapping(
        value, "login", LOGIN_KEYS, required=required, forbidden={"password": NO_SECRETS}
    )
    if entries is None:
        return None
    username_param = claim_param(
        check, entries.get("username_param", "USERNAME"), "login.username_param", taken
    )
    password_param = claim_param(
        check, entries.get("password_param", "PASSWORD"), "login.password_param", taken
    )
    username = check.string(entries["username"], "login.username")
    _check_one_secret(check, entries)
    password_env = _password_env(check, entries)
    password = _password(check, password_env, environ) if password_env else None
    password_hash = _password_hash(check, entries)
    if username_param is None or password_param is None or username is None:
        return None
    return Login(username_param, password_param, username, password_env, password_hash, password)


def _check_one_secret(check: Checker, entries: Mapping[str, object]) -> None:
    if "password_env" in entries and "password_hash" in entries:
        check.report("login", "give password_env or password_hash, not both; remove one")
    elif "password_env" not in entries and "password_hash" not in entries:
        check.report(
            "login.password_env",
            "required key is missing: name the environment variable that holds the company "
            "password (password_env: ACME_OCI_PASSWORD), or give password_hash; " + HASH_HOWTO,
        )


def _password_env(check: Checker, entries: Mapping[str, object]) -> str | None:
    if "password_env" not in entries:
        return None
    name = check.string(entries["password_env"], "login.password_env")
    if name is not None and not ENV_NAME.match(name):
        check.report(
            "login.password_env",
            f"{name!r} is not an environment variable name; use letters, digits and '_', "
            "e.g. ACME_OCI_PASSWORD",
        )
        return None
    return name


def _password(check: Checker, name: str, environ: Mapping[str, str]) -> str | None:
    """The secret in environment variable ``name``, read now so that a missing one shows when
    ociflex starts, not when the first employee punches out."""
    password = environ.get(name)
    if not password:
        check.report(
            "login.password_env",
            f"environment variable {name} is not set; set it or use password_hash",
        )
    return password


def _password_hash(check: Checker, entries: Mapping[str, object]) -> str | None:
    if "password_hash" not in entries:
        return None
    password_hash = check.string(entries["password_hash"], "login.password_hash")
    if password_hash is not None and not password_hash.startswith(("scrypt:", "pbkdf2:")):
        check.report(
            "login.password_hash",
            "not a werkzeug password hash (those start with scrypt: or pbkdf2:); " + HASH_HOWTO,
        )
        return None
    return password_hash


def read_hook_urls(check: Checker, value: object) -> tuple[str, ...]:
    items = check.sequence(value, "hook_urls", non_empty=True) or []
    urls = [_hook_url(check, item, item_path("hook_urls", i)) for i, item in enumerate(items)]
    return tuple(url for url in urls if url is not None)


def _hook_url(check: Checker, value: object, path: str) -> str | None:
    url = check.string(value, path)
    if url is None:
        return None
    reason = _url_problem(url)
    if reason is None and urlsplit(url).query:
        reason = "a query string (?...) plays no part in the comparison"
    if reason is not None:
        check.report(
            path,
            f"not a usable HOOK_URL prefix: {reason}; write it like "
            f"https://erp.example.com/sap/oci/ (no user@, no #, no ?), or {SAPEVENT}",
        )
        return None
    return url


def _url_problem(url: str) -> str | None:
    """What a call-up's HOOK_URL check would hold against ``url``: an entry that fails it would
    silently match nothing."""
    try:
        check_hook_url(url, (url,))
    except HookUrlError as error:
        return error.reason
    return None


def default_frame_ancestors(hook_urls: Sequence[str]) -> tuple[str, ...]:
    """The distinct origins of the http(s) ``hook_urls``: the ERP's pages are served there."""
    return tuple(dict.fromkeys(filter(None, map(origin_of, hook_urls))))


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
    reason = _url_problem(text)
    if reason is not None:
        return reason
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https"):
        return "not an http(s) address"
    if parts.path or parts.query:
        return f"it has a path; write {origin_of(text)}"
    return None


#: A domain name as written in an e-mail address, optionally ``*.`` for its subdomains.
_EMAIL_DOMAIN = re.compile(r"^(\*\.)?([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")


def read_email_domains(check: Checker, value: object) -> tuple[str, ...]:
    """``email_domains``: where requesters' e-mail addresses may be (lower-case, checked);
    none when the key is absent."""
    if value is None:
        return ()
    domains = []
    for path, text in _strings(check, value, "email_domains", non_empty=True):
        domain = text.strip().lower()
        if _EMAIL_DOMAIN.match(domain):
            domains.append(domain)
        else:
            check.report(
                path,
                f"{text!r} is not a domain name; write it as in an address after the @, like "
                "acme.example, or *.acme.example to allow its subdomains as well (an "
                "internationalised domain in its xn-- form)",
            )
    return tuple(dict.fromkeys(domains))
