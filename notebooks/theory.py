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
# # The interlace shift is a constrained temporal convolution
#
# The paper presents TIN's shift as a cheap stand-in for temporal convolution. This chapter makes the
# statement exact and checks it numerically. For one video and one channel group with offset $b$
# ($k=\lfloor b\rfloor$, $f=b-k$) and per-frame weights $w_t$,
#
# $$ y_t \;=\; w_t\big((1-f)\,x_{t-k} + f\,x_{t-k-1}\big) \;=\; w_t \sum_{d} \kappa_d\, x_{t-d}, $$
#
# $$ \kappa_k = 1-f,\quad \kappa_{k+1} = f,\quad \text{all other } \kappa_d = 0, $$
#
# a depthwise temporal convolution (zero padding) whose kernel has two adjacent non-zero taps that sum to
# one, followed by a per-frame scale. A free depthwise kernel reaching $\pm D$ frames has $2D+1$ weights per
# channel; the interlace shift spends one offset per channel *group*, shared by all its channels. TSM is the
# special case $b=\pm 1$, $w_t=1$: a single tap of 1 at lag $\pm 1$.
#
# **What this chapter shows**: the kernels as a function of the offset, that the op and an explicit
# depthwise `conv1d` agree in values and all gradients (measured when the book is built), that TIN's module
# with $b=(-1,-1)$ reproduces the repository's TSM layer bit for bit, and what the constraint saves.

# %% tags=["parameters", "hide-cell"]
scale = None  # smoke | embedded | full (default: $PAPERLIB_SCALE, else embedded); the same at every scale
profile = None  # the same as scale (either name)
seeds = [0, 1, 2]  # random draws of inputs, offsets and weights to check
results_dir = (
    None  # default: the repository's results/<scale>/ (or $PAPERLIB_RESULTS/<scale>)
)
trial = None  # True (scale full): the full route, a few steps per run ($PAPERLIB_TRIAL)

# %% tags=["remove-cell"]
from paperlib.experiments import open_chapter
from paperlib.experiments.theory import (
    KERNEL_OFFSETS,
    constraint_cost_table,
    equivalence_table,
    tsm_special_case,
    verdict,
)
from paperlib.viz import statements
from paperlib.viz.kernels import interlace_kernel_figure

chapter = open_chapter(
    "theory",
    scale=scale,
    profile=profile,
    seeds=seeds,
    results_dir=results_dir,
    trial=trial,
)

# %% [markdown]
# ## The kernel as a function of the offset
#
# Each row is the temporal kernel $\kappa_d$ for one offset: the two taps slide along the lag axis and trade
# weight linearly as $b$ moves between integers.

# %% tags=["hide-input"]
interlace_kernel_figure(KERNEL_OFFSETS, num_frames=3)

# %% [markdown]
# ## Same output, same gradients
#
# For random inputs, offsets (kept away from integers, where the offset gradient is one-sided) and
# weights, the shift computed by the op and by an explicit depthwise `conv1d` with the kernel above agree,
# for the output and for the gradients with respect to the input, the offsets and the weights.

# %%
equivalence = equivalence_table(chapter.seeds)
equivalence.style.format("{:.1e}").set_caption(
    "Max |op − conv1d| in float64 (measured now)"
)

# %% [markdown]
# ## TSM is the special case b = ±1
#
# With offsets $(b_0, b_1) = (-1, -1)$, which TIN's module uses as $(-1, -1, +1, +1)$ over its four groups,
# and unit weights, the kernel is a single tap at lag ∓1: TSM's shift of one eighth of the channels to the
# next frame and one eighth to the previous one. The check runs the two real layers,
# `TemporalInterlace(fixed_offset=(-1, -1), fixed_weight=1)` and `TemporalShift(shift_div=8)`, on the same
# input.

# %%
tsm_is_special_case = tsm_special_case()
print("TIN with b = (-1, -1), w = 1 equals TSM exactly:", tsm_is_special_case)

# %% [markdown]
# ## How constrained
#
# Parameters that decide the temporal mixing in one ResNet-50 block whose first conv sees $C$ channels,
# of which TIN shifts $C/4$, at $T = 8$ frames: a free depthwise temporal kernel of width 3 over those
# channels, against TIN's offsets and weights (which TIN predicts per video with small networks; their
# parameter count, $9C/4 + T^2 + 3T + 5$, is counted on the module itself and given for reference).

# %%
constraint_cost_table(channels=(64, 256, 512, 1024, 2048), frames=8)

# %% tags=["remove-cell"]
chapter.save(
    {
        "max_abs_difference": float(equivalence.to_numpy().max()),
        "seeds": list(chapter.seeds),
        "tsm_is_special_case": tsm_is_special_case,
    }
)

# %% [markdown]
# ## Summary
#
# * The interlace shift is exactly a depthwise temporal convolution with two adjacent taps $(1-f, f)$ at
#   lags $(k, k+1)$, followed by per-frame weights; the op and the explicit convolution agree to rounding
#   error in values and in all gradients (table above, computed now).
# * The constraint is what makes it cheap: the taps are not free weights but a function of one offset per
#   group, predicted per video, and the op moves memory instead of multiplying by a kernel.
# * TSM's fixed shift is the special case $b=\pm1$, $w=1$.
#
# What this build measured (row `interlace_is_conv` of the {doc}`claims`):

# %% tags=["hide-input"]
statements(verdict(equivalence, tsm_is_special_case))
