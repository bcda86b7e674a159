"""The built book's offsets chapter in a real browser (Debian's headless Chromium driven by playwright), with
every request that is not a local file blocked and recorded: the interactive figure must render offline and
choosing another layer must change what it draws.

Needs a built book (``make book``) and ``/usr/bin/chromium`` (Debian package ``chromium``); ``make
browser-test`` runs it after the book is built (CI does). It fails, rather than skips, when either is missing.
"""

from __future__ import annotations

import pytest

from .conftest import HTML, open_offline

PAGE = HTML / "chapters" / "offsets.html"

pytestmark = pytest.mark.browser

# The visible traces of the first interactive offsets figure, and a fingerprint of what its SVG draws.
VISIBLE = "() => document.querySelector('.js-plotly-plot').data.map(t => t.visible !== false)"
DRAWN = (
    "() => Array.from(document.querySelector('.js-plotly-plot').querySelectorAll('.scatterlayer path'))"
    ".map(p => p.getAttribute('d') || '').join('|')"
)


@pytest.fixture(scope="module")
def browser_page(chromium):
    if not PAGE.is_file():
        pytest.fail(f"{PAGE} does not exist: build the book first (make book SCALE=smoke)")
    page, external, console_errors = open_offline(chromium, PAGE)
    page.wait_for_selector(".js-plotly-plot .main-svg", timeout=30_000)
    yield page, external, console_errors
    page.close()


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
