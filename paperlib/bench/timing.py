"""Median wall time of a callable on CPU or CUDA, with the last-level cache flushed before each run."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable

import torch


class Timer:
    """Times callables on one device. ``flush_bytes`` of scratch memory is overwritten before every
    timed call so that small tensors are not served from cache (H100/H200 L2 is ~50 MB; CPU L3 ~32 MB)."""

    def __init__(
        self,
        device: torch.device,
        flush_bytes: int = 256 << 20,
        budget_s: float = 1.0,
        min_reps: int = 3,
        max_reps: int = 50,
    ) -> None:
        self.device = device
        self.budget_s, self.min_reps, self.max_reps = budget_s, min_reps, max_reps
        self._scratch = torch.empty(flush_bytes // 4, dtype=torch.float32, device=device)

    def _sync(self) -> None:
        if self.device.type == "cuda":
            torch.cuda.synchronize(self.device)

    def median(self, fn: Callable[[], object], warmup: int = 2) -> float:
        """Median seconds of ``fn()`` over at least ``min_reps`` runs (more while under ``budget_s``)."""
        for _ in range(warmup):
            fn()
        times: list[float] = []
        while len(times) < self.min_reps or (sum(times) < self.budget_s and len(times) < self.max_reps):
            self._scratch.fill_(len(times))
            if self.device.type == "cuda":
                start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
                start.record()
                fn()
                end.record()
                end.synchronize()
                times.append(start.elapsed_time(end) / 1e3)
            else:
                self._sync()
                t0 = time.perf_counter()
                fn()
                times.append(time.perf_counter() - t0)
        return statistics.median(times)
