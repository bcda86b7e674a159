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
# **What this chapter shows.** The winning MMIT entry ensembled many 2D and 3D models and reached **67.22 mAP
# on validation and 60.77 on the test set** (reported in the abstract of arXiv 2003.05837). Which models went
# in, with which weights and how they were combined, is not published, and neither is whether that mAP is
# class-wise or sample-wise. This chapter fuses the single models of {doc}`mmit_single` the way such
# ensembles are built, without peeking: the fusion weights are chosen on the **validation** split only
# (greedy ensemble selection with replacement, maximising class-wise mAP; ours), and every row below is
# measured once on the held-out **test** split. It ends with a verdict computed from the fused scores.

# %% tags=["parameters", "hide-cell"]
scale = None  # smoke | embedded | long | full (default: $PAPERLIB_SCALE, else embedded)
profile = None  # the same as scale (either name)
data_root = None  # the prepared real Multi-Moments in Time (scale "full"); None: the embedded dataset
checkpoints = None  # as in mmit_single
device = "auto"
seeds = None  # default: as in mmit_single
results_dir = (
    None  # default: the repository's results/<scale>/ (or $PAPERLIB_RESULTS/<scale>)
)
trial = None  # True (scale full): the full route, a few steps per run ($PAPERLIB_TRIAL)
view = "multi"  # "multi": the multi-view scores; "1 view": single-view scores

# %% tags=["remove-cell"]
from paperlib.experiments import open_chapter
from paperlib.experiments.mmit import (
    REPORTED_ENSEMBLE,
    ensemble,
    ensemble_verdict,
    measured_with,
    run_single_models,
    views,
)
from paperlib.experiments.results import mean_std
from paperlib.viz import statements

chapter = open_chapter(
    "mmit_ensemble",
    scale=scale,
    profile=profile,
    seeds=seeds,
    data_root=data_root,
    checkpoints=checkpoints,
    device=device,
    results_dir=results_dir,
    trial=trial,
    view=view,
)
view = list(views(chapter.scale))[1] if view == "multi" else view
single = run_single_models(
    chapter.scale,
    chapter.seeds,
    chapter.results_dir,
    chapter.data_root,
    chapter.device,
    checkpoints=chapter.checkpoints,
)
table, weights = ensemble(single, view)

# %% [markdown]
# ## Measured on the held-out test split
#
# The single models' saved scores are those of the previous chapter (reused from its cache). Mean ± standard
# deviation over seeds (each seed is a separate set of trained models and a separate ensemble).
# `gain_over_best_single` is in class-wise mAP points against the single model that was best on the
# *validation* split (which model that was, per seed, is in `best_single` below).

# %%
measured = mean_std(
    table, ["method"], ["classwise_mAP", "samplewise_mAP", "gain_over_best_single"]
)
measured.style.set_caption(
    f"MEASURED by paperlib on the test split, {chapter.scale} scale, {view}; {measured_with(chapter.scale)}"
)

# %% [markdown]
# The fusion weights chosen on validation, per seed:

# %%
weights.assign(best_single=table.groupby("seed")["best_single"].first()).round(2)

# %% [markdown]
# ## Reported

# %%
REPORTED_ENSEMBLE

# %% tags=["remove-cell"]
chapter.save(
    {
        "view": view,
        "rows": table.to_dict(orient="records"),
        "weights": weights.reset_index().to_dict(orient="records"),
        "summary": measured.reset_index().to_dict(orient="records"),
        "verdict": ensemble_verdict(table),
    }
)

# %% [markdown]
# ## What this run shows
#
# The claims this chapter measures are rows `fusion_beats_single` of the {doc}`claims`, with their
# intervals and verdicts.
#
# Computed from the table above:

# %% tags=["hide-input"]
statements(ensemble_verdict(table))
