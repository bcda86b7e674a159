"""Data: list formats, frame/video sources, sampling, transforms, datasets.

Real datasets and the embedded (procedurally generated) ones go through the same code: annotation files ->
``prepare`` -> list files -> :class:`VideoDataset` -> :func:`make_loader`.
"""

from .clip_sampler import ClipSampler
from .dataset import VideoDataset, collate
from .lists import ListFormatError, VideoRecord, read_class_names, read_list, write_list
from .loader import ShardSampler, make_loader
from .sources import FrameFolder, FrameReadError, VideoFile, source_for
from .transforms import TestTransform, TrainTransform

__all__ = [
    "ClipSampler",
    "FrameFolder",
    "FrameReadError",
    "ListFormatError",
    "ShardSampler",
    "TestTransform",
    "TrainTransform",
    "VideoDataset",
    "VideoFile",
    "VideoRecord",
    "collate",
    "make_loader",
    "read_class_names",
    "read_list",
    "source_for",
    "write_list",
]
