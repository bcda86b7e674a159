"""The trial of the full route (``python -m reproduce --scale full --trial``): the keys that cut its work
(``optim.max_steps``, ``data.limit``), its data and start weights, and the chapters run through it."""

import json

import pytest

from paperlib.configs import recipe_path
from paperlib.engine.config import ConfigError, load_config
from paperlib.engine.data import build_datasets, resolve_data
from paperlib.engine.trainer import train

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
