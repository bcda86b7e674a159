"""Published 3D checkpoints (PyTorchVideo, PySlowFast) load strictly into slow_r50 / i3d_r50 / slowfast_r50.

Runs without pytorchvideo. Fixtures in tests/fixtures/:

- ``pytorchvideo_keys.json``: every state-dict key and shape of PyTorchVideo 0.1.5's ``hub.slow_r50``,
  ``hub.i3d_r50``, ``hub.slowfast_r50`` (8x8) and of ``create_slowfast`` in the 4x16 setting (fusion kernel 5,
  alpha 8), dumped from the library at the real width (no weights).
- ``pyslowfast_keys.json``: the same for facebookresearch/SlowFast's ``ResNet`` (ARCH slow, i3d) and ``SlowFast``
  (4x16, 8x8) at the real width, from a module-for-module transcription of its source (PySlowFast is not on
  PyPI): slowfast/models/video_model_builder.py, resnet_helper.py, stem_helper.py, head_helper.py.
- ``checkpoints_3d_reference.json``: small (width 16, 5 classes) versions of the same eight models: their keys
  and shapes and their eval-mode logits on a seeded input, with every weight and buffer set by
  :func:`peer_tensor` (seeded by the key's name, so no weights are stored). The PyTorchVideo logits come from the
  real library; the PySlowFast ones from the transcription (the projection's output, before PySlowFast's
  eval-mode softmax). ``tests/fixtures/make_checkpoints_3d_fixtures.py`` rebuilds the PyTorchVideo parts.
"""

import json
import math
import pickle
import zlib
from pathlib import Path

import numpy
import pytest
import torch

import paperlib.models.resnet3d  # noqa: F401  (registers the models)
import paperlib.models.slowfast  # noqa: F401
from paperlib.models import CheckpointError, CheckpointMismatchError, convert_state_dict, create, load_checkpoint
from paperlib.models.checkpoint import detect_format

FIXTURES = Path(__file__).parent / "fixtures"


def _load(name: str) -> dict:
    return json.loads((FIXTURES / name).read_text())


PEER_KEYS = {**_load("pytorchvideo_keys.json")["models"], **_load("pyslowfast_keys.json")["models"]}
REFERENCE = _load("checkpoints_3d_reference.json")


def peer_tensor(key: str, shape: list[int]) -> torch.Tensor:
    """A reproducible, distinct value for one checkpoint entry, seeded by its name (BN statistics kept sane)."""
    seed = zlib.crc32(key.encode())
    g = torch.Generator().manual_seed(seed)
    if key.endswith("num_batches_tracked"):
        return torch.tensor(seed % 1000)
    if key.endswith("running_var"):
        return torch.rand(shape, generator=g) + 0.5
    if key.endswith("running_mean"):
        return torch.randn(shape, generator=g) * 0.1
    if len(shape) == 1:  # BN weight / bias, classifier bias
        return torch.randn(shape, generator=g) * 0.1 + (1.0 if key.endswith(".weight") else 0.0)
    return torch.randn(shape, generator=g) / math.sqrt(math.prod(shape[1:]))  # conv / linear weight


def peer_state_dict(keys: dict[str, list[int]]) -> dict[str, torch.Tensor]:
    return {key: peer_tensor(key, shape) for key, shape in keys.items()}


def seeded_input(shape: list[int], seed: int) -> torch.Tensor:
    return torch.randn(shape, generator=torch.Generator().manual_seed(seed))


def build(entry: dict, **options) -> torch.nn.Module:
    name, kwargs = entry["paperlib"]
    return create(name, entry["num_classes"], entry["num_frames"], **{**kwargs, **options})


@pytest.mark.parametrize("model", sorted(PEER_KEYS))
def test_every_key_maps_and_a_checkpoint_loads_strictly(model):
    entry = PEER_KEYS[model]
    keys = entry["keys"]
    target = build(entry)
    expected = {k: list(v.shape) for k, v in target.state_dict().items()}
    assert detect_format(dict.fromkeys(keys)) == entry["format"]
    converted, fmt = convert_state_dict({k: torch.empty(0) for k in keys})
    assert fmt == entry["format"] and len(converted) == len(keys)  # no two keys renamed alike
    renamed = dict(zip(keys, converted))  # converted keeps the order
    assert sorted(renamed.values()) == sorted(expected), "the key sets differ"  # one to one, all covered
    assert {renamed[k]: s for k, s in keys.items()} == expected  # and every shape agrees

    peer = peer_state_dict(keys)  # random values, every entry distinct
    report = load_checkpoint(target, {"model_state": peer})
    assert report.ok and report.format == entry["format"]
    loaded = target.state_dict()
    assert all(torch.equal(loaded[renamed[k]], v) for k, v in peer.items())


@pytest.mark.parametrize("case", sorted(REFERENCE["cases"]))
def test_converted_small_models_reproduce_the_peer_outputs(case, tmp_path):
    entry = REFERENCE["cases"][case]
    model = build(entry).eval()
    # a file as the peers write it: PySlowFast's .pyth holds model_state, optimizer_state and the config dump
    path = tmp_path / "checkpoint_epoch_00196.pyth"
    torch.save(
        {
            "model_state": peer_state_dict(entry["keys"]),
            "epoch": 196,
            "cfg": "MODEL:\n  NUM_CLASSES: 5\n",
            "optimizer_state": {"state": {}, "param_groups": [{"lr": 0.1, "params": [0, 1]}]},
        },
        path,
    )
    report = load_checkpoint(model, path)
    assert report.ok and report.format == entry["format"]
    x = seeded_input(entry["input_shape"], entry["input_seed"])
    with torch.no_grad():
        logits = model(x)
    reference = torch.tensor(entry["logits"])
    assert logits.shape == reference.shape
    assert torch.allclose(logits, reference, rtol=1e-4, atol=1e-4), (logits - reference).abs().max()
    assert reference.std() > 0.1  # the outputs are not degenerate, so a wrong mapping would show


def test_prefixed_and_wrapped_keys_are_recognised():
    keys = PEER_KEYS["pytorchvideo slow_r50"]["keys"]
    # PySlowFast's PTVResNet wrapper (model.blocks...) and DataParallel (module.)
    for prefix in ("model.", "module.model."):
        converted, fmt = convert_state_dict({prefix + k: torch.empty(0) for k in keys})
        assert fmt == "pytorchvideo resnet" and "stem.conv.weight" in converted and "fc.bias" in converted


@pytest.mark.parametrize(
    "case,target,message",
    [
        # the 8x8 checkpoint has 7x1x1 fusion convs, our default slowfast_r50 is 4x16 (5x1x1), and the other way round
        (
            "pytorchvideo slowfast_r50_8x8",
            ("slowfast_r50", {}),
            r"wrong shape \(4\): fusions.0.conv.weight: checkpoint \[4, 2, 7, 1, 1\] vs model \[4, 2, 5, 1, 1\]",
        ),
        (
            "pyslowfast SLOWFAST_4x16_R50",
            ("slowfast_r50", {"config": "8x8"}),
            r"wrong shape \(4\): fusions.0.conv.weight: checkpoint \[4, 2, 5, 1, 1\] vs model \[4, 2, 7, 1, 1\]",
        ),
        (
            "pytorchvideo i3d_r50",
            ("slow_r50", {}),  # I3D into slow-only: temporal kernels differ
            r"stem.conv.weight: checkpoint \[16, 3, 5, 7, 7\] vs model \[16, 3, 1, 7, 7\]",
        ),
        (
            "pyslowfast I3D_8x8_R50",
            ("i3d_r50", {"num_classes": 101}),
            r"fc.weight: checkpoint \[5, 512\] vs model \[101, 512\]",
        ),
    ],
)
def test_wrong_architecture_gives_a_readable_report(case, target, message):
    entry = REFERENCE["cases"][case]
    name, options = target
    options = {"num_classes": entry["num_classes"], **options}
    model = create(name, options.pop("num_classes"), 32, width=16, **options)
    with pytest.raises(CheckpointMismatchError, match=message) as info:
        load_checkpoint(model, {"model_state": peer_state_dict(entry["keys"])})
    assert f"(format: {entry['format']})" in str(info.value)


def test_missing_and_extra_keys_are_reported():
    entry = REFERENCE["cases"]["pyslowfast SLOW_8x8_R50"]
    keys = dict(entry["keys"])
    del keys["s5.pathway0_res2.branch2.c_bn.running_var"]
    keys["s4.pathway0_nonlocal5.conv_theta.weight"] = [128, 256, 1, 1, 1]  # an NLN checkpoint's extra block
    with pytest.raises(CheckpointMismatchError) as info:
        load_checkpoint(build(entry), {"model_state": peer_state_dict(keys)})
    text = str(info.value)
    assert "missing in checkpoint (1): layer4.2.bn_c.running_var" in text
    assert "unexpected in checkpoint (1): s4.pathway0_nonlocal5.conv_theta.weight" in text
    assert "(format: pyslowfast resnet)" in text


def test_caffe2_pickles_are_refused_not_unpickled(tmp_path):
    """PySlowFast's Kinetics .pkl files are Caffe2 pickles ({"blobs": numpy arrays}); weights_only refuses them."""
    path = tmp_path / "SLOWFAST_8x8_R50.pkl"
    with open(path, "wb") as f:
        pickle.dump({"blobs": {"t_conv1_w": numpy.zeros((8, 3, 5, 7, 7), numpy.float32)}}, f, protocol=2)
    with pytest.raises(CheckpointError, match="refusing to load .*SLOWFAST_8x8_R50.pkl"):
        load_checkpoint(create("slowfast_r50", 400, 32, config="8x8"), path)
