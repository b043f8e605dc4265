"""The benchmark script runs end to end (its shortest sections) and writes its JSON report with
every target in it; speed itself is never asserted here."""

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.skipif(shutil.which("wrk") is None, reason="wrk is not installed")
def test_a_short_run_writes_the_figures_and_every_target(tmp_path: Path) -> None:
    output = tmp_path / "latest.json"
    command = [sys.executable, "-m", "bench.run", "--quick", "--only", "form_page", "--only", "cpu"]
    command += ["--seconds", "1", "--no-postgres", "--output", str(output)]
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr[-3000:]

    figures = json.loads(output.read_text())
    assert figures["cpu_count"] >= 1
    form = figures["form_page"]
    for page in ("hello", "form_get", "form_post", "cxml_setup"):
        assert form[page]["requests"] > 0
        assert form[page]["errors"] == 0, form[page]
    for page in ("form_get", "cxml_setup"):
        assert form[page]["ratio_to_hello"] == pytest.approx(
            form[page]["rps"] / form["hello"]["rps"], rel=0.01
        )
    assert figures["cpu"]["cxml_setup"] > 0
    measured = {t["target"]: t["met"] for t in figures["targets"]}
    assert len(measured) == 12
    assert measured["booking form (GET)"] in (True, False)
    assert measured["cXML setup request"] in (True, False)
    assert measured["outbox to a local SMTP server"] is None  # not run
    assert measured["planning view at the largest size (SQLite)"] is None  # not run
    assert measured["word search at the largest size (PostgreSQL)"] is None  # not run
    assert "booking form, call-up POST" in result.stdout
    assert "cXML setup request (POST /cxml/demo)" in result.stdout
    assert "cxml_setup" in result.stdout  # in the CPU row


@pytest.mark.skipif(shutil.which("wrk") is None, reason="wrk is not installed")
def test_the_planning_section_measures_one_week_of_equal_content_at_each_size(
    tmp_path: Path,
) -> None:
    output = tmp_path / "latest.json"
    command = [sys.executable, "-m", "bench.run", "--quick", "--only", "planning"]
    command += ["--seconds", "1", "--no-postgres", "--inbox-rows", "3000"]
    command += ["--output", str(output)]
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr[-3000:]

    planning = json.loads(output.read_text())["planning"]["sqlite"]
    small, large = planning["2000"]["week"], planning["3000"]["week"]
    for week in (small, large):
        assert week["requests"] > 0
        assert week["errors"] == 0, week
        assert week["path"] == f"/ops/planning?week={week['week']}"
    # The same rentals in the week, whatever the size of the table around it.
    assert small["week"] == large["week"]
    assert small["movements"] == large["movements"] > 50
    measured = {t["target"]: t["met"] for t in json.loads(output.read_text())["targets"]}
    assert measured["planning view at the largest size (SQLite)"] in (True, False)
    assert "planning week, sqlite, 3,000 requests" in result.stdout
