"""Where the run cache keeps runs, and how it names them: the code hash, input keys, evaluation folders, the
``numerics.json`` stamp, when a run is done, and the build's progress lines. The bottom of the cache: the worker
processes (:mod:`.parallel`), the pretraining (:mod:`.pretrain`) and the cache itself (:mod:`.cache`) build on it.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import os
import sys
import time
from pathlib import Path

from ..engine.config import config_to_dict
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


def list_digests(config, data_root: str | None) -> dict:
    """The identity of real data in a cache key: its list files' bytes (the embedded data is named by the
    configuration itself)."""
    if data_root is None:
        return {}
    root = Path(data_root)
    return {"lists": file_digest(root / config.data.train_list, root / config.data.val_list)}


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
        **list_digests(config, data_root),
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


def in_notebook() -> bool:
    return "ipykernel" in sys.modules


def progress(results_dir: str | Path, line: str) -> None:
    """One progress line on the terminal; from a notebook kernel also into ``<results_dir>/build.log``. A kernel's
    ``sys.stderr.fileno()`` is its copy of the terminal's stderr (the ``jupyter-book``/``papermill`` process it
    was started from), so the line reaches the person building the book but not the page."""
    stamped = f"{time.strftime('%H:%M:%S')} {line}"
    if not in_notebook():
        print(line, file=sys.stderr, flush=True)
        return
    with build_log(results_dir) as log:
        print(stamped, file=log, flush=True)
    with contextlib.suppress(OSError, ValueError, AttributeError):
        os.write(sys.stderr.fileno(), f"paperlib {stamped}\n".encode())


def clock(seconds: float) -> str:
    return f"{int(seconds) // 60}:{int(seconds) % 60:02d}"


def build_log(results_dir: str | Path):
    """``<results_dir>/build.log``, opened for appending (the folder made if needed)."""
    Path(results_dir).mkdir(parents=True, exist_ok=True)
    return open(Path(results_dir) / "build.log", "a")
