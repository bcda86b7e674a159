"""Published checkpoints that load into paperlib's models, with the accuracy their authors report.

Each :class:`PublishedCheckpoint` is data: which of our models it fits (``create`` arguments), what it was
trained on, the reported accuracy and its source, where the file is published and in which key layout. Its
:meth:`~PublishedCheckpoint.call` is the one line that loads it (the format is detected from the keys; see
:mod:`paperlib.models.checkpoint`). ``tests/test_zoo.py`` writes a checkpoint in each entry's layout and loads
it through that line, strictly. Numbers are the publishers', not ours: the book's model-zoo chapter prints
them beside the checkpoints our own runs produce.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ._registry import ReportedResult, create
from ._registry import reported_results as registry_results

# Where each layout is documented / published.
TSM_REPO = "mit-han-lab/temporal-shift-module (README, pretrained models)"
XTEMPORAL_ZOO = "Sense-X/X-Temporal ModelZoo.md"
MMACTION2_TIN = "open-mmlab/mmaction2 0.x configs/recognition/tin (metafile / README)"
TORCHVISION = "torchvision.models.video weights (KINETICS400_V1 meta)"
PYTORCHVIDEO_ZOO = "facebookresearch/pytorchvideo MODEL_ZOO.md (Kinetics-400, 3 crops × 10 clips at 256²)"
_PTV_NOTE = (
    "head: theirs average-pools a fixed T×7×7 window, ours the whole map: identical at 224², "
    "not at their 256² test crops"
)


@dataclass(frozen=True)
class PublishedCheckpoint:
    model: str  # paperlib registry name
    num_classes: int
    frames: int
    dataset: str
    input: str  # frames x size, as trained and tested
    reported: str  # accuracy as published, with its test views
    source: str  # where the reported number is from
    fmt: str  # key layout: a format of paperlib.models.checkpoint, or "torchvision"
    options: dict = field(default_factory=dict)  # extra create() options
    load_from: str = '"<file>.pth"'  # Python expression of the file (or state dict) to load
    note: str = ""
    results: tuple[ReportedResult, ...] = ()  # the reported accuracies as data, where a chapter compares with them

    def build(self):
        return create(self.model, self.num_classes, self.frames, **self.options)

    def call(self) -> str:
        """The line that loads it (``create`` and ``load_checkpoint`` from :mod:`paperlib.models`)."""
        extra = "".join(f", {k}={v!r}" for k, v in self.options.items())
        return f'load_checkpoint(create("{self.model}", {self.num_classes}, {self.frames}{extra}), {self.load_from})'


def _results(dataset: str, frames: int, metric: str, views: dict[str, float], source: str, label: str):
    """Reported accuracies of one checkpoint, per test views, and the text that shows them."""
    results = tuple(ReportedResult(dataset, metric, v, str(frames), k, source, label) for k, v in views.items())
    return " / ".join(f"{metric} {r.value} ({r.views})" for r in results), results


def _tsm_repo(model, classes, frames, dataset, reported, note="", results=()):
    return PublishedCheckpoint(
        model,
        classes,
        frames,
        dataset,
        f"{frames}×224²",
        reported,
        TSM_REPO,
        "official TIN/TSM (main.py: state_dict, module.base_model.…)",
        note=note,
        results=results,
    )


def _xtemporal(model, classes, frames, dataset, reported, size=224, results=()):
    return PublishedCheckpoint(
        model,
        classes,
        frames,
        dataset,
        f"{frames}×{size}²",
        reported,
        XTEMPORAL_ZOO,
        "X-Temporal (model: module.base_model.…, the official TIN/TSM keys)",
        results=results,
    )


def _mmaction2_tin(classes, dataset, reported, note=""):
    return PublishedCheckpoint(
        "tin_r50",
        classes,
        8,
        dataset,
        "8×224², 1 clip, centre crop",
        reported,
        MMACTION2_TIN,
        "mmaction2 (state_dict: backbone.…, cls_head.fc_cls.…)",
        note=note,
    )


def _torchvision(model, weights, reported):
    return PublishedCheckpoint(
        model,
        400,
        16,
        "Kinetics-400",
        "16×112²",
        reported,
        TORCHVISION,
        "torchvision",
        load_from=f"torchvision.models.video.{weights}.KINETICS400_V1.get_state_dict()",
        note="the file downloads when you ask for it",
    )


def _pytorchvideo(model, frames, file, reported, options=None, note=_PTV_NOTE):
    return PublishedCheckpoint(
        model,
        400,
        frames,
        "Kinetics-400",
        f"{frames}×224² train, 256² test",
        reported,
        PYTORCHVIDEO_ZOO,
        "pytorchvideo (.pyth: model_state, blocks.N.…)",
        options or {},
        load_from=repr(file),
        note=note,
    )


MMIT = "Multi-Moments in Time"
_SAMPLEWISE = "mAP (sample-wise)"  # X-Temporal's mAP: utils/calculate_map.py averages AP over videos


def _tsm_sthv1(frames: int, single: float, two_clips: float):
    views = {"1 crop x 1 clip": single, "full-res, 2 clips": two_clips}
    text, results = _results("Something-Something v1", frames, "top1", views, TSM_REPO, "TSM (revised)")
    return text, "", results  # reported, note, results


def _xt(dataset: str, frames: int, metric: str, single: float, multi: float, label: str):
    views = {"1 crop x 1 clip": single, "3 crops x 10 clips": multi}
    text, results = _results(dataset, frames, metric, views, XTEMPORAL_ZOO, f"{label} (X-Temporal)")
    return text, 224, results  # reported, size, results


PUBLISHED: tuple[PublishedCheckpoint, ...] = (
    _tsm_repo("tsm_r50", 174, 8, "Something-Something v1", *_tsm_sthv1(8, 45.6, 47.2)),
    _tsm_repo("tsm_r50", 174, 16, "Something-Something v1", *_tsm_sthv1(16, 47.2, 48.4)),
    _tsm_repo(
        "tsm_r101",
        174,
        8,
        "Something-Something v1",
        "top-1 46.9 (1×1) / 48.7 (full-res, 2 clips)",
        note="shifts every second block (temporal_every=2, the default of tsm_r101), as the official code",
    ),
    _tsm_repo("tsm_r50", 174, 8, "Something-Something v2", "top-1 61.2 (2 clips)"),
    _tsm_repo("tsm_r50", 174, 16, "Something-Something v2", "top-1 63.1 (2 clips)"),
    _tsm_repo(
        "tsm_r50",
        400,
        8,
        "Kinetics-400",
        "top-1 74.1 (dense 8×8, 10 clips); uniform 71.2 / 72.8 (1 / 10 crops)",
        note="dense and uniform sampling share the model; pick the sampler to match",
    ),
    _tsm_repo("tsn_r50", 400, 8, "Kinetics-400", "top-1 70.6 (dense, 10 clips); uniform 68.8 / 69.9 (1 / 10 crops)"),
    _xtemporal(
        "tin_r50", 174, 8, "Something-Something v1", *_xt("Something-Something v1", 8, "top1", 46.0, 47.1, "TIN")
    ),
    _xtemporal("tin_r50", 313, 8, MMIT, *_xt(MMIT, 8, _SAMPLEWISE, 62.2, 62.8, "TIN R50")),
    _xtemporal("tin_r50", 313, 16, MMIT, *_xt(MMIT, 16, _SAMPLEWISE, 62.5, 62.9, "TIN R50")),
    _xtemporal("tin_r101", 313, 8, MMIT, *_xt(MMIT, 8, _SAMPLEWISE, 62.2, 63.0, "TIN R101")),
    _xtemporal("tsn_r101", 313, 5, MMIT, *_xt(MMIT, 5, _SAMPLEWISE, 58.9, 60.7, "TSN R101")),
    _xtemporal("tsn_r50", 600, 8, "Kinetics-600 (pre-training)", "top-1 67.5 / 70.0 (3×10)"),
    _xtemporal("tin_r101", 700, 8, "Kinetics-700 (pre-training)", "top-1 61.9 / 64.3 (3×10)"),
    _mmaction2_tin(174, "Something-Something v1", "top-1 44.25 / top-5 73.94 (0.x; original repo retrained: 44.04)"),
    _mmaction2_tin(174, "Something-Something v2", "top-1 56.70 / top-5 83.62 (0.x; original repo retrained: 56.48)"),
    _mmaction2_tin(400, "Kinetics-400", "top-1 70.89 / top-5 89.89 (0.x, fine-tuned from TSM-K400)"),
    _torchvision("r3d_18", "R3D_18_Weights", "clip top-1 63.200 / top-5 83.479"),
    _torchvision("r2plus1d_18", "R2Plus1D_18_Weights", "clip top-1 67.463 / top-5 86.175"),
    _pytorchvideo("slow_r50", 8, "SLOW_8x8_R50.pyth", "top-1 74.58"),
    _pytorchvideo("i3d_r50", 8, "I3D_8x8_R50.pyth", "top-1 73.27"),
    _pytorchvideo(
        "slowfast_r50",
        32,
        "SLOWFAST_4x16_R50.pyth",
        "top-1 75.34",
        note=_PTV_NOTE + "; slow frames: theirs linspace, ours every 8th",
    ),
    _pytorchvideo(
        "slowfast_r50",
        32,
        "SLOWFAST_8x8_R50.pyth",
        "top-1 76.94",
        options={"variant": "8x8"},
        note=_PTV_NOTE + "; slow frames: theirs linspace, ours every 4th",
    ),
)


def reported_results(dataset: str | None = None) -> list[tuple[str, ReportedResult]]:
    """Every published accuracy, as ``(model name, result)``: the architectures' (model registry) and the
    published checkpoints' (:data:`PUBLISHED`), optionally for one dataset."""
    from_checkpoints = [(e.model, r) for e in PUBLISHED for r in e.results if dataset in (None, r.dataset)]
    return registry_results(dataset) + from_checkpoints
