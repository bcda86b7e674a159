"""Side-by-side runs (paperlib.experiments.parallel): the same cache folders as one-by-one runs, output kept in
the build log, errors raised in the caller, and the job count read from the environment."""

import json
from pathlib import Path

import pytest

from paperlib.experiments import parallel, table1
from paperlib.experiments.cache import run_folder, run_or_load


def _configs(seeds):
    return [table1.table1_config("smoke", "tsn_r50", 8, s, None, "cpu") for s in seeds]


def test_train_ahead_fills_the_cache_that_run_or_load_reads(tmp_path, capfd):
    results = tmp_path / "results"
    parallel.train_ahead(_configs([0, 1]), results, None, "table1", jobs=2)
    captured = capfd.readouterr()
    assert "epoch 1/" not in captured.out + captured.err  # training output went to the build log
    log = (results / "build.log").read_text()
    assert "1 threads" in log and "training 2 runs, 2 at a time" in captured.err
    for config in _configs([0, 1]):
        folder = run_folder(config, results, None, "table1")
        assert json.loads((folder / "metrics.json").read_text())["metrics"]["epoch"] == config.optim.epochs
        stamp = (folder / "last.pth").stat().st_mtime_ns
        assert run_or_load(config, results, None, "table1") == folder  # found done: not trained again
        assert (folder / "last.pth").stat().st_mtime_ns == stamp
    assert len(list((results / "table1").iterdir())) == 2


def test_run_folder_does_not_depend_on_its_own_side_effect(tmp_path):
    config = _configs([0])[0]
    first = run_folder(config, tmp_path, None, "table1")
    assert config.output_dir == str(first) and run_folder(config, tmp_path, None, "table1") == first


def test_one_job_or_one_run_trains_nothing_here(tmp_path):
    parallel.train_ahead(_configs([0, 1]), tmp_path, None, "table1", jobs=1)
    parallel.train_ahead(_configs([0]), tmp_path, None, "table1", jobs=2)
    assert not (tmp_path / "table1").exists()


def test_an_error_in_a_worker_is_raised_in_the_caller(tmp_path):
    configs = _configs([0, 1])
    for config in configs:
        config.data.root = str(tmp_path / "no_such_dataset")
    with pytest.raises(Exception, match="no_such_dataset"):
        parallel.train_ahead(configs, tmp_path / "results", str(tmp_path / "no_such_dataset"), "table1", jobs=2)


@pytest.mark.parametrize("value", ["0", "two", "-1", ""])
def test_jobs_from_the_environment(monkeypatch, value):
    monkeypatch.setenv("PAPERLIB_JOBS", "3")
    assert parallel.default_jobs() == 3
    monkeypatch.setenv("PAPERLIB_JOBS", value)
    if value == "":
        assert parallel.default_jobs() >= 1
    else:
        with pytest.raises(ValueError, match="PAPERLIB_JOBS"):
            parallel.default_jobs()


def test_folders_are_named_after_the_runs(tmp_path):
    assert Path(run_folder(_configs([1])[0], tmp_path, None, "table1")).name.startswith("tsn_r50_8f_seed1-")
