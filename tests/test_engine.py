"""Training, evaluation, metrics, configs, DDP, resumption and prediction on the smoke datasets."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from paperlib.configs import available_recipes, recipe_path
from paperlib.engine.config import ConfigError, load_config
from paperlib.engine.metrics import classwise_map, compute_metrics, samplewise_map, topk_accuracy
from paperlib.engine.trainer import lr_factor, train

ROOT = Path(__file__).resolve().parents[1]
SMOKE = recipe_path("smoke")


@pytest.fixture(scope="module")
def cache(tmp_path_factory):
    return tmp_path_factory.mktemp("datasets")


def smoke(tmp_path, cache, *overrides):
    return load_config(SMOKE, [f"output_dir={tmp_path}", f"data.cache_dir={cache}", *overrides])


# --- metrics on fixed scores ----------------------------------------------------------------------------


def test_topk_by_hand():
    scores = np.array([[0.1, 0.7, 0.2], [0.5, 0.2, 0.3], [0.3, 0.3, 0.4], [0.2, 0.5, 0.3]])
    labels = np.array([1, 2, 0, 2])
    # top-1: rows 0 only -> 25 %; top-2: rows 0 (1), 1 (2 is second), 2 (0 ties 1 at 0.3, stable order keeps 0),
    # 3 (2 second)
    assert topk_accuracy(scores, labels, ks=(1, 2)) == {"top1": 25.0, "top2": 100.0}


def test_maps_by_hand():
    scores = np.array([[0.9, 0.1], [0.8, 0.7], [0.2, 0.6], [0.1, 0.2]])
    targets = np.array([[1, 0], [0, 1], [1, 1], [0, 0]])
    # class 0: ranking 0.9(+), 0.8(-), 0.2(+), 0.1(-) -> AP = (1/1 + 2/3) / 2 = 0.8333
    # class 1: ranking 0.7(+), 0.6(+), 0.2(-), 0.1(-) -> AP = 1
    assert classwise_map(scores, targets) == pytest.approx(100 * (0.8333333 + 1) / 2, abs=1e-4)
    # videos: 0 -> AP 1; 1 -> AP 1 (0.7 > ... no: class 1 is 0.7 < 0.8) -> 0.5; 2 -> AP 1; 3 has no label (skipped)
    assert samplewise_map(scores, targets) == pytest.approx(100 * (1 + 0.5 + 1) / 3)
    assert set(compute_metrics(scores, targets, multi_label=True)) == {"mAP_classwise", "mAP_samplewise_xtemporal"}


def test_schedule():
    assert lr_factor(0, 100, 10, "cosine") == pytest.approx(0.1)
    assert lr_factor(5, 100, 10, "cosine") == pytest.approx(0.55)
    assert lr_factor(10, 100, 10, "cosine") == pytest.approx(1.0)
    assert lr_factor(55, 100, 10, "cosine") == pytest.approx(0.5)
    assert lr_factor(99, 100, 10, "constant") == 1.0


# --- configs --------------------------------------------------------------------------------------------


def test_config_errors_name_the_key(tmp_path):
    with pytest.raises(ConfigError, match="unknown config key\\(s\\): optim.lrr"):
        load_config(SMOKE, ["optim.lrr=0.1"])
    with pytest.raises(ConfigError, match="'optim.epochs': expected int, got 'ten'"):
        load_config(SMOKE, ["optim.epochs=ten"])
    with pytest.raises(ConfigError, match="'data.sampling': 'uniform' is not one of"):
        load_config(SMOKE, ["data.sampling=uniform"])
    bad = tmp_path / "bad.yaml"
    bad.write_text("model:\n  name: tin_r50\n  shift_div: 4\n")
    with pytest.raises(ConfigError, match="model.shift_div"):
        load_config(bad)


@pytest.mark.parametrize("name", available_recipes())
def test_every_recipe_config_is_valid(name):
    load_config(name)


def test_a_recipe_is_found_by_name_or_path(tmp_path):
    assert available_recipes() and "smoke" in available_recipes()
    assert recipe_path("smoke") == recipe_path("smoke.yaml") and recipe_path("smoke").is_file()
    assert load_config("smoke") == load_config("smoke.yaml") == load_config(recipe_path("smoke"))
    local = tmp_path / "mine.yaml"
    local.write_text("model:\n  name: tsm_r50\ndata:\n  input_size: 112\noptim:\n  lr: 0.01\n")
    assert load_config(local).model.name == "tsm_r50"
    local.write_text("model:\n  name: tsm_r50\n")  # the other sections missing: refused, not trained on defaults
    with pytest.raises(ConfigError, match="no 'data', 'optim' section"):
        load_config(local)
    with pytest.raises(ConfigError, match="no recipe named 'smok'; available recipes: .*smoke") as info:
        load_config("smok")
    assert "\n" not in str(info.value)
    with pytest.raises(FileNotFoundError, match="config file not found"):
        load_config(tmp_path / "missing.yaml")


# --- training -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["tsn_r50", "tsm_r50", "tin_r50", "slow_r50", "slowfast_r50"])
def test_smoke_training_lowers_the_loss(name, tmp_path, cache):
    config = smoke(
        tmp_path,
        cache,
        f"model.name={name}",
        "optim.epochs=6",
        "eval.every=100",
        "optim.lr=0.005",
        "optim.schedule=constant",
        "optim.warmup_epochs=0",
        "model.options={width: 16, depths: [1, 1, 1, 1], dropout: 0.0}",
    )
    metrics = train(config)
    losses = [
        r["loss"] for r in map(json.loads, (tmp_path / "log.jsonl").read_text().splitlines()) if r["event"] == "epoch"
    ]
    assert len(losses) == 6 and np.mean(losses[-2:]) < losses[0] - 0.2
    assert {"top1", "top5", "videos"} <= set(metrics) and metrics["videos"] == 10
    saved = np.load(tmp_path / "scores.npz")
    assert saved["scores"].shape == (10, config.model.num_classes) and len(saved["ids"]) == 10
    record = json.loads((tmp_path / "metrics.json").read_text())
    assert record["views"] == "1x1" and record["data"]["entries"] == {"train.txt": 30, "val.txt": 10}


def run_cli(*args, env=None, timeout=600):
    return subprocess.run(
        [sys.executable, *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=timeout,
        env={**os.environ, "OMP_NUM_THREADS": "1", **(env or {})},
    )


@pytest.mark.slow
def test_killed_run_resumes_to_the_same_result(tmp_path, cache):
    common = ["-m", "paperlib.train", "--config", str(SMOKE), f"data.cache_dir={cache}", "optim.epochs=3"]
    full = run_cli(*common, f"output_dir={tmp_path / 'full'}")
    assert full.returncode == 0, full.stderr
    killed = tmp_path / "killed"
    proc = subprocess.Popen(
        [sys.executable, *common, f"output_dir={killed}"],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ, "OMP_NUM_THREADS": "1"},
    )
    deadline = time.time() + 300
    while time.time() < deadline and proc.poll() is None:  # kill in the middle of the second epoch
        log = killed / "log.jsonl"
        if log.exists() and any(
            json.loads(line).get("event") == "step" and json.loads(line).get("epoch") == 1
            for line in log.read_text().splitlines()
        ):
            proc.send_signal(signal.SIGKILL)
            break
        time.sleep(0.05)
    assert proc.wait() == -signal.SIGKILL, "the run finished before it could be killed"
    resumed = run_cli(*common, f"output_dir={killed}", "--resume")
    assert resumed.returncode == 0, resumed.stderr
    assert "resuming at epoch 1" in resumed.stdout
    a, b = (json.loads((d / "metrics.json").read_text())["metrics"] for d in (tmp_path / "full", killed))
    assert a == b
    assert np.array_equal(np.load(tmp_path / "full" / "scores.npz")["scores"], np.load(killed / "scores.npz")["scores"])


@pytest.mark.slow
def test_torchrun_three_processes_match_single_process_evaluation(tmp_path, cache):
    out = tmp_path / "ddp"
    # 3 processes: the 10 validation videos do not divide evenly, and eval batches of 3 leave a last partial batch.
    ddp = run_cli(
        "-m",
        "torch.distributed.run",
        "--nproc_per_node=3",
        "--master_port=29517",
        "-m",
        "paperlib.train",
        "--config",
        str(SMOKE),
        f"data.cache_dir={cache}",
        f"output_dir={out}",
        "optim.batch_size=4",
        "eval.batch_size=3",
    )
    assert ddp.returncode == 0, ddp.stderr[-3000:]
    assert "3 process(es); global batch 12" in ddp.stdout
    single = run_cli(
        "-m", "paperlib.evaluate", "--checkpoint", str(out / "last.pth"), "--output", str(tmp_path / "single")
    )
    assert single.returncode == 0, single.stderr[-3000:]
    a, b = (json.loads((d / "metrics.json").read_text()) for d in (out, tmp_path / "single"))
    assert {k: a["metrics"][k] for k in b["metrics"]} == b["metrics"] and b["metrics"]["videos"] == 10
    np.testing.assert_allclose(
        np.load(out / "scores.npz")["scores"],
        np.load(tmp_path / "single" / "scores.npz")["scores"],
        rtol=1e-5,
        atol=1e-6,
    )


def test_evaluate_views_and_predict(tmp_path, cache):
    config = smoke(tmp_path, cache, "optim.epochs=1")
    train(config)
    result = run_cli(
        "-m",
        "paperlib.evaluate",
        "--checkpoint",
        str(tmp_path / "last.pth"),
        "--views",
        "3x2",
        "--output",
        str(tmp_path / "views"),
    )
    assert result.returncode == 0, result.stderr[-2000:]
    record = json.loads((tmp_path / "views" / "metrics.json").read_text())
    assert record["views"] == "3x2" and len(record["checkpoint_sha256"]) == 64
    root = Path(record["data"]["root"])
    folder = root / "20bn-something-something-v1" / (root / "val.txt").read_text().split()[0].split("/")[-1]
    shown = run_cli("-m", "paperlib.predict", "--checkpoint", str(tmp_path / "last.pth"), str(folder))
    assert shown.returncode == 0, shown.stderr
    lines = shown.stdout.strip().splitlines()
    assert len(lines) == 6 and lines[1].startswith("1.") and "%" in lines[1]
    names = (root / "category.txt").read_text().splitlines()
    assert all(any(n in line for n in names) for line in lines[1:])


def test_evaluation_scores_every_video_once_with_an_uneven_last_batch(tmp_path, cache):
    import torch

    from paperlib.engine.data import build_datasets, resolve_data
    from paperlib.engine.evaluator import evaluate
    from paperlib.models import create

    config = smoke(tmp_path, cache)
    data = resolve_data(config)
    _, val = build_datasets(config, data)
    model = create(config.model.name, config.model.num_classes, 8, **config.model.options).eval()
    result = evaluate(model, val, batch_size=3, device=torch.device("cpu"))  # 10 videos: 3 + 3 + 3 + 1
    assert result["indices"].tolist() == list(range(10)) and result["metrics"]["videos"] == 10
    with torch.no_grad():
        expected = np.stack([torch.softmax(model(val[i]["video"]), 1).mean(0).numpy() for i in range(10)])
    np.testing.assert_allclose(result["scores"], expected, rtol=1e-5, atol=1e-6)
    labels = np.array([r.label for r in val.records])
    assert result["metrics"]["top1"] == topk_accuracy(expected, labels)["top1"]


def test_multi_label_video_training_reports_both_maps(tmp_path, cache):
    config = smoke(
        tmp_path,
        cache,
        "data.dataset=mmit",
        "data.source=video",
        "data.multi_label=true",
        "data.sampling=dense",
        "data.rate=2",
        "optim.epochs=1",
        "optim.batch_size=4",
        "model.name=tsm_r50",
    )
    metrics = train(config)
    assert set(metrics) >= {"mAP_classwise", "mAP_samplewise_xtemporal", "videos"}
    saved = np.load(tmp_path / "scores.npz")
    assert saved["labels"].shape == saved["scores"].shape and set(np.unique(saved["labels"])) <= {0.0, 1.0}
    video = Path(json.loads((tmp_path / "metrics.json").read_text())["data"]["root"]) / str(saved["ids"][0])
    assert video.suffix == ".mp4"
    shown = run_cli("-m", "paperlib.predict", "--checkpoint", str(tmp_path / "last.pth"), str(video))
    assert shown.returncode == 0, shown.stderr
    assert len(shown.stdout.strip().splitlines()) == 6  # the path, then the top 5
