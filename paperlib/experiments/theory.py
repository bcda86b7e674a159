"""The theory chapter: the interlace shift written as a temporal convolution (the paper's "constrained
temporal convolution"), checked numerically.

For one video and one channel group, ``y[t] = w[t] · ((1-f)·x[t-k] + f·x[t-k-1])`` is a depthwise temporal
convolution of ``x`` whose kernel has exactly two non-zero taps, ``1-f`` at lag ``k`` and ``f`` at lag
``k+1`` (``k = floor(b)``, ``f = b - k``), followed by a per-frame scale ``w[t]``. A free temporal kernel
of the same reach would have one weight per lag; the interlace shift has one offset per group. TSM is the
case ``b = ±1``, ``w = 1``: one tap of 1 at lag ±1. These functions build that convolution explicitly so
the equivalence can be checked numerically (values and gradients), compare TIN's module with the
repository's TSM layer, and count what the constraint saves.
"""

from __future__ import annotations

from collections.abc import Iterable

import pandas as pd
import torch
from torch import Tensor
from torch.nn import functional as F

from ..models.layers import TemporalInterlace, TemporalShift
from ..ops import interlace_shift

KERNEL_OFFSETS = (-1.5, -1.0, -0.25, 0.0, 0.5, 1.0, 1.75)  # the offsets whose kernels the chapter draws
GRADIENT_NAMES = ("output", "grad x", "grad offset", "grad weight")
# "Equal" for two float64 computations of the same sums in another order: a few ulps of values of order 1-10.
EXACT_TOLERANCE = 1e-12


def interlace_kernel(offset: Tensor, num_frames: int) -> Tensor:
    """Temporal kernels of the interlace shift: ``offset (N, G)`` -> ``Tensor[N, G, 2·(T+1)+1]``.

    Entry ``[n, g, D + d]`` (``D = T + 1``) is the weight of input frame ``t - d`` in output frame ``t``.
    Differentiable in ``offset`` through ``f``, like the op.
    """
    reach = num_frames + 1
    k = torch.floor(offset).detach()
    f = offset - k
    lags = torch.arange(-reach, reach + 1, device=offset.device, dtype=offset.dtype)  # [L]
    k = k.clamp(-reach - 1, reach + 1)[..., None]  # beyond the reach every tap is out of the clip anyway
    return (1 - f)[..., None] * (lags == k).to(offset.dtype) + f[..., None] * (lags == k + 1).to(offset.dtype)


def interlace_shift_via_conv(x: Tensor, offset: Tensor, weight: Tensor, shift_channels: int | None = None) -> Tensor:
    """Same result as :func:`paperlib.ops.interlace_shift`, computed as a depthwise ``conv1d`` over time
    (zero padding) followed by the per-frame weights. ``x: Tensor[N, T, C, H, W]``."""
    n, t, c, h, w = x.shape
    cs = c if shift_channels is None else shift_channels
    g = offset.shape[1]
    reach = t + 1
    kernel = interlace_kernel(offset, t)  # [N, G, L]
    # one conv1d channel per (n, shifted channel, pixel), each with its group's kernel
    per_channel = kernel.repeat_interleave(cs // g, dim=1)  # [N, Cs, L]
    per_channel = per_channel[:, :, None, :].expand(n, cs, h * w, 2 * reach + 1).reshape(-1, 1, 2 * reach + 1)
    signal = x[:, :, :cs].permute(0, 2, 3, 4, 1).reshape(1, n * cs * h * w, t)  # [1, N*Cs*HW, T]
    # conv1d correlates: out[t] = sum_j k[j] in[t + j - D]; the kernel is stored by lag d = D - j, so flip it
    shifted = F.conv1d(signal, per_channel.flip(-1), padding=reach, groups=n * cs * h * w)
    shifted = shifted.reshape(n, cs, h, w, t).permute(0, 4, 1, 2, 3)  # [N, T, Cs, H, W]
    scale = weight.repeat_interleave(cs // g, dim=2)[..., None, None]  # [N, T, Cs, 1, 1]
    out = scale * shifted
    return out if cs == c else torch.cat([out, x[:, :, cs:]], dim=2)


def _values_and_grads(fn, x: Tensor, offset: Tensor, weight: Tensor, grad_out: Tensor) -> list[Tensor]:
    leaves = [t.clone().requires_grad_() for t in (x, offset, weight)]
    y = fn(*leaves)
    y.backward(grad_out)
    return [y.detach()] + [t.grad for t in leaves]


def equivalence_table(seeds: Iterable[int], frames: int = 8, channels: int = 16, groups: int = 4) -> pd.DataFrame:
    """Max ``|op - conv1d|`` in float64 per seed, for the output and the gradients with respect to the input,
    the offsets and the weights. Each seed draws a clip ``(2, frames, channels, 4, 4)`` whose first half of
    the channels is shifted in ``groups`` groups, offsets in (-2, 2) kept 0.05 away from integers (where the
    offset gradient is one-sided) and weights in (0, 2)."""
    shifted = channels // 2
    rows = []
    for seed in seeds:
        generator = torch.Generator().manual_seed(seed)
        x = torch.randn(2, frames, channels, 4, 4, dtype=torch.float64, generator=generator)
        offset = torch.rand(2, groups, dtype=torch.float64, generator=generator) * 4 - 2
        offset = offset.floor() + (offset - offset.floor()).clamp(0.05, 0.95)
        weight = torch.rand(2, frames, groups, dtype=torch.float64, generator=generator) * 2
        grad_out = torch.randn(2, frames, channels, 4, 4, dtype=torch.float64, generator=generator)
        op = _values_and_grads(
            lambda *a: interlace_shift(*a, shift_channels=shifted, backend="torch"), x, offset, weight, grad_out
        )
        conv = _values_and_grads(
            lambda *a: interlace_shift_via_conv(*a, shift_channels=shifted), x, offset, weight, grad_out
        )
        diffs = [(a - b).abs().max().item() for a, b in zip(op, conv)]
        rows.append({"seed": seed, **dict(zip(GRADIENT_NAMES, diffs))})
    return pd.DataFrame(rows).set_index("seed")


def tsm_special_case(channels: int = 64, frames: int = 8, seed: int = 0) -> bool:
    """Whether TIN's module with fixed offsets ``b = (-1, -1)`` (used as ``(-1, -1, +1, +1)`` over its four
    groups) and unit weights gives exactly (bit for bit, float64) the output of the repository's TSM layer,
    :class:`paperlib.models.layers.TemporalShift` with ``shift_div = 8``: TIN shifts a quarter of the channels,
    TSM an eighth each way."""
    tin = TemporalInterlace(channels, frames, fixed_offset=(-1.0, -1.0), fixed_weight=1.0, backend="torch")
    tsm = TemporalShift(channels, frames, shift_div=8)
    x = torch.randn(2 * frames, channels, 3, 3, dtype=torch.float64, generator=torch.Generator().manual_seed(seed))
    with torch.no_grad():
        return bool(torch.equal(tin.double()(x), tsm(x)))


def tin_module_parameters(channels: int, frames: int = 8) -> int:
    """Parameters of TIN's module (OffsetNet + WeightNet) in a block whose first conv sees ``channels``
    channels, counted on the real :class:`paperlib.models.layers.TemporalInterlace`."""
    module = TemporalInterlace(channels, frames, backend="torch")
    return sum(p.numel() for p in module.parameters())


def constraint_cost_table(channels: Iterable[int] = (64, 256, 512, 1024, 2048), frames: int = 8) -> pd.DataFrame:
    """What decides the temporal mixing of one ResNet block whose first conv sees ``C`` channels, of which TIN
    shifts ``C/4`` at ``frames`` frames: a free depthwise kernel of width 3 over those channels, against the
    interlace shift's offsets and weights per video (predicted by TIN's module, whose size is given)."""
    rows = [
        {
            "block input C": c,
            "free kernels (3 taps x C/4)": 3 * c // 4,
            "interlace: offsets per video": 2,
            "interlace: weights per video": 2 * frames,
            "TIN module parameters": tin_module_parameters(c, frames),
        }
        for c in channels
    ]
    return pd.DataFrame(rows).set_index("block input C")


def verdict(equivalence: pd.DataFrame, tsm_is_special_case: bool, tolerance: float = EXACT_TOLERANCE) -> list[str]:
    """The chapter's conclusions, from its measurements: the op equals the 2-tap convolution (to
    ``tolerance``, float64 rounding) in values and gradients, and TSM is the case ``b = ±1``, ``w = 1``."""
    worst = float(equivalence.to_numpy().max())
    seeds = len(equivalence)
    lines = [
        f"The op and the explicit 2-tap convolution agree to {worst:.1e} (float64) in the output and in all three "
        f"gradients, over {seeds} random draw{'s' if seeds != 1 else ''}: "
        + ("the interlace shift IS that convolution." if worst < tolerance else f"MORE than {tolerance:.0e}: check.")
    ]
    lines.append(
        "TIN's module with b = (-1, -1) and w = 1 equals the TSM layer exactly: TSM is the special case."
        if tsm_is_special_case
        else "TIN's module with b = (-1, -1) and w = 1 does NOT equal the TSM layer: check."
    )
    return lines
