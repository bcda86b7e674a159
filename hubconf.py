"""``torch.hub`` entry points: one per registered paperlib model (:func:`paperlib.models.available`).

    model = torch.hub.load("/path/to/clone", "tin_r50", source="local", num_classes=174, num_segments=8)

Each entry point takes the arguments of :func:`paperlib.models.create` after the name: ``num_classes``,
``num_segments`` and the builder's options (``dropout``, ``width``, ``depths``, ...).
"""

# Only the entry points are public callables here: torch.hub lists the module's public callables.
import collections.abc

import torch

from paperlib import models as _models

dependencies = ["torch", "torchvision"]


def _entry_point(name: str) -> collections.abc.Callable[..., torch.nn.Module]:
    def build(num_classes: int, num_segments: int = 8, **options) -> torch.nn.Module:
        return _models.create(name, num_classes, num_segments, **options)

    build.__name__ = build.__qualname__ = name
    build.__doc__ = f"``paperlib.models.create({name!r}, num_classes, num_segments, **options)``."
    return build


globals().update({name: _entry_point(name) for name in _models.available()})
