"""``python -m paperlib.data.prepare DATASET --root DIR [--out DIR] [--split N] [--template T]``.

Prints each file written, the rows left out for want of a video (Kinetics), and, for a dataset whose published
size is known (:mod:`paperlib.data.prepare.expected`), how many of its videos and classes each list holds.
"""

from __future__ import annotations

import argparse
import inspect
import sys

from ...cli import add_debug_argument, guarded
from ..lists import read_list
from . import PREPARERS
from .expected import EXPECTED, completeness


def _options(recipe, args: argparse.Namespace) -> dict:
    """The options given on the command line, refused for a recipe that has no such parameter."""
    given = {name: value for name, value in (("split", args.split), ("template", args.template)) if value is not None}
    accepted = inspect.signature(recipe).parameters
    refused = [f"--{name}" for name in given if name not in accepted]
    if refused:
        raise ValueError(f"{args.dataset} takes no {', '.join(refused)}")
    return given


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m paperlib.data.prepare", description=__doc__)
    parser.add_argument("dataset", choices=sorted(PREPARERS))
    parser.add_argument("--root", required=True, help="the dataset as downloaded")
    parser.add_argument("--out", default=None, help="where the lists go (default: --root)")
    parser.add_argument(
        "--split",
        type=int,
        choices=(1, 2, 3),
        default=None,
        help="ucf101, hmdb51: which of the three official splits (default 1)",
    )
    parser.add_argument(
        "--template", default=None, help="frame file name template of frame folders, e.g. img_{:05d}.jpg"
    )
    add_debug_argument(parser)
    args = parser.parse_args(argv)
    return guarded(lambda: _run(args), args.debug, "nothing was written (lists are written after every split is read)")


def _run(args: argparse.Namespace) -> int:
    recipe = PREPARERS[args.dataset]
    try:
        options = _options(recipe, args)
    except ValueError as exc:  # an option this dataset does not take: a usage error
        print(f"error: {exc}", file=sys.stderr)
        return 2
    try:
        written = recipe(args.root, args.out, **options)
    except (FileNotFoundError, ValueError, RuntimeError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    missing = written.pop("missing", None)
    for name, path in written.items():
        print(f"{name}: {path}")
    if missing is not None:
        print("rows without a video on disk, left out: " + ", ".join(f"{s} {n:,}" for s, n in missing.items()))
    if args.dataset in EXPECTED:
        for split, path in written.items():
            if split in EXPECTED[args.dataset].videos:
                records = read_list(path) if path.stat().st_size else []
                report = completeness(args.dataset, split, len(records), len({x for r in records for x in r.labels}))
                print(report.message + (f" ({report.note})" if report.note else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
