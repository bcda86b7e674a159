"""Model registry: ``@register_model`` on a builder, ``create(name, ...)`` to build, ``available()`` to list.

A builder is a keyword-only function ``name(*, num_classes, num_segments, **options) -> nn.Module`` whose
model takes a clip batch ``Tensor[N, 3, T, H, W]`` and returns logits ``Tensor[N, num_classes]``.
Published numbers for the model sit beside its builder (``reported=``), apart from anything we measure.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from torch import nn


@dataclass(frozen=True)
class Reported:
    """Published facts about a model, each with its source (never a measured number)."""

    params: int | None = None  # at `num_classes`
    num_classes: int | None = None
    gflops: float | None = None  # per view, multiply-adds (1 MAC = 1 FLOP), at `input_shape`
    input_shape: tuple[int, ...] | None = None  # (3, T, H, W) of one view
    source: str = ""
    notes: dict = field(default_factory=dict)


_BUILDERS: dict[str, Callable[..., nn.Module]] = {}
_REPORTED: dict[str, Reported] = {}


def register_model(fn: Callable[..., nn.Module] | None = None, *, reported: Reported | None = None):
    """Register a builder under its function name (a duplicate name raises)."""

    def register(builder: Callable[..., nn.Module]) -> Callable[..., nn.Module]:
        name = builder.__name__
        if name in _BUILDERS:
            raise ValueError(f"a model named {name!r} is already registered")
        _BUILDERS[name] = builder
        if reported is not None:
            _REPORTED[name] = reported
        return builder

    return register(fn) if fn is not None else register


def available() -> list[str]:
    """Names of the registered models."""
    return sorted(_BUILDERS)


def reported(name: str) -> Reported | None:
    """Published parameter count / GFLOPs of a model (with source), if any."""
    return _REPORTED.get(name)


def create(name: str, num_classes: int, num_segments: int = 8, **options) -> nn.Module:
    """Build a registered model.

    Args:
        name: one of :func:`available`.
        num_classes: size of the classifier output.
        num_segments: frames per clip ``T`` the model is built for (TIN's offset net depends on it).
        **options: builder options (``dropout``, ``width``, ``depths``, ``pretrained_backbone`` ...).

    The construction arguments are kept on the model (``model.paperlib_config``) so checkpoints written by
    :func:`paperlib.models.save_checkpoint` can rebuild it.
    """
    if name not in _BUILDERS:
        raise ValueError(f"unknown model {name!r}; available: {', '.join(available())}")
    model = _BUILDERS[name](num_classes=num_classes, num_segments=num_segments, **options)
    model.paperlib_config = dict(name=name, num_classes=num_classes, num_segments=num_segments, **options)
    return model
