"""The temporal interlace shift of TIN (Shao et al., AAAI 2020, arXiv:2001.06499).

For a clip ``x`` of ``T`` frames whose first ``shift_channels`` channels are split into ``G`` groups,
each group ``g`` is moved along time by a real-valued offset ``b = offset[n, g]`` (linear interpolation
between the two nearest integer shifts, zeros outside the clip: the paper's temporal extension) and scaled
per output frame by ``weight[n, t, g]``::

    k = floor(b),  f = b - k
    y[n, t, c] = weight[n, t, g] * ((1 - f) * x[n, t - k, c] + f * x[n, t - k - 1, c])

So ``b = 0.5`` gives ``0.5 * x[t] + 0.5 * x[t - 1]`` and ``b = -1`` reads the next frame. This is what the
original CUDA op (deepcs233/TIN ``cuda_shift``) computes through two integer shifts. Channels from
``shift_channels`` on are copied unchanged. The op is differentiable in ``x``, ``offset`` (through the
interpolation weights; ``floor`` has zero gradient, so the gradient is one-sided at integer offsets) and
``weight``.
"""

from __future__ import annotations

import warnings
from typing import Literal

import torch
from torch import Tensor, nn

from . import _extension

Backend = Literal["auto", "torch", "cpp", "cuda"]
BACKENDS: tuple[str, ...] = ("auto", "torch", "cpp", "cuda")
_warned_fallback: set[str] = set()


def interlace_shift_reference(x: Tensor, offset: Tensor, weight: Tensor, shift_channels: int | None = None) -> Tensor:
    """Pure-PyTorch interlace shift (any device, autograd): the oracle for the kernels.

    Args:
        x: ``Tensor[N, T, C, H, W]``.
        offset: ``Tensor[N, G]``, temporal offsets in frames.
        weight: ``Tensor[N, T, G]``, per-output-frame weights.
        shift_channels: the leading channels to shift (divisible by ``G``); default all ``C``.

    Returns:
        ``Tensor[N, T, C, H, W]``.
    """
    n, t, c, h, w = x.shape
    cs = c if shift_channels is None else shift_channels
    g = offset.shape[1]
    xs = x[:, :, :cs].reshape(n, t, g, (cs // g) * h * w)  # [N, T, G, D]
    k = torch.floor(offset)
    f = (offset - k)[:, None, :, None]  # [N, 1, G, 1]; d f / d offset = 1
    # Clamp k so frame arithmetic stays in int64 for huge offsets; NaN -> 0 (the output is NaN through f).
    k = torch.nan_to_num(k.detach().clamp(-(t + 1), t + 1), nan=0.0).long()
    src0 = torch.arange(t, device=x.device)[None, :, None] - k[:, None, :]  # [N, T, G]: frame t - k
    src1 = src0 - 1

    def read(src: Tensor) -> Tensor:
        valid = ((src >= 0) & (src < t)).unsqueeze(-1)
        index = src.clamp(0, t - 1).unsqueeze(-1).expand(n, t, g, xs.shape[-1])
        return torch.where(valid, torch.gather(xs, 1, index), torch.zeros((), dtype=x.dtype, device=x.device))

    shifted = weight.unsqueeze(-1) * ((1 - f) * read(src0) + f * read(src1))
    shifted = shifted.reshape(n, t, cs, h, w)
    return shifted if cs == c else torch.cat([shifted, x[:, :, cs:]], dim=2)


def channels_last_frames(x: Tensor) -> Tensor:
    """``x[N, T, C, H, W]`` stored as ``(N, T, H, W, C)`` (the 5-D view of a ``channels_last`` batch of frames,
    the other layout the kernels run without a copy); same values and shape."""
    return x.permute(0, 1, 3, 4, 2).contiguous().permute(0, 1, 4, 2, 3)


def _check_args(x: Tensor, offset: Tensor, weight: Tensor, shift_channels: int | None) -> int:
    if x.dim() != 5:
        raise ValueError(f"interlace_shift: x must be (N, T, C, H, W), got shape {tuple(x.shape)}")
    if offset.dim() != 2:
        raise ValueError(f"interlace_shift: offset must be (N, G), got shape {tuple(offset.shape)}")
    if weight.dim() != 3:
        raise ValueError(f"interlace_shift: weight must be (N, T, G), got shape {tuple(weight.shape)}")
    n, t, c = x.shape[:3]
    g = offset.shape[1]
    if offset.shape[0] != n or weight.shape[0] != n:
        raise ValueError(
            f"interlace_shift: N mismatch: x {tuple(x.shape)}, offset {tuple(offset.shape)}, "
            f"weight {tuple(weight.shape)}"
        )
    if weight.shape[1] != t:
        raise ValueError(f"interlace_shift: weight has T={weight.shape[1]}, x has T={t}")
    if weight.shape[2] != g:
        raise ValueError(f"interlace_shift: weight has G={weight.shape[2]}, offset has G={g}")
    cs = c if shift_channels is None else int(shift_channels)
    if not 0 < cs <= c:
        raise ValueError(f"interlace_shift: shift_channels={cs} not in [1, C={c}]")
    if g < 1 or cs % g:
        raise ValueError(f"interlace_shift: {cs} shifted channels are not divisible by the number of groups G={g}")
    if not x.is_floating_point() or offset.dtype != x.dtype or weight.dtype != x.dtype:
        raise ValueError(
            "interlace_shift: x, offset and weight must share one floating dtype, "
            f"got {x.dtype}, {offset.dtype}, {weight.dtype}"
        )
    if offset.device != x.device or weight.device != x.device:
        raise ValueError(
            "interlace_shift: x, offset and weight must be on one device, "
            f"got {x.device}, {offset.device}, {weight.device}"
        )
    return cs


def _kernel_available(kind: str) -> bool:
    try:
        (_extension.load_cpu if kind == "cpp" else _extension.load_cuda)()
        return True
    except _extension.ExtensionBuildError as exc:
        if kind not in _warned_fallback:
            _warned_fallback.add(kind)
            warnings.warn(
                f"paperlib: the {kind} interlace shift kernel is unavailable, using the pure-PyTorch backend "
                f"(slower, same results). Reason: {exc}",
                RuntimeWarning,
                stacklevel=4,
            )
        return False


def resolve_backend(backend: str, device: torch.device) -> str:
    """The backend that runs for a tensor on ``device``: ``auto`` picks the fastest available kernel."""
    if backend not in BACKENDS:
        raise ValueError(f"interlace_shift: backend must be one of {BACKENDS}, got {backend!r}")
    if backend == "auto":
        kind = {"cpu": "cpp", "cuda": "cuda"}.get(device.type)
        return kind if kind is not None and _kernel_available(kind) else "torch"
    if backend == "cpp" and device.type not in ("cpu", "meta"):
        raise ValueError(f"interlace_shift: backend 'cpp' runs on CPU tensors, got a tensor on {device}")
    if backend == "cuda" and device.type not in ("cuda", "meta"):
        raise ValueError(f"interlace_shift: backend 'cuda' runs on CUDA tensors, got a tensor on {device}")
    if backend == "cpp":
        _extension.load_cpu()
    elif backend == "cuda":
        _extension.load_cuda()
    return backend


@torch.compiler.assume_constant_result
def _backend_for(backend: str, device_type: str) -> str:
    """:func:`resolve_backend`, run (building the kernel on first use) also while ``torch.compile`` traces a
    call: the compiler executes it once and keeps the answer as a constant, so the kernels load on first use
    without a graph break."""
    return resolve_backend(backend, torch.device(device_type))


def prepare_backend(backend: Backend = "auto") -> None:
    """Load now the kernels ``backend`` may run (the C++ library holds the op schemas; CUDA kernels where a GPU
    is present), so that later calls, and the graphs ``torch.compile`` traces through them, need no build
    and no lock. Build failures are left for the call itself to report (or fall back from, for ``auto``)."""
    if backend in ("auto", "cpp", "cuda"):
        available_backends("cpu")
    if backend in ("auto", "cuda") and torch.cuda.is_available():
        available_backends("cuda")


def available_backends(device: str | torch.device = "cpu") -> list[str]:
    """Backends that can run on ``device`` here (building the kernels if needed)."""
    device = torch.device(device)
    names = ["torch"]
    kind = {"cpu": "cpp", "cuda": "cuda"}.get(device.type)
    if kind is not None:
        try:
            resolve_backend(kind, device)
            names.append(kind)
        except _extension.ExtensionBuildError:
            pass
    return names


def interlace_shift(
    x: Tensor,
    offset: Tensor,
    weight: Tensor,
    *,
    shift_channels: int | None = None,
    backend: Backend = "auto",
) -> Tensor:
    """Temporal interlace shift (see the module docstring for the exact formula).

    Args:
        x: ``Tensor[N, T, C, H, W]``; any strides.
        offset: ``Tensor[N, G]``, real-valued temporal offsets in frames.
        weight: ``Tensor[N, T, G]``, per-output-frame weights.
        shift_channels: shift channels ``[0, shift_channels)`` in ``G`` contiguous groups (group of channel
            ``c`` is ``c // (shift_channels // G)``) and copy the rest; default all ``C``.
        backend: ``"auto"`` (fastest available for ``x.device``, falling back to ``"torch"`` with one
            warning if the kernel cannot be built), ``"torch"`` (pure PyTorch), ``"cpp"`` (C++ CPU kernel),
            ``"cuda"`` (CUDA kernel).

    Returns:
        ``Tensor[N, T, C, H, W]`` (contiguous).
    """
    cs = _check_args(x, offset, weight, shift_channels)
    if _backend_for(backend, x.device.type) == "torch":
        return interlace_shift_reference(x, offset, weight, cs)
    return torch.ops.paperlib.interlace_shift(x, offset, weight, cs)


class InterlaceShift(nn.Module):
    """Module form of :func:`interlace_shift` (no parameters)."""

    def __init__(self, shift_channels: int | None = None, backend: Backend = "auto") -> None:
        super().__init__()
        self.shift_channels = shift_channels
        self.backend = backend

    def forward(self, x: Tensor, offset: Tensor, weight: Tensor) -> Tensor:
        return interlace_shift(x, offset, weight, shift_channels=self.shift_channels, backend=self.backend)

    def extra_repr(self) -> str:
        return f"shift_channels={self.shift_channels}, backend={self.backend!r}"
