"""Something-Something v2: JSON label/annotation files and ``.webm`` videos.

``something-something-v2-labels.json`` maps class name -> id; the split JSONs are lists of
``{"id", "label", "template", "placeholders"}`` whose ``template`` with the brackets removed is the class
name; videos are ``20bn-something-something-v2/<id>.webm``. Frame counts come from decord.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from ..lists import ListFormatError, VideoRecord
from ..sources import VideoFile
from ._frames import count_frames, write_outputs

SPLITS = {"train": "something-something-v2-train.json", "val": "something-something-v2-validation.json"}


def _load_json(path: Path):
    if not path.is_file():
        raise FileNotFoundError(f"annotation file not found: {path}")
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ListFormatError(f"{path}: not valid JSON: {exc}") from None


def prepare_sthv2(
    root: str | os.PathLike, out: str | os.PathLike | None = None, videos_dir: str = "20bn-something-something-v2"
) -> dict[str, Path]:
    """Write ``category.txt``, ``train.txt`` and ``val.txt`` (paths ``<videos_dir>/<id>.webm``)."""
    root = Path(root)
    out = Path(out) if out is not None else root
    labels_file = root / "something-something-v2-labels.json"
    label_map = _load_json(labels_file)
    try:
        names = [name for name, _ in sorted(label_map.items(), key=lambda kv: int(kv[1]))]
    except (AttributeError, ValueError):
        raise ListFormatError(f"{labels_file}: expected an object of class name -> id") from None
    label_of = {name: i for i, name in enumerate(names)}
    video = VideoFile()
    lists = {}
    for split, json_name in SPLITS.items():
        path = root / json_name
        records = []
        for i, entry in enumerate(_load_json(path)):
            try:
                video_id, name = str(entry["id"]), entry["template"].replace("[", "").replace("]", "")
            except (KeyError, TypeError, AttributeError):
                raise ListFormatError(f"{path}: entry {i} lacks 'id' or 'template': {entry!r}") from None
            if name not in label_of:
                raise ListFormatError(f"{path}: entry {i} (id {video_id}): class {name!r} not in {labels_file.name}")
            rel = f"{videos_dir}/{video_id}.webm"
            count = count_frames(video, root / rel, f"{path}: entry {i}")
            records.append(VideoRecord(rel, count, (label_of[name],)))
        lists[split] = records
    return write_outputs(out, names, lists)
