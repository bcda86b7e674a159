"""Results cached by a hash of their inputs: code version, parameters and data identity.

A run's folder is ``<results_dir>/<group>/<name>-<key>``; it counts as done when its ``metrics.json``
exists (written last, atomically). An unchanged rerun therefore reuses it, and any change of code,
configuration or data starts a new folder.
"""

from __future__ import annotations

import functools
import hashlib
import json
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1]
CSRC = PACKAGE / "csrc"


@functools.cache
def code_hash() -> str:
    """sha256 (16 hex digits) over the package's Python sources and the kernel sources."""
    digest = hashlib.sha256()
    files = sorted(PACKAGE.rglob("*.py")) + sorted(p for p in CSRC.rglob("*") if p.is_file())
    for path in files:
        digest.update(str(path.relative_to(PACKAGE.parent)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def input_key(**inputs) -> str:
    """A short hash of JSON-serialisable inputs plus the code hash."""
    payload = json.dumps({"code": code_hash(), **inputs}, sort_keys=True, default=str)
    return hashlib.sha256(payload.encode()).hexdigest()[:12]


def file_digest(*paths: str | Path) -> str:
    """sha256 (16 hex digits) over the files' bytes, in order. Remembered per (path, size, mtime) within a
    process, so a checkpoint scored on several splits and views is read and hashed once."""
    stats = tuple((str(Path(p).resolve()), s.st_size, s.st_mtime_ns) for p in paths for s in [Path(p).stat()])
    return _digest(stats)


@functools.lru_cache(maxsize=256)
def _digest(stats: tuple[tuple[str, int, int], ...]) -> str:
    digest = hashlib.sha256()
    for path, _, _ in stats:
        digest.update(Path(path).read_bytes())
    return digest.hexdigest()[:16]


def find_first(folder: str | Path, candidates: list[str]) -> Path | None:
    """The first of ``candidates`` (paths relative to ``folder``) that is a file; None if none is.
    Raises FileNotFoundError naming ``folder`` if it is not a folder."""
    root = Path(folder)
    if not root.is_dir():
        raise FileNotFoundError(f"checkpoints: {root} is not a folder")
    return next((root / c for c in candidates if (root / c).is_file()), None)
