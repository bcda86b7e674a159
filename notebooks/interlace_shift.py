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
# # The interlace shift operator
#
# TIN replaces the fixed ±1 frame shift of TSM with a *learned, real-valued* shift per channel group,
# followed by a learned per-frame weight. For a clip `x` of `T` frames, a group `g` with offset `b` and
# weights `w[t]` gives
#
# $$ y[t] = w[t]\,\big((1-f)\,x[t-k] + f\,x[t-k-1]\big), \qquad k=\lfloor b\rfloor,\; f=b-k, $$
#
# with frames outside the clip read as zero. This chapter runs `paperlib.ops.interlace_shift` to show what
# the formula does, checks that its three backends (pure PyTorch, C++ CPU kernel, CUDA kernel) agree, and
# measures its speed on this machine. Every number below is computed when the book is built.
#
# **What this chapter shows**: what an offset does to a signal (interactive), the two identities that fix the
# op's semantics, that the backends agree with the pure-PyTorch reference in values and gradients, and how
# close the kernels come to the speed of a plain memory copy.

# %% tags=["parameters", "hide-cell"]
scale = None  # smoke | embedded | full (default: $PAPERLIB_SCALE, else embedded); the same at every scale
profile = None  # the same as scale (either name)
device = "auto"  # where the parity check and the speed measurement run: auto (CUDA if present) | cpu | cuda
seeds = [0]  # the random draw of the parity check
results_dir = (
    None  # default: the repository's results/<scale>/ (or $PAPERLIB_RESULTS/<scale>)
)
trial = None  # True (scale full): the full route, a few steps per run ($PAPERLIB_TRIAL)
bench_budget_s = 0.3  # seconds of timing per measurement

# %% tags=["remove-cell"]
import torch

from paperlib.engine.device import pick_device
from paperlib.experiments import open_chapter
from paperlib.experiments.interlace import (
    backend_parity,
    benchmark,
    benchmark_table,
    parity_summary,
    semantics_checks,
    verdict,
)
from paperlib.ops import available_backends
from paperlib.viz import shift_slider_figure, show, statements

chapter = open_chapter(
    "interlace_shift",
    scale=scale,
    profile=profile,
    seeds=seeds,
    device=device,
    results_dir=results_dir,
    trial=trial,
    bench_budget_s=bench_budget_s,
)
device = pick_device(chapter.device).type

# %% tags=["hide-input"]
print("backends here:", ", ".join(available_backends(device)))

# %% [markdown]
# ## What an offset does
#
# One channel of one video over 8 frames: a bump that moves. Drag the slider: a positive offset delays the
# signal (output frame `t` reads input frame `t - b`), a negative one advances it, fractional offsets
# interpolate linearly between the two neighbouring integer shifts, and content shifted past either end of
# the clip is lost (zero padding, the paper's *temporal extension*).

# %% tags=["hide-input"]
signal = torch.tensor([0.0, 0.2, 1.0, 0.6, 0.1, 0.0, 0.3, 0.0])
offsets = [round(-2 + 0.25 * i, 2) for i in range(17)]
show(shift_slider_figure(signal, offsets))

# %% [markdown]
# Two identities pin the semantics down: an offset of exactly `0.5` averages each frame with the previous
# one, and an integer offset is a zero-filled roll.

# %%
semantics = semantics_checks(seed=chapter.seeds[0])
semantics

# %% [markdown]
# ## The backends agree
#
# At a TIN shape in float64 (a quarter of 64 channels shifted in 4 groups, offsets in TIN's range (-2, 2)),
# the output and all three gradients of each kernel backend, against the pure-PyTorch reference.

# %%
parity = backend_parity(device, seed=chapter.seeds[0])
parity.style.format("{:.1e}").set_caption(
    f"Max |difference| from the pure-PyTorch reference, float64, on {device} (measured now)"
)

# %% [markdown]
# ## Speed against the memory roofline
#
# The op does almost no arithmetic, so the right yardstick is memory traffic: the forward must read `x`
# and write `y` (2 bytes-per-element passes over the whole tensor), the backward reads the output gradient
# and the shifted quarter of `x` and writes the input gradient. `of copy` compares the achieved bandwidth
# with a `copy_` of a tensor of the same size timed in the same run. `cpp[out]`/`cuda[out]` time the kernel
# writing into preallocated buffers; `cpp`/`cuda` include the allocation of the outputs. Measured now, on
# this machine, at the ResNet-50 layer-4 shape (N = 8 videos, T = 8 frames); `python -m paperlib.bench shift`
# measures every layer.

# %%
timings = benchmark(device, budget_s=bench_budget_s, layers=("layer4",))
benchmark_table(timings)

# %% tags=["remove-cell"]
chapter.save(
    {
        "parity_max_abs_difference": parity_summary(parity),
        "benchmark": timings.drop(columns="ms").to_dict(orient="records"),
    }
)

# %% [markdown]
# ## Summary
#
# * `interlace_shift(x, offset, weight)` computes exactly the original TIN CUDA op's result (an
#   interpolated temporal shift with zero padding and per-frame weights) on any device, and is
#   differentiable in all three inputs.
# * The C++ and CUDA kernels agree with the pure-PyTorch reference to floating-point rounding, values and
#   gradients.
# * The kernels do one pass each way over memory; the table above shows how close this machine gets to the
#   bandwidth of a plain copy.
#
# What this build measured:

# %% tags=["hide-input"]
statements(verdict(semantics, parity, timings))
