"""Notebooks: each .ipynb is paired with a py:percent file with the same cells, and has a parameters cell."""

from pathlib import Path

import jupytext
import nbformat
import pytest

NOTEBOOKS = sorted((Path(__file__).resolve().parents[1] / "notebooks").glob("*.ipynb"))


def test_there_are_notebooks():
    assert NOTEBOOKS


@pytest.mark.parametrize("ipynb", NOTEBOOKS, ids=lambda p: p.stem)
def test_pair_agrees(ipynb):
    text = ipynb.with_suffix(".py")
    assert text.exists(), f"{ipynb.name} has no py:percent twin"
    a = nbformat.read(ipynb, as_version=4)
    b = jupytext.read(text)
    cells = lambda nb: [(c.cell_type, c.source.strip()) for c in nb.cells]  # noqa: E731
    assert cells(a) == cells(b), f"{ipynb.name} and {text.name} differ: run `jupytext --sync {text}`"
    assert all(not c.get("outputs") for c in a.cells if c.cell_type == "code"), "outputs are not committed"


@pytest.mark.parametrize("ipynb", NOTEBOOKS, ids=lambda p: p.stem)
def test_has_parameters_cell(ipynb):
    nb = nbformat.read(ipynb, as_version=4)
    tagged = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
    assert len(tagged) == 1, f"{ipynb.name}: expected one cell tagged 'parameters'"
