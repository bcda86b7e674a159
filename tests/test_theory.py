"""The interlace shift equals a 2-tap depthwise temporal convolution (values and gradients); TSM is b = ±1."""

import pytest
import torch

from paperlib.experiments.theory import interlace_kernel, interlace_shift_via_conv
from paperlib.ops import interlace_shift


def test_kernel_taps():
    kernel = interlace_kernel(torch.tensor([[0.25, -1.0, 7.0]], dtype=torch.float64), num_frames=4)  # D = 5
    assert kernel.shape == (1, 3, 11)
    assert kernel[0, 0, 5].item() == 0.75 and kernel[0, 0, 6].item() == 0.25 and kernel[0, 0].sum() == 1
    assert kernel[0, 1, 4].item() == 1.0 and kernel[0, 1].sum() == 1  # TSM: one tap at lag -1
    assert kernel[0, 2].sum() == 0  # beyond the clip: no tap


@pytest.mark.parametrize("shift_channels", [None, 8])
def test_conv_form_equals_the_op_in_values_and_gradients(shift_channels):
    torch.manual_seed(0)
    x = torch.randn(2, 6, 16, 3, 2, dtype=torch.float64)
    offset = torch.rand(2, 4, dtype=torch.float64) * 5 - 2.5
    offset = offset.floor() + (offset - offset.floor()).clamp(0.1, 0.9)
    weight = torch.rand(2, 6, 4, dtype=torch.float64) * 2
    results = []
    for fn in (
        lambda *a: interlace_shift(*a, shift_channels=shift_channels, backend="torch"),
        lambda *a: interlace_shift_via_conv(*a, shift_channels=shift_channels),
    ):
        leaves = [t.clone().requires_grad_() for t in (x, offset, weight)]
        out = fn(*leaves)
        out.backward(torch.cos(torch.arange(out.numel(), dtype=out.dtype)).reshape(out.shape))
        results.append([out.detach()] + [t.grad for t in leaves])
    for a, b in zip(*results):
        torch.testing.assert_close(a, b, rtol=0, atol=1e-12)
