"""Secrets agreed with a buyer (OCI's company password, cXML's SharedSecret): never in the file.

A file names an environment variable that holds the secret (``*_env``), read when the file is
loaded so that a missing one shows when ociflex starts, not at the first punch-out; or it keeps
a werkzeug hash of it (``*_hash``). A key holding the secret itself is refused.
"""

import re
from collections.abc import Mapping

from ociflex.customers.checks import Checker
from ociflex.customers.model import Secret
from ociflex.customers.yaml_nodes import key_path

ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
HASH_HOWTO = (
    'make one with: python -c "from werkzeug.security import generate_password_hash as g; '
    "print(g('...'))\""
)


def no_secrets_here(key: str, env_key: str, hash_key: str, what: str) -> str:
    """The message for a key (``password``) that would hold the secret itself."""
    return (
        f"secrets never sit in a customer file: remove {key} and put the {what} in an "
        f"environment variable named by {env_key}, or its hash in {hash_key}; " + HASH_HOWTO
    )


def read_secret(
    check: Checker,
    entries: Mapping[str, object],
    section: str,
    keys: tuple[str, str],
    what: str,
    example_env: str,
    environ: Mapping[str, str],
) -> Secret | None:
    """The secret of ``section``, named by exactly one of ``keys`` (the env key, the hash key);
    ``what`` and ``example_env`` word the messages ("the company password", ACME_OCI_PASSWORD)."""
    env_key, hash_key = keys
    if env_key in entries and hash_key in entries:
        check.report(section, f"give {env_key} or {hash_key}, not both; remove one")
        return None
    if env_key not in entries and hash_key not in entries:
        check.report(
            key_path(section, env_key),
            f"required key is missing: name the environment variable that holds {what} "
            f"({env_key}: {example_env}), or give {hash_key}; " + HASH_HOWTO,
        )
        return None
    if env_key in entries:
        return _from_environment(check, entries[env_key], key_path(section, env_key), keys, environ)
    return _from_hash(check, entries[hash_key], key_path(section, hash_key))


def _from_environment(
    check: Checker,
    value: object,
    path: str,
    keys: tuple[str, str],
    environ: Mapping[str, str],
) -> Secret | None:
    name = check.string(value, path)
    if name is None:
        return None
    if not ENV_NAME.fullmatch(name):
        check.report(
            path,
            f"{name!r} is not an environment variable name; use letters, digits and '_', "
            "e.g. ACME_OCI_PASSWORD",
        )
        return None
    secret = environ.get(name)
    if not secret:
        check.report(path, f"environment variable {name} is not set; set it or use {keys[1]}")
        return None
    return Secret(env=name, value=secret)


def _from_hash(check: Checker, value: object, path: str) -> Secret | None:
    secret_hash = check.string(value, path)
    if secret_hash is None:
        return None
    if not secret_hash.startswith(("scrypt:", "pbkdf2:")):
        check.report(
            path,
            "not a werkzeug password hash (those start with scrypt: or pbkdf2:); " + HASH_HOWTO,
        )
        return None
    return Secret(hash=secret_hash)
