"""Settings from environment variables, resolved once when the app is created."""

import secrets
from collections.abc import Mapping
from datetime import timedelta
from pathlib import Path
from typing import Any

from email_validator import EmailNotValidError, validate_email

ENVIRONMENTS = ("development", "testing", "production")

#: The longest an operator stays logged in, however active: the signed session cookie and the
#: server-side session record both end then (see ociflex/ops/sessions.py).
OPS_SESSION_MAX_AGE = timedelta(hours=12)

#: The transfer log keeps personal data: never longer than ten years, whatever is set.
MAX_TRANSFER_RETENTION_DAYS = 3650
#: The longest a cXML StartPage URL may stay valid, in seconds: it opens a booking form for a
#: named employee, so it must not live much longer than the moment it is handed out.
MAX_START_PAGE_AGE = 3600


class SettingsError(RuntimeError):
    """The environment does not describe a service that can safely start."""


def database_url(raw: str | None, instance_path: Path) -> str:
    """Normalise ``DATABASE_URL`` to a SQLAlchemy URL, psycopg 3 for PostgreSQL.

    Hosting platforms hand out ``postgres://`` URLs, which SQLAlchemy no longer accepts, and a
    bare ``postgresql://`` would pick psycopg2, which ociflex does not ship.
    """
    if not raw:
        return f"sqlite:///{instance_path / 'ociflex.sqlite3'}"
    for prefix in ("postgres://", "postgresql://"):
        if raw.startswith(prefix):
            return "postgresql+psycopg://" + raw[len(prefix) :]
    return raw


def _development_secret(instance_path: Path) -> str:
    """A key kept in the instance folder, so tokens survive restarts of the dev server."""
    key_file = instance_path / "dev-secret-key"
    if not key_file.exists():
        instance_path.mkdir(parents=True, exist_ok=True)
        key_file.write_text(secrets.token_hex(32))
        key_file.chmod(0o600)
    return key_file.read_text().strip()


#: A production key shorter than this, or with fewer distinct characters, is refused: tokens
#: signed with it (punch-outs, operator sessions) could be forged by guessing it.
MIN_SECRET_KEY_LENGTH = 32
MIN_SECRET_KEY_DISTINCT = 10
_MAKE_A_KEY = "python -c 'import secrets; print(secrets.token_hex(32))'"


def _refuse_weak_key(name: str, key: str) -> None:
    if len(key) < MIN_SECRET_KEY_LENGTH or len(set(key)) < MIN_SECRET_KEY_DISTINCT:
        raise SettingsError(
            f"{name} is too weak for production: use at least {MIN_SECRET_KEY_LENGTH} random "
            f"characters, e.g. the output of {_MAKE_A_KEY}"
        )


def _debug_requested(environ: Mapping[str, str]) -> bool:
    """Whether ``FLASK_DEBUG`` asks for debug mode, read as Flask reads it."""
    raw = environ.get("FLASK_DEBUG", "")
    return bool(raw) and raw.strip().lower() not in ("0", "false", "no")


def _int(environ: Mapping[str, str], name: str, default: int) -> int:
    raw = environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise SettingsError(f"{name} must be a whole number, not {raw!r}") from None


TRUE_WORDS = ("1", "true", "yes", "on")
FALSE_WORDS = ("0", "false", "no", "off", "")

#: Placeholders for Euromobil's contact details in e-mails: the deployer sets the real ones.
DEFAULT_CONTACT_PHONE = "+31 20 000 0000"
DEFAULT_CONTACT_EMAIL = "operations@euromobil.example"


def _bool(environ: Mapping[str, str], name: str, default: bool = False) -> bool:
    raw = environ.get(name)
    if raw is None:
        return default
    word = raw.strip().lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise SettingsError(f"{name} must be 1/true/yes or 0/false/no, not {raw!r}")


def _single_line(environ: Mapping[str, str], name: str, default: str) -> str:
    """A value that ends up in a mail header or a mail's text: one line, no control characters."""
    value = environ.get(name, "").strip() or default
    if any(ord(char) < 32 or ord(char) == 127 for char in value):
        raise SettingsError(f"{name} must be a single line without control characters")
    return value


def _email(environ: Mapping[str, str], name: str, default: str | None) -> str | None:
    raw = environ.get(name, "").strip()
    if not raw:
        return default
    try:
        validate_email(raw, check_deliverability=False)
    except EmailNotValidError as error:
        raise SettingsError(f"{name} is not a valid e-mail address: {error}") from None
    return raw


def mail_settings(environ: Mapping[str, str]) -> dict[str, Any]:
    """Flask-Mail's standard variables, the socket timeout and the texts mails carry."""
    use_tls, use_ssl = _bool(environ, "MAIL_USE_TLS"), _bool(environ, "MAIL_USE_SSL")
    if use_tls and use_ssl:
        raise SettingsError(
            "MAIL_USE_TLS (STARTTLS, port 587) and MAIL_USE_SSL (TLS from the start, port 465) "
            "exclude each other: set one of them"
        )
    timeout = _int(environ, "MAIL_TIMEOUT", 10)
    if timeout <= 0:
        raise SettingsError("MAIL_TIMEOUT must be a number of seconds above 0")
    contact_email = _email(environ, "OCIFLEX_CONTACT_EMAIL", DEFAULT_CONTACT_EMAIL)
    public_url = environ.get("OCIFLEX_PUBLIC_URL", "").strip().rstrip("/") or None
    if public_url and not public_url.startswith(("https://", "http://")):
        raise SettingsError(f"OCIFLEX_PUBLIC_URL must start with https://, not {public_url!r}")
    return {
        "MAIL_SERVER": environ.get("MAIL_SERVER", "").strip() or "localhost",
        "MAIL_PORT": _int(environ, "MAIL_PORT", 25),
        "MAIL_USE_TLS": use_tls,
        "MAIL_USE_SSL": use_ssl,
        "MAIL_USERNAME": environ.get("MAIL_USERNAME") or None,
        "MAIL_PASSWORD": environ.get("MAIL_PASSWORD") or None,
        "MAIL_DEFAULT_SENDER": _single_line(
            environ, "MAIL_DEFAULT_SENDER", f"Euromobil FlexFleet <{contact_email}>"
        ),
        # Flask-Mail would not send at all when TESTING is on; the tests use a real server.
        "MAIL_SUPPRESS_SEND": _bool(environ, "MAIL_SUPPRESS_SEND"),
        "MAIL_TIMEOUT": timeout,
        "OCIFLEX_OPS_EMAIL": _email(environ, "OCIFLEX_OPS_EMAIL", None),
        "OCIFLEX_CONTACT_PHONE": _single_line(
            environ, "OCIFLEX_CONTACT_PHONE", DEFAULT_CONTACT_PHONE
        ),
        "OCIFLEX_CONTACT_EMAIL": contact_email,
        "OCIFLEX_PUBLIC_URL": public_url,
    }


def _int_between(
    environ: Mapping[str, str], name: str, default: int, low: int, high: int, unit: str = ""
) -> int:
    """The whole number ``name`` (``default`` when unset); refused outside ``low``-``high``."""
    value = _int(environ, name, default)
    if not low <= value <= high:
        raise SettingsError(f"{name} must be between {low} and {high}{unit}, not {value}")
    return value


def _secret_keys(
    environ: Mapping[str, str], env: str, instance_path: Path
) -> tuple[str, list[str]]:
    """SECRET_KEY and SECRET_KEY_FALLBACKS; production refuses a missing or weak key, and
    elsewhere a missing SECRET_KEY is made once and kept in the instance folder."""
    secret_key = environ.get("SECRET_KEY", "")
    if not secret_key:
        if env == "production":
            raise SettingsError(
                f"SECRET_KEY is not set. Set it to a long random value ({_MAKE_A_KEY}), "
                "or set OCIFLEX_ENV=development on a developer machine."
            )
        secret_key = _development_secret(instance_path)
    fallbacks = [k.strip() for k in environ.get("SECRET_KEY_FALLBACKS", "").split(",") if k.strip()]
    if env == "production":
        _refuse_weak_key("SECRET_KEY", secret_key)
        for fallback in fallbacks:
            _refuse_weak_key("A key in SECRET_KEY_FALLBACKS", fallback)
    return secret_key, fallbacks


def from_environment(
    environ: Mapping[str, str], instance_path: Path, *, key_required: bool = True
) -> dict[str, Any]:
    """Flask config values for ``environ``; raises :class:`SettingsError` on unsafe settings.

    Without ``key_required`` (a ``flask`` command that may sign nothing, see
    :func:`ociflex.create_app`), a production key that is missing or too weak is not refused
    yet: ``SECRET_KEY`` is None, so nothing can be signed with it, and
    ``OCIFLEX_SETTINGS_ERROR`` holds the refusal for the commands that need the service's
    settings (:mod:`ociflex.cli`). It is None when the settings are complete.
    """
    env = environ.get("OCIFLEX_ENV", "production")
    if env not in ENVIRONMENTS:
        raise SettingsError(f"OCIFLEX_ENV must be one of {', '.join(ENVIRONMENTS)}, not {env!r}")
    secret_key: str | None
    deferred: SettingsError | None = None
    try:
        secret_key, fallbacks = _secret_keys(environ, env, instance_path)
    except SettingsError as error:
        if key_required:
            raise
        secret_key, fallbacks, deferred = None, [], error
    if env == "production" and _debug_requested(environ):
        raise SettingsError(
            "FLASK_DEBUG is on in production: its debugger lets anyone who reaches an error "
            "page run code on the server. Unset FLASK_DEBUG (or use OCIFLEX_ENV=development)."
        )
    customers_dir = Path(environ.get("OCIFLEX_CUSTOMERS_DIR", "config/customers"))
    dev_tools = environ.get("OCIFLEX_DEV_TOOLS", "1" if env == "development" else "0") == "1"
    retention_days = _int_between(
        environ, "OCIFLEX_TRANSFER_RETENTION_DAYS", 90, 1, MAX_TRANSFER_RETENTION_DAYS
    )
    start_page_max_age = _int_between(
        environ, "OCIFLEX_START_PAGE_MAX_AGE", 600, 10, MAX_START_PAGE_AGE, " seconds"
    )
    max_minutes = int(OPS_SESSION_MAX_AGE.total_seconds() // 60)
    idle_minutes = _int_between(environ, "OCIFLEX_OPS_IDLE_MINUTES", 30, 1, max_minutes)
    return {
        "OCIFLEX_ENV": env,
        "SECRET_KEY": secret_key,
        "SECRET_KEY_FALLBACKS": fallbacks,
        "OCIFLEX_SETTINGS_ERROR": deferred,
        "DATABASE_URL": database_url(environ.get("DATABASE_URL"), instance_path),
        "OCIFLEX_CUSTOMERS_DIR": customers_dir.resolve(),
        "OCIFLEX_DEV_TOOLS": dev_tools,
        "OCIFLEX_PROXY_HOPS": _int_between(environ, "OCIFLEX_PROXY_HOPS", 0, 0, 5),
        # An employee may keep the booking form open for a while inside the ERP.
        "OCIFLEX_PUNCHOUT_MAX_AGE": _int(environ, "OCIFLEX_PUNCHOUT_MAX_AGE", 4 * 3600),
        # A cXML StartPage is opened right after the setup request, or never.
        "OCIFLEX_START_PAGE_MAX_AGE": start_page_max_age,
        "MAX_CONTENT_LENGTH": _int(environ, "OCIFLEX_MAX_CONTENT_LENGTH", 64 * 1024),
        # The transfer log holds personal data: entries older than this are pruned.
        "OCIFLEX_TRANSFER_RETENTION_DAYS": retention_days,
        # Its entries wait this long to be stored together (0: at once, as the tests check
        # them right after a request; see ociflex/transfer_writer.py).
        "OCIFLEX_TRANSFER_LOG_FLUSH_SECONDS": _int_between(
            environ,
            "OCIFLEX_TRANSFER_LOG_FLUSH_SECONDS",
            0 if env == "testing" else 1,
            0,
            60,
            " seconds",
        ),
        # Operators are logged out after this many minutes without a request.
        "OCIFLEX_OPS_IDLE_MINUTES": idle_minutes,
        # Flask's session cookie is used only by the operations pages under /ops/ (the
        # punch-out keeps its state in a signed token, as framed pages often get no cookies).
        # It holds the operator's server-side session token and the CSRF secret.
        "SESSION_COOKIE_NAME": "ociflex_ops",
        "SESSION_COOKIE_PATH": "/ops",
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        # The development server speaks plain HTTP; everything else is behind HTTPS.
        "SESSION_COOKIE_SECURE": env != "development",
        # A browser-session cookie whose signature also expires after this.
        "PERMANENT_SESSION_LIFETIME": OPS_SESSION_MAX_AGE,
        "TESTING": env == "testing",
        **mail_settings(environ),
    }
