"""A video dataset over a list file: sample frame indices, read them, transform them.

Items are dicts: ``video`` (train: ``Tensor[3, T, h, w]``; test: ``Tensor[V, 3, T, h, w]`` with
``V = clips × crops`` views), ``label`` (an ``int``, or a multi-hot ``float32 Tensor[K]`` for multi-label
data), ``index`` and ``id`` (the record's path). A broken item raises :class:`~paperlib.data.sources.FrameReadError`
naming its file and list line; with ``on_error="skip"`` it becomes a marked item that :func:`collate`
drops and reports instead (never a substitute video).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import Dataset, default_collate

from .clip_sampler import ClipSampler
from .lists import ListFormatError, VideoRecord, read_list
from .sources import FrameFolder, FrameReadError, VideoFile
from .transforms import TestTransform, TrainTransform


class VideoDataset(Dataset):
    """Clips from the videos of a list file.

    Args:
        records: a list file path or already-read records.
        root: folder the records' paths are relative to.
        source: :class:`FrameFolder` or :class:`VideoFile`.
        sampler: which frames make a clip (TSN or dense, test clips).
        transform: :class:`TrainTransform` (training) or :class:`TestTransform` (testing).
        num_classes: number of classes; labels outside ``[0, num_classes)`` raise at construction.
        multi_label: return multi-hot label vectors (MMIT) instead of class ids.
        seed: base seed; item ``i`` in epoch ``e`` uses ``numpy.random.default_rng([seed, e, i])``.
        on_error: ``"raise"`` (default) or ``"skip"`` (mark the item; :func:`collate` drops and reports it).
    """

    def __init__(
        self,
        records: str | os.PathLike | Sequence[VideoRecord],
        root: str | os.PathLike,
        source: FrameFolder | VideoFile,
        sampler: ClipSampler,
        transform: TrainTransform | TestTransform,
        num_classes: int,
        multi_label: bool = False,
        seed: int = 0,
        on_error: str = "raise",
    ) -> None:
        self.list_file = None if isinstance(records, Sequence) else str(records)
        self.records = list(records) if isinstance(records, Sequence) else read_list(records)
        self.root, self.source, self.sampler, self.transform = Path(root), source, sampler, transform
        self.num_classes, self.multi_label, self.seed, self.epoch = num_classes, multi_label, seed, 0
        if on_error not in ("raise", "skip"):
            raise ValueError(f"on_error must be 'raise' or 'skip', got {on_error!r}")
        self.on_error = on_error
        where = self.list_file or "records"
        for r in self.records:
            if any(not 0 <= x < num_classes for x in r.labels):
                raise ListFormatError(
                    f"{where}:{r.line}: label(s) {list(r.labels)} of {r.path} outside [0, {num_classes}) "
                    f"(the model has {num_classes} classes: fix the line or model.num_classes)"
                )
            if not multi_label and len(r.labels) != 1:
                raise ListFormatError(
                    f"{where}:{r.line}: {r.path} has {len(r.labels)} labels in a single-label dataset "
                    "(set data.multi_label=true for multi-label lists)"
                )

    @property
    def training(self) -> bool:
        return isinstance(self.transform, TrainTransform)

    def set_epoch(self, epoch: int) -> None:
        """Change the random draws of training items (call at the start of every epoch)."""
        self.epoch = epoch

    def __len__(self) -> int:
        return len(self.records)

    def label_of(self, record: VideoRecord) -> int | torch.Tensor:
        if not self.multi_label:
            return record.label
        target = torch.zeros(self.num_classes, dtype=torch.float32)
        target[list(record.labels)] = 1.0
        return target

    def load(self, index: int) -> dict:
        """The item at ``index`` (errors raise)."""
        record = self.records[index]
        rng = np.random.default_rng([self.seed, self.epoch, index])
        frames = record.num_frames
        indices = self.sampler.train(frames, rng) if self.training else self.sampler.test(frames, rng)  # [clips, T]
        clips = torch.from_numpy(self.source.read(self.root / record.path, indices.reshape(-1)))  # [clips*T, H, W, 3]
        clips = clips.permute(0, 3, 1, 2).reshape(len(indices), indices.shape[1], 3, *clips.shape[1:3])
        if self.training:
            video = self.transform(clips[0], rng)  # [3, T, h, w]
        else:
            video = torch.cat([self.transform(c) for c in clips])  # [clips*crops, 3, T, h, w]
        return {"video": video, "label": self.label_of(record), "index": index, "id": record.path}

    def __getitem__(self, index: int) -> dict:
        try:
            return self.load(index)
        except FrameReadError as exc:
            record = self.records[index]
            message = f"{self.list_file or 'records'}:{record.line}: {exc}"
            if self.on_error == "raise":
                raise FrameReadError(message) from None
            return {"error": message, "index": index, "id": record.path}


def collate(items: list[dict]) -> dict:
    """Batch items; skipped items (``on_error="skip"``) are dropped and listed under ``"skipped"``."""
    good = [item for item in items if "error" not in item]
    skipped = [item["error"] for item in items if "error" in item]
    batch = default_collate(good) if good else {"index": torch.empty(0, dtype=torch.long), "id": []}
    batch["skipped"] = skipped
    return batch
