"""Semantics, gradients and backend parity of paperlib.ops.interlace_shift."""

import itertools
import math
import warnings

import pytest
import torch

from paperlib.experiments.interlace import values_and_grads
from paperlib.ops import InterlaceShift, _extension, channels_last_frames, interlace_shift, interlace_shift_reference
from paperlib.ops._extension import is_channels_last_frames

from .conftest import requires_cuda

CPU_BACKENDS = ["torch", "cpp"]


def brute_force(x, offset, weight, shift_channels=None):
    """The formula, one element at a time."""
    n_, t_, c_, h_, w_ = x.shape
    cs = c_ if shift_channels is None else shift_channels
    groups = offset.shape[1]
    y = x.clone()
    for n, t, c in itertools.product(range(n_), range(t_), range(cs)):
        g = c // (cs // groups)
        b = float(offset[n, g])
        k = math.floor(b)
        f = b - k

        def frame(s):
            return x[n, s, c] if 0 <= s < t_ else torch.zeros_like(x[n, 0, c])

        y[n, t, c] = weight[n, t, g] * ((1 - f) * frame(t - k) + f * frame(t - k - 1))
    return y


def make_inputs(n=2, t=5, c=8, h=3, w=4, groups=4, scale=2.5, dtype=torch.float64, device="cpu"):
    x = torch.randn(n, t, c, h, w, dtype=dtype, device=device)
    offset = (torch.rand(n, groups, dtype=dtype, device=device) * 2 - 1) * scale
    weight = torch.rand(n, t, groups, dtype=dtype, device=device) * 2
    return x, offset, weight


def away_from_integers(offset):
    """Move offsets at least 0.1 away from integers (the offset gradient is one-sided there)."""
    frac = offset - offset.floor()
    return offset.floor() + frac.clamp(0.1, 0.9)


@pytest.mark.parametrize("backend", CPU_BACKENDS)
@pytest.mark.parametrize("shift_channels", [None, 4])
def test_forward_matches_brute_force(backend, shift_channels):
    x, offset, weight = make_inputs(c=8, groups=2 if shift_channels else 4, scale=4.0)
    expected = brute_force(x, offset, weight, shift_channels)
    out = interlace_shift(x, offset, weight, shift_channels=shift_channels, backend=backend)
    torch.testing.assert_close(out, expected, rtol=0, atol=1e-12)


@pytest.mark.parametrize("backend", CPU_BACKENDS)
@pytest.mark.parametrize("shift", [-3, -1, 0, 1, 2, 4])
def test_integer_offset_is_zero_filled_roll(backend, shift):
    x, _, _ = make_inputs(t=6, groups=1)
    offset = torch.full((2, 1), float(shift), dtype=x.dtype)
    weight = torch.ones(2, 6, 1, dtype=x.dtype)
    expected = torch.roll(x, shifts=shift, dims=1)
    if shift > 0:
        expected[:, :shift] = 0
    elif shift < 0:
        expected[:, shift:] = 0
    out = interlace_shift(x, offset, weight, backend=backend)
    torch.testing.assert_close(out, expected, rtol=0, atol=0)


@pytest.mark.parametrize("backend", CPU_BACKENDS)
def test_half_offset_averages_neighbours(backend):
    x, _, _ = make_inputs(t=4, groups=2)
    offset = torch.tensor([[0.5, -0.5], [0.5, -0.5]], dtype=x.dtype)
    weight = torch.ones(2, 4, 2, dtype=x.dtype)
    out = interlace_shift(x, offset, weight, backend=backend)
    zero = torch.zeros_like(x[:, :1])
    previous = torch.cat([zero, x[:, :-1]], dim=1)
    following = torch.cat([x[:, 1:], zero], dim=1)
    torch.testing.assert_close(out[:, :, :4], 0.5 * x[:, :, :4] + 0.5 * previous[:, :, :4])
    torch.testing.assert_close(out[:, :, 4:], 0.5 * x[:, :, 4:] + 0.5 * following[:, :, 4:])


@pytest.mark.parametrize("backend", CPU_BACKENDS)
@pytest.mark.parametrize("offset_value", [5.0, 5.5, -6.0, -5.25, 1e6, -1e6, 1e30])
def test_offsets_beyond_clip_give_zeros(backend, offset_value):
    x, _, weight = make_inputs(t=5, c=8, groups=2)
    offset = torch.full((2, 2), offset_value, dtype=x.dtype)
    out = interlace_shift(x, offset, weight, shift_channels=4, backend=backend)
    assert torch.equal(out[:, :, :4], torch.zeros_like(out[:, :, :4]))
    assert torch.equal(out[:, :, 4:], x[:, :, 4:])  # pass-through channels untouched


@pytest.mark.parametrize("backend", CPU_BACKENDS)
def test_weight_scales_each_output_frame(backend):
    x, offset, _ = make_inputs()
    weight = torch.ones(2, 5, 4, dtype=x.dtype)
    base = interlace_shift(x, offset, weight, backend=backend)
    weight[:, 2, 1] = 3.0
    scaled = interlace_shift(x, offset, weight, backend=backend)
    torch.testing.assert_close(scaled[:, 2, 2:4], 3.0 * base[:, 2, 2:4])
    torch.testing.assert_close(scaled[:, 3], base[:, 3])


@pytest.mark.parametrize("backend", CPU_BACKENDS)
@pytest.mark.parametrize("shift_channels", [None, 4])
def test_gradcheck_float64(backend, shift_channels):
    x, offset, weight = make_inputs(n=2, t=4, c=8, h=2, w=3, groups=2)
    offset = away_from_integers(offset)
    inputs = [t.clone().requires_grad_() for t in (x, offset, weight)]
    fn = lambda a, b, c: interlace_shift(a, b, c, shift_channels=shift_channels, backend=backend)  # noqa: E731
    assert torch.autograd.gradcheck(fn, inputs, eps=1e-6, atol=1e-7)


@pytest.mark.parametrize(
    "shape,groups,shift_channels,scale",
    [
        ((3, 8, 16, 5, 7), 4, 4, 1.9),  # TIN: a quarter of the channels, offsets in (-2, 2)
        ((2, 16, 32, 4, 4), 4, 8, 3.0),
        ((1, 3, 6, 1, 9), 3, None, 7.0),  # offsets beyond +-T
        ((2, 1, 4, 2, 2), 2, None, 1.5),  # T = 1
        ((4, 6, 12, 3, 3), 2, 6, 40.0),  # large offsets, negative and positive
    ],
)
def test_cpp_matches_torch_values_and_grads(shape, groups, shift_channels, scale):
    x = torch.randn(*shape, dtype=torch.float64)
    offset = away_from_integers((torch.rand(shape[0], groups, dtype=torch.float64) * 2 - 1) * scale)
    weight = torch.rand(shape[0], shape[1], groups, dtype=torch.float64) * 2
    expected = values_and_grads("torch", x, offset, weight, shift_channels)
    actual = values_and_grads("cpp", x, offset, weight, shift_channels)
    for name, a, e in zip(["y", "grad_x", "grad_offset", "grad_weight"], actual, expected):
        torch.testing.assert_close(a, e, rtol=0, atol=1e-9, msg=lambda m: f"{name}: {m}")


@pytest.mark.parametrize("dtype,tol", [(torch.float32, 1e-5), (torch.bfloat16, 2e-2), (torch.float16, 2e-3)])
def test_cpp_low_precision_matches_float64(dtype, tol):
    x, offset, weight = make_inputs(n=2, t=8, c=16, h=4, w=4, groups=4, scale=1.9)
    x, offset, weight = x.to(dtype), away_from_integers(offset).to(dtype), weight.to(dtype)
    expected = values_and_grads("torch", x.double(), offset.double(), weight.double(), 4)
    actual = values_and_grads("cpp", x, offset, weight, 4)
    for a, e in zip(actual, expected):
        assert a.dtype == dtype
        scale = e.abs().max().clamp_min(1)
        assert ((a.double() - e).abs().max() / scale) < tol


@pytest.mark.parametrize("backend", CPU_BACKENDS)
def test_non_contiguous_and_expanded_inputs(backend):
    x, offset, weight = make_inputs(n=2, t=4, c=8, groups=2)
    x_nc = x.transpose(3, 4).contiguous().transpose(3, 4)  # same values, other strides
    x_nc = torch.cat([x_nc, x_nc], dim=2)[:, :, ::2]  # and a strided channel view
    assert not x_nc.is_contiguous()
    weight_expanded = weight[:, :1].expand(2, 4, 2)
    offset_nc = torch.stack([offset[:, 0], offset[:, 1]], dim=0).t()
    assert not offset_nc.is_contiguous()
    out = interlace_shift(x_nc, offset_nc, weight_expanded, backend=backend)
    expected = brute_force(x_nc.contiguous(), offset, weight_expanded.contiguous())
    torch.testing.assert_close(out, expected, rtol=0, atol=1e-12)


@pytest.mark.parametrize("backend", CPU_BACKENDS)
def test_empty_batch(backend):
    x, offset, weight = make_inputs(n=0)
    x.requires_grad_()
    out = interlace_shift(x, offset, weight, backend=backend)
    assert out.shape == x.shape
    out.sum().backward()
    assert x.grad.shape == x.shape


@pytest.mark.parametrize("backend", CPU_BACKENDS)
def test_nan_offset_propagates(backend):
    x, offset, weight = make_inputs(groups=2)
    offset[0, 1] = float("nan")
    out = interlace_shift(x, offset, weight, shift_channels=4, backend=backend)
    assert torch.isnan(out[0, :, 2:4]).all()
    assert not torch.isnan(out[0, :, :2]).any() and not torch.isnan(out[1]).any()
    assert torch.equal(out[:, :, 4:], x[:, :, 4:])


@pytest.mark.parametrize(
    "change,message",
    [
        (lambda x, o, w: (x[0], o, w), "x must be"),
        (lambda x, o, w: (x, o[:, :, None], w), "offset must be"),
        (lambda x, o, w: (x, o, w[0]), "weight must be"),
        (lambda x, o, w: (x, o[:1], w), "N mismatch"),
        (lambda x, o, w: (x, o, w[:, :2]), "weight has T"),
        (lambda x, o, w: (x, o[:, :3], w[:, :, :3]), "not divisible"),
        (lambda x, o, w: (x, o, w[:, :, :3]), "weight has G"),
        (lambda x, o, w: (x, o.float(), w), "dtype"),
        (lambda x, o, w: (x.long(), o.long(), w.long()), "floating dtype"),
        (lambda x, o, w: (x, o.to("meta"), w), "one device"),
    ],
)
@pytest.mark.parametrize("backend", CPU_BACKENDS)
def test_bad_arguments_raise_value_error(change, message, backend):
    x, offset, weight = make_inputs(c=8, groups=4)
    with pytest.raises(ValueError, match=message):
        interlace_shift(*change(x, offset, weight), backend=backend)


def test_kernel_checks_its_own_arguments():
    """The registered op validates too, for callers that bypass the Python wrapper."""
    _extension.load_cpu()
    x, offset, weight = make_inputs(c=8, groups=4)
    with pytest.raises(ValueError, match="not divisible"):
        torch.ops.paperlib.interlace_shift(x, offset[:, :3], weight[:, :, :3], 8)
    with pytest.raises(ValueError, match="shift_channels"):
        torch.ops.paperlib.interlace_shift(x, offset, weight, 9)


def test_unknown_backend_and_wrong_device():
    x, offset, weight = make_inputs()
    with pytest.raises(ValueError, match="backend must be one of"):
        interlace_shift(x, offset, weight, backend="triton")
    with pytest.raises(ValueError, match="backend 'cuda' runs on CUDA tensors"):
        interlace_shift(x, offset, weight, backend="cuda")


def test_auto_falls_back_to_torch_with_one_warning(monkeypatch):
    monkeypatch.setitem(_extension._loaded, "cpu", _extension.ExtensionBuildError("compiler missing"))
    monkeypatch.setattr("paperlib.ops.interlace._warned_fallback", set())
    x, offset, weight = make_inputs()
    with pytest.warns(RuntimeWarning, match="compiler missing"):
        out = interlace_shift(x, offset, weight)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        interlace_shift(x, offset, weight)  # no second warning
    torch.testing.assert_close(out, interlace_shift_reference(x, offset, weight))
    with pytest.raises(_extension.ExtensionBuildError):
        interlace_shift(x, offset, weight, backend="cpp")  # explicit backend: no silent fallback


def test_module_form_and_meta_tensors():
    _extension.load_cpu()
    module = InterlaceShift(shift_channels=4, backend="cpp")
    x, offset, weight = make_inputs(c=8, groups=2)
    torch.testing.assert_close(module(x, offset, weight), brute_force(x, offset, weight, 4))
    meta = torch.ops.paperlib.interlace_shift(x.to("meta"), offset.to("meta"), weight.to("meta"), 4)
    assert meta.shape == x.shape and meta.device.type == "meta"


def test_opcheck_registrations():
    """Schema, autograd registration and fake kernel agree with the real kernel (torch.library.opcheck)."""
    _extension.load_cpu()
    x, offset, weight = make_inputs(n=2, t=4, c=8, h=2, w=2, groups=2)
    args = (x.requires_grad_(), away_from_integers(offset).requires_grad_(), weight.requires_grad_(), 4)
    torch.library.opcheck(torch.ops.paperlib.interlace_shift.default, args)


def test_backward_is_deterministic():
    x, offset, weight = make_inputs(n=2, t=8, c=64, h=7, w=7, groups=4, dtype=torch.float32)
    runs = [values_and_grads("cpp", x, offset, weight, 16) for _ in range(3)]
    for run in runs[1:]:
        for a, b in zip(run, runs[0]):
            assert torch.equal(a, b)


@pytest.mark.parametrize(
    "shape,groups,shift_channels",
    [
        ((2, 8, 64, 7, 7), 4, 16),  # TIN layer: runs of 4 channels per pixel
        ((2, 5, 12, 3, 4), 2, None),  # every channel shifted
        ((1, 3, 16, 64, 81), 4, 16),  # several chunks (channels-first), pixel blocks (channels-last), partial last
    ],
)
@pytest.mark.parametrize("layout", ["channels_first", "channels_last"])
def test_cpp_layouts_match_torch_and_keep_layout(shape, groups, shift_channels, layout):
    x = torch.randn(*shape, dtype=torch.float64)
    if layout == "channels_last":
        x = channels_last_frames(x)
    offset = away_from_integers((torch.rand(shape[0], groups, dtype=torch.float64) * 2 - 1) * 2.5)
    weight = torch.rand(shape[0], shape[1], groups, dtype=torch.float64) * 2
    expected = values_and_grads("torch", x.contiguous(), offset, weight, shift_channels)
    actual = values_and_grads("cpp", x, offset, weight, shift_channels)
    for name, a, e in zip(["y", "grad_x", "grad_offset", "grad_weight"], actual, expected):
        torch.testing.assert_close(a, e, rtol=0, atol=1e-9, msg=lambda m: f"{name}: {m}")
    for out in actual[:2]:  # y and grad_x stay in x's layout: no copy back and forth around the op
        assert is_channels_last_frames(out) == (layout == "channels_last")


def test_cpp_channels_last_gradcheck_and_mixed_grad_layout():
    x, offset, weight = make_inputs(n=2, t=4, c=8, h=2, w=3, groups=2)
    inputs = [
        channels_last_frames(x).requires_grad_(),
        away_from_integers(offset).requires_grad_(),
        weight.clone().requires_grad_(),
    ]
    fn = lambda a, b, c: interlace_shift(a, b, c, shift_channels=4, backend="cpp")  # noqa: E731
    assert torch.autograd.gradcheck(fn, inputs, eps=1e-6, atol=1e-7)
    # a channels-first grad_out for a channels-last x (autograd may hand either)
    x_cl, x_cf = (t.detach().clone().requires_grad_() for t in (channels_last_frames(x), x))
    grad_out = torch.randn_like(x)
    for xi in (x_cl, x_cf):
        interlace_shift(xi, offset, weight, shift_channels=4, backend="cpp").backward(grad_out)
    torch.testing.assert_close(x_cl.grad, x_cf.grad, rtol=0, atol=1e-12)


def test_into_buffer_must_have_the_layout_of_x():
    _extension.load_cpu()
    x, offset, weight = make_inputs(n=2, t=4, c=8, h=2, w=3, groups=2)
    x_cl = channels_last_frames(x)
    with pytest.raises(ValueError, match="buffer 'out' must be channels-last"):
        torch.ops.paperlib._interlace_shift_into(x_cl, offset, weight, 4, torch.empty_like(x))
    out = torch.empty_like(x_cl)
    torch.ops.paperlib._interlace_shift_into(x_cl, offset, weight, 4, out)
    torch.testing.assert_close(out, brute_force(x, offset, weight, 4), rtol=0, atol=1e-12)


def test_opcheck_channels_last():
    """The fake kernel gives the real kernel's strides for channels-last frames too."""
    _extension.load_cpu()
    x, offset, weight = make_inputs(n=2, t=4, c=8, h=2, w=2, groups=2)
    args = (
        channels_last_frames(x).requires_grad_(),
        away_from_integers(offset).requires_grad_(),
        weight.requires_grad_(),
        4,
    )
    torch.library.opcheck(torch.ops.paperlib.interlace_shift.default, args)


@requires_cuda
@pytest.mark.cuda
@pytest.mark.parametrize(
    "dtype,tol", [(torch.float64, 1e-9), (torch.float32, 1e-5), (torch.bfloat16, 2e-2), (torch.float16, 2e-3)]
)
@pytest.mark.parametrize("hw", [(7, 7), (8, 8), (56, 56)])  # scalar and 16-byte vector paths
@pytest.mark.parametrize("layout", ["channels_first", "channels_last"])
def test_cuda_matches_torch(dtype, tol, hw, layout):
    x, offset, weight = make_inputs(n=3, t=8, c=64, h=hw[0], w=hw[1], groups=4, scale=1.9)
    offset = away_from_integers(offset)
    expected = values_and_grads("torch", x, offset, weight, 16)
    x_dev = x.cuda().to(dtype)
    if layout == "channels_last":
        x_dev = channels_last_frames(x_dev)
    actual = values_and_grads("cuda", x_dev, offset.cuda().to(dtype), weight.cuda().to(dtype), 16)
    for a, e in zip(actual, expected):
        assert a.dtype == dtype and a.is_cuda
        scale = e.abs().max().clamp_min(1)
        assert ((a.double().cpu() - e).abs().max() / scale) < tol
    for out in actual[:2]:
        assert is_channels_last_frames(out) == (layout == "channels_last")


@requires_cuda
@pytest.mark.cuda
def test_cuda_gradcheck_and_edge_cases():
    x, offset, weight = make_inputs(n=2, t=4, c=8, h=2, w=3, groups=2, device="cuda")
    offset = away_from_integers(offset)
    inputs = [t.clone().requires_grad_() for t in (x, offset, weight)]
    fn = lambda a, b, c: interlace_shift(a, b, c, shift_channels=4, backend="cuda")  # noqa: E731
    assert torch.autograd.gradcheck(fn, inputs, eps=1e-6, atol=1e-7)
    far = torch.full_like(offset, 1e6)
    out = interlace_shift(x, far, weight, shift_channels=4, backend="cuda")
    assert torch.equal(out[:, :, :4], torch.zeros_like(out[:, :, :4]))
    empty = interlace_shift(x[:0], offset[:0], weight[:0], backend="cuda")
    assert empty.shape == (0, *x.shape[1:])


def test_large_outputs_are_ordinary_tensors():
    """Outputs of >= 2 MiB come from the huge-page allocator: same values, resizable, accumulate as grads."""
    x, offset, weight = make_inputs(n=1, t=8, c=64, h=32, w=32, groups=4, dtype=torch.float32)
    assert x.nbytes >= 2 << 20
    x.requires_grad_()
    out = interlace_shift(x, offset, weight, shift_channels=16, backend="cpp")
    torch.testing.assert_close(out, interlace_shift_reference(x, offset, weight, 16))
    out.sum().backward()
    once = x.grad.clone()
    interlace_shift(x, offset, weight, shift_channels=16, backend="cpp").sum().backward()
    torch.testing.assert_close(x.grad, 2 * once)
    resized = out.detach().resize_(3 * out.numel())
    assert resized.numel() == 3 * out.numel()
