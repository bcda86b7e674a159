# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     notebook_metadata_filter: -jupytext.text_representation.jupytext_version,-jupytext.text_representation.format_version
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Multi-Moments in Time: single models
#
# The ICCV 2019 Multi-Moments-in-Time (MMIT) challenge asks for *every* action in a 3-second video (313
# classes, one to several per video), scored by mean average precision. The winning entry fused 2D models
# (TSN, TSM, TIN) and 3D models (slow-only, fast-only 32×2, SlowFast). This chapter trains each of them with
# `paperlib`, scores it on a validation and a held-out test split with one view and with several
# (crops × clips), and saves every model's scores for the {doc}`mmit_ensemble` chapter.
#
# By default the data is the *embedded* MMIT-format set: H.264 videos in `videos/<category>/` with MMIT's
# annotation files, read back through the same decord loader as the real dataset. Each clip shows one to
# three objects doing different actions (bouncing, orbiting, shrinking, ...), so the labels are sets. The
# models are small variants (ResNet-50 layout at width 16, one block per stage) trained for a minute or
# less each; their numbers test the pipeline and the relative behaviour of the models, not MMIT accuracy.

# %% tags=["parameters"]
scale = None  # smoke | embedded | full (default: $PAPERLIB_SCALE, else embedded)
data_root = None  # the prepared real Multi-Moments in Time (scale "full"); None: the embedded dataset
checkpoints = None  # a folder of trained MMIT checkpoints to score instead of training (see the real-datasets chapter)
device = "auto"
seeds = None  # default: [0] (smoke), [0, 1] (embedded), [0] (full)
results_dir = "../results/notebooks"

# %%
from pathlib import Path

import pandas as pd

from paperlib.experiments import check_parameters, default_scale, default_seeds, run_provenance, write_results
from paperlib.experiments.mmit import RECIPES, VIEWS, run_config, run_single_models
from paperlib.experiments.reported import MMIT_SINGLE, XTEMPORAL_ZOO
from paperlib.experiments.results import mean_std
from paperlib.models import create
from paperlib.models import complexity

scale = scale or default_scale()
seeds = seeds or default_seeds(scale)
check_parameters(scale=scale, data_root=data_root, device=device, seeds=seeds, results_dir=results_dir)

# %% [markdown]
# ## Training and scoring
#
# One training run per model and seed (cached), each scored on both splits with both views. The 2D models
# sample frames TSN-style (5 segments for TSN, 8 for TSM and TIN); the 3D models take dense clips (slow-only
# 8×8, fast-only 32×2, SlowFast 4×16 on 32 frames), as in their recipes.

# %%
single = run_single_models(scale, seeds, Path(results_dir).parent, data_root, device, checkpoints=checkpoints)
single.drop(columns=["scores", "run"]).round(2)

# %% [markdown]
# ## Measured on this run
#
# Mean ± standard deviation over seeds. **Class-wise mAP** averages, over classes, the average precision of
# ranking all videos for that class (the usual multi-label metric). **Sample-wise mAP** averages, over
# videos, the average precision of ranking all classes for that video: it is what X-Temporal's code (and so
# its model zoo) calls mAP. The two are different numbers and are never compared with each other.

# %%
measured = mean_std(single, ["model", "split", "view"], ["classwise_mAP", "samplewise_mAP"])
measured.style.set_caption(
    f"MEASURED by paperlib, {scale} scale, data: {'embedded MMIT-format set' if data_root is None else data_root}"
)

# %% [markdown]
# Multi-view testing against one view, on the test split (class-wise mAP, points gained by averaging the
# views):

# %%
test = single[single["split"] == "test"].pivot_table(index=["model", "seed"], columns="view", values="classwise_mAP")
one, multi = VIEWS[scale]
test["multi-view gain"] = test[multi] - test[one]
test.groupby("model", sort=False).mean().round(2)

# %% [markdown]
# ## Reported
#
# X-Temporal's model zoo on the real MMIT validation set (full-size models, 313 classes): the published
# proxy for the winning entry's single models, whose own tables are not reachable. Its "mAP" is sample-wise.

# %%
pd.DataFrame(MMIT_SINGLE).set_index("model").style.set_caption(f"REPORTED (not measured here): {XTEMPORAL_ZOO}")

# %% [markdown]
# ## Cost per view
#
# Parameters and GFLOPs (one multiply-add = one FLOP) of the **full-size** models with MMIT's 313 classes at
# their recipes' input, counted by `paperlib.models.complexity` on the meta device.

# %%
cost_rows = []
for name in RECIPES:
    config = run_config("full", name, 0, "unused", "cpu")
    frames, size = config.model.num_segments, config.data.input_size
    options = {k: v for k, v in config.model.options.items() if k != "dropout"}
    counted = complexity(create(name, 313, frames, **options), (1, 3, frames, size, size))
    cost_rows.append(
        {
            "model": name,
            "input": f"{frames}x{size}²",
            "params (M)": round(counted["params"] / 1e6, 2),
            "GFLOPs": round(counted["gflops"], 2),
        }
    )
pd.DataFrame(cost_rows).set_index("model")

# %% [markdown]
# ## What this run shows
#
# Computed from the tables above. Scores that carry no information get, in expectation, each class's share
# of positive videos as its AP (class-wise) and each video's share of positive classes (sample-wise): that
# is the chance level the measured numbers are compared with.

# %%
import numpy as np

from paperlib.experiments.mmit import chance_map

test_targets = np.load(Path(single[single["split"] == "test"]["scores"].iloc[0]) / "scores.npz")["labels"]
chance = chance_map(test_targets)
print(f"chance on the test split: class-wise {chance['classwise_mAP']:.1f}, sample-wise {chance['samplewise_mAP']:.1f}")
one_view = single[(single["split"] == "test") & (single["view"] == one)].groupby("model", sort=False)["classwise_mAP"]
for model, value in one_view.mean().items():
    margin = value - chance["classwise_mAP"]
    print(
        f"{model}: {value:.1f} class-wise mAP, {margin:+.1f} over chance"
        + (" (barely above chance: undertrained in this budget)" if margin < 5 else "")
    )
best_2d = one_view.mean()[[m for m in one_view.mean().index if m in ("tsn_r50", "tsm_r50", "tin_r50")]].idxmax()
print(
    f"best 2D model on test (1 view): {best_2d}; multi-view testing changes class-wise mAP by "
    f"{test['multi-view gain'].mean():+.2f} points on average over models and seeds."
)

# %%
write_results(
    results_dir,
    "mmit_single",
    {
        "runs": single.to_dict(orient="records"),
        "summary": measured.reset_index().to_dict(orient="records"),
        "cost": cost_rows,
        "chance": chance,
        "provenance": [run_provenance(folder) for folder in single["scores"]],
    },
    {"scale": scale, "seeds": seeds, "data_root": data_root, "device": device},
)
