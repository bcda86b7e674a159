"""TSN, TSM and TIN: a 2D ResNet applied to every frame, with an optional temporal layer in each block.

The temporal layer (TSM's shift or TIN's interlace) sits on the residual branch, before the block's first
conv; the identity path sees the unshifted input. Frames are folded into the batch and the per-frame
logits are averaged (TSN's consensus). Parameter names follow torchvision's ResNet (``conv1``, ``layer1.0.
conv1``, ``fc``), so torchvision's ImageNet weights load; the temporal layer of a block is ``layerL.i.temporal``.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

from torch import Tensor, nn
from torchvision.models.resnet import BasicBlock, Bottleneck, conv1x1

from ._head import FeaturesThenHead
from ._registry import Reported, ReportedResult, register_model
from .layers import TemporalConv, TemporalInterlace, TemporalShift
from .layers.temporal_interlace import OFFSET_INIT

TemporalLayer = Callable[[int], nn.Module]  # input channels -> module on Tensor[N*T, C, H, W]


class _TemporalSlot:
    """Constructor slot for a block's temporal layer, built from the block's input channels."""

    def __init__(
        self,
        inplanes: int,
        planes: int,
        stride: int = 1,
        downsample: nn.Module | None = None,
        temporal_layer: TemporalLayer | None = None,
    ) -> None:
        super().__init__(inplanes, planes, stride, downsample)
        self.temporal = temporal_layer(inplanes) if temporal_layer is not None else None


class TemporalBottleneck(_TemporalSlot, Bottleneck):
    """torchvision's Bottleneck with a temporal layer before ``conv1`` on the residual branch."""

    def forward(self, x: Tensor) -> Tensor:
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x if self.temporal is None else self.temporal(x))))
        out = self.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        return self.relu(out + identity)


class TemporalBasicBlock(_TemporalSlot, BasicBlock):
    """torchvision's BasicBlock with a temporal layer before ``conv1`` on the residual branch."""

    def forward(self, x: Tensor) -> Tensor:
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x if self.temporal is None else self.temporal(x))))
        out = self.bn2(self.conv2(out))
        return self.relu(out + identity)


class TemporalResNet(FeaturesThenHead, nn.Module):
    """A 2D ResNet over the frames of a clip, TSN consensus, dropout and a new classifier.

    Args:
        block: ``TemporalBottleneck`` or ``TemporalBasicBlock``.
        depths: blocks per stage, e.g. ``(3, 4, 6, 3)`` for ResNet-50.
        num_classes: classifier outputs.
        num_segments: frames ``T`` per clip (temporal layers need the input to have exactly ``T`` frames).
        temporal_layer: builds a block's temporal layer from its input channels; ``None`` gives TSN.
        width: stem width (64 in ResNet); stage widths are ``width · (1, 2, 4, 8)``.
        dropout: dropout before the classifier (TIN/TSM recipes: 0.8).
        fc_init_std: std of the classifier's normal init (TSN/TSM/TIN: 0.001); ``None`` keeps PyTorch's
            default ``Linear`` init, which small models trained from scratch learn from much sooner.
        temporal_every: put the temporal layer in blocks ``0, k, 2k, ...`` of each stage (TSM's ``n_round``:
            1, except 2 in the official TSM ResNet-101).
        backbone_dropout: a second dropout on the pooled features, before ``dropout`` (0: none, the default, as
            torchvision's ResNet used by the official TIN/TSM code). X-Temporal's ResNet (Sense-X/X-Temporal
            ``x_temporal/models/resnet.py``: ``self.dropout = nn.Dropout(0.5)`` applied before ``self.fc`` in
            ``forward``) keeps it when its TSN wrapper (``x_temporal/core/models.py``) turns ``fc`` into
            ``nn.Dropout(p=dropout)`` and adds ``new_fc``, so its recipes drop out twice: 0.5, then ``dropout``.
            (X-Temporal's deep-stem ``resnet50c``/``resnet50d`` are not offered: none of its recipes uses them.)
    """

    def __init__(
        self,
        block: type[TemporalBottleneck] | type[TemporalBasicBlock],
        depths: tuple[int, ...],
        num_classes: int,
        num_segments: int,
        temporal_layer: TemporalLayer | None = None,
        width: int = 64,
        dropout: float = 0.8,
        fc_init_std: float | None = 0.001,
        temporal_every: int = 1,
        backbone_dropout: float = 0.0,
    ) -> None:
        super().__init__()
        if temporal_every < 1:
            raise ValueError(f"temporal_every must be >= 1, got {temporal_every}")
        self.temporal_every = temporal_every
        self.num_segments = num_segments
        self.needs_num_segments = temporal_layer is not None
        self.inplanes = width
        self.conv1 = nn.Conv2d(3, width, kernel_size=7, stride=2, padding=3, bias=False)
        self.bn1 = nn.BatchNorm2d(width)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(kernel_size=3, stride=2, padding=1)
        self.layer1 = self._make_layer(block, width, depths[0], 1, temporal_layer)
        self.layer2 = self._make_layer(block, width * 2, depths[1], 2, temporal_layer)
        self.layer3 = self._make_layer(block, width * 4, depths[2], 2, temporal_layer)
        self.layer4 = self._make_layer(block, width * 8, depths[3], 2, temporal_layer)
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.backbone_dropout = nn.Dropout(backbone_dropout) if backbone_dropout else nn.Identity()
        self.dropout = nn.Dropout(dropout)
        self.num_features = width * 8 * block.expansion
        self.fc = nn.Linear(self.num_features, num_classes)
        self._init_weights(fc_init_std)
        self.partial_bn = False

    def _make_layer(self, block, planes: int, blocks: int, stride: int, temporal_layer) -> nn.Sequential:
        downsample = None
        if stride != 1 or self.inplanes != planes * block.expansion:
            downsample = nn.Sequential(
                conv1x1(self.inplanes, planes * block.expansion, stride), nn.BatchNorm2d(planes * block.expansion)
            )
        layers = [block(self.inplanes, planes, stride, downsample, temporal_layer)]
        self.inplanes = planes * block.expansion
        every = self.temporal_every
        layers += [
            block(self.inplanes, planes, temporal_layer=temporal_layer if i % every == 0 else None)
            for i in range(1, blocks)
        ]
        return nn.Sequential(*layers)

    def _init_weights(self, fc_init_std: float | None) -> None:
        # torchvision's ResNet init for the backbone (temporal layers keep their own init);
        # the new classifier gets N(0, fc_init_std = 0.001) and zero bias, as in TSN/TSM/TIN.
        for name, m in self.named_modules():
            if ".temporal" in name:
                continue
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
            elif isinstance(m, nn.BatchNorm2d):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)
        if fc_init_std is not None:
            nn.init.normal_(self.fc.weight, 0, fc_init_std)
            nn.init.zeros_(self.fc.bias)

    def forward_features(self, x: Tensor) -> Tensor:
        """``x: Tensor[N, 3, T, H, W]`` -> pooled per-frame features ``Tensor[N, T, F]``."""
        n, c, t, h, w = x.shape
        if self.needs_num_segments and t != self.num_segments:
            raise ValueError(f"{type(self).__name__}: built for {self.num_segments} frames, got a clip of {t}")
        x = x.transpose(1, 2).reshape(n * t, c, h, w)  # [N*T, 3, H, W]
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        return self.avgpool(x).view(n, t, -1)  # [N, T, F]

    def forward_head(self, features: Tensor) -> Tensor:
        """Per-frame features ``Tensor[N, T, F]`` -> clip logits ``Tensor[N, K]`` (mean of frame logits)."""
        return self.fc(self.dropout(self.backbone_dropout(features))).mean(dim=1)

    def set_partial_bn(self, enabled: bool = True) -> TemporalResNet:
        """TSN's partial BN: in training, freeze the statistics and affine parameters of every BatchNorm
        except the first (the stem's). Used by the official TSM/TIN recipes."""
        self.partial_bn = enabled
        for i, m in enumerate(m for m in self.modules() if isinstance(m, nn.BatchNorm2d)):
            if i > 0:
                m.weight.requires_grad_(not enabled)
                m.bias.requires_grad_(not enabled)
        return self.train(self.training)

    def train(self, mode: bool = True) -> TemporalResNet:
        super().train(mode)
        if mode and self.partial_bn:
            for i, m in enumerate(m for m in self.modules() if isinstance(m, nn.BatchNorm2d)):
                if i > 0:
                    m.eval()
        return self


_DEPTHS = {
    18: (TemporalBasicBlock, (2, 2, 2, 2)),
    34: (TemporalBasicBlock, (3, 4, 6, 3)),
    50: (TemporalBottleneck, (3, 4, 6, 3)),
    101: (TemporalBottleneck, (3, 4, 23, 3)),
}


def _resnet(
    depth: int,
    num_classes: int,
    num_segments: int,
    temporal_layer: TemporalLayer | None,
    depths: tuple[int, ...] | None = None,
    width: int = 64,
    dropout: float = 0.8,
    fc_init_std: float | None = 0.001,
    temporal_every: int = 1,
    backbone_dropout: float = 0.0,
) -> TemporalResNet:
    block, default_depths = _DEPTHS[depth]
    return TemporalResNet(
        block,
        tuple(depths or default_depths),
        num_classes,
        num_segments,
        temporal_layer,
        width=width,
        dropout=dropout,
        fc_init_std=fc_init_std,
        temporal_every=temporal_every,
        backbone_dropout=backbone_dropout,
    )


def _tsm(num_segments: int, shift_div: int = 8) -> TemporalLayer:
    return partial(TemporalShift, num_segments=num_segments, shift_div=shift_div)


def _tin_resnet(
    depth: int,
    num_classes: int,
    num_segments: int,
    shift_div: int = 4,
    backend: str = "auto",
    fixed_offset: tuple[float, float] | None = None,
    fixed_weight: float | None = None,
    offset_init: float = OFFSET_INIT,
    **kwargs,
) -> TemporalResNet:
    """A TIN ResNet: :class:`TemporalInterlace` (its options: ``shift_div`` 4 as in TIN, ``backend``, the fixed-offset
    ablation's ``fixed_offset``/``fixed_weight``, ``offset_init`` in frames) before the first conv of every block."""
    tin = partial(
        TemporalInterlace,
        num_segments=num_segments,
        shift_div=shift_div,
        backend=backend,
        fixed_offset=fixed_offset,
        fixed_weight=fixed_weight,
        offset_init=offset_init,
    )
    return _resnet(depth, num_classes, num_segments, tin, **kwargs)


def _tconv(num_segments: int, kernel_size: int = 3) -> TemporalLayer:
    return partial(TemporalConv, num_segments=num_segments, kernel_size=kernel_size)


_MMACTION = "mmaction2 metafiles (configs/recognition/{tsn,tsm,tin}/metafile.yml), Something-Something v1"
_R50_8F = dict(num_classes=174, gflops=32.96, input_shape=(3, 8, 224, 224), source=_MMACTION)

# TIN paper (Shao et al., AAAI 2020) Table 1: Something-Something v1 validation top-1, ResNet-50, ImageNet start,
# as quoted in deepcs233/TIN issue #3; its TSM rows are the numbers of TSM's first arXiv version. The TSM
# README's revised numbers belong to its published checkpoints (paperlib.models.zoo.PUBLISHED).
_TIN_TABLE1 = "TIN paper Table 1, as quoted in deepcs233/TIN issue #3"
_STHV1 = "Something-Something v1"


def _table1(model_label: str, values: dict[str, float], source: str = _TIN_TABLE1) -> tuple[ReportedResult, ...]:
    return tuple(
        ReportedResult(_STHV1, "top1", v, frames, "1 crop x 1 clip", source, model_label)
        for frames, v in values.items()
    )


_TSM_TABLE1 = _table1("TSM (arXiv v1, in TIN's Table 1)", {"8": 43.4, "16": 44.8, "8+16": 46.8}) + (
    ReportedResult(
        _STHV1,
        "top1",
        49.7,
        "8+16",
        "1 crop x 1 clip",
        "TSM paper (later versions), as quoted in TIN issue #3",
        "TSM (revised)",
    ),
)
_TIN_RESULTS = _table1("TIN", {"8": 45.8, "16": 47.0, "8+16": 49.6})


@register_model
def tsn_r18(*, num_classes: int, num_segments: int = 8, **kwargs) -> TemporalResNet:
    return _resnet(18, num_classes, num_segments, None, **kwargs)


@register_model
def tsn_r34(*, num_classes: int, num_segments: int = 8, **kwargs) -> TemporalResNet:
    return _resnet(34, num_classes, num_segments, None, **kwargs)


@register_model(
    reported=Reported(
        params=24_327_632,
        num_classes=400,
        gflops=32.96,
        input_shape=(3, 8, 224, 224),
        source="mmaction2 0.x metafile, tsn_r50_dense_1x1x8 (Kinetics-400)",
    )
)
def tsn_r50(*, num_classes: int, num_segments: int = 8, **kwargs) -> TemporalResNet:
    return _resnet(50, num_classes, num_segments, None, **kwargs)


@register_model
def tsn_r101(*, num_classes: int, num_segments: int = 8, **kwargs) -> TemporalResNet:
    return _resnet(101, num_classes, num_segments, None, **kwargs)


@register_model
def tsm_r18(*, num_classes: int, num_segments: int = 8, shift_div: int = 8, **kwargs) -> TemporalResNet:
    return _resnet(18, num_classes, num_segments, _tsm(num_segments, shift_div), **kwargs)


@register_model
def tsm_r34(*, num_classes: int, num_segments: int = 8, shift_div: int = 8, **kwargs) -> TemporalResNet:
    return _resnet(34, num_classes, num_segments, _tsm(num_segments, shift_div), **kwargs)


@register_model(reported=Reported(params=23_864_558, **_R50_8F, results=_TSM_TABLE1))
def tsm_r50(*, num_classes: int, num_segments: int = 8, shift_div: int = 8, **kwargs) -> TemporalResNet:
    return _resnet(50, num_classes, num_segments, _tsm(num_segments, shift_div), **kwargs)


@register_model
def tsm_r101(
    *, num_classes: int, num_segments: int = 8, shift_div: int = 8, temporal_every: int = 2, **kwargs
) -> TemporalResNet:
    """TSM ResNet-101 as the official code builds it: a shift in every second block of each stage (``n_round =
    2`` for a 23-block stage); X-Temporal shifts every block (``temporal_every=1``)."""
    return _resnet(
        101, num_classes, num_segments, _tsm(num_segments, shift_div), temporal_every=temporal_every, **kwargs
    )


@register_model
def tin_r18(*, num_classes: int, num_segments: int = 8, **options) -> TemporalResNet:
    return _tin_resnet(18, num_classes, num_segments, **options)


@register_model
def tin_r34(*, num_classes: int, num_segments: int = 8, **options) -> TemporalResNet:
    return _tin_resnet(34, num_classes, num_segments, **options)


@register_model(reported=Reported(params=23_895_566, **{**_R50_8F, "gflops": 32.962}, results=_TIN_RESULTS))
def tin_r50(*, num_classes: int, num_segments: int = 8, **options) -> TemporalResNet:
    return _tin_resnet(50, num_classes, num_segments, **options)


@register_model
def tin_r101(*, num_classes: int, num_segments: int = 8, **options) -> TemporalResNet:
    return _tin_resnet(101, num_classes, num_segments, **options)


@register_model
def tconv_r50(*, num_classes: int, num_segments: int = 8, kernel_size: int = 3, **kwargs) -> TemporalResNet:
    """The temporal-convolution baseline: a full ``kernel_size``x1x1 convolution (C -> C, identity init) where
    TSM and TIN shift (see :class:`~paperlib.models.layers.TemporalConv`)."""
    return _resnet(50, num_classes, num_segments, _tconv(num_segments, kernel_size), **kwargs)
