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
# $$ y_t \;=\; w_t\big((1-f)\,x_{t-k} + f\,x_{t-k-1}\big) \;=\; w_t \sum_{d} \kappa_d\, x_{t-d},
# \qquad \kappa_k = 1-f,\; \kappa_{k+1} = f,\; \text{all other } \kappa_d = 0, $$
#
# a depthwise temporal convolution (zero padding) whose kernel has two adjacent non-zero taps that sum to
# one, followed by a per-frame scale. A free depthwise kernel reaching $\pm D$ frames has $2D+1$ weights per
# channel; the interlace shift spends one offset per channel *group*, shared by all its channels. TSM is the
# special case $b=\pm 1$, $w_t=1$: a single tap of 1 at lag $\pm 1$.

# %% tags=["parameters"]
scale = None  # smoke | embedded | full (default: $PAPERLIB_SCALE, else embedded); unused here
data_root = None  # unused here: this chapter needs no data
checkpoints = None  # unused here
device = "cpu"
seeds = [0, 1, 2]  # random draws of offsets and weights to check
results_dir = "../results/notebooks"

# %%
import matplotlib.pyplot as plt
import pandas as pd
import torch

from paperlib.experiments import check_parameters, default_scale, write_results
from paperlib.ops import interlace_shift
from paperlib.ops.equivalence import interlace_kernel, interlace_shift_via_conv

scale = scale or default_scale()
check_parameters(scale=scale, data_root=data_root, device=device, seeds=seeds, results_dir=results_dir)

# %% [markdown]
# ## The kernel as a function of the offset
#
# Each row is the temporal kernel $\kappa_d$ for one offset: the two taps slide along the lag axis and trade
# weight linearly as $b$ moves between integers.

# %%
offsets = torch.tensor([[-1.5, -1.0, -0.25, 0.0, 0.5, 1.0, 1.75]], dtype=torch.float64)
kernels = interlace_kernel(offsets, num_frames=3)[0]  # [7 offsets, 9 lags]: lags -4..4
fig, ax = plt.subplots(figsize=(7, 3))
image = ax.imshow(kernels.numpy(), cmap="viridis", aspect="auto", extent=(-4.5, 4.5, len(offsets[0]) - 0.5, -0.5))
ax.set_yticks(range(offsets.shape[1]), [f"b = {b:+.2f}" for b in offsets[0].tolist()])
ax.set_xlabel("lag d (output frame t reads input frame t - d)")
fig.colorbar(image, ax=ax, label="tap weight")
ax.set_title("Interlace-shift kernels: two adjacent taps summing to 1")
plt.tight_layout()
plt.show()

# %% [markdown]
# ## Same output, same gradients
#
# For random inputs, offsets (kept away from integers, where the offset gradient is one-sided) and
# weights, the shift computed by the op and by an explicit depthwise `conv1d` with the kernel above agree,
# for the output and for the gradients with respect to the input, the offsets and the weights.

# %%
rows = []
for seed in seeds:
    generator = torch.Generator().manual_seed(seed)
    x = torch.randn(2, 8, 16, 4, 4, dtype=torch.float64, generator=generator)
    offset = torch.rand(2, 4, dtype=torch.float64, generator=generator) * 4 - 2
    offset = offset.floor() + (offset - offset.floor()).clamp(0.05, 0.95)
    weight = torch.rand(2, 8, 4, dtype=torch.float64, generator=generator) * 2
    grad_out = torch.randn(2, 8, 16, 4, 4, dtype=torch.float64, generator=generator)
    outputs = {}
    for name, fn in {
        "op": lambda *a: interlace_shift(*a, shift_channels=8, backend="torch"),
        "conv": lambda *a: interlace_shift_via_conv(*a, shift_channels=8),
    }.items():
        leaves = [t.clone().requires_grad_() for t in (x, offset, weight)]
        y = fn(*leaves)
        y.backward(grad_out)
        outputs[name] = [y.detach()] + [t.grad for t in leaves]
    diffs = [(a - b).abs().max().item() for a, b in zip(outputs["op"], outputs["conv"])]
    rows.append(dict(seed=seed, **dict(zip(["output", "grad x", "grad offset", "grad weight"], diffs))))
equivalence = pd.DataFrame(rows).set_index("seed")
equivalence.style.format("{:.1e}").set_caption("Max |op − conv1d| in float64 (measured now)")

# %% [markdown]
# ## TSM is the special case b = ±1
#
# With offsets $(b_0, b_1) = (-1, -1)$ mirrored to $(-1, -1, +1, +1)$ over TIN's four groups and unit
# weights, the kernel is a single tap at lag ∓1: exactly TSM's shift of one eighth of the channels to
# the next frame and one eighth to the previous one.

# %%
x = torch.randn(1, 8, 16, 2, 2, dtype=torch.float64)
tsm = torch.zeros_like(x)
fold = 16 // 8
tsm[:, :-1, :fold] = x[:, 1:, :fold]
tsm[:, 1:, fold : 2 * fold] = x[:, :-1, fold : 2 * fold]
tsm[:, :, 2 * fold :] = x[:, :, 2 * fold :]
tin = interlace_shift(
    x,
    torch.tensor([[-1.0, -1.0, 1.0, 1.0]], dtype=torch.float64),
    torch.ones(1, 8, 4, dtype=torch.float64),
    shift_channels=2 * fold,
    backend="torch",
)
tsm_is_special_case = bool(torch.equal(tin, tsm))
print("TIN with b = (-1, -1), w = 1 equals TSM exactly:", tsm_is_special_case)

# %% [markdown]
# ## How constrained
#
# Parameters that decide the temporal mixing in one ResNet-50 block whose first conv sees $C$ channels,
# of which TIN shifts $C/4$, at $T = 8$ frames: a free depthwise temporal kernel of width 3 over those
# channels, against TIN's offsets and weights (which TIN predicts per video with small networks; their
# parameter count is given for reference).


# %%
def tin_module_params(channels, frames=8):
    fold = channels // 4
    return 9 * fold + frames**2 + 3 * frames + 5  # OffsetNet + WeightNet, as in the official module


cost = pd.DataFrame(
    [
        {
            "block input C": c,
            "free kernels (3 taps x C/4)": 3 * c // 4,
            "interlace: offsets per video": 2,
            "interlace: weights per video": 2 * 8,
            "TIN module parameters": tin_module_params(c),
        }
        for c in (64, 256, 512, 1024, 2048)
    ]
).set_index("block input C")
cost

# %%
write_results(
    results_dir,
    "theory",
    {
        "max_abs_difference": float(equivalence.to_numpy().max()),
        "seeds": list(seeds),
        "tsm_is_special_case": tsm_is_special_case,
    },
    {"scale": scale, "device": device, "seeds": seeds},
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
