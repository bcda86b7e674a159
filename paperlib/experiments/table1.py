"""Table 1 (Something-Something v1): TSN, TSM and TIN at 8 and 16 frames, and the 8F+16F ensembles.

Each (model, frames, seed) is one training run of :func:`paperlib.engine.trainer.train`, cached by a hash of
its inputs under ``<results_dir>/table1/``. Scales: ``smoke`` and ``embedded`` train small variants on the
embedded Something-v1-format data (``paperlib/configs/{smoke,embedded_sthv1}.yaml``); ``full`` uses the
paper recipes (``paperlib/configs/<model>_1x1x<T>_40e_sthv1.yaml``) on the real data at ``data_root``, or
evaluates given checkpoints.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from ..configs import recipe_dir
from ..engine.config import config_to_dict, load_config
from ..engine.metrics import topk_accuracy
from .cache import file_digest, find_first, input_key
from .results import mean_std

CONFIGS = recipe_dir()
MODELS = ("tsn_r50", "tsm_r50", "tin_r50")
FRAMES = (8, 16)
SCALE_CONFIG = {"smoke": "smoke.yaml", "embedded": "embedded_sthv1.yaml"}
# Small scales only: a 16-frame model starts from the same seed's 8-frame model and is fine-tuned briefly.
# Trained from scratch, the small 16-frame models need several times the 8-frame budget to leave the plateau
# before they use motion (measured: TSM 16f seed 0 at 26.8 % top-1 after the 8-frame recipe's 8 epochs).
SIXTEEN_FROM_EIGHT = {"smoke": ["optim.epochs=1", "eval.every=1"], "embedded": ["optim.epochs=1", "eval.every=1"]}


def run_config(
    scale: str,
    model: str,
    frames: int,
    seed: int,
    data_root: str | None,
    device: str,
    init_from: str | Path | None = None,
):
    """The configuration of one Table 1 run (output_dir still unset); ``init_from``: a checkpoint to start
    from, with the scale's fine-tuning schedule (:data:`SIXTEEN_FROM_EIGHT`)."""
    if scale == "full":
        if data_root is None:
            raise ValueError("scale 'full' needs data_root (the prepared Something-Something v1)")
        path, overrides = CONFIGS / f"{model}_1x1x{frames}_40e_sthv1.yaml", [f"data.root={data_root}"]
    else:
        path, overrides = CONFIGS / SCALE_CONFIG[scale], []
        if data_root is not None:
            overrides.append(f"data.root={data_root}")
        if init_from is not None:
            overrides += [f"model.pretrained={init_from}", *SIXTEEN_FROM_EIGHT[scale]]
    return load_config(
        path,
        [
            *overrides,
            f"model.name={model}",
            f"model.num_segments={frames}",
            f"seed={seed}",
            f"device={device}",
            f"name={model}_{frames}f_seed{seed}",
        ],
    )


def run_or_load(config, results_dir: str | Path, data_root: str | None, group: str = "table1") -> Path:
    """Train once per distinct input; returns the run folder ``<results_dir>/<group>/<name>-<input hash>``
    (``metrics.json``, ``scores.npz``, ``last.pth``)."""
    from ..engine.trainer import train

    inputs = config_to_dict(config)
    if config.model.pretrained:  # a checkpoint's identity: its run folder (named by its inputs) or its bytes
        start = Path(config.model.pretrained).resolve()
        inside = start.is_relative_to(Path(results_dir).resolve())
        inputs["model"]["pretrained"] = start.parent.name if inside else file_digest(start)
    out = Path(results_dir) / group / f"{config.name}-{input_key(**inputs, **_lists(config, data_root))}"
    config.output_dir = str(out)  # also when cached: later steps (evaluation keys) see the same configuration
    if not _finished(out, config.optim.epochs):
        train(config, resume=True)  # a run interrupted earlier continues from its last epoch
    return out


def _lists(config, data_root: str | None) -> dict:
    """The identity of real data in a cache key: its list files' bytes (the embedded data is named by the
    configuration itself)."""
    if data_root is None:
        return {}
    root = Path(data_root)
    return {"lists": file_digest(root / config.data.train_list, root / config.data.val_list)}


def find_checkpoint(checkpoints: str | Path, model: str, frames: int) -> Path | None:
    """The checkpoint of ``model`` at ``frames`` in a folder: a recipe's output folder
    ``<model>_1x1x<frames>_40e_sthv1/last.pth`` or a file ``<model>_<frames>f.pth``; None if neither exists."""
    return find_first(checkpoints, [f"{model}_1x1x{frames}_40e_sthv1/last.pth", f"{model}_{frames}f.pth"])


def evaluate_or_load(
    config, checkpoint: Path, results_dir: str | Path, data_root: str | None, group: str = "table1"
) -> Path:
    """Evaluate a given checkpoint once per distinct input (its bytes, the configuration, the data's lists)."""
    from ..evaluate import run

    # What decides the scores: the checkpoint's bytes (the model), the data and the test protocol; not where
    # or how the checkpoint was trained (model.num_classes, for one, is only filled in by a training run).
    settings = config_to_dict(config)
    inputs = {
        "checkpoint": file_digest(checkpoint),
        "data": settings["data"],
        "eval": settings["eval"],
        "device": settings["device"],
        "amp": settings.get("amp"),
        **_lists(config, data_root),
    }
    out = Path(results_dir) / group / f"{config.name}-eval-{input_key(**inputs)}"
    if not (out / "scores.npz").exists():
        run(checkpoint, config, output=out, progress=False)
    return out


def _finished(out: Path, epochs: int) -> bool:
    """metrics.json is rewritten after every evaluation: the run is done when it reports the last epoch."""
    path = out / "metrics.json"
    return path.exists() and json.loads(path.read_text())["metrics"].get("epoch") == epochs


def pair_accuracy(scores: np.ndarray, labels: np.ndarray, partner: np.ndarray) -> float:
    """Within-pair accuracy (%): for each video, is its class scored above its time-reversed partner class?
    Chance is 50 % for a model blind to frame order."""
    rows = np.arange(len(labels))
    return float(100 * np.mean(scores[rows, labels] > scores[rows, partner[labels]]))


def run_table1(
    scale: str,
    seeds: list[int],
    results_dir: str | Path,
    data_root: str | None = None,
    device: str = "auto",
    checkpoints: str | Path | None = None,
) -> pd.DataFrame:
    """One row per (model, frames in {8, 16, 8+16}, seed): top-1, top-5 and, on the embedded data (whose
    classes are time-reversal pairs), within-pair accuracy, all measured on the validation split.

    With ``checkpoints`` (a folder, see :func:`find_checkpoint`) the models found there are evaluated instead
    of trained (one row per checkpoint, seed 0); models without a checkpoint are reported and left out."""
    rows, partner = [], None
    for model in MODELS:
        for seed in seeds if checkpoints is None else [0]:
            scored, eight_frames = {}, None
            for frames in FRAMES:
                if checkpoints is not None:
                    checkpoint = find_checkpoint(checkpoints, model, frames)
                    if checkpoint is None:
                        print(f"table1: no checkpoint for {model} at {frames} frames in {checkpoints}: row left out")
                        continue
                    config = run_config(scale, model, frames, seed, data_root, device)
                    out = evaluate_or_load(config, checkpoint, results_dir, data_root)
                else:
                    init = eight_frames / "last.pth" if frames == 16 and scale in SIXTEEN_FROM_EIGHT else None
                    config = run_config(scale, model, frames, seed, data_root, device, init)
                    out = run_or_load(config, results_dir, data_root)
                    eight_frames = out if frames == 8 else eight_frames
                if partner is None and data_root is None:
                    root = Path(json.loads((out / "metrics.json").read_text())["data"]["root"])
                    partner = reversal_partners((root / "category.txt").read_text().splitlines())
                saved = np.load(out / "scores.npz")
                scored[frames] = saved["scores"], saved["labels"]
                rows.append(
                    _row(model, str(frames), seed, saved["scores"], saved["labels"], partner, _train_seconds(out), out)
                )
            if len(scored) == 2:
                (s8, labels), (s16, _) = scored[8], scored[16]
                rows.append(_row(model, "8+16", seed, (s8 + s16) / 2, labels, partner, None, None))
    if not rows:
        raise FileNotFoundError(f"checkpoints: no Table 1 checkpoint found in {checkpoints}")
    return pd.DataFrame(rows)


def _train_seconds(out: Path) -> float | None:
    """Training time of a run (summed epochs), None for an evaluated checkpoint."""
    log = out / "log.jsonl"
    if not log.exists():
        return None
    return sum(r["seconds"] for r in map(json.loads, log.read_text().splitlines()) if r.get("event") == "epoch")


def _row(model, frames, seed, scores, labels, partner, seconds, out) -> dict:
    row = {"model": model, "frames": frames, "seed": seed, **topk_accuracy(scores, labels)}
    if partner is not None:
        row["pair_accuracy"] = pair_accuracy(scores, labels, partner)
    row["train_seconds"] = seconds
    row["run"] = str(out) if out else None
    return row


def reversal_partners(class_names: list[str]) -> np.ndarray | None:
    """For the embedded Something set: the id of each class's time-reversed partner (None for other data)."""
    from ..data.synthetic.something import PAIRS

    index = {name: i for i, name in enumerate(class_names)}
    partner = np.full(len(class_names), -1)
    for forward, backward, _ in PAIRS:
        if forward in index and backward in index:
            partner[index[forward]], partner[index[backward]] = index[backward], index[forward]
    return partner if (partner >= 0).all() else None


def summarize(runs: pd.DataFrame) -> pd.DataFrame:
    """Mean ± std over seeds per (model, frames)."""
    return mean_std(runs, ["model", "frames"], [c for c in ("top1", "top5", "pair_accuracy") if c in runs])


def verdict(runs: pd.DataFrame) -> list[str]:
    """Sentences stating what the measured table shows on the embedded data (within-pair accuracy, chance 50 %):
    whether TSN is near chance, whether TSM and TIN are well above it, and how TIN compares with TSM given the
    spread over seeds. Empty without within-pair accuracy (real data)."""
    if "pair_accuracy" not in runs or runs["pair_accuracy"].isna().all():
        return []
    single = runs[runs["frames"] != "8+16"].groupby("model")["pair_accuracy"]
    mean, std, low = single.mean(), single.std(ddof=1).fillna(0.0), single.min()
    lines = []
    if "tsn_r50" in mean:
        near = abs(mean["tsn_r50"] - 50) <= 5
        lines.append(
            f"TSN: {mean['tsn_r50']:.1f} ± {std['tsn_r50']:.1f} % within pairs (chance 50 %): "
            + (
                "near chance, as an order-blind model must be."
                if near
                else "NOT near chance, which an order-blind model should be: check the data."
            )
        )
    for model in ("tsm_r50", "tin_r50"):
        if model in mean:
            well_above = low[model] >= 65
            lines.append(
                f"{model.split('_')[0].upper()}: {mean[model]:.1f} ± {std[model]:.1f} % within pairs "
                f"(lowest run {low[model]:.1f} %): "
                + (
                    "well above chance in every run: it uses frame order."
                    if well_above
                    else "not well above chance in every run (below 65 % at least once)."
                )
            )
    if {"tsm_r50", "tin_r50"} <= set(mean.index):
        gap, spread = mean["tin_r50"] - mean["tsm_r50"], max(std["tin_r50"], std["tsm_r50"])
        lines.append(
            f"TIN - TSM: {gap:+.1f} points, against a spread over seeds of up to {spread:.1f}: "
            + (
                "within the spread, so no difference is shown here."
                if abs(gap) <= spread
                else f"TIN is {'ahead' if gap > 0 else 'behind'} by more than the spread."
            )
        )
    return lines
