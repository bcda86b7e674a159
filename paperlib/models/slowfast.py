"""SlowFast ResNet-50 (Feichtenhofer et al., SlowFast Networks for Video Recognition, arXiv 1812.03982).

Two 3D ResNets built from :mod:`.resnet3d`'s stem and stages: a slow pathway on every ``alpha``-th frame
(the slow-only ResNet-50) and a fast pathway on all frames with ``1/beta_inv`` of the channels and temporal
kernels everywhere. After the stems and after res2, res3 and res4 a lateral connection carries fast features
to the slow pathway (a strided time conv, concatenated to the slow channels). The head pools each pathway,
concatenates them, applies dropout and a linear classifier.

Three published layouts (``variant``), each from its source:

- ``"4x16"``, ``"8x8"``: PySlowFast (facebookresearch/SlowFast ``slowfast/models/video_model_builder.py``,
  ``configs/Kinetics/c2/SLOWFAST_4x16_R50.yaml`` / ``SLOWFAST_8x8_R50.yaml``) and PyTorchVideo
  ``create_slowfast``: laterals conv + BN + ReLU with kernel 5 (4x16) or 7 (8x8) and time stride ``alpha``
  8 or 4, classifier with bias, PyTorchVideo's init (last BN of each block 0).
- ``"xtemporal"``: X-Temporal's ``sfresnet50`` (Sense-X/X-Temporal ``x_temporal/models/slowfast.py``, the model
  of the MMIT recipe ``experiments/slowfast/default.yaml``): slow clip ``x[:, :, ::4]``, fast stem 5×7×7 with 8
  channels, laterals a bare ``Conv3d(C, 2C, (5, 1, 1), stride=(4, 1, 1), padding=(2, 0, 0), bias=False)`` (no BN,
  no ReLU), slow res2/res3 without temporal kernels (res4/res5 3×1×1), fast 3×1×1 in every block, dropout on the
  concatenated ``[slow, fast]`` features and ``Linear(2048 + 256, K, bias=False)``; no init code (PyTorch's
  default init of each layer).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor, nn

from ._head import FeaturesThenHead
from ._registry import Reported, register_model
from .resnet3d import R50_DEPTHS, Stem3d, init_weights, make_stage

# variant -> SlowFast arguments. PySlowFast configs/Kinetics/c2/SLOWFAST_{4x16,8x8}_R50.yaml (ALPHA, FUSION_KERNEL_SZ);
# X-Temporal x_temporal/models/slowfast.py (input[:, :, ::4]; lateral_* kernel (5, 1, 1), stride 4, bias=False, no BN;
# self.fc = nn.Linear(self.fast_inplanes + 2048, num_classes, bias=False); no weight init).
VARIANTS: dict[str, dict] = {
    "4x16": dict(alpha=8, fusion_kernel=5),
    "8x8": dict(alpha=4, fusion_kernel=7),
    "xtemporal": dict(alpha=4, fusion_kernel=5, fusion_norm=False, fc_bias=False, init="pytorch"),
}


class FastToSlowFusion(nn.Module):
    """Lateral connection: fast features are brought to the slow frame rate and concatenated to the slow ones.

    Conv3d ``dim_fast -> 2·dim_fast`` with kernel ``(fusion_kernel, 1, 1)`` and time stride ``alpha``, then BN and
    ReLU (PySlowFast ``FuseFastToSlow``) or nothing (``norm=False``: X-Temporal's bare ``lateral_*`` convs).
    """

    def __init__(self, dim_fast: int, alpha: int, fusion_kernel: int, norm: bool = True) -> None:
        super().__init__()
        self.conv = nn.Conv3d(
            dim_fast,
            2 * dim_fast,
            (fusion_kernel, 1, 1),
            stride=(alpha, 1, 1),
            padding=(fusion_kernel // 2, 0, 0),
            bias=False,
        )
        self.bn = nn.BatchNorm3d(2 * dim_fast) if norm else nn.Identity()
        self.relu = nn.ReLU(inplace=True) if norm else nn.Identity()

    def forward(self, slow: Tensor, fast: Tensor) -> Tensor:
        """``slow: Tensor[N, C_s, T/alpha, H, W]``, ``fast: Tensor[N, C_f, T, H, W]`` ->
        ``Tensor[N, C_s + 2·C_f, T/alpha, H, W]``."""
        return torch.cat([slow, self.relu(self.bn(self.conv(fast)))], dim=1)


class SlowFast(FeaturesThenHead, nn.Module):
    """SlowFast ResNet on the fast clip ``Tensor[N, 3, T, H, W]``; the slow clip is ``x[:, :, ::alpha]`` (as in
    X-Temporal; PyTorchVideo's ``PackPathway`` transform picks ``T/alpha`` frames with ``linspace`` instead).
    Returns logits ``Tensor[N, num_classes]``.

    Args:
        num_classes: classifier outputs.
        alpha: frame-rate ratio between the pathways (8 for 4x16, 4 for 8x8).
        fusion_kernel: temporal kernel of the lateral convs (5 for 4x16, 7 for 8x8).
        beta_inv: channel ratio slow/fast (8).
        width: slow stem width (64); the fast pathway has ``width // beta_inv``.
        depths: blocks per stage, ``(3, 4, 6, 3)`` for ResNet-50.
        dropout: dropout before the classifier.
        fusion_norm: BN + ReLU after each lateral conv (PySlowFast) or a bare conv (X-Temporal).
        fc_bias: a bias in the classifier (X-Temporal has none).
        init: ``"pytorchvideo"`` (:func:`~.resnet3d.init_weights`) or ``"pytorch"`` (each layer's default init,
            X-Temporal).
        zero_init_residual: with ``init="pytorchvideo"``, start every block's last BN at 0 (see
            :class:`~.resnet3d.ResNet3d`).
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
        fusion_norm: bool = True,
        fc_bias: bool = True,
        init: str = "pytorchvideo",
        zero_init_residual: bool = True,
    ) -> None:
        super().__init__()
        if init not in ("pytorchvideo", "pytorch"):
            raise ValueError(f"SlowFast: init must be 'pytorchvideo' or 'pytorch', got {init!r}")
        self.alpha = alpha
        slow = [width * 2**i for i in range(4)]  # inner widths 64, 128, 256, 512; stage outputs are 4x
        fast = [c // beta_inv for c in slow]  # 8, 16, 32, 64
        slow_in = [slow[0], 4 * slow[0], 4 * slow[1], 4 * slow[2]]  # stage inputs before fusion
        fast_in = [fast[0], 4 * fast[0], 4 * fast[1], 4 * fast[2]]

        self.slow_stem = Stem3d(3, slow[0], kernel_t=1)
        self.fast_stem = Stem3d(3, fast[0], kernel_t=5)
        self.fusions = nn.ModuleList(FastToSlowFusion(c, alpha, fusion_kernel, fusion_norm) for c in fast_in)
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
        self.fc = nn.Linear(self.num_features, num_classes, bias=fc_bias)
        if init == "pytorchvideo":
            init_weights(self, zero_init_residual)

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
    variant: str | None = None,
    dropout: float = 0.5,
    width: int = 64,
    depths: Sequence[int] | None = None,
    config: str | None = None,
    **kwargs,
) -> SlowFast:
    """SlowFast R50 in one of the published layouts ``variant`` (see the module docstring for the sources):
    ``"4x16"`` (PySlowFast/PyTorchVideo, alpha 8, fusion kernel 5; the default), ``"8x8"`` (alpha 4, fusion
    kernel 7) or ``"xtemporal"`` (X-Temporal ``sfresnet50``, the MMIT model).

    All take a 32-frame fast clip (``num_segments``, the frames the model is trained on; any length works).
    ``config`` is the old name of ``variant`` (checkpoints written before the rename store it)."""
    if config is not None:
        if variant is not None and variant != config:
            raise ValueError(f"slowfast_r50: variant={variant!r} and its old name config={config!r} disagree")
        variant = config
    variant = variant or "4x16"
    if variant not in VARIANTS:
        raise ValueError(f"slowfast_r50: variant (config) must be one of {sorted(VARIANTS)}, got {variant!r}")
    return SlowFast(
        num_classes, **VARIANTS[variant], width=width, depths=depths or R50_DEPTHS, dropout=dropout, **kwargs
    )
