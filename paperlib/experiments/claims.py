"""The claims ledger: every claim of the TIN paper, the MMIT report and X-Temporal that the book tests, each
with its source, the chapter that measures it, the prediction written before the runs, the measured outcome
with its 95 % interval, and a verdict computed from that interval.

A verdict is ``supported`` when the whole interval lies on the claim's side, ``not supported`` when it lies
on the other side, ``undecided`` when it includes both, and ``not tested`` when this build has no measurement
(e.g. the MMIT rows when the book runs on Table 1 checkpoints only). Intervals are over seeds (or over timed
rounds for latency), paired where two models share a seed's data order.
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from ..models import complexity, create
from .results import Interval, mean_interval, paired_difference

VERDICTS = ("supported", "not supported", "undecided", "not tested")
TIN_PAPER = "Shao et al., TIN, AAAI 2020 (arXiv 2001.06499)"
MMIT_REPORT = "Zhang, Shao et al., MMIT 2019 winning report (arXiv 2003.05837)"
XTEMPORAL_ZOO = "Sense-X/X-Temporal, ModelZoo.md"


@dataclass(frozen=True)
class Claim:
    """One claim: ``kind`` ``"greater"`` is supported when the interval lies above ``threshold``; ``"at most"``
    when it lies at or below ``threshold`` (and not supported when it lies above)."""

    key: str
    claim: str
    source: str
    chapter: str  # the notebook that measures it
    prediction: str  # written before the runs: what the measurement shows if the claim holds
    measure: str  # the quantity whose interval decides, with its unit
    kind: str = "greater"
    threshold: float = 0.0


CLAIMS = (
    Claim(
        "tin_gt_tsm_8f",
        "TIN beats TSM at 8 frames",
        f"{TIN_PAPER}, Table 1 (45.8 vs 43.4 top-1), quoted in deepcs233/TIN issue #3",
        "table1",
        "TIN - TSM top-1 > 0 over paired seeds",
        "TIN - TSM top-1 (points), 8 frames",
    ),
    Claim(
        "tin_gt_tsm_16f",
        "TIN beats TSM at 16 frames",
        f"{TIN_PAPER}, Table 1 (47.0 vs 44.8)",
        "table1",
        "TIN - TSM top-1 > 0 over paired seeds",
        "TIN - TSM top-1 (points), 16 frames",
    ),
    Claim(
        "tsm_gt_tsn_8f",
        "TSM beats the order-blind TSN at 8 frames",
        f"{TIN_PAPER}, Table 1 (TSN rows); Lin et al., TSM, ICCV 2019, Table 1",
        "table1",
        "TSM - TSN top-1 > 0 over paired seeds",
        "TSM - TSN top-1 (points), 8 frames",
    ),
    Claim(
        "tsm_gt_tsn_16f",
        "TSM beats the order-blind TSN at 16 frames",
        f"{TIN_PAPER}, Table 1",
        "table1",
        "TSM - TSN top-1 > 0 over paired seeds",
        "TSM - TSN top-1 (points), 16 frames",
    ),
    Claim(
        "ensemble_8f16f",
        "The 8F+16F ensemble beats the 16-frame model",
        f"{TIN_PAPER}, Table 1 (TIN 49.6 vs 47.0)",
        "table1",
        "TIN's 8F+16F average - TIN 16F top-1 > 0 over seeds",
        "TIN 8F+16F - TIN 16F top-1 (points)",
    ),
    Claim(
        "tin_flops_tsm",
        "TIN costs about what TSM costs: slightly more FLOPs",
        "deepcs233/TIN issue #3 (Table 1's FLOPs column: TIN 'slightly more flops/video')",
        "speed",
        "TIN / TSM GFLOPs at R50 8x224² at most 1.05 (ours: 'slightly')",
        "TIN / TSM GFLOPs per view (exact count)",
        kind="at most",
        threshold=1.05,
    ),
    Claim(
        "tin_latency_tsm",
        "TIN's latency is close to TSM's",
        f"{TIN_PAPER}, abstract ('6x less latency' than r-TCN); the 1.15 bound is ours",
        "speed",
        "TIN / TSM CPU inference time at R50 8x224² at most 1.15 over timed rounds",
        "TIN / TSM inference time, per interleaved round",
        kind="at most",
        threshold=1.15,
    ),
    Claim(
        "interlace_is_conv",
        "The interlace shift is a constrained temporal convolution",
        f"{TIN_PAPER}, abstract (TIN 'performs equivalently to' r-TCN); the exact form is ours (theory chapter)",
        "theory",
        "max |op - 2-tap conv| over values and gradients at most 1e-9 in float64",
        "max |op - conv| (float64)",
        kind="at most",
        threshold=1e-9,
    ),
    Claim(
        "offsets_grow",
        "Offsets are small in shallow layers and grow with depth",
        f"{TIN_PAPER}, the learned-offsets figure (Figure 5)",
        "offsets",
        "rank correlation of mean |offset| with layer index > 0 over seeds",
        "rank correlation, |offset| vs depth",
    ),
    Claim(
        "ends_lower",
        "End frames get lower weights",
        f"{TIN_PAPER}, the learned-weights figure (Figure 5)",
        "offsets",
        "middle-frame minus end-frame weight > 0 over seeds",
        "middle - end weight",
    ),
    Claim(
        "fast_best_3d",
        "The dense fast pathway (32x2) is the best 3D single model",
        f"{MMIT_REPORT}, 3D models (the text is not public beyond the abstract; as the report is cited)",
        "mmit_single",
        "fast-only - best of slow-only and SlowFast, test class-wise mAP > 0 over seeds",
        "fast - best other 3D, class-wise mAP (points)",
    ),
    Claim(
        "multiview_helps",
        "Multi-view (dense, multi-crop) testing helps",
        f"{XTEMPORAL_ZOO} (3 crops x 10 clips above 1 view for every model); {MMIT_REPORT}",
        "mmit_single",
        "multi-view - single-view class-wise mAP, averaged over models, > 0 over seeds",
        "multi-view gain, class-wise mAP (points)",
    ),
    Claim(
        "fusion_beats_single",
        "Fusing TIN with the SlowFast family beats every single model",
        f"{MMIT_REPORT}, abstract (the ensemble won); members and weights are not published",
        "mmit_ensemble",
        "tuned fusion - best single model (chosen on val), test class-wise mAP > 0 over seeds",
        "fusion - best single, class-wise mAP (points)",
    ),
)
BY_KEY = {c.key: c for c in CLAIMS}


def decide(claim: Claim, interval: Interval | None) -> str:
    """The verdict of ``claim`` given its measured ``interval`` (see the module docstring)."""
    if interval is None or interval.n == 0 or math.isnan(interval.estimate):
        return "not tested"
    if claim.kind == "greater":
        above, below = interval.low > claim.threshold, interval.high < claim.threshold
        return "supported" if above else "not supported" if below else "undecided"
    if claim.kind == "at most":
        within, beyond = interval.high <= claim.threshold, interval.low > claim.threshold
        return "supported" if within else "not supported" if beyond else "undecided"
    raise ValueError(f"claim {claim.key}: unknown kind {claim.kind!r}")


def exact(value: float) -> Interval:
    """A deterministic measurement (a count, a float64 error): an interval of width zero."""
    return Interval(float(value), float(value), float(value), 1)


def ledger(evidence: dict[str, Interval | None], claims: tuple[Claim, ...] = CLAIMS) -> pd.DataFrame:
    """One row per claim: its text, source, chapter, prediction, the measured interval and the verdict."""
    rows = []
    for c in claims:
        interval = evidence.get(c.key)
        measured = "-" if interval is None or interval.n == 0 else _shown(interval, signed=c.kind == "greater")
        rows.append(
            {
                "claim": c.claim,
                "source": c.source,
                "chapter": c.chapter,
                "prediction (before the runs)": c.prediction,
                "measured": f"{c.measure}: {measured}",
                "verdict": decide(c, interval),
            }
        )
    return pd.DataFrame(rows, index=pd.Index([c.key for c in claims], name="key"))


def _shown(interval: Interval, signed: bool) -> str:
    """A difference with its sign; a ratio or an error without; an exact value to 4 significant digits."""
    if interval.low == interval.high:
        return f"{interval.estimate:.4g}"
    text = str(interval)
    return text if signed else text.replace("+", "")


def summary(table: pd.DataFrame) -> pd.DataFrame:
    """How many claims got each verdict."""
    counts = table["verdict"].value_counts()
    return pd.DataFrame({"claims": [int(counts.get(v, 0)) for v in VERDICTS]}, index=pd.Index(VERDICTS, name="verdict"))


# Evidence from each chapter's measurements -----------------------------------------------------------------


def table1_evidence(runs: pd.DataFrame) -> dict[str, Interval]:
    """Paired differences of Table 1's runs (:func:`paperlib.experiments.table1.run_table1`)."""
    out = {}
    for frames in ("8", "16"):
        group = runs[runs["frames"] == frames]
        out[f"tin_gt_tsm_{frames}f"] = paired_difference(group, "top1", "model", "tin_r50", "tsm_r50")
        out[f"tsm_gt_tsn_{frames}f"] = paired_difference(group, "top1", "model", "tsm_r50", "tsn_r50")
    tin = runs[runs["model"] == "tin_r50"]
    out["ensemble_8f16f"] = paired_difference(tin, "top1", "frames", "8+16", "16")
    return out


def cost_evidence(records: list[dict] | None = None, frames: int = 8, size: int = 224) -> dict[str, Interval]:
    """TIN / TSM: GFLOPs of the R50 models (counted, 174 classes) and, from the model benchmark's records
    (``paperlib.bench.models.measure``), the inference time per interleaved round."""
    flops = {
        name: complexity(create(name, 174, frames), (1, 3, frames, size, size))["gflops"]
        for name in ("tsm_r50", "tin_r50")
    }
    out = {"tin_flops_tsm": exact(flops["tin_r50"] / flops["tsm_r50"])}
    by_name = {r["model"]: r for r in records or []}
    if {"tin_r50", "tsm_r50"} <= set(by_name) and "inference_rounds_s" in by_name["tin_r50"]:
        tin, tsm = (np.asarray(by_name[m]["inference_rounds_s"]) for m in ("tin_r50", "tsm_r50"))
        out["tin_latency_tsm"] = mean_interval(tin / tsm)
    return out


def theory_evidence(equivalence: pd.DataFrame) -> dict[str, Interval]:
    """The largest float64 difference between the op and the 2-tap convolution
    (:func:`paperlib.experiments.theory.equivalence_table`)."""
    return {"interlace_is_conv": exact(float(equivalence.to_numpy().max()))}


def offsets_evidence(per_seed: pd.DataFrame) -> dict[str, Interval]:
    """The two Figure 5 readings over seeds (:func:`paperlib.experiments.offsets.seed_table`)."""
    return {
        "offsets_grow": mean_interval(per_seed["offset-depth rank corr"]),
        "ends_lower": mean_interval(per_seed["middle - end"]),
    }


def mmit_evidence(single: pd.DataFrame, fused: pd.DataFrame | None, views: tuple[str, str]) -> dict[str, Interval]:
    """From the MMIT single models (:func:`paperlib.experiments.mmit.run_single_models`) on the test split and
    the ensemble table (:func:`paperlib.experiments.mmit.ensemble`): per seed, fast-only minus the better of
    slow-only and SlowFast; the multi-view gain averaged over models; tuned fusion minus the best single."""
    one, multi = views
    test = single[single["split"] == "test"]
    by_seed = test[test["view"] == one].pivot_table(index="seed", columns="model", values="classwise_mAP")
    out = {}
    others = [m for m in ("slow_r50", "slowfast_r50") if m in by_seed]
    if "fast_r50" in by_seed and others:
        out["fast_best_3d"] = mean_interval(by_seed["fast_r50"] - by_seed[others].max(axis=1))
    views_table = test.pivot_table(index=["seed", "model"], columns="view", values="classwise_mAP")
    if {one, multi} <= set(views_table.columns):
        gain = (views_table[multi] - views_table[one]).groupby(level="seed").mean()
        out["multiview_helps"] = mean_interval(gain)
    if fused is not None and len(fused):
        tuned = fused[fused["method"] == "tuned fusion (weights from val)"]
        out["fusion_beats_single"] = mean_interval(tuned["gain_over_best_single"])
    return out


# What an experiment needs to be able to decide its claims (issue #18's requirements; the thresholds are ours).
MIN_PAIRED_SEEDS = 5
MIN_TIN_LAYERS = 8
MMIT_MARGIN = 5.0  # class-wise mAP points above chance, in every (model, seed)


def power_checks(
    runs: pd.DataFrame | None = None,
    offsets_per_seed: pd.DataFrame | None = None,
    mmit_margins: pd.Series | None = None,
) -> pd.DataFrame:
    """Whether this build's experiments can decide their claims, one row per requirement: Table 1's best mean
    top-1 below :data:`~paperlib.experiments.table1.SATURATION`; TIN - TSM paired over at least
    :data:`MIN_PAIRED_SEEDS` seeds; offsets read from at least :data:`MIN_TIN_LAYERS` TIN layers in every seed;
    every MMIT model at least :data:`MMIT_MARGIN` points above chance in every seed (``mmit_margins``: class-wise
    mAP minus chance per (model, seed), :func:`paperlib.experiments.mmit.margins_over_chance`). A part not
    measured gets ``measured = "not measured"`` and ``met = None``."""
    from .table1 import SATURATION, best_single, short_name

    measured: dict[str, tuple[str, bool]] = {}  # check -> (what was measured, whether it meets the requirement)
    best = None if runs is None or not len(runs) else best_single(runs)
    if best is not None:
        model, frames, top = best
        measured["Table 1 below saturation"] = (f"{short_name(model)} {frames}F: {top:.1f} %", top < SATURATION)
        paired = min(
            paired_difference(runs[runs["frames"] == f], "top1", "model", "tin_r50", "tsm_r50").n
            for f in ("8", "16")
            if f in set(runs["frames"])
        )
        measured["TIN - TSM paired seeds"] = (f"{paired} seeds", paired >= MIN_PAIRED_SEEDS)
    if offsets_per_seed is not None and len(offsets_per_seed):
        layers = int(offsets_per_seed["TIN layers"].min())
        measured["TIN layers with offsets"] = (
            f"{layers} layers, {len(offsets_per_seed)} seeds",
            layers >= MIN_TIN_LAYERS,
        )
    if mmit_margins is not None and len(mmit_margins):
        (model, seed), lowest = mmit_margins.idxmin(), float(mmit_margins.min())
        measured["MMIT above chance"] = (f"lowest {lowest:+.1f} ({model}, seed {seed})", lowest >= MMIT_MARGIN)
    requirements = {
        "Table 1 below saturation": f"best mean top-1 < {SATURATION:.0f} %",
        "TIN - TSM paired seeds": f">= {MIN_PAIRED_SEEDS} seeds at each frame count",
        "TIN layers with offsets": f">= {MIN_TIN_LAYERS} in every seed",
        "MMIT above chance": f"every model and seed >= {MMIT_MARGIN:.0f} class-wise mAP points over chance",
    }
    rows = [
        {"check": check, "requirement": requirement, "measured": shown, "met": met}
        for check, requirement in requirements.items()
        for shown, met in [measured.get(check, ("not measured", None))]
    ]
    return pd.DataFrame(rows).set_index("check")


def readable_checks(checks: pd.DataFrame) -> pd.DataFrame:
    """:func:`power_checks` for the page: ``met`` as yes / no / not measured."""
    return checks.assign(met=checks["met"].map({True: "yes", False: "no"}).fillna("not measured"))


def gather_evidence(chapter, max_videos: int = 200, rounds: int = 5) -> tuple[dict[str, Interval], pd.DataFrame]:
    """Every claim's measurement for a chapter's parameters, from the same cached runs the other chapters use
    (Table 1, the offsets of every seed's TIN, the MMIT single models and their fusion), plus the cost
    measurements (a FLOPs count and ``rounds`` interleaved CPU timings of TSM and TIN). A part that has
    nothing to measure (e.g. MMIT when ``checkpoints`` holds only Table 1 checkpoints) is left out: its claims
    are ``not tested``. Returns the evidence and the :func:`power_checks` of the same runs."""
    from ..bench.models import measure
    from . import mmit, offsets, table1, theory
    from .chapter import default_seeds

    evidence: dict[str, Interval] = {}
    runs = table1.run_table1(
        chapter.scale, chapter.seeds, chapter.results_dir, chapter.data_root, chapter.device, chapter.checkpoints
    )
    evidence |= table1_evidence(runs)
    summaries = {
        seed: offsets.offset_summary(
            offsets.collect_from_checkpoint(path, chapter.data_root, max_videos, chapter.device)[0]
        )
        for seed, path in offsets.tin_checkpoints(chapter).items()
    }
    per_seed = offsets.seed_table(summaries)
    evidence |= offsets_evidence(per_seed)
    timed = measure("cpu", models=("tsm_r50", "tin_r50"), rounds=rounds)
    evidence |= cost_evidence(timed)
    evidence |= theory_evidence(theory.equivalence_table(range(3)))
    mmit_seeds = chapter.extra.get("mmit_seeds") or default_seeds(chapter.scale, "mmit")
    try:
        single = mmit.run_single_models(
            chapter.scale,
            mmit_seeds,
            chapter.results_dir,
            chapter.data_root,
            chapter.device,
            checkpoints=chapter.checkpoints,
        )
    except FileNotFoundError:  # no MMIT checkpoint among the given ones
        return evidence, power_checks(runs, per_seed)
    views = tuple(mmit.VIEWS[chapter.scale])
    fused = mmit.ensemble(single, views[1])[0] if single["model"].nunique() > 1 else None
    evidence |= mmit_evidence(single, fused, views)
    return evidence, power_checks(runs, per_seed, mmit.margins_over_chance(single, views[0]))


LONG_LEDGER = "claims_long.json"  # the long scale's ledger, committed under benchmarks/results/


def committed_ledger(
    folder: str | os.PathLike | None = None,
) -> tuple[pd.DataFrame, str, pd.DataFrame | None] | None:
    """The last committed long-scale ledger (``benchmarks/results/claims_long.json``, a copy of a long build's
    ``results/long/notebooks/claims.json``) as (table, caption naming its commit and date, its
    :func:`power_checks` or None when the file predates them); None if absent."""
    from .speed import benchmark_folder

    folder = benchmark_folder() if folder is None else Path(folder)
    path = None if folder is None else folder / LONG_LEDGER
    if path is None or not path.is_file():
        return None
    payload = json.loads(path.read_text())
    table = pd.DataFrame(payload["results"]["ledger"]).set_index("key")
    parameters = payload.get("parameters", {})
    caption = (
        f"MEASURED by paperlib at the {parameters.get('scale', 'long')} scale (seeds {parameters.get('seeds')}), "
        f"commit {str(payload.get('commit'))[:12]}, {str(payload.get('written'))[:10]}; committed file "
        f"benchmarks/results/{LONG_LEDGER}"
    )
    checks = payload["results"].get("power_checks")
    if checks is not None:
        checks = pd.DataFrame(checks).set_index("check")
        checks.attrs["note"] = payload["results"].get("power_checks_added")  # when added after the build
    return table, caption, checks
