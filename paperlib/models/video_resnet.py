"""R3D and R(2+1)D (Tran et al., A Closer Look at Spatiotemporal Convolutions, arXiv 1711.11248) on torchvision.

:class:`VideoResNet` is torchvision's ``VideoResNet`` with only ``__init__`` redone, to scale the widths
(``width``, 64 in the paper) and choose the depths; the blocks (``BasicBlock``, ``Conv3DSimple``,
``Conv2Plus1D``) and ``_make_layer`` are torchvision's. At the default width the parameter names and shapes
are torchvision's, so its Kinetics-400 weights (``R3D_18_Weights``, ``R2Plus1D_18_Weights``) load with
``strict=True`` and give the same outputs.
"""

from __future__ import annotations

from collections.abc import Sequence

from torch import Tensor, nn
from torchvision.models.video import resnet as tv

from ._head import FeaturesThenHead
from ._registry import Reported, register_model
from .resnet3d import init_conv_bn_linear

ConvMaker = type[tv.Conv3DSimple] | type[tv.Conv2Plus1D]


def r3d_stem(width: int) -> nn.Sequential:
    """torchvision's ``BasicStem`` with ``width`` channels: conv 3×7×7 (stride 1×2×2) + BN + ReLU."""
    return nn.Sequential(
        nn.Conv3d(3, width, (3, 7, 7), stride=(1, 2, 2), padding=(1, 3, 3), bias=False),
        nn.BatchNorm3d(width),
        nn.ReLU(inplace=True),
    )


def r2plus1d_stem(width: int) -> nn.Sequential:
    """torchvision's ``R2Plus1dStem`` with ``width`` channels: conv 1×7×7 (stride 1×2×2) to ``45·width/64``
    channels + BN + ReLU, then conv 3×1×1 + BN + ReLU (45 is the paper's stem: 3×7×7 params split in two)."""
    mid = 45 * width // 64
    return nn.Sequential(
        nn.Conv3d(3, mid, (1, 7, 7), stride=(1, 2, 2), padding=(0, 3, 3), bias=False),
        nn.BatchNorm3d(mid),
        nn.ReLU(inplace=True),
        nn.Conv3d(mid, width, (3, 1, 1), padding=(1, 0, 0), bias=False),
        nn.BatchNorm3d(width),
        nn.ReLU(inplace=True),
    )


class VideoResNet(FeaturesThenHead, tv.VideoResNet):
    """torchvision's ``VideoResNet`` of ``BasicBlock``\\ s with a scalable width, dropout and a features/head split.

    Args:
        conv_maker: ``Conv3DSimple`` (R3D) or ``Conv2Plus1D`` (R(2+1)D), used in every stage.
        stem: the stem module, ``[N, 3, T, H, W] -> [N, width, T, H/2, W/2]``.
        depths: blocks per stage, ``(2, 2, 2, 2)`` for the 18-layer nets.
        num_classes: classifier outputs.
        width: stem width (64); stage widths are ``width·(1, 2, 4, 8)``.
        dropout: dropout before the classifier (torchvision has none: 0).
    """

    def __init__(
        self,
        conv_maker: ConvMaker,
        stem: nn.Module,
        depths: Sequence[int],
        num_classes: int,
        width: int = 64,
        dropout: float = 0.0,
    ) -> None:
        nn.Module.__init__(self)
        self.inplanes = width  # read and advanced by torchvision's _make_layer
        self.stem = stem
        self.layer1 = self._make_layer(tv.BasicBlock, conv_maker, width, depths[0], stride=1)
        self.layer2 = self._make_layer(tv.BasicBlock, conv_maker, width * 2, depths[1], stride=2)
        self.layer3 = self._make_layer(tv.BasicBlock, conv_maker, width * 4, depths[2], stride=2)
        self.layer4 = self._make_layer(tv.BasicBlock, conv_maker, width * 8, depths[3], stride=2)
        self.avgpool = nn.AdaptiveAvgPool3d(1)
        self.dropout = nn.Dropout(dropout)
        self.fc = nn.Linear(width * 8, num_classes)
        init_conv_bn_linear(self)

    def forward_features(self, x: Tensor) -> Tensor:
        """``x: Tensor[N, 3, T, H, W]`` -> pooled features ``Tensor[N, 8·width]``."""
        x = self.layer4(self.layer3(self.layer2(self.layer1(self.stem(x)))))  # [N, 8·width, T/8, H/16, W/16]
        return self.avgpool(x).flatten(1)


_TORCHVISION = "torchvision weights meta ({}.KINETICS400_V1), exact count; GFLOPs per 16×112² clip"


@register_model(
    reported=Reported(
        params=33_371_472,
        num_classes=400,
        gflops=40.697,
        input_shape=(3, 16, 112, 112),
        source=_TORCHVISION.format("R3D_18_Weights"),
    )
)
def r3d_18(
    *,
    num_classes: int,
    num_segments: int = 16,
    dropout: float = 0.0,
    width: int = 64,
    depths: Sequence[int] | None = None,
) -> VideoResNet:
    """R3D-18: 3×3×3 convs everywhere; torchvision's ``r3d_18`` at the default width and depths."""
    return VideoResNet(tv.Conv3DSimple, r3d_stem(width), depths or (2, 2, 2, 2), num_classes, width, dropout)


@register_model(
    reported=Reported(
        params=31_505_325,
        num_classes=400,
        gflops=40.519,
        input_shape=(3, 16, 112, 112),
        source=_TORCHVISION.format("R2Plus1D_18_Weights"),
    )
)
def r2plus1d_18(
    *,
    num_classes: int,
    num_segments: int = 16,
    dropout: float = 0.0,
    width: int = 64,
    depths: Sequence[int] | None = None,
) -> VideoResNet:
    """R(2+1)D-18: every 3×3×3 conv split into 1×3×3 and 3×1×1; torchvision's ``r2plus1d_18`` by default."""
    return VideoResNet(tv.Conv2Plus1D, r2plus1d_stem(width), depths or (2, 2, 2, 2), num_classes, width, dropout)


@register_model(
    reported=Reported(
        source="mmaction2 R(2+1)D-34 metafile, for reference only: a different count, see notes",
        notes={
            "mmaction2_params": 63_800_000,
            "mmaction2_num_classes": 400,
            "why": "mmaction2 sizes each (2+1)D conv's mid channels from its own in/out channels; torchvision's "
            "BasicBlock uses the block's (inplanes, planes) for both convs, so first blocks are smaller",
        },
    )
)
def r2plus1d_34(
    *,
    num_classes: int,
    num_segments: int = 16,
    dropout: float = 0.0,
    width: int = 64,
    depths: Sequence[int] | None = None,
) -> VideoResNet:
    """R(2+1)D-34: ``r2plus1d_18`` with ``(3, 4, 6, 3)`` blocks per stage."""
    return VideoResNet(tv.Conv2Plus1D, r2plus1d_stem(width), depths or (3, 4, 6, 3), num_classes, width, dropout)
