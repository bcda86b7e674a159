"""ImageNet start: recipes that need it fail at once naming torchvision's file; a torchvision-layout file loads
into the backbone and leaves the new classifier alone."""

import pytest
import torch
import torchvision

from paperlib.engine.config import ConfigError, check_pretrained, load_config
from paperlib.models import create, load_checkpoint
from paperlib.train import main as train_main


@pytest.mark.parametrize("model", ["tsn", "tsm", "tin"])
def test_sthv1_recipes_start_from_imagenet_and_fail_without_the_file(model, capsys):
    config = load_config(f"{model}_r50_1x1x8_40e_sthv1")
    assert config.model.pretrained == "imagenet"
    with pytest.raises(ConfigError, match=r"resnet50-0676ba61\.pth.*model\.pretrained=PATH.*model\.pretrained=none"):
        check_pretrained(config)
    assert train_main(["--config", f"{model}_r50_1x1x8_40e_sthv1", "data.root=/nonexistent"]) == 2
    assert "resnet50-0676ba61.pth" in capsys.readouterr().err  # failed before looking at the data
    check_pretrained(load_config(f"{model}_r50_1x1x8_40e_sthv1", ["model.pretrained=none"]))
    assert load_config(f"{model}_r50_1x1x8_40e_sthv1", ["model.pretrained=none"]).model.pretrained is None


def test_resnet101_names_its_file():
    config = load_config(None, ["model.name=tsm_r101", "model.pretrained=imagenet"])
    with pytest.raises(ConfigError, match=r"resnet101-63fe2227\.pth"):
        check_pretrained(config)


@pytest.mark.parametrize("name", ["smoke", "embedded_mmit"])
def test_plumbing_and_shared_small_recipes_train_from_scratch(name):
    # smoke: the engine's plumbing recipe; embedded_mmit: the 3D models' too (paperlib.experiments.mmit starts
    # the 2D ones from the embedded ImageNet)
    config = load_config(name)
    assert config.model.pretrained is None
    check_pretrained(config)


def test_small_table1_recipe_starts_from_the_embedded_imagenet_and_says_how_to_get_it():
    config = load_config("embedded_sthv1")
    assert config.model.pretrained == "imagenet"
    with pytest.raises(ConfigError, match=r"python -m paperlib\.experiments\.pretrain --scale embedded --width 16 "):
        check_pretrained(config)
    deeper = load_config("embedded_sthv1", ["model.options.depths=[2, 2, 2, 2]"])
    with pytest.raises(ConfigError, match=r"--depths 2 2 2 2`.*model\.pretrained=PATH"):
        check_pretrained(deeper)


def test_torchvision_layout_file_fills_the_backbone_not_the_classifier(tmp_path):
    torch.manual_seed(0)
    imagenet = torchvision.models.resnet50()
    path = tmp_path / "resnet50-0676ba61.pth"
    torch.save(imagenet.state_dict(), path)
    model = create("tsm_r50", 5, 8)
    fc_before = model.fc.weight.detach().clone()
    report = load_checkpoint(model, str(path), strict=False)
    assert [m.split(":")[0] for m in report.mismatched] == ["fc.weight", "fc.bias"]
    assert torch.equal(model.conv1.weight, imagenet.conv1.weight)
    assert torch.equal(model.layer4[2].conv3.weight, imagenet.layer4[2].conv3.weight)
    assert torch.equal(model.layer1[0].bn1.running_mean, imagenet.layer1[0].bn1.running_mean)
    assert torch.equal(model.fc.weight, fc_before)
