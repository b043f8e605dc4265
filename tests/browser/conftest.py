"""Fixtures of the browser tests: one Chromium per run (third-party cookies blocked), fresh
contexts per test, the stand-in ERP on 127.0.0.1, and ociflex under real gunicorn on localhost.

Every test here is marked ``browser`` (``pytest -m browser`` runs only these, ``-m "not
browser"`` all others). When a test fails, ``test-output/browser/`` keeps, per test, a
screenshot and the HTML of each page it opened, the gunicorn log and what the ERP received.
"""

import os
import re
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, Playwright, sync_playwright

from tests.support.browser import chromium_available, chromium_executable, launch_chromium
from tests.support.servers import GunicornServer, StandInErp

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
ARTIFACTS_DIR = ROOT / "test-output" / "browser"
#: Playwright's default of 30 s per action makes a failing journey wait too long.
ACTION_TIMEOUT_MS = 10_000

BROWSER_CUSTOMER = "fleet"
BROWSER_PASSWORD = "fleet-secret"

#: What the stand-in ERP sends besides HOOK_URL and ~TARGET (which it adds per launch).
CALLUP = {
    "USERNAME": "fleet-erp",
    "PASSWORD": BROWSER_PASSWORD,
    "~OkCode": "ADDI",
    "~CALLER": "CTLG",
    "OCI_VERSION": "4.0",
    "oci_usermail": "zoe.devries@fleet.example",
    "oci_userfullname": "Zoë de Vries",
    "COST_CENTRE": "4100",
}


#: The browser customer's From credential, as its cXML buyer (the same stand-in) sends it.
CXML_IDENTITY = ("NetworkID", "AN-FLEET-0001")


def customer_file(erp_origin: str) -> str:
    """The browser tests' customer: its ERP (and HOOK_URL, BrowserFormPost URL) on
    ``erp_origin``, known only at run time; it punches out with OCI and with cXML. English, so
    that tests can find labels and buttons by their text."""
    return f"""\
name: Fleet Buyer Ltd
language: en
login:
  username: fleet-erp
  password_env: OCIFLEX_FLEET_PASSWORD
hook_urls:
  - {erp_origin}/hook
cxml:
  credentials:
    - {{domain: {CXML_IDENTITY[0]}, identity: {CXML_IDENTITY[1]}}}
  shared_secret_env: OCIFLEX_FLEET_PASSWORD
  browser_form_posts:
    - {erp_origin}/cart
  item_extrinsics:
    CostCenter: "{{cost_centre}}"
frame_ancestors:
  - {erp_origin}
fields:
  email:       {{param: oci_usermail, required: true}}
  full_name:   {{param: oci_userfullname, required: true}}
  cost_centre: {{param: COST_CENTRE, extrinsic: CostCenter, required: true, editable: true,
                pattern: '^[0-9]{{4,10}}$', label: {{nl: Kostenplaats, en: Cost centre}}}}
basket:
  unit: DAY
  currency: EUR
  cust_field1: "{{cost_centre}}"
vehicles:
  - code: COMPACT
    name: {{en: Compact car (VW Polo or similar), nl: Compacte auto (VW Polo of gelijkwaardig)}}
    day_rate: "39.50"
  - code: VAN
    name: {{en: Van (VW Transporter), nl: Bestelbus (VW Transporter)}}
    day_rate: "79.00"
"""


SECOND_CUSTOMER = "haven"
SECOND_PASSWORD = "haven-geheim"

#: The second customer's ERP: other login names, other fields, Dutch.
SECOND_CALLUP = {
    "loginname": "haven-sap",
    "pwd": SECOND_PASSWORD,
    "~OkCode": "ADDI",
    "~CALLER": "CTLG",
    "OCI_VERSION": "5.0",
    "user_email": "pieter.bakker@haven.example",
    "user_name": "Pieter Bakker",
    "KOSTENPLAATS": "77001",
}


def second_customer_file(erp_origin: str) -> str:
    """A second customer, with its own ERP on ``erp_origin``: Dutch, other field names, other
    vehicles and prices, so that its basket cannot pass for the first one's."""
    return f"""\
name: Haven Logistiek B.V.
language: nl
login:
  username_param: loginname
  password_param: pwd
  username: haven-sap
  password_env: OCIFLEX_HAVEN_PASSWORD
hook_urls:
  - {erp_origin}/hook
frame_ancestors:
  - {erp_origin}
fields:
  email:       {{param: user_email, required: true}}
  full_name:   {{param: user_name, required: true}}
  cost_centre: {{param: KOSTENPLAATS, required: true, editable: true, pattern: '^[0-9]{{4,10}}$',
                label: {{nl: Kostenplaats, en: Cost centre}}}}
basket:
  unit: DAY
  currency: EUR
  cust_field1: "{{cost_centre}}"
vehicles:
  - code: ESTATE
    name: {{en: Estate car (Skoda Octavia Combi), nl: Stationwagen (Skoda Octavia Combi)}}
    day_rate: "54.25"
"""


# --- Marking, and keeping what a failed test saw ------------------------------------------------

_REPORTS = pytest.StashKey[dict[str, pytest.TestReport]]()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Every test in this folder is a browser test, even one that forgets the decorator."""
    for item in items:
        if item.path.is_relative_to(HERE):
            item.add_marker(pytest.mark.browser)


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item) -> Iterator[None]:
    """Keeps each phase's report on the item, so that fixtures can tell in their teardown
    whether the test failed."""
    report = yield
    item.stash.setdefault(_REPORTS, {})[report.when] = report
    return report


class Artifacts:
    """Files of one test in ``test-output/browser/``, named ``<module>.<test name><suffix>``."""

    def __init__(self, item: pytest.Item) -> None:
        self._item = item
        self.prefix = re.sub(r"[^\w.\[\]-]+", "_", f"{item.path.stem}.{item.name}")

    @property
    def failed(self) -> bool:
        return any(report.failed for report in self._item.stash.get(_REPORTS, {}).values())

    def path(self, suffix: str) -> Path:
        ARTIFACTS_DIR.mkdir(parents=True, exist_ok=True)
        return ARTIFACTS_DIR / f"{self.prefix}{suffix}"

    def clear(self) -> None:
        """Removes what an earlier failing run of this test left."""
        if ARTIFACTS_DIR.is_dir():
            for path in ARTIFACTS_DIR.iterdir():
                if path.name.startswith(f"{self.prefix}."):
                    path.unlink()


@pytest.fixture
def artifacts(request: pytest.FixtureRequest) -> Artifacts:
    artifacts = Artifacts(request.node)
    artifacts.clear()
    return artifacts


# --- The browser --------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def playwright() -> Iterator[Playwright]:
    if not chromium_available():
        reason = f"Chromium not found at {chromium_executable()} (set OCIFLEX_CHROMIUM)"
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)
    with sync_playwright() as playwright:
        yield playwright


@pytest.fixture(scope="session")
def browser(playwright: Playwright, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Browser]:
    """One Chromium for the whole run, on a profile that blocks third-party cookies."""
    persistent = launch_chromium(playwright, tmp_path_factory.mktemp("chromium-profile"))
    assert persistent.browser is not None
    yield persistent.browser
    persistent.close()


@pytest.fixture
def new_page(
    browser: Browser, artifacts: Artifacts, request: pytest.FixtureRequest
) -> Iterator[Callable[..., Page]]:
    """``new_page(**context_options)``: a page in a fresh context (its own cookies and cache),
    e.g. ``new_page(java_script_enabled=False)``. On failure each page is saved."""
    if "ociflex" in request.fixturenames:
        # Start ociflex first, so that it stops after the pages are closed: a sync worker that
        # holds one of Chromium's idle (preconnected) sockets makes gunicorn's graceful stop
        # wait its full --graceful-timeout.
        request.getfixturevalue("ociflex")
    contexts: list[BrowserContext] = []

    def new_page(**context_options: object) -> Page:
        context = browser.new_context(**context_options)  # type: ignore[arg-type]
        context.set_default_timeout(ACTION_TIMEOUT_MS)
        contexts.append(context)
        return context.new_page()

    yield new_page
    if artifacts.failed:
        pages = [page for context in contexts for page in context.pages]
        for number, page in enumerate(pages, start=1):
            _save_page(page, artifacts, "" if len(pages) == 1 else f".{number}")
    for context in contexts:
        context.close()


def _save_page(page: Page, artifacts: Artifacts, suffix: str) -> None:
    try:
        page.screenshot(path=artifacts.path(f"{suffix}.png"), full_page=True)
        frames = "\n\n".join(
            f"<!-- frame {frame.name or '(main)'}: {frame.url} -->\n{frame.content()}"
            for frame in page.frames
        )
        artifacts.path(f"{suffix}.html").write_text(frames)
    except Exception as error:  # a crashed page must not hide the test's own failure
        artifacts.path(f"{suffix}.error.txt").write_text(f"could not save the page: {error!r}")


@pytest.fixture
def page(new_page: Callable[..., Page]) -> Page:
    """A page in a fresh context with JavaScript on."""
    return new_page()


# --- The servers --------------------------------------------------------------------------------


@pytest.fixture
def erp(artifacts: Artifacts) -> Iterator[StandInErp]:
    with StandInErp(BROWSER_CUSTOMER, CALLUP) as erp:
        yield erp
        if artifacts.failed:
            _save_erp(erp, artifacts, ".erp.txt")


@pytest.fixture
def second_erp(artifacts: Artifacts) -> Iterator[StandInErp]:
    """The ERP of the second customer (``haven``), on a port of its own."""
    with StandInErp(SECOND_CUSTOMER, SECOND_CALLUP) as erp:
        yield erp
        if artifacts.failed:
            _save_erp(erp, artifacts, ".second-erp.txt")


def _save_erp(erp: StandInErp, artifacts: Artifacts, suffix: str) -> None:
    received = [
        f"--- basket {number}: ?{basket.query} ({basket.charset})\n"
        + "\n".join(f"{name} = {value!r}" for name, value in basket.fields)
        for number, basket in enumerate(erp.baskets, start=1)
    ]
    launched = "\n".join(f"HOOK_URL {url}" for url in erp.hook_urls)
    artifacts.path(suffix).write_text("\n\n".join([launched, *received]) + "\n")


@pytest.fixture
def ociflex(
    environ: dict[str, str],
    customers_dir: Path,
    erp: StandInErp,
    second_erp: StandInErp,
    artifacts: Artifacts,
    tmp_path: Path,
) -> Iterator[GunicornServer]:
    """ociflex under gunicorn with the browser customers (whose HOOK_URLs are the stand-in
    ERPs), on the test's database; the ERPs' launch pages punch out to it. A test module may
    override ``environ`` to give the server (and the test's ``app``) more settings."""
    (customers_dir / f"{BROWSER_CUSTOMER}.yaml").write_text(customer_file(erp.origin))
    (customers_dir / f"{SECOND_CUSTOMER}.yaml").write_text(second_customer_file(second_erp.origin))
    server = GunicornServer(
        {
            **environ,
            "OCIFLEX_FLEET_PASSWORD": BROWSER_PASSWORD,
            "OCIFLEX_HAVEN_PASSWORD": SECOND_PASSWORD,
        },
        log_path=tmp_path / "gunicorn.log",
    )
    started = False
    try:
        server.start()
        started = True
        erp.ociflex_url = second_erp.ociflex_url = server.url()
        yield server
    finally:
        server.stop()
        if not started or artifacts.failed:
            shutil.copyfile(server.log_path, artifacts.path(".gunicorn.log"))
