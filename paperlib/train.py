"""``python -m paperlib.train --config RECIPE_OR_YAML [key=value ...] [--resume]``; also under
``torchrun --nproc_per_node=K -m paperlib.train ...`` (DDP: NCCL on GPUs, gloo on CPU).

Before anything is written, every frame (video) of the training and validation lists is decoded: a broken
entry stops the run with one line naming it, unless ``data.on_error=skip``. Without ``--config`` it stops with
status 2, listing the shipped recipes. An error in the input ends with one line on stderr and status 1
(``--debug`` or ``PAPERLIB_DEBUG=1``: with its traceback); Ctrl-C with status 130 and how to continue
(``--resume``)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from .cli import EXIT_USAGE, add_debug_argument, error_line, guarded, one_line
from .configs import available_recipes, recipe_dir
from .engine.config import ConfigError, RunConfig, check_pretrained, load_config
from .engine.distributed import is_main_process
from .engine.trainer import train


def _config_help() -> str:
    return (
        f"a shipped recipe's name or the path of a YAML file; recipes (in {recipe_dir()}): "
        f"{', '.join(available_recipes())}"
    )


def _after_interrupt(config: RunConfig) -> str:
    last = Path(config.output_dir) / "last.pth"
    if last.is_file():
        return f"{last} holds the last checkpoint: continue with the same command and --resume"
    return "no checkpoint was written yet: run the command again"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m paperlib.train", description=__doc__)
    parser.add_argument("--config", default=None, metavar="RECIPE_OR_YAML", help=f"required: {_config_help()}")
    parser.add_argument("--resume", action="store_true", help="continue from output_dir/last.pth if it exists")
    add_debug_argument(parser)
    parser.add_argument("overrides", nargs="*", help="section.key=value, e.g. optim.lr=0.01 output_dir=runs/x")
    args = parser.parse_args(argv)
    if args.config is None:  # the built-in defaults alone are no run anyone wants (a full-size run in ./runs)
        parser.print_usage(sys.stderr)
        error_line(f"--config is required: {_config_help()}")
        return EXIT_USAGE
    try:
        config = load_config(args.config, args.overrides)
        check_pretrained(config)  # before any data is built
    except (ConfigError, FileNotFoundError) as exc:
        error_line(one_line(exc))
        return EXIT_USAGE

    def body() -> int:
        metrics = train(config, resume=args.resume)
        if is_main_process():  # once per run, not once per rank (the losses are averaged over ranks)
            print(json.dumps(metrics), flush=True)
        return 0

    return guarded(body, args.debug, lambda: _after_interrupt(config))


if __name__ == "__main__":
    sys.exit(main())
