"""``python -m paperlib.train --config RECIPE_OR_YAML [key=value ...] [--resume]``; also under
``torchrun --nproc_per_node=K -m paperlib.train ...`` (DDP: NCCL on GPUs, gloo on CPU)."""

from __future__ import annotations

import argparse
import json
import sys

from .engine.config import ConfigError, check_pretrained, load_config
from .engine.distributed import is_main_process
from .engine.trainer import train


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m paperlib.train", description=__doc__)
    parser.add_argument(
        "--config",
        default=None,
        help="a shipped recipe's name (e.g. smoke, tin_r50_1x1x8_40e_sthv1; a wrong name lists them) or a YAML file",
    )
    parser.add_argument("--resume", action="store_true", help="continue from output_dir/last.pth if it exists")
    parser.add_argument("overrides", nargs="*", help="section.key=value, e.g. optim.lr=0.01 output_dir=runs/x")
    args = parser.parse_args(argv)
    try:
        config = load_config(args.config, args.overrides)
        check_pretrained(config)  # before any data is built
    except (ConfigError, FileNotFoundError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    metrics = train(config, resume=args.resume)
    if is_main_process():  # once per run, not once per rank (the losses are averaged over ranks)
        print(json.dumps(metrics))
    return 0


if __name__ == "__main__":
    sys.exit(main())
