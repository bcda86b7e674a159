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
from contextlib import nullcontext
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from ..configs import recipe_path
from ..engine.config import load_config
from ..engine.metrics import classwise_map, samplewise_map
from ..models import complexity, create
from ..models.zoo import MMIT, XTEMPORAL_ZOO, reported_results
from .cache import evaluate_ahead, evaluate_or_load, planned, run_folder, run_or_load, train_ahead
from .folders import find_first
from .pretrain import prepare_ahead
from .results import protocol_label

# model -> its full recipe (frames, sampling and architecture options come from there)
MODEL_RECIPES = {
    "tsn_r50": "tsn_r50_1x1x5_mmit",
    "tsm_r50": "tsm_r50_1x1x8_mmit",
    "tin_r50": "tin_r50_1x1x8_mmit",
    "slow_r50": "slow_r50_8x8_mmit",
    "fast_r50": "fast_r50_32x2_mmit",
    "slowfast_r50": "slowfast_r50_8x8_mmit",
}
TWO_D = ("tsn_r50", "tsm_r50", "tin_r50")
SPLITS = {"val": "val.txt", "test": "test.txt"}
# (crops, clips) of the single-view and the multi-view test
VIEWS = {
    "smoke": {"1 view": (1, 1), "3 crops x 2 clips": (3, 2)},
    "embedded": {"1 view": (1, 1), "3 crops x 2 clips": (3, 2)},
    "long": {"1 view": (1, 1), "3 crops x 2 clips": (3, 2)},
    "full": {"1 view": (1, 1), "3 crops x 10 clips": (3, 10)},
}


def views(scale: str) -> dict[str, tuple[int, int]]:
    """:data:`VIEWS` of ``scale``; in a trial of the full route, its multi-view test takes :attr:`Trial.clips`
    clips (:mod:`.trial`), named so."""
    from . import trial

    chosen = trial.current()
    if scale != "full" or chosen is None:
        return VIEWS[scale]
    return {"1 view": (1, 1), f"3 crops x {chosen.clips} clip{'s' if chosen.clips > 1 else ''}": (3, chosen.clips)}


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
    "long": ["optim.epochs=12", "eval.every=12"],  # ours: twice the embedded schedule (and 3 seeds)
}
# Small scales: the fast-only model at half the others' width (it sees 4x their frames; SlowFast's own fast
# pathway is 1/8 of the slow one's width), which keeps it within the others' training time. SlowFast keeps the
# PySlowFast 4x16 layout the small runs were calibrated with; the full recipe uses X-Temporal's (xtemporal, 8x8).
# The 3D models start every block's last BN at 1, not 0: with one block per stage each block has a projection
# shortcut, and a zero BN starts each stage as one strided 1x1x1 conv, from which these short runs never left
# chance (slow_r50 seed 0: 21.9 val class-wise mAP with it, 36.5 without; chance 17). Ours.
_SMALL_3D = {"zero_init_residual": False}
SMALL_OPTIONS = {
    "slow_r50": _SMALL_3D,
    "fast_r50": {"width": 8, **_SMALL_3D},
    "slowfast_r50": {"variant": "4x16", **_SMALL_3D},
}
# Recipe options the small runs leave out: regularisation (no dropout at the small scales), the temporal module's
# split (the default) and SlowFast's layout (SMALL_OPTIONS).
SMALL_DROPS = ("dropout", "backbone_dropout", "shift_div", "variant")


def mmit_config(scale: str, model: str, seed: int, data_root: str | None, device: str):
    """The training configuration of one MMIT single model (output_dir still unset)."""
    recipe = recipe_path(MODEL_RECIPES[model])
    overrides = [f"seed={seed}", f"device={device}", f"name={model}_seed{seed}"]
    if data_root is not None:
        overrides.append(f"data.root={data_root}")
    if scale == "full":
        if data_root is None:
            raise ValueError("scale 'full' needs data_root (the prepared Multi-Moments in Time)")
        return load_config(recipe, overrides)
    full = yaml.safe_load(recipe.read_text())
    config = load_config(
        recipe_path("embedded_mmit"),
        [
            f"model.name={model}",
            f"model.num_segments={full['model']['num_segments']}",
            f"data.sampling={full['data']['sampling']}",
            f"data.rate={full['data'].get('rate', 1)}",
            *SMALL[scale],
            *overrides,
        ],
    )
    architecture = {k: v for k, v in full["model"].get("options", {}).items() if k not in SMALL_DROPS}
    config.model.options = {
        **config.model.options,
        **architecture,
        **({"fc_init_std": None} if model in TWO_D else {}),
        **SMALL_OPTIONS.get(model, {}),
    }
    if model in TWO_D and data_root is None:
        # as X-Temporal's net.pretrain: True, from ImageNet: here the embedded ImageNet's backbone of this layout
        # (paperlib.experiments.pretrain; resolved by run_folder). The 3D models start from scratch (ours: the
        # report starts them from Kinetics, which has no embedded stand-in here)
        config.model.pretrained = "imagenet"
    return config


def measured_with(scale: str) -> str:
    """The recipes and test protocol behind the MMIT chapters' measured numbers at ``scale``, for captions."""
    config = mmit_config(scale, "tin_r50", 0, "DATA_ROOT" if scale == "full" else None, "cpu")
    if scale == "full":
        recipe = "<model>_mmit.yaml (X-Temporal's experiments/<model>/default.yaml)"
    else:
        changes = " with " + ", ".join(SMALL[scale]) if SMALL[scale] else ""
        recipe = f"embedded_mmit.yaml{changes}, frames and sampling from <model>_mmit.yaml (ours)"
    return f"recipe {recipe}; {protocol_label(config.eval.protocol)}"


def mmit_checkpoint(checkpoints: str | Path, model: str) -> Path | None:
    """``<checkpoints>/<recipe>/last.pth`` (a recipe's output folder) or ``<checkpoints>/<model>_mmit.pth``."""
    return find_first(checkpoints, [f"{MODEL_RECIPES[model]}/last.pth", f"{model}_mmit.pth"])


def view_configs(scale: str, config) -> dict:
    """``{(split, view): config}``: ``config`` set to score one split with one test view."""
    out = {}
    for split, list_name in SPLITS.items():
        for view, (crops, clips) in views(scale).items():
            scored = copy.deepcopy(config)
            scored.data.val_list, scored.eval.crops, scored.eval.clips = list_name, crops, clips
            scored.name = f"{config.name}_{split}_{crops}x{clips}"
            out[split, view] = scored
    return out


def score_splits(scale: str, config, checkpoint: Path, results_dir: Path, data_root: str | None) -> dict:
    """Score a checkpoint on each split and view: ``{(split, view): evaluation folder}`` (cached)."""
    return {
        key: evaluate_or_load(scored, checkpoint, results_dir, data_root, group="mmit")
        for key, scored in view_configs(scale, config).items()
    }


def run_single_models(
    scale: str,
    seeds: list[int],
    results_dir: str | Path,
    data_root: str | None = None,
    device: str = "auto",
    models: tuple[str, ...] = tuple(MODEL_RECIPES),
    checkpoints: str | Path | None = None,
) -> pd.DataFrame:
    """One row per (model, seed, split, view): class-wise mAP, X-Temporal's sample-wise mAP, the folder of
    the saved scores. With ``checkpoints`` (see :func:`mmit_checkpoint`) the models found there are scored
    instead of trained (seed 0); the others are named and left out."""
    rows = []
    if checkpoints is None and scale != "full":  # the small runs several at a time (see paperlib.experiments.parallel)
        configs = [mmit_config(scale, m, s, data_root, device) for m in models for s in seeds]
        prepare_ahead(configs, results_dir)  # the 2D models' embedded ImageNet beside the videos' generation
        train_ahead(configs, results_dir, data_root, "mmit")
        checkpoints_of = [run_folder(config, results_dir, data_root, "mmit") / "last.pth" for config in configs]
        scored = [
            (view_config, checkpoint)
            for config, checkpoint in zip(configs, checkpoints_of)
            for view_config in view_configs(scale, config).values()
        ]
        evaluate_ahead(scored, results_dir, data_root, "mmit")
    with planned("mmit", len(models) * len(seeds)) if checkpoints is None else nullcontext():
        for model in models:
            for seed in seeds if checkpoints is None else [0]:
                config = mmit_config(scale, model, seed, data_root, device)
                if checkpoints is None:
                    run = run_or_load(config, results_dir, data_root, group="mmit")
                    checkpoint = run / "last.pth"
                else:
                    checkpoint = mmit_checkpoint(checkpoints, model)
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
        members = sorted(runs["model"].unique(), key=list(MODEL_RECIPES).index)
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


# Published MMIT numbers that belong to no checkpoint that loads into paperlib's models (the others are in
# paperlib.models.zoo.PUBLISHED). X-Temporal's ModelZoo.md lists a SlowFast R101 (64 frames, 8x8 layout, 112 px)
# whose architecture paperlib does not build; the winning report gives only the ensemble's numbers.
REPORTED_SLOWFAST_R101 = {
    "model": "SlowFast R101 (X-Temporal)",
    "frames": "64 (8x8)",
    "input": 112,
    "1 crop x 1 clip": 59.9,
    "3 crops x 10 clips": 61.5,
    "source": XTEMPORAL_ZOO,
}
REPORTED_ENSEMBLE = {
    "val mAP": 67.22,
    "test mAP": 60.77,
    "source": "Zhang, Shao et al., MMIT 2019 winning report (arXiv 2003.05837), abstract",
    "note": "the members, their weights and how they were combined are not published; nor is whether the mAP is "
    "class-wise or sample-wise",
}


def reported_single() -> pd.DataFrame:
    """X-Temporal's published MMIT single models (sample-wise mAP, X-Temporal's utils/calculate_map.py) on the
    real validation set, one row per model with its single-view and 3 crops x 10 clips numbers."""
    rows: dict[tuple[str, str], dict] = {}
    for name, r in reported_results(MMIT):
        row = rows.setdefault(
            (r.label or name, r.frames),
            {"model": r.label or name, "frames": r.frames, "input": 224, "source": r.source},
        )
        row[r.views] = r.value
    table = pd.DataFrame([*rows.values(), REPORTED_SLOWFAST_R101])
    return table.set_index(["model", "frames"])[["input", "1 crop x 1 clip", "3 crops x 10 clips", "source"]]


def cost_table(num_classes: int = 313) -> pd.DataFrame:
    """Parameters and GFLOPs per view of the full-size MMIT models at their recipes' input (meta device)."""
    rows = []
    for name in MODEL_RECIPES:
        config = load_config(recipe_path(MODEL_RECIPES[name]), ["model.pretrained=none"])
        frames, size = config.model.num_segments, config.data.input_size
        options = {k: v for k, v in config.model.options.items() if k != "dropout"}
        counted = complexity(create(name, num_classes, frames, **options), (1, 3, frames, size, size))
        rows.append(
            {
                "model": name,
                "input": f"{frames}x{size}²",
                "params (M)": round(counted["params"] / 1e6, 2),
                "GFLOPs": round(counted["gflops"], 2),
            }
        )
    return pd.DataFrame(rows).set_index("model")


def multiview_gain(single: pd.DataFrame, scale: str, split: str = "test") -> pd.DataFrame:
    """Class-wise mAP with one view and with several, and the points gained, per model (mean over seeds)."""
    one, multi = views(scale)
    table = single[single["split"] == split].pivot_table(
        index=["model", "seed"], columns="view", values="classwise_mAP", sort=False
    )
    table["multi-view gain"] = table[multi] - table[one]
    return table.groupby("model", sort=False).mean().round(2)


def chance_on_test(single: pd.DataFrame) -> dict[str, float]:
    """:func:`chance_map` of the test split's labels (read from the first test run's saved scores)."""
    test = single[single["split"] == "test"]
    return chance_map(np.load(Path(test["scores"].iloc[0]) / "scores.npz")["labels"])


def margins_over_chance(single: pd.DataFrame, view: str) -> pd.Series:
    """Class-wise mAP minus chance (:func:`chance_on_test`) per (model, seed), on the test split at ``view``."""
    test = single[(single["split"] == "test") & (single["view"] == view)]
    return test.set_index(["model", "seed"])["classwise_mAP"] - chance_on_test(single)["classwise_mAP"]


def single_verdict(single: pd.DataFrame, scale: str, margin: float = 5.0) -> list[str]:
    """Sentences on the test split: each model's class-wise mAP against chance (:func:`chance_map`), the lowest
    seed included, and whether multi-view testing helped every model."""
    test = single[single["split"] == "test"]
    chance = chance_on_test(single)
    lines = [
        f"Chance on the test split: class-wise {chance['classwise_mAP']:.1f}, "
        f"sample-wise {chance['samplewise_mAP']:.1f} mAP."
    ]
    one = list(views(scale))[0]
    for model, runs in test[test["view"] == one].groupby("model", sort=False)["classwise_mAP"]:
        lowest = runs.min() - chance["classwise_mAP"]
        lines.append(
            f"{model}: {runs.mean():.1f} class-wise mAP ({runs.mean() - chance['classwise_mAP']:+.1f} over "
            f"chance; lowest seed {lowest:+.1f})"
            + ("." if lowest >= margin else f": not {margin:.0f} points above chance in every seed.")
        )
    gains = multiview_gain(single, scale)["multi-view gain"]
    lines.append(
        f"Multi-view testing {'helped every model' if (gains > 0).all() else 'did not help every model'} "
        f"(gain {gains.min():+.2f} to {gains.max():+.2f} class-wise mAP points)."
    )
    return lines


def ensemble_verdict(table: pd.DataFrame) -> list[str]:
    """Sentences on the fused models against the best single model (chosen on validation), on test."""
    tuned = table[table["method"] == "tuned fusion (weights from val)"]["gain_over_best_single"]
    uniform = table[table["method"] == "uniform average"]["gain_over_best_single"]
    spread = tuned.std(ddof=1) if len(tuned) > 1 else 0.0
    return [
        f"Tuned fusion vs the best single model (chosen on val), on test: {tuned.mean():+.2f} ± {spread:.2f} "
        f"class-wise mAP points over {len(tuned)} seed(s); "
        f"{'a gain in every seed' if (tuned > 0).all() else 'not a gain in every seed'}.",
        f"Uniform average vs the best single model: {uniform.mean():+.2f} points.",
    ]
