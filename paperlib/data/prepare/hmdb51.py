"""HMDB51: ``testTrainMulti_7030_splits/`` (the official three splits) and ``hmdb51/<class>/`` videos.

Layout (as downloaded and unpacked)::

    testTrainMulti_7030_splits/<class>_test_split{1,2,3}.txt   "<video>.avi <id>" per line
    hmdb51/<class>/<video>.avi      or frame folders hmdb51/<class>/<video>/00001.jpg

In a split file, id 1 puts the video in the training set, 2 in the test set and 0 in neither (the official
``split_readme.txt``: 70 training and 30 test videos per class). Classes are the split files' class names in
alphabetical order (label 0 = ``brush_hair``), as MMAction2 numbers them. Split ``N`` is written as
``train_splitN.txt`` and ``val_splitN.txt`` (the test videos), so the three splits can sit side by side.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from ..lists import ListFormatError, VideoRecord, decoded_lines
from ..sources import FrameFolder, VideoFile
from ._frames import media_record, write_outputs

SPLIT_FILE = re.compile(r"(?P<name>.+)_test_split(?P<split>[123])\.txt$")
SET_OF_ID = {"1": "train", "2": "val", "0": None}


def prepare_hmdb51(
    root: str | os.PathLike,
    out: str | os.PathLike | None = None,
    split: int = 1,
    videos_dir: str = "hmdb51",
    splits_dir: str = "testTrainMulti_7030_splits",
    template: str = "{:05d}.jpg",
) -> dict[str, Path]:
    """Write ``category.txt``, ``train_split<split>.txt`` and ``val_split<split>.txt``
    (paths ``<videos_dir>/<class>/<video>``)."""
    if split not in (1, 2, 3):
        raise ValueError(f"HMDB51 has splits 1, 2 and 3, not {split!r}")
    root = Path(root)
    out = Path(out) if out is not None else root
    folder = root / splits_dir
    if not folder.is_dir():
        raise FileNotFoundError(f"split folder not found: {folder}")
    files = {
        m["name"]: folder / m.group(0)
        for f in os.listdir(folder)
        if (m := SPLIT_FILE.match(f)) and int(m["split"]) == split
    }
    if not files:
        raise FileNotFoundError(f"no split files {folder}/<class>_test_split{split}.txt")
    names = sorted(files)
    frames, video = FrameFolder(template), VideoFile()
    lists: dict[str, list[VideoRecord]] = {f"train_split{split}": [], f"val_split{split}": []}
    for label, name in enumerate(names):
        path = files[name]
        for number, text in decoded_lines(path):
            where = f"{path}:{number}"
            parts = text.split()
            if len(parts) != 2 or parts[1] not in SET_OF_ID:
                raise ListFormatError(f"{where}: expected '<video>.avi <0|1|2>', got {text!r}")
            subset = SET_OF_ID[parts[1]]
            if subset is None:
                continue
            record = media_record(root, root / videos_dir, f"{name}/{parts[0]}", (label,), frames, video, where)
            lists[f"{subset}_split{split}"].append(record)
    return write_outputs(out, names, lists)
