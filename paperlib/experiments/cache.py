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
import functools
import hashlib
import json
import os
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from ..engine.config import check_pretrained, config_to_dict, imagenet_file
from ..engine.numerics import in_pinned_process
from ..ops._extension import CSRC
from ..utils import atomic_write_text, sha256_file, sha256_json
from . import trial

PACKAGE = Path(__file__).resolve().parents[1]


@functools.cache
def code_hash() -> str:
    """sha256 (16 hex digits) over the package's Python sources and the kernel sources (named
    ``paperlib/...`` and ``csrc/...``, the same in a checkout and in an installed wheel)."""
    digest = hashlib.sha256()
    python = [(p.relative_to(PACKAGE.parent).as_posix(), p) for p in sorted(PACKAGE.rglob("*.py"))]
    kernels = [("csrc/" + p.relative_to(CSRC).as_posix(), p) for p in sorted(CSRC.rglob("*")) if p.is_file()]
    for name, path in python + kernels:
        digest.update(name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def input_key(**inputs) -> str:
    """A short hash of JSON-serialisable inputs plus the code hash."""
    return sha256_json({"code": code_hash(), **inputs}, length=12)


def file_digest(*paths: str | Path) -> str:
    """sha256 (16 hex digits) over the files' bytes, in order. Remembered per (path, size, mtime) within a
    process, so a checkpoint scored on several splits and views is read and hashed once."""
    stats = tuple((str(Path(p).resolve()), s.st_size, s.st_mtime_ns) for p in paths for s in [Path(p).stat()])
    return _digest(stats)


@functools.lru_cache(maxsize=256)
def _digest(stats: tuple[tuple[str, int, int], ...]) -> str:
    return sha256_file(*(path for path, _, _ in stats), length=16)


def find_first(folder: str | Path, candidates: list[str]) -> Path | None:
    """The first of ``candidates`` (paths relative to ``folder``) that is a file; None if none is.
    Raises FileNotFoundError naming ``folder`` if it is not a folder."""
    root = Path(folder)
    if not root.is_dir():
        raise FileNotFoundError(f"checkpoints: {root} is not a folder")
    return next((root / c for c in candidates if (root / c).is_file()), None)


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
    out = Path(results_dir) / group / f"{config.name}-{input_key(**inputs, **_lists(config, data_root))}"
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
            from .parallel import run_tasks, train_task

            task = train_task(config, results_dir, data_root, group)
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


def _lists(config, data_root: str | None) -> dict:
    """The identity of real data in a cache key: its list files' bytes (the embedded data is named by the
    configuration itself)."""
    if data_root is None:
        return {}
    root = Path(data_root)
    return {"lists": file_digest(root / config.data.train_list, root / config.data.val_list)}


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
            from .parallel import evaluate_task, run_tasks

            task = evaluate_task(config, checkpoint, results_dir, data_root, group)
            run_tasks([task], results_dir, group, done_verb=None, jobs=1)
        else:
            with _to_log(results_dir):
                run(checkpoint, config, output=out, progress=False)
            stamp(out, pinned=False)
    return out


def runs_pinned(config) -> bool:
    """Whether a run trains and evaluates in a worker process with pinned numerics (:mod:`.parallel`,
    :mod:`paperlib.engine.numerics`): a run on the generated data (``data.root`` unset: the smoke, embedded and
    long scales) on a CPU (``device`` cpu, or auto on a machine without CUDA)."""
    if config.data.root is not None or config.device == "cuda":
        return False
    if config.device == "cpu":
        return True
    import torch

    return not torch.cuda.is_available()


STAMP = "numerics.json"  # in a run's folder: the code hash that named it, and what the process computed with


def stamp(folder: str | Path, pinned: bool, code: str | None = None) -> None:
    """Leave :data:`STAMP` in a finished run's folder: ``code`` (default :func:`code_hash`; a worker is given its
    caller's), whether it ran with pinned numerics and :func:`paperlib.engine.numerics.report`. The build's record
    (:mod:`.verify`) takes the runs stamped with the current code hash, not older runs left in the folder."""
    from ..engine.numerics import report

    record = {"code_hash": code or code_hash(), "pinned": pinned, **report()}
    atomic_write_text(Path(folder) / STAMP, json.dumps(record, indent=1) + "\n")


def evaluation_folder(
    config, checkpoint: Path, results_dir: str | Path, data_root: str | None, group: str = "table1"
) -> Path:
    """The folder ``<results_dir>/<group>/<name>-eval-<input hash>`` of a checkpoint's evaluation."""
    trial.apply(config)  # as run_folder
    # What decides the scores: the checkpoint's bytes (the model), the data and the test protocol; not where
    # or how the checkpoint was trained (model.num_classes, for one, is only filled in by a training run).
    settings = config_to_dict(config)
    inputs = {
        "checkpoint": file_digest(checkpoint),
        "data": settings["data"],
        "eval": settings["eval"],
        "device": settings["device"],
        "amp": settings.get("amp"),
        **_lists(config, data_root),
    }
    return Path(results_dir) / group / f"{config.name}-eval-{input_key(**inputs)}"


def finished(out: Path, epochs: int, max_steps: int | None = None) -> bool:
    """metrics.json is rewritten after every evaluation: the run is done when it reports the last epoch (or, with
    ``optim.max_steps``, that it stopped there)."""
    path = out / "metrics.json"
    if not path.exists():
        return False
    metrics = json.loads(path.read_text())["metrics"]
    return metrics.get("epoch") == epochs or (max_steps is not None and metrics.get("max_steps") == max_steps)


def _in_notebook() -> bool:
    return "ipykernel" in sys.modules


@contextlib.contextmanager
def _to_log(results_dir: str | Path):
    """In a notebook kernel (which captures even the process's own stdout/stderr into the page), send training
    logs and progress bars to ``<results_dir>/build.log`` instead; elsewhere (a terminal), change nothing."""
    if not _in_notebook():
        yield
        return
    with _build_log(results_dir) as log, contextlib.redirect_stdout(log), contextlib.redirect_stderr(log):
        yield


def progress(results_dir: str | Path, line: str) -> None:
    """One progress line on the terminal; from a notebook kernel also into ``<results_dir>/build.log``. A kernel's
    ``sys.stderr.fileno()`` is its copy of the terminal's stderr (the ``jupyter-book``/``papermill`` process it
    was started from), so the line reaches the person building the book but not the page."""
    stamped = f"{time.strftime('%H:%M:%S')} {line}"
    if not _in_notebook():
        print(line, file=sys.stderr, flush=True)
        return
    with _build_log(results_dir) as log:
        print(stamped, file=log, flush=True)
    with contextlib.suppress(OSError, ValueError, AttributeError):
        os.write(sys.stderr.fileno(), f"paperlib {stamped}\n".encode())


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


def clock(seconds: float) -> str:
    return f"{int(seconds) // 60}:{int(seconds) % 60:02d}"


def _build_log(results_dir: str | Path):
    """``<results_dir>/build.log``, opened for appending (the folder made if needed)."""
    Path(results_dir).mkdir(parents=True, exist_ok=True)
    return open(Path(results_dir) / "build.log", "a")
