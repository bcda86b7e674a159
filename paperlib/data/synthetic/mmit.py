"""Synthetic Multi-Moments in Time: multi-label clips of one to three objects acting at once, as H.264 videos.

Each object does a different action from :data:`ACTIONS` for the whole clip, and the clip's labels are the
set of those actions. Videos are stored under the folder of the first object's action, as MMIT does.

Layout (as downloaded)::

    annotations/moments_categories.txt     name,id        (ids 0-based, names alphabetical)
    annotations/trainingSet.txt            <category>/<name>.mp4,<id>[,<id>...]
    annotations/validationSet.txt          same
    annotations/testingSet.txt             same, a held-out split (e.g. to fit ensemble weights on validation)
    videos/<category>/<name>.mp4           H.264, yuv420p, ``fps`` frames per second
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ._common import (
    GeneratedDataset,
    Layout,
    draw_shape,
    generate_cached,
    random_colour,
    resolve_scale,
    textured_background,
    to_uint8,
)

GENERATOR = "mmit"
CATEGORIES = "annotations/moments_categories.txt"
SPLIT_FILES = {
    "train": "annotations/trainingSet.txt",
    "validation": "annotations/validationSet.txt",
    "test": "annotations/testingSet.txt",
}
VIDEOS_DIR = "videos"
ACTIONS = (
    "blinking",
    "bouncing",
    "falling",
    "growing",
    "orbiting",
    "pulsing",
    "rising",
    "shaking",
    "shrinking",
    "sliding",
    "spinning",
    "swinging",
)


LAYOUT = Layout(label_map=CATEGORIES, splits=SPLIT_FILES, data_dir=VIDEOS_DIR, classes=ACTIONS)


@dataclass(frozen=True)
class MMITScale:
    """Sizes of one generated set: ``size`` in pixels (square, even for yuv420p), clip lengths in frames
    (inclusive), ``noise`` the pixel noise std in 0-255 units, ``crf`` the x264 quality (lower is better),
    ``x264_cpu`` the instruction sets libx264 may use (:data:`X264_CPU`)."""

    size: int
    num_train: int
    num_val: int
    num_test: int
    min_frames: int = 64
    max_frames: int = 72
    max_actions: int = 3
    fps: int = 25
    noise: float = 3.0
    crf: int = 18
    x264_cpu: str = "avx2"


SCALES = {
    "smoke": MMITScale(size=32, num_train=12, num_val=6, num_test=6),
    "embedded": MMITScale(size=64, num_train=400, num_val=100, num_test=100),
    # The trial of the full route (paperlib.experiments.trial): 256 px, the short side the 2D and slow-only recipes
    # crop 224 px from (the fast-only and SlowFast recipes resize it to 128 and crop 112), a handful of videos
    "trial": MMITScale(size=256, num_train=8, num_val=4, num_test=4),
}


@dataclass(frozen=True)
class MMITClip:
    """One planned clip: relative path ``<category>/<name>.mp4``, its actions (the first gives the folder),
    number of frames, and the key of its renderer's random generator."""

    path: str
    actions: tuple[str, ...]
    num_frames: int
    key: int

    @property
    def labels(self) -> tuple[int, ...]:
        return tuple(ACTIONS.index(a) for a in self.actions)


def plan(scale: MMITScale, seed: int) -> dict[str, list[MMITClip]]:
    """The clips of each split, in file order."""
    rng = np.random.default_rng(seed)
    sizes = {"train": scale.num_train, "validation": scale.num_val, "test": scale.num_test}
    clips, key = {}, 0
    for split, n in sizes.items():
        clips[split] = []
        for _ in range(n):
            k = int(rng.integers(1, scale.max_actions + 1))
            actions = tuple(str(a) for a in rng.choice(ACTIONS, size=k, replace=False))
            num_frames = int(rng.integers(scale.min_frames, scale.max_frames + 1))
            clips[split].append(MMITClip(f"{actions[0]}/clip_{key:05d}.mp4", actions, num_frames, key))
            key += 1
    return clips


def _draw_action(frames: np.ndarray, action: str, cx: float, cy: float, rng: np.random.Generator) -> None:
    """Draw one object doing ``action`` for the whole clip, starting around ``(cx, cy)`` (pixels)."""
    t, size = frames.shape[0], frames.shape[1]
    time = np.arange(t, dtype=np.float32)
    phase = rng.uniform(0, 2 * np.pi)
    colour, scale = random_colour(rng, value=(0.5, 1.0)), rng.uniform(0.08, 0.12) * size
    kind, angle, alpha = str(rng.choice(["box", "disk", "triangle", "ell"])), rng.uniform(0, 2 * np.pi), 1.0
    sign = rng.choice([-1.0, 1.0])
    span = rng.uniform(0.5, 0.7) * size  # distance travelled by the moving actions
    if action == "blinking":
        alpha = (np.sin(2 * np.pi * time / rng.uniform(6, 14) + phase) > 0).astype(np.float32)
    elif action == "bouncing":
        cy = 0.85 * size - rng.uniform(0.25, 0.4) * size * np.abs(np.sin(np.pi * time / rng.uniform(12, 20) + phase))
    elif action == "falling":  # accelerating downwards
        cy = 0.1 * size + span * (time / t) ** 2
    elif action == "rising":
        cy = 0.9 * size - span * time / t
    elif action == "sliding":
        cx = size / 2 + sign * span * (time / t - 0.5)
    elif action == "growing":
        scale = scale * np.linspace(0.6, 2.0, t)
    elif action == "shrinking":
        scale = scale * np.linspace(2.0, 0.6, t)
    elif action == "pulsing":
        scale = scale * (1.3 + 0.45 * np.sin(2 * np.pi * time / rng.uniform(8, 14) + phase))
    elif action == "spinning":
        kind, angle = str(rng.choice(["triangle", "ell"])), angle + sign * rng.uniform(0.15, 0.35) * time
    elif action == "shaking":
        cx, cy = cx + rng.integers(-2, 3, size=t), cy + rng.integers(-2, 3, size=t)
    elif action == "swinging":  # a pendulum hanging from (cx, cy - its length)
        length = rng.uniform(0.25, 0.35) * size
        kind, scale, cy = "hand", length, cy - length / 2
        angle = np.pi / 2 + rng.uniform(0.5, 0.9) * np.sin(2 * np.pi * time / rng.uniform(16, 30) + phase)
    elif action == "orbiting":
        radius, period = rng.uniform(0.12, 0.2) * size, rng.uniform(20, 36)
        cx = cx + radius * np.cos(sign * 2 * np.pi * time / period + phase)
        cy = cy + radius * np.sin(sign * 2 * np.pi * time / period + phase)
    else:
        raise ValueError(f"unknown action {action!r}")
    draw_shape(frames, kind, cx, cy, scale, colour, angle, alpha)


def render_clip(clip: MMITClip, size: int, seed: int, noise: float = 3.0) -> np.ndarray:
    """Render ``clip`` as uint8 ``[num_frames, size, size, 3]`` (RGB); a function of (clip, size, seed)."""
    rng = np.random.default_rng([seed, clip.key])
    frames = np.repeat(textured_background(rng, size, texture=20.0)[None], clip.num_frames, axis=0)
    # One object per third of the frame (in random order), so actions overlap less
    slots = rng.permutation([0.2, 0.5, 0.8])[: len(clip.actions)]
    for action, slot in zip(clip.actions, slots):
        cx = slot * size + rng.normal(0, 0.03 * size)
        cy = rng.uniform(0.35, 0.65) * size
        _draw_action(frames, action, cx, cy, rng)
    return to_uint8(frames, rng, noise)


# The instruction sets libx264 may use (its "asm" parameter), capped at AVX2 as the pinned runs cap oneDNN and ATen
# (paperlib.engine.numerics). Measured with PyAV 18.1 on a 2-core Xeon with AVX-512, one clip's frames (the same
# yuv420p planes every time) encoded 40 times in each process, up to four processes sharing the cores: with x264's
# own choice (AVX-512 here) 4 of 8 such processes wrote other bytes in 6 of their 320 encodes, at times decoding to
# other pixels (4 and 17 of the embedded set's 600 videos differed between builds, and every MMIT number moved);
# capped at AVX2 120 of 120 encodes gave one output, with no assembly 160 of 160. A CPU without AVX-512 (an AMD
# EPYC of Zen 3) encodes with AVX2 in any case. x264 runs the sets it is given without checking the CPU, so the cap
# is passed only where the CPU has them (ATen's view of it); elsewhere x264 picks its own, lower, sets.
X264_CPU = {"avx2": "MMX2,SSE,SSE2,SSE3,SSSE3,SSE4.1,SSE4.2,LZCNT,AVX,FMA3,BMI1,BMI2,AVX2"}
CPU_HAS = {"avx2": ("AVX2", "AVX512")}  # torch.backends.cpu.get_cpu_capability() values of a CPU with each set


def x264_options(crf: int, cpu: str) -> dict[str, str]:
    """libx264's options: quality ``crf``, one thread, instruction sets capped at ``cpu`` (a key of
    :data:`X264_CPU`) where this CPU has them."""
    import torch

    options = {"crf": str(crf), "preset": "veryfast", "threads": "1"}
    if torch.backends.cpu.get_cpu_capability() in CPU_HAS[cpu]:
        options["x264-params"] = f"asm={X264_CPU[cpu]}"
    return options


def write_mp4(path: str | os.PathLike, frames: np.ndarray, fps: int = 25, crf: int = 18, cpu: str = "avx2") -> Path:
    """Encode uint8 RGB ``[T, H, W, 3]`` (H, W even) as H.264 yuv420p with one encoder thread and libx264's
    instruction sets capped at ``cpu`` (:func:`x264_options`)."""
    import av  # imported here: reading the generated data (and the Something set) needs no PyAV

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with av.open(str(path), "w", format="mp4") as container:
        stream = container.add_stream("libx264", rate=fps)
        stream.width, stream.height, stream.pix_fmt = frames.shape[2], frames.shape[1], "yuv420p"
        stream.options = x264_options(crf, cpu)
        for frame in frames:
            container.mux(stream.encode(av.VideoFrame.from_ndarray(frame, format="rgb24").reformat(format="yuv420p")))
        container.mux(stream.encode())  # flush
    return path


def _write(folder: Path, scale: MMITScale, seed: int) -> tuple[dict[str, int], int]:
    categories = "".join(f"{name},{i}\n" for i, name in enumerate(ACTIONS))
    (folder / CATEGORIES).parent.mkdir(parents=True)
    (folder / CATEGORIES).write_text(categories, encoding="utf-8")
    clips = plan(scale, seed)
    for split, split_clips in clips.items():
        rows = "".join(f"{c.path}," + ",".join(map(str, c.labels)) + "\n" for c in split_clips)
        (folder / SPLIT_FILES[split]).write_text(rows, encoding="utf-8")
        for c in split_clips:
            frames = render_clip(c, scale.size, seed, scale.noise)
            write_mp4(folder / VIDEOS_DIR / c.path, frames, scale.fps, scale.crf, scale.x264_cpu)
    return {split: len(c) for split, c in clips.items()}, len(ACTIONS)


def make_mmit(root: str | os.PathLike, scale: str | MMITScale = "embedded", seed: int = 0) -> GeneratedDataset:
    """Generate (or find cached) a Multi-Moments-in-Time-format dataset in a folder under ``root``.

    Args:
        root: parent folder; the dataset goes to ``root/mmit-<scale>-s<seed>-<hash>``.
        scale: a key of :data:`SCALES` or an :class:`MMITScale`.
        seed: everything written is a function of (scale, seed).
    """
    name, params = resolve_scale(scale, SCALES)
    if params.size % 2:
        raise ValueError(f"yuv420p needs an even frame size, got {params.size}")
    return generate_cached(root, GENERATOR, name, params, seed, LAYOUT, lambda tmp: _write(tmp, params, seed))
