"""Jester (v1): ``jester-v1-{labels,train,validation}.csv`` and JPEG frame folders, the layout of Something v1.

Layout (as downloaded): ``jester-v1-labels.csv`` has the 27 class names, one per line; the split CSVs
``id;label`` rows; ``20bn-jester-v1/<id>/00001.jpg...`` hold the frames (1-based). Labels are numbered in
alphabetical order of the class names: TSM's ``gen_label_sthv1.py``, which TSM/TIN use for Jester too
(``dataset_name = 'jester-v1'``), sorts them. MMAction2's ``parse_jester_splits`` keeps the labels file's
order instead; ``sort_labels=False`` gives that numbering (for its checkpoints).
"""

from __future__ import annotations

import os
from pathlib import Path

from ._twentybn import prepare_twentybn


def prepare_jester(
    root: str | os.PathLike,
    out: str | os.PathLike | None = None,
    frames_dir: str = "20bn-jester-v1",
    template: str = "{:05d}.jpg",
    sort_labels: bool = True,
) -> dict[str, Path]:
    """Write ``category.txt``, ``train.txt`` and ``val.txt`` (paths ``<frames_dir>/<id>``) into ``out``
    (default: ``root``)."""
    return prepare_twentybn(root, out, "jester-v1", frames_dir, template, sort_labels)
