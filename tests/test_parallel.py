"""Runs in worker processes (paperlib.experiments.parallel): pinned numerics (the same bits twice, with one job or
two, from a script without a main guard), the same cache folders as one-by-one runs, output kept in the build
log, errors raised in the caller with the run's name, and the job count read from the environment."""

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
import torch

from paperlib.engine import numerics
from paperlib.experiments import parallel, table1
from paperlib.experiments.cache import run_folder, run_or_load, train_ahead
from paperlib.experiments.folders import runs_pinned

ROOT = Path(__file__).resolve().parents[1]


def _configs(seeds, model="tsn_r50"):
    return [table1.table1_config("smoke", model, 8, s, None, "cpu") for s in seeds]


@pytest.fixture(scope="module")
def two_jobs(tmp_path_factory):
    """Two smoke runs trained side by side (jobs=2) by this process, which runs with two threads itself."""
    results = tmp_path_factory.mktemp("two_jobs") / "results"
    threads = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        train_ahead(_configs([0, 1]), results, None, "table1", jobs=2)
    finally:
        torch.set_num_threads(threads)
    return results


def _scores(results, seed):
    return np.load(run_folder(_configs([seed])[0], results, None, "table1") / "scores.npz")["scores"]


def test_train_ahead_fills_the_cache_that_run_or_load_reads(two_jobs, capfd):
    log = (two_jobs / "build.log").read_text()
    assert "1 threads" in log and "epoch 1/" in log  # the workers' training output went to the build log
    for config in _configs([0, 1]):
        folder = run_folder(config, two_jobs, None, "table1")
        metrics = json.loads((folder / "metrics.json").read_text())
        assert metrics["metrics"]["epoch"] == config.optim.epochs and metrics["config"]["deterministic"] is True
        stamp = (folder / "last.pth").stat().st_mtime_ns
        assert run_or_load(config, two_jobs, None, "table1") == folder  # found done: not trained again
        assert (folder / "last.pth").stat().st_mtime_ns == stamp
    assert len(list((two_jobs / "table1").iterdir())) == 2
    assert "epoch 1/" not in capfd.readouterr().err


def test_the_workers_run_with_the_pinned_settings(two_jobs):
    """The environment reaches the worker before torch initialises: one thread and ATen's AVX2 kernels, although
    the caller ran with two threads."""
    facts = json.loads((run_folder(_configs([0])[0], two_jobs, None, "table1") / "numerics.json").read_text())
    assert facts["threads"] == 1 and facts["deterministic"] is True
    assert facts["environment"] == numerics.PINNED_ENV
    if torch.backends.cpu.get_cpu_capability() in ("AVX2", "AVX512"):  # this CPU has AVX2
        assert facts["cpu_capability"] == "AVX2" and numerics.problems(facts) == []


def test_one_job_from_a_script_without_a_main_guard_gives_the_same_bits(two_jobs, tmp_path):
    """The same runs again, one at a time (PAPERLIB_JOBS=1), from a script that trains at import time (a spawned
    worker would re-import it and train again in the worker): the scores are bit-identical."""
    results = tmp_path / "results"
    script = tmp_path / "unguarded.py"
    script.write_text(
        textwrap.dedent(
            f"""
            import torch
            from paperlib.experiments import table1
            from paperlib.experiments.cache import train_ahead
            torch.set_num_threads(2)
            torch.ones(64, 64) @ torch.ones(64, 64)  # this process's libraries initialised before any run
            configs = [table1.table1_config("smoke", "tsn_r50", 8, s, None, "cpu") for s in (0, 1)]
            train_ahead(configs, {str(results)!r}, None, "table1")
            print("trained once")
            """
        )
    )
    env = {**os.environ, "PAPERLIB_JOBS": "1", "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, str(script)], env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.count("trained once") == 1
    assert "training 2 runs, 1 at a time" in done.stderr
    # (the script's folders are found by name: their hash names the code, which may be edited meanwhile)
    folders = {s: next((results / "table1").glob(f"tsn_r50_8f_seed{s}-*")) for s in (0, 1)}
    again = {s: np.load(folder / "scores.npz")["scores"] for s, folder in folders.items()}
    for seed in (0, 1):
        np.testing.assert_array_equal(again[seed], _scores(two_jobs, seed))
    assert not np.array_equal(again[0], again[1])  # the comparison can fail


def test_a_call_in_a_worker_sees_the_pinned_environment(tmp_path):
    facts = parallel.call_pinned("numerics", "paperlib.engine.numerics:report", {}, tmp_path, "check")
    assert facts["environment"] == numerics.PINNED_ENV and facts["threads"] == 1 and facts["deterministic"]
    if torch.backends.cpu.get_cpu_capability() in ("AVX2", "AVX512"):  # this CPU has AVX2
        assert facts["cpu_capability"] == "AVX2"
    with pytest.raises(ValueError, match="paperlib's functions only"):
        parallel.call_pinned("os", "os:getcwd", {}, tmp_path, "check")


def test_an_error_in_a_worker_is_raised_in_the_caller_with_the_run_name(tmp_path):
    configs = _configs([0])
    configs[0].model.name = "no_such_model"
    with pytest.raises(parallel.RunFailed, match=r"tsn_r50_8f_seed0 failed in its worker process.*no_such_model"):
        run_or_load(configs[0], tmp_path / "results", None, "table1")


def test_cuda_and_real_data_runs_stay_in_the_calling_process(tmp_path):
    config = _configs([0])[0]
    assert runs_pinned(config)
    config.data.root = str(tmp_path)
    assert not runs_pinned(config)
    config.data.root, config.device = None, "cuda"
    assert not runs_pinned(config)
    train_ahead([config], tmp_path, None, "table1", jobs=2)  # left to run_or_load: no worker
    assert not (tmp_path / "table1").exists()
    config.device = "auto"
    assert runs_pinned(config) == (not torch.cuda.is_available())


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


def test_run_folder_does_not_depend_on_its_own_side_effect(tmp_path):
    config = _configs([0])[0]
    first = run_folder(config, tmp_path, None, "table1")
    assert config.output_dir == str(first) and run_folder(config, tmp_path, None, "table1") == first


def test_folders_are_named_after_the_runs(tmp_path):
    assert Path(run_folder(_configs([1])[0], tmp_path, None, "table1")).name.startswith("tsn_r50_8f_seed1-")
