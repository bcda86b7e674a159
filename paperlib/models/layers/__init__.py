"""Temporal layers that go into the residual branch of a 2D ResNet block (before its first conv)."""

from .temporal_conv import TemporalConv
from .temporal_interlace import OffsetNet, TemporalInterlace, WeightNet, recording_interlace
from .temporal_shift import TemporalShift

__all__ = ["OffsetNet", "TemporalConv", "TemporalInterlace", "TemporalShift", "WeightNet", "recording_interlace"]
