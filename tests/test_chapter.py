"""A chapter's parameters and results location (paperlib.experiments.chapter), the published numbers the
chapters show (each from its one home: the model registry or the checkpoint zoo), and the chapters' verdicts."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from paperlib.experiments import chapter as chapter_module
from paperlib.experiments import mmit, offsets, table1
from paperlib.experiments.chapter import open_chapter, results_root

ROOT = Path(__file__).resolve().parents[1]


def test_results_location_does_not_depend_on_the_current_directory(tmp_path, monkeypatch):
    monkeypatch.delenv("PAPERLIB_RESULTS", raising=False)
    monkeypatch.chdir(tmp_path)
    assert results_root("smoke") == ROOT / "results" / "smoke"
    assert open_chapter("x", scale="smoke").results_dir == ROOT / "results" / "smoke"
    monkeypatch.setenv("PAPERLIB_RESULTS", str(tmp_path / "elsewhere"))
    assert results_root("embedded") == tmp_path / "elsewhere" / "embedded"
    assert open_chapter("x", scale="smoke", results_dir="given").results_dir == tmp_path / "given"


def test_an_installed_package_keeps_results_in_the_user_cache(monkeypatch):
    monkeypatch.delenv("PAPERLIB_RESULTS", raising=False)
    monkeypatch.setattr(chapter_module, "repository_root", lambda: None)
    assert results_root("smoke") == Path("~/.cache/paperlib/results/smoke").expanduser()


def test_open_chapter_defaults_checks_and_environment(monkeypatch):
    for name in ("PAPERLIB_SCALE", "PAPERLIB_DATA_ROOT", "PAPERLIB_CHECKPOINTS", "PAPERLIB_DEVICE"):
        monkeypatch.delenv(name, raising=False)
    chapter = open_chapter("table1")
    assert (chapter.scale, chapter.seeds, chapter.data_root, chapter.device) == (
        "embedded",
        [0, 1, 2],
        None,
        "auto",
    )
    assert open_chapter("mmit_single").seeds == [0, 1]  # MMIT's own default seeds
    assert open_chapter("offsets", scale="long").seeds == [0, 1, 2, 3, 4]  # the TINs of Table 1's seeds
    monkeypatch.setenv("PAPERLIB_SCALE", "smoke")
    monkeypatch.setenv("PAPERLIB_DATA_ROOT", "/data/sthv1")
    monkeypatch.setenv("PAPERLIB_DEVICE", "cpu")
    chapter = open_chapter("table1", max_videos=3)
    assert (chapter.scale, chapter.seeds, chapter.data_root, chapter.device) == ("smoke", [0], "/data/sthv1", "cpu")
    assert chapter.parameters["max_videos"] == 3
    with pytest.raises(ValueError, match="parameter 'scale'"):
        open_chapter("table1", scale="huge")
    with pytest.raises(TypeError, match="parameter 'seeds'"):
        open_chapter("table1", seeds="0,1")
    assert open_chapter("table1", profile="long").scale == "long"  # `-p profile long` as well as `-p scale long`
    with pytest.raises(ValueError, match="parameter 'profile'"):
        open_chapter("table1", profile="huge")
    with pytest.raises(ValueError, match="'scale' .* and 'profile' .* disagree"):
        open_chapter("table1", scale="smoke", profile="long")


def test_chapter_saves_its_results_and_shows_relative_paths(tmp_path):
    chapter = open_chapter("demo", scale="smoke", results_dir=tmp_path)
    assert chapter.save({"a": 1}) is None
    record = json.loads((tmp_path / "notebooks" / "demo.json").read_text())
    assert record["results"] == {"a": 1} and record["parameters"]["scale"] == "smoke"
    assert chapter.relative(tmp_path / "table1" / "run" / "last.pth") == "table1/run/last.pth"
    assert chapter.relative(ROOT / "README.md") == "README.md"


def test_reported_tables_come_from_the_registry_and_the_zoo():
    reported = table1.reported_table().reset_index()
    tin_paper = reported[(reported["model"] == "TIN") & (reported["frames"] == "8")]["top1"]
    assert tin_paper.tolist() == [45.8]  # TIN paper Table 1 (registry)
    revised = reported[(reported["model"] == "TSM (revised)") & (reported["views"] == "1 crop x 1 clip")]
    assert sorted(revised["top1"]) == [45.6, 47.2, 49.7]  # two checkpoints (zoo) and the later paper (registry)
    single = mmit.reported_single().reset_index()
    assert single.set_index("model").loc["TSN R101 (X-Temporal)", "3 crops x 10 clips"] == 60.7
    cost = table1.cost_table().reset_index().set_index(["model", "frames"])
    assert cost.loc[("tin_r50", 8), "params (ours)"] == cost.loc[("tin_r50", 8), "params (reported)"] == 23_895_566


def test_offsets_verdict_follows_the_numbers():
    rising = {
        "layers": ["a", "b", "c"],
        "mean_abs_offset": [0.1, 0.2, 0.3],
        "offset_depth_rank_corr": 1.0,
        "end_frame_weight": 0.5,
        "middle_frame_weight": 0.9,
    }
    assert "One model decides neither reading" in offsets.verdict(rising)[1]
    seeds = offsets.seed_table({seed: {**rising, "offset_depth_rank_corr": 0.8 + 0.05 * seed} for seed in range(3)})
    lines = offsets.verdict(rising, seeds)
    assert lines[1].endswith("seed 0: 0 of 3, seed 1: 0 of 3, seed 2: 0 of 3.")  # 0.1 is not below 0.1
    assert lines[2].startswith("Offsets grow with depth: supported") and "3 TIN layers" in lines[2]
    assert lines[3].startswith("End frames get lower weights: supported")
    flipped = seeds.assign(**{"middle - end": [-0.4, -0.41, -0.39]})
    assert offsets.verdict(rising, flipped)[3].startswith("End frames get lower weights: not supported")
    mixed = seeds.assign(**{"offset-depth rank corr": [0.5, -0.5, 0.1]})
    assert offsets.verdict(rising, mixed)[2].startswith("Offsets grow with depth: undecided")
    collapsed = offsets.seed_table({0: rising, 1: {**rising, "mean_abs_offset": [0.01, 0.05, 1.5]}})
    assert list(collapsed["layers with |offset| < 0.1"]) == [0, 2]
    assert "seed 0: 0 of 3, seed 1: 2 of 3" in offsets.verdict(rising, collapsed)[1]


def test_offset_summary_measures_depth_and_frame_trends():
    records = {f"layer{i}": {"offset": np.full((4, 2), float(i)), "weight": np.ones((4, 8, 2))} for i in range(4)}
    records["layer0"]["weight"][:, [0, 7]] = 0.5
    summary = offsets.offset_summary(records)
    assert summary["offset_depth_rank_corr"] == pytest.approx(1.0)
    assert summary["end_frame_weight"] < summary["middle_frame_weight"]


def _scored(tmp_path: Path, name: str, labels: np.ndarray, scores: np.ndarray) -> str:
    folder = tmp_path / name
    folder.mkdir()
    np.savez(folder / "scores.npz", labels=labels, scores=scores)
    return str(folder)


def test_mmit_single_verdict_compares_every_seed_with_chance(tmp_path):
    rng = np.random.default_rng(0)
    labels = (rng.random((40, 6)) < 0.3).astype(np.int64)
    perfect = _scored(tmp_path, "perfect", labels, labels + 0.01 * rng.random(labels.shape))
    noise = _scored(tmp_path, "noise", labels, rng.random(labels.shape))
    rows = []
    for model, folder, (one, multi) in [("good", perfect, (90.0, 92.0)), ("blind", noise, (31.0, 30.0))]:
        for view, value in (("1 view", one), ("3 crops x 2 clips", multi)):
            rows.append(
                {"model": model, "seed": 0, "split": "test", "view": view, "classwise_mAP": value, "scores": folder}
            )
    lines = mmit.single_verdict(pd.DataFrame(rows), "embedded")
    assert lines[0].startswith("Chance on the test split")
    assert lines[1].startswith("good:") and lines[1].endswith(").")
    assert "not 5 points above chance in every seed" in lines[2]
    assert "did not help every model" in lines[3]


def test_papermill_from_another_directory_reuses_the_runs(tmp_path):
    """`papermill notebooks/<chapter>.ipynb out.ipynb` from any directory writes into one results folder and
    the second run reuses what the first made (here with $PAPERLIB_RESULTS pointing at a temporary folder)."""
    env = {**os.environ, "PAPERLIB_RESULTS": str(tmp_path / "results"), "OMP_NUM_THREADS": "1"}
    papermill = [sys.executable, "-m", "papermill", str(ROOT / "notebooks" / "theory.ipynb")]
    for run, name in (("first", "scale"), ("second", "profile")):  # either parameter name
        subprocess.run(
            [*papermill, str(tmp_path / f"{run}.ipynb"), "-p", name, "smoke"],
            cwd=tmp_path,
            env=env,
            check=True,
            capture_output=True,
        )
    written = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*.json"))
    assert written == [Path("results/smoke/notebooks/theory.json")]


def test_reproduce_full_without_imagenet_weights_stops_before_training(tmp_path, capsys):
    from reproduce.__main__ import main

    with pytest.raises(SystemExit) as stopped:
        main(["--profile", "full", "--data-root", str(tmp_path)])  # --profile: another name for --scale
    message = capsys.readouterr().err
    assert stopped.value.code == 2 and "--imagenet DIR" in message and "resnet50-0676ba61.pth" in message
    with pytest.raises(SystemExit) as stopped:
        main(["--scale", "full", "--data-root", str(tmp_path), "--imagenet", str(tmp_path)])
    message = capsys.readouterr().err
    assert stopped.value.code == 2 and "resnet50-0676ba61.pth" in message and "--imagenet DIR" in message


def test_imagenet_start_is_resolved_where_training_starts(tmp_path, monkeypatch):
    """A recipe that starts from ImageNet: the run cache stops before training, naming torchvision's file, unless
    $PAPERLIB_IMAGENET (reproduce --imagenet DIR) holds it; evaluating given checkpoints never asks for it."""
    import paperlib.engine.trainer as trainer
    from paperlib.engine.config import ConfigError
    from paperlib.experiments.cache import run_or_load

    monkeypatch.delenv("PAPERLIB_IMAGENET", raising=False)
    config = table1.table1_config("full", "tin_r50", 8, 0, str(tmp_path), "cpu")  # builds: no training yet
    assert config.model.pretrained == "imagenet"
    trained = []
    monkeypatch.setattr(trainer, "train", lambda config, resume: trained.append(config.model.pretrained))
    with pytest.raises(ConfigError, match="resnet50-0676ba61.pth"):
        run_or_load(config, tmp_path / "results", None)
    assert trained == []
    (tmp_path / "imagenet").mkdir()
    (tmp_path / "imagenet" / "resnet50-0676ba61.pth").write_bytes(b"weights")
    monkeypatch.setenv("PAPERLIB_IMAGENET", str(tmp_path / "imagenet"))
    run_or_load(table1.table1_config("full", "tin_r50", 8, 0, str(tmp_path), "cpu"), tmp_path / "results", None)
    assert trained == [str(tmp_path / "imagenet" / "resnet50-0676ba61.pth")]


def test_statements_and_figures_show_once():
    """A chapter's statements are wrapped prose (Markdown bullets); a figure function hands back its figure
    closed, so the cell that ends with it shows it once, not twice."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from paperlib.viz import offsets_static, statements

    assert statements(["a is 1.", "b is 2."]).data == "- a is 1.\n- b is 2."
    records = {f"layer{i}": {"offset": np.full((3, 2), 0.1 * i), "weight": np.ones((3, 8, 2))} for i in range(2)}
    figure = offsets_static(records)
    assert figure.number not in plt.get_fignums() and len(figure.axes) >= 2
