"""Test-time protocols (paperlib.data.protocols): clip positions, crop boxes and view averaging of each
original, worked by hand on a 10-frame video of 8 segments and a 320x256 frame."""

import math

import numpy as np
import pytest
import torch

from paperlib.data import ClipSampler, TestTransform
from paperlib.data.protocols import PROTOCOLS, average_views, crop_boxes, protocol_clips
from paperlib.engine.config import ConfigError, load_config
from paperlib.evaluate import main as evaluate_main

# F = 10 frames, T = 8 segments: tick = 1.25, centres int(0.625 + 1.25 i) = 0 1 3 4 5 6 8 9 (TIN ops/dataset.py,
# TSM ops/dataset.py, X-Temporal x_temporal/core/dataset.py, all "int(tick / 2.0 + tick * x)", here 0-based).
CENTRES = [0, 1, 3, 4, 5, 6, 8, 9]


@pytest.mark.parametrize("protocol", ["tin", "tsm", "xtemporal"])
def test_one_clip_is_the_segment_centres(protocol):
    assert protocol_clips(protocol, "tsn", 10, 8, 2, 1).tolist() == [CENTRES]


def test_tsm_twice_sample_adds_the_segment_starts():
    # --twice_sample: [int(tick/2 + tick i)] + [int(tick i)] = int(1.25 i) = 0 1 2 3 5 6 7 8
    assert protocol_clips("tsm", "tsn", 10, 8, 2, 2).tolist() == [CENTRES, [0, 1, 2, 3, 5, 6, 7, 8]]
    with pytest.raises(ValueError, match="twice_sample"):
        protocol_clips("tsm", "tsn", 10, 8, 2, 3)


@pytest.mark.parametrize("protocol", ["tin", "xtemporal"])
def test_tin_and_xtemporal_add_random_training_clips_seeded(protocol):
    # average_duration = 10 // 8 = 1, so the random clip i*1 + randint(1) is 0..7 whatever the seed
    clips = protocol_clips(protocol, "tsn", 10, 8, 2, 2, np.random.default_rng(5))
    assert clips.tolist() == [CENTRES, list(range(8))]
    # 40 frames: one random frame in each segment of 5, the same for the same seed, another for another seed
    a, b, c = (protocol_clips(protocol, "tsn", 40, 8, 2, 4, np.random.default_rng(s)) for s in (1, 1, 2))
    assert np.array_equal(a, b) and not np.array_equal(a, c)
    assert a[0].tolist() == [int(2.5 + 5 * i) for i in range(8)]
    assert all(((row >= np.arange(8) * 5) & (row < np.arange(8) * 5 + 5)).all() for row in a[1:])


def test_paperlib_clips_are_evenly_spread_points_of_each_segment():
    # ours: clip j at (j + 1/2) / clips of each segment: int(1.25 (i + 0.25)), int(1.25 (i + 0.75))
    assert protocol_clips("paperlib", "tsn", 10, 8, 2, 2).tolist() == [
        [0, 1, 2, 4, 5, 6, 7, 9],
        [0, 2, 3, 4, 5, 7, 8, 9],
    ]


def test_dense_clips():
    # TIN/TSM: 64-frame window, stride 64 // 8 = 8; pos = max(1, 1 + 10 - 64) = 1, every start 0
    assert protocol_clips("tsm", "dense", 10, 8, 2, 10).tolist() == [[0, 8, 6, 4, 2, 0, 8, 6]] * 10
    assert protocol_clips("tin", "dense", 100, 8, 2, 2).tolist() == [
        [8 * i for i in range(8)],
        [(8 * i + 36) % 100 for i in range(8)],  # linspace(0, pos - 1 = 36, 2)
    ]
    with pytest.raises(ValueError, match="10 clips"):
        protocol_clips("tsm", "dense", 10, 8, 2, 1)
    # X-Temporal: stride dense_sample_rate 2; one clip starts at pos // 2, pos = 1 + 40 - 16 = 25 -> 12
    assert protocol_clips("xtemporal", "dense", 40, 8, 2, 1).tolist() == [[12 + 2 * i for i in range(8)]]
    assert protocol_clips("xtemporal", "dense", 40, 8, 2, 3)[:, 0].tolist() == [0, 12, 24]
    assert protocol_clips("xtemporal", "dense", 10, 8, 2, 1).tolist() == [[0, 2, 4, 6, 8, 0, 2, 4]]


def test_crop_boxes_on_a_320x256_frame():
    # CenterCrop(224): top round(32 / 2) = 16, left round(96 / 2) = 48
    for protocol in PROTOCOLS:
        assert crop_boxes(protocol, 256, 320, 224, 1) == [(16, 48, 224, 224)]
    # GroupFullResSample(224, 256): w_step = 96 // 4 = 24, h_step = 32 // 4 = 8; left, right, centre at top 16
    for protocol in ("tin", "tsm", "xtemporal"):
        assert crop_boxes(protocol, 256, 320, 224, 3) == [(16, 0, 224, 224), (16, 96, 224, 224), (16, 48, 224, 224)]
    # full resolution (crop 256) on a 330-wide frame: w_step = 74 // 4 = 18 -> lefts 0, 72, 36 (not 74, 37)
    assert crop_boxes("tsm", 256, 330, 256, 3) == [(0, 0, 256, 256), (0, 72, 256, 256), (0, 36, 256, 256)]
    assert crop_boxes("paperlib", 256, 330, 256, 3) == [(0, 0, 256, 256), (0, 37, 256, 256), (0, 74, 256, 256)]
    # portrait frames: the originals move the crops along the width only, so all three coincide
    assert len(set(crop_boxes("tin", 320, 256, 256, 3))) == 1
    assert len(set(crop_boxes("paperlib", 320, 256, 256, 3))) == 3


def test_test_transform_crops_the_boxes():
    frame = torch.arange(256 * 320, dtype=torch.int64).view(256, 320)
    clip = torch.stack([frame % 256] * 3).to(torch.uint8)[None].repeat(2, 1, 1, 1)  # (T=2, 3, 256, 320)
    views = TestTransform(224, 256, 3, mean=(0, 0, 0), std=(1, 1, 1), protocol="tsm")(clip)
    assert views.shape == (3, 3, 2, 224, 224)
    expected = (frame[16 : 16 + 224, 96 : 96 + 224] % 256).float() / 255
    assert torch.allclose(views[1, 0, 0], expected)


def test_averaging():
    logits = torch.tensor([[[2.0, 0.0], [0.0, 0.0]]])  # one video, two views, two classes
    assert average_views(logits, "tsm", False).tolist() == [[1.0, 0.0]]
    assert average_views(logits, "xtemporal", True).tolist() == [[1.0, 0.0]]
    e = math.exp(2)
    softmax = [(e / (e + 1) + 0.5) / 2, (1 / (e + 1) + 0.5) / 2]
    assert average_views(logits, "tin", True)[0].tolist() == pytest.approx(softmax)  # softmax also multi-label
    assert average_views(logits, "paperlib", False)[0].tolist() == pytest.approx(softmax)
    sigmoid = [(1 / (1 + math.exp(-2)) + 0.5) / 2, 0.5]
    assert average_views(logits, "paperlib", True)[0].tolist() == pytest.approx(sigmoid)


def test_protocol_is_a_config_key_and_a_command_line_option(tmp_path):
    config = load_config(None, ["eval.protocol=tsm", "eval.crop_size=256"])
    assert config.eval.protocol == "tsm" and config.eval.crop_size == 256
    assert load_config(None, []).eval.protocol == "paperlib"
    with pytest.raises(ConfigError, match="protocol"):
        load_config(None, ["eval.protocol=mine"])
    with pytest.raises(ValueError, match="protocol"):
        ClipSampler(protocol="mine")
    with pytest.raises(SystemExit):
        evaluate_main(["--checkpoint", str(tmp_path / "x.pt"), "--protocol", "mine"])
