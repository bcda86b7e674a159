"""The claims chapter's ledger tables (the ledgers and their power tables) in a real browser at a 1300-px-wide
window: the claim and its verdict are in view without scrolling sideways, no table runs off the page, and no row
is more than a few lines tall.

Needs a built book (``make book SCALE=smoke``) and ``/usr/bin/chromium``; ``make browser-test`` runs it.
"""

from __future__ import annotations

import pytest

from .conftest import HTML, open_offline

PAGE = HTML / "chapters" / "claims.html"
WIDTH = 1300
MAX_ROW_LINES = 4  # a row of the ledger: at most this many lines of its text

pytestmark = pytest.mark.browser

# For each ledger table: its right edge, how far its scrolling box overflows, where the "claim" and "verdict"
# headers end, and each body row's height in lines of its own text.
MEASURE = """() => Array.from(document.querySelectorAll('table.claims-ledger')).map(table => {
    const box = table.closest('.cell_output') || table.parentElement;
    let overflow = 0;
    for (let node = table.parentElement; node && node !== box.parentElement; node = node.parentElement) {
        overflow = Math.max(overflow, node.scrollWidth - node.clientWidth);
    }
    const headers = Array.from(table.querySelectorAll('thead th')).map(th => [th.innerText.trim(),
        th.getBoundingClientRect().right]);
    const rows = Array.from(table.querySelectorAll('tbody tr')).map(row => {
        const cell = row.querySelector('td');
        const style = getComputedStyle(cell);
        const line = parseFloat(style.lineHeight) || 1.5 * parseFloat(style.fontSize);
        return [row.innerText.split('\\t')[0].trim(), row.getBoundingClientRect().height / line];
    });
    return {right: table.getBoundingClientRect().right, overflow, headers, rows};
})"""


@pytest.fixture(scope="module")
def ledgers(chromium):
    if not PAGE.is_file():
        pytest.fail(f"{PAGE} does not exist: build the book first (make book SCALE=smoke)")
    page, external, errors = open_offline(chromium, PAGE, viewport={"width": WIDTH, "height": 900})
    page.wait_for_timeout(300)
    measured = page.evaluate(MEASURE)
    page.close()
    assert errors == [] and external == []
    return measured


def test_the_ledger_is_on_the_page(ledgers):
    assert ledgers, "no table.claims-ledger on the claims page"
    headers = [name for name, _ in ledgers[0]["headers"]]
    assert "claim" in headers and "verdict" in headers, headers


def test_claim_and_verdict_are_readable_without_scrolling_sideways(ledgers):
    for table in ledgers:
        assert table["overflow"] <= 1, f"the ledger scrolls sideways by {table['overflow']} px"
        assert table["right"] <= WIDTH, f"the ledger ends at {table['right']:.0f} px, beyond the {WIDTH}-px window"
        for name, right in table["headers"]:
            if name in ("claim", "verdict"):
                assert right <= WIDTH, f"the {name!r} column ends at {right:.0f} px"


def test_rows_are_a_few_lines_tall(ledgers):
    for table in ledgers:
        tall = [(key, round(lines, 1)) for key, lines in table["rows"] if lines > MAX_ROW_LINES + 0.5]
        assert not tall, f"rows taller than {MAX_ROW_LINES} lines: {tall}"
