"""Every published checkpoint the model-zoo chapter lists loads, through the line it prints, strictly."""

import pytest
import torch
import torchvision

from paperlib.models import create, load_checkpoint  # noqa: F401  (names the printed call uses)
from paperlib.models.zoo import PUBLISHED

from .test_checkpoints_3d import PEER_KEYS, peer_state_dict
from .test_models_2d import mmaction2_key, official_key

# PyTorchVideo keys and shapes dumped from the library (tests/fixtures/pytorchvideo_keys.json), per zoo file.
PYTORCHVIDEO_KEYS = {
    "SLOW_8x8_R50.pyth": "pytorchvideo slow_r50",
    "I3D_8x8_R50.pyth": "pytorchvideo i3d_r50",
    "SLOWFAST_4x16_R50.pyth": "pytorchvideo slowfast_r50_4x16",
    "SLOWFAST_8x8_R50.pyth": "pytorchvideo slowfast_r50_8x8",
}


def _peer_file(entry, model, path):
    """A checkpoint of ``model``'s weights in the entry's published layout (keys from tin-facts §4)."""
    sd = model.state_dict()
    tsm = entry.model.startswith("tsm_")
    if entry.fmt.startswith("official"):
        torch.save({"epoch": 1, "arch": "resnet", "state_dict": {official_key(k, tsm): v for k, v in sd.items()}}, path)
    elif entry.fmt.startswith("X-Temporal"):
        torch.save({"epoch": 1, "model": {official_key(k, tsm): v for k, v in sd.items()}}, path)
    elif entry.fmt.startswith("mmaction2"):
        torch.save({"meta": {}, "state_dict": {mmaction2_key(k, tsm): v for k, v in sd.items()}}, path)
    else:
        raise AssertionError(f"no writer for {entry.fmt}")


@pytest.mark.parametrize(
    "entry", PUBLISHED, ids=lambda e: f"{e.model}-{e.num_classes}-{e.frames}f-{e.source.split()[0]}"
)
def test_published_checkpoint_loads_through_its_call(entry, tmp_path, monkeypatch):
    torch.manual_seed(0)
    if entry.fmt == "torchvision":  # the weights' layout is torchvision's own model: no download in tests
        reference = getattr(torchvision.models.video, entry.model)(num_classes=entry.num_classes).eval()
        state = reference.state_dict()
        call = entry.call().replace(entry.load_from, "state")
        loaded = eval(call, {"create": create, "load_checkpoint": load_checkpoint, "state": state})
    elif entry.fmt.startswith("pytorchvideo"):  # at full size: the fixture has the library's real shapes
        file = eval(entry.load_from)
        torch.save({"model_state": peer_state_dict(PEER_KEYS[PYTORCHVIDEO_KEYS[file]]["keys"])}, tmp_path / file)
        monkeypatch.chdir(tmp_path)
        call = entry.call()
        loaded = eval(call, {"create": create, "load_checkpoint": load_checkpoint})
    else:  # at a small width and depth: the key layout is the same at every size, and it runs in a second
        small = lambda *args, **kwargs: create(*args, **kwargs, width=16, depths=(1, 1, 1, 1))  # noqa: E731
        reference = small(entry.model, entry.num_classes, entry.frames, **entry.options).eval()
        for p in reference.parameters():  # distinct values, so a wrong mapping cannot pass
            p.data.normal_(0, 0.05)
        _peer_file(entry, reference, tmp_path / "peer.pth")
        monkeypatch.chdir(tmp_path)
        call = entry.call().replace(entry.load_from, repr("peer.pth"))
        loaded = eval(call, {"create": small, "load_checkpoint": load_checkpoint})
    assert loaded.ok
    assert call.startswith(f'load_checkpoint(create("{entry.model}", {entry.num_classes}, {entry.frames}')


def test_entries_cite_a_source_and_a_number():
    assert len({(e.model, e.num_classes, e.frames, e.dataset, e.source, e.load_from) for e in PUBLISHED}) == len(
        PUBLISHED
    )
    for e in PUBLISHED:
        assert e.source and any(ch.isdigit() for ch in e.reported), e
