"""The book's executed chapters, read from ``book/_toc.yml`` (the one list of chapters): every toc entry under
``chapters/`` is ``notebooks/<name>.ipynb``."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class Chapter:
    name: str  # notebooks/<name>.ipynb
    title: str


def _title(name: str) -> str:
    """The notebook's first markdown heading."""
    cells = json.loads((ROOT / "notebooks" / f"{name}.ipynb").read_text())["cells"]
    for cell in cells:
        for line in "".join(cell["source"]).splitlines() if cell["cell_type"] == "markdown" else []:
            if line.startswith("# "):
                return line[2:].strip()
    return name


def chapters(toc: Path = ROOT / "book" / "_toc.yml") -> tuple[Chapter, ...]:
    """The notebook chapters of the book, in the order of its table of contents."""
    entries = yaml.safe_load(toc.read_text())["chapters"]
    names = [e["file"].split("/", 1)[1] for e in entries if e.get("file", "").startswith("chapters/")]
    return tuple(Chapter(name, _title(name)) for name in names)


CHAPTERS = chapters()
