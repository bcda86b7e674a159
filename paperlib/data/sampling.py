"""Which frames of a video make a clip: TSN segment sampling, dense sampling, multi-clip testing.

The formulas are X-Temporal's (``x_temporal/core/dataset.py``, summarised in tin-facts.md section 3), with
0-based indices (X-Temporal adds 1 for its 1-based frame files; the frame sources here do that). Random
choices come from the ``numpy.random.Generator`` passed in, so a clip is deterministic given a seed.
Every sampler returns ``int64`` arrays of shape ``(clips, T)`` with values in ``[0, num_frames)``; the test
protocols (:mod:`.protocols`) build on them and :class:`~.clip_sampler.ClipSampler` chooses between them.
"""

from __future__ import annotations

import numpy as np


def tsn_train(num_frames: int, t: int, rng: np.random.Generator) -> np.ndarray:
    """One random frame inside each of ``t`` equal segments; ``(1, t)``.

    ``avg = F // t``: if ``avg > 0``, frame ``i·avg + U[0, avg)``; else if ``F > t`` (never, given avg = 0,
    kept for parity) sorted random frames; otherwise all zeros, as X-Temporal and TSN do for short videos.
    """
    avg = num_frames // t
    if avg > 0:
        idx = np.arange(t) * avg + rng.integers(0, avg, size=t)
    elif num_frames > t:
        idx = np.sort(rng.integers(0, num_frames, size=t))
    else:
        idx = np.zeros(t, dtype=np.int64)
    return idx.astype(np.int64)[None]


def tsn_test(num_frames: int, t: int, clips: int = 1) -> np.ndarray:
    """The centre of each segment: ``int(tick/2 + tick·i)``, ``tick = F / t``; ``(1, t)``.

    With ``clips > 1``, clip ``j`` takes the point at ``(j + 1/2) / clips`` of each segment instead of its
    centre (deterministic, evenly spread; X-Temporal draws extra random clips here).
    """
    tick = num_frames / t
    fractions = (np.arange(clips) + 0.5) / clips
    idx = (tick * (np.arange(t)[None] + fractions[:, None])).astype(np.int64)
    return np.minimum(idx, max(num_frames - 1, 0))


def dense_clips(num_frames: int, t: int, stride: int, starts: np.ndarray) -> np.ndarray:
    """Clip ``j``: ``t`` frames ``stride`` apart from ``starts[j]``, wrapping around in videos shorter than the
    span; ``(len(starts), t)``."""
    return ((np.arange(t)[None] * stride + np.asarray(starts)[:, None]) % max(num_frames, 1)).astype(np.int64)


def dense_train(num_frames: int, t: int, rate: int, rng: np.random.Generator) -> np.ndarray:
    """``t`` frames ``rate`` apart from a random start; ``(1, t)``.

    ``span = t·rate``, ``pos = max(1, 1 + F - span)``, start ``U[0, pos - 1)`` (0 if ``pos = 1``), frame
    ``(i·rate + start) % F`` (wrapping around in videos shorter than the span).
    """
    pos = max(1, 1 + num_frames - t * rate)
    start = int(rng.integers(0, pos - 1)) if pos > 1 else 0
    return dense_clips(num_frames, t, rate, np.array([start]))


def dense_test(num_frames: int, t: int, rate: int, clips: int = 1) -> np.ndarray:
    """Dense clips for testing: start ``pos // 2`` for one clip, ``linspace(0, pos - 1, clips)`` for more;
    ``(clips, t)``."""
    pos = max(1, 1 + num_frames - t * rate)
    starts = np.array([pos // 2]) if clips == 1 else np.linspace(0, pos - 1, clips).astype(np.int64)
    return dense_clips(num_frames, t, rate, starts)
