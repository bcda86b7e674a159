"""SlowFast ResNet-50 (Feichtenhofer et al., SlowFast Networks for Video Recognition, arXiv 1812.03982).

Two 3D ResNets built from :mod:`.resnet3d`'s stem and stages: a slow pathway on every ``alpha``-th frame
(the slow-only ResNet-50) and a fast pathway on all frames with ``1/beta_inv`` of the channels and temporal
kernels everywhere. After the stems and after res2, res3 and res4 a lateral connection carries fast features
to the slow pathway (a strided time conv, concatenated to the slow channels). The head pools each pathway,
concatenates them, applies dropout and a linear classifier. Layout as in PySlowFast, PyTorchVideo
(``create_slowfast``) and X-Temporal (``sfresnet50``).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor, nn

from ._head import FeaturesThenHead
from ._registry import Reported, register_model
from .resnet3d import R50_DEPTHS, Stem3d, init_weights, make_stage

_CONFIGS = {"4x16": dict(alpha=8, fusion_kernel=5), "8x8": dict(alpha=4, fusion_kernel=7)}  # PySlowFast yamls


class FastToSlowFusion(nn.Module):
    """Lateral connection: fast features are brought to the slow frame rate and concatenated to the slow ones.

    Conv3d ``dim_fast -> 2·dim_fast`` with kernel ``(fusion_kernel, 1, 1)`` and time stride ``alpha``, BN, ReLU.
    """

    def __init__(self, dim_fast: int, alpha: int, fusion_kernel: int) -> None:
        super().__init__()
        self.conv = nn.Conv3d(
            dim_fast,
            2 * dim_fast,
            (fusion_kernel, 1, 1),
            stride=(alpha, 1, 1),
            padding=(fusion_kernel // 2, 0, 0),
            bias=False,
        )
        self.bn = nn.BatchNorm3d(2 * dim_fast)
        self.relu = nn.ReLU(inplace=True)

    def forward(self, slow: Tensor, fast: Tensor) -> Tensor:
        """``slow: Tensor[N, C_s, T/alpha, H, W]``, ``fast: Tensor[N, C_f, T, H, W]`` ->
        ``Tensor[N, C_s + 2·C_f, T/alpha, H, W]``."""
        return torch.cat([slow, self.relu(self.bn(self.conv(fast)))], dim=1)


class SlowFast(FeaturesThenHead, nn.Module):
    """SlowFast ResNet on the fast clip ``Tensor[N, 3, T, H, W]``; the slow clip is ``x[:, :, ::alpha]`` (as in
    X-Temporal; PyTorchVideo's ``PackPathway`` transform picks ``T/alpha`` frames with ``linspace`` instead).

    Args:
        num_classes: classifier outputs.
        alpha: frame-rate ratio between the pathways (8 for 4x16, 4 for 8x8).
        fusion_kernel: temporal kernel of the lateral convs (5 for 4x16, 7 for 8x8).
        beta_inv: channel ratio slow/fast (8).
        width: slow stem width (64); the fast pathway has ``width // beta_inv``.
        depths: blocks per stage, ``(3, 4, 6, 3)`` for ResNet-50.
        dropout: dropout before the classifier.
    """

    def __init__(
        self,
        num_classes: int,
        alpha: int = 8,
        fusion_kernel: int = 5,
        beta_inv: int = 8,
        width: int = 64,
        depths: Sequence[int] = R50_DEPTHS,
        dropout: float = 0.5,
    ) -> None:
        super().__init__()
        self.alpha = alpha
        slow = [width * 2**i for i in range(4)]  # inner widths 64, 128, 256, 512; stage outputs are 4x
        fast = [c // beta_inv for c in slow]  # 8, 16, 32, 64
        slow_in = [slow[0], 4 * slow[0], 4 * slow[1], 4 * slow[2]]  # stage inputs before fusion
        fast_in = [fast[0], 4 * fast[0], 4 * fast[1], 4 * fast[2]]

        self.slow_stem = Stem3d(3, slow[0], kernel_t=1)
        self.fast_stem = Stem3d(3, fast[0], kernel_t=5)
        self.fusions = nn.ModuleList(FastToSlowFusion(c, alpha, fusion_kernel) for c in fast_in)
        self.slow_layers, self.fast_layers = nn.ModuleList(), nn.ModuleList()
        for i, (kernel_t, depth) in enumerate(zip((1, 1, 3, 3), depths)):
            stride = 1 if i == 0 else 2
            # slow stages also take the fused fast channels: 64+16, 256+64, 512+128, 1024+256
            slow_dim_in = slow_in[i] + 2 * fast_in[i]
            self.slow_layers.append(make_stage(slow_dim_in, slow[i], 4 * slow[i], depth, kernel_t, stride))
            self.fast_layers.append(make_stage(fast_in[i], fast[i], 4 * fast[i], depth, 3, stride))
        self.num_features = 4 * (slow[3] + fast[3])  # 2048 + 256
        self.pool = nn.AdaptiveAvgPool3d(1)
        self.dropout = nn.Dropout(dropout)
        self.fc = nn.Linear(self.num_features, num_classes)
        init_weights(self)

    def forward_features(self, x: Tensor) -> Tensor:
        """``x: Tensor[N, 3, T, H, W]`` -> pooled slow and fast features, concatenated ``Tensor[N, num_features]``."""
        slow = self.slow_stem(x[:, :, :: self.alpha])  # [N, width, T/alpha, H/4, W/4]
        fast = self.fast_stem(x)  # [N, width/beta_inv, T, H/4, W/4]
        for fusion, slow_layer, fast_layer in zip(self.fusions, self.slow_layers, self.fast_layers):
            slow = slow_layer(fusion(slow, fast))
            fast = fast_layer(fast)
        return torch.cat([self.pool(slow).flatten(1), self.pool(fast).flatten(1)], dim=1)


@register_model(
    reported=Reported(
        params=34_480_000,
        num_classes=400,
        gflops=36.69,
        input_shape=(3, 32, 256, 256),
        source="PyTorchVideo model zoo (Kinetics-400), SlowFast R50 4x16 (34.48M); FLOPs per 256² view (3-crop test)",
        notes={"8x8": dict(params=34_570_000, gflops=65.71), "mmaction2 4x16": dict(params=34_500_000, gflops=36.3)},
    )
)
def slowfast_r50(
    *,
    num_classes: int,
    num_segments: int = 32,
    config: str = "4x16",
    dropout: float = 0.5,
    width: int = 64,
    depths: Sequence[int] | None = None,
    **kwargs,
) -> SlowFast:
    """SlowFast R50, ``config`` ``"4x16"`` (alpha 8, fusion kernel 5) or ``"8x8"`` (alpha 4, fusion kernel 7).

    Both take a 32-frame fast clip (``num_segments``, the frames the model is trained on; any length works)."""
    if config not in _CONFIGS:
        raise ValueError(f"slowfast_r50: config must be one of {sorted(_CONFIGS)}, got {config!r}")
    return SlowFast(
        num_classes, **_CONFIGS[config], width=width, depths=depths or R50_DEPTHS, dropout=dropout, **kwargs
    )
