"""Where a run computes: the device from its name, and the mixed-precision (autocast) setting."""

from __future__ import annotations

import torch

AMP_DTYPES = {"none": None, "bf16": torch.bfloat16, "fp16": torch.float16}


def pick_device(name: str) -> torch.device:
    """``"auto"`` -> CUDA if available, else CPU; ``"cuda"`` without a CUDA device is an error."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cuda" and not torch.cuda.is_available():
        raise RuntimeError("device 'cuda' requested but no CUDA device is available")
    return torch.device(name)


def autocast(device: torch.device, amp_dtype: torch.dtype | None) -> torch.autocast:
    """Autocast to ``amp_dtype`` on ``device``'s type; a no-op context when ``amp_dtype`` is None."""
    return torch.autocast(device.type, dtype=amp_dtype, enabled=amp_dtype is not None)
