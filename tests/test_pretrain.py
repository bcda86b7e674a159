"""The embedded ImageNet stage: the generated set in ImageNet's layout (read by torchvision's ImageFolder), the
pretrained backbone in torchvision's ResNet state-dict layout, and its route into TSN/TSM/TIN."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
import torch
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


# ---- the pretrained backbone ------------------------------------------------------------------------------


def test_backbone_state_dict_is_torchvisions_resnet_layout():
    import torchvision
    from torchvision.models.resnet import Bottleneck

    from paperlib.engine.pretrain import backbone, torchvision_state_dict

    # at torchvision's width (64) the file loads strictly into torchvision's own ResNet of the same blocks
    state = torchvision_state_dict(backbone(7, 64, [1, 2, 1, 1]))
    torchvision.models.ResNet(Bottleneck, [1, 2, 1, 1], num_classes=7).load_state_dict(state, strict=True)
    # at the small scales' width every key is one of resnet50's (the blocks present), with the same kind of tensor
    small = torchvision_state_dict(backbone(40, 16, [1, 1, 1, 1]))
    with torch.device("meta"):
        reference = torchvision.models.resnet50().state_dict()
    assert set(small) == {k for k in reference if not re.match(r"layer\d\.[1-9]\.", k)}
    for key, value in small.items():
        assert value.dim() == reference[key].dim() and value.dtype == reference[key].dtype, key
    assert small["conv1.weight"].shape == (16, 3, 7, 7) and small["fc.weight"].shape == (40, 512)


@pytest.fixture(scope="module")
def pretrained(tmp_path_factory):
    """The smoke-scale pretraining (a few steps) through the run cache."""
    from paperlib.experiments.pretrain import pretrain_config, pretrained_backbone

    cache = tmp_path_factory.mktemp("datasets")
    results = tmp_path_factory.mktemp("results")
    config = pretrain_config("smoke", 16, [1, 1, 1, 1], str(cache))
    return pretrained_backbone(config, results), config, results


def test_pretraining_is_cached_and_measured(pretrained):
    import json

    from paperlib.experiments.pretrain import pretrain_folder, pretrained_backbone, summary

    path, config, results = pretrained
    assert path.name == "resnet.pth" and path.parent == pretrain_folder(config, results)
    assert path.parent.parent == results / "pretrain" and path.parent.name.startswith("resnet50_w16_d1111-")
    record = json.loads((path.parent / "metrics.json").read_text())
    assert 0 <= record["metrics"]["top1"] <= record["metrics"]["top5"] <= 100
    written = path.stat().st_mtime_ns
    assert pretrained_backbone(config, results) == path and path.stat().st_mtime_ns == written  # not retrained
    assert summary(path)["classes"] == 40 and summary(path)["layout"] == "resnet50_w16_d1111"
    deeper = pretrain_folder(type(config)(**{**config.__dict__, "depths": [2, 2, 2, 2]}), results)
    assert deeper != path.parent  # another layout, another run


@pytest.mark.parametrize("name", ["tsn_r50", "tsm_r50", "tin_r50", "tconv_r50"])
def test_pretrained_file_fills_every_2d_model_but_its_temporal_layers_and_classifier(pretrained, name):
    from paperlib.models import create, load_checkpoint

    path, _, _ = pretrained
    state = torch.load(path, weights_only=True)
    model = create(name, 10, 8, width=16, depths=[1, 1, 1, 1])
    report = load_checkpoint(model, path, strict=False)
    assert report.format == "paperlib/torchvision" and not report.unexpected
    assert [m.split(":")[0] for m in report.mismatched] == ["fc.weight", "fc.bias"]  # 40 classes here, 10 there
    assert all(".temporal." in k for k in report.missing)  # TIN's OffsetNet/WeightNet, r-TCN's convolution
    assert bool(report.missing) == (name in ("tin_r50", "tconv_r50"))  # TSN has no temporal layer, TSM's none
    assert torch.equal(model.layer3[0].conv2.weight, state["layer3.0.conv2.weight"])
    assert torch.equal(model.layer1[0].bn1.running_var, state["layer1.0.bn1.running_var"])


def test_small_recipes_start_from_the_embedded_imagenet_by_model_pretrained(pretrained, tmp_path):
    """``model.pretrained: imagenet`` on the embedded data resolves to the embedded ImageNet's backbone of the
    run's layout (trained once, in the run cache), and the run's key names that file's run."""
    from paperlib.engine.config import load_config
    from paperlib.experiments.cache import run_folder

    path, config, results = pretrained
    run = load_config(
        "smoke",
        ["model.pretrained=imagenet", "model.name=tsm_r50", f"data.cache_dir={Path(config.data).parent}"],
    )
    run_folder(run, results, None)
    assert Path(run.model.pretrained) == path


def test_the_chapter_finds_the_backbone_its_runs_started_from_and_shows_its_images(pretrained, tmp_path):
    import yaml

    from paperlib.experiments.pretrain import backbones_used, train_folder
    from paperlib.viz.imagenet import samples_figure

    path, config, _ = pretrained
    runs = []
    for name, start in (("eight", str(path)), ("sixteen", str(tmp_path / "eight" / "last.pth")), ("scratch", None)):
        (tmp_path / name).mkdir()
        (tmp_path / name / "config.yaml").write_text(yaml.safe_dump({"model": {"pretrained": start}}))
        runs.append(tmp_path / name)
    assert backbones_used([*runs, tmp_path / "missing"]) == [path]  # once, and only a pretraining's file
    assert train_folder(path) == Path(config.data) / "train"
    figure = samples_figure(train_folder(path))
    titles = [ax.get_title() for ax in figure.axes if ax.get_title()]
    assert titles == [name.replace("_", " ") for name in CLASSES]
