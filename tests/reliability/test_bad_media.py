"""Broken media on disk: a zero-byte JPEG, a frame folder with a gap, a truncated or garbage mp4 and a video
shorter than the clip each fail with an error naming the file (never a hang, a crash or another video);
the dataset's skip option drops and reports them instead."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from paperlib.data import ClipSampler, TestTransform, VideoDataset
from paperlib.data.dataset import collate
from paperlib.data.lists import VideoRecord, write_list
from paperlib.data.sources import FrameFolder, FrameReadError, VideoFile
from paperlib.data.synthetic.mmit import write_mp4


def _frames(folder: Path, count: int, size: int = 16) -> Path:
    folder.mkdir(parents=True)
    for i in range(1, count + 1):
        Image.fromarray(np.full((size, size, 3), 10 * i, np.uint8)).save(folder / f"{i:05d}.jpg")
    return folder


def _video(path: Path, count: int) -> Path:
    ramp = np.linspace(0, 255, count)[:, None, None, None] * np.ones((count, 32, 32, 3))
    return write_mp4(path, ramp.astype(np.uint8))


def test_zero_byte_jpeg_names_the_file(tmp_path):
    folder = _frames(tmp_path / "clip", 8)
    (folder / "00004.jpg").write_bytes(b"")
    with pytest.raises(FrameReadError, match=r"cannot decode .*clip/00004\.jpg"):
        FrameFolder().read(folder, np.arange(8))


def test_frame_folder_with_a_gap_names_the_missing_frame(tmp_path):
    folder = _frames(tmp_path / "clip", 8)
    (folder / "00006.jpg").unlink()
    assert FrameFolder().count(folder) == 7
    with pytest.raises(FrameReadError, match=r"frame file missing: .*clip/00006\.jpg"):
        FrameFolder().read(folder, np.arange(8))


@pytest.mark.parametrize("damage", ["truncated", "garbage", "empty"])
def test_broken_mp4_names_the_file(tmp_path, damage):
    path = _video(tmp_path / "clip.mp4", 24)
    data = path.read_bytes()
    path.write_bytes({"truncated": data[: len(data) // 3], "garbage": b"\x00not a video" * 100, "empty": b""}[damage])
    with pytest.raises(FrameReadError, match=r"clip\.mp4"):
        VideoFile().read(path, np.arange(8))


def test_a_video_shorter_than_the_clip_names_the_file(tmp_path):
    path = _video(tmp_path / "short.mp4", 6)
    with pytest.raises(FrameReadError, match=r"short\.mp4 has 6 frames, asked for frame 7"):
        VideoFile().read(path, np.arange(8))


def test_skip_drops_and_reports_broken_videos_instead_of_substituting(tmp_path):
    good = [_video(tmp_path / f"good{i}.mp4", 16) for i in range(3)]
    bad = tmp_path / "bad.mp4"
    bad.write_bytes(b"")
    records = [VideoRecord(p.name, 16, (i,), i + 1) for i, p in enumerate([*good, bad])]
    write_list(tmp_path / "val.txt", records)

    def dataset(on_error):
        return VideoDataset(
            records,
            tmp_path,
            VideoFile(),
            ClipSampler("tsn", 4),
            TestTransform(32, 32),
            num_classes=4,
            on_error=on_error,
        )

    with pytest.raises(FrameReadError, match="bad.mp4"):
        dataset("raise")[3]
    skipping = dataset("skip")
    batch = collate([skipping[i] for i in range(4)])
    assert batch["index"].tolist() == [0, 1, 2]  # the broken video is dropped, not replaced by another
    assert len(batch["skipped"]) == 1 and "bad.mp4" in batch["skipped"][0]
