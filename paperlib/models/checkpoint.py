"""Checkpoints: ours, and the peers' formats, converted by key renames to paperlib's names.

Formats (:func:`detect_format` picks one from the keys; the rules are in ``_FORMATS``):

- ``paperlib/torchvision``: ours (``save_checkpoint``) and torchvision's; keys used as they are.
- ``official TIN/TSM``: deepcs233/TIN, mit-han-lab/temporal-shift-module and X-Temporal's TSN wrapper.
- ``mmaction2``: open-mmlab/mmaction2 Recognizer2D (ResNet / ResNetTSM / ResNetTIN, TSN/TSM head).
- ``pytorchvideo resnet``: PyTorchVideo ``create_resnet`` without ``stage1_pool`` (hub ``slow_r50``, model zoo
  ``SLOW_4x16_R50``/``SLOW_8x8_R50``): ``blocks.0`` stem, ``blocks.1-4`` stages, ``blocks.5.proj`` head.
- ``pytorchvideo resnet (stage1 pool)``: the same with the time max-pool after res2 (hub ``i3d_r50``, zoo
  ``I3D_8x8_R50``), which shifts res3-res5 to ``blocks.3-5`` and the head to ``blocks.6.proj``.
- ``pytorchvideo slowfast``: PyTorchVideo ``create_slowfast`` (hub ``slowfast_r50``, zoo ``SLOWFAST_4x16_R50``
  and ``SLOWFAST_8x8_R50``): ``blocks.N.multipathway_blocks.{0,1}``, ``blocks.N.multipathway_fusion``,
  ``blocks.6.proj``. PySlowFast's PTV wrappers (``PTVResNet``/``PTVSlowFast``) add a ``model.`` prefix, dropped.
- ``pyslowfast resnet``: facebookresearch/SlowFast ``ResNet`` (ARCH slow / i3d; ``s1.pathway0_stem``,
  ``s2.pathway0_res0.branch2.a``/``a_bn``, ``branch1``/``branch1_bn``, ``head.projection``).
- ``pyslowfast slowfast``: facebookresearch/SlowFast ``SlowFast`` (``pathway0``/``pathway1``, ``s1_fuse.conv_f2s``
  ... ``s4_fuse``). Both PySlowFast formats come as ``{"model_state": ...}`` (``.pyth`` files).

Architecture notes for the 3D formats: weights and buffers map one to one, but the heads differ outside the
weights. PyTorchVideo and PySlowFast average-pool with a fixed kernel (``T x 7 x 7`` for 224² training crops)
and then average the classifier over what is left; we pool globally. The two agree exactly when the last feature
map is that size (224² input and the trained clip length); at 256² (their 3-crop test) theirs averages four
overlapping 7×7 windows instead of the whole 8×8 map. PySlowFast's head also applies softmax in eval mode (we
return logits), and both peers feed SlowFast's slow pathway with ``linspace``-picked frames where we take
``x[:, :, ::alpha]``. PySlowFast's Caffe2 ``.pkl`` model zoo files (``{"blobs": numpy arrays}``, Caffe2 names) are
not supported: they are plain pickles that ``weights_only=True`` refuses, with other key names.

Loading is strict by default: a checkpoint that does not fit the model raises :class:`CheckpointMismatchError`
listing the missing, unexpected and wrong-shape keys, instead of the silent ``strict=False`` that lets a
wrong checkpoint load. Files are read with ``torch.load(weights_only=True)``: no code runs from a file.
"""

from __future__ import annotations

import io
import os
import pickle
import re
from dataclasses import dataclass, field
from pathlib import Path

import torch
from torch import Tensor, nn

from ..errors import UserError
from ..utils import atomic_write_bytes
from ._registry import create

FORMAT_VERSION = 1

# Key renames from each peer format to ours, applied in order (regex, replacement). Sources: the peers' model
# code: deepcs233/TIN ops/models.py (TSN wrapper: base_model, new_fc; DataParallel's module.) and
# ops/temporal_interlace.py (CombinNet net1/net2, biasnet, weightnet); mit-han-lab/temporal-shift-module
# ops/temporal_shift.py (TemporalShift wraps the conv as .net); Sense-X/X-Temporal x_temporal/core/models.py
# and x_temporal/core/tin.py.
_OFFICIAL_TSN_FAMILY = [  # deepcs233/TIN, mit-han-lab/temporal-shift-module and X-Temporal (TSN wrapper)
    (r"^base_model\.", ""),
    (r"^new_fc\.", "fc."),
    (r"\.conv1\.net1\.biasnet\.net\.conv\.", ".temporal.offset_net.conv."),
    (r"\.conv1\.net1\.biasnet\.net\.fc\.", ".temporal.offset_net.fc1."),
    (r"\.conv1\.net1\.biasnet\.net\.lastlayer\.", ".temporal.offset_net.fc2."),
    (r"\.conv1\.net1\.weightnet\.net\.lastlayer\.", ".temporal.weight_net.conv."),
    (r"\.conv1\.net2\.", ".conv1."),  # TIN's CombinNet(net1=interlace, net2=conv1)
    (r"\.conv1\.net\.", ".conv1."),  # TSM's TemporalShift(net=conv1)
]
_MMACTION2 = [  # open-mmlab/mmaction2 Recognizer2D with ResNet / ResNetTSM / ResNetTIN and TSNHead/TSMHead
    (r"^backbone\.", ""),
    (r"^cls_head\.fc_cls\.", "fc."),
    (r"^conv1\.conv\.", "conv1."),
    (r"^conv1\.bn\.", "bn1."),
    (r"\.conv1\.conv\.net1\.offset_net\.", ".temporal.offset_net."),
    (r"\.conv1\.conv\.net1\.weight_net\.", ".temporal.weight_net."),
    (r"\.conv1\.conv\.net2\.", ".conv1."),
    (r"\.conv1\.conv\.net\.", ".conv1."),
    (r"\.conv(\d)\.conv\.", r".conv\1."),
    (r"\.conv(\d)\.bn\.", r".bn\1."),
    (r"\.downsample\.conv\.", ".downsample.0."),
    (r"\.downsample\.bn\.", ".downsample.1."),
]

# 3D models. Inside a bottleneck both peers use their own names for the same convs and BNs.
_PTV_BLOCK = [
    (r"\.branch1_conv\.", ".shortcut.0."),
    (r"\.branch1_norm\.", ".shortcut.1."),
    (r"\.branch2\.conv_([abc])\.", r".conv_\1."),
    (r"\.branch2\.norm_([abc])\.", r".bn_\1."),
]
_PYSLOWFAST_BLOCK = [
    (r"\.branch1\.", ".shortcut.0."),
    (r"\.branch1_bn\.", ".shortcut.1."),
    (r"\.branch2\.([abc])\.", r".conv_\1."),
    (r"\.branch2\.([abc])_bn\.", r".bn_\1."),
]


def _ptv_resnet(stage_blocks: tuple[int, ...], head_block: int) -> list[tuple[str, str]]:
    """pytorchvideo/models/resnet.py ``create_resnet``: ``Net(blocks=[stem, stage x4 (+ a parameter-free
    stage1 pool after the first), head])``."""
    return [
        (r"^model\.(?=blocks\.)", ""),  # PySlowFast's PTVResNet wrapper (self.model = create_resnet(...))
        (r"^blocks\.0\.conv\.", "stem.conv."),
        (r"^blocks\.0\.norm\.", "stem.bn."),
        *[(rf"^blocks\.{b}\.res_blocks\.(\d+)\.", rf"layer{i + 1}.\1.") for i, b in enumerate(stage_blocks)],
        *_PTV_BLOCK,
        (rf"^blocks\.{head_block}\.proj\.", "fc."),
    ]


_PTV_SLOWFAST = [  # pytorchvideo/models/slowfast.py create_slowfast: blocks 0-4 MultiPathWayWithFuse, 5 pool, 6 head
    (r"^model\.(?=blocks\.)", ""),  # PySlowFast's PTVSlowFast wrapper
    (r"^blocks\.0\.multipathway_blocks\.0\.conv\.", "slow_stem.conv."),
    (r"^blocks\.0\.multipathway_blocks\.0\.norm\.", "slow_stem.bn."),
    (r"^blocks\.0\.multipathway_blocks\.1\.conv\.", "fast_stem.conv."),
    (r"^blocks\.0\.multipathway_blocks\.1\.norm\.", "fast_stem.bn."),
    *[
        (rf"^blocks\.{i + 1}\.multipathway_blocks\.{p}\.res_blocks\.(\d+)\.", rf"{side}_layers.{i}.\1.")
        for i in range(4)
        for p, side in enumerate(("slow", "fast"))
    ],
    (r"^blocks\.([0-3])\.multipathway_fusion\.conv_fast_to_slow\.", r"fusions.\1.conv."),
    (r"^blocks\.([0-3])\.multipathway_fusion\.norm\.", r"fusions.\1.bn."),
    *_PTV_BLOCK,
    (r"^blocks\.6\.proj\.", "fc."),
]
_PYSLOWFAST_RESNET = [  # slowfast/models/video_model_builder.py ResNet: s1 stem, s2-s5 ResStage, head
    (r"^s1\.(?:pathway|s)0_stem\.", "stem."),  # s0_stem: the name in an older stem_helper.py
    *[(rf"^s{i + 2}\.pathway0_res(\d+)\.", rf"layer{i + 1}.\1.") for i in range(4)],
    *_PYSLOWFAST_BLOCK,
    (r"^head\.projection\.", "fc."),
]
_PYSLOWFAST_SLOWFAST = [  # video_model_builder.py SlowFast: pathway0 slow, pathway1 fast, s1_fuse ... s4_fuse
    (r"^s1\.(?:pathway|s)0_stem\.", "slow_stem."),
    (r"^s1\.(?:pathway|s)1_stem\.", "fast_stem."),
    *[
        (rf"^s{i + 2}\.pathway{p}_res(\d+)\.", rf"{side}_layers.{i}.\1.")
        for i in range(4)
        for p, side in enumerate(("slow", "fast"))
    ],
    *[(rf"^s{i + 1}_fuse\.conv_f2s\.", f"fusions.{i}.conv.") for i in range(4)],
    *[(rf"^s{i + 1}_fuse\.bn\.", f"fusions.{i}.bn.") for i in range(4)],
    *_PYSLOWFAST_BLOCK,
    (r"^head\.projection\.", "fc."),
]

_FORMATS = {
    "official TIN/TSM": _OFFICIAL_TSN_FAMILY,
    "mmaction2": _MMACTION2,
    "pytorchvideo resnet": _ptv_resnet((1, 2, 3, 4), head_block=5),
    "pytorchvideo resnet (stage1 pool)": _ptv_resnet((1, 3, 4, 5), head_block=6),
    "pytorchvideo slowfast": _PTV_SLOWFAST,
    "pyslowfast resnet": _PYSLOWFAST_RESNET,
    "pyslowfast slowfast": _PYSLOWFAST_SLOWFAST,
    "paperlib/torchvision": [],
}


class CheckpointError(UserError, RuntimeError):
    """A checkpoint file could not be read."""


class CheckpointMismatchError(UserError, ValueError):
    """A checkpoint's keys or shapes do not fit the model."""


@dataclass
class LoadReport:
    """What :func:`load_checkpoint` found: the detected format and any (tolerated, non-strict) differences."""

    format: str
    missing: list[str] = field(default_factory=list)
    unexpected: list[str] = field(default_factory=list)
    mismatched: list[str] = field(default_factory=list)  # "key: checkpoint [..] vs model [..]"

    @property
    def ok(self) -> bool:
        return not (self.missing or self.unexpected or self.mismatched)

    def describe(self, first: int = 5) -> str:
        lines = []
        for title, keys in (
            ("missing in checkpoint", self.missing),
            ("unexpected in checkpoint", self.unexpected),
            ("wrong shape", self.mismatched),
        ):
            if keys:
                shown = ", ".join(keys[:first]) + (", ..." if len(keys) > first else "")
                lines.append(f"  {title} ({len(keys)}): {shown}")
        return "\n".join(lines)


def read_checkpoint(path: str | os.PathLike) -> dict:
    """``torch.load(path, weights_only=True)`` with errors that name the file."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"checkpoint not found: {path}")
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        raise CheckpointError(
            f"refusing to load {path}: it holds objects other than tensors and plain containers, and loading "
            f"it would run code from the file (torch.load weights_only=True). Details: {exc}"
        ) from exc
    except Exception as exc:  # truncated zip, not a checkpoint at all, ...
        raise CheckpointError(
            f"cannot read checkpoint {path} (truncated, or not a PyTorch checkpoint): {type(exc).__name__}: {exc}"
        ) from exc


def _unwrap(obj: dict, origin: str) -> dict[str, Tensor]:
    """The state dict inside a checkpoint of any supported container layout."""
    if not isinstance(obj, dict):
        raise CheckpointError(f"{origin}: expected a dict, got {type(obj).__name__}")
    # ours / official TIN / mmaction2 use state_dict; X-Temporal uses model; PySlowFast / PyTorchVideo model_state
    for key in ("state_dict", "model", "model_state"):
        if isinstance(obj.get(key), dict):
            obj = obj[key]
            break
    tensors = {k: v for k, v in obj.items() if isinstance(v, Tensor)}
    if not tensors:
        raise CheckpointError(f"{origin}: no tensors found (keys: {list(obj)[:8]})")
    return tensors


def detect_format(state_dict: dict[str, Tensor]) -> str:
    """The name of the format (a key of ``_FORMATS``) that ``state_dict``'s keys are in."""
    keys = [k.removeprefix("module.") for k in state_dict]
    if any(k.startswith(("backbone.", "cls_head.")) for k in keys):
        return "mmaction2"
    if any(k.startswith(("base_model.", "new_fc.")) for k in keys):
        return "official TIN/TSM"
    ptv = [k.removeprefix("model.") for k in keys if k.startswith(("blocks.", "model.blocks."))]
    if ptv:
        if any(".multipathway_" in k for k in ptv):
            return "pytorchvideo slowfast"
        # the stage1 pool has no weights, so it shows as a missing block index: res5 in blocks.5, head in blocks.6
        if any(k.startswith(("blocks.6.", "blocks.5.res_blocks.")) for k in ptv):
            return "pytorchvideo resnet (stage1 pool)"
        return "pytorchvideo resnet"
    if any(re.match(r"s[1-5](_fuse)?\.", k) for k in keys) or any(k.startswith("head.projection.") for k in keys):
        two_pathways = any(re.match(r"s[1-5]\.(pathway|s)1_", k) or re.match(r"s\d_fuse\.", k) for k in keys)
        return "pyslowfast slowfast" if two_pathways else "pyslowfast resnet"
    return "paperlib/torchvision"


def convert_state_dict(state_dict: dict[str, Tensor], fmt: str | None = None) -> tuple[dict[str, Tensor], str]:
    """Rename a peer checkpoint's keys to paperlib's; returns ``(state_dict, detected format)``."""
    fmt = fmt or detect_format(state_dict)
    rules = [(re.compile(p), r) for p, r in _FORMATS[fmt]]
    converted = {}
    for key, value in state_dict.items():
        key = key.removeprefix("module.")  # DataParallel / DDP
        for pattern, replacement in rules:
            key = pattern.sub(replacement, key)
        converted[key] = value
    return converted, fmt


def load_checkpoint(model: nn.Module, source: str | os.PathLike | dict, strict: bool = True) -> LoadReport:
    """Load a checkpoint (path or already-loaded dict) of any supported format into ``model``.

    Recognises ours, the official TIN/TSM and X-Temporal (``state_dict``/``model`` with ``module.base_model.…``,
    ``new_fc``, TSM's ``conv1.net``, TIN's ``conv1.net1.biasnet…``/``weightnet…``/``conv1.net2``), MMAction2
    (``backbone.…``, ``cls_head.fc_cls``, ``offset_net``/``weight_net``) and torchvision state dicts, and for the
    3D models PyTorchVideo (``blocks.…``, ``model_state``) and PySlowFast (``s1.pathway0_stem.…``, ``model_state``)
    checkpoints; see the module docstring for what each format covers.

    Raises:
        CheckpointMismatchError: (``strict``) keys or shapes differ; the message lists them.
        CheckpointError / FileNotFoundError: the file is missing, unreadable, or would run code.
    """
    origin = str(source) if not isinstance(source, dict) else "state dict"
    raw = read_checkpoint(source) if not isinstance(source, dict) else source
    state_dict, fmt = convert_state_dict(_unwrap(raw, origin))
    expected = model.state_dict()
    report = LoadReport(format=fmt)
    report.missing = [k for k in expected if k not in state_dict]
    report.unexpected = [k for k in state_dict if k not in expected]
    report.mismatched = [
        f"{k}: checkpoint {list(v.shape)} vs model {list(expected[k].shape)}"
        for k, v in state_dict.items()
        if k in expected and v.shape != expected[k].shape
    ]
    if not report.ok and strict:
        raise CheckpointMismatchError(
            f"checkpoint {origin} (format: {fmt}) does not fit {type(model).__name__}:\n{report.describe()}"
        )
    model.load_state_dict(
        {k: v for k, v in state_dict.items() if k in expected and v.shape == expected[k].shape}, strict=False
    )
    return report


def save_checkpoint(model: nn.Module, path: str | os.PathLike, **extra) -> Path:
    """Write ``model`` (weights and, when built by :func:`paperlib.models.create`, how to rebuild it) atomically.

    ``extra`` entries (epoch, metrics, optimizer state ...) are stored beside; they must be tensors or plain
    containers/scalars so the file stays loadable with ``weights_only=True``.
    """
    payload = {
        "paperlib": {"version": FORMAT_VERSION, "model": getattr(model, "paperlib_config", None)},
        "state_dict": model.state_dict(),
        **extra,
    }
    buffer = io.BytesIO()
    torch.save(payload, buffer)
    return atomic_write_bytes(path, buffer.getvalue())


def from_checkpoint(source: str | os.PathLike | dict, **overrides) -> nn.Module:
    """Rebuild the model a paperlib checkpoint (path or already-read dict) was saved from and load its weights
    (strictly)."""
    raw = read_checkpoint(source) if not isinstance(source, dict) else source
    config = raw.get("paperlib", {}).get("model") if isinstance(raw, dict) else None
    if not config:
        origin = source if not isinstance(source, dict) else "the checkpoint"
        raise CheckpointError(
            f"{origin} has no paperlib model description; build the model with "
            f"paperlib.models.create(...) and use load_checkpoint(model, path)"
        )
    config = {**config, **overrides}
    model = create(config.pop("name"), **config)
    load_checkpoint(model, raw)
    return model
