"""The trial of the full route (``python -m reproduce --scale full --trial``): the keys that cut its work
(``optim.max_steps``, ``data.limit``), its data and start weights, and the chapters run through it."""

import json
import os
from pathlib import Path

import pytest

from paperlib.configs import recipe_path
from paperlib.engine.config import ConfigError, config_to_dict, load_config
from paperlib.engine.data import build_datasets, resolve_data
from paperlib.engine.trainer import train
from paperlib.experiments import trial
from paperlib.experiments.chapter import open_chapter, results_root

ROOT = Path(__file__).resolve().parents[1]
SMOKE = recipe_path("smoke")


@pytest.fixture(scope="module")
def cache(tmp_path_factory):
    return tmp_path_factory.mktemp("datasets")


def test_max_steps_ends_the_run_after_that_many_iterations_and_evaluates(tmp_path, cache):
    # 10 training videos in batches of 4: 2 steps per epoch (the last partial batch dropped); 3 steps end in epoch 2
    overrides = ["optim.max_steps=3", "data.limit=10", "optim.batch_size=4", "optim.epochs=40", "eval.every=40"]
    config = load_config(SMOKE, [f"output_dir={tmp_path}", f"data.cache_dir={cache}", *overrides])
    metrics = train(config)
    events = [json.loads(line) for line in (tmp_path / "log.jsonl").read_text().splitlines()]
    assert [e["step"] for e in events if e["event"] == "step"] == [0, 1, 2]
    assert [e["event"] for e in events if e["event"] in ("epoch", "eval")] == ["epoch", "epoch", "eval"]
    assert metrics["epoch"] == 2 and metrics["max_steps"] == 3 and metrics["videos"] == 10
    assert train(config, resume=True) == {}  # resumed after its last step: nothing left to do


def test_limit_reads_the_first_entries_of_each_list(tmp_path, cache):
    config = load_config(SMOKE, [f"data.cache_dir={cache}", "data.limit=3"])
    train_set, val_set = build_datasets(config, resolve_data(config))
    unlimited = load_config(SMOKE, [f"data.cache_dir={cache}"])
    whole = build_datasets(unlimited, resolve_data(unlimited))
    assert [len(train_set), len(val_set)] == [3, 3]
    assert train_set.records == whole[0].records[:3] and val_set.records == whole[1].records[:3]


@pytest.mark.parametrize("key", ["optim.max_steps", "data.limit"])
def test_trial_keys_refuse_zero(key):
    with pytest.raises(ConfigError, match=key):
        load_config(SMOKE, [f"{key}=0"])


# --- the trial's settings, data, start weights and chapters ---------------------------------------------------


def test_trial_settings_from_the_environment(monkeypatch):
    monkeypatch.delenv(trial.ENV, raising=False)
    assert trial.current() is None
    monkeypatch.setenv(trial.ENV, "1")
    assert trial.current() == trial.Trial()
    monkeypatch.setenv(trial.ENV, "steps=1, videos=2")
    assert trial.current() == trial.Trial(steps=1, videos=2)
    for bad in ("steps=0", "minutes=3", "steps"):
        monkeypatch.setenv(trial.ENV, bad)
        with pytest.raises(ValueError, match=trial.ENV):
            trial.current()
    trial.activate(trial.Trial(videos=3))
    assert trial.current() == trial.Trial(videos=3)
    trial.activate(False)
    assert trial.current() is None


def test_a_trial_can_cap_the_clips_of_mmits_multi_view_test(monkeypatch):
    from paperlib.experiments.mmit import VIEWS, views

    monkeypatch.delenv(trial.ENV, raising=False)
    assert views("full") == VIEWS["full"] == {"1 view": (1, 1), "3 crops x 10 clips": (3, 10)}
    monkeypatch.setenv(trial.ENV, "1")
    assert views("full") == VIEWS["full"] and "multi-view" not in trial.current().describe()
    monkeypatch.setenv(trial.ENV, "clips=2")
    assert views("full") == {"1 view": (1, 1), "3 crops x 2 clips": (3, 2)}
    assert views("embedded") == VIEWS["embedded"]  # the small scales keep theirs
    assert "3 crops x 2 clips" in trial.current().describe()
    monkeypatch.setenv(trial.ENV, "clips=1")
    assert list(views("full")) == ["1 view", "3 crops x 1 clip"]


def test_apply_cuts_the_work_and_nothing_else(tmp_path, monkeypatch):
    monkeypatch.setenv(trial.ENV, "steps=2,videos=4,batch=2")
    monkeypatch.delenv("PAPERLIB_IMAGENET", raising=False)
    monkeypatch.setattr(trial, "cache_dir", lambda: tmp_path)
    recipe = load_config("tin_r50_1x1x8_40e_sthv1", [f"data.root={tmp_path}"])
    config = load_config("tin_r50_1x1x8_40e_sthv1", [f"data.root={tmp_path}"])
    trial.apply(config)
    trial.apply(config)  # twice: the same
    changed = {
        "optim.max_steps": 2,
        "data.limit": 4,
        "optim.batch_size": 2,
        "eval.batch_size": 2,
        "data.workers": min(8, os.cpu_count()),
        "model.pretrained": str(tmp_path / "resnet50-random-init-NOT-imagenet.pth"),
    }
    assert {key: _get(config, key) for key in changed} == changed
    tree, original = config_to_dict(config), config_to_dict(recipe)
    for key in changed:
        section, name = key.split(".")
        tree[section].pop(name), original[section].pop(name)
    assert tree == original  # the recipe otherwise unchanged: 174 classes (not rendered data), 8 frames, 224 px, ...
    monkeypatch.setenv("PAPERLIB_IMAGENET", str(tmp_path))  # --imagenet DIR given: the recipe keeps its start
    given = load_config("tin_r50_1x1x8_40e_sthv1", [f"data.root={tmp_path}"])
    trial.apply(given)
    assert given.model.pretrained == "imagenet"
    monkeypatch.delenv(trial.ENV)
    untouched = load_config("tin_r50_1x1x8_40e_sthv1")
    trial.apply(untouched)
    assert config_to_dict(untouched) == config_to_dict(load_config("tin_r50_1x1x8_40e_sthv1"))


def _get(config, dotted):
    section, name = dotted.split(".")
    return getattr(getattr(config, section), name)


def test_random_imagenet_is_torchvision_layout_and_says_random(tmp_path):
    import torch
    import torchvision

    path = trial.random_imagenet("tin_r50", tmp_path)
    assert "random-init-NOT-imagenet" in path.name
    state = torch.load(path, weights_only=True)
    torchvision.models.resnet50().load_state_dict(state)  # strict: exactly torchvision's keys and shapes
    again = torch.load(trial.random_imagenet("tsm_r50", tmp_path), weights_only=True)  # written once, seeded
    assert torch.equal(state["conv1.weight"], again["conv1.weight"])


def test_trial_chapter_needs_the_full_scale_and_keeps_its_results_apart(monkeypatch):
    monkeypatch.delenv(trial.ENV, raising=False)
    with pytest.raises(ValueError, match="needs scale 'full'"):
        open_chapter("table1", scale="embedded", trial=True)
    with pytest.raises(TypeError, match="parameter 'trial'"):
        open_chapter("table1", scale="full", trial="yes")
    assert trial.current() is None
    assert results_root("full", trial=True).name == "full-trial"


def test_banner_on_every_page_only_for_a_trial(monkeypatch):
    import importlib.util
    from types import SimpleNamespace

    spec = importlib.util.spec_from_file_location("trial_banner", ROOT / "book" / "_ext" / "trial_banner.py")
    extension = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(extension)
    config = SimpleNamespace(html_theme_options={"other": 1})
    monkeypatch.delenv(trial.ENV, raising=False)
    extension._announce(None, config)
    assert config.html_theme_options == {"other": 1}
    monkeypatch.setenv(trial.ENV, "1")
    monkeypatch.delenv("PAPERLIB_IMAGENET", raising=False)
    extension._announce(None, config)
    announcement = config.html_theme_options["announcement"]
    assert announcement.startswith("TRIAL") and "RANDOM ResNet-50" in announcement
    assert config.html_theme_options["other"] == 1
    assert "trial_banner: book/_ext" in (ROOT / "_config.yml").read_text()  # the book loads it


def test_reproduce_trial_needs_the_full_scale_and_no_data_or_weights(capsys):
    from reproduce.__main__ import main

    with pytest.raises(SystemExit) as stopped:
        main(["--scale", "embedded", "--trial"])
    assert stopped.value.code == 2 and "--scale full" in capsys.readouterr().err
    with pytest.raises(SystemExit) as stopped:  # past the checks of data, ImageNet and MMIT: stops at the name
        main(["--scale", "full", "--trial", "--only", "no_such_chapter"])
    assert stopped.value.code == 2 and "no chapter named 'no_such_chapter'" in capsys.readouterr().err


def test_reproduce_full_training_asks_for_mmit_too(tmp_path, capsys):
    from reproduce.__main__ import main

    (tmp_path / "resnet50-0676ba61.pth").write_bytes(b"weights")
    with pytest.raises(SystemExit) as stopped:
        main(["--scale", "full", "--data-root", str(tmp_path), "--imagenet", str(tmp_path)])
    assert stopped.value.code == 2 and "--mmit-root DIR" in capsys.readouterr().err


# --- the CI-sized trial: one or two models of every training chapter, through the functions the chapters call ---

# one iteration of one clip per run, the first video of every list, MMIT's multi-view test at 3 crops x 2 clips
# (the book's trial: 2 iterations of 2 clips, 4 videos, 3 crops x 10 clips, which dominate its time)
CI_VIDEOS = 1
CI_TRIAL = f"steps=1,videos={CI_VIDEOS},batch=1,clips=2"


@pytest.fixture(scope="module")
def trial_results(tmp_path_factory):
    """``PAPERLIB_RESULTS`` of the CI trial, with the trial on (the chapters' environment under reproduce)."""
    with pytest.MonkeyPatch.context() as patch:
        results = tmp_path_factory.mktemp("results")
        patch.setenv(trial.ENV, CI_TRIAL)
        patch.setenv("PAPERLIB_RESULTS", str(results))
        patch.setenv("PAPERLIB_DEVICE", "cpu")
        for name in ("PAPERLIB_SCALE", "PAPERLIB_DATA_ROOT", "PAPERLIB_MMIT_ROOT", "PAPERLIB_IMAGENET"):
            patch.delenv(name, raising=False)
        patch.delenv("PAPERLIB_CHECKPOINTS", raising=False)
        yield results


@pytest.fixture(scope="module")
def table1_runs(trial_results):
    """Table 1's TIN-R50 at 8 and 16 frames (the recipes tin_r50_1x1x{8,16}_40e_sthv1), as its chapter runs them."""
    from paperlib.experiments import table1

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(table1, "models_for", lambda scale: ("tin_r50",))  # one model of the chapter
        chapter = open_chapter("table1", scale="full")
        assert chapter.trial and chapter.results_dir == trial_results / "full-trial"
        runs = table1.run_table1(
            chapter.scale, chapter.seeds, chapter.results_dir, chapter.data_root, chapter.device, chapter.checkpoints
        )
    return chapter, runs


@pytest.mark.slow
@pytest.mark.trial
def test_trial_table1_runs_the_paper_recipes_cut_to_one_step(table1_runs):
    from paperlib.experiments.table1 import data_description, summarize

    chapter, runs = table1_runs
    assert list(runs["model"].unique()) == ["tin_r50"]  # one model (a change of the chapter's API shows here)
    assert list(runs["frames"]) == ["8", "16", "8+16"] and runs["top1"].notna().all()
    assert "TRIAL" in chapter.data_label and "rendered at full size" in chapter.data_label
    assert "10 classes" in data_description(runs)
    assert set(summarize(runs).index.get_level_values("frames")) == {"8", "16", "8+16"}
    for frames, run in zip((8, 16), runs["run"].dropna()):
        record = json.loads((Path(run) / "metrics.json").read_text())
        config, recipe = record["config"], load_config(f"tin_r50_1x1x{frames}_40e_sthv1")
        assert record["metrics"]["max_steps"] == 1 and record["metrics"]["videos"] == CI_VIDEOS
        # the paper recipe at full size: only the amount of work and the start weights' file differ
        assert config["model"]["num_segments"] == frames and config["data"]["input_size"] == 224
        assert config["data"]["scale_size"] == 256 and config["model"]["partial_bn"] is True
        assert config["optim"]["lr"] == recipe.optim.lr and config["optim"]["epochs"] == recipe.optim.epochs
        assert config["optim"]["schedule"] == "cosine" and config["optim"]["reference_batch"] == 48
        assert config["model"]["pretrained"].endswith("resnet50-random-init-NOT-imagenet.pth")
        log = (Path(run) / "log.jsonl").read_text()
        assert '"event": "step"' in log


@pytest.mark.slow
@pytest.mark.trial
def test_trial_offsets_chapter_reads_the_trained_tin_through_reproduce(table1_runs, trial_results):
    """The offsets chapter, executed by ``python -m reproduce --scale full --trial --only offsets`` (papermill), reads
    Table 1's trained 8-frame TIN from the run cache: nothing is trained again."""
    import subprocess
    import sys

    env = {**os.environ, "OMP_NUM_THREADS": "2"}
    done = subprocess.run(
        [sys.executable, "-m", "reproduce", "--scale", "full", "--trial", "--only", "offsets", "--device", "cpu"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    saved = json.loads((trial_results / "full-trial" / "notebooks" / "offsets.json").read_text())
    assert saved["parameters"]["scale"] == "full" and "1 training iteration per run" in saved["parameters"]["trial"]
    assert len(saved["results"]["layers"]) == 16 and saved["results"]["videos"] == CI_VIDEOS  # every R50 bottleneck
    tin_8f = Path(table1_runs[1]["run"].iloc[0])
    assert saved["results"]["checkpoint"].endswith(f"{tin_8f.name}/last.pth")  # Table 1's TIN, from the run cache
    assert [run.name for run in tin_8f.parent.glob("tin_r50_8f_*")] == [tin_8f.name]  # none trained again
    assert (trial_results / "full-trial" / "executed" / "offsets.ipynb").is_file()


@pytest.fixture(scope="module")
def mmit_single(trial_results):
    """MMIT's TIN-R50 (2D, ImageNet route) and SlowFast-R50 (3D, 112 px crops of 128) recipes, as the chapter runs
    them, scored on validation and test with one view and with 3 crops x 2 clips (``CI_TRIAL``)."""
    from paperlib.experiments.mmit import run_single_models

    chapter = open_chapter("mmit_single", scale="full")
    single = run_single_models(
        chapter.scale,
        chapter.seeds,
        chapter.results_dir,
        chapter.data_root,
        chapter.device,
        models=("tin_r50", "slowfast_r50"),
    )
    return chapter, single


@pytest.mark.slow
@pytest.mark.trial
def test_trial_mmit_single_models_and_their_ensemble(mmit_single):
    from paperlib.experiments.mmit import ensemble, ensemble_verdict, multiview_gain, single_verdict

    chapter, single = mmit_single
    assert len(single) == 2 * 2 * 2 and (single["videos"] == CI_VIDEOS).all()  # models x splits x views
    assert set(single["view"]) == {"1 view", "3 crops x 2 clips"} and single["classwise_mAP"].notna().all()
    assert list(multiview_gain(single, "full").index) == ["tin_r50", "slowfast_r50"]
    assert single_verdict(single, "full")[0].startswith("Chance on the test split")
    table, weights = ensemble(single, "3 crops x 2 clips")
    assert "tuned fusion (weights from val)" in set(table["method"])
    assert list(weights.columns) == ["tin_r50", "slowfast_r50"]
    assert ensemble_verdict(table)
    configs = [json.loads((Path(run) / "metrics.json").read_text())["config"] for run in single["run"].unique()]
    configs = {config["model"]["name"]: config for config in configs}
    assert configs["slowfast_r50"]["data"]["input_size"] == 112 and configs["slowfast_r50"]["data"]["scale_size"] == 128
    assert configs["slowfast_r50"]["model"]["num_segments"] == 32
    assert configs["slowfast_r50"]["model"]["pretrained"] is None  # from scratch, as the recipe
    assert configs["tin_r50"]["model"]["pretrained"].endswith("random-init-NOT-imagenet.pth")


@pytest.mark.slow
@pytest.mark.trial
def test_trial_model_zoo_lists_and_loads_every_trained_checkpoint(table1_runs, mmit_single):
    from paperlib.experiments.zoo import own_checkpoint_tables, own_checkpoints

    chapter, runs = table1_runs
    rows = own_checkpoints(chapter.results_dir, runs, mmit_single[1])
    assert sorted(row["model"] for row in rows) == ["slowfast_r50", "tin_r50", "tin_r50", "tin_r50"]
    assert len(own_checkpoint_tables(rows)) == 2  # one table per dataset


def test_the_full_size_renderer_gives_the_same_bytes_in_several_processes(tmp_path):
    """``write_something`` (the trial's and the GPU check's renderer of the embedded Something set at full size)
    writes the same files whether one process or two render the clips."""
    import dataclasses

    from paperlib.data.synthetic import something
    from paperlib.utils import sha256_file

    scale = dataclasses.replace(something.SCALES["smoke"], size=48, num_train=3, num_val=2)
    digests = []
    for processes in (1, 2):
        folder = tmp_path / str(processes)
        assert something.write_something(folder, scale, 0, processes) == ({"train": 3, "validation": 2}, 10)
        files = sorted(p for p in folder.rglob("*") if p.is_file())
        digests.append([(p.relative_to(folder).as_posix(), sha256_file(p)) for p in files])
    assert digests[0] == digests[1] and len(digests[0]) > 5 * 16
