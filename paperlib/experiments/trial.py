"""The trial of the full route: every chapter's full-size recipes, run end to end with a few iterations per run
and a handful of videos per evaluation, so a wrong key, shape or path shows in minutes on a CPU rather than after
the first epoch on a cluster (``python -m reproduce --scale full --trial``; a chapter's ``trial`` parameter).

A trial changes the amount of work and, where no real data or weights are given, what it starts from; nothing
else. :func:`apply`, called wherever the run cache names a run or an evaluation (``run_folder`` and
``evaluation_folder``), sets on each configuration:

- ``optim.max_steps``: the run stops after :attr:`Trial.steps` iterations, then evaluates (its schedule is still
  the whole run's, so it stops in the warm-up);
- ``data.limit``: every list (training, validation, test) is read to its first :attr:`Trial.videos` entries;
- ``optim.batch_size`` and ``eval.batch_size``: at most :attr:`Trial.batch` clips per process (the recipe's
  learning rate is scaled linearly from its reference batch, as on any number of GPUs);
- ``data.workers``: at most one loader process per CPU core of this machine;
- ``model.pretrained``: where a recipe starts from ImageNet and no ImageNet folder is given (``--imagenet``,
  ``$PAPERLIB_IMAGENET``), :func:`random_imagenet`, a RANDOM ResNet in torchvision's layout (not ImageNet weights:
  its file name says so), loaded by the same route as torchvision's file;
- ``model.num_classes``: on the rendered data, the classes of its ``category.txt`` (10 and 12, not 174 and 313).

Without real data the chapters read :func:`trial_data`: the embedded Something-v1 and MMIT sets at their
generators' ``trial`` scale (256 px frames, a handful of videos), in the real layouts, listed by the real
preparers. Results go to ``results/full-trial/`` (:func:`paperlib.experiments.chapter.results_root`), which a real
build never reads, and a book built from them carries a banner on every page (``book/_ext/trial_banner.py``).

The trial is on when ``$PAPERLIB_TRIAL`` is set: ``1`` for the defaults, or ``steps=1,videos=2`` (any of
:class:`Trial`'s fields) to change them.
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass
from pathlib import Path

ENV = "PAPERLIB_TRIAL"
SUFFIX = "-trial"  # results/<scale><SUFFIX>: results/full-trial
SCALE = "trial"  # the synthetic generators' scale the trial renders (paperlib.data.synthetic)
RANDOM_IMAGENET = "resnet{depth}-random-init-NOT-imagenet.pth"


@dataclass(frozen=True)
class Trial:
    """How much work a trial does: ``steps`` training iterations per run, ``videos`` entries read of every list,
    ``batch`` clips per process, ``rounds`` timed rounds of the speed chapter's benchmark, ``clips`` clips of
    MMIT's multi-view test (3 crops x ``clips``; the full scale's is 10)."""

    steps: int = 2
    videos: int = 4
    batch: int = 2
    rounds: int = 1
    clips: int = 10

    def describe(self) -> str:
        return (
            f"{self.steps} training iteration{'s' if self.steps > 1 else ''} per run, batches of {self.batch} clips, "
            f"the first {self.videos} videos of every list"
            + (f", MMIT's multi-view test at 3 crops x {self.clips} clips" if self.clips != Trial.clips else "")
        )


def parse(text: str) -> Trial:
    """``"1"`` -> the defaults; ``"steps=1,videos=2"`` -> those fields changed. A bad value names the field."""
    text = text.strip()
    if text.lower() in ("1", "true", "yes", "on"):
        return Trial()
    fields = {f.name for f in dataclasses.fields(Trial)}
    values = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        name, sep, value = part.partition("=")
        if not sep or name.strip() not in fields or not value.strip().isdigit() or int(value) < 1:
            raise ValueError(
                f"{ENV}={text!r}: expected 1, or NAME=N pairs separated by commas with N >= 1 "
                f"(names: {', '.join(sorted(fields))}); bad part {part!r}"
            )
        values[name.strip()] = int(value)
    return Trial(**values)


def current() -> Trial | None:
    """The trial ``$PAPERLIB_TRIAL`` asks for; None when it is unset or ``0``."""
    text = os.environ.get(ENV, "").strip()
    return None if text.lower() in ("", "0", "false", "no", "off") else parse(text)


def activate(on: bool | Trial) -> None:
    """Turn the trial on (the defaults, or ``on``'s settings) or off for this process and the ones it starts."""
    if on is False:
        os.environ.pop(ENV, None)
    elif isinstance(on, Trial):
        os.environ[ENV] = ",".join(f"{k}={v}" for k, v in dataclasses.asdict(on).items())
    elif current() is None:
        os.environ[ENV] = "1"


def cache_dir() -> Path:
    """Where the trial's data and start weights are generated: the embedded datasets' cache."""
    from ..engine.config import DataConfig

    return Path(DataConfig().cache_dir).expanduser()


def trial_data(dataset: str, root: str | os.PathLike | None = None) -> Path:
    """The folder of the rendered trial set of ``dataset`` (``"sthv1"`` or ``"mmit"``), generated on first use
    under ``root`` (default :func:`cache_dir`) and listed by the real preparer (``category.txt``, ``train.txt``,
    ``val.txt``, and MMIT's ``test.txt``)."""
    from ..data import synthetic
    from ..data.prepare import PREPARERS
    from ..engine.data import EMBEDDED

    if dataset not in EMBEDDED:
        raise ValueError(f"no trial data for {dataset!r} (trial data: {', '.join(EMBEDDED)})")
    generated = getattr(synthetic, EMBEDDED[dataset])(Path(root) if root else cache_dir(), SCALE, 0)
    if not (generated.root / "category.txt").is_file():
        PREPARERS[dataset](generated.root)
    return generated.root


def is_rendered(root: str | os.PathLike | None) -> bool:
    """Whether ``root`` is a generated dataset (it holds the generators' ``fingerprint.json``)."""
    return root is not None and (Path(root) / "fingerprint.json").is_file()


def random_imagenet(model_name: str = "resnet50", folder: str | os.PathLike | None = None) -> Path:
    """A RANDOMLY initialised torchvision ResNet-50 (or -101, by ``model_name``) state dict, saved with
    ``torch.save(torchvision.models.resnet50(weights=None).state_dict(), ...)`` (seed 0) as
    ``resnet50-random-init-NOT-imagenet.pth`` under ``folder`` (default: :func:`cache_dir`), written once. It has
    torchvision's layout, so it takes ImageNet's route into the 2D models; it holds NO ImageNet training."""
    import torch
    import torchvision

    from ..utils import atomic_write_bytes

    depth = "101" if "101" in model_name else "50"
    path = Path(folder or cache_dir()) / RANDOM_IMAGENET.format(depth=depth)
    if not path.is_file():
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(0)
            state = getattr(torchvision.models, f"resnet{depth}")(weights=None).state_dict()
        import io

        buffer = io.BytesIO()
        torch.save(state, buffer)
        atomic_write_bytes(path, buffer.getvalue())
    return path


def apply(config) -> None:
    """Cut ``config`` (a :class:`~paperlib.engine.config.RunConfig`, changed in place) to the current trial's work
    (see the module docstring); nothing when no trial is on. Applying it twice changes nothing more."""
    trial = current()
    if trial is None:
        return
    config.optim.max_steps = min(config.optim.max_steps or trial.steps, trial.steps)
    config.data.limit = min(config.data.limit or trial.videos, trial.videos)
    config.optim.batch_size = min(config.optim.batch_size, trial.batch)
    config.eval.batch_size = min(config.eval.batch_size, trial.batch)
    config.data.workers = min(config.data.workers, os.cpu_count() or 1)
    if (config.model.pretrained or "").lower() == "imagenet" and not os.environ.get("PAPERLIB_IMAGENET"):
        config.model.pretrained = str(random_imagenet(config.model.name))
    if is_rendered(config.data.root):
        config.model.num_classes = None  # the rendered set's own classes (category.txt)


def banner(trial: Trial | None = None) -> str:
    """The line a trial book shows on every page."""
    trial = trial or current() or Trial()
    imagenet = (
        "the ImageNet weights given"
        if os.environ.get("PAPERLIB_IMAGENET")
        else "a RANDOM ResNet-50 in torchvision's layout instead of ImageNet weights"
    )
    data = (
        "the data given"
        if os.environ.get("PAPERLIB_DATA_ROOT") or os.environ.get("PAPERLIB_MMIT_ROOT")
        else "the embedded Something-v1 and MMIT sets rendered at full size"
    )
    return (
        f"TRIAL of the full route, not results: the paper recipes at full size cut to {trial.describe()}, on "
        f"{data}, starting from {imagenet}. No number in this book measures anything."
    )
