"""Run configuration: YAML (``yaml.safe_load``) validated into dataclasses, with ``section.key=value`` overrides.

An unknown key, a wrong type or a bad value fails with the key's dotted name, before anything runs.
The fully resolved configuration is saved beside each run's outputs.
"""

from __future__ import annotations

import copy
import dataclasses
import os
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from ..configs import SUFFIX, UnknownRecipeError, recipe_path
from ..errors import UserError


class ConfigError(UserError, ValueError):
    """A configuration key is unknown, ill-typed or out of range; the message names it."""


@dataclass
class ModelConfig:
    name: str = "tin_r50"
    num_classes: int | None = None  # None: the number of classes in the dataset's category.txt
    num_segments: int = 8
    options: dict = field(default_factory=dict)  # builder options: dropout, width, depths, shift_div, ...
    # a checkpoint of any supported format (the classifier may differ); "imagenet": the recipe starts from
    # torchvision's ImageNet weights, whose file must be given (see check_pretrained); "none"/null: from scratch
    pretrained: str | None = None
    partial_bn: bool = False


@dataclass
class DataConfig:
    dataset: str = "sthv1"  # sthv1 | sthv2 | kinetics | mmit | lists
    root: str | None = None  # None: the embedded dataset of `embedded_scale`
    embedded_scale: str = "embedded"  # smoke | embedded
    embedded_seed: int = 0
    cache_dir: str = "~/.cache/paperlib/datasets"  # where embedded datasets are generated
    train_list: str = "train.txt"  # relative to root (or absolute)
    val_list: str = "val.txt"
    source: str = "frames"  # frames | video
    template: str = "{:05d}.jpg"
    multi_label: bool = False
    sampling: str = "tsn"  # tsn | dense
    rate: int = 2  # dense sampling stride
    input_size: int = 224
    scale_size: int = 256
    flip: bool = False  # off for Something-Something (its labels say left/right)
    crop_scales: list[float] | None = None  # training multi-scale crop scales; None: TSN's (1, .875, .75, .66)
    workers: int = 4
    on_error: str = "raise"  # raise | skip
    # read only the first N entries of each list (training and validation); None: all. A trial of the route
    # (python -m reproduce --scale full --trial, paperlib.experiments.trial), never a recipe's setting
    limit: int | None = None


@dataclass
class OptimConfig:
    batch_size: int = 6  # per process
    lr: float = 0.02  # for a global batch of `reference_batch`; scaled linearly
    reference_batch: int = 48
    momentum: float = 0.9
    nesterov: bool = False
    weight_decay: float = 5e-4
    epochs: int = 40
    # stop after this many iterations in all, then evaluate; None: every epoch. A trial of the route (as data.limit):
    # the schedule is still the whole run's, so a trial stops early in its warm-up. Also the small scales' 16-frame
    # fine-tune of an 8-frame model (paperlib.experiments.table1), at a constant rate: nothing of a schedule is cut
    max_steps: int | None = None
    warmup_epochs: float = 1.0
    # warm-up from warmup_start x lr to lr over warmup_epochs: "linear" (deepcs233/TIN main.py adjust_learning_rate,
    # X-Temporal warmup_type: linear) or "exp" (X-Temporal x_temporal/utils/lr_helper.py ExponentialWarmUpLR, its
    # default warmup_type: a geometric rise). warmup_start None: 1 / global batch (X-Temporal's init_lr = lr / lr_scale
    # with lr_scale = world_size * batch_size); 0.1: the official TIN code's lr / 10
    warmup_type: str = "linear"  # linear | exp
    warmup_start: float | None = 0.1
    # cosine: after the warm-up, 0.5 (1 + cos(pi (t - w) / (T - w))) to 0 at the run's end (deepcs233/TIN main.py);
    # cosine_annealing: torch.optim.lr_scheduler.CosineAnnealingLR over t_max_epochs (counted from step 0), chained
    # after the warm-up as X-Temporal's ChainIterLR does: the rate reaches 0 at t_max_epochs and rises again after it
    # when the run is longer (see paperlib.engine.trainer.lr_factor); constant: lr after the warm-up
    schedule: str = "cosine"  # cosine | cosine_annealing | constant
    t_max_epochs: float | None = None  # cosine_annealing's T_max in epochs; None: epochs
    clip_grad: float | None = 20.0
    fc_lr5: bool = True
    # tsm: the official TSM/TIN groups (conv/linear weights lr x1 with wd, biases x2 and BN without wd, fc x5/x10 when
    # fc_lr5: deepcs233/TIN ops/models.py get_optim_policies); single: one group, every trainable parameter at lr x1
    # with weight decay (X-Temporal x_temporal/utils/optimizer_helper.py build_optimizer)
    param_groups: str = "tsm"  # tsm | single
    optimizer: str = "sgd"  # sgd | adamw


@dataclass
class EvalConfig:
    crops: int = 1
    clips: int = 1
    # test-time protocol (paperlib.data.protocols): paperlib (ours) | tin | tsm | xtemporal
    protocol: str = "paperlib"
    crop_size: int | None = None  # test crop side; None: data.input_size (TSM --full_res: 256)
    batch_size: int = 8
    every: int = 1  # evaluate every N epochs (and always after the last)


@dataclass
class RunConfig:
    name: str = "run"
    output_dir: str = "runs/run"
    seed: int = 0
    device: str = "auto"  # auto | cpu | cuda
    amp: str = "none"  # none | bf16 | fp16
    channels_last: bool = False
    deterministic: bool = False
    log_every: int = 20
    checkpoint_every: int = 0  # also save last.pth every N iterations (0: at epoch ends only)
    model: ModelConfig = field(default_factory=ModelConfig)
    data: DataConfig = field(default_factory=DataConfig)
    optim: OptimConfig = field(default_factory=OptimConfig)
    eval: EvalConfig = field(default_factory=EvalConfig)


CHOICES = {
    "data.dataset": ("sthv1", "sthv2", "kinetics", "mmit", "lists"),
    "data.embedded_scale": ("smoke", "embedded"),
    "data.source": ("frames", "video"),
    "data.sampling": ("tsn", "dense"),
    "data.on_error": ("raise", "skip"),
    "optim.schedule": ("cosine", "cosine_annealing", "constant"),
    "optim.warmup_type": ("linear", "exp"),
    "optim.param_groups": ("tsm", "single"),
    "optim.optimizer": ("sgd", "adamw"),
    "device": ("auto", "cpu", "cuda"),
    "amp": ("none", "bf16", "fp16"),
    "eval.crops": (1, 3),
    "eval.protocol": ("paperlib", "tin", "tsm", "xtemporal"),
}


# torchvision's ImageNet-1k V1 weights (torchvision.models.ResNet50_Weights.IMAGENET1K_V1 and ResNet101's), the
# ones the originals load: X-Temporal x_temporal/models/resnet.py model_urls (resnet50-19c8e357.pth, the same
# weights under their older name), deepcs233/TIN and TSM ops/models.py (torchvision's pretrained=True).
IMAGENET_FILES = {"50": "resnet50-0676ba61.pth", "101": "resnet101-63fe2227.pth"}


def imagenet_file(model_name: str) -> str:
    """The torchvision ImageNet file a 2D recipe of ``model_name`` starts from (ResNet-101 or ResNet-50)."""
    return IMAGENET_FILES["101" if "101" in model_name else "50"]


def check_pretrained(config: RunConfig) -> None:
    """Fail at once when a recipe starts from ImageNet (``model.pretrained: imagenet``) and no file is given.

    Nothing is downloaded: the message names torchvision's file and how to pass it (``model.pretrained=PATH``),
    or ``model.pretrained=none`` to train from scratch."""
    if (config.model.pretrained or "").lower() != "imagenet":
        return
    options = config.model.options
    if "width" in options or "depths" in options:  # a small layout: no torchvision file has its shapes
        depths = " ".join(map(str, options.get("depths", [3, 4, 6, 3])))
        scale = config.data.embedded_scale
        raise ConfigError(
            f"{config.name}: model.pretrained is 'imagenet': this small layout starts from the embedded ImageNet's "
            f"backbone; `python -m paperlib.experiments.pretrain --scale {scale} --width {options.get('width', 64)} "
            f"--depths {depths}` trains it (once) and prints its path: pass model.pretrained=PATH, or "
            "model.pretrained=none to train from scratch"
        )
    depth, file = "101" if "101" in config.model.name else "50", imagenet_file(config.model.name)
    raise ConfigError(
        f"{config.name}: model.pretrained is 'imagenet': the recipe starts from torchvision's ImageNet ResNet-{depth} "
        f"weights; download {file} (https://download.pytorch.org/models/{file}) "
        f"yourself and pass model.pretrained=PATH, or model.pretrained=none to train from scratch"
    )


def _check_type(value: Any, annotation: Any, key: str) -> Any:
    """``value`` as ``annotation`` (ints accepted for floats), or ConfigError naming ``key``."""
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        for option in typing.get_args(annotation):
            if option is type(None) and value is None:
                return None
            try:
                return _check_type(value, option, key)
            except ConfigError:
                continue
        raise ConfigError(f"config key '{key}': expected {annotation}, got {value!r}")
    if annotation is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    expected = origin or annotation
    if expected is Any or (isinstance(value, expected) and not (expected is int and isinstance(value, bool))):
        return value
    raise ConfigError(f"config key '{key}': expected {getattr(annotation, '__name__', annotation)}, got {value!r}")


def _build(cls: type, values: dict, prefix: str = "") -> Any:
    if not isinstance(values, dict):
        raise ConfigError(f"config section '{prefix.rstrip('.') or '<root>'}' must be a mapping, got {values!r}")
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls)}
    unknown = sorted(set(values) - set(fields))
    if unknown:
        raise ConfigError(
            f"unknown config key(s): {', '.join(prefix + k for k in unknown)} "
            f"(known in this section: {', '.join(sorted(fields))})"
        )
    kwargs = {}
    for name, value in values.items():
        key = prefix + name
        if dataclasses.is_dataclass(hints[name]):
            kwargs[name] = _build(hints[name], value, key + ".")
        else:
            kwargs[name] = _check_type(value, hints[name], key)
            if key in CHOICES and kwargs[name] not in CHOICES[key]:
                raise ConfigError(f"config key '{key}': {kwargs[name]!r} is not one of {CHOICES[key]}")
    return cls(**kwargs)


def _set_dotted(tree: dict, dotted: str, value: Any) -> None:
    *parents, leaf = dotted.split(".")
    node = tree
    for part in parents:
        node = node.setdefault(part, {})
        if not isinstance(node, dict):
            raise ConfigError(f"override '{dotted}': '{part}' is not a section")
    node[leaf] = value


def parse_override(text: str) -> tuple[str, Any]:
    """``"optim.lr=0.01"`` -> ``("optim.lr", 0.01)``; the value is parsed as YAML (``null``, ``[1, 2]``, ...)."""
    key, sep, raw = text.partition("=")
    if not sep or not key:
        raise ConfigError(f"override {text!r} is not key=value")
    try:
        return key.strip(), yaml.safe_load(raw) if raw.strip() else ""
    except yaml.YAMLError as exc:
        raise ConfigError(f"override '{key.strip()}': the value is not plain YAML: {exc}") from None


def resolve_config_path(config: str | os.PathLike) -> Path:
    """A YAML file's path as given, else the shipped recipe of that name (``"smoke"``, ``"smoke.yaml"``).

    A name that is neither fails with ConfigError listing the recipes; a missing path with FileNotFoundError.
    """
    path = Path(config)
    if path.is_file():
        return path
    if len(path.parts) == 1 and path.suffix in ("", SUFFIX):  # a bare name: a recipe shipped with paperlib
        try:
            return recipe_path(path.name)
        except UnknownRecipeError as exc:
            raise ConfigError(f"{exc} (or pass the path of a YAML file)") from None
    raise FileNotFoundError(f"config file not found: {path}")


# The sections a config file must have (overrides alone cannot stand in for them).
REQUIRED_SECTIONS = ("model", "data", "optim")


def load_config(path: str | os.PathLike | None = None, overrides: list[str] | tuple[str, ...] = ()) -> RunConfig:
    """Read a YAML config (a file's path or a recipe's name; None: the defaults), apply ``key=value`` overrides,
    validate."""
    tree: dict = {}
    if path is not None:
        path = resolve_config_path(path)
        try:
            tree = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        except yaml.YAMLError as exc:
            raise ConfigError(f"{path}: not valid YAML: {exc}") from None
        if not isinstance(tree, dict):
            raise ConfigError(f"{path}: the top level must be a mapping")
        config = config_from_dict(tree, overrides)
        missing = [s for s in REQUIRED_SECTIONS if not isinstance(tree.get(s), dict)]
        if missing:  # a file without them would silently train the defaults (a TIN-R50 on the embedded data)
            raise ConfigError(
                f"{path}: no {', '.join(repr(s) for s in missing)} section(s); a config file needs "
                f"{', '.join(REQUIRED_SECTIONS)} (copy a recipe, e.g. {recipe_path('smoke')})"
            )
        return config
    return config_from_dict(tree, overrides)


def config_from_dict(tree: dict, overrides: list[str] | tuple[str, ...] = ()) -> RunConfig:
    """Validate a (possibly partial) config tree, e.g. one stored in a checkpoint, after ``key=value`` overrides."""
    tree = copy.deepcopy(tree)
    for text in overrides:
        _set_dotted(tree, *parse_override(text))
    config = _build(RunConfig, tree)
    if isinstance(config.model.pretrained, str) and config.model.pretrained.lower() in ("none", "null", ""):
        config.model.pretrained = None  # said explicitly: from scratch
    if config.checkpoint_every < 0:
        raise ConfigError(f"config key 'checkpoint_every': must be >= 0, got {config.checkpoint_every}")
    for key, value in (("optim.max_steps", config.optim.max_steps), ("data.limit", config.data.limit)):
        if value is not None and value < 1:
            raise ConfigError(f"config key '{key}': must be >= 1 or null, got {value}")
    if config.optim.batch_size < 1 or config.optim.epochs < 0 or config.model.num_segments < 1:
        raise ConfigError("optim.batch_size and model.num_segments must be >= 1, optim.epochs >= 0")
    _check_schedule(config.optim)
    return config


def _check_schedule(optim: OptimConfig) -> None:
    """The warm-up and schedule keys that only make sense together."""
    if optim.warmup_start is not None and not 0 < optim.warmup_start <= 1:
        raise ConfigError(f"config key 'optim.warmup_start': must be in (0, 1] or null, got {optim.warmup_start}")
    if optim.t_max_epochs is not None:
        if optim.schedule != "cosine_annealing":
            raise ConfigError(
                f"config key 'optim.t_max_epochs': only for schedule cosine_annealing, not {optim.schedule}"
            )
        if optim.t_max_epochs <= optim.warmup_epochs:
            raise ConfigError(
                f"config key 'optim.t_max_epochs': must exceed optim.warmup_epochs ({optim.warmup_epochs}), "
                f"got {optim.t_max_epochs}"
            )
    if optim.param_groups == "single" and optim.fc_lr5:
        raise ConfigError("config key 'optim.fc_lr5': param_groups single has one learning rate; set fc_lr5: false")


def config_to_dict(config: RunConfig) -> dict:
    return dataclasses.asdict(config)


def dump_config(config: RunConfig) -> str:
    return yaml.safe_dump(config_to_dict(config), sort_keys=False)
