"""TSM's temporal shift (Lin, Gan, Han, ICCV 2019, arXiv:1811.08383)."""

from __future__ import annotations

import torch
from torch import Tensor, nn


class TemporalShift(nn.Module):
    """Shift ``channels // shift_div`` channels one frame back and as many one frame forward, zero-padded.

    Channels ``[0, fold)`` receive frame ``t + 1``, ``[fold, 2·fold)`` receive frame ``t - 1``, the rest
    are unchanged (the official TSM ``shift`` with ``n_div = shift_div``).

    Args:
        channels: input channels ``C`` (kept for a uniform constructor; the fold is ``C // shift_div``).
        num_segments: frames ``T`` per clip, folded into the batch of the input.
        shift_div: 1/shift_div of the channels move each way (TSM: 8).
    """

    def __init__(self, channels: int, num_segments: int, shift_div: int = 8) -> None:
        super().__init__()
        self.channels, self.num_segments, self.shift_div = channels, num_segments, shift_div

    def forward(self, x: Tensor) -> Tensor:
        """``x: Tensor[N*T, C, H, W]`` -> same shape."""
        nt, c, h, w = x.shape
        x = x.view(nt // self.num_segments, self.num_segments, c, h, w)  # [N, T, C, H, W]
        fold = c // self.shift_div
        out = torch.zeros_like(x)
        out[:, :-1, :fold] = x[:, 1:, :fold]  # from the next frame
        out[:, 1:, fold : 2 * fold] = x[:, :-1, fold : 2 * fold]  # from the previous frame
        out[:, :, 2 * fold :] = x[:, :, 2 * fold :]
        return out.view(nt, c, h, w)

    def extra_repr(self) -> str:
        return f"channels={self.channels}, num_segments={self.num_segments}, shift_div={self.shift_div}"
