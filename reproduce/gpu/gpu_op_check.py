"""The interlace-shift op on a GPU, in one command (issue #30's first check), its steps in order of value:

1. ``build``: the C++ and CUDA extensions (``paperlib.ops._extension``; nvcc, once per machine).
2. ``tests``: ``tests/test_ops_interlace.py`` (the CUDA tests run where a GPU is: fp32/fp64/fp16/bf16, both layouts,
   gradients, against the reference).
3. ``memcheck``, ``racecheck``: compute-sanitizer over a small forward/backward (``sanitizer_case.py``: every dtype,
   both layouts, the vector and scalar paths); its ``ERROR SUMMARY`` count is kept in the report.
4. ``shift_bench``: ``python -m paperlib.bench shift`` (fp32/bf16/fp16, every ResNet-50 TIN shape, both layouts,
   beside a ``copy_`` of the same bytes and the PyTorch reference) -> ``OUT/shift_<device>.json``.
5. ``models_bench``: ``python -m paperlib.bench models --train`` (TSN/TSM/TIN, temporal conv, I3D, SlowFast,
   R(2+1)D: inference and an AMP training step) -> ``OUT/models_<device>.json``.

Writes ``OUT/gpu_check.json`` (rewritten after every step: exit status, seconds, whether it timed out, the
sanitizer error counts, versions) and one log per step. Every step has a time limit and all stop at the end of
``--budget`` seconds (a step that does not fit is recorded as skipped). ``--dry-run``: CPU (the C++ kernel, the
op tests without their CUDA half, no sanitizer, short benchmarks on small inputs; a check of the script, not a
measurement).

    python -m reproduce.gpu.gpu_op_check OUT [--dry-run] [--steps ...]     (reproduce/gpu/gpu_check.sh wraps it)
"""

from __future__ import annotations

import argparse
import re
import shutil
import sys
import time
from glob import glob
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:  # run as a file, too
    sys.path.insert(0, str(ROOT))

from reproduce.gpu.gpu_common import Report, deadline_after, exit_on_sigterm, open_folders, provenance, tail  # noqa: E402

# Step time limits in seconds, in the order the steps run (estimates for an H200: build 1-2 min of nvcc, tests
# ~30 s, each sanitizer run ~30-60 s, the shift benchmark ~30 s at 0.1 s per measurement, the models ~1 min).
LIMITS = {"build": 240, "tests": 120, "memcheck": 90, "racecheck": 90, "shift_bench": 120, "models_bench": 150}
SANITIZERS = ("memcheck", "racecheck")
NO_CUDA = "no CUDA device (a dry run)"  # the sanitizers' skip in a dry run, which does not fail it


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m reproduce.gpu.gpu_op_check", description=__doc__.split("\n\n")[0])
    parser.add_argument("out", help="folder for gpu_check.json, the benchmark JSON and the logs")
    parser.add_argument("--dry-run", action="store_true", help="CPU, no sanitizer, short benchmarks")
    parser.add_argument("--device", default=None, choices=["cpu", "cuda"], help="default: cuda (cpu with --dry-run)")
    parser.add_argument("--steps", nargs="+", default=list(LIMITS), help=f"default: {' '.join(LIMITS)}")
    parser.add_argument("--budget", type=float, default=None, help="seconds for all steps (default 600; 900 dry)")
    parser.add_argument("--bench-budget", type=float, default=None, help="seconds per shift measurement (0.1)")
    parser.add_argument("--work", default=None, help="scratch folder (default: a fresh one under /tmp)")
    args = parser.parse_args(argv)
    dry = args.dry_run
    args.device = args.device or ("cpu" if dry else "cuda")
    args.budget = args.budget or (900.0 if dry else 600.0)
    args.bench_budget = args.bench_budget or (0.02 if dry else 0.1)
    unknown = set(args.steps) - set(LIMITS)
    if unknown:
        parser.error(f"unknown step(s) {sorted(unknown)}; steps: {', '.join(LIMITS)}")
    return args


def find_sanitizer() -> str | None:
    """compute-sanitizer on the PATH or in a CUDA toolkit under /usr/local."""
    toolkits = sorted(glob("/usr/local/cuda*/bin/compute-sanitizer"), reverse=True)
    return shutil.which("compute-sanitizer") or (toolkits[0] if toolkits else None)


def sanitizer_errors(log: Path) -> int | None:
    """The count of compute-sanitizer's last ``ERROR SUMMARY: N errors`` line in ``log`` (None if absent)."""
    try:
        counts = re.findall(r"ERROR SUMMARY: (\d+) error", log.read_text(errors="replace"))
    except OSError:
        return None
    return int(counts[-1]) if counts else None


def step_command(step: str, args, out: Path) -> list[str] | None:
    """The command of a step (None for a sanitizer where none is installed)."""
    py, device, dry = sys.executable, args.device, args.dry_run
    if step == "build":
        load = "load_cuda" if device == "cuda" else "load_cpu"
        return [py, "-c", f"from paperlib.ops import _extension; _extension.{load}(verbose=True); print('built')"]
    if step == "tests":
        return [py, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(ROOT / "tests" / "test_ops_interlace.py")]
    if step in SANITIZERS:
        sanitizer = find_sanitizer()
        case = str(ROOT / "reproduce" / "gpu" / "sanitizer_case.py")
        return None if sanitizer is None else [sanitizer, "--tool", step, "--error-exitcode", "3", py, case]
    if step == "shift_bench":
        command = [py, "-m", "paperlib.bench", "shift", f"--device={device}", f"--budget={args.bench_budget}"]
        command += ["--layout", "channels_first", "channels_last", "--json", str(out / f"shift_{device}.json")]
        return command + (["--layers", "layer1", "layer4"] if dry else [])
    if step == "models_bench":
        command = [py, "-m", "paperlib.bench", "models", f"--device={device}", "--train"]
        command += ["--rounds", "1" if dry else "3", "--json", str(out / f"models_{device}.json")]
        return command + (["--models", "tsm_r50", "tin_r50", "--downscale", "7"] if dry else [])
    raise ValueError(step)


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    folders = open_folders("gpu_op_check", args.device, args.out, args.work)
    if folders is None:
        return 2
    out, _ = folders
    exit_on_sigterm()
    report = Report(
        out / "gpu_check.json",
        check="op",
        issue=30,
        dry_run=args.dry_run,
        device=args.device,
        settings={k: v for k, v in vars(args).items() if k not in ("out", "work")},
        provenance=provenance(args.device),
    )
    scale = 1.0 if args.device == "cuda" else 3.0  # CPU dry runs are slower per step
    deadline = deadline_after(args.budget)
    for step in (s for s in LIMITS if s in args.steps):
        limit = min(LIMITS[step] * scale, deadline - time.monotonic())
        if limit < 10:
            report.skip(step, f"out of budget ({args.budget:.0f} s): rerun with --steps {step}")
            continue
        if step in SANITIZERS and args.device != "cuda":
            report.skip(step, NO_CUDA)
            continue
        command = step_command(step, args, out)
        if command is None:
            (out / f"{step}.log").write_text("compute-sanitizer not found (PATH, /usr/local/cuda*/bin)\n")
            report.record(step, 127, 0.0, f"{step}.log", error="compute-sanitizer not found")
            continue
        env = {"PYTORCH_NO_CUDA_MEMORY_CACHING": "1"} if step in SANITIZERS else None  # every allocation checked
        report.run(step, command, out / f"{step}.log", limit, env=env)
        if step in SANITIZERS:
            report.data.setdefault("sanitizer_errors", {})[step] = sanitizer_errors(out / f"{step}.log")
            report.save()
    steps = report.data["steps"].values()
    report.data["passed"] = all(s.get("exit") == 0 or s.get("skipped") == NO_CUDA for s in steps)
    report.save()
    print("\n".join(summary_lines(report.data, out)))
    print(f"gpu_op_check: {'passed' if report.data['passed'] else 'FAILED'}; report: {report.path}")
    return 0 if report.data["passed"] else 1


def summary_lines(data: dict, out: Path) -> list[str]:
    device = data.get("provenance", {}).get("machine", {}).get("device_name")
    lines = [f"op check on {device}: " + ", ".join(f"{k} {v.get('exit')}" for k, v in data["steps"].items())]
    if data.get("sanitizer_errors"):
        lines.append(f"  compute-sanitizer errors: {data['sanitizer_errors']}")
    tests = data["steps"].get("tests", {}).get("log")
    if tests:
        lines += [f"  tests: {line}" for line in tail(out / tests, 1)]
    return lines


if __name__ == "__main__":
    sys.exit(main())
