"""The checkpoints our own runs produced, for the model-zoo chapter: each with its measured numbers, sha256
and the call that loads it (checked by loading it)."""

from __future__ import annotations

import json
import os
from pathlib import Path

from ..engine.provenance import sha256_file
from ..models import from_checkpoint

DATASETS = {"sthv1": "Something-Something v1", "mmit": "Multi-Moments in Time"}


def _chapter(results_dir: Path, name: str) -> dict | None:
    path = results_dir / f"{name}.json"
    return json.loads(path.read_text())["results"] if path.is_file() else None


def _training_runs(results_dir: Path, mmit: dict | None) -> list[Path]:
    """Training run folders behind the current Table 1 and MMIT numbers (not stale cached runs, not checkpoints
    a user passed in, which the chapters evaluate but did not train)."""
    runs: list[Path] = []
    table1 = _chapter(results_dir, "table1")
    for entry in (table1 or {}).get("provenance", []):
        if entry.get("checkpoint_sha256") is None:  # trained here (evaluations of given files carry its sha)
            runs.append(results_dir.parent / entry["run"])
    for entry in (mmit or {}).get("runs", []):
        if entry.get("run"):
            runs.append(Path(entry["run"]))
    return list(dict.fromkeys(runs))


def _mmit_test(mmit: dict | None, run: Path) -> dict:
    for entry in (mmit or {}).get("runs", []):
        if entry.get("run") and Path(entry["run"]) == run and entry["split"] == "test" and entry["view"] == "1 view":
            return {"test classwise mAP": entry["classwise_mAP"], "test samplewise mAP": entry["samplewise_mAP"]}
    return {}


def own_checkpoints(results_dir: str | os.PathLike, relative_to: str | os.PathLike | None = None) -> list[dict]:
    """One row per checkpoint trained for the book's current numbers (read from the chapters' results in
    ``results_dir``): model, dataset, frames, width, seed, measured metrics, sha256, size, parameters and
    the ``from_checkpoint`` call, which is run here so a row only appears if that call works."""
    results_dir = Path(results_dir)
    mmit = _chapter(results_dir, "mmit_single")
    rows = []
    for run in _training_runs(results_dir, mmit):
        checkpoint = run / "last.pth"
        if not checkpoint.is_file():
            raise FileNotFoundError(f"{checkpoint}: named by the chapters' results but missing (rebuild the book)")
        record = json.loads((run / "metrics.json").read_text())
        config, metrics = record["config"], record["metrics"]
        data = config["data"]
        model = from_checkpoint(checkpoint)
        shown = Path(os.path.relpath(checkpoint, relative_to)) if relative_to else checkpoint
        measured = {
            "val top-1": metrics.get("top1"),
            "val classwise mAP": metrics.get("mAP_classwise"),
            **_mmit_test(mmit, run),
        }
        rows.append(
            {
                "model": config["model"]["name"],
                "dataset": DATASETS.get(data["dataset"], data["dataset"])
                + (f" (embedded, {data['embedded_scale']})" if data.get("root") is None else f" ({data['root']})"),
                "frames": config["model"]["num_segments"],
                "width": config["model"]["options"].get("width", 64),
                "seed": config["seed"],
                "epochs": metrics.get("epoch"),
                **{k: round(v, 2) for k, v in measured.items() if v is not None},
                "params": sum(p.numel() for p in model.parameters()),
                "MB": round(checkpoint.stat().st_size / 2**20, 1),
                "sha256": sha256_file(checkpoint),
                "load": f'from_checkpoint("{shown.as_posix()}")',
            }
        )
    return rows
