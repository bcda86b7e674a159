"""The GPU check drivers (reproduce/gpu_train_check.py, reproduce/gpu_book_check.py) without a GPU: argument
handling and dry-run defaults, the step runner's time limit, the report's summary, the resume comparison, the
full-size data renderer on a tiny set, and the wheel list of reproduce/gpu_wheels.sh (no network)."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

import numpy as np
import pytest
import torch

from reproduce import gpu_book_check, gpu_train_check
from reproduce.gpu_common import Report

ROOT = Path(__file__).resolve().parents[1]


def test_train_check_defaults_gpu_and_dry_run():
    gpu = gpu_train_check.parse(["out"])
    assert (gpu.device, gpu.batch, gpu.small, gpu.size_div) == ("cuda", 8, False, 1)
    assert gpu.compile_models == ["tin_r50", "tsm_r50"] and gpu.resume_epochs == 20 and gpu.resume_batch == 2
    dry = gpu_train_check.parse(["out", "--dry-run"])
    assert (dry.device, dry.batch, dry.small, dry.size_div) == ("cpu", 2, True, 7)
    assert dry.compile_models == ["tin_r50"] and dry.resume_epochs == 3
    assert gpu_train_check.parse(["out", "--dry-run", "--batch", "3"]).batch == 3


def test_train_check_rejects_an_unknown_step():
    with pytest.raises(SystemExit):
        gpu_train_check.parse(["out", "--steps", "build", "bogus"])


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the message given without a GPU")
def test_train_check_without_a_gpu_says_so(tmp_path, capsys):
    assert gpu_train_check.main([str(tmp_path), "--steps", "build"]) == 2
    assert "--dry-run" in capsys.readouterr().err


def test_book_check_defaults_gpu_and_dry_run():
    gpu = gpu_book_check.parse(["out"])
    assert (gpu.device, gpu.scale, gpu.full_size, gpu.full_epochs, gpu.budget) == ("cuda", "embedded", 224, 3, 540)
    dry = gpu_book_check.parse(["out", "--dry-run"])
    assert (dry.device, dry.scale, dry.full_size, dry.full_workers) == ("cpu", "smoke", 64, 0)


def test_book_check_rejects_an_unknown_chapter(tmp_path, capsys):
    assert gpu_book_check.main([str(tmp_path), "--dry-run", "--chapters", "no_such_chapter"]) == 2
    assert "no_such_chapter" in capsys.readouterr().err


def test_a_step_past_its_limit_is_killed_and_recorded(tmp_path):
    report = Report(tmp_path / "r.json", check="test")
    started = time.monotonic()
    code = report.run("slow", ["sleep", "30"], tmp_path / "slow.log", timeout=1)
    assert code == 124 and time.monotonic() - started < 20
    assert report.run("quick", ["true"], tmp_path / "quick.log", timeout=30) == 0
    saved = json.loads((tmp_path / "r.json").read_text())
    assert saved["steps"]["slow"]["timed_out"] and saved["steps"]["quick"]["exit"] == 0
    assert not report.passed()


def test_resume_comparison_is_exact(tmp_path):
    for name, bump in (("a", 0.0), ("b", 0.0), ("c", 1e-6)):
        run = tmp_path / name
        run.mkdir()
        (run / "metrics.json").write_text(json.dumps({"metrics": {"top1": 50.0}}))
        np.savez(run / "scores.npz", scores=np.ones((3, 2)) + bump)
    assert gpu_train_check._compare(tmp_path / "a", tmp_path / "b")["same"]
    differ = gpu_train_check._compare(tmp_path / "a", tmp_path / "c")
    assert not differ["same"] and differ["metrics_equal"] and differ["scores_max_abs_diff"] > 0
    assert not gpu_train_check._compare(tmp_path / "a", tmp_path / "missing")["same"]


def test_summary_lines_read_a_report():
    data = {
        "provenance": {"machine": {"device_name": "NVIDIA H200"}},
        "steps": {"build": {"exit": 0}, "timing": {"exit": 0}},
        "timing": {"ratios": {"bf16_cl": {"train": {"TIN / TSM": 1.02}}}},
        "compile": {"explain": {"train": {"graph_break_count": 0}}, "speedup": {"tin_r50": {"train": 1.3}}},
        "resume": {"passed": True, "backend": "nccl", "killed_group": {"passed": True}},
    }
    text = "\n".join(gpu_train_check.summary_lines(data))
    assert "NVIDIA H200" in text and "TIN / TSM 1.020" in text and "graph breaks" in text and "nccl" in text
    book = {"steps": {"chapter_theory": {"exit": 0, "seconds": 3.0}, "chapter_speed": {"exit": None}}}
    text = "\n".join(gpu_book_check.summary_lines(book))
    assert "theory 3.0" in text and "chapter_speed" in text


def test_render_writes_the_something_v1_layout_and_lists(tmp_path):
    root = tmp_path / "data"
    args = gpu_book_check.parse(["-", "--worker=render", f"--root={root}", "--size=32", "--num-train=3"])
    args.num_val, args.processes = 2, 1
    assert gpu_book_check.worker_render(args) == 0
    assert len((root / "train.txt").read_text().splitlines()) == 3
    assert len((root / "val.txt").read_text().splitlines()) == 2
    info = json.loads((root / "rendered.json").read_text())
    assert info["scale"]["size"] == 32 and info["clips"] == {"train": 3, "validation": 2}
    first = next((root / "20bn-something-something-v1").iterdir())
    assert (first / "00001.jpg").is_file()


def test_every_carried_wheel_is_pinned_in_the_lock():
    script = (ROOT / "reproduce" / "gpu_wheels.sh").read_text()
    names = script.split("PACKAGES=(", 1)[1].split(")", 1)[0].split()
    lock = {
        re.sub(r"[-_.]+", "-", line.split("==")[0].lower())
        for line in (ROOT / "requirements.lock").read_text().splitlines()
        if "==" in line
    }
    missing = [n for n in names if re.sub(r"[-_.]+", "-", n.lower()) not in lock]
    assert names and not missing, missing


def test_kill_tree_reaches_a_child_in_a_session_of_its_own(tmp_path):
    """torchrun starts its workers (and jupyter_client its kernels) in new sessions: killing the launcher's
    process group alone would leave them running."""
    import subprocess
    import sys

    from reproduce.gpu_common import descendants, kill_tree

    code = "import subprocess, time; subprocess.Popen(['sleep', '60'], start_new_session=True); time.sleep(60)"
    parent = subprocess.Popen([sys.executable, "-c", code], start_new_session=True)
    deadline = time.monotonic() + 20
    while not descendants(parent.pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    children = descendants(parent.pid)
    assert children
    assert kill_tree(parent.pid) == children
    parent.wait(timeout=10)
    time.sleep(0.2)
    for pid in children:  # gone, or a zombie of init
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        assert state == "Z"


def test_the_placeholder_av_imports_and_refuses_use(tmp_path, monkeypatch):
    import importlib.util
    import os
    import subprocess
    import sys

    from reproduce import gpu_common

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "av" else real(name, *a))
    monkeypatch.setattr(sys, "path", list(sys.path))
    monkeypatch.setenv("PYTHONPATH", os.environ.get("PYTHONPATH", ""))
    assert gpu_common.placeholder_av(tmp_path)
    shim = tmp_path / gpu_common.SHIM
    code = f"import sys; sys.path.insert(0, {str(shim)!r}); import av\n"
    code += "try:\n av.open('x')\nexcept ImportError as e:\n print(e)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert "PyAV is not installed here" in done.stdout, done.stderr
