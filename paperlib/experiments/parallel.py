"""Side-by-side runs: the small scales' trainings and evaluations, several at a time on a CPU.

On a small CPU, two single-thread runs side by side finish sooner than the same runs one after the other with two
threads each: the small models' layers are too small to keep two threads busy, and video decoding is
single-threaded anyway. Measured on 2 cores (the embedded recipes): 1.25x on Table 1's runs, 1.55x on MMIT's.

:func:`train_ahead` and :func:`evaluate_ahead` fill the run cache (:mod:`.cache`); the chapters' loops then find
every run done and read it in order. A run's numbers depend on the thread count it ran with (one, here), not on
which runs shared the machine. Workers write their output to ``<results_dir>/build.log``; an error in any run
stops the others and is raised in the caller.
"""

from __future__ import annotations

import concurrent.futures
import copy
import multiprocessing
import os
import sys
import time
from pathlib import Path

from ..engine.config import config_from_dict, config_to_dict
from .cache import clock, evaluate_or_load, evaluation_folder, finished, progress, run_folder, run_or_load


def default_jobs() -> int:
    """How many runs go side by side: ``$PAPERLIB_JOBS`` if set, else one per CPU core (at most 4) on a machine
    without CUDA, and 1 with CUDA (the runs would share one GPU)."""
    if os.environ.get("PAPERLIB_JOBS"):
        text = os.environ["PAPERLIB_JOBS"]
        if not text.strip().isdigit() or int(text) < 1:
            raise ValueError(f"PAPERLIB_JOBS={text!r}: expected a whole number of at least 1")
        return int(text)
    import torch

    return 1 if torch.cuda.is_available() else max(1, min(4, os.cpu_count() or 1))


def train_ahead(configs: list, results_dir: str | Path, data_root: str | None, group: str, jobs: int | None = None):
    """Train the runs of ``configs`` that are not cached yet, ``jobs`` at a time (:func:`default_jobs`). With one
    job, or fewer than two runs to train, nothing happens here (:func:`~.cache.run_or_load` trains them)."""
    tasks = {}
    for config in configs:
        folder = run_folder(copy.deepcopy(config), results_dir, data_root, group)
        if not finished(folder, config.optim.epochs):
            tasks[folder] = (_train, (config_to_dict(config), str(results_dir), data_root, group))
    _side_by_side(tasks, results_dir, group, "training", "trained", jobs)


def evaluate_ahead(
    pairs: list[tuple], results_dir: str | Path, data_root: str | None, group: str, jobs: int | None = None
):
    """Evaluate the ``(config, checkpoint)`` pairs that are not cached yet, ``jobs`` at a time (as
    :func:`train_ahead`; :func:`~.cache.evaluate_or_load` reads them afterwards). A checkpoint not trained yet
    is left to the caller."""
    tasks = {}
    for config, checkpoint in pairs:
        if not Path(checkpoint).is_file():
            continue
        folder = evaluation_folder(config, checkpoint, results_dir, data_root, group)
        if not (folder / "scores.npz").exists():
            tasks[folder] = (_evaluate, (config_to_dict(config), str(checkpoint), str(results_dir), data_root, group))
    _side_by_side(tasks, results_dir, group, "evaluating", "evaluated", jobs)


def _side_by_side(tasks: dict, results_dir, group: str, doing: str, done_verb: str, jobs: int | None) -> None:
    """Run ``{expected folder: (function, args)}`` in ``jobs`` forked worker processes, with progress lines."""
    jobs = default_jobs() if jobs is None else jobs
    if jobs < 2 or len(tasks) < 2 or "fork" not in multiprocessing.get_all_start_methods():
        return
    jobs = min(jobs, len(tasks))
    log = Path(results_dir) / "build.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    progress(results_dir, f"{group}: {doing} {len(tasks)} runs, {jobs} at a time (one thread each) ...")
    started = time.perf_counter()
    # fork, as DataLoader workers do: spawn would re-import the caller's main module, which a script without an
    # `if __name__ == "__main__"` guard cannot survive
    context = multiprocessing.get_context("fork")
    with concurrent.futures.ProcessPoolExecutor(
        jobs, mp_context=context, initializer=_start, initargs=(str(log),)
    ) as pool:
        futures = {pool.submit(function, *args): folder for folder, (function, args) in tasks.items()}
        try:
            for count, future in enumerate(concurrent.futures.as_completed(futures), start=1):
                out, seconds = future.result()
                if Path(out) != futures[future]:
                    raise RuntimeError(f"{group}: a worker wrote {out}, expected {futures[future]}")
                elapsed = time.perf_counter() - started
                name = Path(out).name.rsplit("-", 1)[0].removesuffix("-eval")
                progress(
                    results_dir,
                    f"{group}: {done_verb} {name} in {seconds:.0f} s ({count} of {len(tasks)}; {clock(elapsed)} "
                    f"elapsed, about {clock((len(tasks) - count) * elapsed / count)} left)",
                )
        except BaseException:
            pool.shutdown(wait=True, cancel_futures=True)
            raise


def _start(log: str) -> None:
    """A worker: one thread; its output, Python's and native, appended to ``log`` (never through a notebook
    kernel's output streams, which the fork copied)."""
    import torch

    torch.set_num_threads(1)
    sink = os.open(log, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    os.dup2(sink, 1)
    os.dup2(sink, 2)
    os.close(sink)
    sys.stdout = sys.stderr = open(1, "w", buffering=1, closefd=False)


def _train(tree: dict, results_dir: str, data_root: str | None, group: str) -> tuple[str, float]:
    started = time.perf_counter()
    out = run_or_load(config_from_dict(tree), results_dir, data_root, group)
    return str(out), time.perf_counter() - started


def _evaluate(tree: dict, checkpoint: str, results_dir: str, data_root: str | None, group: str) -> tuple[str, float]:
    started = time.perf_counter()
    out = evaluate_or_load(config_from_dict(tree), Path(checkpoint), results_dir, data_root, group)
    return str(out), time.perf_counter() - started
