"""Pinned numerics: the settings under which a CPU run gives the same numbers on any x86-64 machine with AVX2.

A CPU run's numbers depend on more than its seed. The thread count decides how sums are split; ATen picks its
vectorised kernels by the CPU's instruction set (AVX2 or AVX-512 lanes sum in different orders); oneDNN (the
convolutions) picks its kernels the same way; MKL (the linear layers) has a different code path per CPU vendor
and instruction set. Measured on a 2-core AMD EPYC (Zen 3, AVX2), 20 training steps of the embedded TSM
(``paperlib.bench.calibrate``): 2 threads instead of 1, ATen's ``default`` kernels instead of ``avx2``, oneDNN
capped at SSE4.1 and MKL's ``COMPATIBLE`` path each give different weights after the first steps.

:data:`PINNED_ENV` fixes all of them. The libraries read these variables once, when they initialise, so they
only act in a process started with them: :func:`pinned_environment` gives a child process's environment
(:mod:`paperlib.experiments.parallel` starts the small scales' runs that way), and :func:`settle` makes the
rest of the settings (one intra-op and one inter-op thread, deterministic algorithms) in that process.

- ``OMP_NUM_THREADS``, ``MKL_NUM_THREADS``, ``OPENBLAS_NUM_THREADS`` = 1 (and ``torch.set_num_threads(1)``):
  one thread, whatever the machine or ``PAPERLIB_JOBS``.
- ``ATEN_CPU_CAPABILITY=avx2``: ATen's AVX2 kernels, also on a machine with AVX-512.
- ``ONEDNN_MAX_CPU_ISA=AVX2``: oneDNN's kernels capped at AVX2.
- ``MKL_CBWR=COMPATIBLE``: MKL's conditional numerical reproducibility, on its one branch that gives the same
  results on Intel and non-Intel CPUs (oneMKL developer guide, "Getting Started with Conditional Numerical
  Reproducibility": the ``AVX2`` branch is only guaranteed across Intel CPUs).
- ``NPY_DISABLE_CPU_FEATURES``: numpy without its AVX-512 kernels (the generated data is drawn with numpy).
- ``torch.use_deterministic_algorithms(True)``: an op without a deterministic implementation is an error.

What is not pinned: oneDNN has no reproducibility mode, and may block its loops by the cache sizes it detects;
the C library's ``exp``/``log`` differ between glibc versions. So the pins give the same bits on one machine in
every process, whatever ``PAPERLIB_JOBS`` is, but not across CPUs: measured with the same wheels, the pinned
reference workload ends with other weights on an Intel Xeon with AVX-512 (8b87dab6) than on an AMD EPYC with AVX2
(f898a7dc), and no setting of ``paperlib.bench numerics`` gave the two machines the same bits
(``benchmarks/results/numerics_bits_cpu_*.json``); whole runs then differ too (Table 1's TSN at seed 0: 26.75 %
top-1 on the Xeon, 28.75 % on the EPYC, the same commit). ``python -m reproduce --verify`` shows by how much.
"""

from __future__ import annotations

import os

PINNED_ENV = {
    "OMP_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
    "OPENBLAS_NUM_THREADS": "1",
    "ATEN_CPU_CAPABILITY": "avx2",
    "ONEDNN_MAX_CPU_ISA": "AVX2",
    "MKL_CBWR": "COMPATIBLE",
    "NPY_DISABLE_CPU_FEATURES": "X86_V4 AVX512_ICL AVX512_SPR",
}
MARK = "PAPERLIB_PINNED"  # set to 1 in a pinned process (so it runs its work itself instead of starting another)
CAPABILITY = "AVX2"  # what torch.backends.cpu.get_cpu_capability() reports in a pinned process on an AVX2 CPU


def pinned_environment(base: dict[str, str] | None = None) -> dict[str, str]:
    """``base`` (default: this process's environment) with :data:`PINNED_ENV` and the mark of a pinned process."""
    return {**(os.environ if base is None else base), **PINNED_ENV, MARK: "1"}


def in_pinned_process() -> bool:
    """True in a process started with :func:`pinned_environment` (every setting still in place)."""
    return os.environ.get(MARK) == "1" and all(os.environ.get(k) == v for k, v in PINNED_ENV.items())


def settle() -> None:
    """The settings made in the process itself, once torch is imported: one thread, deterministic algorithms."""
    import torch

    torch.set_num_threads(1)
    try:
        torch.set_num_interop_threads(1)
    except RuntimeError:  # only settable before the first parallel work; then it stays as it was
        pass
    torch.use_deterministic_algorithms(True)


def report() -> dict:
    """What this process runs with: torch's CPU capability, threads, determinism and the pinned variables."""
    import torch

    return {
        "cpu_capability": torch.backends.cpu.get_cpu_capability(),
        "threads": torch.get_num_threads(),
        "deterministic": torch.are_deterministic_algorithms_enabled(),
        "onednn": torch.backends.mkldnn.is_available() and torch.backends.mkldnn.enabled,
        "torch": torch.__version__,
        "environment": {k: os.environ.get(k) for k in PINNED_ENV},
    }


def problems(facts: dict) -> list[str]:
    """Why a run with :func:`report`'s ``facts`` may not give the committed numbers (empty: pinned as intended)."""
    found = []
    if facts["cpu_capability"] != CAPABILITY:
        found.append(
            f"torch runs its {facts['cpu_capability']} CPU kernels, not {CAPABILITY} (a CPU without AVX2?): "
            "the numbers may differ from those of an AVX2 machine"
        )
    if facts["threads"] != 1:
        found.append(f"{facts['threads']} threads instead of 1")
    if not facts["deterministic"]:
        found.append("deterministic algorithms are off")
    found += [f"{k}={v!r} instead of {PINNED_ENV[k]!r}" for k, v in facts["environment"].items() if v != PINNED_ENV[k]]
    return found
