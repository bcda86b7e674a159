"""The calibration figure: how fast this machine runs a fixed reference workload, so builds on two machines compare.

The workload is the embedded scale's typical step: one training step (forward, backward, AdamW update) of TSM in
the ResNet-50 layout at width 16 with one block per stage, on a batch of 16 fixed random clips of 8 frames at
40 x 40 px. It runs in a fresh process with pinned numerics (:mod:`paperlib.engine.numerics`: one thread, the
settings the small scales' runs train with), ``warmup`` steps untimed, then ``repeats`` steps timed; the figure is
their median. A build records it in ``results/<scale>/build_times.json`` with its own time as a multiple of it
(``python -m reproduce``): a build that took 6,000 reference steps on one machine and 6,100 on another ran at the
same speed relative to its machine, whatever the machines' clock rates.

The weights after every step are hashed too (``weights_sha256``): under pinned numerics that digest is the same
on every AVX2 machine with these wheels, a quick check of the "same numbers" promise without training a run.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

# The reference workload; changing any of it changes the figure (it is recorded with it).
WORKLOAD = {
    "model": "tsm_r50",
    "options": {"width": 16, "depths": [1, 1, 1, 1], "dropout": 0.0, "fc_init_std": None},
    "classes": 20,
    "frames": 8,
    "size": 40,
    "batch": 16,
    "optimizer": "adamw",
    "lr": 0.003,
    "weight_decay": 0.01,
    "seed": 0,
}


def measure(warmup: int = 2, repeats: int = 10) -> dict:
    """Time the reference workload in this process (its numerics as they are); ``seconds_per_step`` is the
    median over ``repeats`` steps."""
    import torch
    from torch import nn

    from ..engine import numerics
    from ..models import create

    w = WORKLOAD
    torch.manual_seed(w["seed"])
    model = create(w["model"], w["classes"], w["frames"], **w["options"]).train()
    optimizer = torch.optim.AdamW(model.parameters(), lr=w["lr"], weight_decay=w["weight_decay"])
    generator = torch.Generator().manual_seed(w["seed"])
    video = torch.randn(w["batch"], 3, w["frames"], w["size"], w["size"], generator=generator)
    target = torch.randint(0, w["classes"], (w["batch"],), generator=generator)
    times, cpu_times = [], []
    for step in range(warmup + repeats):
        started, cpu_started = time.perf_counter(), time.process_time()
        loss = nn.functional.cross_entropy(model(video), target)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        if step >= warmup:
            times.append(time.perf_counter() - started)
            cpu_times.append(time.process_time() - cpu_started)
    digest = hashlib.sha256()
    for tensor in model.state_dict().values():
        digest.update(tensor.detach().contiguous().numpy().tobytes())
    return {
        "seconds_per_step": statistics.median(times),
        # CPU time of the process (all its threads): with one thread, the step's work even on a busy machine
        "cpu_seconds_per_step": statistics.median(cpu_times),
        "steps_timed": repeats,
        "steps_untimed": warmup,
        "spread_seconds": [min(times), max(times)],
        "weights_sha256": digest.hexdigest()[:16],
        "workload": WORKLOAD,
        "numerics": numerics.report(),
    }


def calibrate(warmup: int = 2, repeats: int = 10, timeout: float = 600) -> dict:
    """:func:`measure` in a fresh process with pinned numerics (what the builds record); adds the seconds the
    whole measurement took, the process's start included."""
    import paperlib

    from ..engine import numerics

    started = time.perf_counter()
    command = [sys.executable, "-m", "paperlib.bench", "calibrate", "--here", "--warmup", str(warmup)]
    env = numerics.pinned_environment()
    env["PYTHONPATH"] = str(Path(paperlib.__file__).resolve().parents[1])
    done = subprocess.run(
        [*command, "--repeats", str(repeats)], env=env, capture_output=True, text=True, timeout=timeout
    )
    if done.returncode != 0:
        raise RuntimeError(f"calibration: the reference workload failed:\n{done.stderr[-2000:]}")
    result = json.loads(done.stdout.strip().splitlines()[-1])
    result["measured_in_seconds"] = round(time.perf_counter() - started, 1)
    result["measured"] = time.strftime("%Y-%m-%d %H:%M")
    # other work on the machine slows the workload alike: the load then, to read the figure with
    result["load_average_1min"] = round(os.getloadavg()[0], 2) if hasattr(os, "getloadavg") else None
    result["cpu_count"] = os.cpu_count()
    return result


FILE = "calibration.json"  # in results/<scale>/: written by python -m reproduce at the start of a build


def for_build(results_dir: str | Path) -> dict:
    """The calibration of the build writing ``results_dir`` (``calibration.json``, written first by ``python -m
    reproduce``); measured now, and kept there, when a chapter runs without it (papermill on its own)."""
    from ..utils import atomic_write_text

    path = Path(results_dir) / FILE
    if path.is_file():
        saved = json.loads(path.read_text())
        if saved.get("workload") == WORKLOAD and "cpu_seconds_per_step" in saved:  # else: an older file, measured again
            return saved
    result = calibrate()
    atomic_write_text(path, json.dumps(result, indent=1) + "\n")
    return result


def statements(result: dict) -> list[str]:
    """The calibration for a book page: what was timed, the figure, and how builds use it (no machine paths)."""
    w = result["workload"]
    return [
        f"Reference workload: one training step (forward, backward, {w['optimizer']}) of {w['model']} at width "
        f"{w['options']['width']} with blocks {w['options']['depths']}, a batch of {w['batch']} clips of "
        f"{w['frames']} frames at {w['size']} x {w['size']} px, in a process with the small runs' pinned numerics "
        f"({result['numerics']['threads']} thread, {result['numerics']['cpu_capability']} kernels).",
        f"On this machine it took **{1e3 * result['seconds_per_step']:.1f} ms** "
        f"({1e3 * result['cpu_seconds_per_step']:.1f} ms of CPU time; medians of {result['steps_timed']} steps, "
        f"measured {result.get('measured', 'at the start of the build')}); the weights after "
        f"{result['steps_timed'] + result['steps_untimed']} steps hash to `{result['weights_sha256']}`: another "
        "AVX2 machine with the same wheels should give the same digest, and a different one means its numerics "
        "differ.",
        f"The machine's load average was {result.get('load_average_1min')} on {result.get('cpu_count')} cores "
        "while it was measured: other work on the machine lengthens the step's wall time (and the build's) but "
        "hardly its CPU time, the figure to compare machines by when they were busy.",
        "The build's time is saved as a multiple of this step (`build_times.json` in the results folder): two "
        "builds that took the same number of reference steps did the same work at their machines' speeds.",
    ]


def describe(result: dict) -> str:
    """One line: the figure, how it was measured and the weights' digest."""
    numbers = result["numerics"]
    return (
        f"reference step {1e3 * result['seconds_per_step']:.1f} ms, {1e3 * result['cpu_seconds_per_step']:.1f} ms "
        f"of CPU (median of {result['steps_timed']} training "
        f"steps of the embedded TSM, {numbers['threads']} thread, {numbers['cpu_capability']} kernels); "
        f"weights after {result['steps_timed'] + result['steps_untimed']} steps: {result['weights_sha256']}"
    )


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--repeats", type=int, default=10, help="timed steps (the figure is their median)")
    parser.add_argument("--warmup", type=int, default=2, help="untimed steps first")
    parser.add_argument("--json", default=None, help="also write the result to this file")
    parser.add_argument("--here", action="store_true", help=argparse.SUPPRESS)  # measure in this process


def run(args: argparse.Namespace) -> int:
    if args.here:
        from ..engine import numerics

        if numerics.in_pinned_process():
            numerics.settle()  # the settings the small scales' runs make in their workers
        print(json.dumps(measure(args.warmup, args.repeats)))
        return 0
    result = calibrate(args.warmup, args.repeats)
    print(describe(result))
    if args.json:
        from ..utils import atomic_write_text

        atomic_write_text(args.json, json.dumps(result, indent=1) + "\n")
    return 0
