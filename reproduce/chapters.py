"""The book's executed chapters, in dependency order (a chapter runs after the ones it reads results from)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Chapter:
    name: str  # notebooks/<name>.ipynb
    title: str
    after: tuple[str, ...] = ()  # chapters whose results this one reads


CHAPTERS = (
    Chapter("interlace_shift", "The interlace shift operator"),
    Chapter("theory", "A constrained temporal convolution"),
    Chapter("table1", "Table 1: Something-Something v1"),
    Chapter("offsets", "What TIN learns: offsets and weights by layer", after=("table1",)),
    Chapter("mmit_single", "Multi-Moments in Time: single models"),
    Chapter("mmit_ensemble", "Multi-Moments in Time: the ensemble", after=("mmit_single",)),
    Chapter("speed", "Speed: the shift op and the models"),
    Chapter("model_zoo", "Model zoo: published checkpoints, and ours", after=("table1", "mmit_single")),
)
