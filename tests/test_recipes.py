"""The shipped recipes against their sources, and the schedule options those sources need.

RECIPES below is written from the source files themselves (repository + path in each entry); the test loads each
recipe with ``load_config`` and checks every listed hyperparameter. The schedule tests check ``lr_factor``
numerically, the X-Temporal form against torch's own CosineAnnealingLR chained after the warm-up.
"""

from __future__ import annotations

import json
import math

import pytest
import torch
from torch import nn

from paperlib.configs import available_recipes, recipe_path
from paperlib.engine.config import ConfigError, load_config
from paperlib.engine.trainer import lr_factor, train
from paperlib.models import create
from paperlib.models.param_groups import single_param_group, tin_param_groups

XT = "Sense-X/X-Temporal"
TIN = "deepcs233/TIN"

# X-Temporal's trainer/optimizer, common to its experiments/*/default.yaml: SGD Nesterov, momentum 0.9, weight decay
# 5e-4, clip_gradient 20, gpus 8; optimizer over model.parameters() (x_temporal/utils/optimizer_helper.py); warm-up
# from lr / (gpus x batch) (x_temporal/utils/lr_helper.py build_warmup_scheduler); CosineAnnealingLR.
_XT_COMMON = {
    "optim.momentum": 0.9,
    "optim.nesterov": True,
    "optim.weight_decay": 5e-4,
    "optim.clip_grad": 20.0,
    "optim.param_groups": "single",
    "optim.fc_lr5": False,
    "optim.warmup_start": None,
    "optim.schedule": "cosine_annealing",
    "optim.optimizer": "sgd",
    "data.multi_label": True,
    "eval.protocol": "xtemporal",
    "seed": 2020,
}
# experiments/{tin,tsm,tsn}/default.yaml: batch_size 8 (x 8 GPUs), crop 224 from 256, TSN sampling, ImageNet start
# (net.pretrain: True), dropout 0.8 after x_temporal/models/resnet.py's nn.Dropout(0.5)
_XT_2D = {
    **_XT_COMMON,
    "optim.batch_size": 8,
    "optim.reference_batch": 64,
    "data.sampling": "tsn",
    "data.input_size": 224,
    "data.scale_size": 256,
    "data.crop_scales": None,
    "model.pretrained": "imagenet",
    "model.options.dropout": 0.8,
    "model.options.backbone_dropout": 0.5,
}
# experiments/slowfast/default.yaml: batch 32 (x 8 GPUs), 32 frames dense at rate 2, crop 112 from 128, flip,
# dropout 0.5, lr 0.4, 10 warm-up epochs (no warmup_type: lr_helper.py's default 'exp'), T_max 120, 120 epochs
_XT_SLOWFAST = {
    **_XT_COMMON,
    "optim.batch_size": 32,
    "optim.reference_batch": 256,
    "optim.lr": 0.4,
    "optim.warmup_epochs": 10.0,
    "optim.warmup_type": "exp",
    "optim.t_max_epochs": 120.0,
    "optim.epochs": 120,
    "model.options.dropout": 0.5,
    "model.pretrained": None,
    "data.sampling": "dense",
    "data.flip": True,
    "eval.every": 5,
}
# deepcs233/TIN README.md "Train from scratch (with imagenet pretrain)": --gd 20 --lr 0.02 --lr_type cos --epochs 40
# --use_warmup --warmup_epochs 1 --batch-size 48 --dropout 0.8; opts.py defaults momentum 0.9, --wd 5e-4, partial BN
# (no --npb); main.py: SGD without nesterov over get_optim_policies (fc x5/x10), warm-up from lr / 10, linear
_TIN_README = {
    "optim.lr": 0.02,
    "optim.reference_batch": 48,
    "optim.momentum": 0.9,
    "optim.nesterov": False,
    "optim.weight_decay": 5e-4,
    "optim.clip_grad": 20.0,
    "optim.epochs": 40,
    "optim.warmup_epochs": 1.0,
    "optim.warmup_type": "linear",
    "optim.warmup_start": 0.1,
    "optim.schedule": "cosine",
    "optim.param_groups": "tsm",
    "optim.fc_lr5": True,
    "model.options.dropout": 0.8,
    "model.partial_bn": True,
    "model.pretrained": "imagenet",
    "model.num_classes": 174,
    "data.dataset": "sthv1",
    "data.flip": False,  # main.py: no flip for 'something'
    "data.sampling": "tsn",
    "data.input_size": 224,
    "data.scale_size": 256,
}

# recipe -> (source file, {dotted key: value})
RECIPES: dict[str, tuple[str, dict]] = {
    "tin_r50_1x1x8_mmit": (
        f"{XT} experiments/tin/default.yaml",
        {
            **_XT_2D,
            "model.name": "tin_r50",
            "model.num_segments": 8,
            "model.options.shift_div": 4,
            "model.partial_bn": False,  # no_partial_bn: True
            "data.flip": False,
            "optim.lr": 0.02,
            "optim.warmup_epochs": 1.0,
            "optim.warmup_type": "linear",
            "optim.t_max_epochs": 30.0,
            "optim.epochs": 35,
            "eval.every": 1,
        },
    ),
    "tsm_r50_1x1x8_mmit": (
        f"{XT} experiments/tsm/default.yaml",
        {
            **_XT_2D,
            "model.name": "tsm_r50",
            "model.num_segments": 8,
            "model.options.shift_div": 8,
            "model.partial_bn": True,  # no_partial_bn: False
            "data.flip": True,
            "optim.lr": 0.01,
            "optim.warmup_epochs": 5.0,
            "optim.warmup_type": "exp",  # no warmup_type: the default
            "optim.t_max_epochs": 30.0,
            "optim.epochs": 30,
            "eval.every": 1,
        },
    ),
    "tsn_r50_1x1x5_mmit": (
        f"{XT} experiments/tsn/default.yaml",
        {
            **_XT_2D,
            "model.name": "tsn_r50",
            "model.num_segments": 5,  # ours (ModelZoo.md's MMIT TSN); the yaml's 8 is its UCF-101 example's
            "model.partial_bn": True,
            "data.flip": True,
            "optim.lr": 0.01,
            "optim.warmup_epochs": 5.0,
            "optim.warmup_type": "exp",
            "optim.t_max_epochs": 30.0,
            "optim.epochs": 30,
            "eval.crops": 1,  # evaluate.spatial_crops
            "eval.clips": 1,  # evaluate.temporal_samples
            "eval.every": 1,
        },
    ),
    "slowfast_r50_8x8_mmit": (
        f"{XT} experiments/slowfast/default.yaml",
        {
            **_XT_SLOWFAST,
            "model.name": "slowfast_r50",
            "model.num_segments": 32,
            "model.options.variant": "xtemporal",  # net.arch: sfresnet50
            "data.rate": 2,
            "data.input_size": 112,
            "data.scale_size": 128,
            "eval.crops": 1,
            "eval.clips": 1,
        },
    ),
    # no X-Temporal recipe for these: the model and its input are ours, the training slowfast/default.yaml's
    "slow_r50_8x8_mmit": (
        f"{XT} experiments/slowfast/default.yaml",
        {**_XT_SLOWFAST, "model.name": "slow_r50", "model.num_segments": 8, "data.rate": 8, "data.input_size": 224},
    ),
    "fast_r50_32x2_mmit": (
        f"{XT} experiments/slowfast/default.yaml",
        {**_XT_SLOWFAST, "model.name": "fast_r50", "model.num_segments": 32, "data.rate": 2, "data.input_size": 112},
    ),
}
for _model, _options in (("tin", {"model.options.shift_div": 4}), ("tsm", {"model.options.shift_div": 8}), ("tsn", {})):
    for _frames in (8, 16):
        RECIPES[f"{_model}_r50_1x1x{_frames}_40e_sthv1"] = (
            f"{TIN} README.md",
            {**_TIN_README, **_options, "model.name": f"{_model}_r50", "model.num_segments": _frames},
        )
# calibrated for the small scales (their headers say why): no published source
OURS = {"smoke", "embedded_sthv1", "embedded_mmit"}


def _get(config, dotted: str):
    node = config
    for part in dotted.split("."):
        node = node[part] if isinstance(node, dict) else getattr(node, part)
    return node


def _header(name: str) -> str:
    lines = recipe_path(name).read_text(encoding="utf-8").splitlines()
    return "\n".join(line for line in lines[: next(i for i, line in enumerate(lines) if not line.startswith("#"))])


def test_the_table_covers_every_recipe():
    assert set(available_recipes()) == set(RECIPES) | OURS


@pytest.mark.parametrize("name", sorted(RECIPES))
def test_recipe_matches_its_source(name):
    config = load_config(name)
    _, expected = RECIPES[name]
    wrong = {key: (_get(config, key), value) for key, value in expected.items() if _get(config, key) != value}
    assert not wrong, f"{name}: key: (recipe, source) {wrong}"


@pytest.mark.parametrize("name", sorted(RECIPES))
def test_recipe_header_names_its_source(name):
    source, _ = RECIPES[name]
    repo, path = source.split(" ", 1)
    header = " ".join(_header(name).replace("#", " ").split())
    assert repo in header and path in header, f"{name}: the header does not name {source}"


@pytest.mark.parametrize("name", sorted(OURS))
def test_small_recipes_have_a_header(name):
    assert _header(name).strip()


# --- schedules ------------------------------------------------------------------------------------------------


def test_tin_warm_up_and_cosine():
    # deepcs233/TIN main.py: lr / 10 + (lr - lr / 10) * e / w, then 0.5 lr (1 + cos(pi (e - w) / (E - w)))
    assert lr_factor(0, 100, 10, "cosine", "linear", 0.1) == pytest.approx(0.1)
    assert lr_factor(4, 100, 10, "cosine", "linear", 0.1) == pytest.approx(0.1 + 0.9 * 0.4)
    assert lr_factor(10, 100, 10, "cosine") == pytest.approx(1.0)
    assert lr_factor(40, 100, 10, "cosine") == pytest.approx(0.5 * (1 + math.cos(math.pi / 3)))


def test_exponential_warm_up():
    # X-Temporal ExponentialWarmUpLR: target * gamma**t / lr_scale, gamma = lr_scale ** (1 / w)
    start = 1 / 64
    assert lr_factor(0, 100, 10, "constant", "exp", start) == pytest.approx(start)
    assert lr_factor(5, 100, 10, "constant", "exp", start) == pytest.approx(1 / 8)  # sqrt(1/64)
    assert lr_factor(7, 100, 10, "constant", "exp", start) == pytest.approx(64**0.7 / 64)
    assert lr_factor(10, 100, 10, "constant", "exp", start) == 1.0


def _xtemporal_rates(steps: int, warmup: int, t_max: int, warmup_type: str, lr_scale: float) -> list[float]:
    """The rate of each iteration under torch's CosineAnnealingLR whose get_lr returns the warm-up's rate up to
    ``warmup`` (inclusive), as X-Temporal chains them (x_temporal/utils/lr_helper.py): an independent check."""
    target = 0.5

    class Chained(torch.optim.lr_scheduler.CosineAnnealingLR):
        def get_lr(self):
            t = self.last_epoch
            if t <= warmup:  # no warm-up: no scaling, and divisions by max(1, warmup), as lr_helper.py does
                scale = lr_scale if warmup > 0 else 1.0
                if warmup_type == "exp":
                    return [target * (scale ** (1 / max(1, warmup))) ** t / scale for _ in self.base_lrs]
                init = target / scale
                return [init + (target - init) * t / max(1, warmup) for _ in self.base_lrs]
            return super().get_lr()

    weight = nn.Parameter(torch.zeros(1))
    optimizer = torch.optim.SGD([weight], lr=target)
    scheduler = Chained(optimizer, T_max=t_max)
    rates = []
    for _ in range(steps):
        rates.append(optimizer.param_groups[0]["lr"] / target)
        optimizer.step()
        scheduler.step()
    return rates


@pytest.mark.parametrize("warmup_type", ["linear", "exp"])
@pytest.mark.parametrize("warmup, t_max, steps", [(10, 300, 350), (50, 300, 300), (0, 40, 100)])
def test_cosine_annealing_is_torch_chained_after_the_warm_up(warmup_type, warmup, t_max, steps):
    expected = _xtemporal_rates(steps, warmup, t_max, warmup_type, lr_scale=64)
    ours = [lr_factor(t, steps, warmup, "cosine_annealing", warmup_type, 1 / 64, t_max) for t in range(steps)]
    assert ours == pytest.approx(expected, rel=1e-6, abs=1e-9)


def test_cosine_annealing_rises_again_after_t_max():
    # X-Temporal's TIN recipe: 35 epochs, T_max 30 (here 10 steps per epoch, 1 warm-up epoch)
    rate = [lr_factor(t, 350, 10, "cosine_annealing", "linear", 1 / 64, 300) for t in range(351)]
    assert rate[300] == pytest.approx(0.0, abs=1e-12)
    assert rate[350] == pytest.approx(0.5 * (1 + math.cos(math.pi * 350 / 300)))  # ~0.067
    assert all(b > a for a, b in zip(rate[300:350], rate[301:351]))
    # before T_max: torch's recursion normalised at the warm-up's end, c(t) / c(w)
    c = lambda t: 1 + math.cos(math.pi * t / 300)  # noqa: E731
    assert rate[150] == pytest.approx(c(150) / c(10))


# --- config and parameter groups ------------------------------------------------------------------------------


def test_schedule_keys_are_checked():
    with pytest.raises(ConfigError, match="t_max_epochs"):
        load_config("smoke", ["optim.t_max_epochs=30"])  # schedule cosine
    with pytest.raises(ConfigError, match="warmup_type"):
        load_config("smoke", ["optim.warmup_type=cosine"])
    with pytest.raises(ConfigError, match="fc_lr5"):
        load_config("smoke", ["optim.param_groups=single", "optim.fc_lr5=true"])
    with pytest.raises(ConfigError, match="warmup_start"):
        load_config("smoke", ["optim.warmup_start=0"])


def test_single_group_decays_every_trainable_parameter():
    model = create("tsm_r50", 5, 2, width=8, depths=[1, 1, 1, 1])
    model.set_partial_bn(True)
    (group,) = single_param_group(model, 5e-4)
    trainable = [p for p in model.parameters() if p.requires_grad]
    assert group["weight_decay"] == 5e-4 and group["lr_mult"] == 1.0
    assert {id(p) for p in group["params"]} == {id(p) for p in trainable}
    # the official groups hold the same parameters, BN and biases without decay
    official = tin_param_groups(model, 5e-4)
    assert sum(len(g["params"]) for g in official) == len(trainable)
    assert any(g["weight_decay"] == 0 for g in official)


def test_training_uses_the_xtemporal_options(tmp_path, tmp_path_factory):
    config = load_config(
        "smoke",
        [
            f"output_dir={tmp_path}",
            f"data.cache_dir={tmp_path_factory.mktemp('datasets')}",
            "optim.epochs=2",
            "optim.warmup_epochs=1",
            "optim.warmup_type=exp",
            "optim.warmup_start=null",
            "optim.schedule=cosine_annealing",
            "optim.t_max_epochs=1.5",
            "optim.param_groups=single",
            "optim.fc_lr5=false",
            "eval.every=2",
        ],
    )
    train(config)
    steps = [json.loads(line) for line in (tmp_path / "log.jsonl").read_text().splitlines()]
    steps = [s for s in steps if s.get("event") == "step"]
    per_epoch = sum(s["epoch"] == 0 for s in steps)
    base = config.optim.lr * config.optim.batch_size / config.optim.reference_batch
    for s in steps:
        expected = lr_factor(
            s["step"],
            2 * per_epoch,
            per_epoch,
            "cosine_annealing",
            "exp",
            1 / config.optim.batch_size,
            round(1.5 * per_epoch),
        )
        assert s["lr"] == pytest.approx(base * expected)
    assert steps[0]["lr"] == pytest.approx(base / config.optim.batch_size)
