"""What TIN learns: every TIN layer's offsets and per-frame weights over a dataset's videos, which checkpoint
they are read from, their trends by depth and frame, and the chapter's verdict on them."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from torch import nn

from ..data import VideoDataset, make_loader
from ..engine.config import config_from_dict
from ..engine.data import build_datasets, resolve_data
from ..models import from_checkpoint, recording_interlace
from ..models.checkpoint import read_checkpoint
from .cache import run_or_load
from .chapter import Chapter
from .table1 import table1_checkpoint, table1_config


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


def offset_summary(records: dict[str, dict[str, np.ndarray]]) -> dict:
    """Measured trends: mean |offset| per layer (and its rank correlation with depth), mean weight per frame."""
    layers = list(records)
    magnitude = np.array([np.abs(records[k]["offset"]).mean() for k in layers])
    depth_corr = (
        float(np.corrcoef(np.arange(len(layers)), np.argsort(np.argsort(magnitude)))[0, 1])
        if len(layers) > 2
        else float("nan")
    )
    weights = np.stack([records[k]["weight"].mean(axis=(0, 2)) for k in layers])  # [L, T]
    t = weights.shape[1]
    ends = weights[:, [0, t - 1]].mean()
    middle = weights[:, 1 : t - 1].mean() if t > 2 else float("nan")
    return {
        "layers": layers,
        "mean_abs_offset": magnitude.tolist(),
        "offset_depth_rank_corr": depth_corr,
        "mean_weight_per_frame": weights.mean(axis=0).tolist(),
        "end_frame_weight": float(ends),
        "middle_frame_weight": float(middle),
    }


def tin_checkpoint(chapter: Chapter) -> Path:
    """The TIN whose offsets a chapter reads: ``chapter.checkpoints`` (a file, or a folder of Table 1
    checkpoints holding an 8-frame TIN), else the 8-frame TIN of Table 1's first seed (trained if not cached)."""
    if chapter.checkpoints is None:
        config = table1_config(chapter.scale, "tin_r50", 8, chapter.seeds[0], chapter.data_root, chapter.device)
        return run_or_load(config, chapter.results_dir, chapter.data_root) / "last.pth"
    if Path(chapter.checkpoints).is_dir():
        found = table1_checkpoint(chapter.checkpoints, "tin_r50", 8)
        if found is None:
            raise FileNotFoundError(f"checkpoints: no 8-frame TIN checkpoint in {chapter.checkpoints}")
        return found
    return Path(chapter.checkpoints)


def collect_from_checkpoint(
    checkpoint: str | Path, data_root: str | None = None, max_videos: int | None = None
) -> tuple[dict[str, dict[str, np.ndarray]], list[str]]:
    """:func:`collect_interlace` over the validation split the checkpoint's run used (or the data at
    ``data_root``), with the model rebuilt from the checkpoint."""
    config = config_from_dict(read_checkpoint(checkpoint).get("config") or {})
    if data_root is not None:
        config.data.root = data_root
    _, val_set = build_datasets(config, resolve_data(config))
    return collect_interlace(from_checkpoint(checkpoint), val_set, max_videos)


def verdict(summary: dict) -> list[str]:
    """Sentences stating what the measured offsets and weights show (the paper's Figure 5 readings: offsets
    grow with depth, end frames get lower weights), computed from :func:`offset_summary`."""
    grows, ends, middle = summary["offset_depth_rank_corr"], summary["end_frame_weight"], summary["middle_frame_weight"]
    per_layer = ", ".join(f"{layer}: {m:.3f}" for layer, m in zip(summary["layers"], summary["mean_abs_offset"]))
    return [
        f"Mean |offset| per layer: {per_layer}.",
        f"Offsets {'grow' if grows > 0.5 else 'do not clearly grow'} with depth "
        f"(rank correlation of mean |offset| with layer index: {grows:+.2f}, over {len(summary['layers'])} layers).",
        f"End frames {'get lower' if ends < middle else 'do not get lower'} weights than middle frames "
        f"(mean weight {ends:.3f} at the first and last frame vs {middle:.3f} in between).",
    ]
