"""What the recipes share: frame counting whose failure names the annotation line that pointed at the file,
and writing the outputs only once every split has been read (a bad line leaves nothing half-written)."""

from __future__ import annotations

from pathlib import Path

from ..lists import VideoRecord, write_class_names, write_list
from ..sources import FrameFolder, FrameReadError, VideoFile


def count_frames(source: FrameFolder | VideoFile, path: Path, where: str) -> int:
    """Frames in ``path``; on error, a :class:`FrameReadError` prefixed with ``where`` (``file:line``)."""
    try:
        return source.count(path)
    except FrameReadError as exc:
        raise FrameReadError(f"{where}: {exc}") from None


def write_outputs(out: Path, names: list[str], lists: dict[str, list[VideoRecord]]) -> dict[str, Path]:
    """``category.txt`` and ``<split>.txt`` in ``out``, each atomically; call after all splits are read."""
    written = {"categories": write_class_names(out / "category.txt", names)}
    for split, records in lists.items():
        written[split] = write_list(out / f"{split}.txt", records)
    return written
