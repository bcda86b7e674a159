"""Command line: ``python -m paperlib.bench {shift,data,train,models} [options]``."""

from __future__ import annotations

import argparse
import sys

from . import data, models, shift, train


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m paperlib.bench", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    modules = {"shift": shift, "data": data, "train": train, "models": models}
    for name, module in modules.items():
        module.add_arguments(commands.add_parser(name, help=module.__doc__.splitlines()[0]))
    args = parser.parse_args(argv)
    return modules[args.command].run(args)


if __name__ == "__main__":
    sys.exit(main())
