"""Kinetics-400/600/700: CSV annotations and ``<class>/<youtube_id>_<start>_<end>`` videos or frame folders.

The CSVs have columns ``label,youtube_id,time_start,time_end,split``. They are published as ``train.csv`` and
``validate.csv`` in DeepMind's ``kinetics{400,600,700_2020}.tar.gz`` and as ``train.csv`` and ``val.csv`` on the
CVDF mirror (``s3.amazonaws.com/kinetics/{400,600,700_2020}/annotations/``; its K600 ``val.csv`` is incomplete
(cvdfoundation/kinetics-dataset#33), so ``validate.csv`` is taken first). They are looked for in ``annotations/``,
then in the root. Class names are cleaned as X-Temporal and TSN do (spaces -> ``_``; quotes, parentheses and
apostrophes removed) and numbered alphabetically. A clip is found as ``<split>/<clean class>/<stem>``,
``<split>/<class as written>/<stem>`` (CVDF's ``arrange_by_classes.py``) or ``<split>/<stem>`` (CVDF tarballs,
unsorted), each a video or a frame folder. Kinetics copies always miss some videos (taken down from YouTube):
those rows are left out and counted. The three versions publish the same file names, so ``kinetics400``,
``kinetics600`` and ``kinetics700`` (Kinetics-700 and -700-2020) are this recipe under the names their expected
counts are filed under (:mod:`.expected`); ``kinetics`` is it with no counts to compare with.
"""

from __future__ import annotations

import csv
import os
import re
from pathlib import Path

from ..lists import ListFormatError, VideoRecord
from ..sources import FrameFolder, VideoFile
from ._frames import VIDEO_SUFFIXES, count_frames, find_media, write_outputs

__all__ = ["VIDEO_SUFFIXES", "clean_class_name", "prepare_kinetics"]

DEFAULT_SPLITS: dict[str, tuple[tuple[str, ...], str]] = {
    "train": (("annotations/train.csv", "train.csv"), "train"),
    "val": (("annotations/validate.csv", "annotations/val.csv", "validate.csv", "val.csv"), "val"),
}


def clean_class_name(name: str) -> str:
    """``"passing American football (in game)"`` -> ``"passing_American_football_in_game"``."""
    return re.sub(r"[\"'()]", "", name.strip()).replace(" ", "_")


def _first_existing(root: Path, candidates: str | tuple[str, ...]) -> Path:
    candidates = (candidates,) if isinstance(candidates, str) else candidates
    for name in candidates:
        if (root / name).is_file():
            return root / name
    others = f" (nor {', '.join(candidates[1:])})" if len(candidates) > 1 else ""
    raise FileNotFoundError(f"annotation file not found: {root / candidates[0]}{others}")


def _rows(path: Path) -> list[tuple[int, dict]]:
    with open(path, newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        missing = {"label", "youtube_id", "time_start", "time_end"} - set(reader.fieldnames or [])
        if missing:
            raise ListFormatError(f"{path}:1: header lacks column(s) {sorted(missing)}")
        return [(number, row) for number, row in enumerate(reader, start=2)]


def prepare_kinetics(
    root: str | os.PathLike,
    out: str | os.PathLike | None = None,
    splits: dict[str, tuple[str | tuple[str, ...], str]] | None = None,
    template: str = "img_{:05d}.jpg",
) -> dict:
    """Write ``category.txt`` and one list per split.

    Args:
        root: dataset root.
        splits: ``{split: (annotation csv, media folder)}`` relative to ``root``, the csv a name or a tuple of
            names tried in order; default :data:`DEFAULT_SPLITS` (``train``, ``val``).
        template: frame file template when the media are frame folders.

    Returns:
        Written paths per split plus ``"missing"``: ``{split: number of rows without a video}``.
    """
    root = Path(root)
    out = Path(out) if out is not None else root
    splits = splits or DEFAULT_SPLITS
    files = {split: _first_existing(root, csv_names) for split, (csv_names, _) in splits.items()}
    rows = {split: _rows(path) for split, path in files.items()}
    names = sorted({clean_class_name(row["label"]) for split_rows in rows.values() for _, row in split_rows})
    label_of = {name: i for i, name in enumerate(names)}
    frames, video = FrameFolder(template), VideoFile()
    lists, missing_per_split = {}, {}
    for split, (_, media) in splits.items():
        records, missing = [], 0
        for number, row in rows[split]:
            name = clean_class_name(row["label"])
            try:
                stem = f"{row['youtube_id']}_{int(float(row['time_start'])):06d}_{int(float(row['time_end'])):06d}"
            except (TypeError, ValueError):
                raise ListFormatError(f"{files[split]}:{number}: bad time_start/time_end in {row}") from None
            folders = dict.fromkeys((root / media / name, root / media / row["label"].strip(), root / media))
            found = next((hit for folder in folders if (hit := find_media(folder / stem, frames, video))), None)
            if found is None:
                missing += 1
                continue
            path, source = found
            count = count_frames(source, path, f"{files[split]}:{number}")
            records.append(VideoRecord(path.relative_to(root).as_posix(), count, (label_of[name],)))
        lists[split], missing_per_split[split] = records, missing
    return {**write_outputs(out, names, lists), "missing": missing_per_split}
