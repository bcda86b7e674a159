"""Checkpoints: ours, and the peers' formats (official TIN/TSM, X-Temporal, MMAction2, torchvision).

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

from ..utils import atomic_write_bytes
from ._registry import create

FORMAT_VERSION = 1

# Key renames from each peer format to ours, applied in order (regex, replacement). Sources: the peers'
# code as summarised in shared/reference/tin-facts.md section 4.
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
_FORMATS = {"official TIN/TSM": _OFFICIAL_TSN_FAMILY, "mmaction2": _MMACTION2, "paperlib/torchvision": []}


class CheckpointError(RuntimeError):
    """A checkpoint file could not be read."""


class CheckpointMismatchError(ValueError):
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
        for title, keys in (("missing in checkpoint", self.missing), ("unexpected in checkpoint", self.unexpected),
                            ("wrong shape", self.mismatched)):  # fmt: skip
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
        raise CheckpointError(f"cannot read checkpoint {path}: {type(exc).__name__}: {exc}") from exc


def _unwrap(obj: dict, origin: str) -> dict[str, Tensor]:
    """The state dict inside a checkpoint of any supported container layout."""
    if not isinstance(obj, dict):
        raise CheckpointError(f"{origin}: expected a dict, got {type(obj).__name__}")
    for key in ("state_dict", "model"):  # ours / official TIN / mmaction2 use state_dict; X-Temporal uses model
        if isinstance(obj.get(key), dict):
            obj = obj[key]
            break
    tensors = {k: v for k, v in obj.items() if isinstance(v, Tensor)}
    if not tensors:
        raise CheckpointError(f"{origin}: no tensors found (keys: {list(obj)[:8]})")
    return tensors


def detect_format(state_dict: dict[str, Tensor]) -> str:
    keys = [k.removeprefix("module.") for k in state_dict]
    if any(k.startswith(("backbone.", "cls_head.")) for k in keys):
        return "mmaction2"
    if any(k.startswith(("base_model.", "new_fc.")) for k in keys):
        return "official TIN/TSM"
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
    (``backbone.…``, ``cls_head.fc_cls``, ``offset_net``/``weight_net``) and torchvision state dicts.

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
    report.mismatched = [f"{k}: checkpoint {list(v.shape)} vs model {list(expected[k].shape)}"
                         for k, v in state_dict.items() if k in expected and v.shape != expected[k].shape]  # fmt: skip
    if not report.ok and strict:
        raise CheckpointMismatchError(
            f"checkpoint {origin} (format: {fmt}) does not fit {type(model).__name__}:\n{report.describe()}"
        )
    model.load_state_dict({k: v for k, v in state_dict.items() if k in expected and v.shape == expected[k].shape},
                          strict=False)  # fmt: skip
    return report


def save_checkpoint(model: nn.Module, path: str | os.PathLike, **extra) -> Path:
    """Write ``model`` (weights and, when built by :func:`paperlib.models.create`, how to rebuild it) atomically.

    ``extra`` entries (epoch, metrics, optimizer state ...) are stored beside; they must be tensors or plain
    containers/scalars so the file stays loadable with ``weights_only=True``.
    """
    payload = {"paperlib": {"version": FORMAT_VERSION, "model": getattr(model, "paperlib_config", None)},
               "state_dict": model.state_dict(), **extra}  # fmt: skip
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
        raise CheckpointError(f"{origin} has no paperlib model description; build the model with "
                              f"paperlib.models.create(...) and use load_checkpoint(model, path)")  # fmt: skip
    config = {**config, **overrides}
    model = create(config.pop("name"), **config)
    load_checkpoint(model, raw)
    return model
