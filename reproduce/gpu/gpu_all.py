"""Issue #30's one GPU run: the three prepared GPU checks in order of value, each part under its own time budget,
inside 9 minutes in all (``reproduce/gpu/gpu_all.sh OUT`` wraps it).

Parts, in order (budgets in seconds, :data:`PARTS`):

- ``op`` (200): ``gpu_check.sh``: the C++/CUDA build, the op tests (CUDA ones included), compute-sanitizer
  memcheck and racecheck;
- ``bench`` (60): ``gpu_check.sh``: the op benchmark (beside ``copy_`` and the PyTorch reference) and the models';
- ``timing`` (60): ``gpu_train_check.sh``: training-step and inference times of TSN/TSM/TIN (fp32, bf16,
  bf16 + channels-last) and the 3D models;
- ``resume`` (100): ``gpu_train_check.sh``: the smoke recipe under torchrun (NCCL, AMP) killed mid-epoch and
  resumed, twice, against an uninterrupted run;
- ``compile`` (60): ``gpu_train_check.sh``: TIN's graph breaks (dynamo explain), ``torch.compile`` of TIN;
- ``book`` (50): ``gpu_book_check.sh``: the carried wheels installed, the op and speed chapters with
  ``device=cuda``.

Part *i* must end by the sum of its budget and those of the parts before it, so a part may use what earlier parts
left unused and an overrun is cut where it would eat a later part's time. A part past its limit gets SIGTERM (its
check records the step it was in), then SIGKILL for everything it started: this process is a child subreaper, so
even workers in sessions of their own (torchrun's, papermill's kernels) are found and stopped before the next part.

Everything lands under ``OUT`` as it goes: ``OUT/<part>/`` (the check's JSON report, rewritten after every step,
its logs and measurements) and ``OUT/gpu_all.json``, rewritten after every part: per part its exit status,
seconds, limit, whether it finished or timed out or was skipped, and its report's per-step exit codes.
``--dry-run``: every part as its check's own CPU dry run, with budgets scaled by ``--scale`` (default 8).
"""

from __future__ import annotations

import argparse
import ctypes
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import NamedTuple

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:  # run as a file, too
    sys.path.insert(0, str(ROOT))

from reproduce.gpu.gpu_common import PART_DEADLINE, descendants, kill_tree, write_json  # noqa: E402

GPU = ROOT / "reproduce" / "gpu"
TOTAL = 540  # seconds: the run must end inside 9 minutes (the device call's limit is 10)


class Part(NamedTuple):
    budget: float  # seconds
    script: str  # in reproduce/gpu/
    args: tuple[str, ...]  # its arguments
    report: str  # the JSON report it writes into its folder
    gpu_args: tuple[str, ...] = ()  # on the GPU only (a dry run keeps the check's own small CPU settings)


# in the order of value; the budgets sum to TOTAL - 10
PARTS: dict[str, Part] = {
    "op": Part(200, "gpu_check.sh", ("--steps", "build", "tests", "memcheck", "racecheck"), "gpu_check.json"),
    "bench": Part(60, "gpu_check.sh", ("--steps", "shift_bench", "models_bench"), "gpu_check.json"),
    "timing": Part(60, "gpu_train_check.sh", ("--steps", "timing"), "train_check.json", ("--rounds=3", "--reps=3")),
    "resume": Part(100, "gpu_train_check.sh", ("--steps", "resume"), "train_check.json", ("--resume-epochs=6",)),
    "compile": Part(60, "gpu_train_check.sh", ("--steps", "compile", "--compile-models=tin_r50"), "train_check.json"),
    "book": Part(
        50,
        "gpu_book_check.sh",
        ("--skip-full", "--skip-build", "--lanes", "1", "--chapters", "interlace_shift", "speed"),
        "book_check.json",
    ),
}
MARGIN = 15  # seconds a check keeps back from its part's limit to stop its step and write its report
GRACE = 5  # seconds between SIGTERM and SIGKILL
MIN_PART = 15  # seconds: a part with less time left is skipped (a check needs ~10 s to start and write its report)


def become_subreaper() -> bool:
    """Orphaned descendants (a killed check's workers) become this process's children (Linux prctl)."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return libc.prctl(36, 1, 0, 0, 0) == 0  # PR_SET_CHILD_SUBREAPER
    except (OSError, AttributeError):
        return False


def stop_leftovers(grace: float = GRACE) -> list[int]:
    """SIGTERM, then SIGKILL, every process this one started that is still running; reap them."""
    left = descendants(os.getpid())
    for pid in left:
        try:
            os.kill(pid, signal.SIGTERM)
        except (ProcessLookupError, PermissionError):
            pass
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline and _alive(left):
        _reap()
        time.sleep(0.1)
    for pid in descendants(os.getpid()):
        kill_tree(pid)
    _reap()
    return left


def _alive(pids: list[int]) -> bool:
    for pid in pids:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if state != "Z":
            return True
    return False


def _group_alive(pgid: int) -> bool:
    """Whether a process of process group ``pgid`` is still running (not a zombie)."""
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            fields = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == pgid and fields[0] != "Z":
            return True
    return False


def _reap() -> None:
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


def run_part(name: str, command: list[str], limit: float, log: Path) -> dict:
    """Run one part (its own process group) for at most ``limit`` seconds; SIGTERM then SIGKILL past it."""
    started = time.monotonic()
    with open(log, "a") as out:
        out.write(f"== {name}: {' '.join(command)} (limit {limit:.0f} s)\n")
        out.flush()
        env = {**os.environ, PART_DEADLINE: f"{time.time() + limit - MARGIN:.1f}"}  # the check's steps stop by it
        proc = subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
        timed_out = False
        try:
            code = proc.wait(timeout=max(1.0, limit))
        except subprocess.TimeoutExpired:
            timed_out = True
            try:
                os.killpg(proc.pid, signal.SIGTERM)  # the check records the step it was in, then exits
            except ProcessLookupError:
                pass
            grace_end = time.monotonic() + GRACE
            while _group_alive(proc.pid) and time.monotonic() < grace_end:  # the check, not just its shell
                _reap()
                time.sleep(0.1)
            try:
                code = proc.wait(timeout=max(0.1, grace_end - time.monotonic()))
            except subprocess.TimeoutExpired:
                kill_tree(proc.pid)
                code = proc.wait()
            out.write(f"\n== {name}: stopped after {limit:.0f} s (its limit)\n")
    leftovers = stop_leftovers()
    return {
        "exit": code,
        "seconds": round(time.monotonic() - started, 1),
        "limit_s": round(limit, 1),
        "timed_out": timed_out,
        "finished": not timed_out,
        "leftover_processes_stopped": len(leftovers),
        "log": log.name,
    }


def _report_steps(path: Path) -> dict:
    """What a part's check wrote: passed, and per step its exit status (None: skipped)."""
    try:
        data = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError):
        return {"report": None}
    steps = {k: v.get("exit") for k, v in (data.get("steps") or {}).items()}
    return {"report": str(path), "passed": data.get("passed"), "steps": steps}


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="reproduce/gpu/gpu_all.sh", description=__doc__.split("\n\n")[0])
    parser.add_argument("out", help="folder for gpu_all.json and one folder per part")
    parser.add_argument("--dry-run", action="store_true", help="every check's CPU dry run (measures nothing)")
    parser.add_argument("--parts", nargs="+", default=list(PARTS), choices=list(PARTS), help="default: all")
    parser.add_argument("--scale", type=float, default=None, help="budget multiplier (default 1; 8 with --dry-run)")
    args = parser.parse_args(argv)
    args.scale = args.scale or (8.0 if args.dry_run else 1.0)
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    out = Path(args.out).resolve()
    out.mkdir(parents=True, exist_ok=True)
    chosen = [p for p in PARTS if p in args.parts]  # the order of value
    summary: dict = {
        "issue": 30,
        "dry_run": args.dry_run,
        "budget_s": {p: PARTS[p].budget * args.scale for p in chosen},
        "limit_s": TOTAL * args.scale,
        "subreaper": become_subreaper(),
        "started": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
        "parts": {},
    }
    started = time.monotonic()
    spent_budget = 0.0
    for name in chosen:
        part = PARTS[name]
        spent_budget += part.budget * args.scale
        limit = spent_budget - (time.monotonic() - started)
        folder = out / name
        if limit < MIN_PART:
            summary["parts"][name] = {"exit": None, "skipped": "out of budget", "finished": False, "timed_out": False}
            print(f"== {name}: skipped (out of budget)", flush=True)
        else:
            command = ["bash", str(GPU / part.script), str(folder), *part.args, "--budget", str(round(limit - MARGIN))]
            command += ["--dry-run"] if args.dry_run else list(part.gpu_args)
            print(f"== {name}: {' '.join(command[1:])} (limit {limit:.0f} s)", flush=True)
            entry = run_part(name, command, limit, out / f"{name}.log")
            entry.update(_report_steps(folder / part.report))
            summary["parts"][name] = entry
            print(f"   {name}: exit {entry['exit']} after {entry['seconds']} s, steps {entry.get('steps')}", flush=True)
        summary["elapsed_s"] = round(time.monotonic() - started, 1)
        write_json(out / "gpu_all.json", summary)
    parts = summary["parts"].values()
    summary["finished"] = [n for n, p in summary["parts"].items() if p.get("finished")]
    summary["timed_out"] = [n for n, p in summary["parts"].items() if p.get("timed_out")]
    summary["skipped"] = [n for n, p in summary["parts"].items() if p.get("skipped")]
    summary["passed"] = all(p.get("exit") == 0 and p.get("passed") for p in parts)
    write_json(out / "gpu_all.json", summary)
    print(
        f"gpu_all: {summary['elapsed_s']} s; finished {summary['finished']}, timed out {summary['timed_out']}, "
        f"skipped {summary['skipped']}; {'passed' if summary['passed'] else 'NOT all passed'}; {out / 'gpu_all.json'}"
    )
    return 0 if summary["passed"] else 1


if __name__ == "__main__":
    sys.exit(main())
