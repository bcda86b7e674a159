"""One exit-code convention for every command line: 2 for a usage error (with a one-line message on stderr,
no traceback), 1 for any other failure, 0 for success."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

USAGE_ERRORS = {
    "train: no --config": (["paperlib.train"], "--config is required"),
    "train: unknown recipe": (["paperlib.train", "--config", "no_such_recipe"], "no recipe named 'no_such_recipe'"),
    "train: bad override": (["paperlib.train", "--config", "smoke", "optim.lrr=1"], "unknown config key"),
    "evaluate: bad --views": (
        ["paperlib.evaluate", "--checkpoint", "missing.pth", "--config", "smoke", "--views", "3by10"],
        "--views must look like CROPSxCLIPS",
    ),
    "evaluate: no --checkpoint": (["paperlib.evaluate"], "arguments are required: --checkpoint"),
    "predict: no --checkpoint": (["paperlib.predict", "clip.mp4"], "arguments are required: --checkpoint"),
    "bench: no command": (["paperlib.bench"], "the following arguments are required: command"),
    "data.prepare: option the dataset does not take": (
        ["paperlib.data.prepare", "jester", "--root", ".", "--split", "2"],
        "jester takes no --split",
    ),
    "data.check: --split without --dataset": (
        ["paperlib.data.check", "train.txt", "--root", ".", "--split", "train"],
        "--split needs --dataset",
    ),
    "data.extract: --list without --list-out": (
        ["paperlib.data.extract", "videos", "frames", "--list", "train.txt"],
        "give one --list-out per --list",
    ),
    "reproduce: full scale without data": (["reproduce", "--scale", "full", "--no-book"], "--scale full needs"),
    "reproduce: unknown chapter": (["reproduce", "--only", "no_such_chapter", "--no-book"], "no chapter named"),
}


@pytest.mark.slow  # one Python process (importing torch) per case
@pytest.mark.parametrize("args, message", USAGE_ERRORS.values(), ids=USAGE_ERRORS.keys())
def test_a_usage_error_exits_2_with_a_one_line_message(args, message, tmp_path):
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-m", *args], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 2, done.stderr[-2000:]
    assert "Traceback" not in done.stderr
    errors = [line for line in done.stderr.splitlines() if "error:" in line]
    assert len(errors) == 1 and errors == done.stderr.splitlines()[-1:], done.stderr
    assert message in errors[0]
