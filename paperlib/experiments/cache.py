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
CSRC = PACKAGE.parent / "csrc"


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
    digest = hashlib.sha256()
    for path in paths:
        digest.update(Path(path).read_bytes())
    return digest.hexdigest()[:16]
