"""3D models (slow-only, fast-only, I3D, SlowFast, R3D, R(2+1)D): published sizes and FLOPs, torchvision
equivalence, and small variants that train on CPU."""

import pytest
import torch
import torchvision

import paperlib.models.resnet3d  # noqa: F401  (registers the models)
import paperlib.models.slowfast  # noqa: F401
import paperlib.models.video_resnet  # noqa: F401
from paperlib.models import complexity, create, reported

MODELS_3D = ["slow_r50", "fast_r50", "i3d_r50", "slowfast_r50", "r3d_18", "r2plus1d_18", "r2plus1d_34"]
SMALL = dict(width=8, depths=(1, 1, 1, 1))


def num_params(model: torch.nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def create_on_meta(name: str, num_classes: int = 400, **options) -> torch.nn.Module:
    """Full-size model without allocating or initialising weights (enough to count parameters and FLOPs)."""
    with torch.device("meta"):
        return create(name, num_classes, **options)


@pytest.mark.parametrize("name,expected", [("r2plus1d_18", 31_505_325), ("r3d_18", 33_371_472)])
def test_torchvision_parameter_counts_are_exact(name, expected):
    with torch.device("meta"):
        torchvision_count = num_params(getattr(torchvision.models.video, name)(num_classes=400))
    count = num_params(create_on_meta(name))
    print(f"{name}: {count:,} parameters (torchvision {torchvision_count:,})")
    assert count == expected == torchvision_count == reported(name).params


@pytest.mark.parametrize(
    "name,options,published",
    [
        ("slowfast_r50", {}, 34.48e6),
        ("slowfast_r50", {"config": "8x8"}, 34.57e6),
        ("slow_r50", {}, 32.45e6),
        ("i3d_r50", {}, 28.04e6),
    ],
)
def test_parameter_counts_match_pytorchvideo(name, options, published):
    count = num_params(create_on_meta(name, **options))
    print(f"{name} {options}: {count:,} parameters (published {published / 1e6:.2f}M)")
    assert count == pytest.approx(published, abs=0.005e6)  # equal to the two published decimals (< 1%)


# PyTorchVideo's model zoo gives FLOPs per test view, which is a 256² crop (3 crops x 10 clips), not 224²:
# Slow 8x8 and SlowFast 8x8 are met to 0.01 GFLOPs at 256², and are (224/256)² = 0.77 of that at 224².
@pytest.mark.parametrize(
    "name,options,view,published",
    [
        ("slowfast_r50", {}, (3, 32, 256, 256), 36.69),  # 36.10 counted; the SlowFast paper says 36.1
        ("slowfast_r50", {"config": "8x8"}, (3, 32, 256, 256), 65.71),
        ("slow_r50", {}, (3, 8, 256, 256), 54.52),
        ("slow_r50", {}, (3, 4, 256, 256), 27.55),  # 4x16
        ("i3d_r50", {}, (3, 8, 256, 256), 37.53),
        ("r2plus1d_18", {}, (3, 16, 112, 112), 40.519),
        ("r3d_18", {}, (3, 16, 112, 112), 40.697),
    ],
)
def test_gflops_within_two_percent_of_published(name, options, view, published):
    gflops = complexity(create_on_meta(name, **options), (1, *view))["gflops"]
    print(f"{name} {options} {view}: {gflops:.3f} GFLOPs (published {published})")
    assert gflops == pytest.approx(published, rel=0.02)


@pytest.mark.parametrize("name", ["slowfast_r50", "slow_r50", "i3d_r50", "r2plus1d_18", "r3d_18"])
def test_reported_entries_agree_with_the_model(name):
    entry = reported(name)
    measured = complexity(create_on_meta(name, entry.num_classes), (1, *entry.input_shape))
    assert measured["params"] == pytest.approx(entry.params, abs=0.005e6)
    assert measured["gflops"] == pytest.approx(entry.gflops, rel=0.02)


@pytest.mark.parametrize("name", ["r3d_18", "r2plus1d_18"])
def test_torchvision_state_dict_loads_strictly_with_identical_outputs(name):
    reference = getattr(torchvision.models.video, name)(num_classes=400).eval()  # random init, no download
    for m in reference.modules():  # non-trivial BN statistics, so a misplaced BN would show
        if isinstance(m, torch.nn.BatchNorm3d):
            m.running_mean.normal_()
            m.running_var.uniform_(0.5, 2.0)
    model = create(name, 400).eval()
    model.load_state_dict(reference.state_dict(), strict=True)
    x = torch.randn(2, 3, 4, 32, 32)
    with torch.no_grad():
        torch.testing.assert_close(model(x), reference(x), rtol=0, atol=0)


@pytest.mark.parametrize("name,options", [(name, {}) for name in MODELS_3D] + [("slowfast_r50", {"config": "8x8"})])
def test_small_variant_forward_and_backward(name, options):
    model = create(name, 5, 8, **SMALL, **options).train()
    x = torch.randn(2, 3, 8, 32, 32, requires_grad=True)
    logits = model(x)
    assert logits.shape == (2, 5)
    torch.nn.functional.cross_entropy(logits, torch.tensor([0, 3])).backward()
    assert all(p.grad is not None and torch.isfinite(p.grad).all() for p in model.parameters())
    assert torch.isfinite(x.grad).all() and x.grad.abs().sum() > 0


@pytest.mark.parametrize("name", MODELS_3D)
def test_width_and_depths_change_the_model(name):
    small = num_params(create_on_meta(name, 10, **SMALL))
    assert num_params(create_on_meta(name, 10, width=16, depths=(1, 1, 1, 1))) > small
    assert num_params(create_on_meta(name, 10, width=8, depths=(2, 1, 1, 1))) > small
    assert num_params(create_on_meta(name, 10)) > small


@pytest.mark.parametrize("name", MODELS_3D)
def test_unknown_option_raises_type_error(name):
    with pytest.raises(TypeError):
        create(name, 10, **SMALL, not_an_option=1)


@pytest.mark.parametrize("variant,alpha,fusion_kernel", [("4x16", 8, 5), ("8x8", 4, 7), ("xtemporal", 4, 5)])
def test_slowfast_lateral_connections(variant, alpha, fusion_kernel):
    model = create_on_meta("slowfast_r50", variant=variant)
    assert [f.conv.kernel_size[0] for f in model.fusions] == [fusion_kernel] * 4
    assert [f.conv.stride[0] for f in model.fusions] == [alpha] * 4
    assert [stage[0].conv_a.in_channels for stage in model.slow_layers] == [64 + 16, 256 + 64, 512 + 128, 1024 + 256]
    assert model.fc.in_features == 2048 + 256
    with pytest.raises(ValueError, match="config"):
        create("slowfast_r50", 10, config="16x8")
    with pytest.raises(ValueError, match="variant"):
        create("slowfast_r50", 10, variant="16x8")


def test_slowfast_old_config_keyword_is_the_variant():
    """Checkpoints written before the rename store ``config``; it still selects the layout."""
    old = create_on_meta("slowfast_r50", config="8x8")
    assert [f.conv.kernel_size[0] for f in old.fusions] == [7] * 4
    with pytest.raises(ValueError, match="disagree"):
        create("slowfast_r50", 10, variant="4x16", config="8x8")


def _conv(c_in: int, c_out: int, kt: int = 1, k: int = 1) -> int:
    return c_in * c_out * kt * k * k  # every conv of sfresnet50 has bias=False


def _bn(c: int) -> int:
    return 2 * c


def _bottleneck(c_in: int, planes: int, kt: int, downsample: bool) -> int:
    """X-Temporal ``Bottleneck``: conv1 (kt,1,1) + bn1, conv2 (1,3,3) + bn2, conv3 1x1 to 4·planes + bn3,
    ``downsample`` = 1x1 conv + BN."""
    own = _conv(c_in, planes, kt) + _bn(planes) + _conv(planes, planes, 1, 3) + _bn(planes)
    own += _conv(planes, 4 * planes) + _bn(4 * planes)
    return own + (_conv(c_in, 4 * planes) + _bn(4 * planes) if downsample else 0)


def _layer(c_in: int, planes: int, blocks: int, kt: int) -> int:
    """``_make_layer_*``: the first block has the downsample branch (stride or width change), the rest not."""
    return _bottleneck(c_in, planes, kt, True) + (blocks - 1) * _bottleneck(4 * planes, planes, kt, False)


def test_slowfast_xtemporal_parameter_count_derived_from_the_source():
    """Sense-X/X-Temporal x_temporal/models/slowfast.py, ``sfresnet50(num_classes=313)`` layer by layer."""
    fast = _conv(3, 8, 5, 7) + _bn(8)  # fast_conv1 (5, 7, 7), fast_bn1
    fast += _layer(8, 8, 3, 3) + _layer(32, 16, 4, 3) + _layer(64, 32, 6, 3) + _layer(128, 64, 3, 3)  # head_conv=3
    laterals = _conv(8, 16, 5) + _conv(32, 64, 5) + _conv(64, 128, 5) + _conv(128, 256, 5)  # (5,1,1), no BN
    slow = _conv(3, 64, 1, 7) + _bn(64)  # slow_conv1 (1, 7, 7), slow_bn1
    # slow_inplanes: 64 + 64//8*2 = 80, then planes*4 + planes*4//8*2 = 320, 640, 1280; head_conv 1, 1, 3, 3
    slow += _layer(80, 64, 3, 1) + _layer(320, 128, 4, 1) + _layer(640, 256, 6, 3) + _layer(1280, 512, 3, 3)
    fc = (256 + 2048) * 313  # nn.Linear(self.fast_inplanes + 2048, num_classes, bias=False)
    expected = fast + laterals + slow + fc
    assert expected == 34_278_440
    assert num_params(create_on_meta("slowfast_r50", 313, variant="xtemporal")) == expected
    assert num_params(create_on_meta("slowfast_r50", 313, variant="4x16")) != expected


def test_slowfast_xtemporal_shapes_and_slow_frames():
    torch.manual_seed(0)
    model = create("slowfast_r50", 313, 32, variant="xtemporal").eval()
    assert model.fc.bias is None and model.dropout.p == 0.5
    assert all(isinstance(f.bn, torch.nn.Identity) and isinstance(f.relu, torch.nn.Identity) for f in model.fusions)
    seen = {}
    model.slow_stem.conv.register_forward_pre_hook(lambda m, args: seen.update(slow=args[0].clone()))
    x = torch.randn(1, 3, 32, 48, 64)
    with torch.no_grad():
        logits, features = model(x), model.forward_features(x)
    assert logits.shape == (1, 313) and features.shape == (1, 2048 + 256)
    assert torch.equal(seen["slow"], x[:, :, ::4])  # input[:, :, ::4, :, :]


@pytest.mark.parametrize("name", ["slow_r50", "fast_r50", "i3d_r50", "slowfast_r50"])
def test_zero_init_residual_starts_every_block_last_bn_at_zero_or_one(name):
    from paperlib.models.resnet3d import Bottleneck3d

    small = {"width": 8, "depths": [1, 1, 1, 1]}
    for zero, expected in ((True, 0.0), (False, 1.0)):
        model = create(name, 5, **small, zero_init_residual=zero)
        last_bns = [m.bn_c.weight for m in model.modules() if isinstance(m, Bottleneck3d)]
        assert len(last_bns) == (8 if name == "slowfast_r50" else 4)
        assert all(torch.all(w == expected) for w in last_bns)
