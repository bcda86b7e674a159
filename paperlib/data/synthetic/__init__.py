"""Procedurally generated datasets written in the real datasets' formats, so the real loaders read them.

``make_something`` writes a Something-Something v1 set whose classes need frame order (time-reversal
pairs); ``make_mmit`` a Multi-Moments-in-Time set of multi-label H.264 videos; ``make_imagenet`` still images of
the same world in ImageNet's folder layout (the small scales' pretraining). All are deterministic by seed and
cached on disk behind a ``fingerprint.json`` completion marker.
"""

from ._common import GENERATOR_VERSION, GeneratedDataset, fingerprint
from .imagenet import ImageNetScale, make_imagenet
from .mmit import MMITScale, make_mmit
from .something import SomethingScale, make_something

__all__ = [
    "GENERATOR_VERSION",
    "GeneratedDataset",
    "ImageNetScale",
    "MMITScale",
    "SomethingScale",
    "fingerprint",
    "make_imagenet",
    "make_mmit",
    "make_something",
]
