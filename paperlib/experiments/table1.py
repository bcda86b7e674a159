"""Table 1 (Something-Something v1): TSN, TSM and TIN at 8 and 16 frames, and the 8F+16F ensembles.

Each (model, frames, seed) is one training run of :func:`paperlib.engine.trainer.train`, cached by a hash of
its inputs under ``<results_dir>/table1/``. Profiles: ``smoke`` and ``embedded`` train small variants on the
embedded Something-v1-format data (``reproduce/configs/{smoke,embedded_sthv1}.yaml``); ``full`` uses the
paper recipes (``reproduce/configs/<model>_1x1x<T>_40e_sthv1.yaml``) on the real data at ``data_root``, or
evaluates given checkpoints.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from ..engine.config import config_to_dict, load_config
from ..engine.metrics import topk_accuracy
from .cache import file_digest, input_key

CONFIGS = Path(__file__).resolve().parents[2] / "reproduce" / "configs"
MODELS = ("tsn_r50", "tsm_r50", "tin_r50")
FRAMES = (8, 16)
PROFILE_CONFIG = {"smoke": "smoke.yaml", "embedded": "embedded_sthv1.yaml"}


def run_config(profile: str, model: str, frames: int, seed: int, data_root: str | None, device: str):
    """The configuration of one Table 1 run (output_dir still unset)."""
    if profile == "full":
        if data_root is None:
            raise ValueError("profile 'full' needs data_root (the prepared Something-Something v1)")
        path, overrides = CONFIGS / f"{model}_1x1x{frames}_40e_sthv1.yaml", [f"data.root={data_root}"]
    else:
        path, overrides = CONFIGS / PROFILE_CONFIG[profile], []
        if data_root is not None:
            overrides.append(f"data.root={data_root}")
    return load_config(path, [*overrides, f"model.name={model}", f"model.num_segments={frames}", f"seed={seed}",
                              f"device={device}", f"name={model}_{frames}f_seed{seed}"])  # fmt: skip


def run_or_load(config, results_dir: str | Path, data_root: str | None) -> Path:
    """Train once per distinct input; returns the run folder (``metrics.json``, ``scores.npz``, ``last.pth``)."""
    from ..engine.trainer import train

    inputs = config_to_dict(config)
    if data_root is not None:  # the data's identity: its list files
        root = Path(data_root)
        inputs["lists"] = file_digest(root / config.data.train_list, root / config.data.val_list)
    out = Path(results_dir) / "table1" / f"{config.name}-{input_key(**inputs)}"
    if not _finished(out, config.optim.epochs):
        config.output_dir = str(out)
        train(config, resume=True)  # a run interrupted earlier continues from its last epoch
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


def run_table1(profile: str, seeds: list[int], results_dir: str | Path, data_root: str | None = None,
               device: str = "auto") -> pd.DataFrame:  # fmt: skip
    """One row per (model, frames in {8, 16, 8+16}, seed): top-1, top-5 and, on the embedded data (whose
    classes are time-reversal pairs), within-pair accuracy, all measured on the validation split."""
    rows = []
    partner = None
    for model in MODELS:
        for seed in seeds:
            scored = {}
            for frames in FRAMES:
                out = run_or_load(run_config(profile, model, frames, seed, data_root, device), results_dir, data_root)
                if not rows and data_root is None:
                    root = Path(json.loads((out / "metrics.json").read_text())["data"]["root"])
                    partner = reversal_partners((root / "category.txt").read_text().splitlines())
                saved = np.load(out / "scores.npz")
                scored[str(frames)] = saved["scores"], saved["labels"]
                seconds = sum(r["seconds"] for r in map(json.loads, (out / "log.jsonl").read_text().splitlines())
                              if r.get("event") == "epoch")  # fmt: skip
                rows.append(_row(model, str(frames), seed, saved["scores"], saved["labels"], partner, seconds, out))
            (s8, labels), (s16, _) = scored["8"], scored["16"]
            rows.append(_row(model, "8+16", seed, (s8 + s16) / 2, labels, partner, None, None))
    return pd.DataFrame(rows)


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
    metrics = [c for c in ("top1", "top5", "pair_accuracy") if c in runs]
    grouped = runs.groupby(["model", "frames"], sort=False)[metrics]
    mean, std = grouped.mean(), grouped.std(ddof=1).fillna(0.0)
    out = pd.DataFrame(index=mean.index)
    for c in metrics:
        out[c] = [f"{m:.1f} ± {s:.1f}" for m, s in zip(mean[c], std[c])]
    out["seeds"] = grouped.size()
    return out
