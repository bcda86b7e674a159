"""Command line: ``python -m paperlib.bench {shift,data,train,models,calibrate,numerics} [options]``."""

from __future__ import annotations

import argparse
import re
import sys

from ..cli import add_debug_argument, guarded
from . import calibrate, data, models, numerics, shift, train


def first_sentence(doc: str) -> str:
    """The first sentence of a docstring, whatever its line breaks (a help line cut mid-sentence reads wrong)."""
    text = " ".join(doc.split("\n\n", 1)[0].split())
    end = re.search(r"\.(\s|$)", text)
    return text[: end.start() + 1] if end else text


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m paperlib.bench", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    modules = {
        "shift": shift,
        "data": data,
        "train": train,
        "models": models,
        "calibrate": calibrate,
        "numerics": numerics,
    }
    for name, module in modules.items():
        module.add_arguments(commands.add_parser(name, help=first_sentence(module.__doc__)))
    add_debug_argument(parser)
    args = parser.parse_args(argv)
    return guarded(lambda: modules[args.command].run(args), args.debug, "nothing was written")


if __name__ == "__main__":
    sys.exit(main())
