"""Named test-time protocols: which frames, which crops and how the views' outputs are averaged.

Each protocol reproduces one original's test time; ``paperlib`` is ours (today's default).

- ``tin``: deepcs233/TIN ``test.py`` with ``ops/dataset.py`` (``_get_test_indices``) and ``ops/transforms.py``
  (``GroupScale``, ``GroupCenterCrop``, ``GroupFullResSample``); the script ``scripts/test_tin.sh`` runs it with
  ``--temporal_clips=2 --random_crops=1 --scale_size 256 --crop_size 256``. Clip 0 takes the centre of each
  segment, clips 1.. a random frame of each segment (as in training); softmax on every view, then the mean
  (also for multi-label MMIT, as ``test.py`` does). Dense clips: a 64-frame window with stride ``64 // T``,
  starts ``linspace(0, pos - 1, clips)`` (the original fixes 10 clips).
- ``tsm``: mit-han-lab/temporal-shift-module ``test_models.py`` with ``ops/dataset.py``: one clip at the
  segment centres, or two with ``--twice_sample`` (centres, then ``int(tick·i)``); dense: the 64-frame window,
  10 clips (``--dense_sample``). ``--test_crops 1`` = ``GroupScale(256)`` + centre crop, ``3`` =
  ``GroupFullResSample``; the crop is 224, or 256 with ``--full_res`` (``eval.crop_size=256`` here). The raw
  logits are averaged (``--softmax``, off by default, is applied after the mean and changes no ranking).
- ``xtemporal``: Sense-X/X-Temporal ``x_temporal/interface/temporal_helper.py`` (``evaluate``; ``evaluate.
  spatial_crops`` / ``temporal_samples``), ``x_temporal/utils/dataset_helper.py`` (``get_val_crop_transform``:
  the same crops as TIN) and ``x_temporal/core/dataset.py`` (``_get_val_indices``: TSN clips as TIN; dense
  clips ``dense_sample_rate`` apart, start ``pos // 2`` for one clip, ``linspace(0, pos - 1, n)`` for more);
  the raw logits are averaged.
- ``paperlib`` (ours): TSN clip ``j`` at ``(j + 1/2) / clips`` of each segment (deterministic), dense as
  X-Temporal; 1 = centre crop, 3 = three ``scale_size``² squares along the long side at its start, middle and
  end; softmax (single-label) or sigmoid (multi-label) on every view, then the mean.

Frame indices are 0-based (the originals add 1 for their 1-based frame files). Random clips come from the
``numpy.random.Generator`` passed in (the dataset seeds it per video), so results are reproducible.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import Tensor

from .sampling import dense_clips, dense_test, tsn_test, tsn_train

PROTOCOLS = ("paperlib", "tin", "tsm", "xtemporal")
DENSE_WINDOW = 64  # TIN/TSM dense test: sample_pos = max(1, 1 + F - 64), t_stride = 64 // T
AVERAGING = {"paperlib": "probabilities", "tin": "softmax", "tsm": "logits", "xtemporal": "logits"}


def check_protocol(name: str) -> str:
    if name not in PROTOCOLS:
        raise ValueError(f"test protocol must be one of {', '.join(PROTOCOLS)}; got {name!r}")
    return name


def segment_centres(num_frames: int, t: int) -> np.ndarray:
    """``int(tick / 2.0 + tick·i)`` with ``tick = F / t`` (the originals' formula, 0-based); ``(t,)``."""
    tick = num_frames / float(t)
    return np.array([int(tick / 2.0 + tick * i) for i in range(t)], dtype=np.int64)


def protocol_clips(
    protocol: str,
    mode: str,
    num_frames: int,
    t: int,
    rate: int,
    clips: int,
    rng: np.random.Generator | None = None,
) -> np.ndarray:
    """Frame indices of the test clips, ``int64 (clips, t)`` in ``[0, num_frames)``.

    ``mode`` is ``"tsn"`` or ``"dense"``; ``rng`` draws the random clips of ``tin`` / ``xtemporal``.
    """
    check_protocol(protocol)
    if protocol == "paperlib":
        return tsn_test(num_frames, t, clips) if mode == "tsn" else dense_test(num_frames, t, rate, clips)
    if mode == "tsn":
        centres = segment_centres(num_frames, t)
        if protocol == "tsm":
            if clips == 1:
                return centres[None]
            if clips == 2:  # --twice_sample
                tick = num_frames / float(t)
                return np.stack([centres, np.array([int(tick * i) for i in range(t)], dtype=np.int64)])
            raise ValueError(f"protocol tsm: 1 clip, or 2 (--twice_sample) for TSN sampling; got {clips}")
        if clips > 1 and rng is None:
            raise ValueError(f"protocol {protocol}: random test clips need a random generator")
        # tin / xtemporal: the centres, then clips - 1 random clips drawn as in training
        return np.concatenate([centres[None]] + [tsn_train(num_frames, t, rng) for _ in range(clips - 1)])
    if protocol == "xtemporal":  # its dense test is the one paperlib uses: pos // 2, or spread evenly
        return dense_test(num_frames, t, rate, clips)
    if protocol == "tsm" and clips != 10:
        raise ValueError(f"protocol tsm: dense sampling tests 10 clips (--dense_sample); got {clips}")
    pos = max(1, 1 + num_frames - DENSE_WINDOW)
    return dense_clips(num_frames, t, DENSE_WINDOW // t, np.linspace(0, pos - 1, num=clips, dtype=int))


def crop_boxes(protocol: str, height: int, width: int, size: int, crops: int) -> list[tuple[int, int, int, int]]:
    """``(top, left, h, w)`` of each spatial view on a frame already resized (short side ``scale_size``).

    ``size`` is the crop side: ``tin``/``tsm``/``xtemporal`` crop ``size``² for 1 view (``CenterCrop``) and 3
    views (``GroupFullResSample``: left, right, centre at ``(0|4|2)·(W - size) // 4``, top ``2·(H - size) // 4``);
    ``paperlib`` crops ``size``² for 1 view and 3 squares of the short side along the long side for 3.
    """
    check_protocol(protocol)
    if crops not in (1, 3):
        raise ValueError(f"test crops must be 1 or 3, got {crops}")
    if crops == 1:  # torchvision CenterCrop
        return [(int(round((height - size) / 2.0)), int(round((width - size) / 2.0)), size, size)]
    if protocol == "paperlib":
        side = min(height, width)
        if width >= height:
            return [(0, left, side, side) for left in (0, (width - side) // 2, width - side)]
        return [(top, 0, side, side) for top in (0, (height - side) // 2, height - side)]
    w_step, h_step = (width - size) // 4, (height - size) // 4
    return [(2 * h_step, k * w_step, size, size) for k in (0, 4, 2)]


def average_views(logits: Tensor, protocol: str, multi_label: bool) -> Tensor:
    """Logits of every view ``Tensor[B, V, K]`` -> per-video scores ``Tensor[B, K]``.

    ``paperlib``: mean of sigmoid (multi-label) or softmax probabilities; ``tin``: mean of softmax (always);
    ``tsm`` and ``xtemporal``: mean of the raw logits.
    """
    how = AVERAGING[check_protocol(protocol)]
    if how == "logits":
        return logits.mean(dim=1)
    if how == "softmax" or not multi_label:
        return torch.softmax(logits, dim=-1).mean(dim=1)
    return torch.sigmoid(logits).mean(dim=1)
