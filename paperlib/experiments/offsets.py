"""What TIN learns: every TIN layer's offsets and per-frame weights over a dataset's videos, which checkpoint
they are read from, their trends by depth and frame, and the chapter's verdict on them."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import torch
from torch import nn

from ..data import VideoDataset, make_loader
from ..engine.config import config_from_dict
from ..engine.data import build_datasets, resolve_data
from ..engine.device import pick_device
from ..models import from_checkpoint, recording_interlace
from ..models.checkpoint import read_checkpoint
from .cache import run_or_load
from .chapter import Chapter
from .results import Interval, mean_interval
from .table1 import table1_checkpoint, table1_config


@torch.no_grad()
def collect_interlace(
    model: nn.Module,
    dataset: VideoDataset,
    max_videos: int | None = None,
    batch_size: int = 16,
    device: str | torch.device = "cpu",
) -> tuple[dict[str, dict[str, np.ndarray]], list[str]]:
    """``({layer: {"offset": [V, 2], "weight": [V, T, 2]}}, video ids)`` over the first ``max_videos`` videos
    (first view of each), in eval mode, on ``device``."""
    model.eval().to(device)
    per_layer: dict[str, dict[str, list]] = {}
    ids: list[str] = []
    for batch in make_loader(dataset, batch_size, train=False):
        video = batch["video"]
        video = (video[:, 0] if video.dim() == 6 else video).to(device)  # first view: [B, 3, T, H, W]
        with recording_interlace(model) as records:
            model(video)
        for layer, r in records.items():
            entry = per_layer.setdefault(layer, {"offset": [], "weight": []})
            entry["offset"].append(r["offset"].float().cpu().numpy())
            entry["weight"].append(r["weight"].float().cpu().numpy())
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
    checkpoint: str | Path, data_root: str | None = None, max_videos: int | None = None, device: str = "cpu"
) -> tuple[dict[str, dict[str, np.ndarray]], list[str]]:
    """:func:`collect_interlace` over the validation split the checkpoint's run used (or the data at
    ``data_root``), with the model rebuilt from the checkpoint, on ``device`` (``"auto"``: CUDA if present)."""
    config = config_from_dict(read_checkpoint(checkpoint).get("config") or {})
    if data_root is not None:
        config.data.root = data_root
    _, val_set = build_datasets(config, resolve_data(config))
    return collect_interlace(from_checkpoint(checkpoint), val_set, max_videos, device=pick_device(device))


def tin_checkpoints(chapter: Chapter) -> dict[int, Path]:
    """Seed -> the 8-frame TIN read for the claims over seeds: Table 1's run of every seed of the chapter
    (trained if not cached), or, with ``checkpoints``, the one TIN given (as seed 0)."""
    if chapter.checkpoints is not None:
        return {0: tin_checkpoint(chapter)}
    return {
        seed: run_or_load(
            table1_config(chapter.scale, "tin_r50", 8, seed, chapter.data_root, chapter.device),
            chapter.results_dir,
            chapter.data_root,
        )
        / "last.pth"
        for seed in chapter.seeds
    }


# A layer whose mean |offset| stays below this (frames) barely shifts: there its block computes nearly what
# TSN's computes (ours; the shifted channels then mostly read their own frame).
STILL_OFFSET = 0.1
STILL_COLUMN = f"layers with |offset| < {STILL_OFFSET}"


def seed_table(summaries: dict[int, dict]) -> pd.DataFrame:
    """One row per seed from :func:`offset_summary`: layers, how many of them barely shift (mean |offset| below
    :data:`STILL_OFFSET`), the rank correlation of mean |offset| with depth, the mean weight of the end frames and
    of the middle frames, and middle minus end."""
    rows = [
        {
            "seed": seed,
            "TIN layers": len(s["layers"]),
            STILL_COLUMN: sum(m < STILL_OFFSET for m in s["mean_abs_offset"]),
            "offset-depth rank corr": s["offset_depth_rank_corr"],
            "end-frame weight": s["end_frame_weight"],
            "middle-frame weight": s["middle_frame_weight"],
            "middle - end": s["middle_frame_weight"] - s["end_frame_weight"],
        }
        for seed, s in summaries.items()
    ]
    return pd.DataFrame(rows).set_index("seed")


def weight_profile(summaries: dict[int, dict]) -> pd.DataFrame:
    """Mean weight per frame (over layers, videos and both groups), averaged over seeds with its 95 % interval."""
    per_seed = np.array([s["mean_weight_per_frame"] for s in summaries.values()])  # [seeds, T]
    rows = []
    for frame in range(per_seed.shape[1]):
        interval = mean_interval(per_seed[:, frame])
        rows.append(
            {
                "frame": frame + 1,
                "weight": interval.estimate,
                "95% CI low": interval.low,
                "95% CI high": interval.high,
                "seeds": interval.n,
            }
        )
    return pd.DataFrame(rows).set_index("frame")


def claim_intervals(table: pd.DataFrame) -> dict[str, Interval]:
    """The two Figure 5 readings as intervals over seeds: ``grows_with_depth`` (mean rank correlation of
    |offset| with depth; > 0 when offsets grow) and ``ends_lower`` (middle minus end weight; > 0 when the end
    frames get lower weights)."""
    return {
        "grows_with_depth": mean_interval(table["offset-depth rank corr"]),
        "ends_lower": mean_interval(table["middle - end"]),
    }


def verdict(summary: dict, table: pd.DataFrame | None = None) -> list[str]:
    """Sentences stating what the measured offsets and weights show (the paper's Figure 5 readings: offsets
    grow with depth, end frames get lower weights): the shown model's layers, then, over every seed's TIN
    (``table``, :func:`seed_table`), how many layers barely shift in each seed and each reading with its 95 %
    interval."""
    per_layer = ", ".join(f"{layer}: {m:.3f}" for layer, m in zip(summary["layers"], summary["mean_abs_offset"]))
    lines = [f"Mean |offset| per layer of the model shown: {per_layer}."]
    if table is None or len(table) < 2:
        grows, ends, middle = (
            summary["offset_depth_rank_corr"],
            summary["end_frame_weight"],
            summary["middle_frame_weight"],
        )
        return lines + [
            f"One model: rank correlation of mean |offset| with depth {grows:+.2f} over {len(summary['layers'])} "
            f"layers; end-frame weight {ends:.3f} vs {middle:.3f} in between. One model decides neither reading.",
        ]
    intervals, layers = claim_intervals(table), int(table["TIN layers"].min())
    still = table[STILL_COLUMN]
    counts = ", ".join(f"seed {seed}: {n} of {table.loc[seed, 'TIN layers']}" for seed, n in still.items())
    lines.append(
        f"Layers that barely shift (mean |offset| below {STILL_OFFSET} frame, where the block computes nearly what "
        f"TSN's does): {counts}."
    )
    words = {
        "grows_with_depth": (
            "Offsets grow with depth",
            "offsets shrink with depth",
            "rank correlation of mean |offset| with layer index",
        ),
        "ends_lower": (
            "End frames get lower weights",
            "end frames get higher weights",
            "middle minus end-frame weight",
        ),
    }
    for key, interval in intervals.items():
        claim, opposite, measure = words[key]
        reading = (
            "supported" if interval.low > 0 else f"not supported ({opposite})" if interval.high < 0 else "undecided"
        )
        lines.append(f"{claim}: {reading}. {measure.capitalize()}: {interval} over seeds ({layers} TIN layers each).")
    return lines
