"""DataLoaders for training and evaluation, single process or DDP."""

from __future__ import annotations

import math

import torch
from torch.utils.data import DataLoader, DistributedSampler, Sampler

from .dataset import VideoDataset, collate


class ShardSampler(Sampler[int]):
    """Evaluation under DDP: rank ``r`` of ``w`` takes items ``r, r + w, r + 2w, ...``: every item exactly
    once over all ranks (``DistributedSampler`` pads with duplicates, which biases the metrics)."""

    def __init__(self, length: int, rank: int, world_size: int) -> None:
        self.length, self.rank, self.world_size = length, rank, world_size

    def __iter__(self):
        return iter(range(self.rank, self.length, self.world_size))

    def __len__(self) -> int:
        return max(0, math.ceil((self.length - self.rank) / self.world_size))


def make_loader(
    dataset: VideoDataset,
    batch_size: int,
    train: bool,
    workers: int = 0,
    seed: int = 0,
    rank: int = 0,
    world_size: int = 1,
    device: str | torch.device = "cpu",
) -> DataLoader:
    """A DataLoader with the project's collate, pinned memory on CUDA, and the right sampler:
    training shuffles (``DistributedSampler`` across ranks, seeded) and drops the last partial batch;
    evaluation keeps the order and visits every item exactly once across ranks."""
    if train:
        sampler = DistributedSampler(dataset, world_size, rank, shuffle=True, seed=seed, drop_last=True)
    else:
        sampler = ShardSampler(len(dataset), rank, world_size)
    # A private generator: creating an iterator then draws no number from the global RNG, whose state a
    # resumed run restores (so evaluation between epochs cannot shift the dropout masks of later epochs).
    generator = torch.Generator().manual_seed(seed)
    return DataLoader(
        dataset,
        batch_size=batch_size,
        sampler=sampler,
        num_workers=workers,
        collate_fn=collate,
        pin_memory=torch.device(device).type == "cuda",
        drop_last=train,
        generator=generator,
    )
    # (no persistent workers: each epoch's workers must copy the dataset after its set_epoch())
