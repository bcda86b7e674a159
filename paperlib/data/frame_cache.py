"""Decoded frames kept in memory, so that a process reading the same videos again decodes each frame once.

A run reads every training video once per epoch, and the small scales' worker processes
(:mod:`paperlib.experiments.parallel`) train run after run on the same generated set: without a cache every
epoch of every run decodes its frames again (on 2 cores, a quarter of an embedded MMIT step and a seventh of an
embedded Table 1 step). :func:`enable` turns the cache on for the process, :func:`cached` wraps a frame source
in it. A cached read returns exactly the pixels the source returns (frame files are decoded one by one and
decord's frame-accurate reads give the same pixels whichever frames are asked with them; both tested), so a run
gives the same numbers with the cache on or off.

Entries are keyed by the file a frame comes from, its modification time and size, so a file replaced on disk is
decoded again. When the cache holds ``limit`` bytes it keeps what it has and decodes the rest on every read.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .sources import FrameFolder, VideoFile, check_same_size


@dataclass
class FrameCache:
    """Decoded frames (``uint8 (H, W, 3)``, read-only) by ``(file, mtime_ns, size, frame index)``."""

    limit: int  # bytes
    frames: dict[tuple[str, int, int, int], np.ndarray] = field(default_factory=dict)
    bytes: int = 0
    hits: int = 0
    misses: int = 0

    def keep(self, key: tuple[str, int, int, int], frame: np.ndarray) -> None:
        if self.bytes + frame.nbytes <= self.limit:
            frame = frame.copy()  # not a view that would keep the whole decoded batch alive
            frame.flags.writeable = False
            self.frames[key] = frame
            self.bytes += frame.nbytes


_CACHE: FrameCache | None = None


def enable(limit_mb: float) -> None:
    """Keep up to ``limit_mb`` MB of decoded frames in this process (a new, empty cache); 0 turns it off."""
    global _CACHE
    _CACHE = FrameCache(int(limit_mb * 2**20)) if limit_mb > 0 else None


def current() -> FrameCache | None:
    """This process's cache (None: off)."""
    return _CACHE


def cached(source: FrameFolder | VideoFile) -> FrameFolder | VideoFile | CachedSource:
    """``source`` reading through this process's cache, or ``source`` itself when the cache is off."""
    return CachedSource(source, _CACHE) if _CACHE is not None else source


class CachedSource:
    """A :class:`FrameFolder` or :class:`VideoFile` whose ``read`` keeps what it decodes in a :class:`FrameCache`."""

    def __init__(self, source: FrameFolder | VideoFile, cache: FrameCache) -> None:
        self.source, self.cache, self.kind = source, cache, source.kind

    def __getattr__(self, name: str):
        """Everything else is the source's (a frame folder's ``template``, ``hint``, ``file``)."""
        return getattr(self.source, name)

    def count(self, path: str | os.PathLike) -> int:
        return self.source.count(path)

    def decode_all(self, path: str | os.PathLike, count: int | None = None) -> None:
        """The source's check of every frame (:func:`paperlib.data.check.entry_problems`), keeping the frames."""
        self.source.decode_all(path, count, read=self.read)

    def _key(self, path: Path, index: int) -> tuple[str, int, int, int]:
        file = self.source.file(path, index) if isinstance(self.source, FrameFolder) else path
        stat = file.stat()  # FileNotFoundError: the caller lets the source raise its own error
        return str(file), stat.st_mtime_ns, stat.st_size, index

    def read(self, path: str | os.PathLike, indices: np.ndarray) -> np.ndarray:
        """Frames ``indices`` (0-based) as ``uint8 (T, H, W, 3)``, as ``source.read`` returns them."""
        path, indices = Path(path), np.asarray(indices)
        unique = [int(i) for i in np.unique(indices)]
        try:
            keys = {i: self._key(path, i) for i in unique}
        except OSError:
            return self.source.read(path, indices)  # a missing file: the source's own error
        missing = [i for i in unique if keys[i] not in self.cache.frames]
        self.cache.hits += len(unique) - len(missing)
        self.cache.misses += len(missing)
        if missing:
            decoded = self.source.read(path, np.array(missing))
            fresh = dict(zip(missing, decoded))
            for i, frame in fresh.items():
                self.cache.keep(keys[i], frame)
        else:
            fresh = {}
        frames = [fresh[i] if i in fresh else self.cache.frames[keys[i]] for i in indices.tolist()]
        check_same_size(
            frames, indices.tolist(), lambda i: keys[i][0] if self.kind == "frames" else f"{path} frame {i}"
        )
        return np.stack(frames)
