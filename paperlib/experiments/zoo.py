"""The model-zoo chapter: the checkpoints their authors published (with the numbers they REPORT), and the
checkpoints our own runs produced, each with its measured numbers, sha256 and the call that loads it (checked
by loading it)."""

from __future__ import annotations

import json
import os
from dataclasses import asdict
from pathlib import Path

import pandas as pd

from ..models import from_checkpoint
from ..models.zoo import PUBLISHED, PublishedCheckpoint
from ..utils import sha256_file
from .chapter import shown_path

DATASETS = {"sthv1": "Something-Something v1", "mmit": "Multi-Moments in Time"}
REPORTED_COLUMN = "REPORTED (not measured here)"


def published_table(entries: tuple[PublishedCheckpoint, ...] = PUBLISHED) -> pd.DataFrame:
    """One row per published checkpoint (:data:`paperlib.models.zoo.PUBLISHED`): model, dataset, classes, input,
    the accuracy its publisher reports (text, with its test views), the source, the key layout and the line that
    loads it."""
    return pd.DataFrame(
        [
            {
                "model": e.model,
                "dataset": e.dataset,
                "classes": e.num_classes,
                "input": e.input,
                REPORTED_COLUMN: e.reported,
                "source": e.source,
                "layout": e.fmt,
                "load": e.call(),
                "note": e.note,
            }
            for e in entries
        ]
    )


def published_results(entries: tuple[PublishedCheckpoint, ...] = PUBLISHED) -> pd.DataFrame:
    """The reported accuracies carried as data (``PublishedCheckpoint.results``), one row per (checkpoint, test
    views): what a chapter compares its measurements with."""
    rows = [{"model": e.model, "classes": e.num_classes, **asdict(r)} for e in entries for r in e.results]
    columns = ["model", "classes", "dataset", "frames", "metric", "views", "value", "label", "source"]
    return pd.DataFrame(rows, columns=columns)


def _chapter(results_dir: Path, name: str) -> dict | None:
    """A chapter's saved results (``<results_dir>/notebooks/<name>.json``), or None before it ran."""
    path = results_dir / "notebooks" / f"{name}.json"
    return json.loads(path.read_text())["results"] if path.is_file() else None


def _training_runs(results_dir: Path, mmit: dict | None) -> list[Path]:
    """Training run folders behind the current Table 1 and MMIT numbers (not stale cached runs, not checkpoints
    a user passed in, which the chapters evaluate but did not train)."""
    runs: list[Path] = []
    table1 = _chapter(results_dir, "table1")
    for entry in (table1 or {}).get("provenance", []):
        if entry.get("checkpoint_sha256") is None:  # trained here (evaluations of given files carry its sha)
            runs.append(results_dir / entry["run"])  # "table1/<run>", relative to the results folder
    for entry in (mmit or {}).get("runs", []):
        if entry.get("run"):
            runs.append(results_dir / entry["run"])
    return list(dict.fromkeys(runs))


def _mmit_test(mmit: dict | None, run: Path, results_dir: Path) -> dict:
    for entry in (mmit or {}).get("runs", []):
        if (
            entry.get("run")
            and (results_dir / entry["run"]).resolve() == run.resolve()
            and entry["split"] == "test"
            and entry["view"] == "1 view"
        ):
            return {"test classwise mAP": entry["classwise_mAP"], "test samplewise mAP": entry["samplewise_mAP"]}
    return {}


def own_checkpoints(results_dir: str | os.PathLike) -> list[dict]:
    """One row per checkpoint trained for the book's current numbers (read from the chapters' results in
    ``results_dir``, a scale's results folder): model, dataset, frames, width, seed, measured metrics, sha256,
    size, parameters and the ``from_checkpoint`` call, which is run here so a row only appears if that call
    works. Its path is relative to the repository (or to ``results_dir`` outside a checkout):
    :func:`shown_path`."""
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
        measured = {
            "val top-1": metrics.get("top1"),
            "val classwise mAP": metrics.get("mAP_classwise"),
            **_mmit_test(mmit, run, results_dir),
        }
        rows.append(
            {
                "model": config["model"]["name"],
                "dataset": DATASETS.get(data["dataset"], data["dataset"])
                + (
                    f" (embedded, {data['embedded_scale']})"
                    if data.get("root") is None
                    else f" ({Path(data['root']).name})"
                ),
                "frames": config["model"]["num_segments"],
                "width": config["model"]["options"].get("width", 64),
                "seed": config["seed"],
                "epochs": metrics.get("epoch"),
                **{k: round(v, 2) for k, v in measured.items() if v is not None},
                "params": sum(p.numel() for p in model.parameters()),
                "MB": round(checkpoint.stat().st_size / 2**20, 1),
                "sha256": sha256_file(checkpoint),
                "load": f'from_checkpoint("{shown_path(checkpoint, results_dir)}")',
            }
        )
    return rows


def own_checkpoint_tables(rows: list[dict]) -> dict[str, pd.DataFrame]:
    """:func:`own_checkpoints` rows as one table per dataset (columns no row fills left out); empty before any
    training chapter ran."""
    if not rows:
        return {}
    frame = pd.DataFrame(rows)
    return {
        dataset: table.dropna(axis="columns", how="all").reset_index(drop=True)
        for dataset, table in frame.groupby("dataset", sort=False)
    }


def verdict(published: pd.DataFrame, ours: list[dict]) -> list[str]:
    """What the chapter's two tables amount to, from their rows."""
    sources = published["source"].nunique()
    lines = [
        f"{len(published)} published checkpoints from {sources} sources, with the accuracy each publisher REPORTS "
        "(not measured here); every load line is run by tests/test_zoo.py on a file in that layout."
    ]
    if ours:
        datasets = len({row["dataset"] for row in ours})
        lines.append(
            f"{len(ours)} checkpoints of this build on {datasets} dataset{'s' if datasets != 1 else ''}, "
            "each loaded by its from_checkpoint call while this page was built."
        )
    else:
        lines.append("No checkpoint of this build yet: the Table 1 and MMIT chapters write them when they run.")
    return lines
