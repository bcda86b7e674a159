"""The interlace shift written as a temporal convolution (the paper's "constrained temporal convolution").

For one video and one channel group, ``y[t] = w[t] · ((1-f)·x[t-k] + f·x[t-k-1])`` is a depthwise temporal
convolution of ``x`` whose kernel has exactly two non-zero taps, ``1-f`` at lag ``k`` and ``f`` at lag
``k+1`` (``k = floor(b)``, ``f = b - k``), followed by a per-frame scale ``w[t]``. A free temporal kernel
of the same reach would have one weight per lag; the interlace shift has one offset per group. TSM is the
case ``b = ±1``, ``w = 1``: one tap of 1 at lag ±1. These functions build that convolution explicitly so
the equivalence can be checked numerically (values and gradients).
"""

from __future__ import annotations

import torch
from torch import Tensor
from torch.nn import functional as F


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
