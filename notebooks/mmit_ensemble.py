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
# # Multi-Moments in Time: the ensemble
#
# The winning MMIT entry averaged the scores of many 2D and 3D models and reached **67.22 mAP on
# validation and 60.77 on the test set** (reported in the abstract of arXiv 2003.05837). Which models went in,
# and with which weights, is not published. This chapter fuses the single models of {doc}`mmit_single` the
# way such ensembles are built, without peeking: the fusion weights are chosen on the **validation** split
# only (greedy ensemble selection with replacement, maximising class-wise mAP), and every row below is
# measured once on the held-out **test** split.

# %% tags=["parameters"]
scale = None  # smoke | embedded | full (default: $PAPERLIB_SCALE, else embedded)
data_root = None  # the prepared real Multi-Moments in Time (scale "full"); None: the embedded dataset
checkpoints = None  # as in mmit_single
device = "auto"
seeds = None  # default: as in mmit_single
results_dir = "../results/notebooks"
view = "multi"  # "multi": the multi-view scores; "1 view": single-view scores

# %%
from pathlib import Path

import pandas as pd

from paperlib.experiments import check_parameters, default_scale, default_seeds, write_results
from paperlib.experiments.mmit import VIEWS, ensemble, run_single_models
from paperlib.experiments.reported import MMIT_ENSEMBLE
from paperlib.experiments.results import mean_std

scale = scale or default_scale()
seeds = seeds or default_seeds(scale)
check_parameters(scale=scale, data_root=data_root, device=device, seeds=seeds, results_dir=results_dir)
view = list(VIEWS[scale])[1] if view == "multi" else view

# %% [markdown]
# The single models' saved scores (the runs of the previous chapter, reused from its cache):

# %%
single = run_single_models(scale, seeds, Path(results_dir).parent, data_root, device, checkpoints=checkpoints)
table, weights = ensemble(single, view)
print(f"view: {view}; {single['seed'].nunique()} seed(s); members: {', '.join(weights.columns)}")

# %% [markdown]
# ## Measured on the held-out test split
#
# Mean ± standard deviation over seeds (each seed is a separate set of trained models and a separate
# ensemble). `gain_over_best_single` is in class-wise mAP points against the single model that was best on
# the *validation* split (which model that was, per seed, is in `best_single` below).

# %%
measured = mean_std(table, ["method"], ["classwise_mAP", "samplewise_mAP", "gain_over_best_single"])
measured.style.set_caption(f"MEASURED by paperlib on the test split, {scale} scale, {view}")

# %% [markdown]
# The fusion weights chosen on validation, per seed:

# %%
weights.assign(best_single=table.groupby("seed")["best_single"].first()).round(2)

# %% [markdown]
# ## Reported

# %%
pd.DataFrame([MMIT_ENSEMBLE]).style.set_caption("REPORTED (not measured here)")

# %% [markdown]
# ## What this run shows
#
# Computed from the table above:

# %%
tuned = table[table["method"] == "tuned fusion (weights from val)"]["gain_over_best_single"]
uniform = table[table["method"] == "uniform average"]["gain_over_best_single"]
print(
    f"Tuned fusion vs the best single model (chosen on val), on test: {tuned.mean():+.2f} ± "
    f"{tuned.std(ddof=1) if len(tuned) > 1 else 0:.2f} class-wise mAP points over {len(tuned)} seed(s); "
    f"{'a gain in every seed' if (tuned > 0).all() else 'not a gain in every seed'}."
)
print(f"Uniform average vs the best single model: {uniform.mean():+.2f} points.")

# %%
write_results(
    results_dir,
    "mmit_ensemble",
    {
        "view": view,
        "rows": table.to_dict(orient="records"),
        "weights": weights.reset_index().to_dict(orient="records"),
        "summary": measured.reset_index().to_dict(orient="records"),
    },
    {"scale": scale, "seeds": seeds, "data_root": data_root, "device": device, "view": view},
)
