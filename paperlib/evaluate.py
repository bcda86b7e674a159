"""``python -m paperlib.evaluate --checkpoint PATH [--config CONFIG] [--protocol tin] [--views 3x10] [key=value ...]``.

Scores every validation video once (also under ``torchrun``), averaged over ``crops x clips`` views under a
test protocol (``--protocol``: ``paperlib``, ours, the default; ``tin``, ``tsm``, ``xtemporal``: the originals'
test time, see :mod:`paperlib.data.protocols`), and writes ``metrics.json`` (with provenance: commit, config,
checkpoint sha256, data fingerprint, device, views, protocol) and ``scores.npz`` (ids, labels, scores) into
``--output`` (default: beside the checkpoint).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from .data.protocols import PROTOCOLS
from .engine.config import ConfigError, RunConfig, config_from_dict, config_to_dict, load_config
from .engine.data import build_datasets, resolve_data
from .engine.device import AMP_DTYPES, pick_device
from .engine.distributed import setup, teardown
from .engine.evaluator import evaluate, write_evaluation
from .engine.provenance import device_description, git_commit
from .models import from_checkpoint
from .models.checkpoint import read_checkpoint
from .utils import sha256_file


def parse_views(text: str) -> tuple[int, int]:
    """``"3x10"`` -> ``(crops, clips)``."""
    try:
        crops, clips = (int(x) for x in text.lower().split("x"))
    except ValueError:
        raise ConfigError(f"--views must look like CROPSxCLIPS, e.g. 1x1 or 3x10; got {text!r}") from None
    if crops not in (1, 3) or clips < 1:
        raise ConfigError(f"--views: crops must be 1 or 3 and clips >= 1; got {text!r}")
    return crops, clips


def run(checkpoint: str | Path, config: RunConfig, output: str | Path | None = None, progress: bool = True) -> dict:
    """Evaluate a checkpoint on the validation list of ``config``; returns the metrics."""
    device = pick_device(config.device)
    info = setup(device)
    try:
        model = from_checkpoint(checkpoint).to(device)
        data = resolve_data(config, info)
        _, val_set = build_datasets(config, data)
        result = evaluate(
            model,
            val_set,
            config.eval.batch_size,
            device,
            info,
            config.data.workers,
            AMP_DTYPES[config.amp],
            progress=progress and info.is_main,
        )
        if info.is_main:
            write_evaluation(
                Path(output) if output else Path(checkpoint).parent,
                result,
                {
                    "commit": git_commit(),
                    "checkpoint": str(checkpoint),
                    "checkpoint_sha256": sha256_file(checkpoint),
                    "config": config_to_dict(config),
                    "data": data.fingerprint,
                    "device": device_description(device),
                    "views": f"{config.eval.crops}x{config.eval.clips}",
                    "protocol": config.eval.protocol,
                    "world_size": info.world_size,
                },
            )
        return result["metrics"]
    finally:
        teardown()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m paperlib.evaluate", description=__doc__)
    parser.add_argument("--checkpoint", required=True)
    parser.add_argument("--config", default=None, help="default: the configuration stored in the checkpoint")
    parser.add_argument("--views", default=None, help="CROPSxCLIPS, e.g. 1x1 (default from the config) or 3x10")
    parser.add_argument(
        "--protocol",
        default=None,
        choices=PROTOCOLS,
        help="test-time protocol: paperlib (ours), tin, tsm, xtemporal (default from the config)",
    )
    parser.add_argument("--output", default=None, help="folder for metrics.json and scores.npz")
    parser.add_argument("overrides", nargs="*", help="section.key=value")
    args = parser.parse_args(argv)
    try:
        if args.config:
            config = load_config(args.config, args.overrides)
        else:
            stored = read_checkpoint(args.checkpoint).get("config")
            if not stored:
                raise ConfigError(f"{args.checkpoint} stores no configuration; pass --config")
            config = config_from_dict(stored, args.overrides)
        if args.views:
            config.eval.crops, config.eval.clips = parse_views(args.views)
        if args.protocol:
            config.eval.protocol = args.protocol
    except (ConfigError, FileNotFoundError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(json.dumps(run(args.checkpoint, config, args.output)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
