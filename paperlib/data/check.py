"""Validate a list file against the files it names: ``python -m paperlib.data.check LIST --root DIR``.

Reports every problem with its line number (malformed line, missing folder or video, fewer frames than the
list says or than a clip needs, a label outside the class range, a frame file or video that does not decode)
and exits with status 1 if there is any, so a wrong path or a broken file fails here, loudly, instead of in the
middle of a training run. By default it decodes every frame file (every frame of every video) an entry can be
read from, so a JPEG cut off in the middle is found; ``--sample N`` decodes N entries drawn at random (the
others get the quick check of their first and last frame, which ``--no-decode`` gives every entry) and
``--workers K`` decodes in K processes.

With ``--dataset NAME`` it then compares the list's entry and class counts with the dataset's published ones
(:mod:`paperlib.data.prepare.expected`; the split is the list's file name, e.g. ``val_split1``, unless
``--split`` says otherwise): an incomplete copy, or class counts that differ, is a problem (status 1), except
that a Kinetics copy, which always misses videos taken down from YouTube, only gets a warning.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset
from tqdm import tqdm

from ..cli import EXIT_USAGE, add_debug_argument, guarded
from . import frame_cache
from .lists import ListFormatError, VideoRecord, decoded_lines, parse_line, read_class_names
from .prepare.expected import EXPECTED, completeness
from .sources import FrameFolder, FrameReadError, VideoFile


@dataclass(frozen=True)
class Problem:
    line: int
    path: str
    message: str

    def __str__(self) -> str:
        if not self.line:
            return self.message
        return f"line {self.line}: {self.path}: {self.message}" if self.path else f"line {self.line}: {self.message}"


def entry_problems(
    record: VideoRecord,
    root: Path,
    source: str = "auto",
    template: str = "{:05d}.jpg",
    num_classes: int | None = None,
    min_frames: int = 1,
    decode: bool = True,
) -> list[str]:
    """What is wrong with one list entry (an empty list: nothing). ``decode``: open and decode every frame file
    (or every frame of the video) the entry can be read from; otherwise only its first and last frames."""
    problems = []
    if num_classes is not None and any(not 0 <= x < num_classes for x in record.labels):
        problems.append(f"label(s) {list(record.labels)} outside [0, {num_classes})")
    path = root / record.path
    kind = source if source != "auto" else ("video" if path.is_file() else "frames")
    if not path.exists():
        return [*problems, f"missing {'video' if kind == 'video' else 'frame folder'} {path}"]
    # through this process's frame cache when it is on: the frames decoded here are the run's first epoch's
    frames, video = frame_cache.cached(FrameFolder(template)), frame_cache.cached(VideoFile())
    try:
        if kind == "frames":
            count = frames.count(path)
            if count == 0:
                return [*problems, f"no frame files matching {template} in {path}{frames.hint(path)}"]
            needed = min(count, record.num_frames) or count  # the files a clip is read from
            if decode:
                frames.decode_all(path, needed)
            else:
                frames.read(path, np.array([0, needed - 1]))
        else:
            count = video.count(path)
            if decode:
                video.decode_all(path)
            else:
                video.read(path, np.array([0, max(count - 1, 0)]))
    except FrameReadError as exc:
        return [*problems, f"unreadable: {exc}"]
    if count < record.num_frames:
        problems.append(f"has {count} frames, fewer than the {record.num_frames} the list says")
    if count < min_frames:
        problems.append(f"has {count} frames, fewer than the {min_frames} a clip needs (too short)")
    return problems


class _EntryChecks(Dataset):
    """Item ``i``: the problems of entry ``i`` (a Dataset, so that DataLoader workers check entries in parallel)."""

    def __init__(self, records: list[VideoRecord], decoded: set[int], **options) -> None:
        self.records, self.decoded, self.options = records, decoded, options

    def __len__(self) -> int:
        return len(self.records)

    def __getitem__(self, i: int) -> list[str]:
        return entry_problems(self.records[i], decode=i in self.decoded, **self.options)


def records_problems(
    records: list[VideoRecord],
    root: str | os.PathLike,
    source: str = "auto",
    template: str = "{:05d}.jpg",
    num_classes: int | None = None,
    min_frames: int = 1,
    decode: bool = True,
    sample: int | None = None,
    workers: int = 0,
    indices: Sequence[int] | None = None,
    progress: bool = False,
) -> list[tuple[VideoRecord, str]]:
    """``(record, problem)`` of every problem among ``records`` (or those at ``indices``), in their order.

    ``decode``: decode every frame of every entry (``sample``: of that many entries, drawn with seed 0; the
    others get the quick check of their first and last frame). ``workers`` processes check entries in parallel.
    """
    chosen = list(range(len(records))) if indices is None else list(indices)
    if not decode:
        decoded: set[int] = set()
    elif sample is None or sample >= len(chosen):
        decoded = set(chosen)
    else:
        decoded = {chosen[i] for i in np.random.default_rng(0).choice(len(chosen), sample, replace=False)}
    checks = _EntryChecks(
        records,
        decoded,
        root=Path(root),
        source=source,
        template=template,
        num_classes=num_classes,
        min_frames=min_frames,
    )
    # a private generator: checking draws nothing from the global RNG a training run has just seeded
    loader = DataLoader(
        checks, batch_size=None, sampler=chosen, num_workers=workers, generator=torch.Generator().manual_seed(0)
    )
    found = []
    for i, problems in zip(chosen, tqdm(loader, disable=not progress, desc="check", unit="entry")):
        found += [(records[i], problem) for problem in problems]
    return found


def check_list(
    list_file: str | os.PathLike,
    root: str | os.PathLike,
    source: str = "auto",
    template: str = "{:05d}.jpg",
    num_classes: int | None = None,
    min_frames: int = 1,
    decode: bool = True,
    sample: int | None = None,
    workers: int = 0,
    progress: bool = False,
) -> list[Problem]:
    """All problems of a list file, in line order (an empty list means the list is usable). ``decode``,
    ``sample`` and ``workers`` as :func:`records_problems` takes them."""
    undecodable: list[tuple[int, str]] = []
    lines = decoded_lines(list_file, errors=undecodable)
    problems = [Problem(number, "", message) for number, message in undecodable]
    if not lines and not problems:
        return [Problem(0, "", f"{list_file} is empty")]
    records = []
    for number, text in lines:
        try:
            records.append(parse_line(text, str(list_file), number))
        except ListFormatError as exc:
            problems.append(Problem(number, "", str(exc).split(": ", 1)[-1]))
    found = records_problems(
        records, root, source, template, num_classes, min_frames, decode, sample, workers, progress=progress
    )
    problems += [Problem(record.line, record.path, message) for record, message in found]
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
        "--decode",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="decode every frame of every entry (the default; --no-decode: only each entry's first and last frame)",
    )
    parser.add_argument(
        "--sample",
        type=int,
        default=None,
        metavar="N",
        help="decode every frame of N entries drawn at random (seed 0), the quick check for the others",
    )
    parser.add_argument("--workers", type=int, default=0, help="processes decoding in parallel (default: this one)")
    parser.add_argument(
        "--dataset",
        choices=sorted(EXPECTED),
        default=None,
        help="also compare the entry and class counts with the dataset's published ones",
    )
    parser.add_argument(
        "--split", default=None, help="with --dataset: which split the list is (default: its file name)"
    )
    add_debug_argument(parser)
    args = parser.parse_args(argv)
    if args.split is not None and args.dataset is None:
        parser.error("--split needs --dataset")
    if args.sample is not None and args.sample < 1:
        parser.error("--sample must be at least 1")
    split = args.split or Path(args.list_file).stem
    if args.dataset is not None and split not in EXPECTED[args.dataset].videos:
        known = ", ".join(EXPECTED[args.dataset].videos)
        print(
            f"error: {args.dataset} has no split {split!r} (its splits: {known}); say which with --split",
            file=sys.stderr,
        )
        return EXIT_USAGE
    return guarded(lambda: _report(args, split), args.debug, "nothing was written")


def _report(args: argparse.Namespace, split: str) -> int:
    """Check, print every finding on stdout (``LIST:line N: path: what``) and the summary; 1 if any."""
    num_classes = len(read_class_names(args.categories)) if args.categories else args.num_classes
    problems = check_list(
        args.list_file,
        args.root,
        args.source,
        args.template,
        num_classes,
        args.min_frames,
        decode=args.decode,
        sample=args.sample,
        workers=args.workers,
        progress=sys.stderr.isatty(),
    )
    for problem in problems:
        print(f"{args.list_file}:{problem}")
    findings = len(problems)
    if args.dataset is not None:
        report = completeness(args.dataset, split, *list_counts(args.list_file))
        print(f"{args.list_file}: {report.message}" if report.problem else report.message)
        if report.note:
            print(f"note: {report.note}")
        findings += int(report.problem)
    total = len(decoded_lines(args.list_file, errors=[]))
    checked = (
        "decoded every frame"
        if args.decode and (args.sample is None or args.sample >= total)
        else f"decoded every frame of {args.sample} sampled entries"
        if args.decode
        else "opened first and last frames only"
    )
    print(f"{args.list_file}: {total} entries ({checked}), {findings} problem(s)")
    return 1 if findings else 0


if __name__ == "__main__":
    sys.exit(main())
