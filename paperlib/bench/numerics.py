"""What each pinned setting costs and whether it changes the numbers: the reference workload
(:mod:`.calibrate`) in fresh processes under the pinned settings, under each of them undone in turn, and unpinned.

Each setting gives the median seconds per training step over ``rounds`` processes (the settings take turns, so a
machine busy with other work slows them alike), in wall time and in the process's CPU time (which, for one
thread, other work on the machine hardly changes) and the digest of the weights after the steps: two settings with
the same digest computed the same bits. ``python -m paperlib.bench numerics --json FILE``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

from ..engine import numerics

# name -> (environment changes from the pinned one, None = variable removed; settle in the process?; a statement
# run in the process before the workload, for settings no variable reaches)
SETTINGS = {
    "pinned": ({}, True),
    # oneDNN blocks its loops by the caches it detects; without it the convolutions are ATen's own (im2col and
    # MKL's GEMM under MKL_CBWR): a candidate for the same bits on another CPU, measured on one machine so far
    "oneDNN off": ({}, True, "torch.backends.mkldnn.enabled = False"),
    "MKL_CBWR=AVX2": ({"MKL_CBWR": "AVX2"}, True),
    "MKL_CBWR unset": ({"MKL_CBWR": None}, True),
    "ONEDNN_MAX_CPU_ISA unset": ({"ONEDNN_MAX_CPU_ISA": None}, True),
    "ONEDNN_MAX_CPU_ISA=SSE41": ({"ONEDNN_MAX_CPU_ISA": "SSE41"}, True),
    "ATEN_CPU_CAPABILITY=default": ({"ATEN_CPU_CAPABILITY": "default"}, True),
    "2 threads": ({"OMP_NUM_THREADS": "2", "MKL_NUM_THREADS": "2"}, True),
    "unpinned, 1 thread": ({k: None for k in numerics.PINNED_ENV} | {"OMP_NUM_THREADS": "1"}, False),
    "unpinned, all threads": ({k: None for k in numerics.PINNED_ENV}, False),
}


def environment(changes: dict, settle: bool) -> dict:
    """The pinned environment with ``changes`` (None removes a variable); unmarked when not settled."""
    import paperlib

    env = numerics.pinned_environment()
    for key, value in changes.items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = value
    if not settle:
        env.pop(numerics.MARK, None)
    env["PYTHONPATH"] = str(Path(paperlib.__file__).resolve().parents[1])
    return env


def one(changes: dict, settle: bool, warmup: int, repeats: int, statement: str = "") -> dict:
    """The reference workload in one fresh process with these settings (``statement`` run first)."""
    code = (
        "import json, sys, torch\n"
        "from paperlib.engine import numerics\n"
        "from paperlib.bench.calibrate import measure\n"
        f"if {settle}:\n"
        "    numerics.settle()\n"
        "    torch.set_num_threads(int(__import__('os').environ['OMP_NUM_THREADS']))\n"
        f"{statement}\n"
        f"print(json.dumps(measure({warmup}, {repeats})))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], env=environment(changes, settle), capture_output=True, text=True, timeout=900
    )
    if done.returncode != 0:
        raise RuntimeError(f"bench numerics: a process failed:\n{done.stderr[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def measure(names: list[str], rounds: int = 3, warmup: int = 2, repeats: int = 10) -> list[dict]:
    """Each setting of ``names`` ``rounds`` times, taking turns; one record per setting."""
    runs = {name: [] for name in names}
    for _ in range(rounds):
        for name in names:
            changes, settle, *statement = SETTINGS[name]
            runs[name].append(one(changes, settle, warmup, repeats, *statement))
    first = runs.get("pinned", runs[names[0]])
    base = statistics.median(r["seconds_per_step"] for r in first)
    cpu_base = statistics.median(r["cpu_seconds_per_step"] for r in first)
    records = []
    for name, results in runs.items():
        seconds = statistics.median(r["seconds_per_step"] for r in results)
        cpu_seconds = statistics.median(r["cpu_seconds_per_step"] for r in results)
        digests = sorted({r["weights_sha256"] for r in results})
        records.append(
            {
                "setting": name,
                "seconds_per_step": seconds,
                "relative_to_first": seconds / base,
                "cpu_seconds_per_step": cpu_seconds,
                "cpu_relative_to_first": cpu_seconds / cpu_base,
                "weights_sha256": digests[0] if len(digests) == 1 else digests,
                "same_bits_in_every_round": len(digests) == 1,
                "threads": results[0]["numerics"]["threads"],
                "cpu_capability": results[0]["numerics"]["cpu_capability"],
                "rounds": [r["seconds_per_step"] for r in results],
                "cpu_rounds": [r["cpu_seconds_per_step"] for r in results],
            }
        )
    return records


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--settings", nargs="+", default=list(SETTINGS), choices=list(SETTINGS), metavar="NAME")
    parser.add_argument("--rounds", type=int, default=3, help="processes per setting (taking turns)")
    parser.add_argument("--repeats", type=int, default=10, help="timed steps per process")
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--json", default=None)


def run(args: argparse.Namespace) -> int:
    from ..utils import atomic_write_text
    from .shift import machine_facts

    records = measure(args.settings, args.rounds, args.warmup, args.repeats)
    pinned = next((r["weights_sha256"] for r in records if r["setting"] == "pinned"), None)
    print(f"{'setting':30} {'ms/step':>8} {'x first':>8} {'cpu ms':>8} {'x first':>8}  weights")
    for r in records:
        same = "same bits as pinned" if r["weights_sha256"] == pinned else f"{r['weights_sha256']}"
        print(
            f"{r['setting']:30} {1e3 * r['seconds_per_step']:8.1f} {r['relative_to_first']:8.2f} "
            f"{1e3 * r['cpu_seconds_per_step']:8.1f} {r['cpu_relative_to_first']:8.2f}  {same}"
        )
    if args.json:
        import torch

        from .calibrate import WORKLOAD

        payload = {
            "benchmark": "numerics",
            "command": "python -m paperlib.bench numerics " + " ".join(sys.argv[2:]),
            "machine": machine_facts(torch.device("cpu")) | {"cpu_count": os.cpu_count()},
            "workload": WORKLOAD,
            "records": records,
        }
        atomic_write_text(args.json, json.dumps(payload, indent=1) + "\n")
    return 0
