"""One exit-code convention for every command line: 2 for a usage error (with a one-line message on stderr,
no traceback), 1 for any other failure, 0 for success."""

import json
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


# One Python process imports torch and paperlib once, then forks a child per case that runs the module as
# `python -m` does (runpy, run_name "__main__") with its stderr on a pipe: the exit code and stderr of each
# command line, without paying the imports twelve times.
DRIVER = """
import json, os, runpy, sys, traceback
import paperlib.engine.evaluator, paperlib.engine.trainer  # noqa: F401 (torch & co. once, before forking)

results = {}
for name, args in json.loads(sys.argv[1]).items():
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(read)
        os.dup2(write, 2)
        sys.argv = list(args)
        code = 0
        try:
            runpy.run_module(args[0], run_name="__main__", alter_sys=True)
        except SystemExit as stop:
            code = stop.code if isinstance(stop.code, int) else int(stop.code is not None)
            if isinstance(stop.code, str):
                print(stop.code, file=sys.stderr)
        except BaseException:
            traceback.print_exc()
            code = 1
        sys.stderr.flush()
        os._exit(code)
    os.close(write)
    with os.fdopen(read) as pipe:
        stderr = pipe.read()
    results[name] = {"code": os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]), "stderr": stderr}
print(json.dumps(results))
"""


@pytest.fixture(scope="module")
def usage_errors(tmp_path_factory):
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(ROOT)}
    cases = json.dumps({name: args for name, (args, _) in USAGE_ERRORS.items()})
    done = subprocess.run(
        [sys.executable, "-c", DRIVER, cases],
        cwd=tmp_path_factory.mktemp("cwd"),
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.splitlines()[-1])


@pytest.mark.parametrize("name", USAGE_ERRORS)
def test_a_usage_error_exits_2_with_a_one_line_message(name, usage_errors):
    message, done = USAGE_ERRORS[name][1], usage_errors[name]
    assert done["code"] == 2, done["stderr"][-2000:]
    assert "Traceback" not in done["stderr"]
    lines = done["stderr"].splitlines()
    errors = [line for line in lines if "error:" in line]
    assert len(errors) == 1 and errors == lines[-1:], done["stderr"]
    assert message in errors[0]


def test_the_same_error_through_python_dash_m(tmp_path):
    """One case the way a user types it (its own interpreter), so the driver above cannot hide a difference."""
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(ROOT)}
    args, message = USAGE_ERRORS["train: bad override"]
    done = subprocess.run(
        [sys.executable, "-m", *args], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert done.stderr.splitlines()[-1:] == [line for line in done.stderr.splitlines() if "error:" in line]
    assert message in done.stderr
