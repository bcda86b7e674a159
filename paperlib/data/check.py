"""Validate a list file against the files it names: ``python -m paperlib.data.check LIST --root DIR``.

Reports every problem with its line number (malformed line, missing folder or video, fewer frames than the
list says or than a clip needs, a label outside the class range, a video that does not decode) and exits
with status 1 if there is any, so a wrong path fails here, loudly, instead of hanging a training run.

With ``--dataset NAME`` it then compares the list's entry and class counts with the dataset's published ones
(:mod:`paperlib.data.prepare.expected`; the split is the list's file name, e.g. ``val_split1``, unless
``--split`` says otherwise): an incomplete copy, or class counts that differ, is a problem (status 1), except
that a Kinetics copy, which always misses videos taken down from YouTube, only gets a warning.
"""

from __future__ import annotations

import argparse
import os
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .lists import ListFormatError, decoded_lines, parse_line, read_class_names
from .prepare.expected import EXPECTED, completeness
from .sources import FrameFolder, FrameReadError, VideoFile


@dataclass(frozen=True)
class Problem:
    line: int
    path: str
    message: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.path}: {self.message}" if self.path else f"line {self.line}: {self.message}"


def check_list(
    list_file: str | os.PathLike,
    root: str | os.PathLike,
    source: str = "auto",
    template: str = "{:05d}.jpg",
    num_classes: int | None = None,
    min_frames: int = 1,
) -> list[Problem]:
    """All problems of a list file, in line order (an empty list means the list is usable)."""
    root = Path(root)
    frames, video = FrameFolder(template), VideoFile()
    undecodable: list[tuple[int, str]] = []
    lines = decoded_lines(list_file, errors=undecodable)
    problems = [Problem(number, "", message) for number, message in undecodable]
    if not lines and not problems:
        return [Problem(0, "", f"{list_file} is empty")]
    for number, text in lines:
        try:
            record = parse_line(text, str(list_file), number)
        except ListFormatError as exc:
            problems.append(Problem(number, "", str(exc).split(": ", 1)[-1]))
            continue
        add = lambda message: problems.append(Problem(number, record.path, message))  # noqa: E731
        if num_classes is not None and any(not 0 <= x < num_classes for x in record.labels):
            add(f"label(s) {list(record.labels)} outside [0, {num_classes})")
        path = root / record.path
        kind = source if source != "auto" else ("video" if path.is_file() else "frames")
        if not path.exists():
            add(f"missing {'video' if kind == 'video' else 'frame folder'} {path}")
            continue
        try:
            if kind == "frames":
                count = frames.count(path)
                if count:
                    frames.read(path, np.array([0, count - 1]))
            else:
                count = video.count(path)
                video.read(path, np.array([0, max(count - 1, 0)]))
        except FrameReadError as exc:
            add(f"unreadable: {exc}")
            continue
        if count < record.num_frames:
            add(f"has {count} frames, fewer than the {record.num_frames} the list says")
        if count < min_frames:
            add(f"has {count} frames, fewer than the {min_frames} a clip needs (too short)")
    return sorted(problems, key=lambda p: p.line)


def list_counts(list_file: str | os.PathLike) -> tuple[int, int]:
    """Entries and distinct labels of a list's well-formed lines."""
    entries, labels = 0, set()
    for number, text in decoded_lines(list_file, errors=[]):
        try:
            labels.update(parse_line(text, str(list_file), number).labels)
        except ListFormatError:
            continue
        entries += 1
    return entries, len(labels)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m paperlib.data.check", description=__doc__)
    parser.add_argument("list_file")
    parser.add_argument("--root", required=True, help="folder the list's paths are relative to")
    parser.add_argument("--source", default="auto", choices=["auto", "frames", "video"])
    parser.add_argument("--template", default="{:05d}.jpg", help="frame file name template (frame folders)")
    classes = parser.add_mutually_exclusive_group()
    classes.add_argument("--num-classes", type=int, default=None)
    classes.add_argument("--categories", default=None, help="class-name file (one per line) giving the class count")
    parser.add_argument("--min-frames", type=int, default=1, help="frames a clip needs, e.g. 8 or 16")
    parser.add_argument(
        "--dataset",
        choices=sorted(EXPECTED),
        default=None,
        help="also compare the entry and class counts with the dataset's published ones",
    )
    parser.add_argument(
        "--split", default=None, help="with --dataset: which split the list is (default: its file name)"
    )
    args = parser.parse_args(argv)
    if args.split is not None and args.dataset is None:
        parser.error("--split needs --dataset")
    split = args.split or Path(args.list_file).stem
    if args.dataset is not None and split not in EXPECTED[args.dataset].videos:
        known = ", ".join(EXPECTED[args.dataset].videos)
        print(
            f"error: {args.dataset} has no split {split!r} (its splits: {known}); say which with --split",
            file=sys.stderr,
        )
        return 2
    num_classes = len(read_class_names(args.categories)) if args.categories else args.num_classes
    try:
        problems = check_list(args.list_file, args.root, args.source, args.template, num_classes, args.min_frames)
    except FileNotFoundError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    for problem in problems:
        print(f"{args.list_file}:{problem}")
    total = len(decoded_lines(args.list_file, errors=[]))
    print(f"{args.list_file}: {total} entries, {len(problems)} problem(s)")
    status = 1 if problems else 0
    if args.dataset is not None:
        report = completeness(args.dataset, split, *list_counts(args.list_file))
        print(report.message)
        if report.note:
            print(f"note: {report.note}")
        status = 1 if report.problem else status
    return status


if __name__ == "__main__":
    sys.exit(main())
