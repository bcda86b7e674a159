"""`jupyter-book build` executes the chapters it lists (as the project's _config.yml configures it) and fails,
naming the chapter, when one cannot be built: never a "succeeded" book with a chapter missing."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]


def _book(tmp_path: Path, second_cell: str) -> Path:
    tmp_path.mkdir(parents=True)
    shutil.copy(ROOT / "_config.yml", tmp_path / "_config.yml")  # the project's configuration, unchanged
    book = tmp_path / "book"
    for part in ("_ext", "_static"):
        shutil.copytree(ROOT / "book" / part, book / part, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "book" / "references.bib", book / "references.bib")
    (book / "_toc.yml").write_text("format: jb-book\nroot: intro\nchapters:\n  - file: chapter\n")
    (book / "intro.md").write_text("# Intro\n")
    notebook = nbformat.v4.new_notebook(
        cells=[nbformat.v4.new_markdown_cell("# A chapter"), nbformat.v4.new_code_cell(second_cell)]
    )
    notebook.metadata = {"kernelspec": {"name": "python3", "language": "python", "display_name": "Python 3"}}
    nbformat.write(notebook, book / "chapter.ipynb")
    return book


def _build(book: Path) -> subprocess.CompletedProcess:
    jupyter_book = shutil.which("jupyter-book", path=str(Path(sys.executable).parent))
    return subprocess.run(
        [jupyter_book, "build", "-W", "-n", "--keep-going", str(book)],
        capture_output=True,
        text=True,
        cwd=book.parent,
        timeout=600,
    )


@pytest.mark.slow
def test_the_build_executes_chapters_and_fails_naming_a_broken_one(tmp_path):
    good = _build(_book(tmp_path / "good", "print(6 * 7)"))
    assert good.returncode == 0, good.stdout[-2000:] + good.stderr[-2000:]
    page = (tmp_path / "good" / "_build" / "html" / "chapter.html").read_text()
    assert "42" in page  # executed by the build, not rendered from stored outputs
    download = nbformat.read(tmp_path / "good" / "_build" / "html" / "_sources" / "chapter.ipynb", as_version=4)
    assert download.cells[1].outputs[0]["text"] == "42\n"  # the download button serves the executed notebook
    times = json.loads((tmp_path / "good" / "_build" / "execution_times.json").read_text())
    assert list(times) == ["chapter"] and times["chapter"] >= 0
    broken = _build(_book(tmp_path / "broken", "open('a-required-input-that-is-missing.txt')"))
    assert broken.returncode != 0
    assert "chapter.ipynb" in broken.stdout + broken.stderr and "FileNotFoundError" in broken.stdout + broken.stderr
