"""Every page of the built book in a real browser (Debian's headless Chromium driven by playwright), with every
request that is not a local file blocked: each page renders with no JavaScript error, is not a scroll of logs
(height and output-block limits), shows no path of the machine that built it, and requests nothing from the
network. A screenshot of each page goes to ``_build/screenshots/`` for a person to look at.

Needs a built book (``make book``) and ``/usr/bin/chromium``; ``make browser-test`` runs it (CI does).
"""

from __future__ import annotations

import re

import pytest

from .conftest import HTML, ROOT, open_offline

SCREENSHOTS = ROOT / "_build" / "screenshots"
PAGES = sorted(  # the book's pages: not the search and index pages, nor the theme's templates under _static
    p
    for p in HTML.rglob("*.html")
    if p.name not in ("search.html", "genindex.html") and "_static" not in p.relative_to(HTML).parts
)

MAX_HEIGHT_PX = 15_000  # at 1,300 px wide: a chapter a reader scrolls through, not a log
MAX_OUTPUT_LINES = 300  # per output block
# Absolute paths of a build machine (home, temporary and work folders, the repository itself).
MACHINE_PATH = re.compile(r"(/root/|/home/\w|/tmp/|/work/|/Users/\w|" + re.escape(str(ROOT)) + ")")

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def browser(chromium):
    if not PAGES:
        pytest.fail(f"no pages under {HTML}: build the book first (make book SCALE=smoke)")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return chromium


@pytest.mark.parametrize("page_file", PAGES, ids=lambda p: str(p.relative_to(HTML)))
def test_page_reads_cleanly(browser, page_file):
    page, external, errors = open_offline(browser, page_file, console=True, viewport={"width": 1300, "height": 900})
    page.wait_for_timeout(300)
    name = str(page_file.relative_to(HTML)).replace("/", "_").removesuffix(".html")
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)
    height = page.evaluate("() => document.documentElement.scrollHeight")
    longest = page.evaluate(
        "() => Math.max(0, ...Array.from(document.querySelectorAll('.cell_output pre, .output pre'))"
        ".map(p => p.innerText.split('\\n').length))"
    )
    text = page.evaluate("() => document.body.innerText")
    page.close()
    assert errors == [], f"JavaScript errors: {errors}"
    assert external == [], f"requests leaving the machine: {external}"
    assert height <= MAX_HEIGHT_PX, f"page is {height} px tall (limit {MAX_HEIGHT_PX})"
    assert longest <= MAX_OUTPUT_LINES, f"an output block has {longest} lines (limit {MAX_OUTPUT_LINES})"
    leaked = MACHINE_PATH.search(text)
    assert leaked is None, (
        f"a path of the build machine is shown: ...{text[max(0, leaked.start() - 60) : leaked.end() + 60]}..."
    )
