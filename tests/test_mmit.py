"""MMIT experiments: per-model configurations from the recipes, and score fusion that picks its weights on
validation only and is measured on the held-out test split."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from paperlib.engine.metrics import classwise_map
from paperlib.experiments import mmit


def test_small_configs_take_frames_sampling_and_architecture_from_the_recipes():
    slowfast = mmit.mmit_config("embedded", "slowfast_r50", 1, None, "cpu")
    assert slowfast.model.num_segments == 32 and slowfast.data.sampling == "dense" and slowfast.data.rate == 2
    assert slowfast.model.options["variant"] == "4x16" and slowfast.model.options["width"] == 16
    assert "fc_init_std" not in slowfast.model.options and slowfast.seed == 1
    tsn = mmit.mmit_config("embedded", "tsn_r50", 0, None, "cpu")
    assert tsn.model.num_segments == 5 and tsn.data.sampling == "tsn" and tsn.model.options["fc_init_std"] is None
    assert tsn.data.multi_label and tsn.data.source == "video"
    assert mmit.mmit_config("smoke", "tin_r50", 0, None, "cpu").optim.epochs == 1
    with pytest.raises(ValueError, match="needs data_root"):
        mmit.mmit_config("full", "tin_r50", 0, None, "cpu")


def test_greedy_weights_pick_the_member_that_helps_and_are_deterministic():
    rng = np.random.default_rng(0)
    targets = (rng.random((60, 5)) < 0.3).astype(np.int64)
    targets[0] = 1
    good = targets + 0.1 * rng.random(targets.shape)
    noise = rng.random(targets.shape)
    wrong = (1 - targets) + 0.1 * rng.random(targets.shape)  # ranks every class backwards: adding it only hurts
    weights = mmit.greedy_weights([wrong, good, noise], targets, rounds=10)
    assert weights[1] == 1.0 and weights.sum() == pytest.approx(1.0)
    assert np.array_equal(weights, mmit.greedy_weights([wrong, good, noise], targets, rounds=10))
    mixed = mmit.greedy_weights([noise, noise.copy() + 0.5 * targets], targets, rounds=8)
    assert mixed[1] > mixed[0]
    np.testing.assert_allclose(mmit.fuse([noise, good], np.array([0.25, 0.75])), 0.25 * noise + 0.75 * good)


def _write_scores(folder: Path, ids, labels, scores) -> str:
    folder.mkdir(parents=True)
    np.savez(folder / "scores.npz", ids=np.array(ids), labels=labels, scores=scores)
    return str(folder)


def test_ensemble_chooses_on_validation_and_measures_on_test(tmp_path):
    rng = np.random.default_rng(1)
    val_t, test_t = ((rng.random((40, 6)) < 0.3).astype(np.int64) for _ in range(2))
    val_t[0], test_t[0] = 1, 1
    ids = [f"v{i}" for i in range(40)]
    # tsn: perfect on validation, random on test (a model that only looks good on val);
    # tin: good on both. The best single model and the weights must come from val, the numbers from test.
    members = {
        "tsn_r50": (val_t + 0.01 * rng.random(val_t.shape), rng.random(test_t.shape)),
        "tin_r50": (val_t + rng.random(val_t.shape), test_t + rng.random(test_t.shape)),
    }
    rows = []
    for model, (val_scores, test_scores) in members.items():
        for split, targets, scores in (("val", val_t, val_scores), ("test", test_t, test_scores)):
            folder = _write_scores(tmp_path / f"{model}_{split}", ids, targets, scores)
            rows.append({"model": model, "seed": 0, "split": split, "view": "v", "scores": folder})
    table, weights = mmit.ensemble(pd.DataFrame(rows), "v")
    by_method = table.set_index("method")["classwise_mAP"]
    assert set(table["best_single"]) == {"tsn_r50"}
    assert by_method["best single (chosen on val)"] == pytest.approx(classwise_map(members["tsn_r50"][1], test_t))
    assert by_method["tin_r50"] == pytest.approx(classwise_map(members["tin_r50"][1], test_t))
    assert weights.loc[0, "tsn_r50"] == 1.0  # on validation the perfect member wins every round
    tuned = table.set_index("method").loc["tuned fusion (weights from val)"]
    assert tuned["classwise_mAP"] == pytest.approx(by_method["best single (chosen on val)"])
    assert tuned["gain_over_best_single"] == pytest.approx(0.0)


def test_ensemble_refuses_members_that_scored_different_videos(tmp_path):
    targets = np.eye(4, dtype=np.int64)
    rows = []
    for model, ids in (("tsn_r50", ["a", "b", "c", "d"]), ("tin_r50", ["a", "b", "c", "e"])):
        for split in ("val", "test"):
            rows.append(
                {
                    "model": model,
                    "seed": 0,
                    "split": split,
                    "view": "v",
                    "scores": _write_scores(tmp_path / f"{model}_{split}", ids, targets, np.random.rand(4, 4)),
                }
            )
    with pytest.raises(ValueError, match="scored different videos"):
        mmit.ensemble(pd.DataFrame(rows), "v")


def test_chance_map_is_the_expected_ap_of_uninformative_scores():
    rng = np.random.default_rng(2)
    targets = (rng.random((4000, 6)) < np.array([0.1, 0.2, 0.3, 0.4, 0.5, 0.6])).astype(np.int64)
    chance = mmit.chance_map(targets)
    assert chance["classwise_mAP"] == pytest.approx(35.0, abs=1.0)
    random_scores = rng.random(targets.shape)
    assert classwise_map(random_scores, targets) == pytest.approx(chance["classwise_mAP"], abs=1.5)


@pytest.mark.slow
def test_a_second_pass_reuses_the_training_run_and_every_evaluation(tmp_path):
    first = mmit.run_single_models("smoke", [0], tmp_path, models=("tsn_r50",))
    folders = sorted(p.name for p in (tmp_path / "mmit").iterdir())
    assert len(first) == 4 and len(folders) == 5  # one training run, 2 splits x 2 views scored
    again = mmit.run_single_models("smoke", [0], tmp_path, models=("tsn_r50",))
    assert sorted(p.name for p in (tmp_path / "mmit").iterdir()) == folders  # nothing trained or scored again
    pd.testing.assert_frame_equal(again, first)
