"""Training: the official TSM/TIN recipe (SGD, linear warm-up, per-iteration cosine, grad clipping, partial
BN, fc ×5/×10), single process or torchrun DDP (one node or many), AMP, atomic checkpoints (every epoch and
every ``checkpoint_every`` iterations) and exact resumption, by itself after a torchrun elastic restart.

:func:`train` is :func:`set_up` (seeds, data, model, optimiser, schedule: a :class:`TrainingRun`),
:func:`resume_from_checkpoint`, then per epoch :func:`train_one_epoch` (:func:`train_step` per batch),
:func:`write_checkpoint` and, when due, :func:`evaluate_epoch`."""

from __future__ import annotations

import json
import math
import os
import random
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from torch import nn
from torch.utils.data import DataLoader
from tqdm import tqdm

from ..data import VideoDataset, make_loader
from ..errors import UserError
from ..models import create, load_checkpoint, save_checkpoint, tin_param_groups
from ..models.checkpoint import read_checkpoint
from ..models.param_groups import single_param_group
from ..utils import atomic_write_text
from .config import ConfigError, OptimConfig, RunConfig, config_to_dict, dump_config
from .data import ResolvedData, build_datasets, refuse_unreadable, resolve_data
from .device import AMP_DTYPES, autocast, pick_device
from .distributed import (
    DistInfo,
    all_gather_objects,
    barrier,
    broadcast_object,
    elastic_restarted,
    mean_over_ranks,
    setup,
    teardown,
)
from .evaluator import evaluate, write_evaluation
from .provenance import device_description, git_commit


class LossNotFiniteError(UserError, FloatingPointError):
    """The training loss became inf or NaN (a learning rate too high, or broken inputs); names the step and
    the batch's videos."""


def lr_factor(
    step: int,
    total_steps: int,
    warmup_steps: int,
    schedule: str,
    warmup_type: str = "linear",
    warmup_start: float = 0.1,
    t_max_steps: int | None = None,
) -> float:
    """The learning rate of iteration ``step`` (from 0) as a fraction of the recipe's rate (see OptimConfig).

    Warm-up (``step < warmup_steps``) from ``warmup_start`` to 1: linear, ``s + (1 - s) t / w`` (deepcs233/TIN
    main.py adjust_learning_rate with s = 0.1; X-Temporal x_temporal/utils/lr_helper.py LinearWarmUpLR), or
    exponential, ``s ** (1 - t / w)`` (X-Temporal ExponentialWarmUpLR: ``target * gamma**t / lr_scale`` with
    ``gamma = lr_scale ** (1 / w)``, s = 1 / lr_scale). Then:

    - ``cosine``: ``0.5 (1 + cos(pi (t - w) / (total - w)))``, 0 at the run's end (deepcs233/TIN main.py);
    - ``cosine_annealing``: torch's CosineAnnealingLR with ``T = t_max_steps`` after X-Temporal's warm-up
      (x_temporal/utils/lr_helper.py ChainIterLR, which hands over to torch's recursive ``get_lr`` at the rate 1
      reached at step w). With ``c(t) = 1 + cos(pi t / T)`` that recursion gives ``c(t) / c(w)`` up to T (0 at T),
      and ``c(t) / 2`` after T (its restart branch adds ``(1 - cos(pi / T)) / 2`` at T + 1): the rate rises again
      when the run is longer than T, as X-Temporal's TIN recipe (35 epochs, T_max 30) does;
    - ``constant``: 1.
    """
    if step < warmup_steps:
        if warmup_type == "exp":
            return warmup_start ** (1 - step / warmup_steps)
        return warmup_start + (1 - warmup_start) * step / warmup_steps
    if schedule == "cosine_annealing":
        period = t_max_steps or total_steps

        def c(t: int) -> float:
            return 1 + math.cos(math.pi * t / period)

        return c(step) / c(warmup_steps) if step <= period else c(step) / 2
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


@dataclass
class ResumePoint:
    """Where a resumed run continues: ``iteration`` batches of ``epoch`` are done, with this rank's ``losses``."""

    epoch: int = 0
    iteration: int = 0
    losses: list[float] = field(default_factory=list)
    train_loss: float | None = None  # of epoch - 1, when the checkpoint closed an epoch (for a missed evaluation)
    note: str = ""

    def describe(self) -> str:
        return f"resuming at epoch {self.epoch}" + (f", iteration {self.iteration}" if self.iteration else "")


def _load_training_state(path: Path, model: nn.Module, optimizer, scaler, info: DistInfo = DistInfo()) -> ResumePoint:
    """Restore model, optimizer, scaler and this rank's RNG states; the position to continue from.

    A checkpoint written mid-epoch (``iteration`` set) holds every rank's RNG states and epoch losses; with the
    same world size each rank gets its own back, so the run continues exactly as if never stopped.
    """
    state = read_checkpoint(path)
    load_checkpoint(model, state)
    optimizer.load_state_dict(state["optimizer"])
    scaler.load_state_dict(state["scaler"])
    ranks = state.get("ranks") or []
    same_world = len(ranks) == info.world_size
    mine = ranks[info.rank] if same_world else None
    _set_rng_state(mine["rng"] if mine else state["rng"])
    epoch, iteration = int(state["epoch"]), state.get("iteration")
    if iteration is None:  # the checkpoint closed epoch `epoch`
        return ResumePoint(epoch + 1, train_loss=state.get("train_loss"))
    if same_world:
        return ResumePoint(epoch, int(iteration), list(mine["losses"]))
    saved_world = int(state.get("world_size", 1))
    return ResumePoint(  # the same number of clips seen, but not the same clips: no longer an exact continuation
        epoch,
        int(iteration) * saved_world // info.world_size,
        list(ranks[0]["losses"]) if ranks else [],
        note=f"the world size changed from {saved_world} to {info.world_size} mid-epoch: continuing after the "
        "same number of clips (the result will differ from an uninterrupted run's)",
    )


def _remaining(loader: DataLoader, skip: int, seed: int) -> DataLoader:
    """``loader`` (its sampler's epoch already set) without its first ``skip`` batches, none of them read."""
    indices = list(loader.sampler)[skip * loader.batch_size :]
    return DataLoader(
        loader.dataset,
        batch_size=loader.batch_size,
        sampler=indices,
        num_workers=loader.num_workers,
        collate_fn=loader.collate_fn,
        pin_memory=loader.pin_memory,
        drop_last=loader.drop_last,
        generator=torch.Generator().manual_seed(seed),
    )


def _print_entries(entries: list[str], first: int = 20) -> None:
    for entry in entries[:first]:
        print(f"  {entry}")
    if len(entries) > first:
        print(f"  ... and {len(entries) - first} more (all of them in log.jsonl)")


def _report_skipped(
    epoch: int, skipped: list[str], dataset, unreadable: list[str], info: DistInfo, log: Logger
) -> None:
    """At the end of an epoch (on_error=skip): every entry skipped by any rank, and the unreadable entries of the
    training list that fell in the batches dropped at the epoch's end (never read, but not unnoticed)."""
    seen = sorted({s for part in all_gather_objects(skipped, info) for s in part})
    where = f"{dataset.list_file or 'records'}:"

    def line_of(entry: str) -> str:  # "LIST:LINE:" of "LIST:LINE: path: why"
        return entry[: entry.find(":", len(where)) + 1]

    lines_seen = {line_of(s) for s in seen if s.startswith(where)}
    unread = [entry for entry in unreadable if entry.startswith(where) and line_of(entry) not in lines_seen]
    if (seen or unread) and info.is_main:
        print(
            f"epoch {epoch + 1}: {len(seen)} unreadable entr{'y' if len(seen) == 1 else 'ies'} skipped"
            + (f", {len(unread)} more in the batches dropped at the end of the epoch" if unread else "")
            + " (data.on_error=skip):"
        )
        _print_entries(seen + unread)
        log(event="skipped_epoch", epoch=epoch, skipped=seen, dropped=unread)


class Logger:
    """JSON lines in ``output_dir/log.jsonl`` (rank 0 only)."""

    def __init__(self, path: Path | None) -> None:
        self.path = path

    def __call__(self, **record) -> None:
        if self.path is not None:
            with open(self.path, "a") as f:
                f.write(json.dumps(record) + "\n")


def train(config: RunConfig, resume: bool = False) -> dict:
    """Train (and evaluate) one run; returns the last evaluation's metrics (the training loss averaged over
    ranks). Run under torchrun for DDP; after a torchrun elastic restart it resumes by itself."""
    device = pick_device(config.device)
    info = setup(device)
    try:
        return _train(config, resume or elastic_restarted(info), device, info)
    except BaseException as exc:
        if info.is_main:
            _record_failure(Path(config.output_dir), exc)
        raise
    finally:
        teardown()


FAILED = "failed.txt"  # in output_dir: why the last attempt stopped (removed when a run starts)


def _record_failure(out: Path, exc: BaseException) -> None:
    """Leave ``out/failed.txt`` saying why the run stopped, when its folder exists (nothing is created for a
    run that failed before writing anything)."""
    if not out.is_dir():
        return
    from ..cli import one_line

    last = out / "last.pth"
    if isinstance(exc, KeyboardInterrupt):
        why = "interrupted (Ctrl-C)"
    else:
        why = f"{type(exc).__name__}: {one_line(exc)}"
    then = (
        f"{last} holds the last checkpoint: continue with the same command and --resume"
        if last.is_file()
        else "no checkpoint was written: run the command again"
    )
    atomic_write_text(out / FAILED, f"{time.strftime('%Y-%m-%d %H:%M:%S')} {why}\n{then}\n")


@dataclass(frozen=True)
class LrSchedule:
    """The run's learning rate per iteration: ``base_lr`` (the recipe's, scaled linearly to the global batch)
    times :func:`lr_factor` of the step, for ``steps_per_epoch`` iterations an epoch."""

    base_lr: float
    global_batch: int
    steps_per_epoch: int
    total_steps: int
    warmup_steps: int
    kind: str
    warmup_type: str
    warmup_start: float
    t_max_steps: int

    @classmethod
    def of(cls, optim: OptimConfig, world_size: int, steps_per_epoch: int) -> LrSchedule:
        global_batch = optim.batch_size * world_size
        return cls(
            base_lr=optim.lr * global_batch / optim.reference_batch,
            global_batch=global_batch,
            steps_per_epoch=steps_per_epoch,
            total_steps=steps_per_epoch * optim.epochs,
            warmup_steps=int(round(optim.warmup_epochs * steps_per_epoch)),
            kind=optim.schedule,
            warmup_type=optim.warmup_type,
            warmup_start=optim.warmup_start or 1 / global_batch,  # null: X-Temporal's, lr / (world x batch size)
            t_max_steps=int(round((optim.t_max_epochs or optim.epochs) * steps_per_epoch)),
        )

    def lr(self, step: int) -> float:
        """The learning rate of iteration ``step`` (from 0), before each parameter group's ``lr_mult``."""
        factor = lr_factor(
            step,
            self.total_steps,
            self.warmup_steps,
            self.kind,
            warmup_type=self.warmup_type,
            warmup_start=self.warmup_start,
            t_max_steps=self.t_max_steps,
        )
        return self.base_lr * factor


@dataclass
class TrainingRun:
    """What every step of one training run shares, built once by :func:`set_up`."""

    config: RunConfig
    device: torch.device
    info: DistInfo
    log: Logger
    data: ResolvedData
    train_set: VideoDataset
    val_set: VideoDataset
    unreadable: list[str]  # entries data.on_error=skip leaves out ("LIST:LINE: path: why")
    loader: DataLoader
    model: nn.Module
    net: nn.Module  # the model, or its DistributedDataParallel wrapper
    optimizer: torch.optim.Optimizer
    scaler: torch.amp.GradScaler
    criterion: nn.Module
    amp_dtype: torch.dtype | None
    schedule: LrSchedule

    @property
    def out(self) -> Path:
        return Path(self.config.output_dir)

    @property
    def last(self) -> Path:
        return self.out / "last.pth"

    def ends_before(self, epoch: int) -> bool:
        """A trial (``optim.max_steps``) has done its iterations before ``epoch`` starts."""
        max_steps = self.config.optim.max_steps
        return max_steps is not None and epoch * self.schedule.steps_per_epoch >= max_steps

    def evaluates_after(self, epoch: int) -> bool:
        every, epochs = self.config.eval.every, self.config.optim.epochs
        return (epoch + 1) % every == 0 or epoch + 1 == epochs or self.ends_before(epoch + 1)


def _seed(config: RunConfig) -> None:
    """Every global RNG from ``config.seed``; deterministic algorithms if asked for."""
    torch.manual_seed(config.seed)
    np.random.seed(config.seed)
    random.seed(config.seed)
    if config.deterministic:
        # cuBLAS refuses deterministic mode without a fixed workspace (its documented setting; no effect on CPU)
        os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
        torch.use_deterministic_algorithms(True)


def _build_model(config: RunConfig, device: torch.device, info: DistInfo) -> tuple[nn.Module, nn.Module]:
    """The model (pretrained weights, partial BN, device, memory format) and what trains it (DDP or itself)."""
    try:
        model = create(config.model.name, config.model.num_classes, config.model.num_segments, **config.model.options)
    except (ValueError, TypeError) as exc:  # an unknown model name or builder option
        raise ConfigError(f"model: {exc}") from exc
    if config.model.pretrained:
        report = load_checkpoint(model, config.model.pretrained, strict=False)
        if info.is_main:
            print(
                f"pretrained weights from {config.model.pretrained} ({report.format}); not loaded:\n"
                f"{report.describe() or '  (nothing)'}"
            )
    if config.model.partial_bn:
        if not hasattr(model, "set_partial_bn"):
            raise ConfigError(f"model.partial_bn: {config.model.name} has no partial BN (only the 2D models do)")
        model.set_partial_bn(True)
    model.to(device)
    if config.channels_last:
        model.to(memory_format=torch.channels_last)
    net = (
        nn.parallel.DistributedDataParallel(model, device_ids=[info.local_rank] if device.type == "cuda" else None)
        if info.enabled
        else model
    )
    return model, net


def _build_optimizer(config: RunConfig, model: nn.Module, base_lr: float) -> torch.optim.Optimizer:
    """SGD (or AdamW) over the recipe's parameter groups (TSM/TIN's five, or one)."""
    optim = config.optim
    groups = (
        single_param_group(model, optim.weight_decay)
        if optim.param_groups == "single"
        else tin_param_groups(model, optim.weight_decay, optim.fc_lr5)
    )
    if optim.optimizer == "sgd":
        return torch.optim.SGD(groups, lr=base_lr, momentum=optim.momentum, nesterov=optim.nesterov)
    return torch.optim.AdamW(groups, lr=base_lr)


def _build_data(config: RunConfig, device: torch.device, info: DistInfo):
    """The data (resolved), both datasets with every entry decoded first, the unreadable entries data.on_error=skip
    leaves out, and this rank's training loader. Returns (data, train_set, val_set, unreadable, loader)."""
    data = resolve_data(config, info)
    train_set, val_set = build_datasets(config, data)
    # every frame (video) of both lists decoded before anything is written: broken data stops the run now, not
    # in epoch 2, and with on_error=skip the broken entries are known, so even those in dropped batches are told
    unreadable = refuse_unreadable([train_set, val_set], config.data.on_error, info, config.data.workers)
    batch = config.optim.batch_size
    loader = make_loader(
        train_set,
        batch,
        train=True,
        workers=config.data.workers,
        seed=config.seed,
        rank=info.rank,
        world_size=info.world_size,
        device=device,
    )
    if len(loader) == 0:
        raise ConfigError(
            f"{len(train_set)} training videos are fewer than one batch of {batch} x {info.world_size} processes"
        )
    return data, train_set, val_set, unreadable, loader


def set_up(config: RunConfig, device: torch.device, info: DistInfo) -> TrainingRun:
    """Seeds, data, loader, model, optimiser and schedule; then, with everything in hand, the run's folder (so a
    run refused here leaves none behind) with its ``config.yaml``."""
    out = Path(config.output_dir)
    _seed(config)
    log = Logger(out / "log.jsonl" if info.is_main else None)
    data, train_set, val_set, unreadable, loader = _build_data(config, device, info)
    model, net = _build_model(config, device, info)
    schedule = LrSchedule.of(config.optim, info.world_size, len(loader))
    run = TrainingRun(
        config=config,
        device=device,
        info=info,
        log=log,
        data=data,
        train_set=train_set,
        val_set=val_set,
        unreadable=unreadable,
        loader=loader,
        model=model,
        net=net,
        optimizer=_build_optimizer(config, model, schedule.base_lr),
        scaler=torch.amp.GradScaler(device.type, enabled=config.amp == "fp16"),
        criterion=nn.BCEWithLogitsLoss() if config.data.multi_label else nn.CrossEntropyLoss(),
        amp_dtype=AMP_DTYPES[config.amp],
        schedule=schedule,
    )
    if info.is_main:
        out.mkdir(parents=True, exist_ok=True)
        (out / FAILED).unlink(missing_ok=True)
        atomic_write_text(out / "config.yaml", dump_config(config))
    barrier(info)
    if unreadable and info.is_main:
        print(f"warning: {len(unreadable)} list entries cannot be read; data.on_error=skip leaves them out:")
        _print_entries(unreadable)
        log(event="unreadable", items=unreadable)
    return run


def resume_from_checkpoint(run: TrainingRun, resume: bool) -> ResumePoint:
    """Where to start: ``last.pth`` restored (model, optimiser, scaler, RNGs) when resuming and it exists (rank 0
    decides, every rank reads the same file), else the start."""
    if not broadcast_object(resume and run.last.is_file(), run.info):
        return ResumePoint()
    if not run.last.is_file():
        raise FileNotFoundError(f"rank {run.info.rank}: {run.last} not found; output_dir must be shared by every node")
    return _load_training_state(run.last, run.model, run.optimizer, run.scaler, run.info)


def write_checkpoint(
    run: TrainingRun, epoch: int, iteration: int | None, losses: list[float], train_loss: float | None
) -> None:
    """``last.pth`` by rank 0, with every rank's RNG states and epoch losses (``iteration`` None: epoch ``epoch``
    closed, ``train_loss`` its mean); then all ranks wait for it."""
    ranks = all_gather_objects({"rng": _rng_state(), "losses": list(losses)}, run.info)
    if run.info.is_main:
        extra = {
            "config": config_to_dict(run.config),
            "data": run.data.fingerprint,
            "class_names": run.data.class_names,
        }
        state = {"iteration": iteration, "world_size": run.info.world_size, "ranks": ranks, "train_loss": train_loss}
        save_training_state(run.last, run.model, run.optimizer, run.scaler, epoch, {**extra, **state})
    barrier(run.info)


def evaluate_epoch(run: TrainingRun, epoch: int, train_loss: float) -> dict:
    """Evaluate after epoch ``epoch`` (from 0) on the validation list; rank 0 logs it and writes
    ``metrics.json`` and the scores. Returns the evaluation (``metrics`` with ``epoch`` counted from 1)."""
    config = run.config
    result = evaluate(
        run.net, run.val_set, config.eval.batch_size, run.device, run.info, config.data.workers, run.amp_dtype
    )
    result["metrics"]["epoch"] = epoch + 1
    result["metrics"]["train_loss"] = train_loss
    if run.ends_before(epoch + 1):
        result["metrics"]["max_steps"] = config.optim.max_steps  # the run ended here (cache.finished reads it)
    if run.info.is_main:
        run.log(event="eval", **result["metrics"])
        provenance = {
            "commit": git_commit(),
            "config": config_to_dict(config),
            "data": run.data.fingerprint,
            "device": device_description(run.device),
            "views": f"{config.eval.crops}x{config.eval.clips}",
        }
        write_evaluation(run.out, result, provenance)
    return result


def _missed_evaluation(run: TrainingRun, position: ResumePoint) -> dict:
    """A run stopped between the checkpoint closing an epoch and that epoch's ``metrics.json``: evaluate now."""
    epoch = position.epoch
    if not epoch or position.iteration or position.train_loss is None or not run.evaluates_after(epoch - 1):
        return {}
    metrics_path = run.out / "metrics.json"
    done = metrics_path.is_file() and json.loads(metrics_path.read_text())["metrics"].get("epoch") == epoch
    return {} if broadcast_object(done, run.info) else evaluate_epoch(run, epoch - 1, position.train_loss)


def _announce(run: TrainingRun, position: ResumePoint) -> None:
    """One line on stdout and a ``start`` record in the log (rank 0)."""
    config, schedule, info = run.config, run.schedule, run.info
    if not info.is_main:
        return
    print(
        f"{config.name}: {config.model.name} on {device_description(run.device)}, {info.world_size} process(es); "
        f"global batch {schedule.global_batch} -> lr {schedule.base_lr:.5g} (lr {config.optim.lr} for batch "
        f"{config.optim.reference_batch}, scaled linearly); {config.optim.epochs} epochs x "
        f"{schedule.steps_per_epoch} steps, warm-up {schedule.warmup_steps} steps, {config.optim.schedule}"
        + (f"; {position.describe()}" if position.epoch or position.iteration else "")
    )
    if position.note:
        print(f"warning: {position.note}")
    run.log(
        event="start",
        global_batch=schedule.global_batch,
        lr=schedule.base_lr,
        steps_per_epoch=schedule.steps_per_epoch,
        start_epoch=position.epoch,
        start_iteration=position.iteration,
        world_size=info.world_size,
        data=run.data.fingerprint,
    )


def train_step(run: TrainingRun, batch: dict, epoch: int, i: int) -> tuple[float, float]:
    """One optimiser step on ``batch`` (iteration ``i`` of epoch ``epoch``); returns (loss, learning rate).
    Raises LossNotFiniteError naming the step and the batch's videos."""
    config, device = run.config, run.device
    step = epoch * run.schedule.steps_per_epoch + i
    lr = run.schedule.lr(step)
    for group in run.optimizer.param_groups:
        group["lr"] = lr * group["lr_mult"]
    video = batch["video"].to(device, non_blocking=True)
    if config.channels_last and video.dim() == 4:
        video = video.contiguous(memory_format=torch.channels_last)
    target = batch["label"].to(device, non_blocking=True)
    with autocast(device, run.amp_dtype):
        loss = run.criterion(run.net(video).float(), target)
    if not torch.isfinite(loss):
        raise LossNotFiniteError(
            f"loss is {loss.item()} at epoch {epoch}, step {i} (global step {step}); "
            f"videos in the batch: {batch['id']}; lower optim.lr, or check those videos"
        )
    run.optimizer.zero_grad(set_to_none=True)
    run.scaler.scale(loss).backward()
    if config.optim.clip_grad:
        run.scaler.unscale_(run.optimizer)
        nn.utils.clip_grad_norm_(run.model.parameters(), config.optim.clip_grad)
    run.scaler.step(run.optimizer)
    run.scaler.update()
    return loss.item(), lr


def train_one_epoch(run: TrainingRun, epoch: int, skip: int = 0, losses: list[float] | None = None) -> float:
    """Epoch ``epoch`` from its iteration ``skip`` (a resumed run: ``losses`` of the iterations before), with a
    mid-epoch checkpoint every ``checkpoint_every`` iterations; returns the epoch's loss averaged over ranks."""
    config, info, log = run.config, run.info, run.log
    steps_per_epoch, max_steps = run.schedule.steps_per_epoch, config.optim.max_steps
    run.train_set.set_epoch(epoch)
    run.loader.sampler.set_epoch(epoch)
    run.net.train()
    losses = list(losses or [])
    clips, started, skipped = 0, time.perf_counter(), []
    bar = tqdm(
        _remaining(run.loader, skip, config.seed) if skip else run.loader,
        initial=skip,
        total=steps_per_epoch,
        disable=not info.is_main,
        desc=f"epoch {epoch + 1}/{config.optim.epochs}",
        unit="batch",
    )
    for i, batch in enumerate(bar, start=skip):
        step = epoch * steps_per_epoch + i
        if max_steps is not None and step >= max_steps:
            break
        loss, lr = train_step(run, batch, epoch, i)
        losses.append(loss)
        clips += len(batch["video"]) * info.world_size
        rate = clips / (time.perf_counter() - started)
        bar.set_postfix(loss=f"{loss:.3f}", clips_per_s=f"{rate:.1f}")
        if i % config.log_every == 0:
            log(event="step", epoch=epoch, step=step, loss=loss, lr=lr, clips_per_s=rate)
        if batch["skipped"]:
            skipped += batch["skipped"]
            log(event="skipped", epoch=epoch, step=step, items=batch["skipped"])
        if config.checkpoint_every and (i + 1) % config.checkpoint_every == 0 and i + 1 < steps_per_epoch:
            write_checkpoint(run, epoch, i + 1, losses, None)
    train_loss = mean_over_ranks(float(np.mean(losses)), info)
    log(event="epoch", epoch=epoch, loss=train_loss, seconds=time.perf_counter() - started)
    _report_skipped(epoch, skipped, run.train_set, run.unreadable, info, log)
    return train_loss


def _train(config: RunConfig, resume: bool, device: torch.device, info: DistInfo) -> dict:
    """Set up, resume, then each epoch: train, checkpoint, evaluate when due. Returns the last metrics."""
    run = set_up(config, device, info)
    position = resume_from_checkpoint(run, resume)
    _announce(run, position)
    result = _missed_evaluation(run, position)
    for epoch in range(position.epoch, config.optim.epochs):
        if run.ends_before(epoch):
            break
        first = epoch == position.epoch
        train_loss = train_one_epoch(run, epoch, position.iteration if first else 0, position.losses if first else [])
        write_checkpoint(run, epoch, None, [], train_loss)
        if run.evaluates_after(epoch):
            result = evaluate_epoch(run, epoch, train_loss)
    return result.get("metrics", {})
