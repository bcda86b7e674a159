"""Multi-Moments in Time: single models (2D and 3D) and their score-level ensemble.

Each (model, seed) is one training run (cached like Table 1's, under ``<results_dir>/mmit/``), then scored on
the validation and the held-out test split with one view and with several (crops x clips). The ensemble
chooses its fusion weights on the validation scores only and is evaluated once on the test scores.
Scales: ``smoke``/``embedded`` train small variants on the embedded MMIT-format videos
(``paperlib/configs/embedded_mmit.yaml``, frames and sampling from each model's full recipe); ``full`` uses
the recipes (``paperlib/configs/<recipe>.yaml``) on the real data at ``data_root``.
"""

from __future__ import annotations

import copy
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from ..engine.config import load_config
from ..engine.metrics import classwise_map, samplewise_map
from .cache import find_first
from .table1 import CONFIGS, evaluate_or_load, run_or_load

# model -> its full recipe (frames, sampling and architecture options come from there)
RECIPES = {
    "tsn_r50": "tsn_r50_1x1x5_mmit",
    "tsm_r50": "tsm_r50_1x1x8_mmit",
    "tin_r50": "tin_r50_1x1x8_mmit",
    "slow_r50": "slow_r50_8x8_mmit",
    "fast_r50": "fast_r50_32x2_mmit",
    "slowfast_r50": "slowfast_r50_4x16_mmit",
}
TWO_D = ("tsn_r50", "tsm_r50", "tin_r50")
SPLITS = {"val": "val.txt", "test": "test.txt"}
# (crops, clips) of the single-view and the multi-view test
VIEWS = {
    "smoke": {"1 view": (1, 1), "3 crops x 2 clips": (3, 2)},
    "embedded": {"1 view": (1, 1), "3 crops x 2 clips": (3, 2)},
    "full": {"1 view": (1, 1), "3 crops x 10 clips": (3, 10)},
}
# overrides of embedded_mmit.yaml per small scale (the smoke set has 12 training videos)
SMALL = {
    "smoke": [
        "data.embedded_scale=smoke",
        "optim.epochs=1",
        "eval.every=1",
        "optim.batch_size=4",
        "optim.reference_batch=4",
        "eval.batch_size=4",
    ],
    "embedded": [],
}
# Small scales: the fast-only model at half the others' width (it sees 4x their frames; SlowFast's own fast
# pathway is 1/8 of the slow one's width), which keeps it within the others' training time.
SMALL_OPTIONS = {"fast_r50": {"width": 8}}


def run_config(scale: str, model: str, seed: int, data_root: str | None, device: str):
    """The training configuration of one MMIT single model (output_dir still unset)."""
    recipe = CONFIGS / f"{RECIPES[model]}.yaml"
    overrides = [f"seed={seed}", f"device={device}", f"name={model}_seed{seed}"]
    if data_root is not None:
        overrides.append(f"data.root={data_root}")
    if scale == "full":
        if data_root is None:
            raise ValueError("scale 'full' needs data_root (the prepared Multi-Moments in Time)")
        return load_config(recipe, overrides)
    full = yaml.safe_load(recipe.read_text())
    config = load_config(
        CONFIGS / "embedded_mmit.yaml",
        [
            f"model.name={model}",
            f"model.num_segments={full['model']['num_segments']}",
            f"data.sampling={full['data']['sampling']}",
            f"data.rate={full['data'].get('rate', 1)}",
            *SMALL[scale],
            *overrides,
        ],
    )
    architecture = {k: v for k, v in full["model"].get("options", {}).items() if k not in ("dropout", "shift_div")}
    config.model.options = {
        **config.model.options,
        **architecture,
        **({"fc_init_std": None} if model in TWO_D else {}),
        **SMALL_OPTIONS.get(model, {}),
    }
    return config


def find_checkpoint(checkpoints: str | Path, model: str) -> Path | None:
    """``<checkpoints>/<recipe>/last.pth`` (a recipe's output folder) or ``<checkpoints>/<model>_mmit.pth``."""
    return find_first(checkpoints, [f"{RECIPES[model]}/last.pth", f"{model}_mmit.pth"])


def score_splits(scale: str, config, checkpoint: Path, results_dir: Path, data_root: str | None) -> dict:
    """Score a checkpoint on each split and view: ``{(split, view): evaluation folder}`` (cached)."""
    out = {}
    for split, list_name in SPLITS.items():
        for view, (crops, clips) in VIEWS[scale].items():
            scored = copy.deepcopy(config)
            scored.data.val_list, scored.eval.crops, scored.eval.clips = list_name, crops, clips
            scored.name = f"{config.name}_{split}_{crops}x{clips}"
            out[split, view] = evaluate_or_load(scored, checkpoint, results_dir, data_root, group="mmit")
    return out


def run_single_models(
    scale: str,
    seeds: list[int],
    results_dir: str | Path,
    data_root: str | None = None,
    device: str = "auto",
    models: tuple[str, ...] = tuple(RECIPES),
    checkpoints: str | Path | None = None,
) -> pd.DataFrame:
    """One row per (model, seed, split, view): class-wise mAP, X-Temporal's sample-wise mAP, the folder of
    the saved scores. With ``checkpoints`` (see :func:`find_checkpoint`) the models found there are scored
    instead of trained (seed 0); the others are named and left out."""
    rows = []
    for model in models:
        for seed in seeds if checkpoints is None else [0]:
            config = run_config(scale, model, seed, data_root, device)
            if checkpoints is None:
                run = run_or_load(config, results_dir, data_root, group="mmit")
                checkpoint = run / "last.pth"
            else:
                checkpoint = find_checkpoint(checkpoints, model)
                if checkpoint is None:
                    print(f"mmit: no checkpoint for {model} in {checkpoints}: left out")
                    continue
                run = checkpoint.parent
            for (split, view), folder in score_splits(
                scale, config, checkpoint, Path(results_dir), data_root
            ).items():
                saved = np.load(folder / "scores.npz")
                rows.append(
                    {
                        "model": model,
                        "seed": seed,
                        "split": split,
                        "view": view,
                        "classwise_mAP": classwise_map(saved["scores"], saved["labels"]),
                        "samplewise_mAP": samplewise_map(saved["scores"], saved["labels"]),
                        "videos": len(saved["labels"]),
                        "scores": str(folder),
                        "run": str(run),
                    }
                )
    if not rows:
        raise FileNotFoundError(f"checkpoints: no MMIT checkpoint found in {checkpoints}")
    return pd.DataFrame(rows)


def _scores(folder: str | Path) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    saved = np.load(Path(folder) / "scores.npz")
    return saved["ids"], saved["labels"], saved["scores"]


def greedy_weights(scores: list[np.ndarray], targets: np.ndarray, rounds: int = 20) -> np.ndarray:
    """Fusion weights by greedy ensemble selection with replacement (Caruana et al., 2004): ``rounds`` times,
    add the member whose inclusion most raises the class-wise mAP of the running average; the weights are how
    often each member was picked. Ties go to the member that is best on its own, then to the first."""
    alone = [classwise_map(s, targets) for s in scores]
    counts, total = np.zeros(len(scores)), np.zeros_like(scores[0], dtype=np.float64)
    for step in range(1, rounds + 1):
        gains = [classwise_map((total + s) / step, targets) for s in scores]
        best = max(range(len(scores)), key=lambda i: (gains[i], alone[i], -i))
        counts[best] += 1
        total += scores[best]
    return counts / counts.sum()


def fuse(scores: list[np.ndarray], weights: np.ndarray) -> np.ndarray:
    """Weighted average of per-model probabilities ``[N, K]``."""
    return sum(w * s for w, s in zip(weights, scores))


def ensemble(single: pd.DataFrame, view: str, rounds: int = 20) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Per seed, fuse the single models' scores of ``view``: weights chosen on the validation split only,
    every row evaluated on the held-out test split. Returns (rows per seed and method, fusion weights)."""
    rows, weights_rows = [], []
    for seed, runs in single[single["view"] == view].groupby("seed"):
        members = sorted(runs["model"].unique(), key=list(RECIPES).index)
        split = {
            s: {m: _scores(runs[(runs["model"] == m) & (runs["split"] == s)]["scores"].iloc[0]) for m in members}
            for s in SPLITS
        }
        for s, by_model in split.items():
            ids = [tuple(v[0]) for v in by_model.values()]
            if any(i != ids[0] for i in ids):
                raise ValueError(f"seed {seed}, {s} split: the models scored different videos (a video was skipped?)")
        (val_targets, test_targets) = (next(iter(split[s].values()))[1] for s in SPLITS)
        val = [split["val"][m][2] for m in members]
        test = [split["test"][m][2] for m in members]
        val_map = [classwise_map(v, val_targets) for v in val]
        best = int(np.argmax(val_map))  # the best single model, chosen on validation
        tuned = greedy_weights(val, val_targets, rounds)
        candidates = {
            **{m: test[i] for i, m in enumerate(members)},
            "best single (chosen on val)": test[best],
            "uniform average": fuse(test, np.full(len(members), 1 / len(members))),
            "tuned fusion (weights from val)": fuse(test, tuned),
        }
        for method, scores in candidates.items():
            rows.append(
                {
                    "seed": seed,
                    "method": method,
                    "classwise_mAP": classwise_map(scores, test_targets),
                    "samplewise_mAP": samplewise_map(scores, test_targets),
                    "best_single": members[best],
                }
            )
        weights_rows.append({"seed": seed, **dict(zip(members, tuned))})
    table = pd.DataFrame(rows)
    best_rows = table[table["method"] == "best single (chosen on val)"].set_index("seed")["classwise_mAP"]
    table["gain_over_best_single"] = table["classwise_mAP"] - table["seed"].map(best_rows)
    return table, pd.DataFrame(weights_rows).set_index("seed")


def chance_map(targets: np.ndarray) -> dict[str, float]:
    """What scores carrying no information get, in expectation: class-wise, each class's AP is its share of
    positive videos; sample-wise, each video's AP is its share of positive classes (both in %)."""
    targets = np.asarray(targets, dtype=np.float64)
    present = targets.sum(axis=0) > 0
    labelled = targets.sum(axis=1) > 0
    return {
        "classwise_mAP": float(100 * targets[:, present].mean(axis=0).mean()),
        "samplewise_mAP": float(100 * targets[labelled].mean(axis=1).mean()),
    }
