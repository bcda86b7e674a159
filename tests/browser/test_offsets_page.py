"""The built book's offsets chapter in a real browser (Debian's headless Chromium driven by playwright), with
every request that is not a local file blocked and recorded: the interactive figure must render offline and
choosing another layer must change what it draws.

Needs a built book (``make book``) and ``/usr/bin/chromium`` (Debian package ``chromium``); ``make
browser-test`` runs it after the book is built (CI does). It fails, rather than skips, when either is missing.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PAGE = Path(os.environ.get("PAPERLIB_BOOK_HTML", ROOT / "_build" / "html")) / "chapters" / "offsets.html"
CHROMIUM = os.environ.get("PAPERLIB_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"

pytestmark = pytest.mark.browser

# The visible traces of the first interactive offsets figure, and a fingerprint of what its SVG draws.
VISIBLE = "() => document.querySelector('.js-plotly-plot').data.map(t => t.visible !== false)"
DRAWN = (
    "() => Array.from(document.querySelector('.js-plotly-plot').querySelectorAll('.scatterlayer path'))"
    ".map(p => p.getAttribute('d') || '').join('|')"
)


@pytest.fixture(scope="module")
def browser_page():
    if not PAGE.is_file():
        pytest.fail(f"{PAGE} does not exist: build the book first (make book SCALE=smoke)")
    if not Path(CHROMIUM).is_file():
        pytest.fail(f"no Chromium at {CHROMIUM}: install Debian's package (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    external: list[str] = []
    console_errors: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        page = browser.new_page()

        def only_local(route):
            if route.request.url.startswith(("file://", "data:", "blob:", "about:")):
                route.continue_()
            else:
                external.append(route.request.url)
                route.abort()

        page.route("**/*", only_local)
        page.on("pageerror", lambda error: console_errors.append(str(error)))
        page.goto(PAGE.as_uri(), wait_until="load")
        page.wait_for_selector(".js-plotly-plot .main-svg", timeout=30_000)
        yield page, external, console_errors
        browser.close()


def test_figure_renders_offline(browser_page):
    page, external, _ = browser_page
    assert page.evaluate("() => typeof window.Plotly") == "object", "plotly.js was not loaded from the page"
    assert page.locator(".js-plotly-plot").count() >= 1
    assert page.evaluate(DRAWN), "the offsets figure drew no traces"
    assert page.locator(".js-plotly-plot .updatemenu-header-group").count() >= 1, "no layer menu"
    assert external == [], f"the page requested {external}"


def test_choosing_another_layer_changes_the_figure(browser_page):
    page, external, errors = browser_page
    before_visible, before_drawn = page.evaluate(VISIBLE), page.evaluate(DRAWN)
    menu = page.locator(".js-plotly-plot").first.locator(".updatemenu-header-group").first
    menu.click()
    options = page.locator(".js-plotly-plot").first.locator(".updatemenu-dropdown-button")
    options.first.wait_for(timeout=10_000)
    assert options.count() >= 2, "the layer menu offers fewer than two layers"
    options.nth(1).click()
    page.wait_for_function(
        f"(before) => JSON.stringify(({VISIBLE})()) !== JSON.stringify(before)", arg=before_visible, timeout=10_000
    )
    after_visible, after_drawn = page.evaluate(VISIBLE), page.evaluate(DRAWN)
    assert after_visible != before_visible, "choosing another layer did not change which traces are shown"
    assert after_drawn != before_drawn, "choosing another layer did not change what is drawn"
    assert external == [], f"the page requested {external}"
    assert not [e for e in errors if "plotly" in e.lower()], errors
