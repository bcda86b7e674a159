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
class ReportedResult:
    """One published accuracy (never a measured number): what the source reports for a model on a dataset."""

    dataset: str  # e.g. "Something-Something v1"
    metric: str  # e.g. "top1", "mAP (sample-wise)"
    value: float  # percent
    frames: str  # frames per clip as the source writes them: "8", "16", "8+16" (an ensemble of both)
    views: str  # test views, e.g. "1 crop x 1 clip", "3 crops x 10 clips"
    source: str  # paper and table, or repository and file
    label: str = ""  # how the source names the row, when it is not just the model


@dataclass(frozen=True)
class Reported:
    """Published facts about a model, each with its source (never a measured number)."""

    params: int | None = None  # at `num_classes`
    num_classes: int | None = None
    gflops: float | None = None  # per view, multiply-adds (1 MAC = 1 FLOP), at `input_shape`
    input_shape: tuple[int, ...] | None = None  # (3, T, H, W) of one view
    source: str = ""
    notes: dict = field(default_factory=dict)
    results: tuple[ReportedResult, ...] = ()  # published accuracies of the architecture (not of a checkpoint)


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


def reported_results(dataset: str | None = None) -> list[tuple[str, ReportedResult]]:
    """Every published accuracy in the registry, as ``(model name, result)``, optionally for one dataset.
    Accuracies of published checkpoints are in :data:`paperlib.models.zoo.PUBLISHED`."""
    return [
        (name, r)
        for name in available()
        for r in (_REPORTED[name].results if name in _REPORTED else ())
        if dataset is None or r.dataset == dataset
    ]


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
