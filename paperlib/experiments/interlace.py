"""The interlace-shift chapter: the op's semantics, its backends' agreement and its speed, computed now."""

from __future__ import annotations

import pandas as pd
import torch
from torch import Tensor

from ..bench import shift as shift_bench
from ..ops import available_backends, interlace_shift

PARITY_COLUMNS = ("y", "grad x", "grad offset", "grad weight")
# A kernel backend is correct when it agrees with the pure-PyTorch reference to this in float64 (the tolerance
# tests/test_ops_interlace.py holds the C++ kernel to): rounding, not a different formula.
PARITY_TOLERANCE = 1e-9


def values_and_grads(
    backend: str, x: Tensor, offset: Tensor, weight: Tensor, shift_channels: int | None
) -> list[Tensor]:
    """``[y, grad x, grad offset, grad weight]`` of :func:`paperlib.ops.interlace_shift` with ``backend``, for a
    fixed, non-uniform output gradient (a ramp from -1 to 1 over the elements): what the backends are compared
    on (here and in ``tests/test_ops_interlace.py``)."""
    inputs = [t.detach().clone().requires_grad_() for t in (x, offset, weight)]
    out = interlace_shift(*inputs, shift_channels=shift_channels, backend=backend)
    grad_out = torch.linspace(-1, 1, out.numel(), dtype=out.dtype, device=out.device).reshape(out.shape)
    out.backward(grad_out)
    return [out.detach()] + [t.grad for t in inputs]


def semantics_checks(frames: int = 8, seed: int = 0) -> dict[str, bool]:
    """The two identities that pin the op's semantics down, checked on a random float64 clip: an offset of
    exactly 0.5 averages each frame with the previous one, and an integer offset (2) is a zero-filled roll."""
    x = torch.randn(1, frames, 4, 3, 3, dtype=torch.float64, generator=torch.Generator().manual_seed(seed))
    ones = torch.ones(1, frames, 1, dtype=torch.float64)
    half = interlace_shift(x, torch.tensor([[0.5]], dtype=torch.float64), ones)
    previous = torch.cat([torch.zeros_like(x[:, :1]), x[:, :-1]], dim=1)
    two = interlace_shift(x, torch.tensor([[2.0]], dtype=torch.float64), ones)
    rolled = torch.roll(x, 2, dims=1)
    rolled[:, :2] = 0
    return {
        "b = 0.5 equals (x[t] + x[t-1]) / 2": bool(torch.allclose(half, (x + previous) / 2)),
        "b = 2 equals a zero-filled roll by 2": bool(torch.equal(two, rolled)),
    }


def backend_parity(device: str | torch.device, seed: int = 0) -> pd.DataFrame:
    """Max ``|backend - pure PyTorch|`` of the output and the three gradients, float64, at a TIN shape (a
    quarter of 64 channels shifted in 4 groups, offsets in TIN's range (-2, 2)), for every backend available on
    ``device``; one row per backend."""
    device = torch.device(device)
    generator = torch.Generator().manual_seed(seed)
    x = torch.randn(2, 8, 64, 7, 7, dtype=torch.float64, generator=generator).to(device)
    offset = ((torch.rand(2, 4, dtype=torch.float64, generator=generator) * 2 - 1) * 1.9).to(device)
    weight = (torch.rand(2, 8, 4, dtype=torch.float64, generator=generator) * 2).to(device)
    reference = values_and_grads("torch", x, offset, weight, 16)
    rows = []
    for backend in available_backends(device.type):
        result = values_and_grads(backend, x, offset, weight, 16)
        diffs = [(a - b).abs().max().item() for a, b in zip(result, reference)]
        rows.append({"backend": backend, **dict(zip(PARITY_COLUMNS, diffs))})
    return pd.DataFrame(rows).set_index("backend")


def parity_summary(parity: pd.DataFrame) -> dict[str, float]:
    """The largest difference of each backend (the chapter's saved ``parity_max_abs_difference``)."""
    return {backend: float(row.max()) for backend, row in parity.iterrows()}


def benchmark(device: str | torch.device, budget_s: float, layers: tuple[str, ...] = ("layer4",)) -> pd.DataFrame:
    """Time every backend of ``device`` at the given ResNet-50 layer shapes (:func:`paperlib.bench.shift.measure`):
    one row per (backend, pass), with ``ms``."""
    records = shift_bench.measure(device, layers=list(layers), budget=budget_s)
    table = pd.DataFrame([r.to_json() for r in records])
    table["ms"] = table["seconds"] * 1e3
    return table


def benchmark_table(table: pd.DataFrame) -> pd.DataFrame:
    """Milliseconds and fraction of copy bandwidth per backend (rows) and pass (columns)."""
    return table.pivot_table(index="backend", columns="pass", values=["ms", "frac_copy"], sort=False).round(2)


def verdict(semantics: dict[str, bool], parity: pd.DataFrame, table: pd.DataFrame) -> list[str]:
    """The chapter's conclusions from its measurements: semantics, backend agreement, speed against copy."""
    lines = [f"{name}: {'yes' if ok else 'NO'}" for name, ok in semantics.items()]
    worst = parity_summary(parity)
    kernels = {b: d for b, d in worst.items() if b != "torch"}
    if not kernels:
        lines.append("Only the pure-PyTorch backend is available here: no kernel to compare.")
    for backend, diff in kernels.items():
        agree = "agrees" if diff <= PARITY_TOLERANCE else f"does NOT agree (tolerance {PARITY_TOLERANCE:.0e})"
        lines.append(f"{backend} {agree} with the pure-PyTorch reference: max difference {diff:.1e} (float64).")
    forward = table[table["pass"] == "forward"].set_index("backend")["frac_copy"]
    if len(forward):
        best = forward.idxmax()
        lines.append(
            f"Fastest forward here: {best}, at {forward[best]:.2f} of a plain copy's bandwidth "
            f"(pure PyTorch: {forward.get('torch', float('nan')):.2f})."
        )
    return lines
