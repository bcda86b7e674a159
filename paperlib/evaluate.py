"""``python -m paperlib.evaluate --checkpoint PATH [--config CONFIG] [--protocol tin] [--views 3x10] [key=value ...]``.

Scores every validation video once (also under ``torchrun``), averaged over ``crops x clips`` views under a
test protocol (``--protocol``: ``paperlib``, ours, the default; ``tin``, ``tsm``, ``xtemporal``: the originals'
test time, see :mod:`paperlib.data.protocols`), and writes ``metrics.json`` (with provenance: commit, config,
checkpoint sha256, data fingerprint, device, views, protocol) and ``scores.npz`` (ids, labels, scores) into
``--output``, by default a folder of its own beside the checkpoint, ``eval-<protocol>-<crops>x<clips>/`` (never
the training run's files). An earlier evaluation there is kept: the command stops unless ``--overwrite``.

A paperlib checkpoint is scored as the model it stores; ``--config`` or ``model.*`` overrides that contradict it
(model name, class count, frame count, builder options) stop the command naming every difference. A checkpoint
of another codebase (official TSM/TIN, MMAction2, ...) needs ``--config`` and loads strictly into that model.
Errors in the input end with one line and status 1 (``--debug``: with the traceback).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from torch import nn

from .cli import EXIT_USAGE, UserError, add_debug_argument, error_line, guarded, one_line
from .data.protocols import PROTOCOLS
from .engine.config import ConfigError, RunConfig, config_from_dict, config_to_dict, load_config
from .engine.data import build_datasets, refuse_unreadable, resolve_data
from .engine.device import AMP_DTYPES, pick_device
from .engine.distributed import is_main_process, setup, teardown
from .engine.evaluator import evaluate, write_evaluation
from .engine.provenance import device_description, git_commit
from .models import create, from_checkpoint, load_checkpoint
from .models.checkpoint import CheckpointError, CheckpointMismatchError, read_checkpoint
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


def default_output(checkpoint: str | Path, config: RunConfig) -> Path:
    """Where an evaluation goes without ``--output``: ``<checkpoint's folder>/eval-<protocol>-<crops>x<clips>``,
    never the training run's own ``metrics.json``/``scores.npz``."""
    return Path(checkpoint).parent / f"eval-{config.eval.protocol}-{config.eval.crops}x{config.eval.clips}"


def check_output(out: Path, overwrite: bool = False) -> None:
    """Refuse (:class:`UserError`) to write into a training run's folder, or over an earlier evaluation unless
    ``overwrite``."""
    if (out / "last.pth").exists() or (out / "log.jsonl").exists():
        raise UserError(
            f"{out} is a training run's folder: its metrics.json and scores.npz are the run's own; "
            "leave out --output (the evaluation gets its own folder) or choose another"
        )
    earlier = [name for name in ("metrics.json", "scores.npz") if (out / name).exists()]
    if earlier and not overwrite:
        raise UserError(
            f"{out} already holds an evaluation ({', '.join(earlier)}); pass --overwrite to replace it "
            "or --output DIR to keep both"
        )


NOT_IN_EVALUATION = {"dropout"}  # builder options that change training only


def model_differences(stored: dict, config: RunConfig) -> list[str]:
    """How a checkpoint's model (its ``paperlib.model`` description) differs from ``config.model``:
    ``["model.name: tsm_r50 in the checkpoint, tin_r50 in the configuration", ...]``."""
    stored = dict(stored)
    wanted = {
        "name": config.model.name,
        "num_classes": config.model.num_classes,
        "num_segments": config.model.num_segments,
    }
    differences = [
        f"model.{key}: {stored.get(key)} in the checkpoint, {value} in the configuration"
        for key, value in wanted.items()
        if value is not None and stored.get(key) != value
    ]
    options = {k: v for k, v in stored.items() if k not in wanted}
    for key in sorted((set(options) | set(config.model.options)) - NOT_IN_EVALUATION):
        a, b = options.get(key), config.model.options.get(key)
        if a != b and not (isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)) and list(a) == list(b)):
            differences.append(f"model.options.{key}: {a} in the checkpoint, {b} in the configuration")
    return differences


def build_model(raw: dict, checkpoint: str | Path, config: RunConfig) -> nn.Module:
    """The model to score: a paperlib checkpoint's own, refused if it contradicts ``config`` (every difference
    named); a checkpoint of another codebase (official TSM/TIN, MMAction2, ...) loaded strictly into the model
    ``config`` describes."""
    stored = (raw.get("paperlib") or {}).get("model") if isinstance(raw, dict) else None
    if stored:
        differences = model_differences(stored, config)
        if differences:
            raise CheckpointMismatchError(
                f"{checkpoint} does not fit the configuration: {'; '.join(differences)}. Leave out --config and "
                "the model.* overrides to evaluate the checkpoint as it was trained, or give a checkpoint of "
                "that model"
            )
        return from_checkpoint(raw)
    model = create(config.model.name, config.model.num_classes, config.model.num_segments, **config.model.options)
    try:
        load_checkpoint(model, raw)
    except CheckpointMismatchError as exc:
        raise CheckpointMismatchError(
            f"{checkpoint} does not fit the configuration's {config.model.name} ({config.model.num_classes} classes, "
            f"{config.model.num_segments} frames): {one_line(exc)}; give the --config of the checkpoint's model"
        ) from None
    except CheckpointError as exc:
        raise CheckpointError(f"{checkpoint}: {one_line(exc)}") from None
    return model


def run(
    checkpoint: str | Path,
    config: RunConfig,
    output: str | Path | None = None,
    progress: bool = True,
    overwrite: bool = False,
) -> dict:
    """Evaluate a checkpoint on the validation list of ``config``; returns the metrics. The outputs go to
    ``output`` (default: :func:`default_output`), which must not hold an earlier evaluation unless
    ``overwrite`` (:func:`check_output`)."""
    out = Path(output) if output else default_output(checkpoint, config)
    check_output(out, overwrite)
    device = pick_device(config.device)
    info = setup(device)
    try:
        raw = read_checkpoint(checkpoint)
        data = resolve_data(config, info)
        model = build_model(raw, checkpoint, config).to(device)
        _, val_set = build_datasets(config, data)
        refuse_unreadable([val_set], config.data.on_error, info, config.data.workers)
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
                out,
                result,
                {
                    "commit": git_commit(),
                    "checkpoint": str(checkpoint),
                    "checkpoint_sha256": sha256_file(checkpoint),
                    "model": getattr(model, "paperlib_config", None),
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
    parser.add_argument(
        "--output",
        default=None,
        help="folder for metrics.json and scores.npz (default: eval-PROTOCOL-VIEWS/ beside the checkpoint)",
    )
    parser.add_argument("--overwrite", action="store_true", help="replace an earlier evaluation in that folder")
    add_debug_argument(parser)
    parser.add_argument("overrides", nargs="*", help="section.key=value")
    args = parser.parse_args(argv)
    config: RunConfig | None = None
    try:
        if args.config:
            config = load_config(args.config, args.overrides)
        if args.views:
            views = parse_views(args.views)
    except (ConfigError, FileNotFoundError) as exc:
        error_line(one_line(exc))
        return EXIT_USAGE

    def body() -> int:
        nonlocal config
        if not args.config:
            stored = read_checkpoint(args.checkpoint).get("config")
            if not stored:
                raise UserError(
                    f"{args.checkpoint} stores no paperlib configuration (a checkpoint of another codebase?); "
                    "pass --config naming its model, e.g. --config tsm_r50_1x1x8_40e_sthv1"
                )
            config = config_from_dict(stored, args.overrides)
        if args.views:
            config.eval.crops, config.eval.clips = views
        if args.protocol:
            config.eval.protocol = args.protocol
        metrics = run(args.checkpoint, config, args.output, overwrite=args.overwrite)
        if is_main_process():  # once, not once per rank
            print(json.dumps(metrics), flush=True)
        return 0

    return guarded(body, args.debug, "nothing was written (an evaluation writes its files at the end)")


if __name__ == "__main__":
    sys.exit(main())
