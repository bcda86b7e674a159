"""Frame extraction (``python -m paperlib.data.extract``): counts and pixels equal decord's, resizing, resuming,
failure reports, list rewriting, and training on the extracted frames matching training on the videos."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import decord
import numpy as np
import pytest
from PIL import Image

from paperlib.data import FrameFolder, VideoFile, read_list
from paperlib.data.extract import FAILURES, Options, extract_all, extract_video, main, resized

from .data_fixtures import gradient_frames, write_mp4

ROOT = Path(__file__).resolve().parents[1]
# relative path -> frames; all H.264, 64 px wide (decord cannot read 48 px wide H.264). The .webm is a Matroska
# file (WebM's container) holding H.264: PyAV's VP9 encoder fails once decord's bundled FFmpeg is loaded.
VIDEOS = {"a/one.mp4": 12, "a/b/two.webm": 9, "three.mkv": 7, "c/four.avi": 5}


def _videos(folder: Path, videos: dict[str, int] = VIDEOS) -> Path:
    for i, (rel, t) in enumerate(videos.items()):
        path = folder / rel
        written = write_mp4(path.with_suffix(".mkv") if path.suffix == ".webm" else path, gradient_frames(t, 32, 64, i))
        written.rename(path)
    (folder / "notes.txt").write_text("not a video\n")
    return folder


@pytest.fixture(scope="module")
def video_dir(tmp_path_factory) -> Path:
    return _videos(tmp_path_factory.mktemp("videos"))


def _decoded(path: Path) -> np.ndarray:
    reader = decord.VideoReader(str(path))
    return reader.get_batch(list(range(len(reader)))).asnumpy()


def _mtimes(folder: Path) -> dict[str, int]:
    return {p.name: p.stat().st_mtime_ns for p in folder.iterdir()}


def test_every_frame_decord_decodes_is_written_as_a_numbered_jpeg(video_dir, tmp_path):
    out = tmp_path / "frames"
    assert main([str(video_dir), str(out), "--no-progress"]) == 0
    folders = {p.parent.relative_to(out).as_posix() for p in out.rglob("*.jpg")}
    assert folders == {Path(rel).with_suffix("").as_posix() for rel in VIDEOS}
    for rel in VIDEOS:
        decoded = _decoded(video_dir / rel)
        folder = out / Path(rel).with_suffix("")
        assert sorted(os.listdir(folder)) == [f"{i:05d}.jpg" for i in range(1, len(decoded) + 1)]
        frames = FrameFolder().read(folder, np.arange(len(decoded)))  # the project's reader, default template
        assert frames.shape == decoded.shape
        error = np.abs(frames.astype(np.int16) - decoded).mean()
        assert error < 1.5, f"{rel}: JPEG frames differ from the decoded video by {error:.2f} grey levels on average"
    assert not (out / FAILURES).exists() and not list(out.rglob(".*.tmp"))


def test_short_side_resize_keeps_the_aspect_ratio(video_dir, tmp_path):
    assert resized((64, 32), 48) == (96, 48) and resized((30, 50), 15) == (15, 25)
    assert resized((64, 32), None) == (64, 32) and resized((341, 256), 256) == (341, 256)
    assert resized((1920, 1080), 256) == (455, 256)
    outcome = extract_video(video_dir / "a/one.mp4", tmp_path / "one", Options(short_side=48, quality=90))
    assert outcome.status == "extracted" and outcome.frames == 12
    with Image.open(tmp_path / "one" / "00001.jpg") as image:
        assert image.size == (96, 48) and image.format == "JPEG"
    resized_back = np.asarray(Image.open(tmp_path / "one" / "00003.jpg").resize((64, 32), Image.Resampling.BILINEAR))
    assert np.abs(resized_back.astype(np.int16) - _decoded(video_dir / "a/one.mp4")[2]).mean() < 3


def test_a_rerun_skips_finished_videos_and_redoes_interrupted_ones(video_dir, tmp_path, monkeypatch):
    out = tmp_path / "frames"
    first = extract_all(video_dir, out, progress=False)
    assert {o.status for o in first} == {"extracted"}
    before = {rel: _mtimes(out / Path(rel).with_suffix("")) for rel in VIDEOS}

    # A run killed while writing "a/one": only its hidden temporary sibling with some frames is left
    done = out / "a" / "one"
    os.rename(done, out / "a" / ".one.x1y2z3.tmp")
    (out / "a" / ".one.x1y2z3.tmp" / "00012.jpg").unlink()
    assert not done.exists()
    # Ctrl-C in the middle of "three": nothing that looks like a frame folder stays behind
    saves = []
    original_save = Image.Image.save

    def interrupted_save(self, *args, **kwargs):
        saves.append(1)
        if len(saves) == 3:
            raise KeyboardInterrupt
        return original_save(self, *args, **kwargs)

    shutil.rmtree(out / "three")
    monkeypatch.setattr(Image.Image, "save", interrupted_save)
    with pytest.raises(KeyboardInterrupt):
        extract_video(video_dir / "three.mkv", out / "three")
    assert not (out / "three").exists() and not list(out.glob(".three.*"))

    # an error in the middle (here a full disk) is reported, and leaves nothing behind either
    def full_disk(self, *args, **kwargs):
        raise OSError("No space left on device")

    monkeypatch.setattr(Image.Image, "save", full_disk)
    failed = extract_video(video_dir / "three.mkv", out / "three")
    assert failed.status == "failed" and failed.reason == "OSError: No space left on device"
    monkeypatch.undo()
    assert not (out / "three").exists() and not list(out.glob(".three.*"))

    again = {o.video.relative_to(video_dir).as_posix(): o for o in extract_all(video_dir, out, progress=False)}
    assert {rel: o.status for rel, o in again.items()} == {
        "a/one.mp4": "extracted",
        "a/b/two.webm": "skipped",
        "three.mkv": "extracted",
        "c/four.avi": "skipped",
    }
    for rel in ("a/b/two.webm", "c/four.avi"):
        assert _mtimes(out / Path(rel).with_suffix("")) == before[rel]  # not rewritten
    assert again["a/one.mp4"].frames == 12 and FrameFolder().count(done) == 12
    assert FrameFolder().count(out / "three") == 7
    assert not list(out.rglob(".*.tmp"))


def test_a_broken_video_is_reported_with_its_path_and_the_others_are_extracted(video_dir, tmp_path, capsys):
    videos = tmp_path / "videos"
    shutil.copytree(video_dir, videos)
    broken = videos / "a" / "broken.mp4"
    broken.write_bytes(np.random.default_rng(0).integers(0, 256, 5000, dtype=np.uint8).tobytes())
    out = tmp_path / "frames"
    assert main([str(videos), str(out), "--no-progress"]) == 1
    captured = capsys.readouterr()
    assert str(broken) in captured.err and "1 failed" in captured.out
    report = (out / FAILURES).read_text().splitlines()
    assert len(report) == 1 and report[0].startswith(f"{broken}: cannot open video")
    assert not (out / "a" / "broken").exists()
    assert all(FrameFolder().count(out / Path(rel).with_suffix("")) == t for rel, t in VIDEOS.items())

    broken.unlink()  # fixed: the rerun succeeds and the stale report goes
    assert main([str(videos), str(out), "--no-progress"]) == 0
    assert not (out / FAILURES).exists()


def test_videos_whose_frame_folders_would_clash_are_reported(tmp_path):
    videos = _videos(tmp_path / "videos", {"x.mp4": 3, "x/y.mp4": 4, "z.mkv": 5, "z.mp4": 6})
    outcomes = {o.video.relative_to(videos).as_posix(): o for o in extract_all(videos, tmp_path / "o", progress=False)}
    assert {rel: o.status for rel, o in outcomes.items()} == {
        "x.mp4": "failed",
        "x/y.mp4": "extracted",
        "z.mkv": "extracted",
        "z.mp4": "failed",
    }
    assert outcomes["x.mp4"].reason.endswith(f"those of the videos in {videos / 'x'}")
    assert outcomes["z.mp4"].reason == f"same frame folder as {videos / 'z.mkv'}"
    assert FrameFolder().count(tmp_path / "o" / "z") == 5 and FrameFolder().count(tmp_path / "o" / "x" / "y") == 4
    assert len((tmp_path / "o" / FAILURES).read_text().splitlines()) == 2


def test_list_rewrite_points_at_frame_folders_with_their_counts(video_dir, tmp_path, capsys):
    root = tmp_path / "dataset"
    root.mkdir()
    (root / "videos").symlink_to(video_dir)  # a symlinked video folder, as datasets on shared storage often are
    videos = root / "videos"
    (root / "train.txt").write_text("videos/a/one.mp4 99 3\nvideos/c/four.avi 5 1,4\nvideos/gone.mp4 10 2\n")
    (root / "val.txt").write_text("videos/three.mkv 7 0\n")
    out = tmp_path / "frames"
    status = main(
        [
            str(videos),
            str(out),
            "--list",
            str(root / "train.txt"),
            "--list-out",
            str(out / "train.txt"),
            "--list",
            str(root / "val.txt"),
            "--list-out",
            str(out / "val.txt"),
            "--list-root",
            str(root),
            "--no-progress",
            "--workers",
            "2",
        ]
    )
    assert status == 1  # the list names a video that is not there
    assert "videos/gone.mp4" in capsys.readouterr().err
    train = read_list(out / "train.txt")
    assert [(r.path, r.num_frames, r.labels) for r in train] == [("a/one", 12, (3,)), ("c/four", 5, (1, 4))]
    assert [(r.path, r.num_frames, r.labels) for r in read_list(out / "val.txt")] == [("three", 7, (0,))]


def test_cli_errors_are_clear(tmp_path, capsys):
    assert main([str(tmp_path / "missing"), str(tmp_path / "out")]) == 2
    assert "video folder not found" in capsys.readouterr().err
    (tmp_path / "empty").mkdir()
    assert main([str(tmp_path / "empty"), str(tmp_path / "out")]) == 2
    assert "no videos" in capsys.readouterr().err
    _videos(tmp_path / "v", {"x.mp4": 3})
    assert main([str(tmp_path / "v"), str(tmp_path / "out"), "--template", "frame.png"]) == 2
    assert "--template" in capsys.readouterr().err
    assert (
        main(
            [
                str(tmp_path / "v"),
                str(tmp_path / "out"),
                "--list",
                str(tmp_path / "nope.txt"),
                "--list-out",
                str(tmp_path / "new.txt"),
            ]
        )
        == 2
    )
    assert "list file not found" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main([str(tmp_path / "v"), str(tmp_path / "out"), "--list", "a.txt"])
    assert not (tmp_path / "out" / "x").exists()
    result = subprocess.run(
        [sys.executable, "-m", "paperlib.data.extract", str(tmp_path / "v"), str(tmp_path / "out")],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "1 videos: 1 extracted" in result.stdout and FrameFolder().count(tmp_path / "out" / "x") == 3


# ---- frames vs video training parity ---------------------------------------------------------------------


def test_training_on_extracted_frames_matches_training_on_the_videos(tmp_path):
    """Embedded MMIT videos extracted to JPEG frames train the same small TSM (same seed and recipe, through the
    project's train and evaluate) to the class-wise mAP of the videos, within what codec error explains.

    Measured on this set (64 px, 240 train / 96 val clips of 32-36 frames, 6 epochs; ~35 s on 2 idle cores):

    * pixels: the q95 JPEGs differ from the decoded video by 2.2 grey levels (0-255) on average;
    * inference, the codec error alone: the video-trained weights scored on the frames instead of the videos
      move a class probability by 0.0048-0.0068 on average (data seeds 0-3, 1 or 2 threads, libx264 capped at AVX2
      or not). That is the check (asserted < 0.01): the same frames re-encoded at JPEG quality 75 move it by
      0.0105-0.0133, with red and blue swapped by 0.045-0.086. The class-wise mAP over these 96 clips is a rank
      statistic: it moved by 0.05-1.09 points (1.06 for data seed 0 with the AVX2 cap, here and in CI),
      while the channel swap moved it by -4.2 to +3.7, either way; so it is only bounded loosely (< 2.5). A frame
      off by one (0.0072-0.0098) is caught by ``test_every_frame_decord_decodes_is_written_as_a_numbered_jpeg``;
    * training: the codec perturbation changes the trajectory as float rounding does. Frames minus video
      mAP over seeds 0-3, 1 or 2 threads and regenerated data: -3.5 to +3.4 points in 15 pairs (chance 17.3;
      -4.2 for data seed 0 with the AVX2 cap),
      while the same video run with 1 instead of 2 CPU threads (same data, same seed) moved by up to 2.8 points,
      and by 6.3 on the 400-clip embedded scale. So the training tolerance is 6 points, and both runs must
      beat chance by 4.
    """
    from paperlib.data.prepare import prepare_mmit
    from paperlib.data.synthetic.mmit import MMITScale, make_mmit
    from paperlib.engine.metrics import classwise_map
    from paperlib.engine.trainer import train
    from paperlib.evaluate import run as evaluate_checkpoint
    from paperlib.experiments.mmit import chance_map, mmit_config

    scale = MMITScale(size=64, num_train=240, num_val=96, num_test=0, min_frames=32, max_frames=36)
    dataset = make_mmit(tmp_path / "datasets", scale, seed=0)
    prepare_mmit(dataset.root)
    frames = tmp_path / "frames"
    lists = []
    for split in ("train", "val"):
        lists += ["--list", str(dataset.root / f"{split}.txt"), "--list-out", str(frames / f"{split}.txt")]
    assert main([str(dataset.root), str(frames), "--no-progress", *lists]) == 0
    shutil.copy(dataset.root / "category.txt", frames / "category.txt")
    val_videos, val_frames = read_list(dataset.root / "val.txt"), read_list(frames / "val.txt")
    assert [r.num_frames for r in val_frames] == [r.num_frames for r in val_videos]

    # codec error per pixel, over every frame of the validation clips (grey levels, 0-255)
    errors = []
    for video, folder in zip(val_videos, val_frames):
        index = np.arange(video.num_frames)
        decoded = VideoFile().read(dataset.root / video.path, index).astype(np.int16)
        errors.append(np.abs(FrameFolder().read(frames / folder.path, index) - decoded).mean())
    codec_error = float(np.mean(errors))
    assert codec_error < 4.0

    metrics, scores = {}, {}
    for source, root in (("video", dataset.root), ("frames", frames)):
        config = mmit_config("embedded", "tsm_r50", 0, str(root), "cpu")
        config.data.source, config.output_dir = source, str(tmp_path / f"run_{source}")
        metrics[source] = train(config)
        scores[source] = np.load(tmp_path / f"run_{source}" / "scores.npz")
    # the video-trained weights scored on the frames: the codec error alone, at inference
    config = mmit_config("embedded", "tsm_r50", 0, str(frames), "cpu")
    config.data.source = "frames"
    crossed = evaluate_checkpoint(tmp_path / "run_video" / "last.pth", config, tmp_path / "crossed", progress=False)
    crossed_scores = np.load(tmp_path / "crossed" / "scores.npz")["scores"]
    labels = scores["video"]["labels"]
    chance = chance_map(labels)["classwise_mAP"]
    assert np.array_equal(labels, scores["frames"]["labels"])
    assert crossed["mAP_classwise"] == pytest.approx(classwise_map(crossed_scores, labels))
    inference_shift = abs(crossed["mAP_classwise"] - metrics["video"]["mAP_classwise"])
    probability_shift = float(np.abs(crossed_scores - scores["video"]["scores"]).mean())
    training_gap = metrics["frames"]["mAP_classwise"] - metrics["video"]["mAP_classwise"]
    print(
        f"codec error {codec_error:.2f} grey levels; video-trained mAP {metrics['video']['mAP_classwise']:.2f}, "
        f"on frames {crossed['mAP_classwise']:.2f} (probabilities move {probability_shift:.4f}); frames-trained "
        f"mAP {metrics['frames']['mAP_classwise']:.2f} (gap {training_gap:+.2f}); chance {chance:.2f}"
    )
    assert probability_shift < 0.01 and inference_shift < 2.5
    assert min(m["mAP_classwise"] for m in metrics.values()) > chance + 4
    assert abs(training_gap) < 6.0
