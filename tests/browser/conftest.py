"""The built book in headless Chromium (Debian's package, driven by playwright) with every request that is not a
local file blocked and recorded: one browser per test session, and one way to open a page offline."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
HTML = Path(os.environ.get("PAPERLIB_BOOK_HTML", ROOT / "_build" / "html"))
CHROMIUM = os.environ.get("PAPERLIB_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
LOCAL = ("file://", "data:", "blob:", "about:")


@pytest.fixture(scope="session")
def chromium():
    """A headless Chromium; fails (not skips) when the browser is missing."""
    if not Path(CHROMIUM).is_file():
        pytest.fail(f"no Chromium at {CHROMIUM}: install Debian's package (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        yield browser
        browser.close()


def open_offline(browser, path: Path, console: bool = False, **page_options):
    """Open ``path`` with every non-local request aborted. Returns ``(page, external, errors)``: the requests
    that tried to leave the machine, and the page's uncaught JavaScript errors (plus console errors when
    ``console``), both filled as the page runs."""
    page = browser.new_page(**page_options)
    external: list[str] = []
    errors: list[str] = []

    def only_local(route):
        if route.request.url.startswith(LOCAL):
            route.continue_()
        else:
            external.append(route.request.url)
            route.abort()

    page.route("**/*", only_local)
    page.on("pageerror", lambda error: errors.append(str(error)))
    if console:
        page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.goto(path.as_uri(), wait_until="load")
    return page, external, errors
