"""``torch.hub.load(<checkout>, name, source="local")`` builds every registered model (hubconf.py)."""

import importlib.util
from pathlib import Path

import pytest
import torch

import paperlib.models as models

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def hubconf():
    spec = importlib.util.spec_from_file_location("hubconf", ROOT / "hubconf.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_hubconf_exposes_every_registered_model(hubconf):
    # torch.hub's own listing: the module's public callables
    entry_points = sorted(name for name in dir(hubconf) if callable(getattr(hubconf, name)) and not name[0] == "_")
    assert entry_points == models.available() and "tin_r50" in entry_points
    assert hubconf.dependencies == ["torch", "torchvision"]
    for name in entry_points:
        assert getattr(hubconf, name).__name__ == name and repr(name) in getattr(hubconf, name).__doc__


@pytest.mark.parametrize("name", ["tin_r50", "slowfast_r50"])
def test_hub_load_builds_the_model_with_its_options(name):
    small = {"width": 16, "depths": [1, 1, 1, 1]}
    model = torch.hub.load(str(ROOT), name, source="local", num_classes=5, num_segments=4, **small).eval()
    reference = models.create(name, 5, 4, **small)
    assert type(model) is type(reference) and model.paperlib_config == reference.paperlib_config
    assert sum(p.numel() for p in model.parameters()) == sum(p.numel() for p in reference.parameters())
    with torch.no_grad():
        assert model(torch.randn(2, 3, 4, 32, 32)).shape == (2, 5)
