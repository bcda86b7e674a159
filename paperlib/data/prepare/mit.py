"""Moments in Time (v1 and v2): ``moments_categories.txt``, ``trainingSet.csv``/``validationSet.csv`` and mp4 videos.

Layout (``Moments_in_Time_Raw/`` as unpacked from ``Moments_in_Time_Raw.zip`` or ``Moments_in_Time_Raw_v2.zip``,
which differ only in content: 339 classes in v1, 305 in v2)::

    moments_categories.txt    "<class name>,<index>" per line (index 0..K-1)
    trainingSet.csv           "<class>/<video>.mp4,<label>,<agreements>,<disagreements>" (no header)
    validationSet.csv         same
    training/<class>/<video>.mp4, validation/<class>/<video>.mp4   (or frame folders without ``.mp4``)

``<label>`` is the class name (an index is accepted too); labels are the indices of ``moments_categories.txt``,
as in the official models and MMAction2. Frame counts of videos come from decord.
"""

from __future__ import annotations

import csv
import io
import os
from pathlib import Path

from ..lists import ListFormatError, decoded_lines
from ..sources import FrameFolder, VideoFile
from ._frames import media_record, write_outputs
from .mmit import read_categories

SPLITS = {"train": ("trainingSet.csv", "training"), "val": ("validationSet.csv", "validation")}


def prepare_mit(
    root: str | os.PathLike, out: str | os.PathLike | None = None, template: str = "{:05d}.jpg"
) -> dict[str, Path]:
    """Write ``category.txt``, ``train.txt`` and ``val.txt`` (paths ``training/<class>/<video>.mp4`` ...)."""
    root = Path(root)
    out = Path(out) if out is not None else root
    names = read_categories(root / "moments_categories.txt")
    label_of = {name: i for i, name in enumerate(names)}
    frames, video = FrameFolder(template), VideoFile()
    lists = {}
    for split, (csv_name, media_dir) in SPLITS.items():
        path = root / csv_name
        records = []
        for number, text in decoded_lines(path):
            where = f"{path}:{number}"
            try:
                fields = [field.strip() for field in next(csv.reader(io.StringIO(text), strict=True))]
            except csv.Error:
                fields = []
            if len(fields) < 2 or not fields[0]:
                raise ListFormatError(f"{where}: expected '<class>/<video>.mp4,<label>,...', got {text!r}")
            rel, label = fields[0], fields[1]
            if label in label_of:
                label_id = label_of[label]
            elif label.isdigit() and int(label) < len(names):
                label_id = int(label)
            else:
                raise ListFormatError(f"{where}: label {label!r} is not in moments_categories.txt")
            records.append(media_record(root, root / media_dir, rel, (label_id,), frames, video, where))
        lists[split] = records
    return write_outputs(out, names, lists)
