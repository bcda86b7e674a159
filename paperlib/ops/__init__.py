"""Operators: the temporal interlace shift of TIN (reference, C++ CPU and CUDA kernels)."""

from .interlace import (
    InterlaceShift,
    available_backends,
    channels_last_frames,
    interlace_shift,
    interlace_shift_reference,
    prepare_backend,
)

__all__ = [
    "InterlaceShift",
    "available_backends",
    "channels_last_frames",
    "interlace_shift",
    "interlace_shift_reference",
    "prepare_backend",
]
