"""Settings from the environment: safe defaults, refusals that say what to do."""

from pathlib import Path

import pytest

from ociflex.settings import SettingsError, database_url, from_environment


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
        from_environment({"OCIFLEX_ENV": "prod", "SECRET_KEY": "x" * 40}, tmp_path)


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
    production = {"SECRET_KEY": "x" * 40}
    assert from_environment(production, tmp_path)["OCIFLEX_DEV_TOOLS"] is False
    asked = {**production, "OCIFLEX_DEV_TOOLS": "1"}
    assert from_environment(asked, tmp_path)["OCIFLEX_DEV_TOOLS"] is True
    assert from_environment({"OCIFLEX_ENV": "development"}, tmp_path)["OCIFLEX_DEV_TOOLS"]


def test_key_rotation_fallbacks_are_a_list(tmp_path: Path) -> None:
    config = from_environment(
        {"SECRET_KEY": "new" * 20, "SECRET_KEY_FALLBACKS": "old1, old2"}, tmp_path
    )
    assert config["SECRET_KEY_FALLBACKS"] == ["old1", "old2"]


def test_numbers_must_be_numbers(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="OCIFLEX_PUNCHOUT_MAX_AGE must be a whole number"):
        from_environment({"SECRET_KEY": "x" * 40, "OCIFLEX_PUNCHOUT_MAX_AGE": "4h"}, tmp_path)


def test_proxy_hops_are_a_small_number(tmp_path: Path) -> None:
    production = {"SECRET_KEY": "x" * 40}
    assert from_environment(production, tmp_path)["OCIFLEX_PROXY_HOPS"] == 0
    assert (
        from_environment({**production, "OCIFLEX_PROXY_HOPS": "1"}, tmp_path)["OCIFLEX_PROXY_HOPS"]
        == 1
    )
    with pytest.raises(SettingsError, match="OCIFLEX_PROXY_HOPS must be between 0 and 5"):
        from_environment({**production, "OCIFLEX_PROXY_HOPS": "9"}, tmp_path)
