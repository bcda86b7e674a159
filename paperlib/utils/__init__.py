"""Small shared helpers."""

from .hashing import sha256_file, sha256_json
from .io import atomic_write_bytes, atomic_write_text

__all__ = ["atomic_write_bytes", "atomic_write_text", "sha256_file", "sha256_json"]
