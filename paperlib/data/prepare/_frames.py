"""What the recipes share: frame counting whose failure names the annotation line that pointed at the file,
finding a video's file or frame folder, and writing the outputs only once every split has been read (a bad line
leaves nothing half-written)."""

from __future__ import annotations

import os
from pathlib import Path

from ..lists import VideoRecord, write_class_names, write_list
from ..sources import FrameFolder, FrameReadError, VideoFile

VIDEO_SUFFIXES = (".mp4", ".mkv", ".webm", ".avi")


def count_frames(source: FrameFolder | VideoFile, path: Path, where: str) -> int:
    """Frames in ``path``; on error, a :class:`FrameReadError` prefixed with ``where`` (``file:line``)."""
    try:
        return source.count(path)
    except FrameReadError as exc:
        raise FrameReadError(f"{where}: {exc}") from None


def find_media(
    base: Path, frames: FrameFolder, video: VideoFile, preferred: str = ""
) -> tuple[Path, FrameFolder | VideoFile] | None:
    """The video ``base<suffix>`` (``preferred`` first, then :data:`VIDEO_SUFFIXES`) or else the frame folder
    ``base``, with the source that reads it; ``None`` if there is neither."""
    for suffix in dict.fromkeys((preferred, *VIDEO_SUFFIXES) if preferred else VIDEO_SUFFIXES):
        path = base.with_name(base.name + suffix)
        if path.is_file():
            return path, video
    return (base, frames) if base.is_dir() else None


def media_record(
    root: Path, under: Path, rel: str, labels: tuple[int, ...], frames: FrameFolder, video: VideoFile, where: str
) -> VideoRecord:
    """The list record of the annotation path ``rel`` (``<class>/<video>.<ext>``) found under ``under``: the
    video (``rel``'s own suffix first) or the frame folder of the same name, its path relative to ``root``
    and its frame count; a :class:`FrameReadError` naming ``where`` if there is neither."""
    stem, suffix = os.path.splitext(rel)
    found = find_media(under / stem, frames, video, preferred=suffix)
    if found is None:
        raise FrameReadError(f"{where}: neither a video nor a frame folder for {rel} under {under}")
    media, source = found
    return VideoRecord(media.relative_to(root).as_posix(), count_frames(source, media, where), labels)


def write_outputs(out: Path, names: list[str], lists: dict[str, list[VideoRecord]]) -> dict[str, Path]:
    """``category.txt`` and ``<split>.txt`` in ``out``, each atomically; call after all splits are read."""
    written = {"categories": write_class_names(out / "category.txt", names)}
    for split, records in lists.items():
        written[split] = write_list(out / f"{split}.txt", records)
    return written
