"""Extract JPEG frame folders from videos: ``python -m paperlib.data.extract VIDEO_DIR OUT_DIR``.

Every ``.mp4/.avi/.mkv/.webm`` under VIDEO_DIR (recursively) is decoded with decord and written as
``OUT_DIR/<relative path without suffix>/00001.jpg, 00002.jpg, ...`` (1-based, the layout TSN/TIN and
:class:`~paperlib.data.sources.FrameFolder` read), one file per decoded frame, so a folder has exactly as
many frames as decord counts in the video. JPEG quality defaults to 95, what MMAction2's
``build_rawframes.py`` writes (``mmcv.imwrite``, i.e. OpenCV's default); ``--short-side 256`` resizes as its
``--new-short 256`` does (aspect kept).

Resumable: a video is written into a hidden temporary sibling folder that is renamed into place only once
every frame is on disk, so an existing frame folder is complete and is skipped on a rerun, and an
interrupted video (its temporary folder left behind) is redone. Videos that fail to decode are listed with
their path and the reason (printed and in ``OUT_DIR/extract_failures.txt``) while the others go on; the
exit status is 1 if any failed. ``--list train.txt --list-out OUT_DIR/train.txt`` rewrites a video list
(``path.mp4 num_frames labels``) to the frame folders with the extracted frame counts and the same labels.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from pathlib import Path

from PIL import Image

from ..cli import add_debug_argument, guarded
from ..utils import atomic_write_text
from .lists import VideoRecord, read_list, write_list
from .sources import FrameFolder, FrameReadError, _decord_reason, _native_stderr_captured

VIDEO_SUFFIXES = (".mp4", ".avi", ".mkv", ".webm")
FAILURES = "extract_failures.txt"
CHUNK = 16  # frames decoded per decord call (bounds memory: 16 x 1080p RGB is 100 MB)


@dataclass(frozen=True)
class Options:
    """How frames are written: ``short_side`` in pixels (None: decoded size), JPEG ``quality`` 1-100."""

    template: str = "{:05d}.jpg"
    quality: int = 95
    short_side: int | None = None
    overwrite: bool = False


@dataclass(frozen=True)
class Outcome:
    """What happened to one video: ``status`` is ``"extracted"``, ``"skipped"`` (already complete) or
    ``"failed"`` (then ``reason`` says why); ``frames`` is the number of frames in its folder."""

    video: Path
    folder: Path
    status: str
    frames: int = 0
    reason: str = ""


def find_videos(video_dir: str | os.PathLike) -> list[Path]:
    """Video files under ``video_dir`` (recursively, symlinks followed), sorted, as paths relative to it."""
    video_dir = Path(video_dir)
    if not video_dir.is_dir():
        raise FileNotFoundError(f"video folder not found: {video_dir}")
    found = []
    for folder, dirs, files in os.walk(video_dir, followlinks=True):
        dirs.sort()
        found += [Path(folder, f).relative_to(video_dir) for f in files if Path(f).suffix.lower() in VIDEO_SUFFIXES]
    return sorted(found)


def frame_folder(out_dir: str | os.PathLike, relative: Path) -> Path:
    """``OUT_DIR/<relative path without its suffix>``."""
    return Path(out_dir) / relative.with_suffix("")


def resized(size: tuple[int, int], short_side: int | None) -> tuple[int, int]:
    """``(width, height)`` with the shorter side scaled to ``short_side`` pixels and the aspect ratio kept
    (the longer side rounded to the nearest pixel)."""
    width, height = size
    if short_side is None or min(width, height) == short_side:
        return width, height
    scale = short_side / min(width, height)
    if width <= height:
        return short_side, max(1, round(height * scale))
    return max(1, round(width * scale)), short_side


def _temporaries(folder: Path) -> list[Path]:
    """Temporary folders that an interrupted extraction of ``folder`` left beside it."""
    if not folder.parent.is_dir():
        return []
    prefix = f".{folder.name}."
    return [p for p in folder.parent.iterdir() if p.name.startswith(prefix) and p.name.endswith(".tmp") and p.is_dir()]


def _write_frames(video: Path, tmp: Path, options: Options) -> int:
    """Decode every frame of ``video`` into ``tmp`` as JPEGs; returns the frame count (decord's)."""
    import decord

    if video.stat().st_size == 0:
        raise FrameReadError("cannot open video: the file is empty (0 bytes)")
    with _native_stderr_captured() as native:  # FFmpeg's and decord's own messages become the one reason
        try:
            reader = decord.VideoReader(str(video), num_threads=1)
            error = None
        except Exception as exc:  # noqa: BLE001  (decord raises DECORDError / RuntimeError)
            error = exc
    if error is not None:
        raise FrameReadError(f"cannot open video: {_decord_reason(error, ''.join(native))}") from None
    count = len(reader)
    if count == 0:
        raise FrameReadError("decord finds no frames in the video")
    for start in range(0, count, CHUNK):
        indices = list(range(start, min(start + CHUNK, count)))
        with _native_stderr_captured() as native:
            try:
                batch, error = reader.get_batch(indices).asnumpy(), None  # uint8 [n, H, W, 3] RGB
            except Exception as exc:  # noqa: BLE001
                error = exc
        if error is not None:
            reason = _decord_reason(error, "".join(native))
            raise FrameReadError(f"cannot decode frames {indices[0]}-{indices[-1]} of {count}: {reason}") from None
        for i, frame in zip(indices, batch):
            image = Image.fromarray(frame)
            size = resized(image.size, options.short_side)
            if size != image.size:
                image = image.resize(size, Image.Resampling.BILINEAR)
            image.save(tmp / options.template.format(i + 1), format="JPEG", quality=options.quality)
    return count


def extract_video(video: str | os.PathLike, folder: str | os.PathLike, options: Options = Options()) -> Outcome:
    """Extract one video into ``folder`` unless that folder already exists (complete by construction);
    a failure is returned as an :class:`Outcome`, not raised."""
    video, folder = Path(video), Path(folder)
    counter = FrameFolder(options.template)
    if folder.is_dir() and not options.overwrite:
        frames = counter.count(folder)
        if frames:
            return Outcome(video, folder, "skipped", frames)
    for stale in _temporaries(folder):
        shutil.rmtree(stale, ignore_errors=True)
    tmp = None
    try:
        folder.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{folder.name}.", suffix=".tmp", dir=folder.parent))
        tmp.chmod(0o755)  # mkdtemp makes it private; frame folders are readable like any other
        frames = _write_frames(video, tmp, options)
        if folder.exists():  # --overwrite, or a folder without frames that is not a finished extraction
            if not options.overwrite and (not folder.is_dir() or any(folder.iterdir())):
                raise FrameReadError(f"{folder} exists and holds no frames; move it away or pass --overwrite")
            shutil.rmtree(folder) if folder.is_dir() else folder.unlink()
        os.rename(tmp, folder)
    except BaseException as exc:  # an Exception is reported and the other videos go on; Ctrl-C stops
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)
        if not isinstance(exc, Exception):
            raise
        reason = str(exc) if isinstance(exc, FrameReadError) else f"{type(exc).__name__}: {exc}"
        return Outcome(video, folder, "failed", reason=reason)
    return Outcome(video, folder, "extracted", frames)


def _extract_args(args: tuple[Path, Path, Options]) -> Outcome:
    return extract_video(*args)


def extract_all(
    video_dir: str | os.PathLike,
    out_dir: str | os.PathLike,
    options: Options = Options(),
    workers: int = 1,
    progress: bool = True,
) -> list[Outcome]:
    """Extract every video under ``video_dir`` into ``out_dir`` (``workers`` processes); one :class:`Outcome`
    per video in path order. Writes (or, without failures, removes) ``OUT_DIR/extract_failures.txt``."""
    from tqdm import tqdm

    video_dir, out_dir = Path(video_dir), Path(out_dir)
    check_options(options)
    relative = find_videos(video_dir)
    if not relative:
        raise FileNotFoundError(f"no videos ({' '.join(VIDEO_SUFFIXES)}) under {video_dir}")
    out_dir.mkdir(parents=True, exist_ok=True)
    outcomes: dict[Path, Outcome] = {}
    jobs, owners = [], {}
    parents = {parent for rel in relative for parent in frame_folder(out_dir, rel).parents}
    for rel in relative:
        folder = frame_folder(out_dir, rel)
        clash = None
        if folder in owners:  # e.g. a/clip.mp4 and a/clip.webm
            clash = f"same frame folder as {video_dir / owners[folder]}"
        elif folder in parents:  # e.g. a.mp4 beside a folder a/ of videos
            clash = f"its frame folder would hold those of the videos in {video_dir / rel.with_suffix('')}"
        if clash:
            outcomes[rel] = Outcome(video_dir / rel, folder, "failed", reason=clash)
            continue
        owners[folder] = rel
        jobs.append((rel, (video_dir / rel, folder, options)))
    bar = tqdm(total=len(relative), desc="extract", unit="video", disable=None if progress else True)  # None: tty only
    bar.update(len(outcomes))
    if workers <= 1:
        for rel, args in jobs:
            outcomes[rel] = _extract_args(args)
            bar.update()
    else:
        with ProcessPoolExecutor(max_workers=workers) as pool:
            futures = {pool.submit(_extract_args, args): rel for rel, args in jobs}
            for future in as_completed(futures):
                rel = futures[future]
                try:
                    outcomes[rel] = future.result()
                except BrokenProcessPool:  # a worker died (e.g. the decoder crashed): report, a rerun resumes
                    reason = "the worker process died (decoder crash?); rerun to retry"
                    outcomes[rel] = Outcome(video_dir / rel, frame_folder(out_dir, rel), "failed", reason=reason)
                bar.update()
    bar.close()
    ordered = [outcomes[rel] for rel in relative]
    failed = [o for o in ordered if o.status == "failed"]
    report = out_dir / FAILURES
    if failed:
        atomic_write_text(report, "".join(f"{o.video}: {o.reason}\n" for o in failed))
    else:
        report.unlink(missing_ok=True)
    return ordered


def check_options(options: Options) -> None:
    """Raise ValueError for a template that does not name a 1-based JPEG, a bad quality or size."""
    try:
        name = options.template.format(1)
    except (IndexError, KeyError, ValueError) as exc:
        raise ValueError(f"--template {options.template!r} cannot format a frame number: {exc}") from None
    if Path(name).suffix.lower() not in (".jpg", ".jpeg") or "/" in name or name == options.template.format(2):
        raise ValueError(f"--template {options.template!r} must name numbered .jpg files, e.g. '{{:05d}}.jpg'")
    if not 1 <= options.quality <= 100:
        raise ValueError(f"--quality must be in 1..100, got {options.quality}")
    if options.short_side is not None and options.short_side < 1:
        raise ValueError(f"--short-side must be a positive number of pixels, got {options.short_side}")


def rewrite_list(
    list_file: str | os.PathLike,
    list_out: str | os.PathLike,
    video_dir: str | os.PathLike,
    out_dir: str | os.PathLike,
    list_root: str | os.PathLike | None = None,
    template: str = "{:05d}.jpg",
) -> tuple[list[VideoRecord], list[str]]:
    """Rewrite a video list to the frame folders: paths relative to ``out_dir`` without the suffix, the
    extracted frame count, the same labels. ``list_root`` (default ``video_dir``) is the folder the list's
    paths are relative to. Returns (records written, problems); a video without a frame folder (failed or
    not under ``video_dir``) is left out of the new list and named in the problems."""
    video_dir, out_dir = Path(os.path.abspath(video_dir)), Path(out_dir)  # symlinked videos stay where they are listed
    root = Path(list_root) if list_root is not None else video_dir
    counter = FrameFolder(template)
    records, problems = [], []
    for record in read_list(list_file):
        video = Path(os.path.abspath(root / record.path))
        where = f"{list_file}:{record.line}: {record.path}"
        if not video.is_relative_to(video_dir):
            problems.append(f"{where}: not under the video folder {video_dir}")
            continue
        rel = video.relative_to(video_dir).with_suffix("")
        try:
            frames = counter.count(out_dir / rel)
        except FrameReadError:
            problems.append(f"{where}: no frame folder {out_dir / rel} (the video failed or is missing)")
            continue
        if frames == 0:
            problems.append(f"{where}: frame folder {out_dir / rel} has no frames")
            continue
        records.append(VideoRecord(rel.as_posix(), frames, record.labels, record.line))
    if not records:
        problems.append(f"{list_file}: no video of the list has frames; {list_out} not written")
    else:
        write_list(list_out, records)
    return records, problems


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m paperlib.data.extract",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("video_dir", help="folder searched recursively for .mp4 .avi .mkv .webm")
    parser.add_argument("out_dir", help="frame folders go to OUT_DIR/<relative path without suffix>/")
    parser.add_argument(
        "--short-side",
        type=int,
        default=None,
        metavar="N",
        help="scale so the shorter side is N pixels, aspect kept (default: as decoded; 256 is usual)",
    )
    parser.add_argument("--quality", type=int, default=95, help="JPEG quality (default 95, as MMAction2/OpenCV)")
    parser.add_argument("--template", default="{:05d}.jpg", help="frame file name, 1-based (default {:05d}.jpg)")
    parser.add_argument("--workers", type=int, default=1, help="processes extracting videos in parallel")
    parser.add_argument("--overwrite", action="store_true", help="re-extract videos whose folder already exists")
    parser.add_argument(
        "--list",
        action="append",
        default=[],
        metavar="LIST_FILE",
        help="video list (path num_frames labels) to rewrite; repeat for several splits",
    )
    parser.add_argument(
        "--list-out",
        action="append",
        default=[],
        metavar="NEW_LIST",
        help="where the rewritten list goes (one per --list)",
    )
    parser.add_argument("--list-root", default=None, help="folder the lists' paths are relative to (default VIDEO_DIR)")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    add_debug_argument(parser)
    args = parser.parse_args(argv)
    return guarded(
        lambda: _run(parser, args),
        args.debug,
        "run the same command again: finished videos are kept and skipped, the interrupted one is redone",
    )


def _run(parser: argparse.ArgumentParser, args: argparse.Namespace) -> int:
    if len(args.list) != len(args.list_out):
        parser.error(f"give one --list-out per --list (got {len(args.list)} --list, {len(args.list_out)} --list-out)")
    options = Options(args.template, args.quality, args.short_side, args.overwrite)
    try:
        for path in args.list:
            if not Path(path).is_file():
                raise FileNotFoundError(f"list file not found: {path}")
        outcomes = extract_all(args.video_dir, args.out_dir, options, args.workers, progress=not args.no_progress)
    except (FileNotFoundError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    failed = [o for o in outcomes if o.status == "failed"]
    for outcome in failed:
        print(f"failed: {outcome.video}: {outcome.reason}", file=sys.stderr)
    counts = {s: sum(o.status == s for o in outcomes) for s in ("extracted", "skipped", "failed")}
    listed = f" (listed in {Path(args.out_dir) / FAILURES})" if failed else ""
    print(
        f"{len(outcomes)} videos: {counts['extracted']} extracted, {counts['skipped']} already complete (skipped), "
        f"{counts['failed']} failed{listed}"
    )
    list_problems = []
    for list_file, list_out in zip(args.list, args.list_out):
        records, problems = rewrite_list(
            list_file, list_out, args.video_dir, args.out_dir, args.list_root, args.template
        )
        list_problems += problems
        for problem in problems:
            print(f"list: {problem}", file=sys.stderr)
        if records:
            print(f"{list_out}: {len(records)} frame folders (from {list_file})")
    return 1 if failed or list_problems else 0


if __name__ == "__main__":
    sys.exit(main())
