"""OCI's part of a customer file: ``login``, ``hook_urls``, ``charset``, each field's ``param``,
and the NEW_ITEM ``basket`` with its ``max_lengths`` (:mod:`ociflex.oci.customer_basket`).

A customer punches out with OCI when its file has ``login``. The ``basket`` and ``max_lengths``
are checked in any case (a cXML customer's file may carry them): a misspelt NEW_ITEM name is a
mistake whether or not it is ever sent.
"""

from collections.abc import Mapping

from ociflex.customers.checks import Checker
from ociflex.customers.sections.access import read_return_urls
from ociflex.customers.sections.fields import BUILTIN_FIELDS, field_names
from ociflex.customers.sections.protocol import FileParts, ProtocolSection, SectionReading
from ociflex.customers.sections.secrets import no_secrets_here, read_secret
from ociflex.customers.yaml_nodes import key_path
from ociflex.oci.config import OCI, Login, OciSettings
from ociflex.oci.customer_basket import (
    check_value_lengths,
    check_whole_values,
    limit_fields_by_basket,
    read_basket,
    read_max_lengths,
)
from ociflex.oci.encodings import form_codec
from ociflex.oci.hook_url import SAPEVENT, is_sapevent
from ociflex.oci.limits import NEW_ITEM_MAX_LENGTHS

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
#: The parameters of the fields every customer has, where the file names none.
BUILTIN_PARAMS = {"email": "oci_usermail", "full_name": "oci_userfullname"}

MISSING_HOOK_URLS = "where baskets may go back to, e.g. hook_urls: [https://erp.example.com/oci/]"


def read(parts: FileParts) -> SectionReading:
    check, top = parts.check, parts.top
    max_lengths = read_max_lengths(check, top.get("max_lengths", {}))
    limits = {**NEW_ITEM_MAX_LENGTHS, **max_lengths}
    basket = read_basket(
        check, top.get("basket", {}), field_names(top.get("fields")), limits, parts.cart
    )
    check_whole_values(check, parts.fields, parts.field_specs, basket, limits)
    fields = limit_fields_by_basket(parts.fields, basket, limits)
    check_value_lengths(
        check, basket, limits, fields, (parts.vehicles, parts.locations, parts.max_days)
    )
    field_limits = {
        name: field.max_length
        for name, field in fields.items()
        if field.max_length < parts.fields[name].max_length
    }
    if "login" not in top:
        for key in ("hook_urls", "charset"):
            if key in top:
                check.report(
                    key,
                    f"{key} belongs to the OCI punch-out, which needs login too: add login, or "
                    f"remove {key}",
                )
        return SectionReading(None, field_limits)
    taken = reserved_params()
    login = _read_login(check, top["login"], parts.environ, taken)
    params = _read_params(check, parts.field_specs, taken)
    if "hook_urls" in top:
        hook_urls = read_return_urls(
            check, top["hook_urls"], "hook_urls", "HOOK_URL", (SAPEVENT, is_sapevent)
        )
    else:
        check.report("hook_urls", f"required key is missing: {MISSING_HOOK_URLS}")
        hook_urls = ()
    charset = _charset(check, top.get("charset", "utf-8"))
    if login is None or params is None or not hook_urls:
        return SectionReading(None, field_limits)
    settings = OciSettings(
        login=login,
        hook_urls=hook_urls,
        params=params,
        basket=basket,
        max_lengths=max_lengths,
        default_charset=charset,
    )
    return SectionReading(settings, field_limits)


OCI_SECTION = ProtocolSection(
    name=OCI,
    keys=("login", "hook_urls", "charset", "basket", "max_lengths"),
    field_keys=("param",),
    marker="login",
    how_to_use="login and hook_urls (SAP OCI)",
    read=read,
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


def _read_login(
    check: Checker, value: object, environ: Mapping[str, str], taken: dict[str, str]
) -> Login | None:
    required = {"username": "the company's user name as the ERP sends it, e.g. username: acme"}
    forbidden = {
        "password": no_secrets_here("password", "password_env", "password_hash", "company password")
    }
    entries = check.mapping(value, "login", LOGIN_KEYS, required=required, forbidden=forbidden)
    if entries is None:
        return None
    username_param = claim_param(
        check, entries.get("username_param", "USERNAME"), "login.username_param", taken
    )
    password_param = claim_param(
        check, entries.get("password_param", "PASSWORD"), "login.password_param", taken
    )
    username = check.string(entries["username"], "login.username")
    password = read_secret(
        check,
        entries,
        "login",
        ("password_env", "password_hash"),
        "the company password",
        "ACME_OCI_PASSWORD",
        environ,
    )
    if username_param is None or password_param is None or username is None or password is None:
        return None
    return Login(username_param, password_param, username, password)


def _read_params(
    check: Checker, specs: Mapping[str, Mapping[str, object]], taken: dict[str, str]
) -> dict[str, str] | None:
    """Field name -> its call-up parameter, claimed (after the login's); None when one is
    missing or taken."""
    params: dict[str, str] = {}
    complete = True
    for name, spec in specs.items():
        path = key_path(key_path("fields", name), "param")
        if "param" not in spec and name not in BUILTIN_FIELDS:
            check.report(
                path, "required key is missing: the OCI parameter, e.g. param: KOSTENPLAATS"
            )
            complete = False
            continue
        param = claim_param(check, spec.get("param", BUILTIN_PARAMS.get(name)), path, taken)
        if param is None:
            complete = False
        else:
            params[name] = param
    return params if complete else None


def _charset(check: Checker, value: object) -> str:
    """The basket's charset when the call-up names none; HTML forms need an ASCII superset."""
    charset = check.string(value, "charset")
    if charset is None:
        return "utf-8"
    if form_codec(charset) is None:
        check.report(
            "charset",
            f"{charset!r} is not a charset a browser form can be posted in; use utf-8 or "
            "iso-8859-1",
        )
    return charset
