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


def _trained_runs(results_dir: Path, table1: pd.DataFrame | None, mmit: pd.DataFrame | None) -> list[Path]:
    """Training run folders behind the current Table 1 and MMIT numbers: the runs of those experiments that
    were trained in ``results_dir`` (not stale cached runs, not checkpoints a user passed in, which the chapters
    evaluate but did not train)."""
    folders = [*(table1["run"].dropna() if table1 is not None else []), *(mmit["run"] if mmit is not None else [])]
    inside = [Path(f) for f in folders if Path(f).resolve().is_relative_to(results_dir.resolve())]
    return [run for run in dict.fromkeys(inside) if (run / "log.jsonl").is_file()]  # trained, not only evaluated


def _mmit_test(mmit: pd.DataFrame | None, run: Path) -> dict:
    """The run's single-view test mAPs, from the MMIT experiment's rows."""
    if mmit is None:
        return {}
    rows = mmit[(mmit["run"] == str(run)) & (mmit["split"] == "test") & (mmit["view"] == "1 view")]
    if rows.empty:
        return {}
    return {"test classwise mAP": rows["classwise_mAP"].iloc[0], "test samplewise mAP": rows["samplewise_mAP"].iloc[0]}


def own_checkpoints(
    results_dir: str | os.PathLike, table1: pd.DataFrame | None = None, mmit: pd.DataFrame | None = None
) -> list[dict]:
    """One row per checkpoint trained for the book's current numbers: the runs of ``table1``
    (:func:`paperlib.experiments.table1.run_table1`) and ``mmit`` (:func:`paperlib.experiments.mmit.run_single_models`)
    trained in ``results_dir``, a scale's results folder. Model, dataset, frames, width, seed, measured metrics,
    sha256, size, parameters and the ``from_checkpoint`` call, which is run here so a row only appears if that
    call works. Its path is relative to the repository (or to ``results_dir`` outside a checkout):
    :func:`shown_path`."""
    results_dir = Path(results_dir)
    rows = []
    for run in _trained_runs(results_dir, table1, mmit):
        checkpoint = run / "last.pth"
        if not checkpoint.is_file():
            raise FileNotFoundError(f"{checkpoint}: a trained run without its checkpoint (rebuild the book)")
        record = json.loads((run / "metrics.json").read_text())
        config, metrics = record["config"], record["metrics"]
        data = config["data"]
        model = from_checkpoint(checkpoint)
        measured = {
            "val top-1": metrics.get("top1"),
            "val classwise mAP": metrics.get("mAP_classwise"),
            **_mmit_test(mmit, run),
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
