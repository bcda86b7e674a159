"""Machine-readable results of a chapter, the provenance of its runs, and summaries over seeds."""

from __future__ import annotations

import json
import math
import os
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..engine.provenance import git_commit
from ..utils import atomic_write_text
from .folders import code_hash


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
    """A mean over seeds (or timed rounds) with its two-sided 95 % t-interval (``low``/``high`` are infinite
    for one value), and the values it is the mean of (``values``, labelled by ``labels``: the seeds), so a
    reader can see which seed went which way. An interval saved before the values were kept has none."""

    estimate: float
    low: float
    high: float
    n: int
    values: tuple[float, ...] = ()
    labels: tuple = ()

    def __str__(self) -> str:
        if self.n < 2:
            return f"{self.estimate:+.2f} (one seed: no interval)"
        return f"{self.estimate:+.2f} (95 % CI {self.low:+.2f} to {self.high:+.2f}, n = {self.n})"

    @property
    def sd(self) -> float:
        """The sample standard deviation of the values (ddof 1); for an interval saved without its values,
        recovered from the interval's half-width (``half = t(0.975, n - 1) * sd / sqrt(n)``); NaN for n < 2."""
        if self.n < 2:
            return float("nan")
        if len(self.values) == self.n:
            return float(np.std(self.values, ddof=1))
        from scipy import stats  # here, not at the top: the run workers import this module and need no SciPy

        return (self.high - self.low) / 2 * math.sqrt(self.n) / float(stats.t.ppf(0.975, self.n - 1))

    def to_dict(self) -> dict:
        """JSON-ready: the four numbers, the values and their labels (seeds as given)."""
        return {
            "estimate": self.estimate,
            "low": self.low,
            "high": self.high,
            "n": self.n,
            "values": list(self.values),
            "labels": [_plain(label) for label in self.labels],
        }

    @classmethod
    def from_dict(cls, saved: dict) -> Interval:
        """The inverse of :meth:`to_dict`; also reads an interval saved before values were kept (estimate,
        low, high and n only)."""
        return cls(
            float(saved["estimate"]),
            float(saved["low"]),
            float(saved["high"]),
            int(saved["n"]),
            tuple(float(v) for v in saved.get("values", ())),
            tuple(saved.get("labels", ())),
        )


def _plain(label):
    """A seed label as JSON keeps it (numpy integers become int)."""
    return label.item() if isinstance(label, np.generic) else label


def mean_interval(values, level: float = 0.95, labels=None) -> Interval:
    """Mean of ``values`` (one per seed) and its Student-t confidence interval at ``level``; ``labels``: the
    seed of each value (default 0, 1, ...). NaN values are left out with their labels."""
    values = np.asarray(list(values), dtype=np.float64)
    labels = list(range(len(values))) if labels is None else list(labels)
    if len(labels) != len(values):
        raise ValueError(f"mean_interval: {len(values)} values but {len(labels)} labels")
    keep = ~np.isnan(values)
    values, labels = values[keep], tuple(_plain(label) for label, k in zip(labels, keep) if k)
    n = len(values)
    if n == 0:
        return Interval(float("nan"), float("nan"), float("nan"), 0)
    mean = float(values.mean())
    kept = tuple(float(v) for v in values)
    if n < 2:
        return Interval(mean, -math.inf, math.inf, n, kept, labels)
    from scipy import stats

    half = float(stats.t.ppf((1 + level) / 2, n - 1) * values.std(ddof=1) / math.sqrt(n))
    return Interval(mean, mean - half, mean + half, n, kept, labels)


def paired_difference(table, metric: str, column: str, a: str, b: str, on: str = "seed") -> Interval:
    """Mean over ``on`` (the seed) of ``metric`` for rows with ``column == a`` minus ``column == b``, paired by
    seed (only seeds that have both), with its 95 % interval and the per-seed differences labelled by seed:
    e.g. TIN - TSM top-1 trained on the same data order per seed."""
    left = table[table[column] == a].set_index(on)[metric]
    right = table[table[column] == b].set_index(on)[metric]
    both = left.index.intersection(right.index)
    return mean_interval((left[both] - right[both]).to_numpy(), labels=list(both))


def t_test_power(effect: float, sd: float, n: int, alpha: float = 0.05) -> float:
    """Power of the two-sided one-sample (paired) t-test at level ``alpha`` to detect a true mean difference
    ``effect`` from ``n`` values with standard deviation ``sd``: P(|T| > t_crit) for T noncentral t with
    n - 1 degrees of freedom and noncentrality ``effect / sd * sqrt(n)``."""
    if n < 2:
        return float("nan")
    from scipy import stats

    df, noncentrality = n - 1, abs(effect) / sd * math.sqrt(n)
    critical = float(stats.t.ppf(1 - alpha / 2, df))
    lower = float(stats.nct.cdf(-critical, df, noncentrality))  # NaN far in the tail, where it is 0
    return float(stats.nct.sf(critical, df, noncentrality)) + (0.0 if math.isnan(lower) else lower)


def min_detectable_effect(sd: float, n: int, power: float = 0.8, alpha: float = 0.05) -> float:
    """The smallest true mean difference (in the values' unit) that a two-sided paired t-test at level
    ``alpha`` over ``n`` values with standard deviation ``sd`` detects with probability ``power``: the root of
    :func:`t_test_power` (e.g. n = 10, sd = 1: 0.996). Infinite for n < 2, 0 for sd = 0."""
    if n < 2 or math.isnan(sd):
        return math.inf
    if sd == 0:
        return 0.0
    from scipy import optimize

    high = sd
    while t_test_power(high, sd, n, alpha) < power:
        high *= 2
    return float(optimize.brentq(lambda effect: t_test_power(effect, sd, n, alpha) - power, 0.0, high, xtol=1e-12))


def protocol_label(protocol: str, crops: int | None = None, clips: int | None = None) -> str:
    """``"test protocol paperlib (ours), 1 crop x 1 clip"``: how a measured number was tested, for captions."""
    views = "" if crops is None else f", {crops} crop{'s' * (crops != 1)} x {clips} clip{'s' * (clips != 1)}"
    return f"test protocol {protocol}{' (ours)' if protocol == 'paperlib' else ''}{views}"
