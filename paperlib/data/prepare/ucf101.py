"""UCF101: ``ucfTrainTestlist/`` (the official "Train/Test Splits for Action Recognition") and ``UCF-101/`` videos.

Layout (as downloaded and unpacked)::

    ucfTrainTestlist/classInd.txt        "1 ApplyEyeMakeup" ... "101 YoYo" (1-based)
    ucfTrainTestlist/trainlist0{1,2,3}.txt  "ApplyEyeMakeup/v_ApplyEyeMakeup_g08_c01.avi 1"
    ucfTrainTestlist/testlist0{1,2,3}.txt   "ApplyEyeMakeup/v_ApplyEyeMakeup_g01_c01.avi"
                                            (a label, if a copy has one, is checked)
    UCF-101/<Class>/v_<Class>_gXX_cYY.avi   or frame folders UCF-101/<Class>/v_<Class>_gXX_cYY/00001.jpg

Labels are 0-based in ``classInd.txt`` order; a video's class is its folder (``HandstandPushups/`` holds
``v_HandStandPushups_*.avi``, so the file name is not used). Split ``N`` is written as ``train_splitN.txt``
(from ``trainlist0N``) and ``val_splitN.txt`` (from ``testlist0N``), so the three splits can sit side by side;
train on one with ``data.train_list=train_splitN.txt data.val_list=val_splitN.txt``.
"""

from __future__ import annotations

import os
from pathlib import Path

from ..lists import ListFormatError, decoded_lines
from ..sources import FrameFolder, VideoFile
from ._frames import media_record, write_outputs


def read_class_index(path: Path) -> list[str]:
    """``classInd.txt`` (``"<id> <name>"``, ids exactly 1..K) -> names, label ``i`` at index ``i``."""
    by_id: dict[int, str] = {}
    for number, text in decoded_lines(path):
        ident, _, name = text.strip().partition(" ")
        if not ident.isdigit() or not name.strip() or int(ident) in by_id:
            raise ListFormatError(f"{path}:{number}: expected '<id> <class name>' with a new id, got {text!r}")
        by_id[int(ident)] = name.strip()
    if not by_id:
        raise ListFormatError(f"{path}: no classes")
    if sorted(by_id) != list(range(1, len(by_id) + 1)):
        raise ListFormatError(f"{path}: class ids are not 1..{len(by_id)}")
    return [by_id[i] for i in range(1, len(by_id) + 1)]


def prepare_ucf101(
    root: str | os.PathLike,
    out: str | os.PathLike | None = None,
    split: int = 1,
    videos_dir: str = "UCF-101",
    annotations_dir: str = "ucfTrainTestlist",
    template: str = "{:05d}.jpg",
) -> dict[str, Path]:
    """Write ``category.txt``, ``train_split<split>.txt`` and ``val_split<split>.txt``
    (paths ``<videos_dir>/<Class>/<video>``)."""
    if split not in (1, 2, 3):
        raise ValueError(f"UCF101 has splits 1, 2 and 3, not {split!r}")
    root = Path(root)
    out = Path(out) if out is not None else root
    annotations = root / annotations_dir
    names = read_class_index(annotations / "classInd.txt")
    label_of = {name: i for i, name in enumerate(names)}
    frames, video = FrameFolder(template), VideoFile()
    lists = {}
    for kind, split_name in (("trainlist", f"train_split{split}"), ("testlist", f"val_split{split}")):
        path = annotations / f"{kind}{split:02d}.txt"
        records = []
        for number, text in decoded_lines(path):
            where = f"{path}:{number}"
            parts = text.split()
            rel, label = parts[0], (parts[1] if len(parts) == 2 else None)
            class_name, sep, file_name = rel.partition("/")
            if (
                len(parts) > 2
                or (kind == "trainlist" and label is None)
                or not sep
                or not file_name
                or "/" in file_name
            ):
                form = "<Class>/<video>.avi <label>" if kind == "trainlist" else "<Class>/<video>.avi"
                raise ListFormatError(f"{where}: expected '{form}', got {text!r}")
            if class_name not in label_of:
                raise ListFormatError(f"{where}: class folder {class_name!r} is not in classInd.txt")
            if label is not None and (not label.isdigit() or int(label) - 1 != label_of[class_name]):
                raise ListFormatError(
                    f"{where}: label {label!r} is not the classInd.txt id of {class_name!r} "
                    f"({label_of[class_name] + 1})"
                )
            records.append(media_record(root, root / videos_dir, rel, (label_of[class_name],), frames, video, where))
        lists[split_name] = records
    return write_outputs(out, names, lists)
