"""Optimizer parameter groups: the official TSM/TIN recipe's (deepcs233/TIN ``ops/models.py``) or X-Temporal's one."""

from __future__ import annotations

from torch import nn


def tin_param_groups(model: nn.Module, weight_decay: float = 5e-4, fc_lr5: bool = True) -> list[dict]:
    """SGD groups with the official learning-rate and weight-decay multipliers.

    - convolution (2D and the Conv1d of TIN's nets) and temporal-module ``Linear`` weights: lr ×1, wd ×1;
      their biases: lr ×2, no weight decay;
    - BatchNorm weights and biases: lr ×1, no weight decay (under partial BN only the first BN trains:
      frozen parameters have ``requires_grad=False`` and are left out);
    - the classifier ``fc``: weight lr ×5, bias lr ×10 (``fc_lr5``), bias without weight decay.

    The official code picks the classifier as "the 33rd Linear layer onwards", which is R50-specific (for
    R101 it also sends the later offset-net layers to ×5/×10); here the classifier is named.

    Each group carries ``lr_mult`` and ``name``; a scheduler sets ``group["lr"] = base_lr * group["lr_mult"]``.
    """
    spec = {  # name: (lr_mult, weight decay)
        "weight": (1.0, weight_decay),
        "bias": (2.0, 0.0),
        "bn": (1.0, 0.0),
        "fc_weight": (5.0 if fc_lr5 else 1.0, weight_decay),
        "fc_bias": (10.0 if fc_lr5 else 2.0, 0.0),
    }
    buckets: dict[str, list] = {name: [] for name in spec}
    classifier = getattr(model, "fc", None)
    for module in model.modules():
        trainable = {n: p for n, p in module.named_parameters(recurse=False) if p.requires_grad}
        if not trainable:
            continue
        if module is classifier:
            buckets["fc_weight"].append(trainable["weight"])
            if "bias" in trainable:
                buckets["fc_bias"].append(trainable["bias"])
        elif isinstance(module, nn.modules.batchnorm._BatchNorm):
            buckets["bn"] += trainable.values()
        elif isinstance(module, (nn.Conv1d, nn.Conv2d, nn.Conv3d, nn.Linear)):
            buckets["weight"].append(trainable["weight"])
            if "bias" in trainable:
                buckets["bias"].append(trainable["bias"])
        else:
            raise TypeError(f"tin_param_groups: no rule for parameters of {type(module).__name__}")
    return [
        {"params": params, "lr_mult": spec[name][0], "weight_decay": spec[name][1], "name": name}
        for name, params in buckets.items()
        if params
    ]


def single_param_group(model: nn.Module, weight_decay: float = 5e-4) -> list[dict]:
    """One group: every trainable parameter (BN and biases included) at lr x1 with ``weight_decay``, as X-Temporal
    builds its SGD (Sense-X/X-Temporal ``x_temporal/utils/optimizer_helper.py`` ``build_optimizer``:
    ``[p for p in model.parameters() if p.requires_grad]``, the recipe's ``weight_decay`` for all)."""
    params = [p for p in model.parameters() if p.requires_grad]
    return [{"params": params, "lr_mult": 1.0, "weight_decay": weight_decay, "name": "all"}]
