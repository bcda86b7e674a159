"""The 20BN CSV layout shared by Something-Something v1 and Jester: ``<prefix>-labels.csv`` (one class name
per line), ``<prefix>-{train,validation}.csv`` (``id;class name`` rows) and JPEG frame folders
``<frames_dir>/<id>/00001.jpg...`` (1-based)."""

from __future__ import annotations

import os
from pathlib import Path

from ..lists import ListFormatError, VideoRecord, decoded_lines
from ..sources import FrameFolder
from ._frames import count_frames, write_outputs

SPLITS = {"train": "train", "val": "validation"}


def prepare_twentybn(
    root: str | os.PathLike,
    out: str | os.PathLike | None,
    prefix: str,
    frames_dir: str,
    template: str = "{:05d}.jpg",
    sort_labels: bool = True,
) -> dict[str, Path]:
    """Write ``category.txt``, ``train.txt`` and ``val.txt`` (paths ``<frames_dir>/<id>``) into ``out``
    (default: ``root``).

    Labels are numbered in alphabetical order of the class names (``sort_labels``, as TSM/TIN's
    ``gen_label_sthv1.py`` does for both datasets), or in the labels file's order.
    """
    root = Path(root)
    out = Path(out) if out is not None else root
    labels = root / f"{prefix}-labels.csv"
    names = [text.strip() for _, text in decoded_lines(labels)]
    if not names:
        raise ListFormatError(f"{labels}: no class names")
    if len(set(names)) != len(names):
        raise ListFormatError(f"{labels}: class names repeat")
    names = sorted(names) if sort_labels else names
    label_of = {name: i for i, name in enumerate(names)}
    folder = FrameFolder(template)
    lists = {}
    for split, stem in SPLITS.items():
        csv = root / f"{prefix}-{stem}.csv"
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
