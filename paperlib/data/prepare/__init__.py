"""Turn each dataset's published annotation files into list files: ``python -m paperlib.data.prepare DATASET``.

Every recipe writes ``category.txt`` (class names, line ``i`` = label ``i``) and one list per split in the
TSN/X-Temporal format (``path num_frames label[,label...]``, paths relative to the dataset root). The published
size of each dataset, to check a copy against, is in :mod:`.expected`.
"""

from .hmdb51 import prepare_hmdb51
from .jester import prepare_jester
from .kinetics import prepare_kinetics
from .mit import prepare_mit
from .mmit import prepare_mmit
from .sthv1 import prepare_sthv1
from .sthv2 import prepare_sthv2
from .ucf101 import prepare_ucf101

PREPARERS = {
    "sthv1": prepare_sthv1,
    "sthv2": prepare_sthv2,
    "jester": prepare_jester,
    "ucf101": prepare_ucf101,
    "hmdb51": prepare_hmdb51,
    "kinetics": prepare_kinetics,
    # the Kinetics versions publish the same file names: one recipe, filed under each version's expected counts
    "kinetics400": prepare_kinetics,
    "kinetics600": prepare_kinetics,
    "kinetics700": prepare_kinetics,
    "mit": prepare_mit,  # Moments in Time v1 and v2 (same layout)
    "mmit": prepare_mmit,
}

__all__ = [
    "PREPARERS",
    "prepare_hmdb51",
    "prepare_jester",
    "prepare_kinetics",
    "prepare_mit",
    "prepare_mmit",
    "prepare_sthv1",
    "prepare_sthv2",
    "prepare_ucf101",
]
