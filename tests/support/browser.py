"""Launching the machine's Chromium for the browser tests, with third-party cookies blocked.

Playwright cannot download its own browsers here, so the tests drive the distribution's
Chromium (``/usr/bin/chromium``, or ``$OCIFLEX_CHROMIUM``).

Blocking third-party cookies is a profile preference, not a command-line switch: Chromium 156
has no ``--disable-third-party-cookies`` or ``--block-third-party-cookies`` switch (unknown
switches are silently ignored), and ``--test-third-party-cookie-phaseout`` does not block them
when the profile allows them. So the browser starts from a profile whose ``Preferences`` say
"Block third-party cookies" (``profile.cookie_controls_mode`` = 1, as chrome://settings/cookies
sets it), and the tests' contexts (``browser.new_context()``) inherit that setting.
``tests/browser/test_punchout_journey.py`` proves it with a cookie probe against a control
browser whose profile allows them.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Literal

from playwright.sync_api import BrowserContext, Page, Playwright

DEFAULT_CHROMIUM = "/usr/bin/chromium"

#: Where the suite saves the screenshots of the key screens (git-ignored; the README shows
#: copies from docs/screenshots/).
SCREENSHOTS_DIR = Path(__file__).resolve().parents[2] / "test-output" / "screenshots"
SCREENSHOT_VIEWPORT = {"width": 1280, "height": 900}

CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]

#: chrome://settings/cookies: 0 allow third-party cookies, 1 block them, 2 block in incognito.
_COOKIE_CONTROLS_MODE = {"allow": 0, "block": 1}


def chromium_executable() -> Path:
    return Path(os.environ.get("OCIFLEX_CHROMIUM") or DEFAULT_CHROMIUM)


def chromium_available() -> bool:
    return os.access(chromium_executable(), os.X_OK)


def write_profile(user_data_dir: Path, third_party_cookies: Literal["allow", "block"]) -> None:
    """A fresh Chromium profile in ``user_data_dir`` that allows or blocks third-party cookies."""
    mode = _COOKIE_CONTROLS_MODE[third_party_cookies]
    preferences = {
        "profile": {"cookie_controls_mode": mode, "block_third_party_cookies": mode == 1}
    }
    (user_data_dir / "Default").mkdir(parents=True, exist_ok=True)
    (user_data_dir / "Default" / "Preferences").write_text(json.dumps(preferences))


def launch_chromium(
    playwright: Playwright,
    user_data_dir: Path,
    *,
    third_party_cookies: Literal["allow", "block"] = "block",
) -> BrowserContext:
    """Chromium started on a profile of its own; ``.browser`` of the returned (persistent)
    context makes the fresh contexts that tests use, and closing the context ends the browser."""
    write_profile(user_data_dir, third_party_cookies)
    return playwright.chromium.launch_persistent_context(
        user_data_dir,
        executable_path=chromium_executable(),
        args=CHROMIUM_ARGS,
        headless=True,
    )


def save_screenshot(page: Page, name: str) -> Path:
    """The page as the user sees it, 1280 x 900, in ``test-output/screenshots/<name>.png``."""
    SCREENSHOTS_DIR.mkdir(parents=True, exist_ok=True)
    page.set_viewport_size(SCREENSHOT_VIEWPORT)  # type: ignore[arg-type]
    path = SCREENSHOTS_DIR / f"{name}.png"
    page.screenshot(path=path, animations="disabled")
    return path
