"""torchrun / DDP plumbing: process-group set-up from the environment, rank helpers, gathering results."""

from __future__ import annotations

import datetime
import os
from dataclasses import dataclass

import torch
import torch.distributed as dist


@dataclass(frozen=True)
class DistInfo:
    rank: int = 0
    world_size: int = 1
    local_rank: int = 0

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    @property
    def enabled(self) -> bool:
        return self.world_size > 1


def setup(device: torch.device, timeout_s: float = 600) -> DistInfo:
    """Join the process group that ``torchrun`` describes in the environment (NCCL on GPUs, gloo on CPU).

    Without torchrun (no ``WORLD_SIZE``), runs as a single process. A worker that dies makes the others'
    collectives fail within ``timeout_s`` instead of hanging forever.
    """
    world_size = int(os.environ.get("WORLD_SIZE", "1"))
    info = DistInfo(int(os.environ.get("RANK", "0")), world_size, int(os.environ.get("LOCAL_RANK", "0")))
    if world_size > 1 and not dist.is_initialized():
        if (
            info.rank == 0
            and int(os.environ.get("GROUP_WORLD_SIZE", "1")) > 1
            and int(os.environ.get("TORCHELASTIC_MAX_RESTARTS", "0")) > 0
            and os.environ.get("TORCH_DISABLE_SHARE_RDZV_TCP_STORE") != "1"
        ):
            print(
                "warning: multi-node elastic restarts need TORCH_DISABLE_SHARE_RDZV_TCP_STORE=1 in torchrun's "
                "environment (or python -m paperlib.launch): with the shared store a restarted group can hang",
                flush=True,
            )
        backend = "nccl" if device.type == "cuda" else "gloo"
        if device.type == "cuda":
            torch.cuda.set_device(info.local_rank)
        try:
            dist.init_process_group(backend, timeout=datetime.timedelta(seconds=timeout_s))
        except RuntimeError as exc:  # e.g. DistStoreError: not every process arrived in time
            where = f"{os.environ.get('MASTER_ADDR', '?')}:{os.environ.get('MASTER_PORT', '?')}"
            reason = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
            raise RuntimeError(
                f"rank {info.rank}: the process group of {world_size} processes at {where} did not form "
                f"within {timeout_s:.0f} s: {reason}"
            ) from exc
    return info


def is_main_process() -> bool:
    """Global rank 0 (or no torchrun at all), from the environment: usable before and after ``setup``."""
    return int(os.environ.get("RANK", "0")) == 0


def elastic_restarted(info: DistInfo) -> bool:
    """Whether torchrun restarted this worker group after a failure (``TORCHELASTIC_RESTART_COUNT`` > 0 on any
    rank: a node whose agent restarted for a peer's failure, not its own, may still count 0)."""
    restarted = int(os.environ.get("TORCHELASTIC_RESTART_COUNT", "0")) > 0
    return any(all_gather_objects(restarted, info))


def mean_over_ranks(value: float, info: DistInfo) -> float:
    """The average of ``value`` over all ranks (``value`` itself without DDP)."""
    return value if not info.enabled else float(sum(all_gather_objects(value, info)) / info.world_size)


def teardown() -> None:
    if dist.is_initialized():
        dist.destroy_process_group()


def all_gather_objects(obj, info: DistInfo) -> list:
    """Every rank's ``obj`` (picklable), in rank order; ``[obj]`` without DDP."""
    if not info.enabled:
        return [obj]
    out = [None] * info.world_size
    dist.all_gather_object(out, obj)
    return out


def broadcast_object(obj, info: DistInfo):
    if not info.enabled:
        return obj
    box = [obj]
    dist.broadcast_object_list(box, src=0)
    return box[0]


def barrier(info: DistInfo) -> None:
    if info.enabled:
        dist.barrier()
