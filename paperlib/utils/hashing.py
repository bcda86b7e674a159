"""sha256 of files and of JSON-serialisable values: the one place the project hashes anything."""

from __future__ import annotations

import hashlib
import json
import os


def sha256_file(*paths: str | os.PathLike, length: int | None = None) -> str:
    """Hex sha256 over the files' bytes, in order (read in 1 MiB chunks); the first ``length`` digits if given."""
    digest = hashlib.sha256()
    for path in paths:
        with open(path, "rb") as f:
            for chunk in iter(lambda: f.read(1 << 20), b""):
                digest.update(chunk)
    return digest.hexdigest()[:length]


def sha256_json(value, length: int | None = None) -> str:
    """Hex sha256 of ``value`` as canonical JSON (sorted keys; ``str`` for what JSON cannot hold)."""
    payload = json.dumps(value, sort_keys=True, default=str).encode()
    return hashlib.sha256(payload).hexdigest()[:length]
