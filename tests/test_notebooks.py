"""Notebooks: each .ipynb is paired with a py:percent file with the same cells, and has a parameters cell."""

from pathlib import Path

import jupytext
import nbformat
import pytest

NOTEBOOKS = sorted((Path(__file__).resolve().parents[1] / "notebooks").glob("*.ipynb"))


def test_there_are_notebooks():
    assert NOTEBOOKS


def test_every_notebook_is_a_chapter():
    from reproduce.chapters import CHAPTERS

    assert sorted(c.name for c in CHAPTERS) == sorted(p.stem for p in NOTEBOOKS)


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


def _execute(name, tmp_path, **parameters):
    import papermill

    notebooks = Path(__file__).resolve().parents[1] / "notebooks"
    return papermill.execute_notebook(
        str(notebooks / f"{name}.ipynb"),
        str(tmp_path / f"{name}.ipynb"),
        parameters={"scale": "smoke", "results_dir": str(tmp_path), **parameters},
        cwd=str(notebooks),
        kernel_name="python3",
        progress_bar=False,
    )


@pytest.fixture(scope="module")
def shared_results(tmp_path_factory):
    """One results folder for the smoke runs of all chapters, as `reproduce` uses: a chapter that reads
    another's runs (offsets <- table1, mmit_ensemble <- mmit_single) reuses them instead of training again."""
    return tmp_path_factory.mktemp("results")


def _in_chapter_order():
    from reproduce.chapters import CHAPTERS

    return [c.name for c in CHAPTERS]


@pytest.mark.slow
@pytest.mark.parametrize("name", _in_chapter_order())
def test_notebook_runs_at_smoke_scale_and_writes_results(name, shared_results):
    import json

    _execute(name, shared_results)
    record = json.loads((shared_results / "notebooks" / f"{name}.json").read_text())
    assert record["notebook"] == name and record["parameters"]["scale"] == "smoke"
    assert record["results"] and record["code_hash"]


def test_theory_results_are_exact(tmp_path):
    import json

    _execute("theory", tmp_path, seeds=[5])
    results = json.loads((tmp_path / "notebooks" / "theory.json").read_text())["results"]
    assert results["max_abs_difference"] < 1e-12 and results["tsm_is_special_case"] is True


def test_wrong_parameter_fails_at_the_parameters_cell_naming_it(tmp_path):
    from papermill.exceptions import PapermillExecutionError

    with pytest.raises(PapermillExecutionError, match="parameter 'seeds' must be a non-empty list of integers"):
        _execute("theory", tmp_path, seeds="0,1")


def test_reproduce_stops_on_a_failing_notebook_and_keeps_previous_results(tmp_path, monkeypatch, capsys):
    import reproduce.__main__ as runner
    from reproduce.chapters import Chapter

    good = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("x = 1", metadata={"tags": ["parameters"]})])
    good.metadata = {"kernelspec": {"name": "python3", "language": "python", "display_name": "Python 3"}}
    nbformat.write(good, tmp_path / "demo.ipynb")
    monkeypatch.setattr(runner, "NOTEBOOKS", tmp_path)
    params = {"scale": "smoke", "results_dir": str(tmp_path / "out")}
    results = tmp_path / "results"
    first = runner.run_chapter(Chapter("demo", "Demo"), params, results)
    assert (results / "executed" / "demo.ipynb").exists() and first["chapter"] == "demo"
    assert runner.run_chapter(Chapter("demo", "Demo"), params, results)["key"] == first["key"]  # cached
    assert "unchanged" in capsys.readouterr().out
    good.cells.append(nbformat.v4.new_code_cell("raise ValueError('broken on purpose')"))
    nbformat.write(good, tmp_path / "demo.ipynb")
    with pytest.raises(SystemExit, match=r"notebook demo failed in cell \d+: ValueError: broken on purpose"):
        runner.run_chapter(Chapter("demo", "Demo"), params, results)
    kept = nbformat.read(results / "executed" / "demo.ipynb", as_version=4)
    assert kept.cells[0].source == "x = 1" and not any("broken" in c.source for c in kept.cells)  # the previous run's
