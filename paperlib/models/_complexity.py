"""Parameter and FLOP counts of a model for one input, with ``torch.utils.flop_counter``."""

from __future__ import annotations

import copy

import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode


def complexity(model: nn.Module, input_shape: tuple[int, ...]) -> dict[str, float]:
    """Count parameters and GFLOPs of one forward pass.

    Args:
        model: any module; it is not modified (a copy runs on the ``meta`` device, so nothing is computed).
        input_shape: the full input shape including the batch, e.g. ``(1, 3, 8, 224, 224)`` for one view.

    Returns:
        ``dict(params=int, gflops=float)``. GFLOPs count one multiply-add as one FLOP, as the papers and
        model zoos do (torchvision lists ResNet-50 at 224² as 4.09 GFLOPs); ``FlopCounterMode`` counts a
        multiply-add as two, so its total is halved. Only matrix products and convolutions are counted.
    """
    params = sum(p.numel() for p in model.parameters())
    meta_model = copy.deepcopy(model).to("meta").eval()
    counter = FlopCounterMode(display=False)
    with torch.no_grad(), counter:
        meta_model(torch.empty(input_shape, device="meta"))
    return {"params": params, "gflops": counter.get_total_flops() / 2 / 1e9}
