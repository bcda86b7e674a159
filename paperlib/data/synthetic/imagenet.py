"""Synthetic ImageNet: still images from the embedded videos' world, one labelled object each, in ImageNet's layout.

The originals never train TSN, TSM or TIN from scratch: they start from torchvision's ImageNet ResNet-50. This set
stands in for ImageNet at the small scales (ours): each image is one frame of the embedded Something set's world
(its textured backgrounds, its object shapes and colours, smaller distractor objects, an occluding bar, pixel
noise), with no motion. The class is the main object's (shape, colour): the five shapes of
:data:`~._common.SHAPES` times eight hue bins, 40 classes. Recognising them needs what the videos need first: to
find the object against the background and clutter, whatever its size, position and orientation.

Layout (as torchvision's ``ImageFolder`` and the ImageNet training scripts read it)::

    LOC_synset_mapping.txt          <class folder> <description>, one line per class, in label order
    train/<class>/<class>_<n>.JPEG  RGB, size x size
    val/<class>/ILSVRC2012_val_<8 digits>.JPEG
"""

from __future__ import annotations

import colorsys
import os
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from ._common import (
    SHAPES,
    GeneratedDataset,
    Layout,
    cached_folder,
    draw_shape,
    generate_cached,
    random_colour,
    resolve_scale,
    textured_background,
    to_uint8,
)

GENERATOR = "imagenet"
LABEL_MAP = "LOC_synset_mapping.txt"
SPLITS = ("train", "val")
# eight hue bins, named by their centre (hue k/8); an object's hue lies within 1/32 of its bin's centre, so
# neighbouring bins are 1/16 of the colour circle apart
HUES = ("red", "amber", "lime", "green", "cyan", "azure", "violet", "magenta")
CLASSES = tuple(sorted(f"{shape}_{hue}" for shape in SHAPES for hue in HUES))  # sorted: ImageFolder's label order


LAYOUT = Layout(label_map=LABEL_MAP, splits={split: split for split in SPLITS}, data_dir="", classes=CLASSES)


@dataclass(frozen=True)
class ImageNetScale:
    """Sizes and clutter of one generated set: ``size`` in pixels (square images), images per class and split,
    ``max_distractors`` smaller objects behind the main one, ``occluder`` the chance of a bar in front of it,
    ``texture`` (background blotch amplitude) and ``noise`` (pixel noise std) in 0-255 units."""

    size: int
    train_per_class: int
    val_per_class: int
    max_distractors: int = 2
    texture: float = 20.0
    noise: float = 4.0
    occluder: float = 0.15
    jpeg_quality: int = 90


SCALES = {
    "smoke": ImageNetScale(size=32, train_per_class=3, val_per_class=1),
    # the embedded Something set's frame size; 40 classes x 200 images (8000, as many frames as one epoch of
    # the embedded Something set's 1000 clips at 8 frames)
    "embedded": ImageNetScale(size=40, train_per_class=200, val_per_class=25),
}


def object_colour(hue_bin: int, rng: np.random.Generator) -> np.ndarray:
    """An RGB colour ``[3]`` (0-255) of hue bin ``hue_bin`` (:data:`HUES`), saturated and bright enough to name."""
    hue = (hue_bin / len(HUES) + rng.uniform(-1, 1) / (4 * len(HUES))) % 1.0
    rgb = colorsys.hsv_to_rgb(hue, rng.uniform(0.6, 1.0), rng.uniform(0.55, 1.0))
    return np.array(rgb, dtype=np.float32) * 255


def render_image(label: int, scale: ImageNetScale, rng: np.random.Generator) -> np.ndarray:
    """One image of class ``CLASSES[label]`` as uint8 ``[size, size, 3]`` (RGB)."""
    shape, hue = CLASSES[label].split("_")
    size = scale.size
    image = textured_background(rng, size, scale.texture)[None]  # [1, S, S, 3]: one frame
    for _ in range(rng.integers(0, scale.max_distractors + 1)):  # smaller objects of any shape and colour
        cx, cy = rng.uniform(0.1, 0.9, size=2) * size
        kind = str(rng.choice(["box", "disk", "triangle"]))
        draw_shape(image, kind, cx, cy, rng.uniform(0.04, 0.08) * size, random_colour(rng), rng.uniform(0, 2 * np.pi))
    # the main object: the videos' sizes, a little larger (the hand is the turning pointer, measured by its length).
    # Measured: drawn up to twice the videos' size, the backbone transferred worse to the videos (ours)
    extent = rng.uniform(0.25, 0.38) if shape == "hand" else rng.uniform(0.1, 0.18)
    cx, cy = rng.uniform(0.3, 0.7, size=2) * size
    draw_shape(image, shape, cx, cy, extent * size, object_colour(HUES.index(hue), rng), rng.uniform(0, 2 * np.pi))
    if rng.uniform() < scale.occluder:  # a bar in front, as in the videos, sometimes over part of the object
        width = max(2, int(rng.uniform(0.06, 0.12) * size))
        start = int(rng.integers(0, size - width))
        band = (
            (slice(None), slice(start, start + width))
            if rng.uniform() < 0.5
            else (slice(None), slice(None), slice(start, start + width))
        )
        image[band] = random_colour(rng, value=(0.2, 0.9))
    return to_uint8(image, rng, scale.noise)[0]


def image_rng(seed: int, split: str, label: int, index: int) -> np.random.Generator:
    """The generator of one image: keyed by (seed, split, class, index), independent of the other images."""
    return np.random.default_rng([seed, SPLITS.index(split), label, index])


def image_name(split: str, label: int, index: int, per_class: int) -> str:
    """ImageNet's file names: ``<class>_<n>.JPEG`` (train), ``ILSVRC2012_val_<8 digits>.JPEG`` (val)."""
    if split == "train":
        return f"{CLASSES[label]}_{index}.JPEG"
    return f"ILSVRC2012_val_{label * per_class + index + 1:08d}.JPEG"


def _write(folder: Path, scale: ImageNetScale, seed: int) -> tuple[dict[str, int], int]:
    descriptions = "".join(f"{name} {name.replace('_', ' ')}\n" for name in CLASSES)
    (folder / LABEL_MAP).write_text(descriptions, encoding="utf-8")
    counts = {}
    for split, per_class in (("train", scale.train_per_class), ("val", scale.val_per_class)):
        for label, name in enumerate(CLASSES):
            out = folder / split / name
            out.mkdir(parents=True)
            for index in range(per_class):
                image = render_image(label, scale, image_rng(seed, split, label, index))
                path = out / image_name(split, label, index, per_class)
                Image.fromarray(image).save(path, format="JPEG", quality=scale.jpeg_quality)
        counts[split] = per_class * len(CLASSES)
    return counts, len(CLASSES)


def imagenet_folder(root: str | os.PathLike, scale: str = "embedded", seed: int = 0) -> Path:
    """The folder :func:`make_imagenet` writes (or finds) for a scale of :data:`SCALES`, without generating it."""
    return cached_folder(root, GENERATOR, scale, asdict(SCALES[scale]), seed)


def make_imagenet(root: str | os.PathLike, scale: str | ImageNetScale = "embedded", seed: int = 0) -> GeneratedDataset:
    """Generate (or find cached) the ImageNet-layout set in a folder under ``root``.

    Args:
        root: parent folder; the dataset goes to ``root/imagenet-<scale>-s<seed>-<hash>``.
        scale: a key of :data:`SCALES` or an :class:`ImageNetScale`.
        seed: everything written is a function of (scale, seed).

    Returns the dataset; ``splits`` maps ``train``/``val`` to the folders ``ImageFolder`` reads.
    """
    name, params = resolve_scale(scale, SCALES)
    return generate_cached(root, GENERATOR, name, params, seed, LAYOUT, lambda tmp: _write(tmp, params, seed))
