"""Multi-Moments in Time: ``annotations/moments_categories.txt`` and multi-label split files.

``moments_categories.txt`` has ``name,id`` lines; ``trainingSet.txt``/``validationSet.txt`` (``.csv`` also
accepted; plus an optional held-out ``testingSet.txt``) have rows ``<relative video path>,<id>[,<id>...]``,
videos under ``videos/``. Frame counts come from decord.
"""

from __future__ import annotations

import os
from pathlib import Path

from ..lists import ListFormatError, VideoRecord, decoded_lines
from ..sources import VideoFile
from ._frames import count_frames, write_outputs

SPLITS = {"train": "trainingSet", "val": "validationSet", "test": "testingSet"}


def read_categories(path: Path) -> list[str]:
    """``name,id`` lines -> names indexed by id (ids must be exactly 0..K-1)."""
    by_id: dict[int, str] = {}
    for number, text in decoded_lines(path):
        name, sep, ident = text.rpartition(",")
        if not sep or not ident.strip().isdigit():
            raise ListFormatError(f"{path}:{number}: expected 'name,id', got {text!r}")
        by_id[int(ident)] = name.strip()
    if sorted(by_id) != list(range(len(by_id))):
        raise ListFormatError(f"{path}: class ids are not 0..{len(by_id) - 1}")
    if not by_id:
        raise ListFormatError(f"{path}: no categories")
    return [by_id[i] for i in range(len(by_id))]


def prepare_mmit(
    root: str | os.PathLike,
    out: str | os.PathLike | None = None,
    videos_dir: str = "videos",
    annotations_dir: str = "annotations",
) -> dict[str, Path]:
    """Write ``category.txt`` and ``train.txt``, ``val.txt`` (and ``test.txt`` if a testing set exists)."""
    root = Path(root)
    out = Path(out) if out is not None else root
    annotations = root / annotations_dir
    names = read_categories(annotations / "moments_categories.txt")
    video = VideoFile()
    lists = {}
    for split, stem in SPLITS.items():
        found = [annotations / f"{stem}{s}" for s in (".txt", ".csv") if (annotations / f"{stem}{s}").is_file()]
        if not found:
            if split == "test":
                continue
            raise FileNotFoundError(f"annotation file not found: {annotations / stem}.txt (or .csv)")
        records = []
        for number, text in decoded_lines(found[0]):
            rel, *ids = [part.strip() for part in text.split(",")]
            if not ids or not all(x.isdigit() and int(x) < len(names) for x in ids):
                raise ListFormatError(
                    f"{found[0]}:{number}: expected 'path,id[,id...]' with ids < {len(names)}, got {text!r}"
                )
            path = f"{videos_dir}/{rel}"
            count = count_frames(video, root / path, f"{found[0]}:{number}")
            records.append(VideoRecord(path, count, tuple(sorted({int(x) for x in ids}))))
        lists[split] = records
    return write_outputs(out, names, lists)
