"""A learned temporal convolution over all channels: the temporal-convolution baseline for the speed chapter."""

from __future__ import annotations

import torch
from torch import Tensor, nn


class TemporalConv(nn.Module):
    """``kernel_size`` x 1 x 1 convolution over time mixing all ``C`` channels (zero padding in time),
    initialised to the identity, so a model starts as TSN.

    This is our reading of a "temporal convolution network" baseline: the TIN paper compares against one
    (r-TCN) without specifying it in the code we read. Put where TSM and TIN put their shifts, it costs
    ``kernel_size·C²`` multiply-adds per pixel and frame where the shift costs none.

    Args:
        channels: input channels ``C``.
        num_segments: frames ``T`` per clip, folded into the batch of the input.
        kernel_size: taps in time (odd).
    """

    def __init__(self, channels: int, num_segments: int, kernel_size: int = 3) -> None:
        super().__init__()
        if kernel_size % 2 == 0:
            raise ValueError(f"TemporalConv: kernel_size must be odd, got {kernel_size}")
        self.num_segments = num_segments
        self.conv = nn.Conv3d(channels, channels, (kernel_size, 1, 1), padding=(kernel_size // 2, 0, 0), bias=False)
        with torch.no_grad():
            self.conv.weight.zero_()
            self.conv.weight[:, :, kernel_size // 2, 0, 0] = torch.eye(channels)

    def forward(self, x: Tensor) -> Tensor:
        """``x: Tensor[N*T, C, H, W]`` -> same shape."""
        nt, c, h, w = x.shape
        clips = x.view(nt // self.num_segments, self.num_segments, c, h, w).transpose(1, 2)  # [N, C, T, H, W]
        return self.conv(clips).transpose(1, 2).reshape(nt, c, h, w)
