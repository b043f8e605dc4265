"""The soak's results: the printed table and ``bench/results/soak-latest.json``."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).resolve().parent / "results" / "soak-latest.json"
LABEL_WIDTH = 50
COLUMN_WIDTH = 28


def table(runs: list[dict[str, Any]]) -> str:
    """The runs side by side, one column per engine, as an indented table of figures; then
    each run's verdict with the evidence of its problems."""
    settings = runs[0]["settings"]
    lines = [
        f"=== soak: {settings['employees']} employees, {settings['operators']} operators, "
        f"{settings['minutes']} min, gunicorn {settings['gunicorn_workers']} workers, "
        f"{os.cpu_count()} CPUs ===",
        f"{'':<{LABEL_WIDTH}}" + "".join(f"{run['engine']:>{COLUMN_WIDTH}}" for run in runs),
    ]
    rows: dict[tuple[str, ...], list[str]] = {}
    for index, run in enumerate(runs):
        for path, value in _flatten(run["table"], ()):
            rows.setdefault(path, [""] * len(runs))[index] = value
    for path, values in rows.items():
        label = "  " * (len(path) - 1) + path[-1]
        row = f"{label:<{LABEL_WIDTH}}" + "".join(f"{v:>{COLUMN_WIDTH}}" for v in values)
        lines.append(row.rstrip())
    for run in runs:
        lines.append(f"RESULT on {run['engine']}: {'PASS' if run['passed'] else 'FAIL'}")
        for kind, examples in run["problems"].items():
            lines.append(f"  problem: {kind}")
            lines += [f"    {example}" for example in examples]
        lines.append(f"  logs and database: {run['workdir']}")
    return "\n".join(lines)


def _flatten(figures: dict[str, Any], path: tuple[str, ...]) -> list[tuple[tuple[str, ...], str]]:
    """(path of labels, shown value) of every figure; a group's own row has no value."""
    rows = []
    for label, value in figures.items():
        here = (*path, label)
        if isinstance(value, dict):
            rows.append((here, ""))
            rows += _flatten(value, here)
        else:
            rows.append((here, "yes" if value is True else "no" if value is False else str(value)))
    return rows


def git_revision() -> str:
    """HEAD's commit, with ``+dirty`` when the work tree has changes."""
    git = shutil.which("git")
    if git is None:
        return "unknown"
    root = Path(__file__).resolve().parents[1]

    def run(*args: str) -> str:
        result = subprocess.run(  # noqa: S603 - git from PATH, fixed arguments
            [git, *args], cwd=root, capture_output=True, text=True, check=False
        )
        return result.stdout.strip()

    revision = run("rev-parse", "HEAD") or "unknown"
    return revision + ("+dirty" if run("status", "--porcelain") else "")


def write_results(runs: list[dict[str, Any]], path: Path = RESULTS) -> Path:
    document = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "git_revision": git_revision(),
        "cpu_count": os.cpu_count(),
        "runs": runs,
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n")
    return path
