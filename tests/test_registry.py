"""Every registered model, taken from the registry (not a hand-written list): a small variant builds, runs
forward and backward on a tiny clip with the right output shape and gradients everywhere, and the full-size
model has the parameter count its source publishes."""

from __future__ import annotations

import pytest
import torch

from paperlib.models import available, create, reported

SMALL = dict(width=16, depths=(1, 1, 1, 1))  # width 16: TIN needs its shifted quarter in 4 groups


@pytest.mark.parametrize("name", available())
def test_small_variant_runs_forward_and_backward(name):
    torch.manual_seed(0)
    model = create(name, 5, 16, **SMALL)
    x = torch.randn(2, 3, 16, 32, 32)
    logits = model(x)
    assert logits.shape == (2, 5)
    logits.square().mean().backward()
    missing = [n for n, p in model.named_parameters() if p.requires_grad and p.grad is None]
    assert not missing, f"{name}: no gradient reached {missing[:5]}"


PUBLISHED = [n for n in available() if reported(n) is not None and reported(n).params]


@pytest.mark.parametrize("name", PUBLISHED)
def test_full_size_parameter_count_matches_the_published_one(name):
    published = reported(name)
    with torch.device("meta"):
        model = create(name, published.num_classes, published.input_shape[1])
    counted = sum(p.numel() for p in model.parameters())
    # Sources that round (PyTorchVideo's model zoo: "32.45M") are matched to their rounding; exact counts exactly.
    rounding = 5_000 if published.params % 10_000 == 0 else 0
    assert abs(counted - published.params) <= rounding, f"{name}: {counted:,} vs published {published.params:,}"
