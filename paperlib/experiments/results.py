"""Machine-readable results of a chapter, the provenance of its runs, and summaries over seeds."""

from __future__ import annotations

import json
import math
import os
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy import stats

from ..engine.provenance import git_commit
from ..utils import atomic_write_text
from .cache import code_hash


def write_results(results_dir: str | os.PathLike, name: str, results: dict, parameters: dict) -> Path:
    """``<results_dir>/<name>.json``: the chapter's numbers with the parameters and code that made them."""
    payload = {
        "notebook": name,
        "results": results,
        "parameters": parameters,
        "commit": git_commit(),
        "code_hash": code_hash(),
        "written": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }
    return atomic_write_text(Path(results_dir) / f"{name}.json", json.dumps(payload, indent=1, default=str) + "\n")


def run_provenance(run: str | os.PathLike) -> dict:
    """How one training run or checkpoint evaluation was produced, from its ``metrics.json``: for a
    chapter's saved results (folder named by its input hash, commit, device, data fingerprint, views, metrics)."""
    run = Path(run)
    record = json.loads((run / "metrics.json").read_text())
    data = record.get("data", {})
    started_from = record.get("checkpoint") or (record.get("config") or {}).get("model", {}).get("pretrained")
    return {
        "run": f"{run.parent.name}/{run.name}",
        "commit": (record.get("commit") or "n/a")[:12],
        "device": record.get("device"),
        "views": record.get("views"),
        "data": f"{data.get('lists_sha256', 'n/a')} ("
        + ", ".join(f"{name} {count}" for name, count in data.get("entries", {}).items())
        + ")",
        "checkpoint_sha256": (record.get("checkpoint_sha256") or "")[:16] or None,
        "started_from": Path(started_from).parent.name if started_from else None,
        "metric": next(
            (f"{k} {v:.2f}" for k, v in record.get("metrics", {}).items() if k in ("top1", "mAP_classwise")), None
        ),
    }


def mean_std(table, by: list[str], metrics: list[str]):
    """``table`` (a DataFrame of runs) summarised as "mean ± std" over seeds (sample std; 0 for one seed) per
    group of ``by``, with the number of seeds."""
    grouped = table.groupby(by, sort=False)[metrics]
    mean, std = grouped.mean(), grouped.std(ddof=1).fillna(0.0)
    out = mean[[]].copy()
    for c in metrics:
        out[c] = [f"{m:.1f} ± {s:.1f}" for m, s in zip(mean[c], std[c])]
    out["seeds"] = grouped.size()
    return out


@dataclass(frozen=True)
class Interval:
    """A mean over seeds with its two-sided 95 % t-interval (``low``/``high`` are infinite for one value)."""

    estimate: float
    low: float
    high: float
    n: int

    def __str__(self) -> str:
        if self.n < 2:
            return f"{self.estimate:+.2f} (one seed: no interval)"
        return f"{self.estimate:+.2f} (95 % CI {self.low:+.2f} to {self.high:+.2f}, n = {self.n})"


def mean_interval(values, level: float = 0.95) -> Interval:
    """Mean of ``values`` (one per seed) and its Student-t confidence interval at ``level``."""
    values = np.asarray(list(values), dtype=np.float64)
    values = values[~np.isnan(values)]
    n = len(values)
    if n == 0:
        return Interval(float("nan"), float("nan"), float("nan"), 0)
    mean = float(values.mean())
    if n < 2:
        return Interval(mean, -math.inf, math.inf, n)
    half = float(stats.t.ppf((1 + level) / 2, n - 1) * values.std(ddof=1) / math.sqrt(n))
    return Interval(mean, mean - half, mean + half, n)


def paired_difference(table, metric: str, column: str, a: str, b: str, on: str = "seed") -> Interval:
    """Mean over ``on`` (the seed) of ``metric`` for rows with ``column == a`` minus ``column == b``, paired by
    seed (only seeds that have both), with its 95 % interval: e.g. TIN - TSM top-1 trained on the same data
    order per seed."""
    left = table[table[column] == a].set_index(on)[metric]
    right = table[table[column] == b].set_index(on)[metric]
    both = left.index.intersection(right.index)
    return mean_interval((left[both] - right[both]).to_numpy())


def protocol_label(protocol: str, crops: int | None = None, clips: int | None = None) -> str:
    """``"test protocol paperlib (ours), 1 crop x 1 clip"``: how a measured number was tested, for captions."""
    views = "" if crops is None else f", {crops} crop{'s' * (crops != 1)} x {clips} clip{'s' * (clips != 1)}"
    return f"test protocol {protocol}{' (ours)' if protocol == 'paperlib' else ''}{views}"
