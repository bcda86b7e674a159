"""Kinetics-400/600/700: CSV annotations and ``<class>/<youtube_id>_<start>_<end>`` videos or frame folders.

The CSVs have columns ``label,youtube_id,time_start,time_end,split``. Class names are cleaned as X-Temporal
and TSN do (spaces -> ``_``; quotes, parentheses and apostrophes removed) and numbered alphabetically.
Kinetics copies always miss some videos (taken down from YouTube): those rows are left out and counted.
"""

from __future__ import annotations

import csv
import os
import re
from pathlib import Path

from ..lists import ListFormatError, VideoRecord
from ..sources import FrameFolder, VideoFile
from ._frames import count_frames, write_outputs

VIDEO_SUFFIXES = (".mp4", ".mkv", ".webm", ".avi")


def clean_class_name(name: str) -> str:
    """``"passing American football (in game)"`` -> ``"passing_American_football_in_game"``."""
    return re.sub(r"[\"'()]", "", name.strip()).replace(" ", "_")


def _rows(path: Path) -> list[tuple[int, dict]]:
    if not path.is_file():
        raise FileNotFoundError(f"annotation file not found: {path}")
    with open(path, newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        missing = {"label", "youtube_id", "time_start", "time_end"} - set(reader.fieldnames or [])
        if missing:
            raise ListFormatError(f"{path}:1: header lacks column(s) {sorted(missing)}")
        return [(number, row) for number, row in enumerate(reader, start=2)]


def prepare_kinetics(root: str | os.PathLike, out: str | os.PathLike | None = None,
                     splits: dict[str, tuple[str, str]] | None = None, template: str = "img_{:05d}.jpg") -> dict:  # fmt: skip
    """Write ``category.txt`` and one list per split.

    Args:
        root: dataset root.
        splits: ``{split: (annotation csv, media folder)}`` relative to ``root``; default
            ``{"train": ("annotations/train.csv", "train"), "val": ("annotations/validate.csv", "val")}``.
        template: frame file template when the media are frame folders.

    Returns:
        Written paths per split plus ``"missing"``: ``{split: number of rows without a video}``.
    """
    root = Path(root)
    out = Path(out) if out is not None else root
    splits = splits or {"train": ("annotations/train.csv", "train"), "val": ("annotations/validate.csv", "val")}
    rows = {split: _rows(root / csv_name) for split, (csv_name, _) in splits.items()}
    names = sorted({clean_class_name(row["label"]) for split_rows in rows.values() for _, row in split_rows})
    label_of = {name: i for i, name in enumerate(names)}
    frames, video = FrameFolder(template), VideoFile()
    lists, missing_per_split = {}, {}
    for split, (csv_name, media) in splits.items():
        records, missing = [], 0
        for number, row in rows[split]:
            name = clean_class_name(row["label"])
            try:
                stem = f"{row['youtube_id']}_{int(float(row['time_start'])):06d}_{int(float(row['time_end'])):06d}"
            except ValueError:
                raise ListFormatError(f"{root / csv_name}:{number}: bad time_start/time_end in {row}") from None
            base = root / media / name / stem
            candidates = [base.with_name(stem + s) for s in VIDEO_SUFFIXES if base.with_name(stem + s).is_file()]
            if candidates:
                path, source = candidates[0], video
            elif base.is_dir():
                path, source = base, frames
            else:
                missing += 1
                continue
            count = count_frames(source, path, f"{root / csv_name}:{number}")
            records.append(VideoRecord(path.relative_to(root).as_posix(), count, (label_of[name],)))
        lists[split], missing_per_split[split] = records, missing
    return {**write_outputs(out, names, lists), "missing": missing_per_split}
