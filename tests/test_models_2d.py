"""TSN / TSM / TIN: published parameter counts and FLOPs, TIN's module, introspection, checkpoints."""

import re

import pytest
import torch
import torchvision
from torch import nn

import paperlib.models as models
from paperlib.models import CheckpointError, CheckpointMismatchError, create, load_checkpoint
from paperlib.models.layers import TemporalInterlace

SMALL = dict(width=16, depths=(1, 1, 1, 1))


def clip(n=2, t=8, size=32):
    return torch.randn(n, 3, t, size, size)


@pytest.mark.parametrize(
    "name,classes,expected", [("tin_r50", 174, 23_895_566), ("tsm_r50", 174, 23_864_558), ("tsn_r50", 400, 24_327_632)]
)
def test_parameter_counts_match_published(name, classes, expected):
    model = create(name, classes, 8)
    assert sum(p.numel() for p in model.parameters()) == expected
    assert models.reported(name).params == expected and models.reported(name).num_classes == classes


def test_tsn_is_torchvision_resnet50_on_every_frame():
    reference = torchvision.models.resnet50(num_classes=1000).eval()
    model = create("tsn_r50", 1000, 4).eval()
    load_checkpoint(model, reference.state_dict())  # strict: same keys and shapes as torchvision
    x = clip(n=1, t=4, size=64)
    frames = x.transpose(1, 2).reshape(4, 3, 64, 64)
    with torch.no_grad():
        torch.testing.assert_close(model(x), reference(frames).mean(0, keepdim=True), rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("name", ["tsn_r50", "tsm_r50", "tin_r50"])
def test_gflops_within_two_percent_of_published(name):
    counted = models.complexity(create(name, 174, 8), (1, 3, 8, 224, 224))
    published = models.reported(name).gflops if models.reported(name) else 32.96
    assert counted["gflops"] == pytest.approx(published, rel=0.02)


def test_imagenet_backbone_leaves_only_temporal_layers_and_classifier():
    model = create("tin_r50", 174, 8)
    report = load_checkpoint(model, torchvision.models.resnet50().state_dict(), strict=False)
    assert report.missing and all(".temporal." in k for k in report.missing)
    assert len(report.missing) == 16 * 8  # 16 TIN modules x (3 offset-net layers + 1 weight-net conv) x (w, b)
    assert [m.split(":")[0] for m in report.mismatched] == ["fc.weight", "fc.bias"]


def test_tin_module_matches_the_official_design():
    tin = TemporalInterlace(256, num_segments=8)
    assert tin.fold == 64
    assert tin.offset_net.conv.weight.shape == (1, 64, 3) and tin.offset_net.fc1.weight.shape == (8, 8)
    assert tin.offset_net.fc2.weight.shape == (2, 8) and torch.all(tin.offset_net.fc2.bias == 0.5108)
    assert tin.weight_net.conv.weight.shape == (2, 64, 3) and torch.all(tin.weight_net.conv.bias == 0)
    assert sum(p.numel() for p in tin.parameters()) == 9 * 64 + 8 * 8 + 3 * 8 + 5
    x = torch.randn(2 * 8, 256, 5, 5)
    y = tin(x)
    assert y.shape == x.shape and torch.equal(y[:, 64:], x[:, 64:])  # 3/4 of the channels pass through


@pytest.mark.parametrize("backend", ["torch", "cpp"])
def test_tin_with_offsets_minus_one_and_unit_weights_is_tsm(backend):
    tin = create("tin_r50", 10, 8, fixed_offset=(-1.0, -1.0), fixed_weight=1.0, backend=backend, **SMALL).eval()
    tsm = create("tsm_r50", 10, 8, **SMALL).eval()
    tsm.load_state_dict({k: v for k, v in tin.state_dict().items() if ".temporal." not in k})
    x = clip()
    with torch.no_grad():
        assert torch.equal(tin(x), tsm(x))


def test_tin_offset_init_sets_the_offset_before_training():
    """``offset_init`` (frames) is what OffsetNet predicts when its last layer's weights are still zero; the
    default keeps the originals' literal bias 0.5108; ``-1`` starts TIN from TSM's shift."""
    assert torch.all(TemporalInterlace(64, 8).offset_net.fc2.bias == 0.5108)
    for offset in (-1.0, 0.25, 1.5):
        net = TemporalInterlace(64, 8, offset_init=offset).offset_net
        nn.init.zeros_(net.fc2.weight)
        out = net(torch.randn(3, 16, 8))
        torch.testing.assert_close(out, torch.full((3, 2), offset), rtol=0, atol=1e-6)
    with pytest.raises(ValueError, match="offset_init"):
        TemporalInterlace(64, 8, offset_init=2.0)


def test_tin_started_at_offset_minus_one_is_tsm_until_it_learns():
    """With ``offset_init=-1``, OffsetNet's last weights at zero and unit weights, the learned TIN computes TSM
    (to the float32 rounding of the bias: the offset is -1 within 1e-7)."""
    tin = create("tin_r50", 10, 8, fixed_weight=1.0, offset_init=-1.0, backend="torch", **SMALL).double().eval()
    for m in tin.modules():
        if isinstance(m, TemporalInterlace):
            nn.init.zeros_(m.offset_net.fc2.weight)
    tsm = create("tsm_r50", 10, 8, **SMALL).double().eval()
    tsm.load_state_dict({k: v for k, v in tin.state_dict().items() if ".temporal." not in k})
    x = clip().double()
    with torch.no_grad():
        torch.testing.assert_close(tin(x), tsm(x), rtol=1e-6, atol=1e-9)


def test_tin_runs_channels_last_end_to_end():
    """With ``channels_last`` weights the frames reach the interlace shift as (N, T, H, W, C) and leave it so: no
    layout copies around the op, and the same outputs and gradients as the channels-first model."""
    torch.manual_seed(0)
    first = create("tin_r50", 5, 8, backend="cpp", **SMALL).double().eval()  # eval: no dropout
    last = create("tin_r50", 5, 8, backend="cpp", **SMALL).double().eval()
    last.load_state_dict(first.state_dict())
    last = last.to(memory_format=torch.channels_last)
    seen = []
    for m in last.modules():
        if isinstance(m, TemporalInterlace):
            m.register_forward_hook(lambda mod, args, out: seen.append((args[0], out)))
    x = clip().double()
    y_first, y_last = first(x), last(x)
    torch.testing.assert_close(y_last, y_first, rtol=0, atol=1e-10)
    assert len(seen) == 4 and all(
        a.is_contiguous(memory_format=torch.channels_last) and o.is_contiguous(memory_format=torch.channels_last)
        for a, o in seen
    )
    y_first.sum().backward()
    y_last.sum().backward()
    for (name, p1), p2 in zip(first.named_parameters(), last.parameters()):
        torch.testing.assert_close(p2.grad, p1.grad, rtol=1e-7, atol=1e-9, msg=lambda m: f"{name}: {m}")


def test_recording_offsets_and_weights():
    model = create("tin_r50", 5, 8, **SMALL)
    x = clip(n=3)
    model(x)
    with models.recording_interlace(model) as records:
        model(x)
    assert list(records) == ["layer1.0", "layer2.0", "layer3.0", "layer4.0"]
    for r in records.values():
        assert r["offset"].shape == (3, 2) and r["weight"].shape == (3, 8, 2)
        assert (r["offset"].abs() < 2).all() and ((r["weight"] > 0) & (r["weight"] < 2)).all()
    assert all(m._record is None for m in model.modules() if isinstance(m, TemporalInterlace))


def test_tsm_r101_shifts_every_second_block_as_the_official_code():
    """TSM's make_temporal_shift uses n_round = 2 when a stage has >= 23 blocks: blocks 0, 2, 4, ... of every stage."""
    from paperlib.models.layers import TemporalShift

    def shifted(model):
        return [n.removesuffix(".temporal") for n, m in model.named_modules() if isinstance(m, TemporalShift)]

    official = shifted(create("tsm_r101", 10, 8, width=8))
    assert len(official) == 2 + 2 + 12 + 2 and "layer3.22" in official and "layer3.1" not in official
    assert all(int(name.split(".")[1]) % 2 == 0 for name in official)
    assert len(shifted(create("tsm_r101", 10, 8, width=8, temporal_every=1))) == 3 + 4 + 23 + 3  # X-Temporal


def test_temporal_models_reject_other_clip_lengths():
    with pytest.raises(ValueError, match="built for 8 frames, got a clip of 4"):
        create("tsm_r50", 5, 8, **SMALL)(clip(t=4))
    assert create("tsn_r50", 5, 8, **SMALL)(clip(t=4)).shape == (2, 5)  # TSN does not care


@pytest.mark.parametrize("name", [n for n in models.available() if n.startswith(("tsn_", "tsm_", "tin_"))])
def test_forward_backward_small(name):
    model = create(name, 7, 8, **SMALL)
    out = model(clip())
    assert out.shape == (2, 7)
    out.sum().backward()
    assert all(p.grad is not None and torch.isfinite(p.grad).all() for p in model.parameters())


def test_width_and_depth_options_make_small_models():
    small, big = create("tin_r50", 5, 8, **SMALL), create("tin_r50", 5, 8)
    assert sum(p.numel() for p in small.parameters()) < sum(p.numel() for p in big.parameters()) / 40


def test_registry_errors():
    with pytest.raises(ValueError, match="unknown model 'tin_r51'; available: .*tin_r50"):
        create("tin_r51", 10)
    with pytest.raises(ValueError, match="already registered"):
        models.register_model(models.resnet2d.tin_r50)


# Peer checkpoint layouts, written here from the peers' module names (deepcs233/TIN ops/models.py and
# ops/temporal_interlace.py, mit-han-lab/temporal-shift-module ops/temporal_shift.py), independently of the
# loader's rename tables: each maps one of our keys to the peer's key.
def official_key(key, tsm=False):
    key = re.sub(r"\.temporal\.offset_net\.conv\.", ".conv1.net1.biasnet.net.conv.", key)
    key = re.sub(r"\.temporal\.offset_net\.fc1\.", ".conv1.net1.biasnet.net.fc.", key)
    key = re.sub(r"\.temporal\.offset_net\.fc2\.", ".conv1.net1.biasnet.net.lastlayer.", key)
    key = re.sub(r"\.temporal\.weight_net\.conv\.", ".conv1.net1.weightnet.net.lastlayer.", key)
    key = re.sub(r"(layer\d\.\d+)\.conv1\.weight", r"\1.conv1.net.weight" if tsm else r"\1.conv1.net2.weight", key)
    return "module." + ("new_fc." + key[3:] if key.startswith("fc.") else "base_model." + key)


def mmaction2_key(key, tsm=False):
    if key.startswith("fc."):
        return "cls_head.fc_cls." + key[3:]
    key = re.sub(r"^conv1\.", "conv1.conv.", key)
    key = re.sub(r"^bn1\.", "conv1.bn.", key)
    key = re.sub(r"\.temporal\.offset_net\.", ".conv1.conv.net1.offset_net.", key)
    key = re.sub(r"\.temporal\.weight_net\.", ".conv1.conv.net1.weight_net.", key)
    key = re.sub(
        r"(layer\d\.\d+)\.conv1\.(weight|bias)", r"\1.conv1.conv.net.\2" if tsm else r"\1.conv1.conv.net2.\2", key
    )
    key = re.sub(r"\.conv([23])\.", r".conv\1.conv.", key)
    key = re.sub(r"\.bn(\d)\.", r".conv\1.bn.", key)
    key = key.replace(".downsample.0.", ".downsample.conv.").replace(".downsample.1.", ".downsample.bn.")
    return "backbone." + key


PEER_FORMATS = {
    "official TIN": (
        "tin_r50",
        lambda sd: {
            "epoch": 40,
            "arch": "resnet50",
            "best_prec1": 45.8,
            "state_dict": {official_key(k): v for k, v in sd.items()},
        },
    ),
    "official TSM": ("tsm_r50", lambda sd: {"state_dict": {official_key(k, tsm=True): v for k, v in sd.items()}}),
    "X-Temporal TIN": (
        "tin_r50",
        lambda sd: {
            "epoch": 35,
            "model": {official_key(k): v for k, v in sd.items()},
            "optimizer": {"state": {}, "param_groups": []},
        },
    ),
    "mmaction2 TIN": (
        "tin_r50",
        lambda sd: {"meta": {"epoch": 40}, "state_dict": {mmaction2_key(k): v for k, v in sd.items()}},
    ),
    "mmaction2 TSM": ("tsm_r50", lambda sd: {"state_dict": {mmaction2_key(k, tsm=True): v for k, v in sd.items()}}),
}


@pytest.mark.parametrize("fmt", PEER_FORMATS)
def test_peer_checkpoints_load_strictly_and_reproduce_outputs(fmt, tmp_path):
    name, write = PEER_FORMATS[fmt]
    source = create(name, 174, 8).eval()
    for p in source.parameters():  # make every tensor distinct so a wrong mapping cannot pass
        p.data.normal_(0, 0.05)
    path = tmp_path / "peer.pth"
    torch.save(write(source.state_dict()), path)
    target = create(name, 174, 8).eval()
    report = load_checkpoint(target, path)
    assert report.ok
    x = clip(n=1, size=64)
    with torch.no_grad():
        assert torch.equal(target(x), source(x))


@pytest.mark.parametrize(
    "build,message",
    [
        (
            lambda: create("tin_r50", 400, 8),
            r"wrong shape \(2\): fc.weight: checkpoint \[174, 2048\] vs model \[400, 2048\]",
        ),
        (
            lambda: create("tin_r50", 174, 16),
            r"layer1.0.temporal.offset_net.fc1.weight: checkpoint \[8, 8\] vs model \[16, 16\]",
        ),
        (lambda: create("tsm_r50", 174, 8), r"unexpected in checkpoint \(128\): layer1.0.temporal"),
        (lambda: create("tsn_r101", 174, 8), r"missing in checkpoint \(\d+\): layer3.6"),
    ],
)
def test_wrong_checkpoint_raises_readable_error(build, message, tmp_path):
    path = tmp_path / "tin.pth"
    torch.save({"state_dict": {official_key(k): v for k, v in create("tin_r50", 174, 8).state_dict().items()}}, path)
    with pytest.raises(CheckpointMismatchError, match=message) as info:
        load_checkpoint(build(), path)
    assert str(path) in str(info.value) and "official TIN/TSM" in str(info.value)


def test_own_checkpoint_round_trip(tmp_path):
    model = create("tin_r50", 9, 8, dropout=0.5, **SMALL).eval()
    path = models.save_checkpoint(model, tmp_path / "run" / "model.pth", epoch=3)
    assert [p.name for p in path.parent.iterdir()] == ["model.pth"]  # no temporary left behind
    rebuilt = models.from_checkpoint(path).eval()
    assert rebuilt.paperlib_config == model.paperlib_config and rebuilt.dropout.p == 0.5
    x = clip()
    with torch.no_grad():
        assert torch.equal(rebuilt(x), model(x))


def test_unsafe_and_broken_files_are_refused(tmp_path):
    class Boom:
        def __reduce__(self):
            return (print, ("code ran",))

    evil = tmp_path / "evil.pth"
    torch.save({"state_dict": {}, "payload": Boom()}, evil)
    with pytest.raises(CheckpointError, match="refusing to load .*evil.pth"):
        load_checkpoint(create("tsn_r18", 2), evil)
    good = models.save_checkpoint(create("tsn_r18", 2, **SMALL), tmp_path / "good.pth")
    truncated = tmp_path / "truncated.pth"
    truncated.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    with pytest.raises(CheckpointError, match="cannot read checkpoint .*truncated.pth"):
        load_checkpoint(create("tsn_r18", 2, **SMALL), truncated)
    with pytest.raises(FileNotFoundError, match="missing.pth"):
        load_checkpoint(create("tsn_r18", 2, **SMALL), tmp_path / "missing.pth")


def test_tin_param_groups_follow_the_official_recipe():
    model = create("tin_r50", 174, 8, **SMALL)
    groups = {g["name"]: g for g in models.tin_param_groups(model, weight_decay=5e-4)}
    assert groups["fc_weight"]["params"] == [model.fc.weight] and groups["fc_weight"]["lr_mult"] == 5
    assert groups["fc_bias"]["params"] == [model.fc.bias] and groups["fc_bias"]["lr_mult"] == 10
    assert groups["bias"]["weight_decay"] == 0 and groups["bias"]["lr_mult"] == 2
    assert groups["bn"]["weight_decay"] == 0
    offset_fc = model.layer1[0].temporal.offset_net.fc1.weight
    assert any(p is offset_fc for p in groups["weight"]["params"])
    listed = [p for g in groups.values() for p in g["params"]]
    assert len(listed) == len({id(p) for p in listed}) == len(list(model.parameters()))
    # Partial BN: only the stem's BN keeps training.
    model.set_partial_bn(True).train()
    groups = {g["name"]: g for g in models.tin_param_groups(model)}
    assert groups["bn"]["params"] == [model.bn1.weight, model.bn1.bias]
    assert model.bn1.training and not model.layer1[0].bn1.training
    torch.optim.SGD(models.tin_param_groups(model), lr=0.01, momentum=0.9)  # accepted by the optimizer
    assert isinstance(model.layer1[0].bn1, nn.BatchNorm2d)


def test_classifier_init_option():
    papers = create("tsm_r50", 10, 8, **SMALL)
    default = create("tsm_r50", 10, 8, fc_init_std=None, **SMALL)
    assert papers.fc.weight.std() < 0.002 and torch.all(papers.fc.bias == 0)
    assert default.fc.weight.std() > 0.01  # PyTorch's Linear init, uniform(±1/sqrt(in))


def test_temporal_conv_baseline_starts_as_tsn_and_mixes_only_neighbouring_frames():
    from paperlib.models.layers import TemporalConv

    torch.manual_seed(0)
    tconv, tsn = (
        create("tconv_r50", 10, 4, width=8, depths=(1, 1, 1, 1)),
        create("tsn_r50", 10, 4, width=8, depths=(1, 1, 1, 1)),
    )
    tsn.load_state_dict({k: v for k, v in tconv.state_dict().items() if ".temporal." not in k})
    x = torch.randn(2, 3, 4, 32, 32)
    torch.testing.assert_close(tconv.eval()(x), tsn.eval()(x), rtol=0, atol=0)  # identity init: exactly TSN
    layer = TemporalConv(3, num_segments=5)
    nn.init.normal_(layer.conv.weight)
    frames = torch.randn(5, 3, 2, 2, requires_grad=True)  # one clip of 5 frames
    layer(frames)[2].sum().backward()
    touched = frames.grad.abs().sum(dim=(1, 2, 3)) > 0
    assert touched.tolist() == [False, True, True, True, False]  # frame 2 sees frames 1-3 only
    with pytest.raises(ValueError, match="odd"):
        TemporalConv(3, num_segments=5, kernel_size=2)


def test_backbone_dropout_is_xtemporals_second_dropout_and_off_by_default():
    """X-Temporal's ResNet applies Dropout(0.5) before its ``fc``, which its TSN wrapper turns into
    Dropout(dropout): features are dropped twice in training, never in eval, and the weights are unchanged."""
    default = create("tsn_r18", 5, 2, width=8, depths=(1, 1, 1, 1), dropout=0.0)
    assert isinstance(default.backbone_dropout, nn.Identity)
    torch.manual_seed(0)
    double = create("tsn_r18", 5, 2, width=8, depths=(1, 1, 1, 1), dropout=0.0, backbone_dropout=0.5)
    assert double.backbone_dropout.p == 0.5 and set(double.state_dict()) == set(default.state_dict())
    double.fc.weight.data.fill_(1.0)
    features = torch.ones(1, 2, double.num_features)
    double.train()
    logits = double.fc.weight @ features[0, 0] + double.fc.bias  # no dropout in the classifier itself
    dropped = double.forward_head(features)
    kept = dropped.detach() - double.fc.bias.detach()  # sum of kept features x 2, averaged over frames
    assert not torch.allclose(dropped, logits.unsqueeze(0)) and torch.all(kept.remainder(1.0) == 0)
    double.eval()
    assert torch.allclose(double.forward_head(features), logits.unsqueeze(0))
