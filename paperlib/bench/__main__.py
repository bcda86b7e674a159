"""Command line: ``python -m paperlib.bench {shift} [options]``."""

from __future__ import annotations

import argparse
import sys

from . import shift


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m paperlib.bench", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    shift.add_arguments(commands.add_parser("shift", help=shift.__doc__.splitlines()[0]))
    args = parser.parse_args(argv)
    return {"shift": shift.run}[args.command](args)


if __name__ == "__main__":
    sys.exit(main())
