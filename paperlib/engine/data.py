"""From a DataConfig to datasets: the embedded dataset (generated on first use) or a real one on disk."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ..data import (
    ClipSampler,
    FrameReadError,
    TestTransform,
    TrainTransform,
    VideoDataset,
    frame_cache,
    read_class_names,
    source_for,
)
from ..data.prepare import PREPARERS
from ..utils import sha256_file
from .config import ConfigError, RunConfig
from .distributed import DistInfo, all_gather_objects, barrier, broadcast_object

# The embedded datasets and the real format each imitates.
EMBEDDED = {"sthv1": "make_something", "mmit": "make_mmit"}


@dataclass(frozen=True)
class ResolvedData:
    root: Path
    train_list: Path
    val_list: Path
    class_names: list[str]
    fingerprint: dict  # counts and hashes that identify the data a result came from


def _list_fingerprint(root: Path, lists: list[Path], class_names: list[str]) -> dict:
    return {
        "root": str(root),
        "lists_sha256": sha256_file(*lists, length=16),
        "classes": len(class_names),
        "entries": {p.name: sum(1 for line in p.read_text().splitlines() if line.strip()) for p in lists},
    }


def resolve_data(config: RunConfig, info: DistInfo = DistInfo()) -> ResolvedData:
    """Locate (or generate, on rank 0) the dataset and its list files; fills in ``model.num_classes`` if unset."""
    cfg = config.data
    generated_fingerprint = None
    if cfg.root is None:
        if cfg.dataset not in EMBEDDED:
            raise ConfigError(
                f"data.root is not set and there is no embedded {cfg.dataset!r} dataset "
                f"(embedded: {', '.join(EMBEDDED)}); point data.root at the dataset"
            )
        from ..data import synthetic

        root = None
        if info.is_main:
            generated = getattr(synthetic, EMBEDDED[cfg.dataset])(
                Path(cfg.cache_dir).expanduser(), cfg.embedded_scale, cfg.embedded_seed
            )
            root = generated.root
            if not (root / "category.txt").exists():
                PREPARERS[cfg.dataset](root)
            generated_fingerprint = generated.fingerprint
        root, generated_fingerprint = broadcast_object((root, generated_fingerprint), info)
        barrier(info)
    else:
        root = Path(cfg.root).expanduser()
        if not root.is_dir():
            raise FileNotFoundError(f"data.root {root} is not a folder")
    train_list, val_list = (Path(p) if Path(p).is_absolute() else root / p for p in (cfg.train_list, cfg.val_list))
    for key, path in (("data.train_list", train_list), ("data.val_list", val_list)):
        if not path.is_file():
            raise FileNotFoundError(f"{key}: {path} not found (write it with `python -m paperlib.data.prepare`)")
    categories = root / "category.txt"
    class_names = read_class_names(categories) if categories.is_file() else []
    if config.model.num_classes is None:
        if not class_names:
            raise ConfigError(
                f"model.num_classes is not set and {categories} does not exist to count the classes; "
                "set model.num_classes or write category.txt (python -m paperlib.data.prepare)"
            )
        config.model.num_classes = len(class_names)
    fingerprint = _list_fingerprint(root, [train_list, val_list], class_names)
    if generated_fingerprint is not None:
        fingerprint["generated"] = generated_fingerprint
    return ResolvedData(root, train_list, val_list, class_names, fingerprint)


def build_datasets(config: RunConfig, data: ResolvedData) -> tuple[VideoDataset, VideoDataset]:
    """Training and validation datasets of a run."""
    cfg, t = config.data, config.model.num_segments
    if data.class_names and len(data.class_names) != config.model.num_classes:
        raise ConfigError(
            f"model.num_classes is {config.model.num_classes} but {data.root / 'category.txt'} "
            f"lists {len(data.class_names)} classes; make them agree"
        )
    source = frame_cache.cached(source_for(cfg.source, cfg.template))  # as it is when the process turns it on
    crop = {} if cfg.crop_scales is None else {"scales": tuple(cfg.crop_scales)}
    common = dict(
        source=source,
        num_classes=config.model.num_classes,
        multi_label=cfg.multi_label,
        seed=config.seed,
        on_error=cfg.on_error,
    )
    train = VideoDataset(
        data.train_list,
        data.root,
        sampler=ClipSampler(cfg.sampling, t, cfg.rate),
        transform=TrainTransform(cfg.input_size, cfg.flip, **crop),
        **common,
    )
    val = VideoDataset(
        data.val_list,
        data.root,
        sampler=ClipSampler(cfg.sampling, t, cfg.rate, config.eval.clips, config.eval.protocol),
        transform=TestTransform(
            config.eval.crop_size or cfg.input_size, cfg.scale_size, config.eval.crops, protocol=config.eval.protocol
        ),
        **common,
    )
    if cfg.limit is not None:  # a trial of the route: the first entries of each list only
        for dataset in (train, val):
            dataset.records = dataset.records[: cfg.limit]
    return train, val


# (list file, its sha256, entries read, root, source kind, template) -> the unreadable entries found: a process
# that trains several runs on the same data (a book chapter) decodes it once.
_CHECKED: dict[tuple, list[str]] = {}


def unreadable_entries(dataset: VideoDataset, info: DistInfo = DistInfo(), workers: int = 0) -> list[str]:
    """Every entry of ``dataset`` that cannot be read, as ``"LIST:LINE: PATH: why"``: each frame file (each video)
    an entry can be read from is opened and decoded (:func:`paperlib.data.check.entry_problems`). Under DDP each
    rank decodes its share and every rank gets the whole list."""
    from ..data.check import records_problems

    source = dataset.source
    template = getattr(source, "template", "{:05d}.jpg")
    where = dataset.list_file or "records"
    key = None
    if dataset.list_file is not None:
        key = (where, sha256_file(dataset.list_file), len(dataset.records), str(dataset.root), source.kind, template)
        if key in _CHECKED:
            return list(_CHECKED[key])
    found = records_problems(
        dataset.records,
        dataset.root,
        source.kind,
        template,
        indices=range(info.rank, len(dataset.records), info.world_size),
        workers=workers,
    )
    local = [(record.line, f"{where}:{record.line}: {record.path}: {problem}") for record, problem in found]
    broken = [text for _, text in sorted(x for part in all_gather_objects(local, info) for x in part)]
    if key is not None:
        _CHECKED[key] = broken
    return list(broken)


def refuse_unreadable(datasets: list[VideoDataset], on_error: str, info: DistInfo, workers: int = 0) -> list[str]:
    """Decode every entry of ``datasets`` before anything runs. With ``on_error="raise"`` any unreadable entry
    stops the run here (:class:`FrameReadError`, one line: how many, the first, what to do); with ``"skip"`` the
    list of them is returned (they will be skipped and reported)."""
    broken = [entry for dataset in datasets for entry in unreadable_entries(dataset, info, workers)]
    if broken and on_error == "raise":
        lists = sorted({entry.split(":", 1)[0] for entry in broken})
        raise FrameReadError(
            f"{len(broken)} list entr{'y' if len(broken) == 1 else 'ies'} cannot be read, the first: {broken[0]}; "
            f"list them all with `python -m paperlib.data.check {lists[0]} --root ...`, fix or remove them, "
            "or set data.on_error=skip to train without them"
        )
    return broken
