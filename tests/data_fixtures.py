"""Small on-disk fixtures in the real layouts (frame folders, mp4 files), written by the tests themselves."""

from pathlib import Path

import av
import numpy as np
from PIL import Image


def gradient_frames(t: int, h: int = 32, w: int = 48, seed: int = 0) -> np.ndarray:
    """``uint8 (t, h, w, 3)`` frames whose brightness encodes the frame index (so reads can be checked)."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:h, 0:w]
    phase = rng.uniform(0, 6, size=3)
    base = 30 + 25 * np.stack([np.sin(x / 6 + p) * np.cos(y / 9 - p) for p in phase], axis=-1)  # smooth: JPEG-friendly
    ramp = np.linspace(0, 120, t)[:, None, None, None]
    return np.clip(base[None] + ramp, 0, 255).astype(np.uint8)


def write_frame_folder(folder: Path, frames: np.ndarray, template: str = "{:05d}.jpg") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for i, frame in enumerate(frames, start=1):
        Image.fromarray(frame).save(folder / template.format(i), quality=95)
    return folder


def write_mp4(path: Path, frames: np.ndarray, fps: int = 25) -> Path:
    """H.264 in .mp4 (VP9 for .webm, as Something-Something v2 ships)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with av.open(str(path), mode="w") as container:
        stream = container.add_stream("libvpx-vp9" if path.suffix == ".webm" else "libx264", rate=fps)
        stream.height, stream.width = frames.shape[1:3]
        stream.pix_fmt = "yuv420p"
        stream.options = {"crf": "10"}
        for frame in frames:
            container.mux(stream.encode(av.VideoFrame.from_ndarray(frame, format="rgb24")))
        container.mux(stream.encode())
    return path
