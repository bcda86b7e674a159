"""Table 1's experiment runner: within-pair accuracy, seed summaries, the 8-frame runs' start from the embedded
ImageNet and the 16-frame fine-tuning from the 8-frame run on the small scales, and evaluating given checkpoints
instead of training."""

import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
import yaml

from paperlib.experiments import run_provenance, table1


def test_pair_accuracy_compares_each_video_with_its_reversed_class():
    partner = np.array([1, 0, 3, 2])
    scores = np.array(
        [
            [0.9, 0.1, 0.0, 0.0],  # label 0 above its partner 1: right
            [0.6, 0.4, 0.0, 0.0],  # label 1 below its partner 0: wrong
            [0.0, 0.0, 0.2, 0.3],  # label 2 below 3: wrong
            [0.0, 0.9, 0.0, 0.5],
        ]
    )  # label 3 above 2 (class 1 is irrelevant): right
    assert table1.pair_accuracy(scores, np.array([0, 1, 2, 3]), partner) == 50.0


def test_summarize_gives_mean_and_sample_std_over_seeds():
    runs = pd.DataFrame(
        {
            "model": ["a", "a", "b"],
            "frames": ["8", "8", "8"],
            "seed": [0, 1, 0],
            "top1": [10.0, 20.0, 30.0],
            "top5": [50.0, 50.0, 60.0],
        }
    )
    summary = table1.summarize(runs)
    assert summary.loc[("a", "8"), "top1"] == "15.0 ± 7.1" and summary.loc[("a", "8"), "seeds"] == 2
    assert summary.loc[("b", "8"), "top1"] == "30.0 ± 0.0"


def test_reversal_partners_of_the_embedded_classes():
    from paperlib.data.synthetic.something import CLASSES, REVERSED

    partner = table1.reversal_partners(list(CLASSES))
    assert [CLASSES[p] for p in partner] == [REVERSED[c] for c in CLASSES]
    assert table1.reversal_partners(["a", "b"]) is None


@pytest.mark.slow
def test_sixteen_frames_fine_tune_from_eight_and_checkpoints_evaluate_to_the_same_scores(tmp_path, monkeypatch):
    monkeypatch.setattr(table1, "MODELS", ("tin_r50",))
    results = tmp_path / "results"
    runs = table1.run_table1("smoke", [0], results)
    assert list(runs["frames"]) == ["8", "16", "8+16"]
    eight, sixteen = Path(runs["run"][0]), Path(runs["run"][1])
    config8 = yaml.safe_load((eight / "config.yaml").read_text())
    backbone = Path(config8["model"]["pretrained"])  # the 8-frame run starts from the embedded ImageNet
    assert backbone.name == "resnet.pth" and backbone.parent.parent == results / "pretrain"
    config16 = yaml.safe_load((sixteen / "config.yaml").read_text())
    assert Path(config16["model"]["pretrained"]) == eight / "last.pth"
    assert config16["model"]["num_segments"] == 16 and config16["optim"]["epochs"] == 1
    assert run_provenance(sixteen)["started_from"] == eight.name

    given = tmp_path / "checkpoints"
    given.mkdir()
    shutil.copy(eight / "last.pth", given / "tin_r50_8f.pth")  # only the 8-frame model: the rest is left out
    evaluated = table1.run_table1("smoke", [0], results, checkpoints=given)
    assert list(evaluated["frames"]) == ["8"]
    assert evaluated["top1"][0] == runs["top1"][0] and evaluated["top5"][0] == runs["top5"][0]
    trained, scored = np.load(eight / "scores.npz"), np.load(Path(evaluated["run"][0]) / "scores.npz")
    np.testing.assert_allclose(scored["scores"], trained["scores"], rtol=1e-5, atol=1e-6)
    assert run_provenance(evaluated["run"][0])["checkpoint_sha256"]

    empty = tmp_path / "none"
    empty.mkdir()
    with pytest.raises(FileNotFoundError, match="no Table 1 checkpoint found"):
        table1.run_table1("smoke", [0], results, checkpoints=empty)
    with pytest.raises(FileNotFoundError, match="is not a folder"):
        table1.run_table1("smoke", [0], results, checkpoints=tmp_path / "missing")


def _pair_runs(tsn, tsm, tin, top1_gap=(2.0, 1.0, 3.0)):
    """Table 1 rows over len(tsn) seeds: within-pair accuracies as given; top-1 TSN 40, TSM 70, TIN 70 + the
    seed's entry of ``top1_gap``."""
    rows = [
        {
            "model": m,
            "frames": f,
            "seed": s,
            "pair_accuracy": v,
            "top1": {"tsn_r50": 40.0, "tsm_r50": 70.0, "tin_r50": 70.0 + top1_gap[s]}[m],
        }
        for m, values in (("tsn_r50", tsn), ("tsm_r50", tsm), ("tin_r50", tin))
        for s, v in enumerate(values)
        for f in ("8", "16")
    ]
    return pd.DataFrame(rows)


def test_verdict_says_what_the_numbers_show_either_way():
    good = table1.verdict(_pair_runs([49.0, 51.0, 50.0], [95.0, 97.0, 96.0], [96.0, 98.0, 97.0]))
    assert "near chance, as an order-blind model must be" in good[0]
    assert "off the plateau in every run (at least 90 % within pairs)" in good[1]
    assert "off the plateau in every run" in good[2]
    assert "below saturation (95 %)" in good[3]
    tin_tsm_8 = next(line for line in good if line.startswith("TIN - TSM at 8 frames"))
    assert "+2.00 points" in tin_tsm_8 and "3 paired seeds" in tin_tsm_8 and "undecided" in tin_tsm_8
    assert "TIN ahead in 3 of 3 paired seeds, behind in 0" in tin_tsm_8
    assert "detect at 80 % power is 3.3 points" in tin_tsm_8  # sd 1, n 3: 3.264 (noncentral t)
    ahead = table1.verdict(_pair_runs([50.0] * 3, [96.0] * 3, [97.0] * 3, top1_gap=(2.0, 2.1, 1.9)))
    assert "TIN ahead" in next(line for line in ahead if line.startswith("TIN - TSM at 8 frames"))
    bad = table1.verdict(_pair_runs([70.0, 72.0, 71.0], [55.0, 89.0, 91.0], [99.0, 99.5, 99.0], (-2.0, -2.1, -1.9)))
    assert "NOT near chance" in bad[0] and "below 90 % in 4 run(s)" in bad[1]  # TSM seeds 0 and 1, 8F and 16F
    assert "did not (fully) leave the plateau" in bad[1]
    assert "8F seed 0 (55.0 % within pairs, 70.0 % top-1), 16F seed 0 (55.0 % within pairs, 70.0 % top-1)" in bad[1]
    behind = next(line for line in bad if line.startswith("TIN - TSM at 8 frames"))
    assert "TIN behind" in behind and "ahead in 0 of 3 paired seeds, behind in 3" in behind
    saturated = table1.verdict(_pair_runs([50.0] * 3, [96.0] * 3, [97.0] * 3, top1_gap=(26.0, 26.0, 26.0)))
    assert any("saturated" in line and "cannot show" in line for line in saturated)
    real_data = table1.verdict(pd.DataFrame({"model": ["tsn_r50"], "frames": ["8"], "seed": [0], "top1": [1.0]}))
    assert len(real_data) == 1 and real_data[0].startswith("Best mean top-1: TSN at 8 frames, 1.0 %: below saturation")


def test_small_scales_start_from_the_embedded_imagenet_and_sixteen_frames_from_eight(tmp_path):
    eight = table1.table1_config("embedded", "tin_r50", 8, 1, None, "cpu")
    assert eight.model.pretrained == "imagenet" and not eight.model.partial_bn  # resolved by run_folder
    assert eight.optim.optimizer == "adamw" and eight.optim.fc_lr5 and eight.model.options["dropout"] == 0.5
    sixteen = table1.table1_config("embedded", "tin_r50", 16, 1, None, "cpu", tmp_path / "last.pth")
    assert sixteen.model.pretrained == str(tmp_path / "last.pth") and sixteen.optim.max_steps == 62
    assert sixteen.optim.schedule == "constant" and sixteen.model.num_segments == 16
    assert table1.table1_config("smoke", "tsm_r50", 8, 0, None, "cpu").model.pretrained == "imagenet"
    long = table1.table1_config("long", "tsm_r50", 8, 0, None, "cpu")
    assert long.model.options["depths"] == [2, 2, 2, 2] and long.model.pretrained == "imagenet"
    assert table1.models_for("embedded") == ("tsn_r50", "tsm_r50", "tin_r50")  # r-TCN: long scale only
    assert "tconv_r50" in table1.models_for("long") and "tconv_r50" in table1.models_for("smoke")


def test_tin_starts_its_offsets_at_one_frame_at_the_embedded_and_long_scales_only():
    """Table 1's TIN at the embedded and long scales starts OffsetNet at +1 frame (ours); the other models, the
    smoke and full scales and the fixed-offset ablation (whose OffsetNet is unused) carry no ``offset_init``."""
    from paperlib.experiments.ablation import fixed_offset_config
    from paperlib.models import create

    for scale in ("embedded", "long"):
        for frames in (8, 16):
            assert table1.table1_config(scale, "tin_r50", frames, 0, None, "cpu").model.options["offset_init"] == 1.0
        assert "offset_init" not in table1.table1_config(scale, "tsm_r50", 8, 0, None, "cpu").model.options
        assert "TIN: model.options.offset_init=1.0" in table1.measured_with(scale)
    assert "offset_init" not in table1.table1_config("smoke", "tin_r50", 8, 0, None, "cpu").model.options
    assert "offset_init" not in table1.table1_config("full", "tin_r50", 8, 0, "/data", "cpu").model.options
    assert "offset_init" not in fixed_offset_config("embedded", 0, None, "cpu").model.options
    config = table1.table1_config("embedded", "tin_r50", 8, 0, None, "cpu")
    tin = create("tin_r50", 10, 8, **config.model.options)
    biases = [m.offset_net.fc2.bias for m in tin.modules() if hasattr(m, "offset_net")]
    assert len(biases) == 4  # one TIN layer per block, one block per stage
    for bias in biases:  # OffsetNet's output before its weights learn anything: +1 frame in both groups
        assert torch.allclose(4 * (torch.sigmoid(bias) - 0.5), torch.ones(2))


def test_the_long_scale_trains_its_eight_frame_runs_twice_the_embedded_epochs():
    embedded = table1.table1_config("embedded", "tsm_r50", 8, 0, None, "cpu")
    long = table1.table1_config("long", "tsm_r50", 8, 0, None, "cpu")
    assert (embedded.optim.epochs, long.optim.epochs) == (3, 6) and long.eval.every == 6
