"""`python -m paperlib.bench shift` runs and writes consistent records."""

import json

import pytest

from paperlib.bench.__main__ import main


def test_shift_bench_json(tmp_path, capsys):
    path = tmp_path / "shift.json"
    assert (
        main(
            [
                "shift",
                "--layers",
                "layer4",
                "--batch",
                "1",
                "--num-segments",
                "4",
                "--budget",
                "0.01",
                "--json",
                str(path),
            ]
        )
        == 0
    )
    payload = json.loads(path.read_text())
    records = payload["records"]
    assert payload["machine"]["device_name"]
    keys = {"backend", "pass", "shape", "dtype", "device", "seconds", "gbytes_per_s", "frac_copy", "speedup_vs_torch"}
    assert all(keys <= set(r) for r in records)
    assert {r["backend"] for r in records} == {"torch", "cpp", "cpp[out]"}
    assert {r["pass"] for r in records} == {"forward", "backward", "forward+backward"}
    by_key = {(r["backend"], r["pass"]): r for r in records}
    for r in records:
        assert r["shape"] == [1, 4, 2048, 7, 7] and r["dtype"] == "float32" and r["device"] == "cpu"
        elements = 4 * 2048 * 49
        moved = {"forward": 2 * elements, "backward": 2.25 * elements}
        moved["forward+backward"] = moved["forward"] + moved["backward"]
        assert r["gbytes_per_s"] == pytest.approx(4 * moved[r["pass"]] / r["seconds"] / 1e9)
        assert r["frac_copy"] == pytest.approx(r["gbytes_per_s"] / r["copy_gbytes_per_s"])
        torch_seconds = by_key["torch", r["pass"]]["seconds"]
        assert r["speedup_vs_torch"] == pytest.approx(torch_seconds / r["seconds"])
    assert "forward+backward" in capsys.readouterr().out


def test_cuda_request_without_gpu_fails_clearly():
    import torch

    if torch.cuda.is_available():
        pytest.skip("a GPU is present")
    with pytest.raises(SystemExit, match="no CUDA device"):
        main(["shift", "--device", "cuda"])


def test_data_bench_json(tmp_path):
    path = tmp_path / "data.json"
    assert (
        main(
            [
                "data",
                "--videos",
                "2",
                "--video-frames",
                "12",
                "--width",
                "64",
                "--height",
                "48",
                "--size",
                "32",
                "--num-segments",
                "4",
                "--epochs",
                "1",
                "--json",
                str(path),
            ]
        )
        == 0
    )
    records = json.loads(path.read_text())["records"]
    assert [r["pipeline"] for r in records] == [
        "frames (JPEG, PIL)",
        "video (decord)",
        "video (PyAV)",
        "frames (JPEG, PIL), frame cache",
        "video (decord), frame cache",
    ]
    for r in records:
        assert r["clips"] == 2 and r["clips_per_s"] == pytest.approx(2 / r["seconds"])
        assert r["clip"] == [3, 4, 32, 32]
        assert ("filled_by_the_check_s" in r) == r["pipeline"].endswith("frame cache")


def test_train_bench_json(tmp_path):
    path = tmp_path / "train.json"
    assert (
        main(["train", "--batch", "1", "--num-segments", "8", "--size", "32", "--budget", "0.01", "--json", str(path)])
        == 0
    )
    records = json.loads(path.read_text())["records"]
    assert [r["model"] for r in records] == ["tsn_r50", "tsm_r50", "tin_r50"]
    by = {r["model"]: r for r in records}
    assert by["tin_r50"]["tin_over_tsm"] == pytest.approx(by["tin_r50"]["clips_per_s"] / by["tsm_r50"]["clips_per_s"])
    assert all(r["clips_per_s"] == pytest.approx(1 / r["seconds_per_step"]) for r in records)


def test_models_bench_json(tmp_path, capsys):
    path = tmp_path / "models.json"
    argv = [
        "models",
        "--models",
        "tsm_r50",
        "tin_r50",
        "r2plus1d_18",
        "--rounds",
        "1",
        "--downscale",
        "4",
        "--train",
        "--train-batch",
        "1",
        "--json",
        str(path),
    ]
    assert main(argv) == 0
    payload = json.loads(path.read_text())
    by = {r["model"]: r for r in payload["records"]}
    assert list(by) == ["tsm_r50", "tin_r50", "r2plus1d_18"]
    assert by["tin_r50"]["clip"] == [3, 8, 56, 56] and by["r2plus1d_18"]["clip"] == [3, 16, 28, 28]
    assert by["tin_r50"]["params"] > by["tsm_r50"]["params"]  # OffsetNet and WeightNet
    assert all(r["inference_s"] > 0 and r["train_step_s"] > 0 for r in by.values())
    ratios = payload["ratios"]
    assert ratios["inference"]["TIN / TSM"] == pytest.approx(
        by["tin_r50"]["inference_s"] / by["tsm_r50"]["inference_s"]
    )
    assert set(ratios["train_step"]) == {"TIN / TSM", "TIN / R(2+1)D"}
    assert "TIN / TSM" in capsys.readouterr().out


def test_calibration_runs_the_reference_workload_pinned_and_builds_record_it(tmp_path):
    """``python -m paperlib.bench calibrate``'s figure comes from a fresh process with pinned numerics; a build keeps it
    in build_times.json with its own time as a multiple of it."""
    from paperlib.bench.calibrate import calibrate, describe
    from reproduce.__main__ import record_build_times

    result = calibrate(warmup=1, repeats=2)
    assert result["numerics"]["threads"] == 1 and result["numerics"]["deterministic"] is True
    assert result["steps_timed"] == 2 and 0 < result["seconds_per_step"] < 60 and len(result["weights_sha256"]) == 16
    assert "reference step" in describe(result)
    times = record_build_times("smoke", 120.0, tmp_path, result, {"table1": 60.0})
    saved = json.loads((tmp_path / "build_times.json").read_text())
    assert saved == json.loads(json.dumps(times))
    assert saved["book_in_steps"] == round(120.0 / result["seconds_per_step"])
    assert saved["chapters_in_steps"]["table1"] == round(60.0 / result["seconds_per_step"])


def test_numerics_settings_undo_one_pin_each():
    """``python -m paperlib.bench numerics``: each setting is the pinned environment with one change (a variable
    removed or set), and an unpinned one is not marked as pinned (its process makes no settings of its own)."""
    from paperlib.bench.numerics import SETTINGS, environment
    from paperlib.engine import numerics

    pinned = environment(*SETTINGS["pinned"])
    assert all(pinned[k] == v for k, v in numerics.PINNED_ENV.items()) and pinned[numerics.MARK] == "1"
    assert "MKL_CBWR" not in environment(*SETTINGS["MKL_CBWR unset"])
    assert environment(*SETTINGS["ATEN_CPU_CAPABILITY=default"])["ATEN_CPU_CAPABILITY"] == "default"
    unpinned = environment(*SETTINGS["unpinned, 1 thread"])
    assert numerics.MARK not in unpinned and "ATEN_CPU_CAPABILITY" not in unpinned
    assert unpinned["OMP_NUM_THREADS"] == "1"


def test_spread_refuses_an_unknown_setting(capsys):
    from paperlib.experiments.spread import main as spread

    with pytest.raises(SystemExit):
        spread(["--settings", "pinned", "no such setting"])
    assert "unknown settings" in capsys.readouterr().err


def test_the_onednn_off_setting_turns_onednn_off_in_its_process():
    """A setting no environment variable reaches runs its statement in the fresh process before the workload."""
    from paperlib.bench.numerics import SETTINGS, one

    changes, settle, statement = SETTINGS["oneDNN off"]
    off = one(changes, settle, 0, 1, statement)
    assert off["numerics"]["onednn"] is False and off["numerics"]["threads"] == 1
    assert len(off["weights_sha256"]) == 16
