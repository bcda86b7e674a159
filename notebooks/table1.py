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
# # Table 1: Something-Something v1
#
# **What this chapter shows.** The paper's Table 1 compares TSN (no temporal modelling), TSM (a fixed ±1-frame
# shift) and TIN (learned interlaced shifts) on ResNet-50 at 8 and 16 frames, and their 8F+16F ensembles; the
# paper's abstract also compares TIN with a temporal-convolution network (r-TCN). This chapter trains and
# evaluates the models with `paperlib` (r-TCN, at the `long` scale, is `tconv_r50`: our reading of that baseline,
# a full 3×1×1 convolution where TSM and TIN shift) and shows, in separate tables, what we **measured** and what
# the papers **reported**; it ends with a verdict computed from the runs.
#
# By default the data is the *embedded* Something-v1-format dataset: procedurally generated clips, written
# to disk as `something-something-v1-*.csv` files and JPEG frame folders and read back through the same
# loaders as the real dataset. Its classes come in time-reversal pairs ("moving left to right" vs "right to
# left", ...), so a model that ignores frame order can only guess within a pair. The models are small
# variants of the R50 networks, trained for minutes on a CPU. Its numbers test the *mechanism* (does a model
# use frame order?), not the paper's accuracy. Pass `data_root` (and `scale="full"`) to run the paper
# recipes on the real Something-Something v1.
#
# The protocol is the paper's: every model starts from an ImageNet-trained ResNet and is fine-tuned on the
# videos. The small models cannot start from torchvision's ImageNet ResNet-50 (their layers have other
# shapes), so they start from an *embedded ImageNet* of their own (ours, described below), loaded by the same
# route as torchvision's file (`model.pretrained=PATH`).

# %% tags=["parameters", "hide-cell"]
scale = None  # smoke | embedded | long | full (default: $PAPERLIB_SCALE, else embedded)
profile = None  # the same as scale (either name)
data_root = None  # the prepared real Something-Something v1 (scale "full"); None: the embedded dataset
checkpoints = None  # a folder of Table 1 checkpoints to evaluate instead of training (see the real-datasets chapter)
device = "auto"
seeds = None  # default: [0] (smoke), [0, 1, 2] (embedded), [0, 1, 2, 3, 4] (long), [0] (full)
results_dir = (
    None  # default: the repository's results/<scale>/ (or $PAPERLIB_RESULTS/<scale>)
)
trial = None  # True (scale full): the full route, a few steps per run ($PAPERLIB_TRIAL)

# %% tags=["remove-cell"]

from IPython.display import display

from paperlib.experiments import open_chapter, run_provenance
from paperlib.experiments.pretrain import (
    backbones_used,
    stage_statements,
    stage_table,
    train_folder,
)
from paperlib.experiments.table1 import (
    cost_table,
    data_description,
    measured_with,
    paired_table,
    reported_table,
    run_table1,
    summarize,
    verdict,
)
from paperlib.viz import statements
from paperlib.viz.imagenet import samples_figure

chapter = open_chapter(
    "table1",
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
# ## Training and evaluating
#
# One run per model, frame count and seed (cached: an unchanged rebuild reuses them; training logs go to each
# run's `log.jsonl` and to the terminal, not to this page). In the `smoke`, `embedded` and `long` scales each
# 8-frame run is fine-tuned from the embedded ImageNet backbone with the paper's recipe scaled down
# (`paperlib/configs/embedded_sthv1.yaml` lists each setting, the paper's value and why ours differs): warm-up
# then cosine, the classifier initialised N(0, 0.001) and trained at 5× / 10× the rate, dropout and gradient
# clipping as in the paper; AdamW instead of SGD and every BatchNorm trained instead of partial BN (ours: at
# this size and budget, SGD and partial BN kept the models on the plateau for several times longer, measured).
# The paper starts each frame count from ImageNet; here the budget does not allow it: a 16-frame run costs twice
# an 8-frame run per step, so each 16-frame model starts from the same seed's 8-frame model and is fine-tuned for
# 62 steps (1000 clips) at a constant rate (`train_seconds` is then that fine-tuning alone; ours). An 8-frame
# TIN's OffsetNet cannot be loaded at 16 frames (its T×T layer), so TIN's OffsetNets start afresh, at the same
# +1 frame as the 8-frame runs' (ours, the originals start at +0.5; why: *What this run shows*). The embedded
# build trains TSN, TSM and TIN; r-TCN (`tconv_r50`, 1.5× a TSM run's cost) is trained at the `long` scale only,
# where the claims ledger compares it with TIN. Every number is measured with 1 crop × 1 clip (the
# `paperlib` test protocol, ours: the centre crop of the short side resized to the input size).

# %%
runs = run_table1(
    chapter.scale,
    chapter.seeds,
    chapter.results_dir,
    chapter.data_root,
    chapter.device,
    chapter.checkpoints,
)
statements([data_description(runs)])

# %% [markdown]
# ## The embedded ImageNet stage
#
# TIN, TSM and TSN are never trained from scratch in the originals: deepcs233/TIN builds torchvision's ResNet-50
# with its ImageNet weights, X-Temporal's recipes set `pretrain: True`. Our earlier small runs did start from
# scratch, and whether a run left the plateau where only the backgrounds are learned decided its number more
# than the temporal module did. The embedded ImageNet stands in for ImageNet (ours; it is not ImageNet and its
# numbers say nothing about ImageNet): still images of the embedded videos' world — their textured
# backgrounds, their five object shapes in eight colour ranges (40 classes: `disk red`, `hand violet`, ...),
# smaller distractor objects, occluding bars and noise, one frame and no motion — written in ImageNet's folder
# layout (`train/<class>/*.JPEG`, `val/<class>/*.JPEG`) and read with torchvision's `ImageFolder`. Each small
# backbone layout is trained on it once (`python -m paperlib.experiments.pretrain`; cached with the runs) with
# torchvision's classification recipe scaled down, and written in torchvision's ResNet state-dict layout, so the
# video models load it exactly as a user loads `resnet50-0676ba61.pth`. Its cost is part of this chapter's.

# %% tags=["hide-input"]
# the embedded ImageNet files the runs started from
backbones = backbones_used(runs["run"].dropna())
stage = stage_table(backbones)
statements(
    stage_statements(stage)
    if backbones
    else [
        "No run of this build started from the embedded ImageNet (the full scale starts from torchvision's file)."
    ]
)

# %% tags=["hide-input"]
if backbones:
    display(samples_figure(train_folder(backbones[0])))

# %% [markdown]
# Every run, collapsed:

# %% tags=["hide-output"]
runs.drop(columns=["run"]).round(2)

# %% [markdown]
# ## Measured on this run
#
# Mean ± standard deviation over seeds, on the validation split, 1 crop × 1 clip. `pair_accuracy` is the
# share of validation videos whose class scores above its time-reversed partner: 50 % is what a model blind
# to frame order gets.

# %%
measured = summarize(runs)
measured.style.set_caption(
    f"MEASURED by paperlib, {chapter.scale} scale, {chapter.data_label}; {measured_with(chapter.scale)}"
)

# %% [markdown]
# ## Paired differences
#
# The paper's ordering is TIN > TSM > TSN. The models of one seed are trained on the same data order, so each
# seed gives one paired difference; below, their mean over seeds with a 95 % Student-t interval. An interval
# that excludes 0 decides the ordering on this data; one that includes 0 does not (the claims ledger,
# {doc}`claims`, turns these into verdicts).

# %% tags=["hide-input"]
paired_table(runs).round(2).style.format(precision=2).hide(axis="index").set_caption(
    f"MEASURED by paperlib, {chapter.scale} scale: a - b, paired by seed"
)

# %% [markdown]
# ## Reported in the papers
#
# Real Something-Something v1, ResNet-50, ImageNet pre-training; top-1 on the validation set. These are
# the published numbers, not ours, each with its source and test views. TIN's paper compared against the
# numbers of TSM's *first* arXiv version (the first author says so in deepcs233/TIN issue #3). TSM's revised
# numbers (45.6 / 47.2 / 49.7) are within a few tenths of TIN's (45.8 / 47.0 / 49.6); our reading — not the
# authors' — is that against them TIN's margin mostly vanishes.

# %%
reported_table().style.format(precision=1).set_caption(
    "REPORTED (not measured here); source and test views per row"
)

# %% [markdown]
# ## Cost per view
#
# Parameters and GFLOPs (one multiply-add = one FLOP) of the full-size R50 models with 174 classes,
# counted by `paperlib.models.complexity` on the meta device, beside the published counts.

# %%
cost = cost_table()
cost

# %% tags=["remove-cell"]
chapter.save(
    {
        "runs": runs.drop(columns=["run"]).to_dict(orient="records"),
        "summary": measured.reset_index().to_dict(orient="records"),
        "cost": cost.reset_index().to_dict(orient="records"),
        "data": data_description(runs),
        "provenance": [run_provenance(run) for run in runs["run"].dropna()],
        "paired": paired_table(runs).to_dict(orient="records"),
        "verdict": verdict(runs),
        "imagenet_stage": stage.reset_index().to_dict(orient="records"),
    }
)

# %% [markdown]
# ## What this run shows
#
# The claims this chapter measures are rows `tin_gt_tsm_8f`, `tin_gt_tsm_16f`, `tsm_gt_tsn_8f`, `tsm_gt_tsn_16f`,
# `tin_gt_rtcn_8f` and `ensemble_8f16f` of the {doc}`claims`, with their intervals and verdicts.
#
# On the embedded data the first question is whether the temporal models beat the order-blind TSN within the
# reversal pairs (over the 8- and 16-frame runs of every seed). A temporal model's run counts as off the
# plateau when it orders at least 90 % of the validation videos correctly within their pair (ours); a run
# below is named. Then the paper's ordering, TIN ahead of TSM, seed by seed: whichever way it comes out, the
# sentences below say so. They are computed from the runs above, not written in advance. Where TIN's runs leave
# the plateau late, look at the {doc}`offsets` chapter: it counts, per seed, the TIN layers whose learned offsets
# ended near zero, so that those blocks compute nearly what TSN's do. At the embedded and long scales TIN's
# offsets start at +1 frame instead of the originals' +0.5 (ours): from +0.5, two of four seeds tried stayed on the
# plateau at the embedded scale, from +1 none of six (`embedded_sthv1.yaml` lists every run, TSM's shift and a
# lower rate for TIN's module included). Either way the offsets are learned; only where they start differs.

# %% tags=["hide-input"]
statements(verdict(runs))
