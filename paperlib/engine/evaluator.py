"""Multi-view evaluation over a whole dataset, exactly once per video under DDP, and its outputs on disk."""

from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np
import torch
from torch import nn
from tqdm import tqdm

from ..data import FrameReadError, VideoDataset, make_loader
from ..data.protocols import average_views
from ..utils import atomic_write_bytes, atomic_write_text
from .device import autocast
from .distributed import DistInfo, all_gather_objects
from .metrics import compute_metrics


@torch.no_grad()
def predict_scores(
    model: nn.Module,
    dataset: VideoDataset,
    batch_size: int,
    device: torch.device,
    info: DistInfo = DistInfo(),
    workers: int = 0,
    amp_dtype: torch.dtype | None = None,
    progress: bool = False,
) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Per-video scores averaged over the ``crops × clips`` views as the dataset's test protocol says
    (:func:`paperlib.data.protocols.average_views`; ``paperlib``, ours: softmax (single-label) or sigmoid
    (multi-label), then the mean; ``tin``: softmax, then the mean; ``tsm``/``xtemporal``: mean of the logits).

    Returns ``(indices, scores (N, K), skipped)`` gathered from every rank, sorted by dataset index.
    """
    model.eval()
    loader = make_loader(
        dataset, batch_size, train=False, workers=workers, rank=info.rank, world_size=info.world_size, device=device
    )
    protocol = getattr(dataset.sampler, "protocol", "paperlib")
    indices, scores, skipped = [], [], []
    for batch in tqdm(loader, disable=not progress, desc="evaluate", unit="batch"):
        skipped += batch["skipped"]
        if len(batch["index"]) == 0:
            continue
        video = batch["video"].to(device, non_blocking=True)  # [B, V, 3, T, H, W]
        b, v = video.shape[:2]
        with autocast(device, amp_dtype):
            logits = model(video.flatten(0, 1)).float()  # [B*V, K]
        scores.append(average_views(logits.view(b, v, -1), protocol, dataset.multi_label).cpu().numpy())
        indices.append(batch["index"].numpy())
    local = (
        np.concatenate(indices) if indices else np.zeros(0, np.int64),
        np.concatenate(scores) if scores else np.zeros((0, model_classes(model)), np.float32),
        skipped,
    )
    parts = all_gather_objects(local, info)
    all_indices = np.concatenate([p[0] for p in parts])
    all_scores = np.concatenate([p[1] for p in parts])
    order = np.argsort(all_indices, kind="stable")
    return all_indices[order], all_scores[order], [s for p in parts for s in p[2]]


def model_classes(model: nn.Module) -> int:
    model = getattr(model, "module", model)
    return model.paperlib_config["num_classes"] if hasattr(model, "paperlib_config") else 0


def labels_of(dataset: VideoDataset, indices: np.ndarray) -> np.ndarray:
    """Class ids ``(N,)`` or multi-hot ``(N, K)`` of the dataset's records, read from the list, not the batches."""
    if dataset.multi_label:
        targets = np.zeros((len(indices), dataset.num_classes), np.float32)
        for row, i in enumerate(indices):
            targets[row, list(dataset.records[i].labels)] = 1
        return targets
    return np.array([dataset.records[i].label for i in indices], np.int64)


def evaluate(
    model: nn.Module,
    dataset: VideoDataset,
    batch_size: int,
    device: torch.device,
    info: DistInfo = DistInfo(),
    workers: int = 0,
    amp_dtype: torch.dtype | None = None,
    progress: bool = False,
) -> dict:
    """Metrics over the whole dataset plus the per-video scores:
    ``dict(metrics, indices, ids, labels, scores, skipped)``."""
    indices, scores, skipped = predict_scores(model, dataset, batch_size, device, info, workers, amp_dtype, progress)
    if len(indices) == 0:
        raise FrameReadError(
            f"evaluation produced no scores: every one of the {len(skipped)} item(s) was unreadable and skipped "
            f"(the first: {skipped[0] if skipped else 'none'})"
        )
    labels = labels_of(dataset, indices)
    metrics = compute_metrics(scores, labels, dataset.multi_label)
    metrics["videos"] = int(len(indices))
    metrics["skipped"] = len(skipped)
    return {
        "metrics": metrics,
        "indices": indices,
        "ids": [dataset.records[i].path for i in indices],
        "labels": labels,
        "scores": scores,
        "skipped": skipped,
    }


def write_evaluation(out: Path, result: dict, provenance: dict) -> None:
    """``metrics.json`` (with provenance) and ``scores.npz`` (ids, labels, scores) for the ensemble notebook."""
    buffer = io.BytesIO()
    np.savez(buffer, ids=np.array(result["ids"]), labels=result["labels"], scores=result["scores"])
    atomic_write_bytes(out / "scores.npz", buffer.getvalue())
    record = {"metrics": result["metrics"], **provenance}
    if result.get("skipped"):  # data.on_error=skip: which videos are not in the metrics
        record["skipped_items"] = list(result["skipped"])
    atomic_write_text(out / "metrics.json", json.dumps(record, indent=1) + "\n")
