"""Where frames come from: JPEG frame folders, or video files decoded with decord.

Both return ``uint8`` arrays ``(T, H, W, 3)`` (RGB) for 0-based frame indices, and raise
:class:`FrameReadError` naming the file when something cannot be read: never a silent substitute.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import numpy as np
from PIL import Image, UnidentifiedImageError


class FrameReadError(RuntimeError):
    """A frame or video could not be read; the message names the file."""


class FrameFolder:
    """A folder of numbered images, e.g. Something-Something v1's ``<id>/00001.jpg``.

    Args:
        template: file name of frame ``i`` as ``template.format(i + start_index)``; TSN/TIN use
            ``"{:05d}.jpg"``, X-Temporal's Kinetics configs ``"image_{:05d}.jpg"``, MMAction2 ``"img_{:05d}.jpg"``.
        start_index: number of the first file (1 in every public dataset layout).
    """

    kind = "frames"

    def __init__(self, template: str = "{:05d}.jpg", start_index: int = 1) -> None:
        self.template, self.start_index = template, start_index
        prefix, _, rest = template.partition("{")
        suffix = rest.partition("}")[2]
        self._pattern = re.compile(re.escape(prefix) + r"\d+" + re.escape(suffix) + "$")

    def count(self, path: str | os.PathLike) -> int:
        """Number of files in ``path`` that match the template."""
        path = Path(path)
        if not path.is_dir():
            raise FrameReadError(f"frame folder not found: {path}")
        return sum(1 for name in os.listdir(path) if self._pattern.match(name))

    def read(self, path: str | os.PathLike, indices: np.ndarray) -> np.ndarray:
        """Frames ``indices`` (0-based) of the folder as ``uint8 (T, H, W, 3)``."""
        path = Path(path)
        if not path.is_dir():
            raise FrameReadError(f"frame folder not found: {path}")
        cache: dict[int, np.ndarray] = {}
        for i in np.unique(indices):
            file = path / self.template.format(int(i) + self.start_index)
            try:
                with Image.open(file) as image:
                    cache[int(i)] = np.asarray(image.convert("RGB"))
            except FileNotFoundError:
                raise FrameReadError(f"frame {int(i)} missing: {file}") from None
            except (UnidentifiedImageError, OSError, SyntaxError) as exc:
                raise FrameReadError(f"cannot decode {file}: {exc}") from None
        frames = [cache[int(i)] for i in indices]
        if len({f.shape for f in frames}) != 1:
            raise FrameReadError(f"frames of {path} differ in size: {sorted({f.shape for f in frames})}")
        return np.stack(frames)


class VideoFile:
    """A video file decoded with decord (frame-accurate batch reads)."""

    kind = "video"

    def __init__(self, num_threads: int = 1) -> None:
        self.num_threads = num_threads

    def _open(self, path: Path):
        import decord

        if not path.is_file():
            raise FrameReadError(f"video not found: {path}")
        try:
            return decord.VideoReader(str(path), num_threads=self.num_threads)
        except Exception as exc:  # decord raises its own DECORDError / RuntimeError
            raise FrameReadError(f"cannot open video {path}: {exc}") from None

    def count(self, path: str | os.PathLike) -> int:
        return len(self._open(Path(path)))

    def read(self, path: str | os.PathLike, indices: np.ndarray) -> np.ndarray:
        """Frames ``indices`` (0-based) of the video as ``uint8 (T, H, W, 3)``; unique indices are decoded once,
        in order."""
        path = Path(path)
        reader = self._open(path)
        length = len(reader)
        unique, inverse = np.unique(indices, return_inverse=True)
        if len(unique) and (unique[0] < 0 or unique[-1] >= length):
            raise FrameReadError(f"{path} has {length} frames, asked for frame {int(unique[-1])}")
        try:
            batch = reader.get_batch(unique.tolist()).asnumpy()
        except Exception as exc:
            raise FrameReadError(f"cannot decode frames {unique.tolist()} of {path}: {exc}") from None
        return batch[inverse.reshape(-1)]


def source_for(kind: str, template: str = "{:05d}.jpg") -> FrameFolder | VideoFile:
    """``"frames"`` or ``"video"``."""
    if kind == "frames":
        return FrameFolder(template)
    if kind == "video":
        return VideoFile()
    raise ValueError(f"frame source must be 'frames' or 'video', got {kind!r}")
