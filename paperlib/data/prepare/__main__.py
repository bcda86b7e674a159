"""``python -m paperlib.data.prepare {sthv1,sthv2,kinetics,mmit} --root DIR [--out DIR]``."""

from __future__ import annotations

import argparse
import sys

from . import RECIPES


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m paperlib.data.prepare", description=__doc__)
    parser.add_argument("dataset", choices=sorted(RECIPES))
    parser.add_argument("--root", required=True, help="the dataset as downloaded")
    parser.add_argument("--out", default=None, help="where the lists go (default: --root)")
    args = parser.parse_args(argv)
    try:
        written = RECIPES[args.dataset](args.root, args.out)
    except (FileNotFoundError, ValueError, RuntimeError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    for name, path in written.items():
        print(f"{name}: {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
