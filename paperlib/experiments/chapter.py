"""A chapter's parameters, where its results go, and how it saves them.

Every chapter notebook starts with ``chapter = open_chapter("<name>", scale=..., ...)`` and ends with
``chapter.save({...})``. The results location does not depend on the current directory, so
``jupyter-book build book/``, ``python -m reproduce``, ``papermill`` run from anywhere and a notebook opened in
JupyterLab all share one run cache:

1. the ``results_dir`` parameter, if given;
2. else ``$PAPERLIB_RESULTS/<scale>``;
3. else ``<repository>/results/<scale>`` when ``paperlib`` runs from a checkout (a folder holding
   ``pyproject.toml`` and ``notebooks/`` above the package);
4. else ``~/.cache/paperlib/results/<scale>`` (an installed package).

A trial of the full route (the ``trial`` parameter, :mod:`.trial`) keeps its results apart, in
``<...>/full-trial``, which a real build never reads.

Inside it: ``notebooks/<chapter>.json`` (the chapter's numbers with provenance) and one folder per experiment
(``table1/``, ``mmit/``) holding the cached runs.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from . import trial as trial_module
from .folders import progress
from .results import write_results

# smoke: seconds, to test the plumbing; embedded: the default book (about 30 min on 2 CPU cores, measured in
# benchmarks/results/book_build_embedded_2core.json); long: the same embedded data with deeper models, longer
# schedules and more seeds, to decide the claims the embedded build leaves undecided (hours on 2 cores); full: the
# paper recipes on the real datasets.
SCALES = ("smoke", "embedded", "long", "full")
# Training seeds per experiment when a chapter's ``seeds`` parameter is not given. Table 1 pairs TSM and TIN by
# seed (same data order): five pairs give a 95 % interval of the difference (the claims ledger).
DEFAULT_SEEDS = {
    # embedded: 3 seeds fit the 15-minute build (an interval, if a wide one); long: 5 paired seeds
    "table1": {"smoke": [0], "embedded": [0, 1, 2], "long": [0, 1, 2, 3, 4], "full": [0]},
    "mmit": {"smoke": [0], "embedded": [0, 1], "long": [0, 1, 2], "full": [0]},
}
EXPERIMENT_OF = {"mmit_single": "mmit", "mmit_ensemble": "mmit"}  # chapter -> its experiment (default: table1)
DEVICES = ("auto", "cpu", "cuda")


def default_scale() -> str:
    """``$PAPERLIB_SCALE`` if set, else ``"embedded"`` (checked against :data:`SCALES`)."""
    scale = os.environ.get("PAPERLIB_SCALE", "embedded")
    if scale not in SCALES:
        raise ValueError(f"PAPERLIB_SCALE={scale!r} is not one of {SCALES}")
    return scale


def default_seeds(scale: str, experiment: str = "table1") -> list[int]:
    """The seeds of ``experiment`` (``table1`` or ``mmit``) when a chapter's ``seeds`` parameter is not given."""
    return list(DEFAULT_SEEDS[experiment][scale])


def repository_root() -> Path | None:
    """The checkout ``paperlib`` runs from, or None for an installed package."""
    root = Path(__file__).resolve().parents[2]
    return root if (root / "pyproject.toml").is_file() and (root / "notebooks").is_dir() else None


def results_root(scale: str, trial: bool = False) -> Path:
    """Where a build at ``scale`` keeps its results (see the module docstring for the order); a trial's
    (:mod:`.trial`) go to ``<scale>-trial`` beside them."""
    folder = scale + (trial_module.SUFFIX if trial else "")
    if os.environ.get("PAPERLIB_RESULTS"):
        return Path(os.environ["PAPERLIB_RESULTS"]).expanduser().resolve() / folder
    root = repository_root()
    return (root / "results" if root is not None else Path("~/.cache/paperlib/results").expanduser()) / folder


def check_parameters(**parameters) -> None:
    """Fail at the parameters cell, naming the parameter, when a notebook parameter has a wrong value."""
    for name in ("scale", "profile"):
        if parameters.get(name) is not None and parameters[name] not in SCALES:
            raise ValueError(f"parameter '{name}' must be one of {SCALES}, got {parameters[name]!r}")
    for name in ("data_root", "mmit_root", "results_dir", "checkpoints"):
        if parameters.get(name) is not None and not isinstance(parameters[name], (str, os.PathLike)):
            raise TypeError(f"parameter '{name}' must be a path or None, got {parameters[name]!r}")
    seeds = parameters.get("seeds")
    if seeds is not None and not (
        isinstance(seeds, (list, tuple)) and seeds and all(isinstance(s, int) for s in seeds)
    ):
        raise TypeError(f"parameter 'seeds' must be a non-empty list of integers, got {seeds!r}")
    device = parameters.get("device")
    if device is not None and device not in DEVICES:
        raise ValueError(f"parameter 'device' must be one of {DEVICES}, got {device!r}")
    trial = parameters.get("trial")
    if trial is not None and not isinstance(trial, bool):
        raise TypeError(f"parameter 'trial' must be True, False or None, got {trial!r}")


def shown_path(path: str | os.PathLike, results_dir: str | os.PathLike) -> str:
    """``path`` as a book page shows it: relative to the repository when it lies in the checkout, else relative
    to the results folder, else its name alone (never a machine's absolute path)."""
    path = Path(path).resolve()
    for base in (repository_root(), Path(results_dir).resolve()):
        if base is not None and path.is_relative_to(base):
            return path.relative_to(base).as_posix()
    return path.name


@dataclass
class Chapter:
    """One chapter's resolved parameters. ``results_dir`` holds every run of this scale; ``mmit_root`` is the MMIT
    data of a chapter that reads both datasets (``data_root`` is the chapter's own); ``trial``: a trial of the full
    route (:mod:`.trial`); ``extra`` keeps the chapter's own parameters (recorded with its results)."""

    name: str
    scale: str
    seeds: list[int]
    data_root: str | None
    checkpoints: str | None
    device: str
    results_dir: Path
    extra: dict = field(default_factory=dict)
    mmit_root: str | None = None
    trial: bool = False

    @property
    def parameters(self) -> dict:
        """What decides this chapter's numbers (recorded in its results file)."""
        shown = {"scale": self.scale, "seeds": self.seeds, "data_root": self.data_root}
        trial = {"trial": trial_module.current().describe(), "mmit_root": self.mmit_root} if self.trial else {}
        return {**shown, "checkpoints": self.checkpoints, "device": self.device, **trial, **self.extra}

    @property
    def data_label(self) -> str:
        """The data this chapter ran on, for captions."""
        if self.trial:
            data = "the embedded set rendered at full size" if trial_module.is_rendered(self.data_root) else "data"
            return f"TRIAL of the full route ({trial_module.current().describe()}) on {data}: not a result"
        return "the embedded dataset" if self.data_root is None else f"data at {self.data_root}"

    def relative(self, path: str | os.PathLike) -> str:
        """``path`` as a page shows it (:func:`shown_path`): no machine paths on a page."""
        return shown_path(path, self.results_dir)

    def save(self, results: dict) -> None:
        """Write ``<results_dir>/notebooks/<name>.json`` atomically (returns nothing, so a cell shows nothing)."""
        write_results(self.results_dir / "notebooks", self.name, results, self.parameters)


def open_chapter(
    name: str,
    *,
    scale: str | None = None,
    profile: str | None = None,
    seeds: list[int] | None = None,
    data_root: str | os.PathLike | None = None,
    checkpoints: str | os.PathLike | None = None,
    device: str = "auto",
    results_dir: str | os.PathLike | None = None,
    trial: bool | None = None,
    mmit_root: str | os.PathLike | None = None,
    **extra,
) -> Chapter:
    """Resolve a chapter's parameters (defaults, checks, results location) from its parameters cell. Left at
    their defaults, ``data_root``, ``checkpoints`` and ``device`` come from ``$PAPERLIB_DATA_ROOT`` (the MMIT
    chapters': ``$PAPERLIB_MMIT_ROOT``), ``$PAPERLIB_CHECKPOINTS`` and ``$PAPERLIB_DEVICE`` when set (``python -m
    reproduce`` sets them), ``mmit_root`` (the MMIT data of a chapter that reads both datasets) from
    ``$PAPERLIB_MMIT_ROOT`` and ``trial`` from ``$PAPERLIB_TRIAL`` (:mod:`.trial`). ``profile`` is another name
    for ``scale`` (``papermill ... -p profile smoke``); giving both with different values fails.

    A trial (scale ``full`` only) turns :mod:`.trial` on for this process, reads the rendered trial sets where no
    data is given, and keeps its results in ``results/full-trial``."""
    mmit_chapter = EXPERIMENT_OF.get(name) == "mmit"
    own_data = "PAPERLIB_MMIT_ROOT" if mmit_chapter else "PAPERLIB_DATA_ROOT"
    data_root = data_root if data_root is not None else os.environ.get(own_data) or None
    mmit_root = mmit_root if mmit_root is not None else os.environ.get("PAPERLIB_MMIT_ROOT") or None
    checkpoints = checkpoints if checkpoints is not None else os.environ.get("PAPERLIB_CHECKPOINTS") or None
    device = device if device != "auto" else os.environ.get("PAPERLIB_DEVICE", "auto")
    check_parameters(
        scale=scale,
        profile=profile,
        seeds=seeds,
        data_root=data_root,
        mmit_root=mmit_root,
        checkpoints=checkpoints,
        device=device,
        trial=trial,
    )
    if profile is not None:
        if scale is not None and scale != profile:
            raise ValueError(f"parameters 'scale' ({scale!r}) and 'profile' ({profile!r}) disagree: give one")
        scale = profile
    check_parameters(results_dir=results_dir)
    scale = scale or default_scale()
    trial = trial_module.current() is not None if trial is None else trial
    if trial:
        if scale != "full":
            raise ValueError(f"parameter 'trial' is a trial of the full route: it needs scale 'full', got {scale!r}")
        trial_module.activate(True)
        if data_root is None:  # the rendered trial sets, in the real layouts
            data_root = trial_module.trial_data("mmit" if mmit_chapter else "sthv1")
        if mmit_root is None:
            mmit_root = data_root if mmit_chapter else trial_module.trial_data("mmit")
    else:
        trial_module.activate(False)
    mmit_root = data_root if mmit_chapter else mmit_root
    chapter = Chapter(
        name=name,
        scale=scale,
        seeds=list(seeds) if seeds else default_seeds(scale, EXPERIMENT_OF.get(name, "table1")),
        data_root=None if data_root is None else str(data_root),
        checkpoints=None if checkpoints is None else str(checkpoints),
        device=device,
        results_dir=Path(results_dir).expanduser().resolve() if results_dir is not None else results_root(scale, trial),
        extra=extra,
        mmit_root=None if mmit_root is None else str(mmit_root),
        trial=trial,
    )
    what = "TRIAL of the full route" if trial else f"{scale} scale"
    progress(chapter.results_dir, f"chapter {name}: {what}, seeds {chapter.seeds}")
    return chapter
