"""Shared pieces of the synthetic datasets: the on-disk cache with its fingerprint, and numpy sprite drawing.

Frames are float32 arrays ``[T, H, W, 3]`` in 0-255 until :func:`to_uint8`. Positions and sizes are in
pixels, angles in radians, image axes x -> right and y -> down, so a growing angle turns clockwise on screen.
"""

from __future__ import annotations

import colorsys
import json
import os
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from ...utils import atomic_write_text, sha256_file, sha256_json

# Bump when a change alters the bytes written for the same scale and seed: it renames every cached folder
GENERATOR_VERSION = 1
FINGERPRINT = "fingerprint.json"
_IDENTITY = ("generator", "generator_version", "scale", "params", "seed", "param_hash")


@dataclass(frozen=True)
class GeneratedDataset:
    """A generated dataset on disk, in the real dataset's own format.

    Attributes:
        root: the dataset folder (name carries the parameter hash).
        fingerprint: the content of ``root/fingerprint.json``.
        label_map: the class-name file (Something: one name per line; MMIT: ``name,id`` lines).
        splits: split name -> annotation file.
        data_dir: the frame folders (Something) or the videos (MMIT).
        classes: class names indexed by label id.
    """

    root: Path
    fingerprint: dict
    label_map: Path
    splits: dict[str, Path]
    data_dir: Path
    classes: tuple[str, ...]


@dataclass(frozen=True)
class Layout:
    """Where a generator puts its files, relative to the dataset folder: the class-name file, split name ->
    annotation file or folder, the frames or videos (``""``: the folder itself), and the class names."""

    label_map: str
    splits: dict[str, str]
    data_dir: str
    classes: tuple[str, ...]


def generate_cached(
    root: str | os.PathLike,
    generator: str,
    scale: str,
    params,
    seed: int,
    layout: Layout,
    write: Callable[[Path], tuple[dict[str, int], int]],
) -> GeneratedDataset:
    """:func:`build_cached` for the scale parameters ``params`` (a dataclass), returned as a
    :class:`GeneratedDataset` laid out as ``layout`` says."""
    folder, fp = build_cached(
        root,
        generator=generator,
        scale=scale,
        params=asdict(params),
        seed=seed,
        label_map=layout.label_map,
        write=write,
    )
    return GeneratedDataset(
        root=folder,
        fingerprint=fp,
        label_map=folder / layout.label_map,
        splits={split: folder / name for split, name in layout.splits.items()},
        data_dir=folder / layout.data_dir,
        classes=layout.classes,
    )


def param_hash(generator: str, params: dict, seed: int) -> str:
    """Short hash of what determines the bytes written: generator, its version, scale parameters, seed."""
    key = {"generator": generator, "version": GENERATOR_VERSION, "params": params, "seed": seed}
    return sha256_json(key, length=10)


def fingerprint(path: str | os.PathLike) -> dict:
    """Read ``fingerprint.json`` from a dataset folder (or the file itself)."""
    path = Path(path)
    return json.loads((path / FINGERPRINT if path.is_dir() else path).read_text(encoding="utf-8"))


def resolve_scale(scale, table: dict) -> tuple[str, object]:
    """``"embedded"`` -> ``("embedded", table["embedded"])``; a scale instance -> ``("custom", scale)``."""
    if isinstance(scale, str):
        if scale not in table:
            raise KeyError(f"unknown scale {scale!r}; known: {sorted(table)}")
        return scale, table[scale]
    return "custom", scale


def _valid(folder: Path, expected: dict, label_map: str) -> dict | None:
    """The folder's fingerprint if it is complete and matches ``expected``, else None."""
    try:
        found = fingerprint(folder)
    except (FileNotFoundError, json.JSONDecodeError):
        return None
    if any(found.get(k) != expected[k] for k in _IDENTITY):
        return None
    if not (folder / label_map).is_file() or sha256_file(folder / label_map) != found.get("label_map_sha256"):
        return None
    return found


def cached_folder(root: str | os.PathLike, generator: str, scale: str, params: dict, seed: int) -> Path:
    """Where :func:`build_cached` keeps a dataset (whether it is there yet or not): its name carries the hash of
    what determines its bytes."""
    return Path(root) / f"{generator}-{scale}-s{seed}-{param_hash(generator, params, seed)}"


def is_built(folder: str | os.PathLike) -> bool:
    """A dataset folder is complete once its fingerprint is written (the last step of :func:`build_cached`)."""
    return (Path(folder) / FINGERPRINT).is_file()


def build_cached(
    root: str | os.PathLike,
    *,
    generator: str,
    scale: str,
    params: dict,
    seed: int,
    label_map: str,
    write: Callable[[Path], tuple[dict[str, int], int]],
) -> tuple[Path, dict]:
    """Return ``(folder, fingerprint)`` of a complete dataset under ``root``, generating it if needed.

    ``write(tmp)`` fills a fresh temporary folder and returns ``(clips per split, number of classes)``.
    The fingerprint is written last (atomically), then the folder is renamed into place, so an interrupted
    run leaves at most a hidden temporary folder and never a folder that looks complete.
    """
    root = Path(root)
    key = param_hash(generator, params, seed)
    folder = cached_folder(root, generator, scale, params, seed)
    expected = {
        "generator": generator,
        "generator_version": GENERATOR_VERSION,
        "scale": scale,
        "params": params,
        "seed": seed,
        "param_hash": key,
    }
    if (found := _valid(folder, expected, label_map)) is not None:
        return folder, found
    root.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{folder.name}.", suffix=".tmp", dir=root))
    tmp.chmod(0o755)  # mkdtemp makes it private; the dataset is readable like any other folder
    try:
        counts, num_classes = write(tmp)
        fp = {
            **expected,
            "counts": counts,
            "num_classes": num_classes,
            "label_map_sha256": sha256_file(tmp / label_map),
        }
        atomic_write_text(tmp / FINGERPRINT, json.dumps(fp, indent=2, sort_keys=True) + "\n")
        (tmp / FINGERPRINT).chmod(0o644)  # atomic_write_text goes through a private mkstemp file
        try:
            if folder.exists() and _valid(folder, expected, label_map) is None:  # stale or incomplete
                shutil.rmtree(folder)
            os.rename(tmp, folder)
        except OSError:  # another process finished the same dataset meanwhile
            if (found := _valid(folder, expected, label_map)) is None:
                raise
            shutil.rmtree(tmp)
            return folder, found
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return folder, fp


# ---- drawing -------------------------------------------------------------------------------------------


def _box(u: np.ndarray, v: np.ndarray, cx: float, cy: float, hx: float, hy: float) -> np.ndarray:
    qx, qy = np.abs(u - cx) - hx, np.abs(v - cy) - hy
    return np.hypot(np.maximum(qx, 0), np.maximum(qy, 0)) + np.minimum(np.maximum(qx, qy), 0)


def _disk(u: np.ndarray, v: np.ndarray, cx: float, cy: float, r: float) -> np.ndarray:
    return np.hypot(u - cx, v - cy) - r


def _triangle(u: np.ndarray, v: np.ndarray) -> np.ndarray:
    # Arrowhead pointing along +u, vertices (1, 0), (-0.8, +-0.8); max of the three edge distances
    n1 = np.array([0.8, 1.8]) / np.hypot(0.8, 1.8)  # outward normals of the slanted edges (±v)
    return np.maximum.reduce([-(u + 0.8), (u - 1) * n1[0] + v * n1[1], (u - 1) * n1[0] - v * n1[1]])


# Signed distance (in shape units, negative inside) of unit-sized shapes; "hand" has its pivot at the origin
# and reaches to u = 1, the others are centred on the origin. "triangle", "ell" and "hand" are asymmetric,
# so their rotation direction is visible.
SHAPES: dict[str, Callable[[np.ndarray, np.ndarray], np.ndarray]] = {
    "box": lambda u, v: _box(u, v, 0, 0, 1, 0.7),
    "disk": lambda u, v: _disk(u, v, 0, 0, 1),
    "triangle": _triangle,
    "ell": lambda u, v: np.minimum(_box(u, v, 0, 0.6, 1, 0.4), _box(u, v, -0.6, -0.2, 0.4, 0.8)),
    "hand": lambda u, v: np.minimum(_box(u, v, 0.45, 0, 0.45, 0.13), _box(u, v, 0.85, 0.2, 0.15, 0.35)),
}


def _per_frame(x, t: int) -> np.ndarray:
    return np.broadcast_to(np.asarray(x, dtype=np.float32), (t,))[:, None, None]  # [T, 1, 1]


def draw_shape(frames: np.ndarray, kind: str, cx, cy, scale, colour, angle=0.0, alpha=1.0) -> None:
    """Alpha-blend one shape into ``frames`` ``[T, H, W, 3]`` (float32, in place), anti-aliased over ~1 px.

    Args:
        kind: a key of :data:`SHAPES`.
        cx, cy: position of the shape's origin in pixels, scalars or ``[T]``.
        scale: pixels per shape unit (about the half-size; the hand's length), scalar or ``[T]``.
        colour: ``[3]`` or ``[T, 3]`` in 0-255.
        angle: radians, clockwise on screen, scalar or ``[T]``.
        alpha: opacity 0-1, scalar or ``[T]``.
    """
    t, h, w = frames.shape[:3]
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float32) + 0.5  # pixel centres
    dx, dy = xs - _per_frame(cx, t), ys - _per_frame(cy, t)  # [T, H, W]
    a, s = _per_frame(angle, t), _per_frame(scale, t)
    cos, sin = np.cos(a), np.sin(a)
    u, v = (cos * dx + sin * dy) / s, (cos * dy - sin * dx) / s  # into shape units
    mask = np.clip(0.5 - SHAPES[kind](u, v) * s, 0, 1) * _per_frame(alpha, t)  # [T, H, W]
    colour = np.asarray(colour, dtype=np.float32).reshape(-1, 1, 1, 3)
    frames += mask[..., None] * (colour - frames)


def random_colour(rng: np.random.Generator, saturation=(0.4, 1.0), value=(0.35, 1.0)) -> np.ndarray:
    """A random RGB colour ``[3]`` in 0-255 from uniform hue, saturation and value."""
    rgb = colorsys.hsv_to_rgb(rng.uniform(), rng.uniform(*saturation), rng.uniform(*value))
    return np.array(rgb, dtype=np.float32) * 255


def _upsample(coarse: np.ndarray, size: int) -> np.ndarray:
    """Bilinear ``[k, k, C]`` -> ``[size, size, C]``."""
    k = coarse.shape[0]
    interp = np.stack([np.interp(np.linspace(0, k - 1, size), np.arange(k), e) for e in np.eye(k)], 1)  # [size, k]
    return np.einsum("yi,ijc,xj->yxc", interp, coarse, interp)


def textured_background(rng: np.random.Generator, size: int, texture: float = 30.0) -> np.ndarray:
    """A static ``[size, size, 3]`` float32 background: random base colour, low-frequency blotches,
    faint stripes at a random angle and frequency, and fine grain; ``texture`` is the blotch amplitude (0-255)."""
    base = random_colour(rng, saturation=(0.0, 0.5), value=(0.2, 0.8))
    blotches = _upsample(rng.normal(0, texture, size=(4, 4, 3)), size)
    ys, xs = np.mgrid[0:size, 0:size] / size
    theta, freq = rng.uniform(0, np.pi), rng.uniform(2, 6)
    stripes = 0.3 * texture * np.sin(2 * np.pi * freq * (xs * np.cos(theta) + ys * np.sin(theta)) + rng.uniform(0, 6.3))
    grain = rng.normal(0, 0.2 * texture, size=(size, size, 3))
    return (base + blotches + stripes[..., None] + grain).astype(np.float32)


def smooth_walk(rng: np.random.Generator, t: int, step: float, inertia: float = 0.8) -> np.ndarray:
    """A ``[T, 2]`` random walk from 0 whose velocity is an AR(1) process with coefficient ``inertia`` and
    stationary std ``step`` (pixels per frame)."""
    noise = rng.normal(0, step * np.sqrt(1 - inertia**2), size=(t, 2))
    velocity = np.zeros((t, 2))
    for i in range(1, t):
        velocity[i] = inertia * velocity[i - 1] + noise[i]
    return np.cumsum(velocity, axis=0)


def to_uint8(frames: np.ndarray, rng: np.random.Generator, noise: float) -> np.ndarray:
    """Add Gaussian pixel noise (std ``noise``, 0-255 units) and round to uint8 ``[T, H, W, 3]``."""
    noisy = frames + np.float32(noise) * rng.standard_normal(size=frames.shape, dtype=np.float32)
    return np.clip(np.rint(noisy), 0, 255).astype(np.uint8)
