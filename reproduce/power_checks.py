"""``python -m reproduce.power_checks RESULTS LEDGER``: add the claims chapter's power checks
(:func:`paperlib.experiments.claims.power_checks`) to a saved ledger that predates them, computed from the run
folders of the build that made it (``RESULTS``: e.g. ``results/long``), reading only what those runs saved
(metrics, checkpoints, scores). The ledger records that the checks were added afterwards, by which commit.

For ledgers saved before the checks existed (an earlier ``benchmarks/results/claims_long.json`` got them this
way); a build of the claims chapter saves them itself."""

from __future__ import annotations

import argparse
import json
import re
from pathlib import Path

import numpy as np
import pandas as pd

from paperlib.engine.metrics import classwise_map
from paperlib.engine.provenance import git_commit
from paperlib.experiments import offsets
from paperlib.experiments.claims import power_checks
from paperlib.experiments.mmit import margins_over_chance
from paperlib.utils.io import atomic_write_text

TABLE1_RUN = re.compile(r"(\w+_r50)_(\d+)f_seed(\d+)-[0-9a-f]+$")
MMIT_EVAL = re.compile(r"(\w+_r50)_seed(\d+)_(test|val)_(\w+)-eval-[0-9a-f]+$")


def checks_of(results: Path, view: str = "1x1") -> pd.DataFrame:
    """The power checks of the build whose run folders are under ``results`` (``table1/``, ``mmit/``)."""
    runs = []
    for folder in sorted((results / "table1").iterdir()):
        if match := TABLE1_RUN.match(folder.name):
            top1 = json.loads((folder / "metrics.json").read_text())["metrics"]["top1"]
            runs.append({"model": match[1], "frames": match[2], "seed": int(match[3]), "top1": top1, "dir": folder})
    runs = pd.DataFrame(runs)
    tins = runs[(runs["model"] == "tin_r50") & (runs["frames"] == "8")]
    summaries = {
        int(r.seed): offsets.offset_summary(offsets.collect_from_checkpoint(r.dir / "last.pth", None, 200, "cpu")[0])
        for r in tins.itertuples()
    }
    scored = []
    for folder in sorted((results / "mmit").iterdir()):
        if match := MMIT_EVAL.match(folder.name):
            saved = np.load(folder / "scores.npz")
            scored.append(
                {
                    "model": match[1],
                    "seed": int(match[2]),
                    "split": match[3],
                    "view": match[4],
                    "classwise_mAP": classwise_map(saved["scores"], saved["labels"]),
                    "scores": str(folder),
                }
            )
    margins = margins_over_chance(pd.DataFrame(scored), view) if scored else None
    return power_checks(runs, offsets.seed_table(summaries), margins)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m reproduce.power_checks", description=__doc__)
    parser.add_argument("results", type=Path, help="the build's results folder, e.g. results/long")
    parser.add_argument("ledger", type=Path, help="the saved ledger, e.g. benchmarks/results/claims_long.json")
    args = parser.parse_args(argv)
    checks = checks_of(args.results)
    print(checks.to_string())
    payload = json.loads(args.ledger.read_text())
    commit = git_commit()
    payload["results"]["power_checks"] = checks.reset_index().to_dict(orient="records")
    payload["results"]["power_checks_added"] = (
        f"computed after the build from its saved runs by reproduce/power_checks.py at commit {str(commit)[:12]}"
    )
    atomic_write_text(args.ledger, json.dumps(payload, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
