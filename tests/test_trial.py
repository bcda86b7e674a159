"""The trial of the full route (``python -m reproduce --scale full --trial``): the keys that cut its work
(``optim.max_steps``, ``data.limit``), its data and start weights, and the chapters run through it."""

import json

import pytest

from paperlib.configs import recipe_path
from paperlib.engine.config import ConfigError, config_to_dict, load_config
from paperlib.engine.data import build_datasets, resolve_data
from paperlib.engine.trainer import train
from paperlib.experiments import trial
from paperlib.experiments.chapter import open_chapter, results_root

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
