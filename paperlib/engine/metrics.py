"""Dataset-level metrics, computed once over all scores (never averaged per batch).

Single-label: top-k accuracy. Multi-label: class-wise mAP (the usual definition: the average precision of
each class over all videos, averaged over classes that have at least one positive, via scikit-learn) and
the sample-wise mAP that X-Temporal reports for MMIT (the average precision of each video over the
classes, averaged over videos). The two differ; tables say which one they show.
"""

from __future__ import annotations

import numpy as np


def topk_accuracy(scores: np.ndarray, labels: np.ndarray, ks: tuple[int, ...] = (1, 5)) -> dict[str, float]:
    """``scores (N, K)``, integer ``labels (N,)`` -> ``{"top1": %, "top5": %}`` (ties broken by class order)."""
    scores, labels = np.asarray(scores), np.asarray(labels)
    if scores.ndim != 2 or len(scores) != len(labels) or len(labels) == 0:
        raise ValueError(f"topk_accuracy: scores {scores.shape} and labels {labels.shape} do not match")
    order = np.argsort(-scores, axis=1, kind="stable")
    return {
        f"top{k}": float(100 * np.mean([labels[i] in order[i, :k] for i in range(len(labels))]))
        for k in ks
        if k <= scores.shape[1]
    }


def classwise_map(scores: np.ndarray, targets: np.ndarray) -> float:
    """Mean over classes (with >= 1 positive) of each class's average precision, in %."""
    scores, targets = np.asarray(scores), np.asarray(targets)
    from sklearn.metrics import average_precision_score  # here, not at the top: scikit-learn takes ~1.5 s to import

    present = targets.sum(axis=0) > 0
    if not present.any():
        raise ValueError("classwise_map: no class has a positive example")
    return float(100 * np.mean([average_precision_score(targets[:, c], scores[:, c]) for c in np.flatnonzero(present)]))


def samplewise_map(scores: np.ndarray, targets: np.ndarray) -> float:
    """X-Temporal's MMIT metric: mean over videos (with >= 1 label) of each video's average precision, in %."""
    scores, targets = np.asarray(scores), np.asarray(targets)
    from sklearn.metrics import average_precision_score

    rows = np.flatnonzero(targets.sum(axis=1) > 0)
    if len(rows) == 0:
        raise ValueError("samplewise_map: no video has a label")
    return float(100 * np.mean([average_precision_score(targets[i], scores[i]) for i in rows]))


def compute_metrics(scores: np.ndarray, labels: np.ndarray, multi_label: bool) -> dict[str, float]:
    """The metrics of a task: top-1/top-5 for single-label, both mAPs for multi-label (``labels`` multi-hot)."""
    if multi_label:
        return {
            "mAP_classwise": classwise_map(scores, labels),
            "mAP_samplewise_xtemporal": samplewise_map(scores, labels),
        }
    return topk_accuracy(scores, labels)
