"""The claims ledger: every claim can come out either way (data on the other side gives "not supported", data
straddling gives "undecided"), every seed is kept and shown, checks fail when their value is wrong, power is
the noncentral-t one, and a saved ledger (either format) reads back."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from paperlib.experiments.ablation import MODEL as FIXED
from paperlib.experiments.claims import (
    BY_KEY,
    CHECKS,
    CHECKS_BY_KEY,
    CLAIMS,
    VERDICTS,
    Reading,
    check_result,
    check_summary,
    check_table,
    committed_ledger,
    cost_readings,
    decide,
    fusion_evidence,
    latency_evidence,
    ledger,
    mmit_evidence,
    offsets_evidence,
    per_value,
    power_statements,
    power_table,
    saved_results,
    seed_studies,
    sign_count,
    styled_power,
    summary,
    table1_evidence,
)
from paperlib.experiments.results import (
    Interval,
    mean_interval,
    min_detectable_effect,
    paired_difference,
    t_test_power,
    write_results,
)


def test_mean_interval_is_the_student_t_interval_and_keeps_its_values():
    interval = mean_interval([1.0, 2.0, 3.0], labels=[4, 5, 6])  # mean 2, sd 1, t(0.975, 2) = 4.302653
    assert interval.estimate == 2.0 and interval.n == 3 and interval.sd == 1.0
    assert interval.high - 2.0 == pytest.approx(4.302653 / math.sqrt(3), rel=1e-6)
    assert interval.values == (1.0, 2.0, 3.0) and interval.labels == (4, 5, 6)
    one = mean_interval([5.0])
    assert (one.low, one.high) == (-math.inf, math.inf)  # one seed decides nothing
    assert mean_interval([]).n == 0
    gappy = mean_interval([1.0, float("nan"), 3.0], labels=["a", "b", "c"])
    assert gappy.labels == ("a", "c") and gappy.n == 2
    # an interval saved without its values: the SD recovered from its width
    assert Interval(2.0, interval.low, interval.high, 3).sd == pytest.approx(1.0, rel=1e-9)


def test_smallest_detectable_effect_is_the_noncentral_t_one():
    # n = 10, sd = 1: d = 0.996 (the textbook value for a two-sided one-sample t-test, 80 % power, 5 %)
    assert min_detectable_effect(1.0, 10) == pytest.approx(0.996, abs=5e-4)
    assert min_detectable_effect(2.0, 10) == pytest.approx(2 * min_detectable_effect(1.0, 10))
    assert t_test_power(min_detectable_effect(1.0, 7), 1.0, 7) == pytest.approx(0.8, abs=1e-9)
    # independent check by simulation at n = 5: the test rejects in 80 % of samples at that effect
    n, effect = 5, min_detectable_effect(1.0, 5)
    assert effect == pytest.approx(1.682, abs=1e-3)
    samples = np.random.default_rng(0).standard_normal((200_000, n)) + effect
    t = samples.mean(axis=1) / (samples.std(axis=1, ddof=1) / math.sqrt(n))
    assert np.mean(np.abs(t) > stats.t.ppf(0.975, n - 1)) == pytest.approx(0.8, abs=0.005)
    assert min_detectable_effect(1.0, 1) == math.inf and min_detectable_effect(0.0, 5) == 0.0


def _intervals(claim):
    """An interval on the claim's side, one on the other side, one straddling its threshold."""
    t = claim.threshold
    if claim.kind == "within":
        inside = (t + claim.upper) / 2
        return (
            Interval(inside, t + 0.01, claim.upper - 0.01, 5),
            Interval(t - 0.05, t - 0.1, t, 5),
            Interval(t, t - 0.01, t + 0.01, 5),
        )
    return Interval(t + 2, t + 1, t + 3, 5), Interval(t - 2, t - 3, t - 1, 5), Interval(t, t - 1, t + 1, 5)


@pytest.mark.parametrize("claim", CLAIMS, ids=lambda c: c.key)
def test_every_claim_can_come_out_either_way(claim):
    holds, other_side, straddling = _intervals(claim)
    assert decide(claim, holds) == "supported"
    assert decide(claim, other_side) == "not supported"
    assert decide(claim, straddling) == "undecided"
    assert decide(claim, Interval(holds.estimate, -math.inf, math.inf, 1)) == "undecided"
    assert decide(claim, None) == "not tested"


def test_a_within_claim_fails_on_either_side():
    cost = BY_KEY["tin_cost_tsm"]  # 1 < TIN / TSM <= 1.15
    assert decide(cost, Interval(1.3, 1.2, 1.4, 5)) == "not supported"  # far more than "slightly"
    assert decide(cost, Interval(0.9, 0.85, 0.95, 5)) == "not supported"  # cheaper than TSM
    assert decide(cost, Interval(1.12, 1.1, 1.2, 5)) == "undecided"  # straddles the upper bound


def _runs(tin_minus_tsm: list[float], rtcn: bool = False) -> pd.DataFrame:
    """Table 1 rows per seed: TSN 40, TSM 70, TIN 70 + the seed's difference; 16 frames 2 points higher; the
    ensemble 3 points above the 8-frame runs (1 above 16); optional r-TCN 1 point below TSM."""
    rows = []
    models = [("tsn_r50", 40.0), ("tsm_r50", 70.0)] + ([("tconv_r50", 69.0)] if rtcn else [])
    for seed, gap in enumerate(tin_minus_tsm):
        for frames, bonus in (("8", 0.0), ("16", 2.0), ("8+16", 3.0)):
            for model, top1 in (*models, ("tin_r50", 70.0 + gap)):
                rows.append({"model": model, "frames": frames, "seed": seed, "top1": top1 + bonus + 0.1 * seed})
    return pd.DataFrame(rows)


def test_table1_evidence_follows_the_runs_and_shows_every_seed():
    ahead = ledger(table1_evidence(_runs([2.0, 1.5, 2.5, 1.0, 2.0])))
    assert ahead.loc["tin_gt_tsm_8f", "verdict"] == "supported"
    assert ahead.loc["ensemble_8f16f", "verdict"] == "supported"  # 1 point above the better (16-frame) model
    assert ahead.loc["tin_gt_rtcn_8f", "verdict"] == "not tested"  # no r-TCN rows
    assert ahead.loc["tin_gt_rtcn_8f", "measured"] == "not measured"
    behind = ledger(table1_evidence(_runs([-2.0, -1.5, -2.5, -1.0, -2.0])))
    assert behind.loc["tin_gt_tsm_8f", "verdict"] == "not supported"
    table = ledger(table1_evidence(_runs([-11.0, -9.75, -2.25])))  # behind in every seed, yet undecided
    assert table.loc["tin_gt_tsm_8f", "verdict"] == "undecided"
    assert table.loc["tin_gt_tsm_8f", "per seed"] == "TIN < TSM in 3 of 3 seeds: -11.00, -9.75, -2.25 (seeds 0-2)"
    mixed = ledger(table1_evidence(_runs([2.0, -1.5, 2.5, -1.0, 0.0])))
    assert mixed.loc["tin_gt_tsm_8f", "verdict"] == "undecided"
    assert mixed.loc["tin_gt_tsm_8f", "per seed"].startswith("TIN > TSM in 2, TIN < TSM in 2, equal in 1 of 5 seeds")
    assert mixed.loc["tin_gt_tsm_8f", "measured"] == "+0.40 (95 % CI -1.81 to +2.61)"
    with_rtcn = table1_evidence(_runs([2.0, 1.5, 2.5], rtcn=True))
    assert with_rtcn["tin_gt_rtcn_8f"].estimate == pytest.approx(3.0)


def test_the_ensemble_is_compared_with_the_better_single_model_of_each_seed():
    runs = _runs([0.0, 0.0, 0.0])
    tin = runs["model"] == "tin_r50"
    # seed 0: the 8-frame model is the better one, 5 points above the ensemble; seeds 1, 2: the ensemble leads
    runs.loc[tin & (runs["frames"] == "8") & (runs["seed"] == 0), "top1"] = 78.0
    gain = table1_evidence(runs)["ensemble_8f16f"]
    assert gain.values == pytest.approx((73.0 - 78.0, 1.0, 1.0)) and gain.labels == (0, 1, 2)


def test_learned_against_fixed_offsets_is_paired_by_seed():
    runs = _runs([0.0, 0.0, 0.0])
    fixed = pd.DataFrame({"model": FIXED, "frames": "8", "seed": [0, 1, 2], "top1": [71.0, 71.0, 71.0]})
    interval = table1_evidence(runs, fixed)["learned_gt_fixed"]
    assert interval.values == pytest.approx((-1.0, -0.9, -0.8))
    assert decide(BY_KEY["learned_gt_fixed"], interval) == "not supported"
    assert "learned_gt_fixed" not in table1_evidence(runs)  # not trained: not tested


def test_offsets_mmit_and_fusion_evidence():
    per_seed = pd.DataFrame(
        {"offset-depth rank corr": [0.8, 0.6, 0.9], "middle - end": [-0.02, -0.025, -0.021]},
        index=pd.Index([3, 4, 5], name="seed"),
    )
    evidence = offsets_evidence(per_seed)
    verdicts = ledger(evidence)["verdict"]
    assert (verdicts["offsets_grow"], verdicts["ends_lower"]) == ("supported", "not supported")
    assert evidence["ends_lower"].labels == (3, 4, 5)
    rows = []
    base = {"tsm_r50": 33.0, "tin_r50": 34.0, "slow_r50": 30.0, "fast_r50": 35.0, "slowfast_r50": 32.0}
    for seed in (0, 1, 2):
        for model, score in base.items():
            for view, gain in (("1 view", 0.0), ("3 crops x 2 clips", 1.0 + 0.1 * seed)):
                row = {"model": model, "seed": seed, "split": "test", "view": view}
                rows.append({**row, "classwise_mAP": score + gain})
    single = pd.DataFrame(rows)
    table = ledger(mmit_evidence(single, ("1 view", "3 crops x 2 clips")))
    assert table.loc["tin_gt_tsm_mmit", "verdict"] == "supported"
    assert table.loc["fast_best_3d", "verdict"] == "supported"
    assert table.loc["multiview_helps", "verdict"] == "supported"
    assert table.loc["tin_gt_tsm_8f", "verdict"] == "not tested"  # no Table 1 evidence given
    swapped = single.assign(model=single["model"].replace({"tin_r50": "tsm_r50", "tsm_r50": "tin_r50"}))
    assert ledger(mmit_evidence(swapped, ("1 view", "3 crops x 2 clips"))).loc["tin_gt_tsm_mmit", "verdict"] == (
        "not supported"
    )

    def fused(values, gains=(1.0, 2.0, 1.5)):
        return pd.DataFrame(
            {
                "seed": [0, 1, 2],
                "method": ["tuned fusion (weights from val)"] * 3,
                "classwise_mAP": values,
                "gain_over_best_single": gains,
            }
        )

    evidence = fusion_evidence(fused([40.0, 41.0, 42.0]), fused([38.0, 39.0, 40.0]), fused([39.0, 39.5, 40.5]))
    assert evidence["fusion_2d3d"].values == pytest.approx((1.0, 1.5, 1.5))
    assert ledger(evidence).loc["fusion_beats_single", "verdict"] == "supported"
    worse = fusion_evidence(fused([40.0, 41.0, 42.0]), fused([41.0, 42.0, 43.0]), fused([39.0, 39.5, 40.5]))
    assert decide(BY_KEY["fusion_2d3d"], worse["fusion_2d3d"]) == "not supported"
    assert "fusion_2d3d" not in fusion_evidence(fused([40.0, 41.0, 42.0]))


def test_latency_evidence_per_interleaved_round():
    records = [
        {"model": "tsm_r50", "inference_rounds_s": [1.0, 1.0, 1.0]},
        {"model": "tin_r50", "inference_rounds_s": [1.05, 1.04, 1.06]},
        {"model": "tconv_r50", "inference_rounds_s": [2.6, 2.7, 2.5]},
    ]
    evidence = latency_evidence(records)
    table = ledger(evidence)
    assert table.loc["tin_cost_tsm", "verdict"] == "supported"
    assert table.loc["tin_latency_rtcn", "verdict"] == "not supported"  # about 2.5x, not 6x
    assert table.loc["tin_latency_rtcn", "per seed"] == "under 6x in 3 of 3 rounds: 2.48, 2.60, 2.36 (rounds 1-3)"
    assert table.loc["tin_latency_rtcn", "measured"] == "2.48 (95 % CI 2.18 to 2.77)"  # a ratio: no sign
    assert evidence["tin_cost_tsm"].labels == (1, 2, 3)


def test_sign_count_and_values_of_an_interval_saved_without_them():
    claim = BY_KEY["tin_gt_tsm_8f"]
    old = Interval(5.75, -13.07, 24.57, 5)
    assert sign_count(claim, old) == "per-seed values not stored" and per_value(old).startswith("not stored")
    assert ledger({"tin_gt_tsm_8f": old}).loc["tin_gt_tsm_8f", "per seed"].startswith("not stored")
    assert per_value(mean_interval([0.5, 0.6], labels=[0, 3])) == "+0.50, +0.60 (seeds 0, 3)"
    assert sign_count(BY_KEY["tin_cost_tsm"], mean_interval([1.1, 1.2, 0.9])) == (
        "TIN slower in 2, TIN faster in 1, beyond 1.15 in 1 of 3 rounds"
    )


def test_claims_and_checks_are_apart_and_design_decided_claims_are_marked():
    table = ledger({})
    assert list(table.index) == [c.key for c in CLAIMS]
    assert not set(table.index) & {c.key for c in CHECKS}
    assert (table[["claim", "source", "chapter", "prediction (before the runs)"]] != "").all().all()
    assert table.loc["tsm_gt_tsn_8f", "claim"].endswith("(by design)") and table.loc["tsm_gt_tsn_8f", "by design"]
    counts = summary(ledger(table1_evidence(_runs([2.0, 1.5, 2.5]))))
    assert list(counts.index) == list(VERDICTS) and counts["claims"].sum() == len(CLAIMS)
    assert counts.loc["supported", "of which decided by design"] == 2  # TSM > TSN at 8 and 16 frames


def test_a_check_that_fails_is_shown_as_failed():
    flops = CHECKS_BY_KEY["tin_flops_tsm"]  # 1 < ratio <= 1.01
    assert check_result(flops, Reading(1.0000073)) == "pass"
    assert check_result(flops, Reading(0.999)) == "fail"  # cheaper than TSM: against "slightly more"
    assert check_result(flops, Reading(1.2)) == "fail"
    assert check_result(flops, Reading(float("nan"))) == "fail"
    assert check_result(flops, None) == "not run"
    conv = CHECKS_BY_KEY["interlace_is_conv"]
    assert check_result(conv, Reading(1.4e-14)) == "pass" and check_result(conv, Reading(1e-9)) == "fail"
    params = CHECKS_BY_KEY["tin_params_tsm"]
    assert check_result(params, Reading(31_008)) == "pass" and check_result(params, Reading(31_009)) == "fail"
    table = check_table({"tin_flops_tsm": Reading(0.999, "what is counted"), "tin_params_tsm": Reading(31_008)})
    assert table.loc["tin_flops_tsm", "result"] == "fail"
    assert "what is counted" in table.loc["tin_flops_tsm", "measured"]
    assert table.loc["interlace_is_conv", "result"] == "not run"
    assert check_summary(table)["checks"].to_dict() == {"pass": 1, "fail": 1, "not run": 1}


def test_cost_readings_count_the_published_difference_and_say_what_is_counted():
    readings = cost_readings()
    assert readings["tin_params_tsm"].value == 31_008  # 9 fold + T^2 + 3T + 5 per block, 16 blocks
    assert check_result(CHECKS_BY_KEY["tin_params_tsm"], readings["tin_params_tsm"]) == "pass"
    flops = readings["tin_flops_tsm"]
    assert 1.0 < flops.value < 1.0001 and "not counted" in flops.detail
    assert check_result(CHECKS_BY_KEY["tin_flops_tsm"], flops) == "pass"


def test_power_table_sets_the_detectable_effect_beside_the_papers():
    evidence = {
        "tin_gt_tsm_8f": mean_interval([-11.0, -9.75, -2.25]),  # sd 4.8: only a gap of about 16 shows
        "ensemble_8f16f": mean_interval([2.6, 2.7, 2.5, 2.6, 2.6]),  # sd 0.07
        "tsm_gt_tsn_8f": mean_interval([50.0, 60.0, 55.0]),  # no published size
        "tin_gt_tsm_16f": mean_interval([1.0]),  # one seed: no row
    }
    power = power_table(evidence)
    assert list(power.index) == ["tin_gt_tsm_8f", "ensemble_8f16f", "tsm_gt_tsn_8f"]
    assert power.loc["tin_gt_tsm_8f", "smallest detectable effect"] == pytest.approx(
        min_detectable_effect(evidence["tin_gt_tsm_8f"].sd, 3)
    )
    assert power["can detect the paper's effect"].tolist() == ["no", "yes", "no published size"]
    chance = t_test_power(2.4, evidence["tin_gt_tsm_8f"].sd, 3)
    assert power.loc["tin_gt_tsm_8f", "power at the paper's effect"] == pytest.approx(chance) and chance < 0.2
    assert power.loc["ensemble_8f16f", "power at the paper's effect"] == pytest.approx(1.0)
    lines = power_statements(power)
    assert len(lines) == 2 and f"detected with probability {100 * chance:.0f} %" in lines[0]
    html = styled_power(power, "the caption").to_html()
    assert 'class="claims-ledger"' in html and "the caption" in html and "paper's effect, from" not in html
    assert "tin_gt_tsm_8f" not in html and f"{100 * chance:.0f} %" in html  # no key column; power in %


def test_saved_ledger_round_trip_keeps_every_seed(tmp_path):
    evidence = table1_evidence(_runs([-11.0, -9.75, -2.25]))
    readings = {"tin_flops_tsm": Reading(0.999, "counted")}
    table, checks = ledger(evidence), check_table(readings)
    write_results(tmp_path, "claims_long", saved_results(evidence, readings, table, checks), {"scale": "long"})
    saved = committed_ledger(tmp_path)
    assert saved.format == 2 and "long scale" in saved.caption and "earlier ledger" not in saved.caption
    assert saved.table.loc["tin_gt_tsm_8f", "per seed"] == table.loc["tin_gt_tsm_8f", "per seed"]
    assert saved.checks.loc["tin_flops_tsm", "result"] == "fail"
    payload = json.loads((tmp_path / "claims_long.json").read_text())["results"]
    back = Interval.from_dict(payload["evidence"]["tin_gt_tsm_8f"])
    assert back == evidence["tin_gt_tsm_8f"] and back.values == pytest.approx((-11.0, -9.75, -2.25))
    assert list(saved.power.index) == list(power_table(evidence).index)
    assert committed_ledger(tmp_path / "missing") is None


def test_a_ledger_saved_before_the_split_still_reads(tmp_path):
    """Format 1 (benchmarks/results/claims_long.json before per-seed values): rows as saved, no checks, power
    from the saved intervals' widths, none for the comparison that changed since (the ensemble)."""
    old_rows = [
        {"key": "tin_gt_tsm_8f", "claim": "TIN beats TSM at 8 frames", "measured": "...", "verdict": "undecided"},
        {"key": "ensemble_8f16f", "claim": "...", "measured": "...", "verdict": "supported"},
    ]
    old_evidence = {
        "tin_gt_tsm_8f": {"estimate": 5.75, "low": -13.07, "high": 24.57, "n": 5},
        "ensemble_8f16f": {"estimate": 4.5, "low": 0.94, "high": 8.06, "n": 5},
    }
    write_results(tmp_path, "claims_long", {"ledger": old_rows, "evidence": old_evidence}, {"scale": "long"})
    saved = committed_ledger(tmp_path)
    assert saved.format == 1 and saved.checks is None and "earlier ledger" in saved.caption
    assert saved.table.loc["tin_gt_tsm_8f", "verdict"] == "undecided"
    assert list(saved.power.index) == ["tin_gt_tsm_8f"]
    assert saved.power.loc["tin_gt_tsm_8f", "SD"] == pytest.approx(15.16, abs=0.01)


def test_paired_difference_pairs_by_seed():
    table = pd.DataFrame(
        {"model": ["a", "b", "a", "b", "a"], "seed": [0, 0, 1, 1, 2], "top1": [3.0, 1.0, 5.0, 2.0, 100.0]}
    )
    interval = paired_difference(table, "top1", "model", "a", "b")
    assert (interval.estimate, interval.n, interval.labels) == (2.5, 2, (0, 1))  # seed 2 has no partner


def test_seed_studies_recompute_each_committed_interval_from_its_runs(tmp_path):
    assert seed_studies(tmp_path) is None  # no committed file: nothing to show
    gaps = [0.0, -7.0, -1.25, 3.0]
    runs = [
        {"model": m, "seed": s, "top1": 90.0 + (g if m == "tin_r50" else 0.0)}
        for s, g in enumerate(gaps)
        for m in ("tsm_r50", "tin_r50")
    ]
    (tmp_path / "table1_embedded_8f.json").write_text(json.dumps({"runs": runs}))
    table, caption = seed_studies(tmp_path)
    assert list(table.index) == ["embedded (one block per stage, 3 epochs)"] and "table1_embedded_8f.json" in caption
    row = table.iloc[0]
    half = stats.t.ppf(0.975, 3) * np.std(gaps, ddof=1) / 2
    assert row["seeds"] == 4 and row["TIN - TSM (points)"] == pytest.approx(np.mean(gaps))
    assert row["half-width"] == pytest.approx(half) and row["target half-width"] == 5.0
    assert row["smallest detectable effect"] == pytest.approx(min_detectable_effect(np.std(gaps, ddof=1), 4))
    assert row["paper's effect"] == BY_KEY["tin_gt_tsm_8f"].paper_effect == 2.4
    nested = {"long_recipe_6_epochs": {"runs": runs[:4]}}
    (tmp_path / "table1_long_8f.json").write_text(json.dumps(nested))
    table, _ = seed_studies(tmp_path)
    assert table.loc["long (two blocks per stage, 6 epochs)", "seeds"] == 2
