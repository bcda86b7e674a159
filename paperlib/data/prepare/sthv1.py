"""Something-Something v1: ``something-something-v1-{labels,train,validation}.csv`` and JPEG frame folders.

Layout (as downloaded): ``labels.csv`` has one class name per line, the split CSVs ``id;label`` rows, and
``20bn-something-something-v1/<id>/00001.jpg...`` hold the frames (1-based). Labels are numbered in
alphabetical order of the class names, as TSM/TIN's ``gen_label_sthv1.py`` does.
"""

from __future__ import annotations

import os
from pathlib import Path

from ._twentybn import prepare_twentybn


def prepare_sthv1(
    root: str | os.PathLike,
    out: str | os.PathLike | None = None,
    frames_dir: str = "20bn-something-something-v1",
    template: str = "{:05d}.jpg",
) -> dict[str, Path]:
    """Write ``category.txt``, ``train.txt`` and ``val.txt`` (paths ``<frames_dir>/<id>``) into ``out``
    (default: ``root``)."""
    return prepare_twentybn(root, out, "something-something-v1", frames_dir, template)
