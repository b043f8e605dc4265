"""``flask --app app ociflex customers show``, read back: the sheet is what the customer's ERP
developer configures from, so each statement it makes is checked against the customer file
itself (read with plain ``yaml.safe_load``, not with ociflex's loader): every URL listed on a line
of its own, every loopback entry warned about, every parameter name, every NEW_ITEM length and
its mark when agreed wider than SAP's default, and the FUNCTION calls.
"""

import re
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import yaml
from flask import Flask

from ociflex import create_app
from ociflex.oci.functions import Function
from ociflex.oci.limits import NEW_ITEM_MAX_LENGTHS
from tests.conftest import make_environ

ROOT = Path(__file__).resolve().parent.parent
#: Customer files of every kind: both protocols on loopback addresses (the demo), OCI only with
#: its own parameter names, cXML only, the Euromobil-like customer of issue 18 with a field
#: agreed wider, and a file with a few loopback entries among real ones.
CUSTOMER_FILES = [
    Path("config/customers/demo.yaml"),
    Path("tests/customers/acme.yaml"),
    Path("tests/customers_cxml/globex.yaml"),
    Path("tests/customers_checks/noordhaven.yaml"),
    Path("tests/customers_checks/testbed.yaml"),
]
#: The files of the customers that punch out with SAP OCI.
OCI_FILES = [
    file
    for file in CUSTOMER_FILES
    if "login" in yaml.safe_load((ROOT / file).read_text(encoding="utf-8"))
]
#: The loopback hosts the customer files use; ociflex's own test is not the reference here.
LOOPBACK_HOSTS = ("localhost", "127.0.0.1", "::1")
WARNING = "WARNING: for local testing only"
WIDER_NOTE = (
    "* Agreed wider than SAP's default: your system must take these lengths, or SAP drops the line:"
)


@pytest.fixture
def sheet_app(
    tmp_path: Path, customers_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Flask]:
    """The app as ``flask`` creates it for the command; ``show`` touches no database."""
    monkeypatch.chdir(ROOT)
    app = create_app(
        make_environ(tmp_path, f"sqlite:///{tmp_path / 'ociflex.sqlite3'}", customers_dir)
    )
    yield app
    app.extensions["ociflex.engine"].dispose()


def show(app: Flask, file: Path) -> str:
    """The sheet of the customer in ``file``, as ``show --dir`` prints it."""
    result = app.test_cli_runner().invoke(
        args=["ociflex", "customers", "show", "--dir", str(file.parent), file.stem]
    )
    assert result.exit_code == 0, result.output
    return result.output


def parts(sheet: str) -> dict[str, str]:
    """The sheet's part of each protocol, by heading."""
    found = {}
    for heading in ("SAP OCI", "cXML"):
        marker = f"\n{heading}\n{'=' * len(heading)}\n"
        if marker in sheet:
            rest = sheet.split(marker, 1)[1]
            found[heading] = rest.split("\ncXML\n====\n", 1)[0]
    return found


def listed_after(part: str, intro: str) -> list[str]:
    """The ``- item`` lines that follow the line ``intro``, each item whole."""
    lines = part.splitlines()
    start = lines.index(f"  {intro}") + 1
    items = []
    for line in lines[start:]:
        if not line.startswith("  - "):
            break
        items.append(line[len("  - ") :])
    return items


def warned(part: str) -> list[str]:
    """The entries of the part's warning block, as printed (``HOOK_URL http://...``)."""
    if WARNING not in part:
        return []
    lines = part.splitlines()
    block = lines[lines.index(WARNING) + 1 :]
    return [line[len("  - ") :] for line in block[: block.index("")] if line.startswith("  - ")]


def is_loopback(url: str) -> bool:
    return urlsplit(url).hostname in LOOPBACK_HOSTS


def origin(url: str) -> str:
    split = urlsplit(url)
    return f"{split.scheme}://{split.netloc}"


def frame_origins(data: dict) -> list[str]:
    """The file's ``frame_ancestors``, else the origins of its http(s) return URLs."""
    if "frame_ancestors" in data:
        return data["frame_ancestors"]
    urls = [*data.get("hook_urls", []), *data.get("cxml", {}).get("browser_form_posts", [])]
    return list(dict.fromkeys(origin(url) for url in urls if url.startswith("http")))


def row(part: str, first: str) -> str:
    """The table row that starts with ``first``, its wrapped lines joined."""
    lines = part.splitlines()
    index = next(i for i, line in enumerate(lines) if re.match(rf"  {re.escape(first)} ", line))
    indent = len(lines[index]) - len(lines[index].lstrip())
    text = [lines[index]]
    for line in lines[index + 1 :]:
        if not line.strip() or len(line) - len(line.lstrip()) <= indent:
            break
        text.append(line)
    return " ".join(" ".join(text).split())


@pytest.fixture(params=CUSTOMER_FILES, ids=lambda file: file.stem)
def customer_file(request: pytest.FixtureRequest) -> Path:
    return request.param


def test_the_sheet_lists_every_return_url_and_frame_origin_on_a_line_of_its_own(
    sheet_app: Flask, customer_file: Path
) -> None:
    data = yaml.safe_load((ROOT / customer_file).read_text(encoding="utf-8"))
    sheet = parts(show(sheet_app, customer_file))

    if "login" in data:
        oci = sheet["SAP OCI"]
        assert listed_after(oci, "HOOK_URL must start with one of:") == data["hook_urls"]
        assert listed_after(oci, "It may be opened in an iframe of pages from:") == (
            frame_origins(data)
        )
    form_posts = data.get("cxml", {}).get("browser_form_posts")
    if form_posts:
        cxml = sheet["cXML"]
        assert listed_after(cxml, "The BrowserFormPost URL must start with one of:") == form_posts
        assert listed_after(cxml, "It may be opened in an iframe of pages from:") == (
            frame_origins(data)
        )


def test_the_sheet_warns_about_every_loopback_entry_and_nothing_else(
    sheet_app: Flask, customer_file: Path
) -> None:
    data = yaml.safe_load((ROOT / customer_file).read_text(encoding="utf-8"))
    sheet = parts(show(sheet_app, customer_file))
    frames = [f"frame origin {url}" for url in frame_origins(data) if is_loopback(url)]

    if "login" in data:
        hooks = [f"HOOK_URL {url}" for url in data["hook_urls"] if is_loopback(url)]
        assert warned(sheet["SAP OCI"]) == hooks + frames
    form_posts = data.get("cxml", {}).get("browser_form_posts")
    if form_posts:
        posts = [f"BrowserFormPost URL {url}" for url in form_posts if is_loopback(url)]
        assert warned(sheet["cXML"]) == posts + frames


def test_the_warning_comes_first_and_names_the_keys_to_change(sheet_app: Flask) -> None:
    sheet = parts(show(sheet_app, Path("tests/customers_checks/testbed.yaml")))

    for part, key in (("SAP OCI", "hook_urls"), ("cXML", "cxml.browser_form_posts")):
        assert sheet[part].startswith(f"{WARNING}\n"), part
        text = " ".join(sheet[part].split())
        assert f"real addresses ({key}, frame_ancestors) before this sheet goes to the" in text


@pytest.mark.parametrize("customer_file", OCI_FILES, ids=lambda file: file.stem)
def test_the_sheet_names_every_call_up_parameter_of_the_file(
    sheet_app: Flask, customer_file: Path
) -> None:
    data = yaml.safe_load((ROOT / customer_file).read_text(encoding="utf-8"))
    oci = parts(show(sheet_app, customer_file))["SAP OCI"]
    login = data["login"]
    fields = {"email": {}, "full_name": {}, **data.get("fields", {})}
    defaults = {"email": "oci_usermail", "full_name": "oci_userfullname"}

    expected = {
        login.get("username_param", "USERNAME"): "yes",
        login.get("password_param", "PASSWORD"): "yes",
        "HOOK_URL": "yes",
    }
    for name, spec in fields.items():
        always = name in defaults
        expected[spec.get("param", defaults.get(name))] = (
            "yes" if always or spec.get("required") else "no"
        )
    for param, required in expected.items():
        assert row(oci, param).startswith(f"{param} {required} "), param


@pytest.mark.parametrize("customer_file", OCI_FILES, ids=lambda file: file.stem)
def test_the_sheet_gives_every_new_item_length_and_marks_the_agreed_wider_ones(
    sheet_app: Flask, customer_file: Path
) -> None:
    data = yaml.safe_load((ROOT / customer_file).read_text(encoding="utf-8"))
    oci = parts(show(sheet_app, customer_file))["SAP OCI"]
    agreed = {key.upper(): length for key, length in data.get("max_lengths", {}).items()}
    wider = {name: length for name, length in agreed.items() if length > NEW_ITEM_MAX_LENGTHS[name]}
    sent = ["UNIT", "CURRENCY", *(key.upper() for key in data.get("basket", {}))]

    for new_item in dict.fromkeys(sent):
        length = agreed.get(new_item, NEW_ITEM_MAX_LENGTHS[new_item])
        mark = "*" if new_item in wider else ""
        assert row(oci, f"NEW_ITEM-{new_item}[1]").split()[1] == f"{length}{mark}", new_item
    if wider:
        assert listed_after(oci, WIDER_NOTE) == [
            f"{name}: {length} (SAP's default {NEW_ITEM_MAX_LENGTHS[name]})"
            for name, length in wider.items()
        ]
    else:
        assert "Agreed wider than SAP's default" not in oci


def test_the_sheet_lists_the_function_calls_of_an_oci_customer(
    sheet_app: Flask, customer_file: Path
) -> None:
    data = yaml.safe_load((ROOT / customer_file).read_text(encoding="utf-8"))
    sheet = parts(show(sheet_app, customer_file))

    if "login" not in data:
        assert "FUNCTION calls" not in "".join(sheet.values())
        return
    oci = sheet["SAP OCI"]
    lines = oci.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("FUNCTION calls")) + 2
    table = lines[start : lines.index("", start)]
    listed = [line.split()[0] for line in table if re.match(r"  [A-Z_]+ ", line)]
    assert listed == [function.value for function in Function]
    for function in Function:
        assert row(oci, function.value).split()[1] in ("PRODUCTID", "SEARCHSTRING")


def test_a_field_agreed_wider_is_offered_at_its_agreed_length(sheet_app: Flask) -> None:
    # Issue 18: the WBS element D-2026-0042 has 11 characters; CUST_FIELD2 was widened to 11.
    oci = parts(show(sheet_app, Path("tests/customers_checks/noordhaven.yaml")))["SAP OCI"]

    assert row(oci, "NEW_ITEM-CUST_FIELD2[1]").split()[1:2] == ["11*"]
    assert row(oci, "NEW_ITEM-CUST_FIELD2[1]").endswith(" D-2026-0042")
    assert "WBS element (wbs_element): at most 11 characters" in row(oci, "PS_POSID")
    assert listed_after(oci, WIDER_NOTE) == ["CUST_FIELD2: 11 (SAP's default 10)"]
    assert WARNING not in oci


def test_a_long_url_stays_whole_on_its_line(sheet_app: Flask, tmp_path: Path) -> None:
    long_url = "https://srm.noordhaven.example/sap/bc/bsp/sap/bbp_catalog/" + "x" * 50 + "/"
    text = (ROOT / "tests/customers_checks/noordhaven.yaml").read_text(encoding="utf-8")
    file = tmp_path / "long" / "noordhaven.yaml"
    file.parent.mkdir()
    file.write_text(text.replace("  - https://srm-qa", f"  - {long_url}\n  - https://srm-qa"))

    oci = parts(show(sheet_app, file))["SAP OCI"]

    assert f"\n  - {long_url}\n" in oci


def test_the_sheet_stays_within_100_columns(sheet_app: Flask, customer_file: Path) -> None:
    sheet = show(sheet_app, customer_file)

    assert max(map(len, sheet.splitlines())) <= 100
