"""Clip transforms: the same spatial operation on every frame of a clip (torchvision ``transforms.v2``).

Clips are ``uint8`` tensors ``(T, 3, H, W)``; the outputs are normalised ``float32`` tensors ``(3, T, h, w)``
(training, one view) or ``(V, 3, T, h, w)`` (testing, ``V`` spatial views). Random choices come from the
``numpy.random.Generator`` passed in, so they are deterministic given the dataset's seed.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from torch import Tensor
from torchvision.transforms.v2 import functional as F

from .protocols import check_protocol, crop_boxes

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


def _finish(clip: Tensor, mean: Sequence[float], std: Sequence[float]) -> Tensor:
    """``uint8 (T, 3, h, w)`` -> normalised ``float32 (3, T, h, w)``."""
    clip = F.normalize(clip.float().div_(255), list(mean), list(std))
    return clip.transpose(0, 1).contiguous()


def multiscale_crop_box(
    height: int,
    width: int,
    size: int,
    rng: np.random.Generator,
    scales: Sequence[float] = (1, 0.875, 0.75, 0.66),
    max_distort: int = 1,
) -> tuple[int, int, int, int]:
    """TSN's ``GroupMultiScaleCrop``: a random (top, left, h, w) box.

    Side lengths are ``int(min(H, W) · scale)`` (snapped to ``size`` when within 3 pixels), width and height
    scales at most ``max_distort`` steps apart; the box sits at one of 13 fixed positions (corners, centre,
    edge midpoints and quarter points).
    """
    base = min(height, width)
    sides = [int(base * s) for s in scales]
    sides = [size if abs(s - size) < 3 else s for s in sides]
    pairs = [(h, w) for i, h in enumerate(sides) for j, w in enumerate(sides) if abs(i - j) <= max_distort]
    crop_h, crop_w = pairs[rng.integers(len(pairs))]
    h_step, w_step = (height - crop_h) // 4, (width - crop_w) // 4
    positions = [(0, 0), (0, 4), (4, 0), (4, 4), (2, 2), (2, 0), (2, 4), (4, 2), (0, 2), (1, 1), (1, 3), (3, 1), (3, 3)]
    row, col = positions[rng.integers(len(positions))]
    return row * h_step, col * w_step, crop_h, crop_w


class TrainTransform:
    """Multi-scale crop -> resize to ``size``² -> optional horizontal flip -> normalise; one view
    ``(3, T, size, size)``.

    Args:
        size: output side in pixels (224 for the papers' models).
        flip: random horizontal flip. Off for Something-Something, whose labels say left/right.
    """

    def __init__(
        self,
        size: int = 224,
        flip: bool = True,
        scales: Sequence[float] = (1, 0.875, 0.75, 0.66),
        mean: Sequence[float] = IMAGENET_MEAN,
        std: Sequence[float] = IMAGENET_STD,
    ) -> None:
        self.size, self.flip, self.scales, self.mean, self.std = size, flip, tuple(scales), mean, std

    def __call__(self, clip: Tensor, rng: np.random.Generator) -> Tensor:
        top, left, h, w = multiscale_crop_box(clip.shape[-2], clip.shape[-1], self.size, rng, self.scales)
        clip = F.resized_crop(clip, top, left, h, w, [self.size, self.size], antialias=True)
        if self.flip and rng.random() < 0.5:
            clip = F.horizontal_flip(clip)
        return _finish(clip, self.mean, self.std)


class TestTransform:
    """Resize the short side to ``scale_size``, then ``crops`` views placed by the test ``protocol``
    (:func:`.protocols.crop_boxes`): 1 = centre ``size``² crop; 3 = ``paperlib`` (ours): three ``scale_size``²
    squares along the long side, ``tin``/``tsm``/``xtemporal``: ``GroupFullResSample``'s three ``size``² crops
    (``size = scale_size`` gives their "full resolution" 3 × 256²); ``(V, 3, T, h, w)``."""

    __test__ = False  # not a pytest test class

    def __init__(
        self,
        size: int = 224,
        scale_size: int = 256,
        crops: int = 1,
        mean: Sequence[float] = IMAGENET_MEAN,
        std: Sequence[float] = IMAGENET_STD,
        protocol: str = "paperlib",
    ) -> None:
        if crops not in (1, 3):
            raise ValueError(f"test crops must be 1 or 3, got {crops}")
        self.size, self.scale_size, self.crops, self.mean, self.std = size, scale_size, crops, mean, std
        self.protocol = check_protocol(protocol)

    def __call__(self, clip: Tensor) -> Tensor:
        clip = F.resize(clip, [self.scale_size], antialias=True)  # short side
        boxes = crop_boxes(self.protocol, clip.shape[-2], clip.shape[-1], self.size, self.crops)
        return torch.stack([_finish(F.crop(clip, *box), self.mean, self.std) for box in boxes])
