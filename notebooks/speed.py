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
# # Speed: the shift op and the models
#
# TIN's selling point is cost: temporal modelling for about the price of a 2D network. This chapter shows
# two things. First, how close `paperlib`'s interlace shift comes to the memory roofline, from the benchmark
# results committed under `benchmarks/results/` (each file names its device). Second, what the models cost:
# parameters, GFLOPs and latency of TSN, TSM, TIN, a temporal-convolution baseline, I3D, SlowFast and
# R(2+1)D at their papers' input sizes, **measured side by side in one run on this machine** while the book
# is built.

# %% tags=["parameters", "hide-cell"]
scale = None  # smoke | embedded | full (default: $PAPERLIB_SCALE, else embedded)
profile = None  # the same as scale (either name)
device = "auto"  # where the models are timed: auto | cpu | cuda
rounds = (
    None  # timed rounds of the model benchmark (default: 1 smoke, 3 embedded, 5 full)
)
train_step = None  # also time a training step (default: only in the full scale)
results_dir = (
    None  # default: the repository's results/<scale>/ (or $PAPERLIB_RESULTS/<scale>)
)
trial = None  # True (scale full): the full route, a few steps per run ($PAPERLIB_TRIAL)

# %% tags=["remove-cell"]
from IPython.display import display

from paperlib.bench import models as model_bench
from paperlib.bench.calibrate import for_build as calibration_for_build
from paperlib.bench.calibrate import statements as calibration_statements
from paperlib.experiments import open_chapter
from paperlib.experiments.speed import (
    caption,
    committed_shift_results,
    cost_table,
    layer_table,
    measure_models,
    ratio_table,
    resolve_device,
    shift_notes,
    verdict,
)
from paperlib.viz import statements
from paperlib.viz.speed import cost_figure, roofline_figure

chapter = open_chapter(
    "speed",
    scale=scale,
    profile=profile,
    device=device,
    results_dir=results_dir,
    trial=trial,
    rounds=rounds,
    train_step=train_step,
)
device = resolve_device(chapter.device)

# %% [markdown]
# ## The shift op against the roofline
#
# The interlace shift reads its input once and writes its output once (plus the tiny offsets and weights),
# so it can go no faster than copying the tensor. Each benchmark times every backend **and** a `copy_` of the
# same tensor in the same run; "of copy" is the backend's bandwidth as a fraction of that copy (1.0 = at the
# roofline). `cpp[out]`/`cuda[out]` write into preallocated buffers (the kernel alone); `cpp`/`cuda` are the
# op as autograd runs it, allocating its output. Where a file has both layouts, `channels_last` rows are the
# frames of a `channels_last` model (`(N, T, H, W, C)` in memory), which the kernels read and write as they
# are; the figure shows the channels-first rows.

# %% tags=["hide-input"]
shift = committed_shift_results()
display(statements(shift_notes(shift)))
layer_table(shift, layer="layer1", dtype="float32")

# %% tags=["hide-input"]
roofline_figure(shift)

# %% [markdown]
# ## What the models cost, measured here
#
# Inference on one video per call, random input, at each paper's input: TSN/TSM/TIN and the temporal-
# convolution baseline on 8 frames of 224², I3D on 8×224², SlowFast 4×16 on 32×224², R(2+1)D-18 on
# 16×112². The **temporal-convolution baseline** (`tconv_r50`) is our reading of the temporal-convolution
# network the TIN paper compares with: TSN-R50 with a full 3×1×1 convolution over time (all channels to all
# channels, identity-initialised) where TSM and TIN put their shifts. The models run in interleaved rounds
# (each once per round) and the median is shown, so machine load affects all alike.

# %%
records = measure_models(device, chapter.scale, rounds=rounds, train_step=train_step)
cost_table(records).style.format(precision=3).set_caption(
    caption(device, chapter.scale)
)

# %%
ratio_table(records)

# %% tags=["hide-input"]
cost_figure(cost_table(records), device)

# %% [markdown]
# ## This machine's calibration figure
#
# How fast a machine is decides how long a build takes, so a build's time says little on its own. Every build
# therefore first times one fixed reference workload (`python -m paperlib.bench calibrate`) and keeps its own
# time as a multiple of it:

# %% tags=["hide-input"]
calibration = calibration_for_build(chapter.results_dir)
statements(calibration_statements(calibration))

# %% tags=["remove-cell"]
ratios = model_bench.ratios(records)
chapter.save(
    {
        "device": device,
        "models": records,
        "ratios": ratios,
        "shift_files": sorted(set(shift["file"])),
        "calibration": calibration,
    }
)

# %% [markdown]
# ## What this run shows
#
# The claims this chapter measures are rows `tin_flops_tsm` and `tin_latency_tsm` of the {doc}`claims`, with their
# intervals and verdicts.
#
# The statements are generated from the measurements above:

# %% tags=["hide-input"]
statements(verdict(ratios, device))
