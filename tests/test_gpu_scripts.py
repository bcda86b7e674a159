"""The GPU check drivers (reproduce/gpu/: gpu_op_check.py, gpu_train_check.py, gpu_book_check.py and gpu_all.py,
which runs them all) without a GPU: argument handling and dry-run defaults, the step runner's time limit, the
parts' budgets and their stopping, the report's summary, the resume comparison, the full-size data renderer on a
tiny set, and the wheel list of reproduce/gpu/gpu_wheels.sh (no network)."""

from __future__ import annotations

import json
import os
import re
import time
from pathlib import Path

import numpy as np
import pytest
import torch

from reproduce.gpu import gpu_all, gpu_book_check, gpu_op_check, gpu_train_check
from reproduce.gpu.gpu_common import Report

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
    script = (ROOT / "reproduce" / "gpu" / "gpu_wheels.sh").read_text()
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

    from reproduce.gpu.gpu_common import descendants, kill_tree

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

    from reproduce.gpu import gpu_common

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


def test_op_check_defaults_gpu_and_dry_run(tmp_path):
    gpu = gpu_op_check.parse(["out"])
    assert (gpu.device, gpu.steps, gpu.bench_budget) == ("cuda", list(gpu_op_check.LIMITS), 0.1)
    assert list(gpu_op_check.LIMITS)[:4] == ["build", "tests", "memcheck", "racecheck"]  # correctness first
    dry = gpu_op_check.parse(["out", "--dry-run"])
    assert dry.device == "cpu" and "--layers" in gpu_op_check.step_command("shift_bench", dry, tmp_path)
    command = gpu_op_check.step_command("models_bench", gpu, tmp_path)
    assert "--train" in command and str(tmp_path / "models_cuda.json") in command
    with pytest.raises(SystemExit):
        gpu_op_check.parse(["out", "--steps", "bogus"])


def test_sanitizer_errors_are_read_from_the_log(tmp_path):
    log = tmp_path / "memcheck.log"
    log.write_text("========= COMPUTE-SANITIZER\nsanitizer case done\n========= ERROR SUMMARY: 0 errors\n")
    assert gpu_op_check.sanitizer_errors(log) == 0
    log.write_text("========= Invalid __global__ read\n========= ERROR SUMMARY: 12 errors\n")
    assert gpu_op_check.sanitizer_errors(log) == 12
    assert gpu_op_check.sanitizer_errors(tmp_path / "missing.log") is None


def test_gpu_all_fits_nine_minutes_in_the_order_of_value_with_arguments_its_checks_take():
    assert list(gpu_all.PARTS) == ["op", "bench", "timing", "resume", "compile", "book"]
    assert sum(part.budget for part in gpu_all.PARTS.values()) + 2 * gpu_all.GRACE <= gpu_all.TOTAL <= 540
    parsers = {
        "gpu_check.sh": gpu_op_check.parse,
        "gpu_train_check.sh": gpu_train_check.parse,
        "gpu_book_check.sh": gpu_book_check.parse,
    }
    for name, part in gpu_all.PARTS.items():
        script = gpu_all.GPU / part.script
        assert script.is_file() and os.access(script, os.X_OK), script
        budget = ["--budget", str(part.budget - gpu_all.MARGIN)]
        args = parsers[part.script](["out", *part.args, *budget, *part.gpu_args])  # accepted as given
        assert args.budget == part.budget - gpu_all.MARGIN and args.device == "cuda", name
        assert parsers[part.script](["out", *part.args, *budget, "--dry-run"]).device == "cpu", name
    assert gpu_all.parse(["out", "--dry-run"]).scale == 8 and gpu_all.parse(["out"]).scale == 1


_FAKE_PARTS = """
import json, sys
from pathlib import Path
from reproduce.gpu import gpu_all
folder = Path(sys.argv[1])
gpu_all.GPU, gpu_all.MIN_PART = folder, 1
(folder / "ok.sh").write_text('mkdir -p "$1"; echo \\'{"passed": true, "steps": {"a": {"exit": 0}}}\\' > "$1/r.json"')
# a part past its limit, leaving a worker in a session of its own (as torchrun and papermill do)
(folder / "slow.sh").write_text(
    'mkdir -p "$1"; echo \\'{"steps": {"b": {"exit": 0}}}\\' > "$1/r.json"; '
    'setsid sleep 120 & echo $! > "$1/worker.pid"; sleep 120'
)
P = gpu_all.Part
gpu_all.PARTS = {"first": P(2, "ok.sh", (), "r.json"), "second": P(3, "slow.sh", (), "r.json"),
                 "third": P(0.1, "ok.sh", (), "r.json")}
sys.exit(gpu_all.main([str(folder / "out"), "--parts", "first", "second", "third"]))
"""


def test_gpu_all_stops_a_part_past_its_limit_with_its_workers_and_goes_on(tmp_path):
    import subprocess
    import sys

    done = subprocess.run(
        [sys.executable, "-c", _FAKE_PARTS, str(tmp_path)], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 1, done.stdout + done.stderr  # not all passed
    summary = json.loads((tmp_path / "out" / "gpu_all.json").read_text())
    first, second = summary["parts"]["first"], summary["parts"]["second"]
    assert first["finished"] and first["exit"] == 0 and first["steps"] == {"a": 0} and first["passed"]
    # the second uses what the first left of its 2 s: it must end by 5 s; what it wrote is kept
    assert second["timed_out"] and not second["finished"] and second["steps"] == {"b": 0}
    assert 3 < second["limit_s"] <= 5 and second["seconds"] < 5 + 2 * gpu_all.GRACE + 5
    assert summary["finished"] == ["first"] and summary["timed_out"] == ["second"]
    assert summary["skipped"] == ["third"] and summary["passed"] is False  # no time left for it
    worker = int((tmp_path / "out" / "second" / "worker.pid").read_text())
    assert not Path(f"/proc/{worker}").exists() or "Z" in Path(f"/proc/{worker}/stat").read_text().split(")")[1][:3]


def test_a_driver_stops_by_the_part_deadline_gpu_all_sets(monkeypatch):
    from reproduce.gpu import gpu_common

    monkeypatch.delenv(gpu_common.PART_DEADLINE, raising=False)
    now = time.monotonic()
    assert 99 < gpu_common.deadline_after(100) - now < 101
    monkeypatch.setenv(gpu_common.PART_DEADLINE, str(time.time() + 5))  # the part's start-up counts
    assert 4 < gpu_common.deadline_after(100) - now < 6
    assert gpu_common.deadline_after(2) - now < 3  # the budget, when it comes first


def test_a_driver_stopped_by_sigterm_records_its_step_and_stops_it(tmp_path):
    """gpu_all.py stops a part with SIGTERM (to its process group, then to every leftover): the driver kills the
    step in progress and records it, even when a second SIGTERM follows."""
    import signal
    import subprocess
    import sys

    code = (
        "import sys; from pathlib import Path; from reproduce.gpu import gpu_common as g\n"
        "g.exit_on_sigterm(); out = Path(sys.argv[1])\n"
        "g.Report(out / 'r.json').run('sleep', ['sleep', '60'], out / 'sleep.log', timeout=60)\n"
    )
    driver = subprocess.Popen([sys.executable, "-c", code, str(tmp_path)], cwd=ROOT, start_new_session=True)
    deadline = time.monotonic() + 30
    while not (tmp_path / "sleep.log").exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    from reproduce.gpu.gpu_common import descendants

    while not descendants(driver.pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    (step,) = descendants(driver.pid)
    # the step has exec'd `sleep` and the driver's Popen has returned: the signal lands while the step runs (a
    # SIGTERM inside Popen itself, between fork and exec, is not what this test is about)
    cmdline = Path(f"/proc/{step}/cmdline")
    while time.monotonic() < deadline and b"sleep" not in (cmdline.read_bytes() if cmdline.exists() else b""):
        time.sleep(0.05)
    time.sleep(0.5)
    driver.send_signal(signal.SIGTERM)
    time.sleep(0.05)
    driver.send_signal(signal.SIGTERM)
    assert driver.wait(timeout=30) == 143
    record = json.loads((tmp_path / "r.json").read_text())["steps"]["sleep"]
    assert record["exit"] == 143 and record["terminated"]
    assert not Path(f"/proc/{step}").exists() or "Z" in Path(f"/proc/{step}/stat").read_text().split(")")[1][:3]
