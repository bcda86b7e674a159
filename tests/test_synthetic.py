"""The synthetic datasets: on-disk formats, determinism, caching, codec round trip, and the reversal-pair design."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import decord
import numpy as np
import pytest
from PIL import Image

from paperlib.data.synthetic import GENERATOR_VERSION, GeneratedDataset, fingerprint, make_mmit, make_something
from paperlib.data.synthetic import mmit as mmit_module
from paperlib.data.synthetic import something as something_module
from paperlib.data.synthetic.something import PAIRS, REVERSED, SomethingScale
from paperlib.utils import sha256_file


@pytest.fixture(scope="module")
def something(tmp_path_factory) -> GeneratedDataset:
    return make_something(tmp_path_factory.mktemp("sth"), "smoke", seed=0)


@pytest.fixture(scope="module")
def mmit(tmp_path_factory) -> GeneratedDataset:
    return make_mmit(tmp_path_factory.mktemp("mmit"), "smoke", seed=0)


def _sha(path: Path) -> str:
    return sha256_file(path)


def _rows(path: Path, sep: str) -> list[list[str]]:
    text = path.read_text(encoding="utf-8")
    assert text.endswith("\n") and "\r" not in text
    return [line.split(sep) for line in text.splitlines()]


# ---- layouts ---------------------------------------------------------------------------------------------


def test_something_layout(something):
    scale = something_module.SCALES["smoke"]
    root = something.root
    assert re.fullmatch(r"something-v1-smoke-s0-[0-9a-f]{10}", root.name)
    assert something.label_map == root / "something-something-v1-labels.csv"
    names = something.label_map.read_text(encoding="utf-8").splitlines()
    assert names == sorted(names) == list(something.classes) and len(names) == 10
    assert all(pair[0] in names and pair[1] in names for pair in PAIRS)
    assert {s: p.name for s, p in something.splits.items()} == {
        "train": "something-something-v1-train.csv",
        "validation": "something-something-v1-validation.csv",
    }
    assert something.data_dir == root / "20bn-something-something-v1"

    ids = []
    for split, path in something.splits.items():
        rows = _rows(path, ";")
        assert len(rows) == something.fingerprint["counts"][split]
        assert all(len(r) == 2 and r[0].isdigit() and r[1] in names for r in rows)
        ids += [int(r[0]) for r in rows]
        counts = np.bincount([names.index(r[1]) for r in rows], minlength=10)
        assert counts.max() - counts.min() <= 1  # balanced
    assert len(ids) == len(set(ids)) == scale.num_train + scale.num_val
    assert sorted(p.name for p in something.data_dir.iterdir()) == sorted(map(str, ids))

    for video_id in ids:
        files = sorted(p.name for p in (something.data_dir / str(video_id)).iterdir())
        assert 16 <= scale.min_frames <= len(files) <= scale.max_frames
        assert files == [f"{i:05d}.jpg" for i in range(1, len(files) + 1)]
    for video_id in ids[:3]:
        with Image.open(something.data_dir / str(video_id) / "00001.jpg") as im:
            assert im.format == "JPEG" and im.mode == "RGB" and im.size == (scale.size, scale.size)


def test_mmit_layout(mmit):
    scale = mmit_module.SCALES["smoke"]
    root = mmit.root
    assert re.fullmatch(r"mmit-smoke-s0-[0-9a-f]{10}", root.name)
    categories = _rows(root / "annotations/moments_categories.txt", ",")
    assert [int(i) for _, i in categories] == list(range(len(categories)))
    names = [n for n, _ in categories]
    assert names == list(mmit.classes) and 10 <= len(names) <= 16
    assert {s: p.relative_to(root).as_posix() for s, p in mmit.splits.items()} == {
        "train": "annotations/trainingSet.txt",
        "validation": "annotations/validationSet.txt",
        "test": "annotations/testingSet.txt",
    }

    planned = {c.path: c for clips in mmit_module.plan(scale, 0).values() for c in clips}
    seen = []
    for split, path in mmit.splits.items():
        rows = _rows(path, ",")
        assert len(rows) == mmit.fingerprint["counts"][split]
        for rel, *ids in rows:
            category, name = rel.split("/")
            assert category in names and name.endswith(".mp4")
            labels = [int(i) for i in ids]
            assert 1 <= len(labels) <= scale.max_actions and len(set(labels)) == len(labels)
            assert all(0 <= i < len(names) for i in labels) and names[labels[0]] == category
            assert tuple(labels) == planned[rel].labels
            seen.append(rel)
    assert len(seen) == len(set(seen)) == scale.num_train + scale.num_val + scale.num_test
    assert any(len(planned[rel].labels) > 1 for rel in seen)  # multi-label
    assert sorted(p.relative_to(mmit.data_dir).as_posix() for p in mmit.data_dir.rglob("*.mp4")) == sorted(seen)

    for rel in seen:
        vr = decord.VideoReader(str(mmit.data_dir / rel), ctx=decord.cpu(0))
        assert len(vr) == planned[rel].num_frames >= 64  # dense 32x2 sampling fits without wrapping
        assert vr[0].shape == (scale.size, scale.size, 3)
        assert round(vr.get_avg_fps()) == scale.fps


def test_fingerprint(something, mmit):
    for data, generator in ((something, "something-v1"), (mmit, "mmit")):
        fp = fingerprint(data.root)
        assert fp == data.fingerprint == json.loads((data.root / "fingerprint.json").read_text())
        assert fp["generator"] == generator and fp["generator_version"] == GENERATOR_VERSION
        assert fp["scale"] == "smoke" and fp["seed"] == 0 and data.root.name.endswith(fp["param_hash"])
        assert fp["label_map_sha256"] == _sha(data.label_map)
        assert fp["num_classes"] == len(data.classes)
        assert set(fp["counts"]) == set(data.splits)
        assert data.root.stat().st_mode & 0o555 == 0o555 and (data.root / "fingerprint.json").stat().st_mode & 0o444


def test_folder_name_hashes_generator_version_scale_and_seed(monkeypatch):
    from paperlib.data.synthetic import _common

    params = {"size": 32}
    key = _common.param_hash("mmit", params, 0)
    assert (
        len(
            {
                key,
                _common.param_hash("mmit", params, 1),
                _common.param_hash("mmit", {"size": 64}, 0),
                _common.param_hash("something-v1", params, 0),
            }
        )
        == 4
    )
    monkeypatch.setattr(_common, "GENERATOR_VERSION", GENERATOR_VERSION + 1)
    assert _common.param_hash("mmit", params, 0) != key


def test_real_prepare_and_loaders_read_them(something, mmit, tmp_path):
    """The embedded sets go through exactly the code a real dataset goes through: prepare -> list -> loader."""
    from paperlib.data import (
        ClipSampler,
        FrameFolder,
        TestTransform,
        TrainTransform,
        VideoDataset,
        VideoFile,
        read_list,
    )
    from paperlib.data.prepare import prepare_mmit, prepare_sthv1

    sth = prepare_sthv1(something.root, tmp_path / "sth")
    train = read_list(sth["train"])
    assert len(train) == something.fingerprint["counts"]["train"]
    classes = (tmp_path / "sth" / "category.txt").read_text().splitlines()
    dataset = VideoDataset(
        train, something.root, FrameFolder(), ClipSampler("tsn", t=8), TrainTransform(28, flip=False), len(classes)
    )
    item = dataset[0]
    assert item["video"].shape == (3, 8, 28, 28) and 0 <= item["label"] < len(classes)
    csv_rows = (something.root / "something-something-v1-train.csv").read_text().splitlines()
    assert classes[item["label"]] == csv_rows[0].split(";")[1]  # the label survived CSV -> list -> loader
    written = prepare_mmit(mmit.root, tmp_path / "mmit")
    assert {"train", "val", "test"} <= set(written)
    val = VideoDataset(
        written["val"],
        mmit.root,
        VideoFile(),
        ClipSampler("dense", t=8, rate=2, clips=2),
        TestTransform(32, 32, crops=3),
        len((tmp_path / "mmit" / "category.txt").read_text().splitlines()),
        multi_label=True,
    )
    item = val[0]
    assert item["video"].shape == (6, 3, 8, 32, 32)  # 2 clips x 3 crops
    assert item["label"].sum() == len(val.records[0].labels) >= 1


# ---- determinism and caching ------------------------------------------------------------------------------


def _sample_files(data: GeneratedDataset, pattern: str, k: int = 12) -> dict[str, str]:
    files = sorted(data.data_dir.rglob(pattern))
    step = max(1, len(files) // k)
    return {p.relative_to(data.root).as_posix(): _sha(p) for p in files[::step]}


def _assert_same_pictures(root_a: Path, root_b: Path, sample_a: dict, sample_b: dict) -> None:
    """JPEG frames byte for byte; videos picture for picture, since x264 (one thread) now and then encodes
    a clip to other bytes: then the decoded frames must agree within codec error."""
    assert sample_a.keys() == sample_b.keys()
    for name in sample_a:
        if sample_a[name] != sample_b[name]:
            assert name.endswith(".mp4"), name
            frames_a, frames_b = (decord.VideoReader(str(root / name))[:].asnumpy() for root in (root_a, root_b))
            assert frames_a.shape == frames_b.shape
            assert np.abs(frames_a.astype(int) - frames_b.astype(int)).mean() < 6.0, name  # codec error ~3


@pytest.mark.parametrize("make, pattern", [(make_something, "*.jpg"), (make_mmit, "*.mp4")])
def test_deterministic_by_seed(make, pattern, tmp_path):
    a, b = make(tmp_path / "a", "smoke", seed=0), make(tmp_path / "b", "smoke", seed=0)
    c = make(tmp_path / "c", "smoke", seed=1)
    assert a.root.name == b.root.name != c.root.name
    assert a.fingerprint == b.fingerprint
    for split in a.splits:
        assert a.splits[split].read_bytes() == b.splits[split].read_bytes() != c.splits[split].read_bytes()
    assert a.label_map.read_bytes() == b.label_map.read_bytes()
    _assert_same_pictures(a.root, b.root, _sample_files(a, pattern), _sample_files(b, pattern))
    first = sorted(a.data_dir.rglob(pattern))[0]  # same relative path under the other seed may not exist
    assert _sha(first) not in {_sha(p) for p in c.data_dir.rglob(pattern)}


def _mtimes(root: Path) -> dict[str, int]:
    return {p.relative_to(root).as_posix(): p.stat().st_mtime_ns for p in root.rglob("*")}


@pytest.mark.parametrize("make, pattern", [(make_something, "*.jpg"), (make_mmit, "*.mp4")])
def test_cache(make, pattern, tmp_path):
    first = make(tmp_path, "smoke")
    before = _mtimes(first.root)
    again = make(tmp_path, "smoke")
    assert again == first and _mtimes(again.root) == before  # nothing rewritten
    assert [p.name for p in tmp_path.iterdir()] == [first.root.name]  # no temporary folders left
    sample = _sample_files(first, pattern)

    # An interrupted run: no completion marker -> regenerated from scratch, stray files gone
    (first.root / "fingerprint.json").unlink()
    (first.root / "stray.txt").write_text("half-written")
    inode = first.label_map.stat().st_ino
    redone = make(tmp_path, "smoke")
    assert redone.fingerprint == first.fingerprint and not (redone.root / "stray.txt").exists()
    assert redone.label_map.stat().st_ino != inode
    _assert_same_pictures(redone.root, first.root, _sample_files(redone, pattern), sample)  # same content, new files

    # A marker that does not match (e.g. from another generator version) -> regenerated
    fp = fingerprint(redone.root)
    (redone.root / "fingerprint.json").write_text(json.dumps({**fp, "generator_version": -1}))
    inode = redone.label_map.stat().st_ino
    assert make(tmp_path, "smoke").fingerprint == first.fingerprint
    assert redone.label_map.stat().st_ino != inode

    # Another scale or seed lives in another folder
    assert make(tmp_path, "smoke", seed=5).root != first.root


# ---- codec round trip ---------------------------------------------------------------------------------------


def test_mp4_round_trip(tmp_path):
    scale = mmit_module.SCALES["embedded"]
    clip = mmit_module.plan(scale, 0)["train"][0]
    frames = mmit_module.render_clip(clip, scale.size, seed=0, noise=scale.noise)  # [T, H, W, 3]
    assert frames.shape == (clip.num_frames, scale.size, scale.size, 3) and frames.dtype == np.uint8
    path = mmit_module.write_mp4(tmp_path / "x.mp4", frames, scale.fps, scale.crf)
    vr = decord.VideoReader(str(path))
    assert len(vr) == clip.num_frames
    decoded = vr.get_batch(list(range(len(vr)))).asnumpy().astype(np.float32)
    error = np.abs(decoded - frames).mean(axis=(1, 2, 3))  # [T]
    assert error.max() < 10, error
    # Frame-accurate: decoded frame i is closer to rendered frame i than to its neighbours
    previous = np.abs(decoded[1:] - frames[:-1]).mean(axis=(1, 2, 3))
    following = np.abs(decoded[:-1] - frames[1:]).mean(axis=(1, 2, 3))
    assert (error[1:] < previous).mean() > 0.9 and (error[:-1] < following).mean() > 0.9
    # Random access, as the loaders read (``vr[i]``), gives the same frames as a sequential batch
    for i in (len(vr) - 1, 0, 37, 5):
        np.testing.assert_array_equal(vr[i].asnumpy(), decoded[i].astype(np.uint8))


@pytest.mark.parametrize("capability", ["AVX512", "AVX2", "DEFAULT"])
def test_x264_is_capped_at_avx2_only_where_the_cpu_has_it(capability, monkeypatch, tmp_path):
    """libx264 runs the instruction sets it is given without checking the CPU: the AVX2 cap is passed on a CPU
    with AVX2 (or AVX-512) and left out elsewhere, and the video encodes either way."""
    import torch

    monkeypatch.setattr(torch.backends.cpu, "get_cpu_capability", lambda: capability)
    options = mmit_module.x264_options(18, "avx2")
    assert options["threads"] == "1" and options["crf"] == "18"
    if capability == "DEFAULT":
        assert "x264-params" not in options
    else:
        assert options["x264-params"] == "asm=" + mmit_module.X264_CPU["avx2"]
    frames = np.zeros((3, 16, 16, 3), np.uint8)
    assert len(decord.VideoReader(str(mmit_module.write_mp4(tmp_path / "x.mp4", frames)))) == 3


def test_generated_videos_match_renderer(mmit):
    scale = mmit_module.SCALES["smoke"]
    for clip in mmit_module.plan(scale, 0)["validation"][:3]:
        vr = decord.VideoReader(str(mmit.data_dir / clip.path))
        decoded = vr.get_batch(list(range(len(vr)))).asnumpy().astype(np.float32)
        rendered = mmit_module.render_clip(clip, scale.size, seed=0, noise=scale.noise)
        assert decoded.shape == rendered.shape
        assert np.abs(decoded - rendered).mean() < 10


def test_jpeg_frames_match_renderer(something):
    scale = something_module.SCALES["smoke"]
    clip = something_module.plan(scale, 0)["train"][0]
    rendered = something_module.render_clip(clip.label, clip.num_frames, scale, something_module.clip_rng(0, clip))
    folder = something.data_dir / str(clip.id)
    read = np.stack([np.asarray(Image.open(p), np.float32) for p in sorted(folder.iterdir())])
    assert np.abs(read - rendered).mean() < 8


# ---- design: frame order is needed, and sufficient ----------------------------------------------------------

CLEAN = SomethingScale(
    size=32,
    num_train=0,
    num_val=0,
    min_frames=24,
    max_frames=24,
    max_distractors=0,
    texture=0.0,
    noise=0.0,
    occluder=0.0,
    shake=0,
)


@pytest.mark.parametrize("seed", range(4))
def test_reversed_class_is_the_forward_clip_played_backwards(seed):
    scale = something_module.SCALES["smoke"]
    for forward, backward, _ in PAIRS:
        clip = something_module.render_clip(forward, 20, scale, np.random.default_rng(seed))
        back = something_module.render_clip(backward, 20, scale, np.random.default_rng(seed))
        np.testing.assert_array_equal(back, clip[::-1])


@pytest.mark.parametrize("seed", range(4))
def test_forward_motions_do_what_their_names_say(seed):
    """On a plain background: x grows (left to right), y shrinks (up: image y points down), the object grows
    (towards the camera), its centroid sweeps a positive signed area (clockwise on screen), it fades in."""
    for forward, _, motion in PAIRS:
        frames = something_module.render_clip(forward, 24, CLEAN, np.random.default_rng(seed)).astype(np.float32)
        background = np.median(frames.reshape(24, -1, 3), axis=1)[:, None, None]  # [T, 1, 1, 3]
        contrast = np.abs(frames - background).sum(-1)  # [T, H, W]
        mask = contrast > 10
        ys, xs = np.mgrid[0:32, 0:32]
        area = mask.sum((1, 2))
        first, last = mask[0], mask[-1]
        if motion == "horizontal":
            assert xs[last].mean() - xs[first].mean() > 0.2 * 32
        elif motion == "vertical":
            assert ys[last].mean() - ys[first].mean() < -0.2 * 32
        elif motion == "depth":
            assert area[-1] > 1.5 * area[0]
        elif motion == "fade":
            assert contrast[0].sum() < 0.5 * contrast[-1].sum()
        elif motion == "rotation":
            cx, cy = (mask * xs).sum((1, 2)) / area, (mask * ys).sum((1, 2)) / area
            dx, dy = cx - cx.mean(), cy - cy.mean()
            assert (dx[:-1] * dy[1:] - dy[:-1] * dx[1:]).sum() > 0


NUM_SEGMENTS = 8


def _load_segments(data: GeneratedDataset, split: str) -> tuple[np.ndarray, list[str]]:
    """TSN test sampling of NUM_SEGMENTS frames per clip -> ``[N, T, H, W, 3]`` float32, labels."""
    clips, labels = [], []
    for row in data.splits[split].read_text().splitlines():
        video_id, label = row.split(";")
        folder = data.data_dir / video_id
        tick = len(os.listdir(folder)) / NUM_SEGMENTS
        idx = [1 + int(tick / 2 + tick * i) for i in range(NUM_SEGMENTS)]
        clips.append(np.stack([np.asarray(Image.open(folder / f"{i:05d}.jpg"), np.float32) for i in idx]))
        labels.append(label)
    return np.stack(clips), labels


def _features(clips: np.ndarray) -> np.ndarray:
    """Per-frame summaries kept in frame order ``[N, F]``: where the changing pixels are (centroid, spread,
    amount), how much edge there is, and the signed area swept by the centroid (turning direction)."""
    n, t, h, w, _ = clips.shape
    moving = np.maximum(np.abs(clips - np.median(clips, axis=1, keepdims=True)).sum(-1) - 30, 0)  # [N, T, H, W]
    ys, xs = np.mgrid[0:h, 0:w] / h
    mass = moving.sum((2, 3)) + 1e-3  # [N, T]
    cx, cy = (moving * xs).sum((2, 3)) / mass, (moving * ys).sum((2, 3)) / mass
    mx, my = np.median(cx, 1)[:, None, None, None], np.median(cy, 1)[:, None, None, None]
    spread = np.sqrt((moving * ((xs - mx) ** 2 + (ys - my) ** 2)).sum((2, 3)) / mass)
    edges = np.abs(np.diff(clips, axis=2)).mean((2, 3, 4)) + np.abs(np.diff(clips, axis=3)).mean((2, 3, 4))
    q = np.stack([mass / (h * w * 100), cx, cy, spread, edges / edges.mean(1, keepdims=True)], -1)  # [N, T, 5]
    dx, dy = cx - cx.mean(1, keepdims=True), cy - cy.mean(1, keepdims=True)
    swept = dx[:, :-1] * dy[:, 1:] - dy[:, :-1] * dx[:, 1:]  # [N, T-1]
    centred = (q - q.mean(1, keepdims=True)).reshape(n, -1)
    return np.concatenate([centred, q.mean(1), q.std(1), swept, swept.sum(1, keepdims=True)], 1)


def _within_pair_accuracy(model, x: np.ndarray, labels: list[str]) -> float:
    """Fraction of clips scored higher for their class than for its time reversal."""
    classes = list(model.classes_)
    p = model.predict_proba(x)
    return float(np.mean([p[i, classes.index(y)] > p[i, classes.index(REVERSED[y])] for i, y in enumerate(labels)]))


def test_reversal_pairs_need_frame_order(tmp_path):
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    scale = SomethingScale(size=32, num_train=400, num_val=200, min_frames=24, max_frames=32)
    data = make_something(tmp_path, scale, seed=3)
    assert data.fingerprint["scale"] == "custom"
    (x_train, y_train), (x_val, y_val) = _load_segments(data, "train"), _load_segments(data, "validation")

    rng = np.random.default_rng(0)
    shuffle = lambda clips: np.stack([c[rng.permutation(len(c))] for c in clips])  # noqa: E731
    accuracy = {}
    for name, train, val in (("ordered", x_train, x_val), ("shuffled", shuffle(x_train), shuffle(x_val))):
        model = make_pipeline(StandardScaler(), LogisticRegression(C=0.1, max_iter=3000))
        model.fit(_features(train), y_train)
        accuracy[name] = _within_pair_accuracy(model, _features(val), y_val)
    print(f"within-pair accuracy: {accuracy}")
    assert accuracy["ordered"] > 0.8, accuracy
    assert accuracy["shuffled"] < 0.6, accuracy
