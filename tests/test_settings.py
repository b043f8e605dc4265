"""Settings from the environment: safe defaults, refusals that say what to do."""

from pathlib import Path

import pytest

from ociflex import create_app
from ociflex.settings import SettingsError, database_url, from_environment
from tests.conftest import PRODUCTION_SECRET_KEY


def test_production_refuses_to_start_without_secret_key(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="SECRET_KEY is not set"):
        from_environment({}, tmp_path)


def test_development_keeps_one_generated_key_across_restarts(tmp_path: Path) -> None:
    first = from_environment({"OCIFLEX_ENV": "development"}, tmp_path)["SECRET_KEY"]
    second = from_environment({"OCIFLEX_ENV": "development"}, tmp_path)["SECRET_KEY"]
    assert first == second
    assert len(first) >= 32


def test_unknown_environment_is_refused(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="OCIFLEX_ENV must be one of"):
        from_environment({"OCIFLEX_ENV": "prod", "SECRET_KEY": PRODUCTION_SECRET_KEY}, tmp_path)


def test_default_database_is_a_sqlite_file_in_the_instance_folder(tmp_path: Path) -> None:
    assert database_url(None, tmp_path) == f"sqlite:///{tmp_path / 'ociflex.sqlite3'}"


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("postgres://u:p@db/ociflex", "postgresql+psycopg://u:p@db/ociflex"),
        ("postgresql://u:p@db:5433/ociflex", "postgresql+psycopg://u:p@db:5433/ociflex"),
        ("postgresql+psycopg://u@db/x", "postgresql+psycopg://u@db/x"),
        ("sqlite:////var/lib/ociflex.db", "sqlite:////var/lib/ociflex.db"),
    ],
)
def test_database_urls_of_hosting_platforms_use_psycopg_3(given: str, expected: str) -> None:
    assert database_url(given, Path("/unused")) == expected


def test_dev_tools_are_off_in_production_unless_asked_for(tmp_path: Path) -> None:
    production = {"SECRET_KEY": PRODUCTION_SECRET_KEY}
    assert from_environment(production, tmp_path)["OCIFLEX_DEV_TOOLS"] is False
    asked = {**production, "OCIFLEX_DEV_TOOLS": "1"}
    assert from_environment(asked, tmp_path)["OCIFLEX_DEV_TOOLS"] is True
    assert from_environment({"OCIFLEX_ENV": "development"}, tmp_path)["OCIFLEX_DEV_TOOLS"]


def test_key_rotation_fallbacks_are_a_list(tmp_path: Path) -> None:
    old1, old2 = PRODUCTION_SECRET_KEY[::-1], PRODUCTION_SECRET_KEY.upper()
    config = from_environment(
        {"SECRET_KEY": "new-" + PRODUCTION_SECRET_KEY, "SECRET_KEY_FALLBACKS": f"{old1}, {old2}"},
        tmp_path,
    )
    assert config["SECRET_KEY_FALLBACKS"] == [old1, old2]


def test_numbers_must_be_numbers(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="OCIFLEX_PUNCHOUT_MAX_AGE must be a whole number"):
        from_environment(
            {"SECRET_KEY": PRODUCTION_SECRET_KEY, "OCIFLEX_PUNCHOUT_MAX_AGE": "4h"}, tmp_path
        )


def test_proxy_hops_are_a_small_number(tmp_path: Path) -> None:
    production = {"SECRET_KEY": PRODUCTION_SECRET_KEY}
    assert from_environment(production, tmp_path)["OCIFLEX_PROXY_HOPS"] == 0
    assert (
        from_environment({**production, "OCIFLEX_PROXY_HOPS": "1"}, tmp_path)["OCIFLEX_PROXY_HOPS"]
        == 1
    )
    with pytest.raises(SettingsError, match="OCIFLEX_PROXY_HOPS must be between 0 and 5"):
        from_environment({**production, "OCIFLEX_PROXY_HOPS": "9"}, tmp_path)


@pytest.mark.parametrize(
    "key",
    [
        pytest.param("short-but-varied-key", id="short"),
        pytest.param("x" * 64, id="one-character"),
        pytest.param("abababababababababababababababab", id="two-characters"),
    ],
)
def test_production_refuses_a_weak_secret_key(tmp_path: Path, key: str) -> None:
    with pytest.raises(SettingsError, match="SECRET_KEY is too weak for production"):
        from_environment({"SECRET_KEY": key}, tmp_path)


def test_production_refuses_a_weak_key_among_the_fallbacks(tmp_path: Path) -> None:
    environ = {
        "SECRET_KEY": PRODUCTION_SECRET_KEY,
        "SECRET_KEY_FALLBACKS": f"{PRODUCTION_SECRET_KEY[::-1]}, changeme",
    }
    with pytest.raises(SettingsError, match="SECRET_KEY_FALLBACKS is too weak"):
        from_environment(environ, tmp_path)


def test_a_weak_key_is_fine_where_nothing_real_is_signed(tmp_path: Path) -> None:
    for env in ("development", "testing"):
        assert from_environment({"OCIFLEX_ENV": env, "SECRET_KEY": "dev"}, tmp_path)


@pytest.mark.parametrize("debug", ["1", "true", "yes"])
def test_production_refuses_debug_mode(tmp_path: Path, debug: str) -> None:
    environ = {"SECRET_KEY": PRODUCTION_SECRET_KEY, "FLASK_DEBUG": debug}
    with pytest.raises(SettingsError, match="FLASK_DEBUG is on in production"):
        from_environment(environ, tmp_path)
    assert from_environment({**environ, "OCIFLEX_ENV": "development"}, tmp_path)


def test_production_refuses_debug_mode_from_the_process_environment(
    environ: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """``flask --debug`` sets FLASK_DEBUG in the process, whatever environ the app is given."""
    monkeypatch.setenv("FLASK_DEBUG", "1")
    with pytest.raises(SettingsError, match="Debug mode is on in production"):
        create_app({**environ, "OCIFLEX_ENV": "production", "SECRET_KEY": PRODUCTION_SECRET_KEY})


@pytest.mark.parametrize(
    ("key", "refusal"),
    [
        pytest.param(None, "SECRET_KEY is not set", id="missing"),
        pytest.param("short-but-varied-key", "SECRET_KEY is too weak", id="weak"),
    ],
)
def test_a_process_that_signs_nothing_leaves_the_key_refusal_to_its_commands(
    tmp_path: Path, key: str | None, refusal: str
) -> None:
    environ = {} if key is None else {"SECRET_KEY": key}

    config = from_environment(environ, tmp_path, key_required=False)

    assert config["SECRET_KEY"] is None  # nothing can be signed with it
    assert config["SECRET_KEY_FALLBACKS"] == []
    assert refusal in str(config["OCIFLEX_SETTINGS_ERROR"])
    assert not (tmp_path / "dev-secret-key").exists()


def test_complete_settings_leave_nothing_to_refuse(tmp_path: Path) -> None:
    production = {"SECRET_KEY": PRODUCTION_SECRET_KEY}
    for key_required in (True, False):
        config = from_environment(production, tmp_path, key_required=key_required)

        assert config["SECRET_KEY"] == PRODUCTION_SECRET_KEY
        assert config["OCIFLEX_SETTINGS_ERROR"] is None


def test_an_app_that_serves_requests_refuses_to_start_without_secret_key(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="SECRET_KEY is not set"):
        create_app({"OCIFLEX_INSTANCE_PATH": str(tmp_path)})
