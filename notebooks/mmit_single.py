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
# **What this chapter shows.** The ICCV 2019 Multi-Moments-in-Time (MMIT) challenge asks for *every* action in
# a 3-second video (313 classes, one to several per video), scored by mean average precision. The winning
# entry combined 2D models (TSN, TSM, TIN) and 3D models (slow-only, fast-only 32×2, SlowFast). This chapter
# trains each of them with `paperlib`, scores it on a validation and a held-out test split with one view and
# with several (crops × clips), saves every model's scores for the {doc}`mmit_ensemble` chapter, and ends
# with a verdict computed from the scores.
#
# By default the data is the *embedded* MMIT-format set: H.264 videos in `videos/<category>/` with MMIT's
# annotation files, read back through the same decord loader as the real dataset. Each clip shows one to
# three objects doing different actions (bouncing, orbiting, shrinking, ...), so the labels are sets. The
# models are small variants (ResNet-50 layout at width 16, one block per stage) trained for a minute or
# less each; their numbers test the pipeline and the relative behaviour of the models, not MMIT accuracy.
# The fast-only model sees four times the frames of the others and is built at half their width (8) to train in
# the same time, so "the fast pathway is the best 3D model" is compared here at unequal capacity (ours).

# %% tags=["parameters", "hide-cell"]
scale = None  # smoke | embedded | long | full (default: $PAPERLIB_SCALE, else embedded)
profile = None  # the same as scale (either name)
data_root = None  # the prepared real Multi-Moments in Time (scale "full"); None: the embedded dataset
checkpoints = None  # a folder of trained MMIT checkpoints to score instead of training (see the real-datasets chapter)
device = "auto"
seeds = None  # default: [0] (smoke), [0, 1] (embedded), [0, 1, 2] (long), [0] (full)
results_dir = (
    None  # default: the repository's results/<scale>/ (or $PAPERLIB_RESULTS/<scale>)
)
trial = None  # True (scale full): the full route, a few steps per run ($PAPERLIB_TRIAL)

# %% tags=["remove-cell"]
from paperlib.experiments import open_chapter, run_provenance
from paperlib.experiments.mmit import (
    cost_table,
    measured_with,
    multiview_gain,
    reported_single,
    run_single_models,
    single_verdict,
)
from paperlib.experiments.results import mean_std
from paperlib.viz import statements

chapter = open_chapter(
    "mmit_single",
    scale=scale,
    profile=profile,
    seeds=seeds,
    data_root=data_root,
    checkpoints=checkpoints,
    device=device,
    results_dir=results_dir,
    trial=trial,
)

# %% [markdown]
# ## Training and scoring
#
# One training run per model and seed (cached; training logs go to each run's folder and to the terminal),
# each scored on both splits with both views. The 2D models sample frames TSN-style (5 segments for TSN, 8 for
# TSM and TIN); the 3D models take dense clips (slow-only 8×8, fast-only 32×2, SlowFast on 32 frames), as in
# their recipes. The views follow the `paperlib` test protocol (ours): crops of the short side at the input
# size, clips at fixed positions, views averaged after a sigmoid. The 2D models start from the embedded
# ImageNet's backbone of their layout (the one the {doc}`table1` chapter describes), as X-Temporal's recipes
# start them from ImageNet (`pretrain: True`). The 3D models start from scratch (ours): the winning report
# starts its 3D models from Kinetics, and there is no embedded Kinetics here.

# %%
single = run_single_models(
    chapter.scale,
    chapter.seeds,
    chapter.results_dir,
    chapter.data_root,
    chapter.device,
    checkpoints=chapter.checkpoints,
)

# %% [markdown]
# Every (model, seed, split, view), collapsed:

# %% tags=["hide-output"]
single.drop(columns=["scores", "run"]).round(2)

# %% [markdown]
# ## Measured on this run
#
# Mean ± standard deviation over seeds. **Class-wise mAP** averages, over classes, the average precision of
# ranking all videos for that class (the usual multi-label metric). **Sample-wise mAP** averages, over
# videos, the average precision of ranking all classes for that video: it is what X-Temporal's code (and so
# its model zoo) calls mAP. The two are different numbers and are never compared with each other.

# %%
measured = mean_std(
    single, ["model", "split", "view"], ["classwise_mAP", "samplewise_mAP"]
)
measured.style.set_caption(
    f"MEASURED by paperlib, {chapter.scale} scale, {chapter.data_label}; {measured_with(chapter.scale)}"
)

# %% [markdown]
# Multi-view testing against one view, on the test split (class-wise mAP, points gained by averaging the
# views):

# %%
multiview_gain(single, chapter.scale)

# %% [markdown]
# ## Reported
#
# X-Temporal's model zoo on the real MMIT validation set (full-size models, 313 classes, ImageNet or
# Kinetics pre-training): the published proxy for the winning entry's single models, whose own tables are
# not published. Its "mAP" is sample-wise, and its multi-view column uses X-Temporal's own test protocol (3
# crops × 10 clips), not the views measured above: the two tables are not comparable number for number.

# %%
reported_single().style.format(precision=1).set_caption(
    "REPORTED (not measured here): X-Temporal ModelZoo.md, sample-wise mAP"
)

# %% [markdown]
# ## Cost per view
#
# Parameters and GFLOPs (one multiply-add = one FLOP) of the **full-size** models with MMIT's 313 classes at
# their recipes' input, counted by `paperlib.models.complexity` on the meta device.

# %%
cost = cost_table()
cost

# %% tags=["remove-cell"]
chapter.save(
    {
        "runs": single.to_dict(orient="records"),
        "summary": measured.reset_index().to_dict(orient="records"),
        "cost": cost.reset_index().to_dict(orient="records"),
        "provenance": [run_provenance(folder) for folder in single["scores"]],
        "verdict": single_verdict(single, chapter.scale),
    }
)

# %% [markdown]
# ## What this run shows
#
# The claims this chapter measures are rows `fast_best_3d` and `multiview_helps` of the {doc}`claims`, with their
# intervals and verdicts.
#
# Computed from the tables above. Scores that carry no information get, in expectation, each class's share
# of positive videos as its AP (class-wise) and each video's share of positive classes (sample-wise): that
# is the chance level the measured numbers are compared with.

# %% tags=["hide-input"]
statements(single_verdict(single, chapter.scale))
