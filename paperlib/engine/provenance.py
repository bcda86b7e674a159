"""Where a result came from: code version, configuration, data, checkpoint, machine."""

from __future__ import annotations

import os
import platform
import subprocess
from pathlib import Path

import torch


def git_commit(cwd: str | os.PathLike | None = None) -> str | None:
    """The checked-out commit (with ``+dirty`` if the tree has uncommitted changes), or None outside git."""
    cwd = cwd or Path(__file__).resolve().parents[2]
    try:
        commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=cwd, capture_output=True, text=True, timeout=10)
        if commit.returncode != 0:
            return None
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=cwd,
            capture_output=True,
            text=True,
            timeout=10,
        ).stdout.strip()
        return commit.stdout.strip() + ("+dirty" if dirty else "")
    except (OSError, subprocess.TimeoutExpired):
        return None


def cpu_model() -> str:
    """The CPU's model name (``/proc/cpuinfo``, else the platform's), with "AVX-512" where it has it: pinned runs
    cap their kernels at AVX2, and still differ in their last bits between such machines (measured: an AMD EPYC
    with AVX2 and an Intel Xeon with AVX-512, see paperlib.engine.numerics)."""
    try:
        info = Path("/proc/cpuinfo").read_text()
    except OSError:
        return platform.processor() or platform.machine()
    name = next((ln.split(":", 1)[1].strip() for ln in info.splitlines() if ln.startswith("model name")), None)
    flags = next((ln.split(":", 1)[1].split() for ln in info.splitlines() if ln.startswith("flags")), [])
    name = name or platform.processor() or platform.machine()
    return f"{name}, AVX-512" if "avx512f" in flags else name


def device_description(device: torch.device) -> str:
    if device.type == "cuda":
        return f"{torch.cuda.get_device_name(device)} (CUDA {torch.version.cuda})"
    return f"CPU {platform.processor() or platform.machine()}, {torch.get_num_threads()} threads"
