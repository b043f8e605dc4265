"""Settings from environment variables, resolved once when the app is created."""

import secrets
from collections.abc import Mapping
from pathlib import Path
from typing import Any

ENVIRONMENTS = ("development", "testing", "production")


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


def _int(environ: Mapping[str, str], name: str, default: int) -> int:
    raw = environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise SettingsError(f"{name} must be a whole number, not {raw!r}") from None


def from_environment(environ: Mapping[str, str], instance_path: Path) -> dict[str, Any]:
    """Flask config values for ``environ``; raises :class:`SettingsError` on unsafe settings."""
    env = environ.get("OCIFLEX_ENV", "production")
    if env not in ENVIRONMENTS:
        raise SettingsError(f"OCIFLEX_ENV must be one of {', '.join(ENVIRONMENTS)}, not {env!r}")
    secret_key = environ.get("SECRET_KEY", "")
    if not secret_key:
        if env == "production":
            raise SettingsError(
                "SECRET_KEY is not set. Set it to a long random value "
                "(python -c 'import secrets; print(secrets.token_hex(32))'), "
                "or set OCIFLEX_ENV=development on a developer machine."
            )
        secret_key = _development_secret(instance_path)
    fallbacks = [k for k in environ.get("SECRET_KEY_FALLBACKS", "").split(",") if k.strip()]
    customers_dir = Path(environ.get("OCIFLEX_CUSTOMERS_DIR", "config/customers"))
    dev_tools = environ.get("OCIFLEX_DEV_TOOLS", "1" if env == "development" else "0") == "1"
    return {
        "OCIFLEX_ENV": env,
        "SECRET_KEY": secret_key,
        "SECRET_KEY_FALLBACKS": [k.strip() for k in fallbacks],
        "DATABASE_URL": database_url(environ.get("DATABASE_URL"), instance_path),
        "OCIFLEX_CUSTOMERS_DIR": customers_dir.resolve(),
        "OCIFLEX_DEV_TOOLS": dev_tools,
        # An employee may keep the booking form open for a while inside the ERP.
        "OCIFLEX_PUNCHOUT_MAX_AGE": _int(environ, "OCIFLEX_PUNCHOUT_MAX_AGE", 4 * 3600),
        "MAX_CONTENT_LENGTH": _int(environ, "OCIFLEX_MAX_CONTENT_LENGTH", 64 * 1024),
        "TESTING": env == "testing",
    }
