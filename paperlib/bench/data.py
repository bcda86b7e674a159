"""Benchmark the training input pipeline: clips/s from JPEG frame folders, from video with decord, and from
the same videos decoded with PyAV, side by side in one run (TSN sampling, multi-scale crop to 224², flip); and
the first two through the frame cache (:mod:`paperlib.data.frame_cache`), filled first by the check a run makes
of every entry (its time apart: the run pays it anyway), as a run's epochs after the first read.

The clips are written to a temporary folder first (``--videos`` videos of ``--video-frames`` frames at
``--width``×``--height``, H.264), so the three pipelines read identical content.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import av
import numpy as np
import torch
from PIL import Image

from ..data import ClipSampler, FrameFolder, FrameReadError, TrainTransform, VideoDataset, VideoFile, VideoRecord
from ..data.frame_cache import CachedSource, FrameCache
from ..utils import atomic_write_text


class PyAVVideo:
    """Reference reader: decode a video sequentially with PyAV and keep the requested frames."""

    kind = "video"

    def read(self, path, indices: np.ndarray) -> np.ndarray:
        wanted = set(int(i) for i in indices)
        frames: dict[int, np.ndarray] = {}
        try:
            with av.open(str(path)) as container:
                for i, frame in enumerate(container.decode(video=0)):
                    if i in wanted:
                        frames[i] = frame.to_ndarray(format="rgb24")
                    if i >= max(wanted):
                        break
        except av.error.FFmpegError as exc:
            raise FrameReadError(f"cannot decode {path}: {exc}") from None
        return np.stack([frames[int(i)] for i in indices])


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--videos", type=int, default=16)
    parser.add_argument("--video-frames", type=int, default=64, help="frames per generated video")
    parser.add_argument("--width", type=int, default=340)
    parser.add_argument("--height", type=int, default=256)
    parser.add_argument("--num-segments", type=int, default=8, help="frames per clip T (TSN sampling)")
    parser.add_argument("--size", type=int, default=224)
    parser.add_argument("--epochs", type=int, default=2, help="passes over the videos per pipeline")
    parser.add_argument("--json", default=None)


def _write_dataset(root: Path, videos: int, frames: int, width: int, height: int) -> list[VideoRecord]:
    rng = np.random.default_rng(0)
    y, x = np.mgrid[0:height, 0:width]
    for v in range(videos):
        phase = rng.uniform(0, 6, 3)
        with av.open(str(root / f"{v}.mp4"), "w") as container:
            stream = container.add_stream("libx264", rate=25)
            stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
            for t in range(frames):
                image = 120 + 100 * np.stack([np.sin(x / 17 + p + t / 5) * np.cos(y / 13 - p) for p in phase], -1)
                image = image.astype(np.uint8)
                container.mux(stream.encode(av.VideoFrame.from_ndarray(image, format="rgb24")))
                folder = root / "frames" / str(v)
                folder.mkdir(parents=True, exist_ok=True)
                Image.fromarray(image).save(folder / f"{t + 1:05d}.jpg", quality=90)
            container.mux(stream.encode())
    return [VideoRecord(str(v), frames, (0,), v + 1) for v in range(videos)]


def measure(
    videos: int = 16,
    frames: int = 64,
    width: int = 340,
    height: int = 256,
    segments: int = 8,
    size: int = 224,
    epochs: int = 2,
) -> list[dict]:
    """Clips/s of each pipeline (one process, no DataLoader workers, so the numbers compare per core)."""
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        records = _write_dataset(root, videos, frames, width, height)
        pipelines = {
            "frames (JPEG, PIL)": (
                [VideoRecord(f"frames/{r.path}", r.num_frames, r.labels, r.line) for r in records],
                FrameFolder(),
            ),
            "video (decord)": (
                [VideoRecord(f"{r.path}.mp4", r.num_frames, r.labels, r.line) for r in records],
                VideoFile(),
            ),
            "video (PyAV)": (
                [VideoRecord(f"{r.path}.mp4", r.num_frames, r.labels, r.line) for r in records],
                PyAVVideo(),
            ),
        }
        for name in ("frames (JPEG, PIL)", "video (decord)"):
            recs, source = pipelines[name]
            pipelines[f"{name}, frame cache"] = (recs, CachedSource(source, FrameCache(limit=2**40)))
        for name, (recs, source) in pipelines.items():
            dataset = VideoDataset(recs, root, source, ClipSampler("tsn", t=segments), TrainTransform(size), 1)
            dataset[0]  # warm-up (imports, first decode)
            filled = time.perf_counter()
            if isinstance(source, CachedSource):  # the run's check of every entry, which fills the cache
                for r in recs:
                    source.decode_all(root / r.path)
            filled = time.perf_counter() - filled
            start = time.perf_counter()
            for epoch in range(epochs):
                dataset.set_epoch(epoch)
                for i in range(len(dataset)):
                    dataset[i]
            seconds = time.perf_counter() - start
            results.append(
                {
                    "pipeline": name,
                    "clips": epochs * len(dataset),
                    "seconds": seconds,
                    "clips_per_s": epochs * len(dataset) / seconds,
                    "clip": [3, segments, size, size],
                    "video": [frames, height, width],
                    **({"filled_by_the_check_s": filled} if isinstance(source, CachedSource) else {}),
                }
            )
    base = next(r["clips_per_s"] for r in results if r["pipeline"] == "video (PyAV)")
    for r in results:
        r["speedup_vs_pyav"] = r["clips_per_s"] / base
    return results


def run(args: argparse.Namespace) -> int:
    torch.set_num_threads(1)
    results = measure(
        args.videos, args.video_frames, args.width, args.height, args.num_segments, args.size, args.epochs
    )
    print(
        f"# training pipeline, TSN {args.num_segments} frames -> 3x{args.num_segments}x{args.size}x{args.size}, "
        f"{args.videos} videos of {args.video_frames} frames at {args.width}x{args.height}, 1 thread"
    )
    print(f"{'pipeline':32} {'clips/s':>8} {'vs PyAV':>8}")
    for r in results:
        print(f"{r['pipeline']:32} {r['clips_per_s']:8.1f} {r['speedup_vs_pyav']:7.2f}x")
    if args.json:
        atomic_write_text(args.json, json.dumps({"benchmark": "data", "records": results}, indent=1) + "\n")
    return 0
