"""Published numbers, each with its source. Nothing here is measured by this project.

From ``shared/reference/reported-numbers.md``; the TIN paper's Table 1 rows that are not quoted anywhere
reachable (TSN, top-5, FLOPs columns) are absent rather than guessed.
"""

from __future__ import annotations

TIN_ISSUE_3 = "TIN paper Table 1 as quoted in deepcs233/TIN issue #3 (confirmed by the first author)"
TSM_README = "TSM README (mit-han-lab/temporal-shift-module), revised numbers, 1 crop x 1 clip"

# Something-Something v1 validation top-1 (%), ResNet-50, ImageNet-pretrained.
TABLE1_SOMETHING_V1 = [
    {"model": "TSM", "frames": "8", "top1": 43.4, "source": TIN_ISSUE_3 + " (TSM arXiv v1 numbers)"},
    {"model": "TSM", "frames": "16", "top1": 44.8, "source": TIN_ISSUE_3 + " (TSM arXiv v1 numbers)"},
    {"model": "TSM", "frames": "8+16", "top1": 46.8, "source": TIN_ISSUE_3 + " (TSM arXiv v1 numbers)"},
    {"model": "TIN", "frames": "8", "top1": 45.8, "source": TIN_ISSUE_3},
    {"model": "TIN", "frames": "16", "top1": 47.0, "source": TIN_ISSUE_3},
    {"model": "TIN", "frames": "8+16", "top1": 49.6, "source": TIN_ISSUE_3},
    {"model": "TSM (revised)", "frames": "8", "top1": 45.6, "source": TSM_README},
    {"model": "TSM (revised)", "frames": "16", "top1": 47.2, "source": TSM_README},
    {
        "model": "TSM (revised)",
        "frames": "8+16",
        "top1": 49.7,
        "source": "TSM paper (later versions), as quoted in TIN issue #3",
    },
    {
        "model": "TIN (X-Temporal)",
        "frames": "8",
        "top1": 46.0,
        "source": "X-Temporal ModelZoo.md, single view (47.1 with 3 crops x 10 clips)",
    },
]

# Per-view cost of the R50 models at 8x224^2, multiply-adds counted as FLOPs.
TABLE1_COST = {
    "tsn_r50": {"gflops": 32.96, "source": "mmaction2 0.x metafile (tsn_r50_dense_1x1x8)"},
    "tsm_r50": {"params": 23_864_558, "gflops": 32.96, "source": "mmaction2 TSM metafile (Something v1, 174 classes)"},
    "tin_r50": {"params": 23_895_566, "gflops": 32.962, "source": "mmaction2 TIN metafile (Something v1, 174 classes)"},
}

XTEMPORAL_ZOO = "X-Temporal ModelZoo.md (Sense-X/X-Temporal)"
# Multi-Moments in Time validation mAP (%) of X-Temporal's released models, the closest published proxy for the
# winning report's single models (whose own tables are not reachable). X-Temporal computes mAP per video
# (utils/calculate_map.py: sample-wise AP averaged over videos), so these compare with our sample-wise column.
MMIT_SINGLE = [
    {"model": "TSN R101", "frames, input": "5 seg, 224", "mAP": 58.9, "mAP (3 crops x 10 clips)": 60.7},
    {"model": "TIN R50", "frames, input": "8, 224", "mAP": 62.2, "mAP (3 crops x 10 clips)": 62.8},
    {"model": "TIN R50", "frames, input": "16, 224", "mAP": 62.5, "mAP (3 crops x 10 clips)": 62.9},
    {"model": "TIN R101", "frames, input": "8, 224", "mAP": 62.2, "mAP (3 crops x 10 clips)": 63.0},
    {"model": "SlowFast R101", "frames, input": "64 (8x8), 112", "mAP": 59.9, "mAP (3 crops x 10 clips)": 61.5},
]
MMIT_ENSEMBLE = {
    "val_mAP": 67.22,
    "test_mAP": 60.77,
    "source": "Zhang, Shao et al., MMIT 2019 winning report (arXiv 2003.05837), abstract; "
    "the ensemble's members and weights are not published",
}
