"""Collect every TIN layer's offsets and per-frame weights over a dataset's videos."""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from ..data import VideoDataset, make_loader
from ..models import recording_interlace


@torch.no_grad()
def collect_interlace(
    model: nn.Module, dataset: VideoDataset, max_videos: int | None = None, batch_size: int = 16
) -> tuple[dict[str, dict[str, np.ndarray]], list[str]]:
    """``({layer: {"offset": [V, 2], "weight": [V, T, 2]}}, video ids)`` over the first ``max_videos`` videos
    (first view of each), in eval mode."""
    model.eval()
    per_layer: dict[str, dict[str, list]] = {}
    ids: list[str] = []
    for batch in make_loader(dataset, batch_size, train=False):
        video = batch["video"]
        video = video[:, 0] if video.dim() == 6 else video  # first view: [B, 3, T, H, W]
        with recording_interlace(model) as records:
            model(video)
        for layer, r in records.items():
            entry = per_layer.setdefault(layer, {"offset": [], "weight": []})
            entry["offset"].append(r["offset"].numpy())
            entry["weight"].append(r["weight"].numpy())
        ids += batch["id"]
        if max_videos is not None and len(ids) >= max_videos:
            break
    n = len(ids) if max_videos is None else min(len(ids), max_videos)
    return (
        {layer: {k: np.concatenate(v)[:n] for k, v in entry.items()} for layer, entry in per_layer.items()},
        ids[:n],
    )
