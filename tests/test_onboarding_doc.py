"""docs/onboarding.md walks one customer, Noordhaven, from an empty file to a checked basket: the
file it builds and the outputs it quotes are held to the real loader and commands, so that the
walkthrough cannot drift from what a developer following it sees.

Step 1's YAML blocks, in order, are the file as first written; step 2's YAML block is what the
check makes the developer add. Step 2's output blocks are, in order, what ``customers check``
prints for the file as first written, for the finished file, and for the variant with the
cost centre's pattern in double quotes that step 2 names. Step 4 quotes ``customers show``
(``[...]`` marks a cut), and step 5 its warning for loopback addresses.
"""

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import Result
from flask import Flask

from ociflex import create_app
from tests.conftest import make_environ

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "onboarding.md"
CUSTOMER = "noordhaven"
PASSWORD_ENV = "OCIFLEX_NOORDHAVEN_PASSWORD"
PUBLIC_URL = "https://flexfleet.euromobil.example"
#: A fenced block: its info string (``yaml``, ``sh``, or empty) and its text.
FENCE = re.compile(r"^```(\w*)\n(.*?)^```$", re.MULTILINE | re.DOTALL)
#: Where a quoted output leaves lines out.
CUT = "[...]"


def step(number: int) -> str:
    """The text of the OCI walkthrough's step ``number`` (``## 2. Check it``)."""
    text = DOC.read_text(encoding="utf-8")
    match = re.search(rf"^## {number}\. .*?(?=^## )", text, re.MULTILINE | re.DOTALL)
    assert match, f"docs/onboarding.md has no step {number}"
    return match[0]


def blocks(text: str, info: str) -> list[str]:
    return [body for kind, body in FENCE.findall(text) if kind == info]


def written_file() -> str:
    """The customer file as step 1 writes it, part by part."""
    parts = blocks(step(1), "yaml")
    assert len(parts) > 1, "step 1 writes the file in parts"
    return "".join(parts)


def finished_file() -> str:
    (addition,) = blocks(step(2), "yaml")
    return written_file() + addition


def check_outputs() -> list[str]:
    """Step 2's quoted outputs of ``customers check``, in the order the step shows them."""
    outputs = blocks(step(2), "")
    assert len(outputs) == 3, "the file as written, the finished file, the double-quoted pattern"
    return outputs


@pytest.fixture
def folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """``config/customers`` of a checkout that holds only this customer; problems name their
    file relative to the current directory, as in the walkthrough."""
    directory = tmp_path / "checkout" / "config" / "customers"
    directory.mkdir(parents=True)
    monkeypatch.chdir(directory.parent.parent)
    return directory


def service(tmp_path: Path, folder: Path, password_set: bool = True) -> Iterator[Flask]:
    environ = make_environ(tmp_path, f"sqlite:///{tmp_path / 'ociflex.sqlite3'}", folder)
    environ["OCIFLEX_PUBLIC_URL"] = PUBLIC_URL
    if password_set:
        environ[PASSWORD_ENV] = "the-password-agreed-with-noordhaven"
    app = create_app(environ)
    yield app
    app.extensions["ociflex.engine"].dispose()


@pytest.fixture
def app(tmp_path: Path, folder: Path) -> Iterator[Flask]:
    yield from service(tmp_path, folder)


@pytest.fixture
def app_without_password(tmp_path: Path, folder: Path) -> Iterator[Flask]:
    yield from service(tmp_path, folder, password_set=False)


def customers(app: Flask, folder: Path, file: str, *args: str) -> Result:
    (folder / f"{CUSTOMER}.yaml").write_text(file, encoding="utf-8")
    return app.test_cli_runner().invoke(args=["ociflex", "customers", *args, CUSTOMER])


def shown_in_order(quoted: str, printed: str) -> None:
    """Each quoted line is a line of ``printed``, in the same order; after a cut any number of
    lines may come between, else none."""
    lines = printed.splitlines()
    position, cut = 0, True
    for line in quoted.splitlines():
        if line == CUT:
            cut = True
            continue
        found = [n for n in range(position, len(lines)) if lines[n] == line]
        assert found, f"not printed after line {position}: {line!r}"
        assert cut or found[0] == position, f"lines printed between, without {CUT}: {line!r}"
        position, cut = found[0] + 1, False


def test_the_file_as_step_1_writes_it_gets_the_problem_step_2_shows(
    app: Flask, folder: Path
) -> None:
    result = customers(app, folder, written_file(), "check")

    assert result.exit_code == 1
    assert result.output == check_outputs()[0]


def test_with_the_width_step_2_adds_the_file_is_valid(app: Flask, folder: Path) -> None:
    result = customers(app, folder, finished_file(), "check")

    assert result.exit_code == 0
    assert result.output == check_outputs()[1]


def test_the_pattern_in_double_quotes_step_2_names_gets_the_message_it_shows(
    app: Flask, folder: Path
) -> None:
    double_quoted = re.search(r'`(pattern: "[^"`]*")`', step(2))
    assert double_quoted, "step 2 names a pattern in double quotes"
    cost_centre = re.compile(r"(cost_centre: \{.*?)pattern: '[^']*'")
    file = cost_centre.sub(lambda match: match[1] + double_quoted[1], finished_file(), count=1)
    assert file != finished_file()

    result = customers(app, folder, file, "check")

    assert result.exit_code == 1
    assert result.output == check_outputs()[2]


def test_without_the_password_exported_the_check_says_what_step_2_says_on_its_line(
    app_without_password: Flask, folder: Path
) -> None:
    said = re.search(r"on the file's line (\d+) \(`([\w.]+: [^`]+)`\)", step(2))
    assert said, "step 2 says what the check reports without the password"

    result = customers(app_without_password, folder, finished_file(), "check")

    assert result.exit_code == 1
    message = " ".join(said[2].split())  # as the prose wraps it
    assert f"config/customers/{CUSTOMER}.yaml:{said[1]}: {message}" in result.output


def test_the_sheet_for_the_erp_developer_prints_what_step_4_quotes(
    app: Flask, folder: Path
) -> None:
    (quoted,) = blocks(step(4), "")

    result = customers(app, folder, finished_file(), "show")

    assert result.exit_code == 0
    assert "WARNING" not in result.output
    shown_in_order(quoted, result.output)


def test_the_sheet_warns_as_step_5_shows_about_the_loopback_addresses_it_lists(
    app: Flask, folder: Path
) -> None:
    (warning,) = blocks(step(5), "")
    hook_url = re.search(r"^  - HOOK_URL (\S+)$", warning, re.MULTILINE)
    origin = re.search(r"^  - frame origin (\S+)$", warning, re.MULTILINE)
    assert hook_url, "step 5 shows the warning for a HOOK_URL"
    assert origin, "step 5 shows the warning for a frame origin"
    file = (
        finished_file()
        .replace("hook_urls:\n", f"hook_urls:\n  - {hook_url[1]}\n")
        .replace("frame_ancestors:\n", f"frame_ancestors:\n  - {origin[1]}\n")
    )

    result = customers(app, folder, file, "show")

    assert result.exit_code == 0
    assert result.output.index(warning.splitlines()[0]) < result.output.index("Punch-out URL")
    shown_in_order(warning, result.output)
