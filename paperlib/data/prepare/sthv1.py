"""Something-Something v1: ``something-something-v1-{labels,train,validation}.csv`` and JPEG frame folders.

Layout (as downloaded): ``labels.csv`` has one class name per line, the split CSVs ``id;label`` rows, and
``20bn-something-something-v1/<id>/00001.jpg...`` hold the frames (1-based). Labels are numbered in
alphabetical order of the class names, as TSM/TIN's ``gen_label_sthv1.py`` does.
"""

from __future__ import annotations

import os
from pathlib import Path

from ..lists import ListFormatError, VideoRecord, decoded_lines
from ..sources import FrameFolder
from ._frames import count_frames, write_outputs

SPLITS = {"train": "something-something-v1-train.csv", "val": "something-something-v1-validation.csv"}


def prepare_sthv1(root: str | os.PathLike, out: str | os.PathLike | None = None,
                  frames_dir: str = "20bn-something-something-v1", template: str = "{:05d}.jpg") -> dict[str, Path]:  # fmt: skip
    """Write ``category.txt``, ``train.txt`` and ``val.txt`` (paths ``<frames_dir>/<id>``) into ``out`` (default: ``root``)."""
    root = Path(root)
    out = Path(out) if out is not None else root
    labels = root / "something-something-v1-labels.csv"
    names = sorted(text.strip() for _, text in decoded_lines(labels))
    if not names:
        raise ListFormatError(f"{labels}: no class names")
    label_of = {name: i for i, name in enumerate(names)}
    folder = FrameFolder(template)
    lists = {}
    for split, csv_name in SPLITS.items():
        csv = root / csv_name
        records = []
        for number, text in decoded_lines(csv):
            video_id, sep, label = text.partition(";")
            if not sep or not video_id.strip():
                raise ListFormatError(f"{csv}:{number}: expected 'id;label', got {text!r}")
            if label.strip() not in label_of:
                raise ListFormatError(f"{csv}:{number}: label {label.strip()!r} is not in the labels file")
            rel = f"{frames_dir}/{video_id.strip()}"
            count = count_frames(folder, root / rel, f"{csv}:{number}")
            records.append(VideoRecord(rel, count, (label_of[label.strip()],)))
        lists[split] = records
    return write_outputs(out, names, lists)
