"""The TSN / X-Temporal list-file format: one video per line, ``path num_frames label[,label...]``.

``path`` is relative to the dataset root (a frame folder or a video file), ``num_frames`` the number of
frames, and the last field one label id, or several comma-separated ids for multi-label data (MMIT).
Lists written for TSN, TSM, TIN or X-Temporal are read unchanged. Paths may contain spaces (the two
numeric fields are split off the right).
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from ..errors import UserError
from ..utils import atomic_write_text


class ListFormatError(UserError, ValueError):
    """A list or annotation file is malformed; the message names the file and line."""


@dataclass(frozen=True)
class VideoRecord:
    """One line of a list file."""

    path: str  # relative to the dataset root
    num_frames: int
    labels: tuple[int, ...]
    line: int = 0  # 1-based line in the list file, for error messages

    @property
    def label(self) -> int:
        """The single label of a single-label record."""
        if len(self.labels) != 1:
            raise ValueError(f"line {self.line} ({self.path}) has {len(self.labels)} labels, expected one")
        return self.labels[0]


def decoded_lines(path: str | os.PathLike, errors: list[tuple[int, str]] | None = None) -> list[tuple[int, str]]:
    """``(line number, text)`` of every non-blank line, decoded as UTF-8.

    A line that is not UTF-8 raises :class:`ListFormatError` naming file and line, or, if an ``errors`` list
    is given, is appended to it as ``(line number, message)`` and skipped.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"list file not found: {path}")
    out = []
    for number, raw in enumerate(path.read_bytes().split(b"\n"), start=1):
        try:
            text = raw.decode("utf-8").rstrip("\r")
        except UnicodeDecodeError as exc:
            message = f"not valid UTF-8 ({exc.reason} at byte {exc.start})"
            if errors is None:
                raise ListFormatError(f"{path}:{number}: {message}") from None
            errors.append((number, message))
            continue
        if text.strip():
            out.append((number, text))
    return out


def parse_line(text: str, where: str, number: int) -> VideoRecord:
    parts = text.strip().rsplit(maxsplit=2)
    if len(parts) != 3:
        raise ListFormatError(f"{where}:{number}: expected 'path num_frames label[,label...]', got {text!r}")
    path, frames, labels = parts
    try:
        num_frames = int(frames)
        label_ids = tuple(int(x) for x in labels.split(","))
    except ValueError:
        raise ListFormatError(f"{where}:{number}: num_frames and labels must be integers, got {text!r}") from None
    if num_frames < 0 or any(x < 0 for x in label_ids):
        raise ListFormatError(f"{where}:{number}: negative frame count or label in {text!r}")
    return VideoRecord(path, num_frames, label_ids, number)


def read_list(path: str | os.PathLike) -> list[VideoRecord]:
    """Read a list file; a malformed line raises :class:`ListFormatError` with its line number."""
    records = [parse_line(text, str(path), number) for number, text in decoded_lines(path)]
    if not records:
        raise ListFormatError(f"{path}: the list is empty")
    return records


def format_record(record: VideoRecord) -> str:
    if any(ch in record.path for ch in "\n\r"):
        raise ValueError(f"path {record.path!r} contains a line break")
    return f"{record.path} {record.num_frames} {','.join(str(x) for x in record.labels)}"


def write_list(path: str | os.PathLike, records: Iterable[VideoRecord]) -> Path:
    """Write a list file atomically."""
    return atomic_write_text(path, "".join(format_record(r) + "\n" for r in records))


def read_class_names(path: str | os.PathLike) -> list[str]:
    """One class name per line (``category.txt``), line ``i`` being label ``i``."""
    return [text.strip() for _, text in decoded_lines(path)]


def write_class_names(path: str | os.PathLike, names: Iterable[str]) -> Path:
    return atomic_write_text(path, "".join(f"{name}\n" for name in names))
