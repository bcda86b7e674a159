"""Frame counting shared by the recipes: a failure names the annotation line that pointed at the file."""

from __future__ import annotations

from pathlib import Path

from ..sources import FrameFolder, FrameReadError, VideoFile


def count_frames(source: FrameFolder | VideoFile, path: Path, where: str) -> int:
    """Frames in ``path``; on error, a :class:`FrameReadError` prefixed with ``where`` (``file:line``)."""
    try:
        return source.count(path)
    except FrameReadError as exc:
        raise FrameReadError(f"{where}: {exc}") from None
