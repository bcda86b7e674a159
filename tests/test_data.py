"""List files, samplers, frame sources, transforms, datasets, loaders, `check` and `prepare`."""

import json

import numpy as np
import pytest
import torch

from paperlib.data import (
    ClipSampler,
    FrameFolder,
    FrameReadError,
    ListFormatError,
    ShardSampler,
    TestTransform,
    TrainTransform,
    VideoDataset,
    VideoFile,
    VideoRecord,
    frame_cache,
    make_loader,
    read_list,
    sampling,
    write_list,
)
from paperlib.data.check import check_list, entry_problems
from paperlib.data.check import main as check_main
from paperlib.data.frame_cache import CachedSource, FrameCache
from paperlib.data.prepare import prepare_kinetics, prepare_mmit, prepare_sthv1, prepare_sthv2
from paperlib.data.prepare.kinetics import clean_class_name

from .data_fixtures import gradient_frames, write_frame_folder, write_mp4

# --- list files ---------------------------------------------------------------------------------------


def test_peer_list_lines_are_read_unchanged(tmp_path):
    path = tmp_path / "list.txt"
    path.write_text("something/v1/img/100218 37 12\nvideos/a b/clip 1.mp4 90 3,17,250\n\n")
    records = read_list(path)
    assert records == [
        VideoRecord("something/v1/img/100218", 37, (12,), 1),
        VideoRecord("videos/a b/clip 1.mp4", 90, (3, 17, 250), 2),
    ]
    write_list(tmp_path / "again.txt", records)
    assert (tmp_path / "again.txt").read_text() == "something/v1/img/100218 37 12\nvideos/a b/clip 1.mp4 90 3,17,250\n"


@pytest.mark.parametrize(
    "content,line,message",
    [
        (b"a 3 1\nb three 1\n", 2, "must be integers"),
        (b"a 3 1\nonly_two 3\n", 2, "expected 'path num_frames label"),
        (b"a 3 1\nb 3 -1\n", 2, "negative"),
        (b"a 3 1\n\xff\xfe 3 1\n", 2, "not valid UTF-8"),
    ],
)
def test_malformed_lists_name_file_and_line(tmp_path, content, line, message):
    path = tmp_path / "bad.txt"
    path.write_bytes(content)
    with pytest.raises(ListFormatError, match=rf"bad.txt:{line}: .*{message}"):
        read_list(path)


def test_empty_and_missing_lists(tmp_path):
    (tmp_path / "empty.txt").write_text("\n  \n")
    with pytest.raises(ListFormatError, match="empty"):
        read_list(tmp_path / "empty.txt")
    with pytest.raises(FileNotFoundError, match="nope.txt"):
        read_list(tmp_path / "nope.txt")


# --- sampling (hand-computed from the formulas in tin-facts.md section 3, 0-based) ----------------------


def test_tsn_test_indices():
    assert sampling.tsn_test(20, 4).tolist() == [[2, 7, 12, 17]]
    assert sampling.tsn_test(10, 4).tolist() == [[1, 3, 6, 8]]  # int(1.25), int(3.75), int(6.25), int(8.75)
    assert sampling.tsn_test(20, 4, clips=2).tolist() == [[1, 6, 11, 16], [3, 8, 13, 18]]
    assert sampling.tsn_test(3, 8).tolist() == [[0, 0, 0, 1, 1, 2, 2, 2]]  # int(0.1875 + 0.375 i)


def test_tsn_train_indices():
    rng = np.random.default_rng(0)
    draws = np.concatenate([sampling.tsn_train(20, 4, rng) for _ in range(400)])
    assert draws.shape == (400, 4)
    for i in range(4):  # one frame inside each segment [5i, 5i + 5), every position reached
        assert set(draws[:, i].tolist()) == set(range(5 * i, 5 * i + 5))
    assert sampling.tsn_train(3, 8, rng).tolist() == [[0] * 8]  # shorter than the clip: zeros, as TSN
    a = sampling.tsn_train(100, 8, np.random.default_rng(7))
    assert np.array_equal(a, sampling.tsn_train(100, 8, np.random.default_rng(7)))


def test_dense_indices():
    rng = np.random.default_rng(0)
    starts = {int(sampling.dense_train(100, 8, 2, rng)[0, 0]) for _ in range(3000)}
    assert starts == set(range(0, 84))  # pos = 1 + 100 - 16 = 85, start in [0, pos - 1)
    clip = sampling.dense_train(100, 8, 2, np.random.default_rng(3))[0]
    assert np.array_equal(np.diff(clip), np.full(7, 2))
    assert sampling.dense_train(10, 8, 2, rng).tolist() == [[0, 2, 4, 6, 8, 0, 2, 4]]  # wraps (pos = 1)
    assert sampling.dense_test(100, 8, 2).tolist() == [list(range(42, 58, 2))]  # start pos // 2 = 42
    assert sampling.dense_test(100, 8, 2, clips=3)[:, 0].tolist() == [0, 42, 84]


def test_clip_sampler_validates():
    with pytest.raises(ValueError, match="'tsn' or 'dense'"):
        ClipSampler(mode="uniform")
    assert ClipSampler("dense", t=4, rate=3, clips=2).test(50).shape == (2, 4)


# --- frame sources -------------------------------------------------------------------------------------


def test_frame_folder_reads_and_fails_with_file_names(tmp_path):
    frames = gradient_frames(6)
    folder = write_frame_folder(tmp_path / "vid", frames)
    source = FrameFolder()
    assert source.count(folder) == 6
    out = source.read(folder, np.array([5, 0, 5]))
    assert out.shape == (3, 32, 48, 3) and out.dtype == np.uint8
    assert np.abs(out[1].astype(int) - frames[0]).mean() < 3 and np.array_equal(out[0], out[2])
    with pytest.raises(FrameReadError, match="frame file missing: .*00007.jpg"):
        source.read(folder, np.array([6]))
    (folder / "00003.jpg").write_bytes(b"")
    with pytest.raises(FrameReadError, match="cannot decode .*00003.jpg"):
        source.read(folder, np.array([2]))
    with pytest.raises(FrameReadError, match="frame folder not found"):
        source.read(tmp_path / "nope", np.array([0]))


def test_decord_reads_back_what_was_written(tmp_path):
    frames = gradient_frames(20, 64, 64)
    path = write_mp4(tmp_path / "v.mp4", frames)
    video = VideoFile()
    assert video.count(path) == 20
    indices = np.array([19, 3, 3, 0, 11])
    out = video.read(path, indices)
    assert out.shape == (5, 64, 64, 3)
    errors = np.abs(out.astype(int) - frames[indices].astype(int)).mean(axis=(1, 2, 3))
    assert errors.max() < 4  # codec error only: each frame is the right one (brightness ramp of 6 per frame)
    with pytest.raises(FrameReadError, match="has 20 frames, asked for frame 20"):
        video.read(path, np.array([20]))
    broken = tmp_path / "broken.mp4"
    broken.write_bytes(path.read_bytes()[:300])
    with pytest.raises(FrameReadError, match="broken.mp4"):
        video.read(broken, np.array([0]))


@pytest.mark.parametrize("kind", ["frames", "video"])
def test_frame_cache_returns_the_sources_pixels_and_decodes_each_frame_once(tmp_path, kind):
    frames = gradient_frames(20, 64, 64)
    if kind == "frames":
        path, source = write_frame_folder(tmp_path / "vid", frames), FrameFolder()
    else:
        path, source = write_mp4(tmp_path / "v.mp4", frames), VideoFile()
    cache = FrameCache(limit=2**30)
    cached = CachedSource(source, cache)
    rng = np.random.default_rng(0)
    for _ in range(6):  # overlapping reads in any order, repeats included: always exactly the source's pixels
        indices = rng.choice(20, 8)
        assert np.array_equal(cached.read(path, indices), source.read(path, indices))
    seen = cache.misses
    assert seen == len(cache.frames) <= 20 and cache.hits > 0
    cached.read(path, np.arange(20))
    assert cache.misses == 20 and len(cache.frames) == 20
    assert np.array_equal(cached.read(path, np.arange(20)[::-1]), source.read(path, np.arange(20)[::-1]))
    assert cache.misses == 20  # everything from memory now
    with pytest.raises(
        FrameReadError, match="00021.jpg" if kind == "frames" else "asked for frame 20"
    ):  # the source's error
        cached.read(path, np.array([20]))


def test_frame_cache_sees_a_replaced_file_and_keeps_to_its_limit(tmp_path):
    frames = gradient_frames(6)
    folder = write_frame_folder(tmp_path / "vid", frames)
    small = FrameCache(limit=2 * frames[0].nbytes)
    cached = CachedSource(FrameFolder(), small)
    first = cached.read(folder, np.arange(6))
    assert len(small.frames) == 2 and small.bytes <= small.limit
    assert np.array_equal(cached.read(folder, np.arange(6)), first)  # over the limit: decoded again, same pixels
    write_frame_folder(folder, gradient_frames(6, seed=1))  # the files replaced on disk
    assert np.array_equal(cached.read(folder, np.arange(6)), FrameFolder().read(folder, np.arange(6)))
    (folder / "00002.jpg").unlink()
    with pytest.raises(FrameReadError, match="frame file missing: .*00002.jpg"):
        cached.read(folder, np.array([1]))


def test_frame_cache_is_off_until_enabled():
    source = FrameFolder()
    try:
        frame_cache.enable(0)
        assert frame_cache.cached(source) is source and frame_cache.current() is None
        frame_cache.enable(1)
        wrapped = frame_cache.cached(source)
        assert isinstance(wrapped, CachedSource) and wrapped.kind == "frames" and frame_cache.current().limit == 2**20
        assert wrapped.template == source.template  # what the source has, the wrapper has; and nothing else
        video = frame_cache.cached(VideoFile())
        assert video.kind == "video" and getattr(video, "template", "default") == "default"
    finally:
        frame_cache.enable(0)


def test_the_check_of_a_list_fills_the_frame_cache(tmp_path):
    folder = write_frame_folder(tmp_path / "vid", gradient_frames(6))
    (folder / "00007.jpg").write_bytes(b"")  # beyond the list's 6 frames: not read
    try:
        frame_cache.enable(64)
        assert entry_problems(VideoRecord("vid", 6, (0,), 1), tmp_path, "frames") == []
        cache = frame_cache.current()
        assert cache.misses == len(cache.frames) == 6
        frame_cache.cached(FrameFolder()).read(folder, np.array([5, 0, 3]))
        assert cache.misses == 6 and cache.hits == 3  # the run's reads come from memory
        (folder / "00004.jpg").write_bytes(b"not a jpeg")
        problems = entry_problems(VideoRecord("vid", 6, (0,), 2), tmp_path, "frames")
        assert len(problems) == 1 and "cannot decode" in problems[0] and "00004.jpg" in problems[0]
    finally:
        frame_cache.enable(0)


def test_a_runs_check_of_a_video_list_fills_the_frame_cache(tmp_path):
    from paperlib.engine.data import unreadable_entries

    write_mp4(tmp_path / "v.mp4", gradient_frames(12, 64, 64))
    try:
        frame_cache.enable(64)
        source = frame_cache.cached(VideoFile())
        records = [VideoRecord("v.mp4", 12, (0,), 1)]
        dataset = VideoDataset(records, tmp_path, source, ClipSampler("tsn", t=4), TrainTransform(32), 1)
        assert unreadable_entries(dataset) == []
        assert len(frame_cache.current().frames) == 12
        assert dataset[0]["video"].shape == (3, 4, 32, 32) and frame_cache.current().misses == 12
    finally:
        frame_cache.enable(0)


# --- transforms ----------------------------------------------------------------------------------------


def test_train_transform_is_one_spatial_op_for_all_frames():
    frame = torch.randint(0, 255, (3, 40, 60), dtype=torch.uint8)
    clip = frame.expand(5, 3, 40, 60).clone()
    out = TrainTransform(size=32, flip=True)(clip, np.random.default_rng(0))
    assert out.shape == (3, 5, 32, 32) and out.dtype == torch.float32
    assert all(torch.equal(out[:, 0], out[:, i]) for i in range(5))


def test_flip_off_never_mirrors():
    clip = torch.zeros(2, 3, 32, 32, dtype=torch.uint8)
    clip[..., :16] = 255  # bright left half
    for seed in range(20):
        out = TrainTransform(size=32, flip=False, scales=(1,))(clip, np.random.default_rng(seed))
        assert out[0, 0, :, :8].mean() > out[0, 0, :, -8:].mean()


def test_test_views():
    clip = torch.randint(0, 255, (4, 3, 40, 80), dtype=torch.uint8)
    assert TestTransform(size=32, scale_size=36, crops=1)(clip).shape == (1, 3, 4, 32, 32)
    views = TestTransform(size=32, scale_size=36, crops=3)(clip)
    assert views.shape == (3, 3, 4, 36, 36) and not torch.equal(views[0], views[2])


# --- dataset and loader --------------------------------------------------------------------------------


@pytest.fixture
def frames_dataset(tmp_path):
    for i in range(5):
        write_frame_folder(tmp_path / "frames" / str(i), gradient_frames(10 + i, seed=i))
    records = [VideoRecord(f"frames/{i}", 10 + i, (i % 3,), i + 1) for i in range(5)]
    return tmp_path, records


def test_dataset_items_and_determinism(frames_dataset):
    root, records = frames_dataset
    train = VideoDataset(records, root, FrameFolder(), ClipSampler("tsn", t=4), TrainTransform(24, flip=False), 3)
    item = train[2]
    assert item["video"].shape == (3, 4, 24, 24) and item["label"] == 2 and item["id"] == "frames/2"
    assert torch.equal(train[2]["video"], item["video"])  # same seed, epoch, index -> same clip
    train.set_epoch(1)
    assert not torch.equal(train[2]["video"], item["video"])
    test = VideoDataset(
        records, root, FrameFolder(), ClipSampler("tsn", t=4, clips=2), TestTransform(24, 28, crops=3), 3
    )
    assert test[0]["video"].shape == (6, 3, 4, 28, 28)  # 2 clips x 3 crops


def test_multi_label_and_label_range(frames_dataset):
    root, records = frames_dataset
    multi = [VideoRecord(r.path, r.num_frames, (0, 2), r.line) for r in records]
    ds = VideoDataset(multi, root, FrameFolder(), ClipSampler(t=2), TestTransform(16, 16), 3, multi_label=True)
    assert ds[0]["label"].tolist() == [1.0, 0.0, 1.0]
    with pytest.raises(ValueError, match=r"records:1: label\(s\) \[0, 2\] .* outside \[0, 2\)"):
        VideoDataset(multi, root, FrameFolder(), ClipSampler(t=2), TestTransform(16, 16), 2, multi_label=True)


def test_broken_items_raise_or_are_skipped_and_reported(frames_dataset):
    root, records = frames_dataset
    (root / "frames" / "3" / "00002.jpg").write_bytes(b"not a jpeg")
    args = (records, root, FrameFolder(), ClipSampler(t=12), TestTransform(16, 16), 3)
    with pytest.raises(FrameReadError, match=r"records:4: cannot decode .*frames/3/00002.jpg"):
        VideoDataset(*args)[3]
    loader = make_loader(VideoDataset(*args, on_error="skip"), batch_size=5, train=False)
    batch = next(iter(loader))
    assert batch["video"].shape[0] == 4 and batch["id"] == ["frames/0", "frames/1", "frames/2", "frames/4"]
    assert len(batch["skipped"]) == 1 and "frames/3/00002.jpg" in batch["skipped"][0]


@pytest.mark.parametrize("length,world", [(10, 3), (7, 2), (2, 4), (0, 2)])
def test_evaluation_shards_cover_each_item_once(length, world):
    seen = [i for rank in range(world) for i in ShardSampler(length, rank, world)]
    assert sorted(seen) == list(range(length))
    assert sum(len(ShardSampler(length, r, world)) for r in range(world)) == length


def test_training_loader_shuffles_deterministically(frames_dataset):
    root, records = frames_dataset
    ds = VideoDataset(records, root, FrameFolder(), ClipSampler(t=2), TrainTransform(16), 3)
    order = lambda: [b["index"].tolist() for b in make_loader(ds, 2, train=True, seed=1)]  # noqa: E731
    assert order() == order() and all(len(b) == 2 for b in order())


# --- check ---------------------------------------------------------------------------------------------


def test_check_reports_each_problem_with_its_line(tmp_path, capsys):
    write_mp4(tmp_path / "ok.mp4", gradient_frames(12, 32, 32))
    write_mp4(tmp_path / "short.mp4", gradient_frames(3, 32, 32))
    (tmp_path / "corrupt.mp4").write_bytes(b"\x00\x00\x00\x18ftypmp42" + bytes(range(256)) * 4)
    write_frame_folder(tmp_path / "frames", gradient_frames(12))
    lines = ["ok.mp4 12 1", "missing_folder 12 0", "short.mp4 3 1", "frames 12 9", "corrupt.mp4 12 0", "frames 12 2"]
    (tmp_path / "list.txt").write_text("\n".join(lines) + "\n")
    problems = check_list(tmp_path / "list.txt", tmp_path, num_classes=5, min_frames=8)
    assert [(p.line, p.path) for p in problems] == [
        (2, "missing_folder"),
        (3, "short.mp4"),
        (4, "frames"),
        (5, "corrupt.mp4"),
    ]
    assert "missing frame folder" in problems[0].message and "too short" in problems[1].message
    assert "outside [0, 5)" in problems[2].message and "unreadable" in problems[3].message
    assert (
        check_main([str(tmp_path / "list.txt"), "--root", str(tmp_path), "--num-classes", "5", "--min-frames", "8"])
        == 1
    )
    assert "list.txt:line 5: corrupt.mp4: unreadable" in capsys.readouterr().out
    (tmp_path / "good.txt").write_text("ok.mp4 12 1\nframes 12 2\n")
    assert check_main([str(tmp_path / "good.txt"), "--root", str(tmp_path), "--num-classes", "5"]) == 0


# --- prepare -------------------------------------------------------------------------------------------


def test_prepare_sthv1(tmp_path):
    (tmp_path / "something-something-v1-labels.csv").write_text("Pushing something\nMoving something up\n")
    (tmp_path / "something-something-v1-train.csv").write_text("7;Pushing something\n12;Moving something up\n")
    (tmp_path / "something-something-v1-validation.csv").write_text("3;Pushing something\n")
    for vid, t in ((7, 5), (12, 6), (3, 4)):
        write_frame_folder(tmp_path / "20bn-something-something-v1" / str(vid), gradient_frames(t))
    written = prepare_sthv1(tmp_path)
    assert written["categories"].read_text() == "Moving something up\nPushing something\n"  # alphabetical
    assert written["train"].read_text() == "20bn-something-something-v1/7 5 1\n20bn-something-something-v1/12 6 0\n"
    assert read_list(written["val"]) == [VideoRecord("20bn-something-something-v1/3", 4, (1,), 1)]
    (tmp_path / "something-something-v1-validation.csv").write_text("3;Pushing something\n99;Flying\n")
    with pytest.raises(ListFormatError, match="validation.csv:2: label 'Flying'"):
        prepare_sthv1(tmp_path)


def test_prepare_sthv2(tmp_path):
    (tmp_path / "something-something-v2-labels.json").write_text(
        json.dumps({"Pushing something": "1", "Moving something up": "0"})
    )
    entry = lambda i, t: {"id": str(i), "label": "x", "template": t, "placeholders": []}  # noqa: E731
    (tmp_path / "something-something-v2-train.json").write_text(json.dumps([entry(5, "Pushing [something]")]))
    (tmp_path / "something-something-v2-validation.json").write_text(json.dumps([entry(6, "Moving [something] up")]))
    for i in (5, 6):
        write_mp4(tmp_path / "20bn-something-something-v2" / f"{i}.webm", gradient_frames(7, 32, 32))
    written = prepare_sthv2(tmp_path)
    assert written["train"].read_text() == "20bn-something-something-v2/5.webm 7 1\n"
    assert written["val"].read_text() == "20bn-something-something-v2/6.webm 7 0\n"


def test_prepare_kinetics(tmp_path):
    assert clean_class_name("passing American football (in game)") == "passing_American_football_in_game"
    assert clean_class_name("massaging person's head") == "massaging_persons_head"
    (tmp_path / "annotations").mkdir()
    header = "label,youtube_id,time_start,time_end,split\n"
    (tmp_path / "annotations" / "train.csv").write_text(
        header + '"massaging person\'s head",abc,10,20,train\nabseiling,def,0,10,train\nabseiling,gone,0,10,train\n'
    )
    (tmp_path / "annotations" / "validate.csv").write_text(header + "abseiling,ghi,5,15,val\n")
    write_mp4(tmp_path / "train" / "massaging_persons_head" / "abc_000010_000020.mp4", gradient_frames(6, 32, 32))
    write_frame_folder(tmp_path / "train" / "abseiling" / "def_000000_000010", gradient_frames(4), "img_{:05d}.jpg")
    write_mp4(tmp_path / "val" / "abseiling" / "ghi_000005_000015.mp4", gradient_frames(5, 32, 32))
    written = prepare_kinetics(tmp_path)
    assert written["categories"].read_text() == "abseiling\nmassaging_persons_head\n"
    assert written["train"].read_text() == (
        "train/massaging_persons_head/abc_000010_000020.mp4 6 1\ntrain/abseiling/def_000000_000010 4 0\n"
    )
    assert written["missing"] == {"train": 1, "val": 0}


def test_prepare_mmit(tmp_path):
    ann = tmp_path / "annotations"
    ann.mkdir()
    (ann / "moments_categories.txt").write_text("singing,0\ndancing,1\nrunning,2\n")
    (ann / "trainingSet.txt").write_text("a/x.mp4,2,0\n")
    (ann / "validationSet.csv").write_text("b/y.mp4,1\n")
    write_mp4(tmp_path / "videos" / "a" / "x.mp4", gradient_frames(9, 32, 32))
    write_mp4(tmp_path / "videos" / "b" / "y.mp4", gradient_frames(8, 32, 32))
    written = prepare_mmit(tmp_path)
    assert written["categories"].read_text() == "singing\ndancing\nrunning\n"
    assert written["train"].read_text() == "videos/a/x.mp4 9 0,2\n" and "test" not in written
    (ann / "trainingSet.txt").write_text("a/x.mp4,2,7\n")
    with pytest.raises(ListFormatError, match=r"trainingSet.txt:1: expected 'path,id\[,id...\]' with ids < 3"):
        prepare_mmit(tmp_path)
