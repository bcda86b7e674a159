"""The TIN paper's fixed-offset ablation in miniature: Table 1's 8-frame TIN with its learned offsets replaced
by fixed ones, trained with the same recipe, seeds and data order, so that learned minus fixed is paired by
seed like TIN minus TSM.

The fixed offsets are TSM's shifts (``b0 = b1 = -1``: one group of the shifted channels moves one frame each
way, as TSM's do) with TIN's learned per-frame weights left in place (ours: the paper's ablation table, and so
which offsets it fixed, is not in the stored sources). The runs are cached under ``<results_dir>/table1/``
beside Table 1's, by the same hash of their inputs.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from ..engine.metrics import topk_accuracy
from .cache import planned, run_or_load, train_ahead
from .table1 import table1_config

FIXED_OFFSET = (-1.0, -1.0)  # (b0, b1): the TemporalInterlace offsets TSM's shift corresponds to
MODEL = "tin_r50_fixed"  # the name of these runs in a table of runs (the architecture is tin_r50)


def fixed_offset_config(scale: str, seed: int, data_root: str | None, device: str):
    """Table 1's 8-frame TIN configuration at ``scale`` and ``seed`` with ``fixed_offset`` set
    (:data:`FIXED_OFFSET`, in place of any ``offset_init``) and its own run name; the rest of the recipe
    unchanged."""
    config = table1_config(scale, "tin_r50", 8, seed, data_root, device)
    options = {k: v for k, v in config.model.options.items() if k != "offset_init"}  # OffsetNet is not used
    config.model.options = {**options, "fixed_offset": list(FIXED_OFFSET)}
    config.name = f"{MODEL}_8f_seed{seed}"
    return config


def run_fixed_offsets(
    scale: str, seeds: list[int], results_dir: str | Path, data_root: str | None = None, device: str = "auto"
) -> pd.DataFrame:
    """Train (or load from the cache) the fixed-offset TIN of every seed: one row per seed with ``model``
    (:data:`MODEL`), ``frames`` ("8"), ``seed``, top-1 and top-5 on the validation split, as Table 1's rows."""
    configs = [fixed_offset_config(scale, seed, data_root, device) for seed in seeds]
    train_ahead(configs, results_dir, data_root, "table1")
    rows = []
    with planned("fixed offsets", len(configs)):
        for seed, config in zip(seeds, configs):
            out = run_or_load(config, results_dir, data_root)
            saved = np.load(out / "scores.npz")
            rows.append(
                {"model": MODEL, "frames": "8", "seed": seed, **topk_accuracy(saved["scores"], saved["labels"])}
            )
    return pd.DataFrame(rows)
