"""The claims ledger: verdicts follow the measured intervals, and changing a run's result changes the verdict."""

from __future__ import annotations

import json
import math

import pandas as pd
import pytest

from paperlib.experiments.claims import (
    BY_KEY,
    CLAIMS,
    VERDICTS,
    committed_ledger,
    decide,
    exact,
    ledger,
    mmit_evidence,
    offsets_evidence,
    power_checks,
    summary,
    table1_evidence,
)
from paperlib.experiments.results import Interval, mean_interval, paired_difference, write_results


def test_mean_interval_is_the_student_t_interval():
    interval = mean_interval([1.0, 2.0, 3.0])  # mean 2, sd 1, t(0.975, 2) = 4.302653
    assert interval.estimate == 2.0 and interval.n == 3
    assert interval.high - 2.0 == pytest.approx(4.302653 / math.sqrt(3), rel=1e-6)
    one = mean_interval([5.0])
    assert (one.low, one.high) == (-math.inf, math.inf)  # one seed decides nothing
    assert mean_interval([]).n == 0


def test_decide_for_both_kinds_of_claim():
    greater, at_most = BY_KEY["tin_gt_tsm_8f"], BY_KEY["tin_latency_tsm"]  # > 0; <= 1.15
    assert decide(greater, Interval(1.0, 0.5, 1.5, 5)) == "supported"
    assert decide(greater, Interval(-1.0, -1.5, -0.5, 5)) == "not supported"
    assert decide(greater, Interval(0.2, -0.3, 0.7, 5)) == "undecided"
    assert decide(greater, Interval(0.2, -math.inf, math.inf, 1)) == "undecided"
    assert decide(greater, None) == "not tested"
    assert decide(at_most, Interval(1.0, 0.9, 1.1, 5)) == "supported"
    assert decide(at_most, Interval(1.3, 1.2, 1.4, 5)) == "not supported"
    assert decide(at_most, Interval(1.1, 1.0, 1.2, 5)) == "undecided"
    assert decide(BY_KEY["interlace_is_conv"], exact(1e-14)) == "supported"


def _runs(tin_minus_tsm: list[float]) -> pd.DataFrame:
    """Table 1 rows for 5 seeds: TSN at 40, TSM at 70, TIN at 70 + the given difference per seed."""
    rows = []
    for seed, gap in enumerate(tin_minus_tsm):
        for frames, bonus in (("8", 0.0), ("16", 2.0), ("8+16", 3.0)):
            for model, top1 in (("tsn_r50", 40.0), ("tsm_r50", 70.0), ("tin_r50", 70.0 + gap)):
                rows.append({"model": model, "frames": frames, "seed": seed, "top1": top1 + bonus + 0.1 * seed})
    return pd.DataFrame(rows)


def test_changing_a_run_changes_the_verdict():
    ahead = ledger(table1_evidence(_runs([2.0, 1.5, 2.5, 1.0, 2.0])))
    assert ahead.loc["tin_gt_tsm_8f", "verdict"] == "supported"
    assert ahead.loc["tsm_gt_tsn_8f", "verdict"] == "supported"
    assert ahead.loc["ensemble_8f16f", "verdict"] == "supported"  # 8+16 is 1 point above 16 in every seed
    behind = ledger(table1_evidence(_runs([-2.0, -1.5, -2.5, -1.0, -2.0])))
    assert behind.loc["tin_gt_tsm_8f", "verdict"] == "not supported"
    mixed = ledger(table1_evidence(_runs([2.0, -1.5, 2.5, -1.0, 0.0])))
    assert mixed.loc["tin_gt_tsm_8f", "verdict"] == "undecided"
    assert "95 % CI" in mixed.loc["tin_gt_tsm_8f", "measured"]


def test_paired_difference_pairs_by_seed():
    table = pd.DataFrame(
        {"model": ["a", "b", "a", "b", "a"], "seed": [0, 0, 1, 1, 2], "top1": [3.0, 1.0, 5.0, 2.0, 100.0]}
    )
    interval = paired_difference(table, "top1", "model", "a", "b")
    assert (interval.estimate, interval.n) == (2.5, 2)  # seed 2 has no partner: left out


def test_offsets_and_mmit_evidence():
    per_seed = pd.DataFrame({"offset-depth rank corr": [0.8, 0.6, 0.9], "middle - end": [-0.02, -0.025, -0.021]})
    verdicts = ledger(offsets_evidence(per_seed))["verdict"]
    assert (verdicts["offsets_grow"], verdicts["ends_lower"]) == ("supported", "not supported")
    rows = []
    for seed in (0, 1, 2):
        for model, base in (("slow_r50", 30.0), ("fast_r50", 35.0), ("slowfast_r50", 32.0)):
            for view, gain in (("1 view", 0.0), ("3 crops x 2 clips", 1.0 + 0.1 * seed)):
                rows.append({"model": model, "seed": seed, "split": "test", "view": view, "classwise_mAP": base + gain})
    fused = pd.DataFrame(
        {"seed": [0, 1, 2], "method": ["tuned fusion (weights from val)"] * 3, "gain_over_best_single": [1, 2, 1.5]}
    )
    evidence = mmit_evidence(pd.DataFrame(rows), fused, ("1 view", "3 crops x 2 clips"))
    table = ledger(evidence)
    assert evidence["fast_best_3d"].estimate == pytest.approx(3.0)
    assert table.loc["fast_best_3d", "verdict"] == "supported"
    assert table.loc["multiview_helps", "verdict"] == "supported"
    assert table.loc["fusion_beats_single", "verdict"] == "supported"
    assert table.loc["tin_gt_tsm_8f", "verdict"] == "not tested"  # no Table 1 evidence given


def test_every_claim_has_a_full_row_and_the_summary_counts_them():
    table = ledger({})
    assert list(table.index) == [c.key for c in CLAIMS]
    assert table.notna().all().all() and (table[["claim", "source", "chapter"]] != "").all().all()
    counts = summary(table)
    assert list(counts.index) == list(VERDICTS) and counts["claims"].sum() == len(CLAIMS)


def test_committed_ledger_reads_a_saved_long_run(tmp_path):
    table = ledger({"tin_gt_tsm_8f": Interval(1.0, 0.5, 1.5, 5)})
    write_results(tmp_path, "claims_long", {"ledger": table.reset_index().to_dict(orient="records")}, {"scale": "long"})
    loaded, caption, checks = committed_ledger(tmp_path)
    assert loaded.loc["tin_gt_tsm_8f", "verdict"] == "supported"
    assert "long scale" in caption and "claims_long.json" in caption and checks is None  # saved before the checks
    saved = {"ledger": table.reset_index().to_dict(orient="records")}
    saved["power_checks"] = power_checks().reset_index().to_dict(orient="records")
    write_results(tmp_path, "claims_long", saved, {"scale": "long"})
    assert list(committed_ledger(tmp_path)[2].index) == list(power_checks().index)
    assert committed_ledger(tmp_path / "missing") is None
    assert json.loads((tmp_path / "claims_long.json").read_text())["notebook"] == "claims_long"


def test_power_checks_say_which_requirement_a_build_misses():
    """Saturated Table 1, 5 paired seeds, 4 TIN layers, one MMIT run 2 points above chance: only the second is
    met; the numbers are the measured ones."""
    runs = pd.DataFrame(
        [
            {"model": m, "frames": f, "seed": s, "top1": top}
            for s in range(5)
            for f in ("8", "16")
            for m, top in (("tsn_r50", 50.0), ("tsm_r50", 96.0 + s % 2), ("tin_r50", 97.0 + (f == "8") / 2))
        ]
    )
    offsets = pd.DataFrame({"TIN layers": [4, 4]}, index=pd.Index([0, 1], name="seed"))
    margins = pd.Series([12.0, 2.0], index=pd.MultiIndex.from_tuples([("tsn", 0), ("fast_r50", 1)]))
    checks = power_checks(runs, offsets, margins)
    assert checks["met"].tolist() == [False, True, False, False]
    assert checks.loc["Table 1 below saturation", "measured"] == "TIN 8F: 97.5 %"
    assert checks.loc["MMIT above chance", "measured"] == "lowest +2.0 (fast_r50, seed 1)"
    better = power_checks(runs.assign(top1=runs["top1"] - 20), offsets.assign(**{"TIN layers": 8}), margins + 4)
    assert better["met"].all()
    assert power_checks()["met"].isna().all() and (power_checks()["measured"] == "not measured").all()
