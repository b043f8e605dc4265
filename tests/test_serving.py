"""gunicorn's settings for ociflex (``--config python:ociflex.serving``, as the Procfile)."""

import os
from pathlib import Path

import pytest

from ociflex.serving import default_workers

ROOT = Path(__file__).resolve().parent.parent


def test_one_worker_per_core_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("WEB_CONCURRENCY", raising=False)
    assert default_workers() == (os.cpu_count() or 1)


def test_web_concurrency_sets_the_number_of_workers(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WEB_CONCURRENCY", "3")
    assert default_workers() == 3


def test_the_procfile_leaves_the_number_of_workers_to_the_settings() -> None:
    web = next(
        line for line in (ROOT / "Procfile").read_text().splitlines() if line.startswith("web:")
    )
    assert "--config python:ociflex.serving" in web
    assert "--workers" not in web
