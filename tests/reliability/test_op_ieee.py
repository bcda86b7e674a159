"""Non-finite inputs through the interlace shift: inf and NaN reach exactly the output frames the formula
y[t] = w[t]·((1-f)·x[t-k] + f·x[t-k-1]) sends them to, with IEEE arithmetic (0·inf = NaN at integer offsets),
in the reference and the C++ kernel alike."""

from __future__ import annotations

import pytest
import torch

from paperlib.ops import available_backends, interlace_shift

BACKENDS = [b for b in available_backends("cpu")]


@pytest.mark.parametrize("backend", BACKENDS)
def test_inf_and_nan_land_where_the_formula_sends_them(backend):
    x = torch.randn(1, 6, 8, 2, 2, dtype=torch.float64)  # 8 channels, 2 groups (channels 0-3 and 4-7)
    x[0, 2, 0, 0, 0] = float("inf")  # group 0
    x[0, 3, 5, 1, 1] = float("nan")  # group 1
    offset = torch.tensor([[0.5, -1.25]], dtype=torch.float64)
    weight = torch.rand(1, 6, 2, dtype=torch.float64) + 0.5
    y = interlace_shift(x, offset, weight, backend=backend)
    # group 0, b = 0.5 (k = 0, f = 0.5): y[t] mixes x[t] and x[t-1] -> the inf reaches frames 2 and 3
    assert y[0, :, 0, 0, 0].isinf().tolist() == [False, False, True, True, False, False]
    # group 1, b = -1.25 (k = -2, f = 0.75): y[t] mixes x[t+2] and x[t+1] -> the NaN reaches frames 1 and 2
    assert y[0, :, 5, 1, 1].isnan().tolist() == [False, True, True, False, False, False]
    hit = torch.zeros_like(y, dtype=torch.bool)
    hit[0, 2:4, 0, 0, 0] = hit[0, 1:3, 5, 1, 1] = True
    assert torch.isfinite(y[~hit]).all()  # nothing else is touched


@pytest.mark.parametrize("backend", BACKENDS)
def test_an_integer_offset_multiplies_the_unused_tap_by_zero(backend):
    x = torch.zeros(1, 4, 4, 1, 1, dtype=torch.float64)
    x[0, 1, 0] = float("inf")
    offset = torch.tensor([[1.0, 0.0]], dtype=torch.float64)  # group 0: k = 1, f = 0
    y = interlace_shift(x, offset, torch.ones(1, 4, 2, dtype=torch.float64), backend=backend)
    # y[t] = 1·x[t-1] + 0·x[t-2]: frame 2 gets inf, frame 3 gets 0·inf = NaN, as IEEE arithmetic says
    column = y[0, :, 0, 0, 0]
    assert column[2].item() == float("inf") and column[3].isnan() and column[:2].eq(0).all()
