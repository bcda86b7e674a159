"""Runs in worker processes: the small scales' CPU trainings and evaluations, with pinned numerics, side by side.

Every run on the generated data on a CPU (the smoke, embedded and long scales; :func:`~.folders.runs_pinned`)
trains and evaluates in a worker process started with :func:`paperlib.engine.numerics.pinned_environment`: one
thread, ATen's AVX2 kernels, oneDNN capped at AVX2, MKL's reproducible branch, deterministic algorithms. So a
run gives the same numbers whatever ``PAPERLIB_JOBS`` is and whichever process asked for it (a notebook kernel
that had already used torch with two threads, a script, a test), and is expected to give them on another AVX2
machine with the same wheels (``python -m reproduce --verify`` checks a build against the committed numbers).

A worker is ``python -m paperlib.experiments.worker``: a fresh interpreter that imports the library, not a fork
(which would inherit the caller's initialised libraries and threads) or a spawn of the caller (which would
re-import the caller's main module: a script without an ``if __name__ == "__main__"`` guard could not survive
it). Runs go to ``jobs`` workers at a time (:func:`default_jobs`): on a small CPU, two single-thread runs side
by side finish sooner than one after the other with two threads each (measured on 2 cores, embedded recipes:
1.25x on Table 1's runs, 1.55x on MMIT's).

:func:`~.cache.train_ahead` and :func:`~.cache.evaluate_ahead` fill the run cache; the chapters' loops then find
every run done and read it in order; :func:`~.cache.run_or_load` sends a run it finds missing to one worker.
Workers write their output to ``<results_dir>/build.log`` (with one worker outside a notebook, to the terminal);
an error in a run is raised in the caller with the run's name, after the runs already started have finished.
CUDA runs and runs on real data stay in the calling process.

A worker keeps the frames it decodes (:mod:`paperlib.data.frame_cache`, up to :data:`FRAME_CACHE_MB`): its runs
read the same generated set epoch after epoch and run after run, and each frame is then decoded once per worker
(the same pixels, so the same numbers).
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import json
import os
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from ..data import frame_cache
from ..engine import numerics
from ..engine.config import config_from_dict, config_to_dict
from .folders import clock, code_hash, finished, in_notebook, progress, stamp

WORKER = "paperlib.experiments.worker"
# Decoded frames a worker keeps: the embedded Something set (train and val, 40 px) takes ~0.4 GB decoded, the
# embedded MMIT set (64 px) ~0.5 GB; with the default jobs of a 2-core machine, two workers.
FRAME_CACHE_MB = 1536


class RunFailed(RuntimeError):
    """A run failed in its worker process (the message names the run and says why)."""


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


@dataclass
class Task:
    """One call in a worker: ``function`` (``"module:name"`` in paperlib) with JSON-serialisable ``kwargs``;
    ``name`` is the run's name in progress lines and errors, ``expected`` the folder it must return."""

    name: str
    function: str
    kwargs: dict
    expected: str | None = None
    result: object = field(default=None, compare=False)


def train_task(config) -> Task:
    """The worker call that trains ``config`` into its run folder (``config.output_dir``, set by
    :func:`~.cache.run_folder`; :func:`train_here`)."""
    if not config.output_dir:
        raise ValueError(f"{config.name}: output_dir is unset (name the run's folder with cache.run_folder first)")
    kwargs = {"tree": config_to_dict(config), "code": code_hash()}
    return Task(config.name, f"{__name__}:train_here", kwargs, str(config.output_dir))


def evaluate_task(config, checkpoint: str | Path, folder: str | Path) -> Task:
    """The worker call that evaluates ``checkpoint`` into ``folder`` (named by
    :func:`~.folders.evaluation_folder`; :func:`evaluate_here`)."""
    kwargs = {"tree": config_to_dict(config), "checkpoint": str(checkpoint), "output": str(folder), "code": code_hash()}
    return Task(f"{config.name} (evaluation)", f"{__name__}:evaluate_here", kwargs, str(folder))


def run_tasks(
    tasks: list[Task],
    results_dir: str | Path,
    group: str,
    doing: str = "running",
    done_verb: str | None = "finished",
    jobs: int | None = None,
) -> list[Task]:
    """Run ``tasks`` in ``jobs`` pinned worker processes, with a progress line per finished task (none when
    ``done_verb`` is None: the caller writes its own); returns them with ``result`` filled in. The first error is
    raised (:class:`RunFailed`) once the running tasks are done; Ctrl-C stops the workers at once."""
    if not tasks:
        return tasks
    jobs = min(default_jobs() if jobs is None else jobs, len(tasks))
    if len(tasks) > 1:
        progress(results_dir, f"{group}: {doing} {len(tasks)} runs, {jobs} at a time (one thread each) ...")
    log = Path(results_dir) / "build.log" if jobs > 1 or in_notebook() else None
    started = time.perf_counter()
    with _Workers(jobs, log) as workers, concurrent.futures.ThreadPoolExecutor(jobs) as threads:
        futures = {threads.submit(workers.call, task): task for task in tasks}
        failure = None
        try:
            for count, future in enumerate(concurrent.futures.as_completed(futures), start=1):
                task = futures[future]
                try:
                    task.result, seconds = future.result()
                except concurrent.futures.CancelledError:
                    continue
                except RunFailed as exc:
                    failure = failure or exc
                    for other in futures:  # the runs not started yet are not started; the running ones finish
                        other.cancel()
                    continue
                if task.expected is not None and Path(task.result) != Path(task.expected):
                    raise RunFailed(f"{group}: the worker wrote {task.name} to {task.result}, not {task.expected}")
                if done_verb is None:
                    continue
                elapsed = time.perf_counter() - started
                where = f"{count} of {len(tasks)}; " if len(tasks) > 1 else ""
                left = f", about {clock((len(tasks) - count) * elapsed / count)} left" if len(tasks) > 1 else ""
                progress(
                    results_dir,
                    f"{group}: {done_verb} {task.name.removesuffix(' (evaluation)')} in {seconds:.0f} s "
                    f"({where}{clock(elapsed)} elapsed{left})",
                )
        except BaseException:
            workers.stop()  # Ctrl-C or an unexpected error: the workers end now (a run resumes from its checkpoint)
            raise
    if failure is not None:
        raise failure
    return tasks


def call_pinned(
    name: str, function: str, kwargs: dict, results_dir: str | Path, group: str, folder: str | Path | None = None
):
    """Run ``function`` (``"paperlib.module:name"``, JSON-serialisable ``kwargs``) once with pinned numerics: in a
    worker process, or here when this process is one already; returns its (JSON-serialisable) result. With
    ``folder`` (where the function writes a run), the folder is stamped afterwards (:func:`~.folders.stamp`), so the
    build's record finds it. For experiments beyond training and evaluation (pretraining, say)."""
    _check(function)
    if numerics.in_pinned_process():
        return call_here(function, kwargs, str(folder) if folder else None, code_hash())
    kwargs = {"function": function, "kwargs": kwargs, "folder": str(folder) if folder else None, "code": code_hash()}
    (task,) = run_tasks([Task(name, f"{__name__}:call_here", kwargs)], results_dir, group, "training", "trained", 1)
    return task.result


def call_here(function: str, kwargs: dict, folder: str | None, code: str):
    """In a worker (or a pinned process): :func:`call_pinned`'s call."""
    result = _function(function)(**kwargs)
    if folder is not None:
        stamp(folder, pinned=numerics.in_pinned_process(), code=code)
    return result


def _check(name: str) -> tuple[str, str]:
    module, _, attribute = name.partition(":")
    if not module.startswith("paperlib.") or not attribute:
        raise ValueError(f'a worker runs paperlib\'s functions only ("paperlib.module:name"), not {name!r}')
    return module, attribute


def _function(name: str):
    """``"paperlib.module:name"`` -> the function (paperlib's only)."""
    import importlib

    module, attribute = _check(name)
    return getattr(importlib.import_module(module), attribute)


def train_here(tree: dict, code: str) -> str:
    """In a worker: train the run ``tree`` describes into its ``output_dir`` (the caller's :func:`~.cache.run_folder`,
    named by the code the caller runs: ``code``), resuming it if it was interrupted, unless it is done; then
    stamps it (:func:`~.folders.stamp`). Returns the folder."""
    from ..engine.trainer import train

    config = config_from_dict(tree)
    out = Path(config.output_dir)
    if not finished(out, config.optim.epochs, config.optim.max_steps):
        train(config, resume=True)
        stamp(out, pinned=True, code=code)
    return str(out)


def evaluate_here(tree: dict, checkpoint: str, output: str, code: str) -> str:
    """In a worker: evaluate ``checkpoint`` into ``output`` (the caller's :func:`~.folders.evaluation_folder`)
    unless it is done, and stamps it (:func:`~.folders.stamp`, ``code``); returns the folder."""
    from ..evaluate import run

    config, out = config_from_dict(tree), Path(output)
    if not (out / "scores.npz").exists():
        run(Path(checkpoint), config, output=out, progress=False)
        stamp(out, pinned=True, code=code)
    return str(out)


class _Worker:
    """One ``python -m paperlib.experiments.worker`` process: tasks as JSON lines on its stdin, replies as JSON
    lines on a pipe of its own (its stdout and stderr are the log)."""

    def __init__(self, log: Path | None) -> None:
        import paperlib

        env = numerics.pinned_environment()
        package_root = str(Path(paperlib.__file__).resolve().parents[1])  # the same paperlib as the caller's
        env["PYTHONPATH"] = os.pathsep.join(p for p in (package_root, env.get("PYTHONPATH")) if p)
        read, write = os.pipe()
        sink = None
        if log is not None:
            log.parent.mkdir(parents=True, exist_ok=True)
            sink = open(log, "ab")
        try:
            self.process = subprocess.Popen(
                [sys.executable, "-m", WORKER, str(write)],
                stdin=subprocess.PIPE,
                stdout=sink,
                stderr=sink,
                env=env,
                pass_fds=(write,),
            )
        finally:
            os.close(write)
            if sink is not None:
                sink.close()
        self.replies = os.fdopen(read, "rb")

    def call(self, task: Task) -> object:
        try:
            self.process.stdin.write(json.dumps({"function": task.function, "kwargs": task.kwargs}).encode() + b"\n")
            self.process.stdin.flush()
            line = self.replies.readline()
        except (OSError, ValueError):  # the worker is gone (its pipe broken or closed)
            line = b""
        if not line:
            code = self.process.wait()
            raise RunFailed(f"{task.name}: its worker process ended (exit code {code}) before the run finished")
        reply = json.loads(line)
        if "error" in reply:
            error = reply["error"]
            raise RunFailed(f"{task.name} failed in its worker process: {error['type']}: {error['message']}")
        return reply["result"]

    def close(self, now: bool = False) -> None:
        with contextlib.suppress(OSError, ValueError):
            self.process.stdin.close()
        if now:
            self.process.terminate()
        try:
            self.process.wait(timeout=5 if now else 60)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.replies.close()


class _Workers:
    """``jobs`` workers, started lazily; :meth:`call` runs a task in an idle one (from any thread) and returns
    ``(result, seconds)``."""

    def __init__(self, jobs: int, log: Path | None) -> None:
        self.jobs, self.log = jobs, log
        self.idle: list[_Worker] = []
        self.all: list[_Worker] = []
        self.lock = threading.Lock()
        self.stopped = False

    def __enter__(self) -> _Workers:
        return self

    def __exit__(self, *exc) -> None:
        self.stop(now=exc[0] is not None)

    def _take(self) -> _Worker:
        with self.lock:
            if self.stopped:
                raise RunFailed("stopped")
            if self.idle:
                return self.idle.pop()
            worker = _Worker(self.log)
            self.all.append(worker)
            return worker

    def call(self, task: Task) -> tuple[object, float]:
        worker = self._take()
        started = time.perf_counter()
        result = worker.call(task)
        with self.lock:
            self.idle.append(worker)
        return result, time.perf_counter() - started

    def stop(self, now: bool = True) -> None:
        with self.lock:
            if self.stopped:
                return
            self.stopped = True
            workers = list(self.all)
        for worker in workers:
            worker.close(now)


def worker_main(reply_fd: int) -> int:
    """The worker's loop: settle the numerics, then run each task read from stdin and reply on ``reply_fd``."""
    import traceback

    numerics.settle()
    frame_cache.enable(FRAME_CACHE_MB)
    facts = numerics.report()
    for problem in numerics.problems(facts):
        print(f"paperlib worker: numerics not pinned: {problem}", file=sys.stderr, flush=True)
    with os.fdopen(reply_fd, "w") as replies:
        for line in sys.stdin:
            task = json.loads(line)
            try:
                reply = {"result": _function(task["function"])(**task["kwargs"])}
            except BaseException as exc:  # noqa: BLE001 - every failure goes back to the caller, named
                traceback.print_exc()
                reply = {"error": {"type": type(exc).__name__, "message": str(exc)}}
                sys.stderr.flush()
            replies.write(json.dumps(reply) + "\n")
            replies.flush()
            if "error" in reply and reply["error"]["type"] == "KeyboardInterrupt":
                return 130
    return 0
