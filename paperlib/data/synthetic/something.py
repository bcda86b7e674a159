"""Synthetic Something-Something v1: actions that only frame order tells apart, written as the real v1 files.

The ten classes form five time-reversal pairs (left->right vs right->left, up vs down, towards vs away from
the camera, clockwise vs anticlockwise, appearing vs disappearing). A clip of the second class of a pair is
a rendered clip of the first class played backwards, so both classes have the same distribution of frame
*sets*: a model that ignores frame order is at chance within each pair. Textured backgrounds, randomly
moving distractors, occluders, camera shake, flicker, noise, random colours, sizes, speeds and start times
keep the task from saturating.

Layout (as downloaded)::

    something-something-v1-labels.csv        one class name per line (alphabetical: line i = label i)
    something-something-v1-train.csv         id;label name
    something-something-v1-validation.csv    id;label name
    20bn-something-something-v1/<id>/00001.jpg, 00002.jpg, ...   (1-based, RGB, size x size)
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from ._common import (
    GeneratedDataset,
    Layout,
    draw_shape,
    generate_cached,
    random_colour,
    resolve_scale,
    smooth_walk,
    textured_background,
    to_uint8,
)

GENERATOR = "something-v1"
LABELS_CSV = "something-something-v1-labels.csv"
SPLIT_CSVS = {"train": "something-something-v1-train.csv", "validation": "something-something-v1-validation.csv"}
FRAMES_DIR = "20bn-something-something-v1"


@dataclass(frozen=True)
class SomethingScale:
    """Sizes and difficulty of one generated set.

    ``size`` in pixels (square frames); clip lengths in frames (inclusive); ``texture`` the background
    blotch amplitude and ``noise`` the pixel noise std, both in 0-255 units; ``occluder`` the chance of a
    static bar in front of the action; ``shake`` the largest camera offset in pixels.
    """

    size: int
    num_train: int
    num_val: int
    min_frames: int
    max_frames: int
    max_distractors: int = 2
    texture: float = 20.0
    noise: float = 4.0
    occluder: float = 0.15
    shake: int = 1
    jpeg_quality: int = 90


SCALES = {
    "smoke": SomethingScale(size=32, num_train=30, num_val=10, min_frames=16, max_frames=20),
    # Calibrated with paperlib/configs/embedded_sthv1.yaml (small TSM/TIN variants fine-tuned from the embedded
    # ImageNet for a few hundred steps on 2 CPU cores): moving distractors, occluders, camera shake and strong
    # texture each lengthen the plateau before motion is learned, distractors the most. 3500 training clips, each
    # seen three times: with 1000 seen five times the models first memorise each clip's background, and TIN stayed on
    # the plateau (measured, TIN 8 frames seed 0 after 310 steps: 51.5 % within pairs with 1000 clips, 78.0 %
    # with 4000). 16-24 frames: enough for 16 segments, and fewer files to write than 24-40.
    "embedded": SomethingScale(
        size=40,
        num_train=3500,
        num_val=400,
        min_frames=16,
        max_frames=24,
        max_distractors=0,
        texture=10.0,
        noise=2.0,
        occluder=0.0,
        shake=0,
    ),
    # The trial of the full route (paperlib.experiments.trial): the embedded set's clips at the full recipes'
    # 256 px short side (their 224 px crops), a handful of videos
    "trial": SomethingScale(
        size=256,
        num_train=8,
        num_val=4,
        min_frames=24,
        max_frames=40,
        max_distractors=0,
        texture=10.0,
        noise=2.0,
        occluder=0.0,
        shake=0,
    ),
}

# (forward class, its time reversal, motion). "up"/"towards"/"clockwise"/"appear" are the forward motions
PAIRS = (
    ("Moving something from left to right", "Moving something from right to left", "horizontal"),
    ("Moving something up", "Moving something down", "vertical"),
    ("Moving something towards the camera", "Moving something away from the camera", "depth"),
    ("Turning something clockwise", "Turning something anticlockwise", "rotation"),
    ("Making something appear", "Making something disappear", "fade"),
)
CLASSES = tuple(sorted(name for pair in PAIRS for name in pair[:2]))
REVERSED = {f: r for f, r, _ in PAIRS} | {r: f for f, r, _ in PAIRS}  # class -> its time reversal


@dataclass(frozen=True)
class SomethingClip:
    """One planned clip: v1 integer id, class name, number of frames."""

    id: int
    label: str
    num_frames: int


def plan(scale: SomethingScale, seed: int) -> dict[str, list[SomethingClip]]:
    """The clips of each split, in file order: balanced classes, unique random ids, random lengths."""
    rng = np.random.default_rng(seed)
    sizes = {"train": scale.num_train, "validation": scale.num_val}
    ids = iter(rng.choice(99_999, size=sum(sizes.values()), replace=False) + 1)
    clips = {}
    for split, n in sizes.items():
        labels = rng.permutation(np.arange(n) % len(CLASSES))
        lengths = rng.integers(scale.min_frames, scale.max_frames + 1, size=n)
        clips[split] = [SomethingClip(int(next(ids)), CLASSES[k], int(t)) for k, t in zip(labels, lengths)]
    return clips


def _progress(rng: np.random.Generator, t: int) -> np.ndarray:
    """``[T]`` in 0..1: still, then moving over 50-90 % of the clip at a random start and easing, then still."""
    duration = rng.uniform(0.5, 0.9) * t
    start = rng.uniform(0, t - duration)
    s = np.clip((np.arange(t) + 0.5 - start) / duration, 0, 1)
    return s ** np.exp(rng.uniform(np.log(0.6), np.log(1.6)))


def _draw_target(frames: np.ndarray, motion: str, rng: np.random.Generator) -> None:
    """Draw the acting object doing the *forward* motion of its pair."""
    t, size = frames.shape[0], frames.shape[1]
    p = _progress(rng, t)
    colour = random_colour(rng)
    kind = str(rng.choice(["box", "disk", "triangle", "ell"]))
    scale = rng.uniform(0.09, 0.14) * size
    angle = rng.uniform(0, 2 * np.pi)
    cx, cy = rng.uniform(0.3, 0.7, size=2) * size
    drift = rng.normal(0, 0.03 * size, size=2)  # a little off-axis motion
    if motion in ("horizontal", "vertical"):
        travel = rng.uniform(0.35, 0.6) * size
        a = rng.uniform(0.12 * size, 0.88 * size - travel)  # start on the axis of motion
        along, across = a + travel * p, rng.uniform(0.2, 0.8) * size + drift[0] * p
        # forward: left -> right, or bottom -> top (y decreases)
        cx, cy = (along, across) if motion == "horizontal" else (across, size - along)
        draw_shape(frames, kind, cx, cy, scale, colour, angle)
    elif motion == "depth":
        scale = rng.uniform(0.06, 0.09) * size * (1 + rng.uniform(0.8, 1.8) * p)  # grows: comes closer
        draw_shape(frames, kind, cx + drift[0] * p, cy + drift[1] * p, scale, colour, angle)
    elif motion == "rotation":
        turn = rng.uniform(0.6, 1.4) * np.pi  # clockwise on screen
        length = rng.uniform(0.25, 0.35) * size
        draw_shape(frames, "hand", cx, cy, length, colour, angle + turn * p)
    elif motion == "fade":
        draw_shape(frames, kind, cx, cy, scale * 1.2, colour, angle, alpha=p)
    else:
        raise ValueError(f"unknown motion {motion!r}")


def render_clip(label: str, num_frames: int, scale: SomethingScale, rng: np.random.Generator) -> np.ndarray:
    """Render one clip of class ``label`` as uint8 ``[num_frames, size, size, 3]`` (RGB)."""
    t, size = num_frames, scale.size
    forward, motion = next((f, m) for f, r, m in PAIRS if label in (f, r))
    frames = np.repeat(textured_background(rng, size, scale.texture)[None], t, axis=0)  # [T, S, S, 3]
    for _ in range(rng.integers(0, scale.max_distractors + 1)):  # smaller objects wandering behind the actor
        path = rng.uniform(0.1, 0.9, size=2) * size + smooth_walk(rng, t, step=0.03 * size)  # [T, 2]
        spin = rng.uniform(0, 2 * np.pi) + rng.normal(0, 0.05) * np.arange(t)
        kind = str(rng.choice(["box", "disk", "triangle"]))
        draw_shape(frames, kind, path[:, 0], path[:, 1], rng.uniform(0.04, 0.08) * size, random_colour(rng), spin)
    _draw_target(frames, motion, rng)
    if rng.uniform() < scale.occluder:  # a static bar in front, sometimes hiding part of the action
        width = max(2, int(rng.uniform(0.06, 0.12) * size))
        start = int(rng.integers(0, size - width))
        lines = slice(start, start + width)
        band = (slice(None), lines) if rng.uniform() < 0.5 else (slice(None), slice(None), lines)  # rows or columns
        frames[band] = random_colour(rng, value=(0.2, 0.9))
    frames *= rng.normal(1, 0.03, size=(t, 1, 1, 1)).astype(np.float32)  # illumination flicker
    shake = np.clip(np.cumsum(rng.integers(-1, 2, size=(t, 2)), axis=0), -scale.shake, scale.shake)  # pixels
    frames = np.stack([np.roll(f, tuple(d), axis=(0, 1)) for f, d in zip(frames, shake)])  # handheld camera
    clip = to_uint8(frames, rng, scale.noise)
    return clip if label == forward else clip[::-1].copy()


def clip_rng(seed: int, clip: SomethingClip) -> np.random.Generator:
    """The generator that renders ``clip``: keyed by (seed, id), independent of the other clips."""
    return np.random.default_rng([seed, clip.id])


def write_clip(folder: str | os.PathLike, clip: SomethingClip, scale: SomethingScale, seed: int) -> int:
    """Render ``clip`` into ``folder/<FRAMES_DIR>/<id>/00001.jpg, ...``; returns its number of frames."""
    frames = render_clip(clip.label, clip.num_frames, scale, clip_rng(seed, clip))
    out = Path(folder) / FRAMES_DIR / str(clip.id)
    out.mkdir(parents=True, exist_ok=True)
    for i, frame in enumerate(frames, start=1):
        Image.fromarray(frame).save(out / f"{i:05d}.jpg", quality=scale.jpeg_quality)
    return len(frames)


def write_something(
    folder: str | os.PathLike, scale: SomethingScale, seed: int, processes: int = 1
) -> tuple[dict[str, int], int]:
    """Write the set's files into ``folder`` (the layout of the module docstring): the label and split CSVs, then
    every clip's frames, rendered by ``processes`` processes (the bytes do not depend on how many: each clip has
    its own generator). Returns (clips per split, number of classes)."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / LABELS_CSV).write_text("".join(f"{name}\n" for name in CLASSES), encoding="utf-8")
    clips = plan(scale, seed)
    for split, split_clips in clips.items():
        rows = "".join(f"{c.id};{c.label}\n" for c in split_clips)
        (folder / SPLIT_CSVS[split]).write_text(rows, encoding="utf-8")
    every = [c for split_clips in clips.values() for c in split_clips]
    if processes > 1:
        from concurrent.futures import ProcessPoolExecutor
        from functools import partial

        with ProcessPoolExecutor(max_workers=processes) as pool:
            list(pool.map(partial(write_clip, folder, scale=scale, seed=seed), every, chunksize=4))
    else:
        for clip in every:
            write_clip(folder, clip, scale, seed)
    return {split: len(c) for split, c in clips.items()}, len(CLASSES)


LAYOUT = Layout(label_map=LABELS_CSV, splits=SPLIT_CSVS, data_dir=FRAMES_DIR, classes=CLASSES)


def make_something(
    root: str | os.PathLike, scale: str | SomethingScale = "embedded", seed: int = 0, processes: int = 1
) -> GeneratedDataset:
    """Generate (or find cached) a Something-Something v1-format dataset in a folder under ``root``.

    Args:
        root: parent folder; the dataset goes to ``root/something-v1-<scale>-s<seed>-<hash>``.
        scale: a key of :data:`SCALES` or a :class:`SomethingScale`.
        seed: everything written is a function of (scale, seed).
        processes: render the clips in this many processes (:func:`write_something`).
    """
    name, params = resolve_scale(scale, SCALES)
    return generate_cached(
        root, GENERATOR, name, params, seed, LAYOUT, lambda tmp: write_something(tmp, params, seed, processes)
    )
