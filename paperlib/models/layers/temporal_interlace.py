"""TIN's temporal interlace module (Shao, Qian, Liu, AAAI 2020, arXiv:2001.06499).

Exactly the official module (deepcs233/TIN ``ops/temporal_interlace.py``): a quarter of the channels
(``shift_div = 4``) is split into 4 groups; a small OffsetNet predicts one offset pair ``(b0, b1)`` per
video, used as ``[b0, b1, -b0, -b1]`` for the 4 groups, and a WeightNet predicts per-frame weights
``(w0, w1)``, shared by groups 0/2 and 1/3. Both read the same descriptor: the spatial mean of the shifted
channels, ``(N, C/4, T)``. The shift itself is :func:`paperlib.ops.interlace_shift`.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from contextlib import contextmanager

import torch
from torch import Tensor, nn

from ...ops import interlace_shift

# The originals' initial offset: OffsetNet's last bias is the literal 0.5108 (deepcs233/TIN and X-Temporal),
# and 4 * (sigmoid(0.5108) - 0.5) = 0.5 frames (to 4 digits).
OFFSET_INIT = 0.5
ORIGINAL_OFFSET_BIAS = 0.5108


def offset_bias(offset: float) -> float:
    """The bias of OffsetNet's last layer that makes its output ``offset`` (frames, in (-2, 2)) for a zero input:
    the inverse of ``4 * (sigmoid(b) - 0.5)``; for the originals' 0.5, their literal 0.5108."""
    if offset == OFFSET_INIT:
        return ORIGINAL_OFFSET_BIAS
    if not -2.0 < offset < 2.0:
        raise ValueError(f"offset_init must lie in (-2, 2) frames, got {offset}")
    p = offset / 4 + 0.5
    return math.log(p / (1 - p))


class OffsetNet(nn.Module):
    """Descriptor ``(N, C, T)`` -> offsets ``(N, 2)`` in (-2, 2) frames.

    ``Conv1d(C -> 1, k=3)`` -> ``Linear(T, T)`` -> ReLU -> ``Linear(T, 2)`` -> ``4 * (sigmoid - 0.5)``.
    Because of ``Linear(T, T)`` the weights depend on the number of frames. ``offset_init``: the offset (frames)
    its last bias gives before training (the originals': 0.5).
    """

    def __init__(self, channels: int, num_segments: int, offset_init: float = OFFSET_INIT) -> None:
        super().__init__()
        self.conv = nn.Conv1d(channels, 1, kernel_size=3, padding=1)
        self.fc1 = nn.Linear(num_segments, num_segments)
        self.relu = nn.ReLU(inplace=True)
        self.fc2 = nn.Linear(num_segments, 2)
        nn.init.constant_(self.fc2.bias, offset_bias(offset_init))

    def forward(self, descriptor: Tensor) -> Tensor:
        x = self.conv(descriptor).flatten(1)  # [N, T]
        x = self.fc2(self.relu(self.fc1(x)))  # [N, 2]
        return 4 * (torch.sigmoid(x) - 0.5)


class WeightNet(nn.Module):
    """Descriptor ``(N, C, T)`` -> per-frame weights ``(N, T, 2)`` in (0, 2): ``Conv1d(C -> 2, k=3)``,
    ``2 * sigmoid``."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.conv = nn.Conv1d(channels, 2, kernel_size=3, padding=1)
        nn.init.zeros_(self.conv.bias)

    def forward(self, descriptor: Tensor) -> Tensor:
        return 2 * torch.sigmoid(self.conv(descriptor)).transpose(1, 2)  # [N, T, 2]


class TemporalInterlace(nn.Module):
    """Learned interlaced temporal shift of ``channels // shift_div`` channels in 4 groups.

    Args:
        channels: input channels ``C`` of the block's first conv.
        num_segments: frames ``T`` per clip, folded into the batch of the input.
        shift_div: shift ``C // shift_div`` channels (TIN: 4); the fold must be divisible by 4.
        fixed_offset: use these offsets ``(b0, b1)`` instead of OffsetNet's (the fixed-offset ablation).
        fixed_weight: use this weight for every frame instead of WeightNet's.
        offset_init: OffsetNet's offset before training, in frames (the originals': 0.5; ``-1`` starts from
            TSM's shift: offsets ``(-1, -1)`` with unit weights are TSM's).
        backend: backend of :func:`paperlib.ops.interlace_shift`.
    """

    groups = 4

    def __init__(
        self,
        channels: int,
        num_segments: int,
        shift_div: int = 4,
        fixed_offset: tuple[float, float] | None = None,
        fixed_weight: float | None = None,
        backend: str = "auto",
        offset_init: float = OFFSET_INIT,
    ) -> None:
        super().__init__()
        self.channels, self.num_segments, self.shift_div = channels, num_segments, shift_div
        self.fold = channels // shift_div
        if self.fold == 0 or self.fold % self.groups:
            raise ValueError(f"TemporalInterlace: {channels} channels / shift_div {shift_div} is not a multiple of 4")
        self.fixed_offset, self.fixed_weight, self.backend = fixed_offset, fixed_weight, backend
        self.offset_net = OffsetNet(self.fold, num_segments, offset_init)
        self.weight_net = WeightNet(self.fold)
        self._record: tuple[dict, str] | None = None  # set by recording_interlace()

    def forward(self, x: Tensor) -> Tensor:
        """``x: Tensor[N*T, C, H, W]`` -> same shape (channels ``[fold, C)`` unchanged)."""
        nt, c, h, w = x.shape
        n, t = nt // self.num_segments, self.num_segments
        x = x.view(n, t, c, h, w)
        descriptor = x[:, :, : self.fold].mean(dim=(3, 4)).transpose(1, 2)  # [N, fold, T]
        if self.fixed_offset is None:
            offset = self.offset_net(descriptor)  # [N, 2]
        else:
            offset = x.new_tensor(self.fixed_offset).expand(n, 2)
        if self.fixed_weight is None:
            weight = self.weight_net(descriptor)  # [N, T, 2]
        else:
            weight = x.new_full((n, t, 2), self.fixed_weight)
        if self._record is not None:
            records, name = self._record
            records[name] = {"offset": offset.detach(), "weight": weight.detach()}
        offsets = torch.cat([offset, -offset], dim=1).to(x.dtype)  # [N, 4]: b0, b1, -b0, -b1
        weights = torch.cat([weight, weight], dim=2).to(x.dtype)  # [N, T, 4]: w0, w1, w0, w1
        y = interlace_shift(x, offsets, weights, shift_channels=self.fold, backend=self.backend)
        return y.view(nt, c, h, w)

    def extra_repr(self) -> str:
        return f"channels={self.channels}, num_segments={self.num_segments}, shift_div={self.shift_div}"


@contextmanager
def recording_interlace(model: nn.Module) -> Iterator[dict[str, dict[str, Tensor]]]:
    """Record every TIN layer's offsets and weights during the forward passes inside the block.

    Yields a dict, filled by each forward, ``{layer name: {"offset": Tensor[N, 2], "weight": Tensor[N, T, 2]}}``
    (the last forward pass wins). Outside the block the modules record nothing, at no cost.
    """
    records: dict[str, dict[str, Tensor]] = {}
    modules = [(name, m) for name, m in model.named_modules() if isinstance(m, TemporalInterlace)]
    for name, module in modules:
        module._record = (records, name.removesuffix(".temporal"))
    try:
        yield records
    finally:
        for _, module in modules:
            module._record = None
