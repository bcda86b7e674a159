"""The embedded ImageNet stage: the generated set in ImageNet's layout (read by torchvision's ImageFolder), the
pretrained backbone in torchvision's ResNet state-dict layout, and its route into TSN/TSM/TIN."""

from __future__ import annotations

import re

import numpy as np
import pytest
from torchvision.datasets import ImageFolder

from paperlib.data.synthetic.imagenet import CLASSES, HUES, SCALES, make_imagenet, render_image


@pytest.fixture(scope="module")
def imagenet(tmp_path_factory):
    return make_imagenet(tmp_path_factory.mktemp("imagenet"), "smoke", seed=0)


def test_layout_reads_with_imagefolder(imagenet):
    scale = SCALES["smoke"]
    assert re.fullmatch(r"imagenet-smoke-s0-[0-9a-f]{10}", imagenet.root.name)
    assert len(CLASSES) == 5 * len(HUES) == 40
    lines = imagenet.label_map.read_text(encoding="utf-8").splitlines()
    assert [line.split(" ", 1)[0] for line in lines] == list(CLASSES)
    for split, per_class in (("train", scale.train_per_class), ("val", scale.val_per_class)):
        folder = ImageFolder(str(imagenet.splits[split]))
        assert folder.classes == list(CLASSES)  # ImageFolder's sorted folders are the labels of the mapping file
        assert len(folder) == per_class * len(CLASSES) == imagenet.fingerprint["counts"][split]
        assert np.bincount(folder.targets).tolist() == [per_class] * len(CLASSES)
        image, label = folder[len(folder) - 1]
        assert image.mode == "RGB" and image.size == (scale.size, scale.size) and label == len(CLASSES) - 1
    names = sorted(p.name for p in (imagenet.root / "val" / CLASSES[0]).iterdir())
    assert all(re.fullmatch(r"ILSVRC2012_val_\d{8}\.JPEG", n) for n in names)
    assert (imagenet.root / "train" / CLASSES[3] / f"{CLASSES[3]}_0.JPEG").is_file()


def test_cached_and_deterministic(imagenet, tmp_path):
    again = make_imagenet(imagenet.root.parent, "smoke", seed=0)
    assert again.root == imagenet.root and again.fingerprint == imagenet.fingerprint
    other = make_imagenet(tmp_path, "smoke", seed=0)
    first = sorted((imagenet.root / "train").rglob("*.JPEG"))[:5]
    assert [p.read_bytes() for p in first] == [(other.root / p.relative_to(imagenet.root)).read_bytes() for p in first]
    assert make_imagenet(tmp_path, "smoke", seed=1).root != other.root


def test_the_class_is_the_main_objects_shape_and_colour():
    scale = SCALES["smoke"]
    a = render_image(CLASSES.index("disk_red"), scale, np.random.default_rng(0))
    b = render_image(CLASSES.index("disk_red"), scale, np.random.default_rng(1))
    assert a.shape == (scale.size, scale.size, 3) and a.dtype == np.uint8
    assert not np.array_equal(a, b)  # random backgrounds, positions, sizes and clutter
    # a clean image (no clutter, texture or noise): the object's pixels have its bin's hue
    clean = type(scale)(size=40, train_per_class=1, val_per_class=1, max_distractors=0, texture=0, noise=0, occluder=0)
    for name in ("box_green", "triangle_azure"):
        image = render_image(CLASSES.index(name), clean, np.random.default_rng(2)).astype(float)
        background = image[0, 0]
        object_pixels = image[np.abs(image - background).sum(-1) > 60]
        assert len(object_pixels) > 10
        r, g, b = object_pixels.mean(0)
        assert (g > r and g > b) if name == "box_green" else (b > r)
