"""Training: the official TSM/TIN recipe (SGD, linear warm-up, per-iteration cosine, grad clipping, partial
BN, fc ×5/×10), single process or torchrun DDP, AMP, atomic checkpoints and exact resumption."""

from __future__ import annotations

import json
import math
import random
import time
from pathlib import Path

import numpy as np
import torch
from torch import nn
from tqdm import tqdm

from ..data import make_loader
from ..models import create, load_checkpoint, save_checkpoint, tin_param_groups
from ..models.checkpoint import read_checkpoint
from ..utils import atomic_write_text
from .config import RunConfig, config_to_dict, dump_config
from .data import build_datasets, resolve_data
from .device import AMP_DTYPES, autocast, pick_device
from .distributed import DistInfo, barrier, setup, teardown
from .evaluator import evaluate, write_evaluation
from .provenance import device_description, git_commit


def lr_factor(step: int, total_steps: int, warmup_steps: int, schedule: str) -> float:
    """Linear warm-up from 0.1 to 1 over ``warmup_steps``, then cosine to 0 (per iteration), or constant."""
    if step < warmup_steps:
        return 0.1 + 0.9 * step / warmup_steps
    if schedule == "constant" or total_steps <= warmup_steps:
        return 1.0
    return 0.5 * (1 + math.cos(math.pi * (step - warmup_steps) / (total_steps - warmup_steps)))


def _rng_state() -> dict:
    """Every global RNG, as tensors and plain containers (loadable with ``weights_only=True``)."""
    name, keys, pos, has_gauss, cached = np.random.get_state()
    return {
        "torch": torch.get_rng_state(),
        "numpy": [name, torch.from_numpy(keys.astype(np.int64)), pos, has_gauss, cached],
        "python": random.getstate(),
        "cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else [],
    }


def _set_rng_state(state: dict) -> None:
    torch.set_rng_state(state["torch"])
    name, keys, pos, has_gauss, cached = state["numpy"]
    np.random.set_state((name, keys.numpy().astype(np.uint32), pos, has_gauss, cached))
    random.setstate(state["python"])
    if state["cuda"]:
        torch.cuda.set_rng_state_all(state["cuda"])


def save_training_state(path: Path, model: nn.Module, optimizer, scaler, epoch: int, extra: dict) -> None:
    """Atomically: model (with its construction options), optimizer, scaler, epoch, RNG states."""
    save_checkpoint(
        model,
        path,
        optimizer=optimizer.state_dict(),
        scaler=scaler.state_dict(),
        epoch=epoch,
        rng=_rng_state(),
        **extra,
    )


def _load_training_state(path: Path, model: nn.Module, optimizer, scaler) -> int:
    state = read_checkpoint(path)
    load_checkpoint(model, state)
    optimizer.load_state_dict(state["optimizer"])
    scaler.load_state_dict(state["scaler"])
    _set_rng_state(state["rng"])
    return int(state["epoch"]) + 1


class Logger:
    """JSON lines in ``output_dir/log.jsonl`` (rank 0 only)."""

    def __init__(self, path: Path | None) -> None:
        self.path = path

    def __call__(self, **record) -> None:
        if self.path is not None:
            with open(self.path, "a") as f:
                f.write(json.dumps(record) + "\n")


def train(config: RunConfig, resume: bool = False) -> dict:
    """Train (and evaluate) one run; returns the last evaluation's metrics. Run under torchrun for DDP."""
    device = pick_device(config.device)
    info = setup(device)
    try:
        return _train(config, resume, device, info)
    finally:
        teardown()


def _train(config: RunConfig, resume: bool, device: torch.device, info: DistInfo) -> dict:
    out = Path(config.output_dir)
    if info.is_main:
        out.mkdir(parents=True, exist_ok=True)
        atomic_write_text(out / "config.yaml", dump_config(config))
    torch.manual_seed(config.seed)
    np.random.seed(config.seed)
    random.seed(config.seed)
    if config.deterministic:
        torch.use_deterministic_algorithms(True)
    log = Logger(out / "log.jsonl" if info.is_main else None)

    data = resolve_data(config, info)
    train_set, val_set = build_datasets(config, data)
    loader = make_loader(
        train_set,
        config.optim.batch_size,
        train=True,
        workers=config.data.workers,
        seed=config.seed,
        rank=info.rank,
        world_size=info.world_size,
        device=device,
    )
    if len(loader) == 0:
        raise ValueError(
            f"{len(train_set)} training videos are fewer than one batch of "
            f"{config.optim.batch_size} x {info.world_size} processes"
        )

    model = create(config.model.name, config.model.num_classes, config.model.num_segments, **config.model.options)
    if config.model.pretrained:
        report = load_checkpoint(model, config.model.pretrained, strict=False)
        if info.is_main:
            print(
                f"pretrained weights from {config.model.pretrained} ({report.format}); not loaded:\n"
                f"{report.describe() or '  (nothing)'}"
            )
    if config.model.partial_bn:
        if not hasattr(model, "set_partial_bn"):
            raise ValueError(f"model.partial_bn: {config.model.name} has no partial BN (only the 2D models do)")
        model.set_partial_bn(True)
    model.to(device)
    if config.channels_last:
        model.to(memory_format=torch.channels_last)
    net = (
        nn.parallel.DistributedDataParallel(model, device_ids=[info.local_rank] if device.type == "cuda" else None)
        if info.enabled
        else model
    )

    global_batch = config.optim.batch_size * info.world_size
    base_lr = config.optim.lr * global_batch / config.optim.reference_batch
    groups = tin_param_groups(model, config.optim.weight_decay, config.optim.fc_lr5)
    if config.optim.optimizer == "sgd":
        optimizer = torch.optim.SGD(groups, lr=base_lr, momentum=config.optim.momentum, nesterov=config.optim.nesterov)
    else:
        optimizer = torch.optim.AdamW(groups, lr=base_lr)
    amp_dtype = AMP_DTYPES[config.amp]
    scaler = torch.amp.GradScaler(device.type, enabled=config.amp == "fp16")
    criterion = nn.BCEWithLogitsLoss() if config.data.multi_label else nn.CrossEntropyLoss()

    steps_per_epoch = len(loader)
    total_steps = steps_per_epoch * config.optim.epochs
    warmup_steps = int(round(config.optim.warmup_epochs * steps_per_epoch))
    last = out / "last.pth"
    start_epoch = _load_training_state(last, model, optimizer, scaler) if resume and last.is_file() else 0
    if info.is_main:
        print(
            f"{config.name}: {config.model.name} on {device_description(device)}, {info.world_size} process(es); "
            f"global batch {global_batch} -> lr {base_lr:.5g} (lr {config.optim.lr} for batch "
            f"{config.optim.reference_batch}, scaled linearly); {config.optim.epochs} epochs x {steps_per_epoch} "
            f"steps, warm-up {warmup_steps} steps, {config.optim.schedule}"
            + (f"; resuming at epoch {start_epoch}" if start_epoch else "")
        )
        log(
            event="start",
            global_batch=global_batch,
            lr=base_lr,
            steps_per_epoch=steps_per_epoch,
            start_epoch=start_epoch,
            world_size=info.world_size,
            data=data.fingerprint,
        )

    result: dict = {}
    for epoch in range(start_epoch, config.optim.epochs):
        train_set.set_epoch(epoch)
        loader.sampler.set_epoch(epoch)
        net.train()
        losses, clips, started = [], 0, time.perf_counter()
        bar = tqdm(loader, disable=not info.is_main, desc=f"epoch {epoch + 1}/{config.optim.epochs}", unit="batch")
        for i, batch in enumerate(bar):
            step = epoch * steps_per_epoch + i
            factor = lr_factor(step, total_steps, warmup_steps, config.optim.schedule)
            for group in optimizer.param_groups:
                group["lr"] = base_lr * factor * group["lr_mult"]
            video = batch["video"].to(device, non_blocking=True)
            if config.channels_last and video.dim() == 4:
                video = video.contiguous(memory_format=torch.channels_last)
            target = batch["label"].to(device, non_blocking=True)
            with autocast(device, amp_dtype):
                loss = criterion(net(video).float(), target)
            if not torch.isfinite(loss):
                raise FloatingPointError(
                    f"loss is {loss.item()} at epoch {epoch}, step {i} (global step {step}); "
                    f"videos in the batch: {batch['id']}"
                )
            optimizer.zero_grad(set_to_none=True)
            scaler.scale(loss).backward()
            if config.optim.clip_grad:
                scaler.unscale_(optimizer)
                nn.utils.clip_grad_norm_(model.parameters(), config.optim.clip_grad)
            scaler.step(optimizer)
            scaler.update()
            losses.append(loss.item())
            clips += len(video) * info.world_size
            rate = clips / (time.perf_counter() - started)
            bar.set_postfix(loss=f"{losses[-1]:.3f}", clips_per_s=f"{rate:.1f}")
            if i % config.log_every == 0:
                log(event="step", epoch=epoch, step=step, loss=losses[-1], lr=base_lr * factor, clips_per_s=rate)
            if batch["skipped"]:
                log(event="skipped", epoch=epoch, step=step, items=batch["skipped"])
        log(event="epoch", epoch=epoch, loss=float(np.mean(losses)), seconds=time.perf_counter() - started)
        if info.is_main:
            save_training_state(
                last,
                model,
                optimizer,
                scaler,
                epoch,
                {"config": config_to_dict(config), "data": data.fingerprint, "class_names": data.class_names},
            )
        barrier(info)
        if (epoch + 1) % config.eval.every == 0 or epoch + 1 == config.optim.epochs:
            result = evaluate(net, val_set, config.eval.batch_size, device, info, config.data.workers, amp_dtype)
            result["metrics"]["epoch"] = epoch + 1
            result["metrics"]["train_loss"] = float(np.mean(losses))
            if info.is_main:
                log(event="eval", **result["metrics"])
                write_evaluation(
                    out,
                    result,
                    {
                        "commit": git_commit(),
                        "config": config_to_dict(config),
                        "data": data.fingerprint,
                        "device": device_description(device),
                        "views": f"{config.eval.crops}x{config.eval.clips}",
                    },
                )
    return result.get("metrics", {})
