"""Where frames come from: JPEG frame folders, or video files decoded with decord.

Both return ``uint8`` arrays ``(T, H, W, 3)`` (RGB) for 0-based frame indices, and raise
:class:`FrameReadError` naming the file when something cannot be read: never a silent substitute.
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import numpy as np
from PIL import Image, UnidentifiedImageError

from ..errors import UserError


class FrameReadError(UserError, RuntimeError):
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

    def file(self, path: str | os.PathLike, index: int) -> Path:
        """The file of frame ``index`` (0-based) in the folder ``path``."""
        return Path(path) / self.template.format(int(index) + self.start_index)

    def read(self, path: str | os.PathLike, indices: np.ndarray) -> np.ndarray:
        """Frames ``indices`` (0-based) of the folder as ``uint8 (T, H, W, 3)``; a missing, truncated or corrupt
        file, or a frame of another size than the first, raises :class:`FrameReadError` naming the file."""
        path = Path(path)
        if not path.is_dir():
            raise FrameReadError(f"frame folder not found: {path}")
        decoded = {int(i): self._decode(path, int(i)) for i in np.unique(indices)}
        frames = [decoded[int(i)] for i in indices]
        check_same_size(frames, indices, lambda i: self.file(path, i))
        return np.stack(frames)

    def _decode(self, path: Path, index: int) -> np.ndarray:
        file = self.file(path, index)
        try:
            # one read of the whole file: PIL's own file reads go in small chunks, twice as slow here; convert()
            # decodes the whole file, so a JPEG cut in the middle fails here
            with Image.open(io.BytesIO(file.read_bytes())) as image:
                return np.asarray(image.convert("RGB"))
        except FileNotFoundError:
            raise FrameReadError(f"frame file missing: {file}{self.hint(path)}") from None
        except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
            raise FrameReadError(f"cannot decode {file}: {exc}") from None

    def hint(self, path: Path) -> str:
        """Why no file matches the template, when the folder holds frames under another name (``.png`` frames,
        ``img_00001.jpg``): ``" (the folder holds 00001.png ...; set data.template / --template)"``; else ``""``."""
        try:
            others = sorted(n for n in os.listdir(path) if not self._pattern.match(n) and not n.startswith("."))
        except OSError:
            return ""
        if not others or any(self._pattern.match(n) for n in os.listdir(path)):
            return ""
        return (
            f" (the folder holds no {self.template.format(self.start_index)} but {others[0]} and "
            f"{len(others) - 1} other file(s): set data.template / --template to their name)"
        )

    def decode_all(self, path: str | os.PathLike, count: int | None = None, read=None) -> None:
        """Decode every frame file ``0 .. count - 1`` (all the template's files by default) with ``read`` (default
        :meth:`read`; a :class:`~paperlib.data.frame_cache.CachedSource` passes its own, to keep the frames): a
        truncated or corrupt JPEG, a missing number or a frame of another size raises :class:`FrameReadError`
        naming the file."""
        count = self.count(path) if count is None else count
        if count:
            (read or self.read)(path, np.arange(count))


def check_same_size(frames: list[np.ndarray], indices, name_of) -> None:
    """Raise :class:`FrameReadError` naming (``name_of(index)``) the first frame whose size differs from the first
    frame's; names are made only then, not on every read."""
    height, width = frames[0].shape[:2]
    for frame, index in zip(frames, indices):
        if frame.shape[:2] != (height, width):
            raise FrameReadError(
                f"{name_of(index)} is {frame.shape[1]}x{frame.shape[0]}, {name_of(indices[0])} is {width}x{height}: "
                "the frames of one video differ in size"
            )


@contextlib.contextmanager
def _native_stderr_captured() -> Iterator[list[str]]:
    """Capture what native code (FFmpeg, decord's logging) writes to file descriptor 2, so that its messages
    (``moov atom not found``, ``video_reader.cc:83: ERROR opening``) become part of one error message instead of
    reaching the terminal; yields a list that receives the captured text on exit."""
    captured: list[str] = []
    try:
        sys.stderr.flush()
        saved = os.dup(2)
    except (OSError, ValueError):  # no real stderr (some notebook kernels): nothing to capture
        yield captured
        return
    with tempfile.TemporaryFile() as sink:
        os.dup2(sink.fileno(), 2)
        try:
            yield captured
        finally:
            os.dup2(saved, 2)
            os.close(saved)
            sink.seek(0)
            captured.append(sink.read().decode("utf-8", "replace"))


def _decord_reason(exc: BaseException, native: str) -> str:
    """A short reason from decord's exception and FFmpeg's messages, without decord's source locations."""
    text = f"{native}\n{exc}"
    if "moov atom not found" in text:
        return "not a complete video (FFmpeg finds no 'moov' index: an interrupted download or copy, or not an MP4)"
    if "cannot find video stream" in text:
        return "no readable video stream (truncated, or not a video)"
    if "Invalid data found" in text:
        return "not a video FFmpeg can read (corrupt, truncated or another format)"
    lines = [re.sub(r"^\[[^]]*\]\s*", "", line).strip() for line in text.splitlines()]
    lines = [line for line in lines if line and ".cc:" not in line and "Check failed" not in line]
    return lines[0] if lines else type(exc).__name__


class VideoFile:
    """A video file decoded with decord (frame-accurate batch reads)."""

    kind = "video"

    def __init__(self, num_threads: int = 1) -> None:
        self.num_threads = num_threads

    def _open(self, path: Path):
        import decord

        if not path.is_file():
            raise FrameReadError(f"video not found: {path}")
        if path.stat().st_size == 0:
            raise FrameReadError(f"cannot open video {path}: the file is empty (0 bytes)")
        with _native_stderr_captured() as native:
            try:
                return decord.VideoReader(str(path), num_threads=self.num_threads)
            except Exception as exc:  # decord raises its own DECORDError / RuntimeError
                error = exc
        raise FrameReadError(f"cannot open video {path}: {_decord_reason(error, ''.join(native))}") from None

    def count(self, path: str | os.PathLike) -> int:
        return len(self._open(Path(path)))

    def read(self, path: str | os.PathLike, indices: np.ndarray) -> np.ndarray:
        """Frames ``indices`` (0-based) of the video as ``uint8 (T, H, W, 3)``; unique indices are decoded once,
        in order."""
        path = Path(path)
        reader = self._open(path)
        length = len(reader)
        unique, inverse = np.unique(indices, return_inverse=True)
        if length == 0:
            raise FrameReadError(f"{path} holds no video frames (a header-only or empty video)")
        if len(unique) and (unique[0] < 0 or unique[-1] >= length):
            raise FrameReadError(f"{path} has {length} frames, asked for frame {int(unique[-1])}")
        with _native_stderr_captured() as native:
            try:
                return reader.get_batch(unique.tolist()).asnumpy()[inverse.reshape(-1)]
            except Exception as exc:
                error = exc
        reason = _decord_reason(error, "".join(native))
        raise FrameReadError(f"cannot decode frames {unique.tolist()} of {path}: {reason}") from None

    def decode_all(self, path: str | os.PathLike, count: int | None = None, read=None, chunk: int = 32) -> None:
        """Decode every frame of the video (``chunk`` at a time) with ``read`` (default :meth:`read`, see
        :meth:`FrameFolder.decode_all`); raises :class:`FrameReadError` naming the file."""
        path = Path(path)
        length = self.count(path)
        if length == 0:
            raise FrameReadError(f"{path} holds no video frames (a header-only or empty video)")
        for start in range(0, length, chunk):
            (read or self.read)(path, np.arange(start, min(start + chunk, length)))


def source_for(kind: str, template: str = "{:05d}.jpg") -> FrameFolder | VideoFile:
    """``"frames"`` or ``"video"``."""
    if kind == "frames":
        return FrameFolder(template)
    if kind == "video":
        return VideoFile()
    raise ValueError(f"frame source must be 'frames' or 'video', got {kind!r}")
