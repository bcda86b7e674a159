"""Turn each dataset's published annotation files into list files: ``python -m paperlib.data.prepare DATASET``.

Every recipe writes ``category.txt`` (class names, line ``i`` = label ``i``) and one list per split in the
TSN/X-Temporal format (``path num_frames label[,label...]``, paths relative to the dataset root).
"""

from .kinetics import prepare_kinetics
from .mmit import prepare_mmit
from .sthv1 import prepare_sthv1
from .sthv2 import prepare_sthv2

RECIPES = {"sthv1": prepare_sthv1, "sthv2": prepare_sthv2, "kinetics": prepare_kinetics, "mmit": prepare_mmit}

__all__ = ["RECIPES", "prepare_kinetics", "prepare_mmit", "prepare_sthv1", "prepare_sthv2"]
