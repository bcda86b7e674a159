"""The run cache: training runs and checkpoint evaluations, each done once per distinct input (code
version, configuration, data identity), shared by every chapter.

A run's folder is ``<results_dir>/<group>/<name>-<key>``; it counts as done when its ``metrics.json``
exists (written last, atomically). An unchanged rerun therefore reuses it, and any change of code,
configuration or data starts a new folder.

A run on the generated data on a CPU (:func:`runs_pinned`) trains and evaluates in a worker process with pinned
numerics (:mod:`.parallel`): one thread, deterministic algorithms, the CPU libraries' reproducible settings, so
it gives the same numbers whoever asks for it and on any x86-64 machine with AVX2.
"""

from __future__ import annotations

import contextlib
import os
import time
from dataclasses import dataclass, field
from pathlib import Path

from ..engine.config import check_pretrained, config_to_dict, imagenet_file
from ..engine.numerics import in_pinned_process
from . import trial
from .folders import (
    build_log,
    clock,
    evaluation_folder,
    file_digest,
    finished,
    in_notebook,
    input_key,
    list_digests,
    progress,
    runs_pinned,
    stamp,
)
from .parallel import evaluate_task, run_tasks, train_task


def run_folder(config, results_dir: str | Path, data_root: str | None, group: str = "table1") -> Path:
    """The folder ``<results_dir>/<group>/<name>-<input hash>`` of a training run (set as ``config.output_dir``)."""
    trial.apply(config)  # a trial of the full route: a few iterations, a handful of videos (nothing when off)
    if (config.model.pretrained or "").lower() == "imagenet" and config.data.root is None:
        from .pretrain import backbone_for  # the embedded data: the embedded ImageNet's backbone of this layout

        config.model.pretrained = str(backbone_for(config, results_dir))
    if (config.model.pretrained or "").lower() == "imagenet" and os.environ.get("PAPERLIB_IMAGENET"):
        # the folder holding torchvision's ImageNet files (python -m reproduce --imagenet DIR)
        config.model.pretrained = str(Path(os.environ["PAPERLIB_IMAGENET"]) / imagenet_file(config.model.name))
    check_pretrained(config)  # a recipe that starts from ImageNet stops here, before training, naming the file
    if runs_pinned(config):
        config.deterministic = True  # as it runs (paperlib.engine.numerics), so its record says so
    inputs = config_to_dict(config)
    inputs.pop("output_dir")  # where a run is written is not one of its inputs (and is set below)
    if config.model.pretrained:  # a checkpoint's identity: its run folder (named by its inputs) or its bytes
        start = Path(config.model.pretrained).resolve()
        inside = start.is_relative_to(Path(results_dir).resolve())
        inputs["model"]["pretrained"] = start.parent.name if inside else file_digest(start)
    out = Path(results_dir) / group / f"{config.name}-{input_key(**inputs, **list_digests(config, data_root))}"
    config.output_dir = str(out)  # also when cached: later steps (evaluation keys) see the same configuration
    return out


def run_or_load(config, results_dir: str | Path, data_root: str | None, group: str = "table1") -> Path:
    """Train once per distinct input; returns the run folder (:func:`run_folder`: ``metrics.json``,
    ``scores.npz``, ``last.pth``)."""
    from ..engine.trainer import train

    out = run_folder(config, results_dir, data_root, group)
    counted = _PLAN.step() if _PLAN is not None else ""
    if not finished(out, config.optim.epochs, config.optim.max_steps):
        started = time.perf_counter()
        length = f"{config.optim.max_steps} steps" if config.optim.max_steps else f"{config.optim.epochs} epochs"
        progress(results_dir, f"{group}: {counted}training {config.name} ({length}) ...")
        if runs_pinned(config) and not in_pinned_process():  # in a worker process, with pinned numerics
            task = train_task(config)
            run_tasks([task], results_dir, group, done_verb=None, jobs=1)
        else:
            with _to_log(results_dir):
                train(config, resume=True)  # a run interrupted earlier continues from its last epoch
            stamp(out, pinned=False)
        seconds = time.perf_counter() - started
        estimate = _PLAN.done(seconds) if _PLAN is not None else ""
        progress(results_dir, f"{group}: trained {config.name} in {seconds:.0f} s{estimate}")
    elif counted:
        progress(results_dir, f"{group}: {counted}{config.name} cached")
    return out


def evaluate_or_load(
    config, checkpoint: Path, results_dir: str | Path, data_root: str | None, group: str = "table1"
) -> Path:
    """Evaluate a given checkpoint once per distinct input (its bytes, the configuration, the data's lists);
    returns :func:`evaluation_folder` (``metrics.json``, ``scores.npz``)."""
    from ..evaluate import run

    out = evaluation_folder(config, checkpoint, results_dir, data_root, group)
    if not (out / "scores.npz").exists():
        progress(results_dir, f"{group}: evaluating {config.name} ...")
        if runs_pinned(config) and not in_pinned_process():  # in a worker process, as its training
            task = evaluate_task(config, checkpoint, out)
            run_tasks([task], results_dir, group, done_verb=None, jobs=1)
        else:
            with _to_log(results_dir):
                run(checkpoint, config, output=out, progress=False)
            stamp(out, pinned=False)
    return out


@contextlib.contextmanager
def _to_log(results_dir: str | Path):
    """In a notebook kernel (which captures even the process's own stdout/stderr into the page), send training
    logs and progress bars to ``<results_dir>/build.log`` instead; elsewhere (a terminal), change nothing."""
    if not in_notebook():
        yield
        return
    with build_log(results_dir) as log, contextlib.redirect_stdout(log), contextlib.redirect_stderr(log):
        yield


@dataclass
class _Plan:
    group: str
    total: int
    index: int = 0
    started: float = field(default_factory=time.perf_counter)
    trained: list[float] = field(default_factory=list)

    def step(self) -> str:
        self.index += 1
        return f"run {self.index} of {self.total}, "

    def done(self, seconds: float) -> str:
        self.trained.append(seconds)
        left = (self.total - self.index) * sum(self.trained) / len(self.trained)
        return f"; {clock(time.perf_counter() - self.started)} elapsed, about {clock(left)} left"


_PLAN: _Plan | None = None


@contextlib.contextmanager
def planned(group: str, total: int):
    """Number the runs of one experiment in its progress lines ("run 3 of 30"), with the time elapsed and an
    estimate of the time left (the mean time of the runs trained so far, times the runs still to check)."""
    global _PLAN
    _PLAN = _Plan(group, total)
    try:
        yield
    finally:
        _PLAN = None


def train_ahead(configs: list, results_dir: str | Path, data_root: str | None, group: str, jobs: int | None = None):
    """Train the pinned runs of ``configs`` (:func:`~.folders.runs_pinned`) that are not cached yet, ``jobs`` at a
    time (:func:`~.parallel.default_jobs`). Other runs (CUDA, real data) are left to :func:`run_or_load`."""
    tasks = []
    for config in configs:
        folder = run_folder(config, results_dir, data_root, group)
        if runs_pinned(config) and not finished(folder, config.optim.epochs, config.optim.max_steps):
            tasks.append(train_task(config))
    run_tasks(tasks, results_dir, group, "training", "trained", jobs)


def evaluate_ahead(
    pairs: list[tuple], results_dir: str | Path, data_root: str | None, group: str, jobs: int | None = None
):
    """Evaluate the pinned ``(config, checkpoint)`` pairs that are not cached yet, ``jobs`` at a time (as
    :func:`train_ahead`; :func:`evaluate_or_load` reads them afterwards). A checkpoint not trained yet
    is left to the caller."""
    tasks = []
    for config, checkpoint in pairs:
        if not Path(checkpoint).is_file() or not runs_pinned(config):
            continue
        folder = evaluation_folder(config, checkpoint, results_dir, data_root, group)
        if not (folder / "scores.npz").exists():
            tasks.append(evaluate_task(config, checkpoint, folder))
    run_tasks(tasks, results_dir, group, "evaluating", "evaluated", jobs)
