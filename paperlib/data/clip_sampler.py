"""A video's sampling scheme as data: the training clip by :mod:`.sampling`, the test clips by a named test-time
protocol (:mod:`.protocols`)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .protocols import check_protocol, protocol_clips
from .sampling import dense_train, tsn_train


@dataclass(frozen=True)
class ClipSampler:
    """Sampling scheme as data: ``mode`` ``"tsn"`` or ``"dense"``, ``t`` frames, ``rate`` (dense), test ``clips``
    and the test ``protocol`` (:mod:`.protocols`: ``paperlib``, ours, or ``tin``, ``tsm``, ``xtemporal``)."""

    mode: str = "tsn"
    t: int = 8
    rate: int = 2
    clips: int = 1
    protocol: str = "paperlib"

    def __post_init__(self) -> None:
        if self.mode not in ("tsn", "dense"):
            raise ValueError(f"sampling mode must be 'tsn' or 'dense', got {self.mode!r}")
        if self.t < 1 or self.rate < 1 or self.clips < 1:
            raise ValueError(f"sampling needs t, rate, clips >= 1, got {self.t}, {self.rate}, {self.clips}")
        check_protocol(self.protocol)

    def train(self, num_frames: int, rng: np.random.Generator) -> np.ndarray:
        if self.mode == "tsn":
            return tsn_train(num_frames, self.t, rng)
        return dense_train(num_frames, self.t, self.rate, rng)

    def test(self, num_frames: int, rng: np.random.Generator | None = None) -> np.ndarray:
        """Test clips ``(clips, t)`` under ``protocol``; ``rng`` draws the random clips of ``tin``/``xtemporal``."""
        return protocol_clips(self.protocol, self.mode, num_frames, self.t, self.rate, self.clips, rng)
