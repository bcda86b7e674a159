"""How far a run's numbers move when its numerics change: Table 1's small runs trained under the pinned settings
(:mod:`paperlib.engine.numerics`) and under another setting (ATen's ``default`` kernels instead of AVX2, two
threads instead of one, ... :data:`paperlib.bench.numerics.SETTINGS`), each in a fresh process, from the same
seed and data.

Where two machines cannot be made to compute the same bits, this is the spread to expect between them: a change
of rounding in the first step grows through training. ``python -m paperlib.experiments.spread --runs tsm_r50:0
tin_r50:0 --settings pinned "ATEN_CPU_CAPABILITY=default" --json FILE``.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from ..bench.numerics import SETTINGS, environment


def train_under(
    setting: str, model: str, seed: int, scale: str, frames: int, results_dir: Path, timeout: float = 4 * 3600
) -> dict:
    """One Table 1 run of ``scale`` trained in a fresh process under ``setting``; its numbers."""
    changes, settle, *statement = SETTINGS[setting]
    code = f"""
import json, os, numpy as np, torch
from pathlib import Path
from paperlib.engine import numerics
if {settle}:
    numerics.settle()
    torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", "1")))
{"".join(statement)}
from paperlib.engine.trainer import train
from paperlib.experiments import table1
from paperlib.experiments.cache import run_folder
config = table1.table1_config({scale!r}, {model!r}, {frames}, {seed}, None, "cpu")
out = run_folder(config, {str(results_dir)!r}, None, "table1")
train(config, resume=True)
metrics = json.loads((out / "metrics.json").read_text())["metrics"]
saved = np.load(out / "scores.npz")
root = Path(json.loads((out / "metrics.json").read_text())["data"]["root"])
partner = table1.reversal_partners((root / "category.txt").read_text().splitlines())
pair = table1.pair_accuracy(saved["scores"], saved["labels"], partner) if partner is not None else None
facts = numerics.report()
print(json.dumps({{"top1": metrics["top1"], "pair_accuracy": pair, "train_loss": metrics["train_loss"],
                  "threads": facts["threads"], "cpu_capability": facts["cpu_capability"]}}))
"""
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", code], env=environment(changes, settle), capture_output=True, text=True, timeout=timeout
    )
    if done.returncode != 0:
        raise RuntimeError(f"spread: {model} seed {seed} under {setting} failed:\n{done.stderr[-3000:]}")
    result = json.loads(done.stdout.strip().splitlines()[-1])
    seconds = time.perf_counter() - started
    return {"run": f"{model}_{frames}f_seed{seed}", "setting": setting, **result, "seconds": seconds}


def measure(
    runs: list[tuple[str, int]], settings: list[str], scale: str = "embedded", frames: int = 8, on_record=None
) -> dict:
    """Every run under every setting; the records and, per setting, the top-1 and within-pair differences from
    the first setting. ``on_record(result so far)`` after every run (a long measurement keeps what it has)."""
    records = []
    with tempfile.TemporaryDirectory() as tmp:
        for model, seed in runs:
            for setting in settings:
                folder = Path(tmp) / setting.replace(" ", "_").replace("=", "_").replace(",", "")
                records.append(train_under(setting, model, seed, scale, frames, folder))
                print(json.dumps(records[-1]), flush=True)
                if on_record is not None:
                    on_record(summarise(records, settings, scale, frames))
    return summarise(records, settings, scale, frames)


def summarise(records: list[dict], settings: list[str], scale: str, frames: int) -> dict:
    """The records and, per setting, the differences from the first setting of the runs measured under both."""
    first = {r["run"]: r for r in records if r["setting"] == settings[0]}
    summary = {}
    for setting in settings[1:]:
        mine = [r for r in records if r["setting"] == setting and r["run"] in first]
        if not mine:
            continue
        top1 = [r["top1"] - first[r["run"]]["top1"] for r in mine]
        pair = [r["pair_accuracy"] - first[r["run"]]["pair_accuracy"] for r in mine if r["pair_accuracy"] is not None]
        summary[setting] = {
            "top1_differences": top1,
            "max_abs_top1_difference": max(map(abs, top1)),
            "pair_accuracy_differences": pair,
            "max_abs_pair_difference": max(map(abs, pair)) if pair else None,
            "bit_identical_runs": sum(r["train_loss"] == first[r["run"]]["train_loss"] for r in mine),
        }
    return {"scale": scale, "frames": frames, "against": settings[0], "records": records, "summary": summary}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m paperlib.experiments.spread", description=__doc__)
    parser.add_argument("--runs", nargs="+", default=["tsm_r50:0", "tin_r50:0"], help="MODEL:SEED ...")
    parser.add_argument("--settings", nargs="+", default=["pinned", "ATEN_CPU_CAPABILITY=default"])
    parser.add_argument("--scale", default="embedded", choices=["smoke", "embedded", "long"])
    parser.add_argument("--frames", type=int, default=8)
    parser.add_argument("--json", default=None)
    args = parser.parse_args(argv)
    unknown = [s for s in args.settings if s not in SETTINGS]
    if unknown:
        parser.error(f"unknown settings {unknown}; known: {', '.join(SETTINGS)}")
    runs = [(text.split(":")[0], int(text.split(":")[1])) for text in args.runs]
    command = "python -m paperlib.experiments.spread " + " ".join(sys.argv[1:] if argv is None else argv)

    def write(result: dict) -> None:
        if args.json:
            from ..utils import atomic_write_text

            atomic_write_text(args.json, json.dumps({**result, "command": command}, indent=1) + "\n")

    result = measure(runs, args.settings, args.scale, args.frames, on_record=write)
    write(result)
    for setting, numbers in result["summary"].items():
        print(
            f"{setting} against {args.settings[0]}: top-1 differences {numbers['top1_differences']}, "
            f"within-pair {numbers['pair_accuracy_differences']}; {numbers['bit_identical_runs']} of {len(runs)} "
            "runs bit-identical"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
