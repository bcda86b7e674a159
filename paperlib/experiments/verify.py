"""A build's per-run numbers: written to a file (``python -m reproduce --record FILE``), and a build checked
against such a file (``python -m reproduce --verify FILE``).

The runs are found in the results folder, not listed by hand: every folder under ``results/<scale>/`` holding a
``metrics.json`` and a stamp (:func:`~.folders.stamp`) with the current code hash, so older runs left in the folder
are not taken, and a new experiment's runs are covered without changing this module. A run's record: its name
(``<experiment>/<run>``: the folder's name without its input hash), the input hash (``key``), every number of its
``metrics.json`` (top-1, top-5, mAP, the last training loss, the video count ...), its within-pair accuracy where
the classes are the embedded Something set's time-reversal pairs, the sha256 of its scores, and its training
seconds.

Two records agree when every number agrees to :data:`TOLERANCE` (relative). Seconds are not compared (they
measure the machine); a different input hash or scores digest is reported as a note (another commit, or scores
that differ in their last bits while every number agrees), not as a difference.
"""

from __future__ import annotations

import hashlib
import json
import math
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from .folders import STAMP, code_hash

if TYPE_CHECKING:
    import pandas as pd

TOLERANCE = 1e-9  # relative: every printed digit; JSON keeps a float exactly, so pinned builds agree exactly


def run_name(folder: Path) -> tuple[str, str]:
    """``(<experiment>/<name>, key)`` of a run folder ``<experiment>/<name>-<key>``."""
    name, _, key = folder.name.rpartition("-")
    return f"{folder.parent.name}/{name or folder.name}", key if name else ""


def collect(results_dir: str | Path, code: str | None = None) -> list[dict]:
    """The records of the runs under ``results_dir`` stamped with ``code`` (default: this code's hash), sorted by
    name."""
    code = code or code_hash()
    records = []
    for path in sorted(Path(results_dir).rglob(STAMP)):
        folder = path.parent
        if not (folder / "metrics.json").is_file() or json.loads(path.read_text()).get("code_hash") != code:
            continue
        records.append(run_record(folder))
    names = [r["run"] for r in records]
    for r in records:  # two runs of one name (one configuration name, other settings): told apart by their keys
        if names.count(r["run"]) > 1:
            r["run"] = f"{r['run']} [{r['key']}]"
    return sorted(records, key=lambda r: r["run"])


def run_record(folder: Path) -> dict:
    """One run's record (see the module's docstring)."""
    saved = json.loads((folder / "metrics.json").read_text())
    metrics = saved.get("metrics", saved)
    numbers = {k: v for k, v in metrics.items() if _is_number(v) and "seconds" not in k}
    seconds = metrics.get("train_seconds", _train_seconds(folder))
    name, key = run_name(folder)
    record = {"run": name, "key": key, "numbers": numbers, "train_seconds": _round(seconds)}
    if (folder / "scores.npz").is_file():
        with np.load(folder / "scores.npz") as scores:
            record["scores_sha256"] = hashlib.sha256(np.ascontiguousarray(scores["scores"]).tobytes()).hexdigest()[:16]
            partner = _partners(saved)
            if partner is not None:
                from .table1 import pair_accuracy

                numbers["pair_accuracy"] = pair_accuracy(scores["scores"], scores["labels"], partner)
    return record


def record(results_dir: str | Path, path: str | Path, scale: str) -> dict:
    """Write the records of ``results_dir``'s runs (:func:`collect`) to ``path`` (JSON); returns what was written."""
    from ..engine.provenance import cpu_model, git_commit
    from ..utils import atomic_write_text

    payload = {
        "scale": scale,
        "commit": git_commit(),
        "machine": cpu_model(),
        "code_hash": code_hash(),
        "tolerance": TOLERANCE,
        "compared": "every number of each run; not train_seconds",
        "runs": collect(results_dir),
    }
    atomic_write_text(path, json.dumps(payload, indent=1) + "\n")
    return payload


def compare(expected: list[dict], found: list[dict], tolerance: float = TOLERANCE) -> tuple[list[str], list[str]]:
    """``(differences, notes)`` between two lists of run records: a line per missing run, extra run and run
    whose numbers differ; notes for other input hashes and other scores digests."""
    want, have = {r["run"]: r for r in expected}, {r["run"]: r for r in found}
    differences = [f"missing  {name} (recorded, not in this build)" for name in sorted(want.keys() - have.keys())]
    differences += [f"extra    {name} (in this build, not recorded)" for name in sorted(have.keys() - want.keys())]
    notes = []
    for name in sorted(want.keys() & have.keys()):
        a, b = want[name], have[name]
        changed = [
            f"{k} {_show(a['numbers'].get(k))} recorded, {_show(b['numbers'].get(k))} here"
            for k in sorted(a["numbers"].keys() | b["numbers"].keys())
            if not _agree(a["numbers"].get(k), b["numbers"].get(k), tolerance)
        ]
        if changed:
            differences.append(f"differs  {name}: " + "; ".join(changed))
        if a.get("key") != b.get("key"):
            notes.append(f"{name}: other inputs (key {a.get('key')} recorded, {b.get('key')} here)")
        elif not changed and a.get("scores_sha256") != b.get("scores_sha256"):
            notes.append(f"{name}: every number agrees, the scores differ in their last bits")
    return differences, notes


def verify(path: str | Path, results_dir: str | Path, out=print) -> int:
    """Compare ``results_dir``'s runs with the records in ``path``; print every difference; 0 if none, else 1."""
    expected = json.loads(Path(path).read_text())
    found = collect(results_dir)
    differences, notes = compare(expected["runs"], found, expected.get("tolerance", TOLERANCE))
    out(f"verify: {len(expected['runs'])} runs recorded in {path}, {len(found)} in this build ({results_dir})")
    from ..engine.provenance import cpu_model

    here = cpu_model()
    if expected.get("machine") and expected["machine"] != here:
        out(f"  note: recorded on {expected['machine']}, built on {here}: pinned runs may differ in their bits")
    for line in differences:
        out(f"  {line}")
    if notes:
        other_keys = sum("other inputs" in n for n in notes)
        if other_keys:
            out(
                f"  note: {other_keys} runs have other input hashes than recorded: another commit or configuration, "
                "or (evaluations) checkpoints whose bytes differ though their weights may not (a checkpoint records "
                "the folder it was written to)"
            )
        for line in (n for n in notes if "other inputs" not in n):
            out(f"  note: {line}")
    if differences:
        out(f"verify: {len(differences)} runs differ (tolerance {expected.get('tolerance', TOLERANCE):g} relative)")
        return 1
    out(f"verify: all {len(found)} runs agree (tolerance {expected.get('tolerance', TOLERANCE):g} relative)")
    return 0


def _is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _agree(a, b, tolerance: float) -> bool:
    if a is None or b is None:
        return a is b
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    return abs(a - b) <= tolerance * max(1.0, abs(a), abs(b))


def _show(value) -> str:
    return "absent" if value is None else f"{value:.10g}"


def _round(seconds):
    return None if seconds is None else round(float(seconds), 1)


def _train_seconds(folder: Path) -> float | None:
    """A training run's summed epoch times (``log.jsonl``); None for an evaluation."""
    log = folder / "log.jsonl"
    if not log.is_file():
        return None
    lines = (json.loads(line) for line in log.read_text().splitlines() if line.strip())
    return sum(r["seconds"] for r in lines if r.get("event") == "epoch")


def _partners(saved: dict):
    """The time-reversal partner of each class when the run's data is the embedded Something set, else None."""
    root = (saved.get("data") or {}).get("root")
    if not root or not (Path(root) / "category.txt").is_file():
        return None
    from .table1 import reversal_partners

    return reversal_partners((Path(root) / "category.txt").read_text().splitlines())


CROSS_MACHINE = "cross_machine_embedded.json"  # benchmarks/results/: one commit's embedded runs on two CPUs


def cross_machine(folder: str | Path | None = None) -> tuple[pd.DataFrame, str] | None:
    """How far the committed embedded runs moved between two machines (:data:`CROSS_MACHINE` in ``folder``, default
    the checkout's ``benchmarks/results/``): one row per number (top-1, within-pair accuracy, class-wise mAP) with
    how many runs and the mean and largest absolute difference (points); and a caption naming both machines.
    None where the file is absent (an installed package)."""
    import pandas as pd

    from .speed import benchmark_folder

    folder = benchmark_folder() if folder is None else Path(folder)
    path = None if folder is None else folder / CROSS_MACHINE
    if path is None or not path.is_file():
        return None
    payload = json.loads(path.read_text())
    rows = pd.DataFrame(payload["rows"])
    names = {"top1": "top-1 (%)", "pair_accuracy": "within-pair accuracy (%)", "mAP_classwise": "class-wise mAP (%)"}
    table = (
        rows.assign(diff=rows["xeon_minus_epyc"].abs())
        .groupby("number", sort=False)
        .agg(runs=("diff", "size"), mean_abs=("diff", "mean"), max_abs=("diff", "max"))
        .rename(index=names)
        .rename(columns={"mean_abs": "mean |difference|", "max_abs": "largest |difference|"})
    )
    table = table.reindex([name for name in names.values() if name in table.index])
    a, b = payload["epyc"], payload["xeon"]
    caption = (
        f"MEASURED by paperlib: the same embedded runs on {a['machine']} (commit {a['commit'][:7]}) and "
        f"{b['machine']} (commit {b['commit'][:7]}), pinned numerics; committed file benchmarks/results/{CROSS_MACHINE}"
    )
    return table, caption
