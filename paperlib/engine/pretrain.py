"""ImageNet-style pretraining of a 2D ResNet backbone, written in torchvision's ResNet state-dict layout.

The originals start TSN, TSM and TIN from torchvision's ImageNet ResNet-50 (``resnet50-0676ba61.pth``). The small
scales start from a backbone of their own layout trained here on an ImageNet-layout folder
(``train/<class>/*.JPEG``, ``val/<class>/*.JPEG``, read with torchvision's ``ImageFolder``), and the file written
(``resnet.pth``: ``conv1.weight``, ``bn1.*``, ``layer1.0.conv1.weight`` ... ``fc.weight``, ``fc.bias``, nothing
else) loads by the route torchvision's file does: ``model.pretrained=PATH``.

The recipe follows torchvision's ImageNet classification reference where it can (SGD with momentum 0.9, weight
decay 1e-4 on every parameter, lr 0.1 for a batch of 256 scaled linearly, random-resized crops and horizontal
flips, cross-entropy); the warm-up and cosine schedule, the crop scales and the epochs are ours, sized for
seconds-to-minutes on a CPU.
"""

from __future__ import annotations

import io
import json
import random
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch
from torch import Tensor, nn

from ..models import create
from ..models.param_groups import single_param_group
from ..utils import atomic_write_bytes, atomic_write_text
from .trainer import lr_factor

CHECKPOINT = "resnet.pth"


@dataclass
class PretrainConfig:
    """One pretraining run. ``width``/``depths``: the backbone layout (ResNet-50's bottleneck blocks);
    ``crop_scale``: the smallest area fraction of a random-resized crop; ``lr`` for ``reference_batch``."""

    data: str  # the ImageNet-layout folder holding train/ and val/
    width: int = 16
    depths: list[int] = field(default_factory=lambda: [1, 1, 1, 1])
    epochs: int = 10
    batch_size: int = 64
    lr: float = 0.1
    reference_batch: int = 256
    momentum: float = 0.9
    weight_decay: float = 1e-4
    warmup_epochs: float = 1.0
    crop_scale: float = 0.5
    seed: int = 0


def backbone(num_classes: int, width: int, depths: list[int]) -> nn.Module:
    """A 2D ResNet with ResNet-50's bottleneck blocks: ``tsn_r50`` on one frame, whose parameter names are
    torchvision's (no temporal layer, no dropout; PyTorch's default classifier init, as torchvision's)."""
    return create("tsn_r50", num_classes, 1, width=width, depths=list(depths), dropout=0.0, fc_init_std=None)


def torchvision_state_dict(model: nn.Module) -> dict[str, Tensor]:
    """``model``'s weights under torchvision ResNet's names (TemporalResNet uses them already; checked here)."""
    state = {k: v.detach().clone() for k, v in model.state_dict().items()}
    odd = [k for k in state if k.split(".")[0] not in ("conv1", "bn1", "layer1", "layer2", "layer3", "layer4", "fc")]
    if odd or any(".temporal." in k for k in state):
        raise ValueError(f"not a plain 2D ResNet: keys {odd or [k for k in state if '.temporal.' in k][:3]}")
    return state


def _images(folder: Path):
    """``(uint8 images [N, 3, H, W], labels [N], class names)`` of an ImageNet-layout split, read once with
    torchvision's ``ImageFolder`` (its PIL loader), so every epoch crops from memory."""
    from torchvision.datasets import ImageFolder
    from torchvision.transforms.v2.functional import pil_to_tensor

    dataset = ImageFolder(str(folder), transform=pil_to_tensor)
    images = torch.stack([dataset[i][0] for i in range(len(dataset))])
    return images, torch.tensor(dataset.targets), dataset.classes


def _normalise(images: Tensor) -> Tensor:
    from ..data.transforms import IMAGENET_MEAN, IMAGENET_STD

    mean, std = torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1), torch.tensor(IMAGENET_STD).view(1, 3, 1, 1)
    return (images.float() / 255 - mean) / std


def _augment(images: Tensor, crop_scale: float, rng: np.random.Generator) -> Tensor:
    """Random-resized crop (area ``crop_scale``-1 of the image, aspect 3/4-4/3) scaled back to the input size, and
    a horizontal flip, per image: ``uint8 [B, 3, H, W]`` -> normalised ``float32 [B, 3, H, W]``. The crops are
    never larger than the image, so bilinear sampling (one ``grid_sample`` for the batch) needs no antialiasing."""
    b = len(images)
    area = rng.uniform(crop_scale, 1.0, size=b)
    aspect = np.exp(rng.uniform(np.log(3 / 4), np.log(4 / 3), size=b))
    sx, sy = np.minimum(1, np.sqrt(area * aspect)), np.minimum(1, np.sqrt(area / aspect))  # crop side / image side
    cx, cy = rng.uniform(-1, 1, size=b) * (1 - sx), rng.uniform(-1, 1, size=b) * (1 - sy)  # crop centre, in [-1, 1]
    flip = np.where(rng.random(b) < 0.5, -1.0, 1.0)
    theta = torch.zeros(b, 2, 3)
    theta[:, 0, 0], theta[:, 0, 2] = torch.from_numpy(sx * flip), torch.from_numpy(cx)
    theta[:, 1, 1], theta[:, 1, 2] = torch.from_numpy(sy), torch.from_numpy(cy)
    grid = nn.functional.affine_grid(theta, list(images.shape), align_corners=False)
    crops = nn.functional.grid_sample(images.float(), grid, mode="bilinear", padding_mode="border", align_corners=False)
    return _normalise(crops)


@torch.no_grad()
def evaluate(model: nn.Module, images: Tensor, labels: Tensor, batch_size: int = 256) -> dict[str, float]:
    """Top-1 and top-5 accuracy (%) on whole images."""
    model.eval()
    correct1 = correct5 = 0
    for start in range(0, len(images), batch_size):
        logits = model(_normalise(images[start : start + batch_size]).unsqueeze(2))  # one frame: [B, 3, 1, H, W]
        top5 = logits.topk(min(5, logits.shape[1]), dim=1).indices
        target = labels[start : start + batch_size, None]
        correct1 += int((top5[:, :1] == target).sum())
        correct5 += int((top5 == target).any(dim=1).sum())
    return {"top1": 100 * correct1 / len(images), "top5": 100 * correct5 / len(images)}


def pretrain(config: PretrainConfig, out: str | Path) -> dict:
    """Train the backbone on ``config.data``'s ``train/``, measure on its ``val/``; write ``out/resnet.pth``
    (torchvision layout), ``out/metrics.json`` (last) and ``out/log.jsonl``. Returns the metrics."""
    out = Path(out)
    torch.manual_seed(config.seed)
    rng = np.random.default_rng(config.seed)
    random.seed(config.seed)
    root = Path(config.data)
    train_images, train_labels, classes = _images(root / "train")
    val_images, val_labels, val_classes = _images(root / "val")
    if val_classes != classes:
        raise ValueError(f"{root}: train/ and val/ hold different class folders")
    model = backbone(len(classes), config.width, config.depths)
    base_lr = config.lr * config.batch_size / config.reference_batch
    optimizer = torch.optim.SGD(single_param_group(model, config.weight_decay), lr=base_lr, momentum=config.momentum)
    steps_per_epoch = len(train_images) // config.batch_size
    if steps_per_epoch == 0:
        raise ValueError(f"{root}: {len(train_images)} training images are fewer than one batch of {config.batch_size}")
    total, warmup = steps_per_epoch * config.epochs, int(round(config.warmup_epochs * steps_per_epoch))
    criterion = nn.CrossEntropyLoss()
    out.mkdir(parents=True, exist_ok=True)
    log = out / "log.jsonl"
    log.unlink(missing_ok=True)
    started = time.perf_counter()
    for epoch in range(config.epochs):
        model.train()
        order = torch.from_numpy(rng.permutation(len(train_images)))
        epoch_started, losses = time.perf_counter(), []
        for i in range(steps_per_epoch):
            step = epoch * steps_per_epoch + i
            for group in optimizer.param_groups:
                group["lr"] = base_lr * lr_factor(step, total, warmup, "cosine", "linear", 0.1)
            batch = order[i * config.batch_size : (i + 1) * config.batch_size]
            logits = model(_augment(train_images[batch], config.crop_scale, rng).unsqueeze(2))
            loss = criterion(logits, train_labels[batch])
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
        record = {"event": "epoch", "epoch": epoch, "loss": float(np.mean(losses))}
        record["seconds"] = time.perf_counter() - epoch_started
        with open(log, "a") as f:
            f.write(json.dumps(record) + "\n")
    seconds = time.perf_counter() - started
    metrics = {**evaluate(model, val_images, val_labels), "train_seconds": seconds, "epochs": config.epochs}
    metrics |= {"classes": len(classes), "train_images": len(train_images), "val_images": len(val_images)}
    buffer = io.BytesIO()
    torch.save(torchvision_state_dict(model), buffer)
    atomic_write_bytes(out / CHECKPOINT, buffer.getvalue())
    atomic_write_text(out / "metrics.json", json.dumps({"metrics": metrics, "config": asdict(config)}, indent=1))
    return metrics
