"""3D bottleneck ResNets: slow-only, fast-only and I3D (Feichtenhofer et al., SlowFast, arXiv 1812.03982).

One class, :class:`ResNet3d`, covers the three; they differ only in the temporal kernels (data passed to the
constructor). The layout follows PySlowFast / PyTorchVideo (``pytorchvideo/models/resnet.py``): a stem
conv (kt×7×7, spatial stride 2) + BN + ReLU + 1×3×3 max-pool, four stages of bottlenecks whose first 1×1 conv
(``conv_a``) is kt×1×1 (kt ∈ {1, 3}) and whose 3×3 conv carries the spatial stride, global average pooling,
dropout and a linear classifier. There is no temporal downsampling except I3D's optional max-pool after
``layer1``. :class:`Bottleneck3d`, :func:`make_stage`, :class:`Stem3d` and :func:`init_weights` are shared
with :mod:`.slowfast`.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence

from torch import Tensor, nn

from ._head import FeaturesThenHead
from ._registry import Reported, register_model

TemporalKernels = int | Sequence[int]  # one stage's conv_a temporal kernels: one for all blocks, or a pattern

R50_DEPTHS = (3, 4, 6, 3)


class Stem3d(nn.Sequential):
    """Conv (kt×7×7, stride 1×2×2) + BN + ReLU + max-pool (1×3×3, stride 1×2×2): ``[N, C, T, H, W] ->
    [N, dim_out, T, H/4, W/4]``."""

    def __init__(self, dim_in: int, dim_out: int, kernel_t: int) -> None:
        super().__init__(
            OrderedDict(
                conv=nn.Conv3d(
                    dim_in, dim_out, (kernel_t, 7, 7), stride=(1, 2, 2), padding=(kernel_t // 2, 3, 3), bias=False
                ),
                bn=nn.BatchNorm3d(dim_out),
                relu=nn.ReLU(inplace=True),
                pool=nn.MaxPool3d((1, 3, 3), stride=(1, 2, 2), padding=(0, 1, 1)),
            )
        )


class Bottleneck3d(nn.Module):
    """Residual bottleneck: ``conv_a`` kt×1×1, ``conv_b`` 1×3×3 (spatial stride), ``conv_c`` 1×1×1, each with BN.

    Args:
        dim_in: input channels.
        dim_inner: channels of ``conv_a`` and ``conv_b``.
        dim_out: output channels.
        kernel_t: temporal kernel of ``conv_a`` (1 or 3; padded to keep ``T``).
        spatial_stride: stride of ``conv_b`` and of the shortcut in ``H`` and ``W``.

    The shortcut is a 1×1×1 conv + BN when the shape changes, the identity otherwise.
    """

    def __init__(self, dim_in: int, dim_inner: int, dim_out: int, kernel_t: int = 1, spatial_stride: int = 1) -> None:
        super().__init__()
        stride = (1, spatial_stride, spatial_stride)
        self.conv_a = nn.Conv3d(dim_in, dim_inner, (kernel_t, 1, 1), padding=(kernel_t // 2, 0, 0), bias=False)
        self.bn_a = nn.BatchNorm3d(dim_inner)
        self.conv_b = nn.Conv3d(dim_inner, dim_inner, (1, 3, 3), stride=stride, padding=(0, 1, 1), bias=False)
        self.bn_b = nn.BatchNorm3d(dim_inner)
        self.conv_c = nn.Conv3d(dim_inner, dim_out, 1, bias=False)
        self.bn_c = nn.BatchNorm3d(dim_out)
        self.relu = nn.ReLU(inplace=True)
        self.shortcut = None
        if dim_in != dim_out or spatial_stride != 1:
            self.shortcut = nn.Sequential(
                nn.Conv3d(dim_in, dim_out, 1, stride=stride, bias=False), nn.BatchNorm3d(dim_out)
            )

    def forward(self, x: Tensor) -> Tensor:
        """``x: Tensor[N, dim_in, T, H, W]`` -> ``Tensor[N, dim_out, T, H/stride, W/stride]``."""
        identity = x if self.shortcut is None else self.shortcut(x)
        out = self.relu(self.bn_a(self.conv_a(x)))
        out = self.relu(self.bn_b(self.conv_b(out)))
        out = self.bn_c(self.conv_c(out))
        return self.relu(out + identity)


def make_stage(
    dim_in: int, dim_inner: int, dim_out: int, depth: int, kernels_t: TemporalKernels, spatial_stride: int
) -> nn.Sequential:
    """``depth`` bottlenecks; the first one takes ``dim_in`` channels and the spatial stride.

    ``kernels_t`` gives ``conv_a``'s temporal kernel: an int for every block, or a pattern repeated over the
    blocks (I3D's ``(3, 1)`` gives 3, 1, 3, 1, ...), as ``stage_conv_a_kernel_size`` in PyTorchVideo.
    """
    pattern = (kernels_t,) if isinstance(kernels_t, int) else tuple(kernels_t)
    return nn.Sequential(
        *(
            Bottleneck3d(
                dim_in if i == 0 else dim_out,
                dim_inner,
                dim_out,
                pattern[i % len(pattern)],
                spatial_stride if i == 0 else 1,
            )
            for i in range(depth)
        )
    )


def init_conv_bn_linear(model: nn.Module) -> None:
    """torchvision's video-ResNet init: convs Kaiming-normal (fan_out), BN (1, 0), linear N(0, 0.01), zero bias."""
    for m in model.modules():
        if isinstance(m, nn.Conv3d):
            nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
        elif isinstance(m, nn.BatchNorm3d):
            nn.init.ones_(m.weight)
            nn.init.zeros_(m.bias)
        elif isinstance(m, nn.Linear):
            nn.init.normal_(m.weight, 0, 0.01)
            nn.init.zeros_(m.bias)


def init_weights(model: nn.Module, zero_init_residual: bool = True) -> None:
    """PyTorchVideo's ResNet init: :func:`init_conv_bn_linear`, then (``zero_init_residual``) the last BN of
    every bottleneck 0, so each block starts as its shortcut."""
    init_conv_bn_linear(model)
    if not zero_init_residual:
        return
    for m in model.modules():
        if isinstance(m, Bottleneck3d):
            nn.init.zeros_(m.bn_c.weight)


class ResNet3d(FeaturesThenHead, nn.Module):
    """A 3D bottleneck ResNet on a clip ``Tensor[N, 3, T, H, W]``, returning logits ``Tensor[N, num_classes]``.

    Args:
        num_classes: classifier outputs.
        stem_kernel_t: temporal kernel of the stem conv (1 slow-only, 5 fast-only and I3D).
        conv_a_kernels: per stage, ``conv_a``'s temporal kernel(s), see :func:`make_stage`.
        width: stem width (64 in ResNet-50); stage ``i`` has inner width ``width·2^i`` and output ``4·width·2^i``.
        depths: blocks per stage, ``(3, 4, 6, 3)`` for ResNet-50.
        dropout: dropout before the classifier.
        temporal_pool: max-pool time by 2 after ``layer1`` (PyTorchVideo's I3D ``stage1_pool``).
        zero_init_residual: start every block's last BN at 0 (PyTorchVideo). With one block per stage every
            block has a projection shortcut, so this starts each stage as a single strided 1×1×1 conv; the
            small embedded models turn it off (ours).
    """

    def __init__(
        self,
        num_classes: int,
        stem_kernel_t: int = 1,
        conv_a_kernels: Sequence[TemporalKernels] = (1, 1, 3, 3),
        width: int = 64,
        depths: Sequence[int] = R50_DEPTHS,
        dropout: float = 0.5,
        temporal_pool: bool = False,
        zero_init_residual: bool = True,
    ) -> None:
        super().__init__()
        self.stem = Stem3d(3, width, stem_kernel_t)
        inner = [width * 2**i for i in range(4)]  # 64, 128, 256, 512
        self.layer1 = make_stage(width, inner[0], 4 * inner[0], depths[0], conv_a_kernels[0], 1)
        self.temporal_pool = nn.MaxPool3d((2, 1, 1), stride=(2, 1, 1)) if temporal_pool else nn.Identity()
        self.layer2 = make_stage(4 * inner[0], inner[1], 4 * inner[1], depths[1], conv_a_kernels[1], 2)
        self.layer3 = make_stage(4 * inner[1], inner[2], 4 * inner[2], depths[2], conv_a_kernels[2], 2)
        self.layer4 = make_stage(4 * inner[2], inner[3], 4 * inner[3], depths[3], conv_a_kernels[3], 2)
        self.num_features = 4 * inner[3]
        self.pool = nn.AdaptiveAvgPool3d(1)
        self.dropout = nn.Dropout(dropout)
        self.fc = nn.Linear(self.num_features, num_classes)
        init_weights(self, zero_init_residual)

    def forward_features(self, x: Tensor) -> Tensor:
        """``x: Tensor[N, 3, T, H, W]`` -> globally pooled features ``Tensor[N, num_features]``."""
        x = self.temporal_pool(self.layer1(self.stem(x)))
        x = self.layer4(self.layer3(self.layer2(x)))  # [N, 4·8·width, T', H/32, W/32]
        return self.pool(x).flatten(1)


# PyTorchVideo's model zoo counts FLOPs per test view, a 256² crop (3 crops x 10 clips), not 224².
_PTV = "PyTorchVideo model zoo (Kinetics-400)"


@register_model(
    reported=Reported(
        params=32_450_000,
        num_classes=400,
        gflops=54.52,
        input_shape=(3, 8, 256, 256),
        source=f"{_PTV}, Slow R50 8x8 (32.45M)",
        notes={"4x16": dict(gflops=27.55, input_shape=(3, 4, 256, 256))},
    )
)
def slow_r50(
    *,
    num_classes: int,
    num_segments: int = 8,
    dropout: float = 0.5,
    width: int = 64,
    depths: Sequence[int] | None = None,
    **kwargs,
) -> ResNet3d:
    """Slow-only ResNet-50 (SlowFast paper; PySlowFast/PyTorchVideo ``slow_r50``): stem 1×7×7, ``conv_a``
    1×1×1 in res2/res3 and 3×1×1 in res4/res5. Any clip length works (``num_segments`` is not used)."""
    return ResNet3d(
        num_classes,
        stem_kernel_t=1,
        conv_a_kernels=(1, 1, 3, 3),
        width=width,
        depths=depths or R50_DEPTHS,
        dropout=dropout,
        **kwargs,
    )


@register_model
def fast_r50(
    *,
    num_classes: int,
    num_segments: int = 32,
    dropout: float = 0.5,
    width: int = 64,
    depths: Sequence[int] | None = None,
    **kwargs,
) -> ResNet3d:
    """Fast-only ResNet-50, the standalone network of the MMIT solution (dense 32×2 clips).

    The SlowFast fast pathway's temporal kernels (stem 5×7×7, ``conv_a`` 3×1×1 in every stage) at the full
    ResNet-50 width (not the pathway's β = 1/8), no temporal downsampling. No published count: 33,024,208
    parameters at 400 classes, the slow-only model's plus the extra taps of the stem and res2/res3 ``conv_a``.
    """
    return ResNet3d(
        num_classes,
        stem_kernel_t=5,
        conv_a_kernels=(3, 3, 3, 3),
        width=width,
        depths=depths or R50_DEPTHS,
        dropout=dropout,
        **kwargs,
    )


@register_model(
    reported=Reported(
        params=28_040_000,
        num_classes=400,
        gflops=37.53,
        input_shape=(3, 8, 256, 256),
        source=f"{_PTV}, I3D R50 8x8 (28.04M)",
    )
)
def i3d_r50(
    *,
    num_classes: int,
    num_segments: int = 8,
    dropout: float = 0.5,
    width: int = 64,
    depths: Sequence[int] | None = None,
    **kwargs,
) -> ResNet3d:
    """I3D ResNet-50 (inflated 3×1×1 kernels), PyTorchVideo's ``i3d_r50``: stem 5×7×7; ``conv_a`` 3 in every
    res2 block, alternating 3, 1 in res3/res4 and 1, 3 in res5; time max-pooled by 2 after res2."""
    return ResNet3d(
        num_classes,
        stem_kernel_t=5,
        conv_a_kernels=(3, (3, 1), (3, 1), (1, 3)),
        width=width,
        depths=depths or R50_DEPTHS,
        dropout=dropout,
        temporal_pool=True,
        **kwargs,
    )
