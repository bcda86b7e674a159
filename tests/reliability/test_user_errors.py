"""The inputs a real user gets wrong, through every command line: each ends with exactly one line on stderr
(``error: ...`` naming the file, line or key, and what to do), exit status 1 (2 for usage and configuration
errors), no traceback, and no run folder left behind; Ctrl-C exits 130 saying how to resume; ``--debug`` shows
the traceback. Inputs that only look unusual (CRLF line endings, spaces in paths) simply work."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
from PIL import Image

from paperlib.bench.__main__ import main as bench_main
from paperlib.configs import available_recipes, recipe_path
from paperlib.data.check import main as check_main
from paperlib.evaluate import main as evaluate_main
from paperlib.models import create
from paperlib.predict import main as predict_main
from paperlib.train import main as train_main
from tests.data_fixtures import gradient_frames, write_frame_folder, write_mp4

ROOT = Path(__file__).resolve().parents[2]
CLASSES = 3


def make_dataset(root: Path, train: int = 8, val: int = 4, folder: str = "frames/vid {:02d}") -> Path:
    """A Something-v1-like dataset: ``category.txt``, ``train.txt``, ``val.txt`` and 8-frame 32x32 folders
    (whose names hold a space)."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "category.txt").write_text("".join(f"class {i}\n" for i in range(CLASSES)))
    for split, count, offset in (("train", train, 0), ("val", val, 100)):
        lines = []
        for i in range(offset, offset + count):
            write_frame_folder(root / folder.format(i), gradient_frames(8, 32, 32, seed=i))
            lines.append(f"{folder.format(i)} 8 {i % CLASSES}")
        (root / f"{split}.txt").write_text("\n".join(lines) + "\n")
    return root


def truncate(path: Path) -> None:
    """Cut a file in the middle (an interrupted copy or download)."""
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def first_folder(root: Path, split: str = "train") -> Path:
    return root / (root / f"{split}.txt").read_text().splitlines()[0].rsplit(maxsplit=2)[0]


def run_main(main, args: list[str], capfd) -> tuple[int, str, list[str]]:
    """``main(args)`` in this process: (exit status, stdout, stderr lines); a SystemExit's code counts."""
    try:
        code = main([str(a) for a in args])
    except SystemExit as exc:
        code = exc.code
    out, err = capfd.readouterr()
    return code, out, err.splitlines()


def assert_one_line(code: int, err: list[str], status: int, *needles: str) -> None:
    assert code == status, err
    assert len(err) == 1, err  # one line, no traceback, nothing else
    assert err[0].startswith("error: ") and "Traceback" not in err[0]
    for needle in needles:
        assert needle in err[0], (needle, err[0])


@pytest.fixture(scope="module")
def trained(tmp_path_factory) -> tuple[Path, Path]:
    """(dataset root, run folder) of one short training run on the tiny dataset."""
    base = tmp_path_factory.mktemp("trained")
    root = make_dataset(base / "data")
    out = base / "run"
    assert train_main(["--config", "smoke", *train_overrides(root, out)]) == 0
    return root, out


def train_overrides(root: Path, out: Path, *more: str) -> list[str]:
    return [
        f"data.root={root}",
        f"output_dir={out}",
        "optim.batch_size=4",
        "optim.epochs=1",
        "eval.batch_size=4",
        *more,
    ]


# --- train: every bad input is refused before anything is written -------------------------------------------


def _damage(case: str, root: Path) -> tuple[list[str], int, tuple[str, ...]]:
    """Damage the dataset at ``root`` as ``case`` says; returns (extra overrides, exit status, needles)."""
    train = root / "train.txt"
    lines = train.read_text().splitlines()
    folder = first_folder(root)
    if case == "malformed line":
        lines[2] = lines[2].rsplit(maxsplit=1)[0] + " two"
        train.write_text("\n".join(lines) + "\n")
        return [], 1, (f"{train}:3", "num_frames and labels must be integers")
    if case == "empty list":
        train.write_text("\n")
        return [], 1, (f"{train}", "the list is empty")
    if case == "label out of range":
        lines[1] = lines[1].rsplit(maxsplit=1)[0] + " 7"
        train.write_text("\n".join(lines) + "\n")
        return [], 1, (f"{train}:2", "outside [0, 3)")
    if case == "truncated jpeg":
        truncate(folder / "00004.jpg")
        return [], 1, (f"{train}:1", "00004.jpg", "data.on_error=skip", "paperlib.data.check")
    if case == "png frames":
        for jpg in folder.glob("*.jpg"):
            Image.open(jpg).save(jpg.with_suffix(".png"))
            jpg.unlink()
        return [], 1, (f"{train}:1", "00001.png", "data.template")
    if case == "zero-byte jpeg":
        (folder / "00008.jpg").write_bytes(b"")
        return [], 1, (f"{train}:1", "00008.jpg")
    if case == "missing frame folder":
        for f in folder.iterdir():
            f.unlink()
        folder.rmdir()
        return [], 1, (f"{train}:1", "missing frame folder")
    if case == "fewer frames than the list says":
        (folder / "00008.jpg").unlink()
        return [], 1, (f"{train}:1", "has 7 frames, fewer than the 8 the list says")
    if case == "class count mismatch":
        return ["model.num_classes=5"], 1, ("model.num_classes is 5", "lists 3 classes")
    if case == "no data root":
        return [f"data.root={root / 'nowhere'}"], 1, ("nowhere", "not a folder")
    if case == "missing val list":
        (root / "val.txt").unlink()
        return [], 1, ("data.val_list", "val.txt not found", "paperlib.data.prepare")
    if case == "unknown model":
        return ["model.name=tin_r51"], 1, ("model: unknown model 'tin_r51'",)
    raise AssertionError(case)


TRAIN_CASES = [
    "malformed line",
    "empty list",
    "label out of range",
    "truncated jpeg",
    "png frames",
    "zero-byte jpeg",
    "missing frame folder",
    "fewer frames than the list says",
    "class count mismatch",
    "no data root",
    "missing val list",
    "unknown model",
]


@pytest.mark.parametrize("case", TRAIN_CASES)
def test_train_refuses_bad_data_in_one_line_and_writes_nothing(case, tmp_path, capfd):
    root = make_dataset(tmp_path / "data")
    extra, status, needles = _damage(case, root)
    out = tmp_path / "run"
    code, stdout, err = run_main(train_main, ["--config", "smoke", *train_overrides(root, out), *extra], capfd)
    assert_one_line(code, err, status, *needles)
    assert not out.exists(), "a run refused at the start leaves no folder behind"


def test_crlf_lists_and_spaces_in_paths_just_work(tmp_path, capfd):
    root = make_dataset(tmp_path / "data")  # folder names with a space
    for name in ("train.txt", "val.txt", "category.txt"):
        path = root / name
        path.write_bytes(path.read_bytes().replace(b"\n", b"\r\n"))  # written on Windows
    code, stdout, err = run_main(train_main, ["--config", "smoke", *train_overrides(root, tmp_path / "run")], capfd)
    assert code == 0, err
    assert json.loads(stdout.strip().splitlines()[-1])["videos"] == 4
    code, stdout, err = run_main(check_main, [root / "train.txt", "--root", root, "--num-classes", 3], capfd)
    assert code == 0 and "8 entries (decoded every frame), 0 problem(s)" in stdout, stdout


@pytest.mark.parametrize(
    "text, needle",
    [
        ("optim:\n  lr: 0.1\n", "no 'model', 'data' section(s)"),
        ("model:\n  name: tsn_r50\ndata: {}\n", "no 'optim' section(s)"),
        ("model: [1, 2]\ndata: {}\noptim: {}\n", "config section 'model' must be a mapping"),
        ("model:\n  nmae: tin_r50\ndata: {}\noptim: {}\n", "unknown config key(s): model.nmae"),
    ],
)
def test_a_config_file_missing_sections_is_a_one_line_usage_error(text, needle, tmp_path, capfd):
    config = tmp_path / "my config.yaml"
    config.write_text(text)
    code, _, err = run_main(train_main, ["--config", config, f"output_dir={tmp_path / 'run'}"], capfd)
    assert_one_line(code, err, 2, needle)
    code, _, err = run_main(train_main, ["--config", tmp_path / "missing.yaml"], capfd)
    assert_one_line(code, err, 2, "config file not found", "missing.yaml")
    assert not (tmp_path / "run").exists()


def test_debug_shows_the_traceback(tmp_path, capfd, monkeypatch):
    root = make_dataset(tmp_path / "data")
    (root / "train.txt").write_text("\n")
    args = ["--config", "smoke", *train_overrides(root, tmp_path / "run")]
    code, _, err = run_main(train_main, ["--debug", *args], capfd)
    assert code == 1 and err[0].startswith("Traceback") and err[-1].startswith("error: ")
    monkeypatch.setenv("PAPERLIB_DEBUG", "1")
    code, _, err = run_main(train_main, args, capfd)
    assert code == 1 and "Traceback (most recent call last):" in err


def test_a_run_that_fails_before_its_first_checkpoint_leaves_a_folder_saying_why(tmp_path, capfd):
    root = make_dataset(tmp_path / "data")
    out = tmp_path / "run"
    args = train_overrides(root, out, "optim.lr=.inf")  # diverges at once
    code, _, err = run_main(train_main, ["--config", "smoke", *args], capfd)
    assert code == 1 and "Traceback" not in "\n".join(err), err
    assert err[-1].startswith("error: loss is nan at epoch 0, step 1") and "lower optim.lr" in err[-1]
    assert not (out / "last.pth").exists()
    why = (out / "failed.txt").read_text()
    assert "LossNotFiniteError: loss is nan at epoch 0, step 1" in why and "no checkpoint was written" in why
    code, _, err = run_main(train_main, ["--config", "smoke", *train_overrides(root, out)], capfd)
    assert code == 0 and not (out / "failed.txt").exists()  # a run that then succeeds clears it


# --- train with data.on_error=skip: every unreadable entry is told, each epoch ------------------------------


def test_skip_reports_every_unreadable_entry_each_epoch_even_in_dropped_batches(tmp_path, capfd):
    root = make_dataset(tmp_path / "data", train=9)  # batches of 4: 2 per epoch, one entry dropped each time
    # the entry the first epoch drops (DistributedSampler's shuffle: randperm seeded with seed + epoch, seed 0)
    dropped = torch.randperm(9, generator=torch.Generator().manual_seed(0)).tolist()[-1]
    line = (root / "train.txt").read_text().splitlines()[dropped]
    truncate(root / line.rsplit(maxsplit=2)[0] / "00003.jpg")
    out = tmp_path / "run"
    args = train_overrides(root, out, "optim.epochs=3", "data.on_error=skip")
    code, stdout, err = run_main(train_main, ["--config", "smoke", *args], capfd)
    assert code == 0, err
    broken = f"{root / 'train.txt'}:{dropped + 1}:"
    assert f"warning: 1 list entries cannot be read; data.on_error=skip leaves them out:\n  {broken}" in stdout
    for epoch in (1, 2, 3):  # skipped when read, told as dropped when it fell in the dropped batch
        report = [line for line in stdout.splitlines() if line.startswith(f"epoch {epoch}: ")]
        assert len(report) == 1, stdout
        below = stdout.split(report[0], 1)[1].splitlines()[1]
        assert below.startswith(f"  {broken}"), stdout
    events = [json.loads(line) for line in (out / "log.jsonl").read_text().splitlines()]
    per_epoch = [e for e in events if e["event"] == "skipped_epoch"]
    assert [len(e["skipped"]) + len(e["dropped"]) for e in per_epoch] == [1, 1, 1]
    assert per_epoch[0]["dropped"][0].startswith(broken)  # never read in epoch 1, and still told
    assert "1 more in the batches dropped at the end of the epoch" in stdout


# --- Ctrl-C -------------------------------------------------------------------------------------------------


def _env() -> dict:
    return {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(ROOT)}


def test_ctrl_c_exits_130_and_says_how_to_resume(tmp_path):
    root = make_dataset(tmp_path / "data")
    out = tmp_path / "run"
    command = [sys.executable, "-m", "paperlib.train", "--config", "smoke"]
    child = subprocess.Popen(
        [*command, *train_overrides(root, out, "optim.epochs=100000")],  # cannot finish before the signal
        env=_env(),
        # a terminal's Ctrl-C: SIGINT handled even when the test runs in a background job, which ignores it
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 120
        while not (out / "last.pth").exists():  # the first epoch's checkpoint
            assert child.poll() is None and time.monotonic() < deadline, child.communicate()[1][-2000:]
            time.sleep(0.2)
        time.sleep(0.5)
        child.send_signal(signal.SIGINT)
        _, err = child.communicate(timeout=60)
    finally:
        child.kill()
    assert child.returncode == 130, err[-2000:]
    assert "Traceback" not in err
    last = err.strip().splitlines()[-1]
    assert last.startswith("interrupted (Ctrl-C); ") and "--resume" in last and str(out / "last.pth") in last
    failed = (out / "failed.txt").read_text()
    assert "interrupted" in failed and "--resume" in failed


# --- evaluate -----------------------------------------------------------------------------------------------


def test_evaluate_writes_its_own_folder_and_never_overwrites(trained, capfd):
    root, run = trained
    before = {name: (run / name).read_bytes() for name in ("metrics.json", "scores.npz")}
    assert "train_loss" in json.loads(before["metrics.json"])["metrics"]
    args = ["--checkpoint", run / "last.pth", "--views", "1x2"]
    code, stdout, err = run_main(evaluate_main, args, capfd)
    assert code == 0, err
    out = run / "eval-paperlib-1x2"
    record = json.loads((out / "metrics.json").read_text())
    assert record["views"] == "1x2" and record["model"]["name"] == "tin_r50"
    assert json.loads(stdout.strip().splitlines()[-1]) == record["metrics"]
    assert {name: (run / name).read_bytes() for name in before} == before  # the training run's files, untouched
    first = (out / "metrics.json").read_bytes()
    code, _, err = run_main(evaluate_main, args, capfd)  # the same evaluation again
    assert_one_line(code, err, 1, str(out), "already holds an evaluation", "--overwrite")
    assert (out / "metrics.json").read_bytes() == first
    code, _, err = run_main(evaluate_main, [*args, "--output", run], capfd)  # into the training run itself
    assert_one_line(code, err, 1, "is a training run's folder")
    assert {name: (run / name).read_bytes() for name in before} == before
    code, _, err = run_main(evaluate_main, [*args, "--overwrite"], capfd)
    assert code == 0, err


@pytest.mark.parametrize(
    "config, overrides, needles",
    [
        (None, ["model.name=tsm_r50"], ["model.name: tin_r50 in the checkpoint, tsm_r50 in the configuration"]),
        (
            "smoke",
            ["model.name=tsn_r50", "model.num_segments=4", "model.num_classes=7"],
            ["model.name: tin_r50", "model.num_classes: 3 in the checkpoint, 7", "model.num_segments: 8 in the"],
        ),
        (None, ["model.options.width=32"], ["model.options.width: 16 in the checkpoint, 32 in the configuration"]),
    ],
)
def test_evaluate_refuses_a_checkpoint_that_contradicts_the_config(
    trained, tmp_path, capfd, config, overrides, needles
):
    root, run = trained
    args = ["--checkpoint", run / "last.pth", "--output", tmp_path / "eval", *overrides, f"data.root={root}"]
    code, _, err = run_main(evaluate_main, [*(["--config", config] if config else []), *args], capfd)
    assert_one_line(code, err, 1, str(run / "last.pth"), "does not fit the configuration", *needles)
    assert not (tmp_path / "eval").exists()


def test_evaluate_and_predict_on_bad_checkpoints(trained, tmp_path, capfd):
    root, run = trained
    foreign = tmp_path / "TSM_something_RGB_resnet50.pth.tar"  # another codebase's layout: weights only
    torch.save({"state_dict": create("tsn_r18", 3, 8, width=8).state_dict()}, foreign)
    junk = tmp_path / "partial.pth"
    junk.write_bytes((run / "last.pth").read_bytes()[:5000])  # an interrupted download
    folder = first_folder(root, "val")
    cases = [
        (evaluate_main, ["--checkpoint", foreign], "stores no paperlib configuration", "--config"),
        (evaluate_main, ["--checkpoint", foreign, "--config", "smoke", f"data.root={root}"], "does not fit", "tin"),
        (evaluate_main, ["--checkpoint", junk], "cannot read checkpoint", "truncated"),
        (evaluate_main, ["--checkpoint", tmp_path / "none.pth"], "checkpoint not found", "none.pth"),
        (predict_main, ["--checkpoint", foreign, folder], "no paperlib model description", ""),
        (predict_main, ["--checkpoint", junk, folder], "cannot read checkpoint", "partial.pth"),
    ]
    for main, args, *needles in cases:
        code, _, err = run_main(main, [*args, "--output", tmp_path / "eval"] if main is evaluate_main else args, capfd)
        assert_one_line(code, err, 1, *needles)
    assert not (tmp_path / "eval").exists()


def test_evaluate_on_data_that_does_not_fit(trained, tmp_path, capfd):
    root, run = trained
    other = make_dataset(tmp_path / "other", train=1, val=2)
    (other / "category.txt").write_text("".join(f"class {i}\n" for i in range(5)))
    args = ["--checkpoint", run / "last.pth", "--output", tmp_path / "eval", f"data.root={other}"]
    code, _, err = run_main(evaluate_main, args, capfd)
    assert_one_line(code, err, 1, "model.num_classes is 3", "lists 5 classes")
    (other / "category.txt").write_text("".join(f"class {i}\n" for i in range(3)))
    truncate(first_folder(other, "val") / "00005.jpg")
    code, _, err = run_main(evaluate_main, args, capfd)
    assert_one_line(code, err, 1, f"{other / 'val.txt'}:1", "00005.jpg")
    assert not (tmp_path / "eval").exists()


# --- predict ------------------------------------------------------------------------------------------------


def test_predict_on_bad_media(trained, tmp_path, capfd):
    root, run = trained
    empty = tmp_path / "empty.mp4"
    empty.write_bytes(b"")
    partial = write_mp4(tmp_path / "partial download.mp4", gradient_frames(16, 32, 32))
    truncate(partial)
    pngs = tmp_path / "png frames"
    pngs.mkdir()
    for i, frame in enumerate(gradient_frames(8, 32, 32), start=1):
        Image.fromarray(frame).save(pngs / f"{i:05d}.png")
    cases = [
        (empty, "empty.mp4", "empty (0 bytes)"),
        (partial, "partial download.mp4", "not a complete video"),
        (pngs, "00001.png", "--template"),
        (tmp_path / "nothing.mp4", "no such video or frame folder", "nothing.mp4"),
    ]
    for media, *needles in cases:
        code, _, err = run_main(predict_main, ["--checkpoint", run / "last.pth", media], capfd)
        assert_one_line(code, err, 1, *needles)
        assert "video_reader.cc" not in err[0] and "Check failed" not in err[0] and "moov" not in err[0].split(":")[0]


# --- check --------------------------------------------------------------------------------------------------


def test_check_decodes_and_finds_a_jpeg_truncated_in_the_middle(tmp_path, capfd):
    root = make_dataset(tmp_path / "data")
    truncate(first_folder(root) / "00004.jpg")
    args = [root / "train.txt", "--root", root, "--num-classes", 3]
    code, stdout, err = run_main(check_main, args, capfd)
    assert code == 1 and not err, err
    assert f"{root / 'train.txt'}:line 1: frames/vid 00: unreadable: cannot decode " in stdout
    assert "00004.jpg" in stdout and "8 entries (decoded every frame), 1 problem(s)" in stdout
    code, stdout, _ = run_main(check_main, [*args, "--no-decode"], capfd)  # what the quick check misses
    assert code == 0 and "0 problem(s)" in stdout
    code, stdout, _ = run_main(check_main, [*args, "--sample", 8, "--workers", 1], capfd)
    assert code == 1 and "00004.jpg" in stdout


def test_check_reports_broken_videos_in_one_line_each(tmp_path, capfd):
    good = write_mp4(tmp_path / "good clip.mp4", gradient_frames(12, 32, 32))
    data = good.read_bytes()
    (tmp_path / "empty.mp4").write_bytes(b"")
    (tmp_path / "partial.mp4").write_bytes(data[: len(data) // 2])
    (tmp_path / "list.txt").write_text("good clip.mp4 12 0\r\nempty.mp4 12 1\r\npartial.mp4 12 2\r\n")
    code, stdout, err = run_main(check_main, [tmp_path / "list.txt", "--root", tmp_path], capfd)
    assert code == 1 and not err, err  # FFmpeg's and decord's own messages do not reach the terminal
    lines = stdout.splitlines()
    assert lines[0].endswith(
        "empty.mp4: unreadable: cannot open video " + str(tmp_path / "empty.mp4") + ": the file is empty (0 bytes)"
    )
    assert "partial.mp4: unreadable: cannot open video" in lines[1]
    assert "video_reader.cc" not in stdout and "Check failed" not in stdout
    assert lines[-1].endswith("3 entries (decoded every frame), 2 problem(s)")


def test_check_counts_a_dataset_mismatch_as_a_problem(tmp_path, capfd):
    root = make_dataset(tmp_path / "data")
    code, stdout, err = run_main(check_main, [root / "val.txt", "--root", root, "--dataset", "sthv1"], capfd)
    assert code == 1 and not err
    assert "sthv1 val: 4 of 11,522 videos" in stdout
    assert stdout.splitlines()[-1].endswith("4 entries (decoded every frame), 1 problem(s)")


def test_check_on_a_missing_or_empty_list(tmp_path, capfd):
    code, _, err = run_main(check_main, [tmp_path / "train.txt", "--root", tmp_path], capfd)
    assert_one_line(code, err, 1, "list file not found", "train.txt")
    (tmp_path / "train.txt").write_text("\r\n\r\n")
    code, stdout, err = run_main(check_main, [tmp_path / "train.txt", "--root", tmp_path], capfd)
    assert code == 1 and not err and "train.txt is empty" in stdout


# --- help texts ---------------------------------------------------------------------------------------------


def test_train_help_names_only_recipes_that_exist(capfd):
    code, stdout, _ = run_main(train_main, ["--help"], capfd)
    assert code == 0
    text = " ".join(stdout.split())
    folder, names = text.split("recipes (in ", 1)[1].split("): ", 1)
    assert Path(folder.replace(" ", "")).is_dir() or Path(folder).is_dir()
    listed = [n.strip(" ,") for n in names.split("--resume")[0].split(", ")]
    assert "smoke" in listed and len(listed) >= 10
    for name in listed:
        assert recipe_path(name).is_file(), name


def test_train_without_a_recipe_is_a_usage_error_listing_them(tmp_path, monkeypatch, capfd):
    monkeypatch.chdir(tmp_path)
    code, stdout, err = run_main(train_main, ["optim.epochs=1"], capfd)
    assert code == 2 and not stdout, err  # argparse's usage (wrapped to the terminal's width), then one error line
    assert err[0].startswith("usage: python -m paperlib.train") and err[-1].startswith("error: --config is required")
    assert not any("error" in line for line in err[:-1]), err
    listed = err[-1].split("): ", 1)[1].split(", ")
    assert listed == available_recipes() and "smoke" in listed
    assert not any(tmp_path.iterdir())  # no runs/ folder, nothing trained


def test_bench_help_gives_whole_sentences(capfd):
    code, stdout, _ = run_main(bench_main, ["--help"], capfd)
    assert code == 0
    text = " ".join(stdout.split())
    for command in ("shift", "data", "train", "models"):
        described = text.split(f" {command} Benchmark", 1)[1]
        sentence = described.split(". ", 1)[0] if ". " in described else described
        assert sentence.count("(") == sentence.count(")"), sentence  # not cut inside a parenthesis
    assert "and from the same videos decoded with PyAV" in text  # was cut after "and from"


# --- one kernel cache ---------------------------------------------------------------------------------------


def test_one_kernel_cache_and_its_first_build_is_announced(tmp_path, monkeypatch, capfd):
    from torch.utils import cpp_extension

    from paperlib.ops import _extension

    monkeypatch.setenv("TORCH_EXTENSIONS_DIR", str(tmp_path / "explicit"))
    assert _extension.kernel_cache_dir() == tmp_path / "explicit"  # make's export is respected
    monkeypatch.delenv("TORCH_EXTENSIONS_DIR")
    monkeypatch.setattr(sys, "prefix", str(tmp_path / "venv"))
    monkeypatch.setattr(sys, "base_prefix", "/usr")
    (tmp_path / "venv").mkdir()
    assert _extension.kernel_cache_dir() == tmp_path / "venv" / "torch_extensions"  # = make's .venv folder
    monkeypatch.setattr(sys, "prefix", "/usr")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    cached = _extension.kernel_cache_dir()
    assert cached.parent == tmp_path / "cache" / "paperlib" / "torch_extensions" and torch.__version__.split("+")[
        0
    ] in str(cached)

    built = []

    def fake_load(name, **kwargs):
        folder = Path(os.environ["TORCH_EXTENSIONS_DIR"]) / name
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"{name}.so").write_bytes(b"")
        built.append(folder)

    monkeypatch.setattr(cpp_extension, "load", fake_load)
    monkeypatch.setattr(_extension, "_find_cuda_home", lambda: None)  # no CUDA_HOME set by the test
    monkeypatch.setenv("PATH", os.environ["PATH"])  # restored after _prepare_toolchain adds ninja's folder
    capfd.readouterr()
    for _ in range(2):
        _extension._build("paperlib_interlace_cpu", _extension.CPU_SOURCES, cuda=False, verbose=False)
    err = capfd.readouterr().err.splitlines()
    assert err == [f"paperlib: building the C++ kernel once (~30 s) into {cached / 'paperlib_interlace_cpu'}"]
    assert built == [cached / "paperlib_interlace_cpu"] * 2 and os.environ["TORCH_EXTENSIONS_DIR"] == str(cached)


# --- DDP: one voice -----------------------------------------------------------------------------------------


@pytest.mark.slow
def test_evaluate_under_torchrun_prints_the_metrics_once(trained, tmp_path):
    root, run = trained
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "torch.distributed.run",
            "--nproc_per_node=2",
            "--master_port=29541",
            "-m",
            "paperlib.evaluate",
            "--checkpoint",
            str(run / "last.pth"),
            "--output",
            str(tmp_path / "ddp"),
            "eval.batch_size=1",
        ],
        env=_env(),
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    printed = [line for line in done.stdout.splitlines() if line.startswith("{")]
    assert len(printed) == 1, done.stdout
    assert json.loads(printed[0]) == json.loads((tmp_path / "ddp" / "metrics.json").read_text())["metrics"]
    assert json.loads(printed[0])["videos"] == 4


def test_a_video_dataset_with_a_header_only_video_is_refused(tmp_path, capfd):
    root = tmp_path / "data"
    root.mkdir()
    (root / "category.txt").write_text("a\nb\nc\n")
    for i in range(4):
        write_mp4(root / f"v{i}.mp4", gradient_frames(12, 32, 32, seed=i))
    with open(root / "v3.mp4", "r+b") as f:  # keep the header, drop the frames
        f.truncate(400)
    lines = [f"v{i}.mp4 12 {i % 3}" for i in range(4)]
    (root / "train.txt").write_text("\n".join(lines) + "\n")
    (root / "val.txt").write_text("\n".join(lines) + "\n")
    args = train_overrides(root, tmp_path / "run", "data.source=video")
    code, _, err = run_main(train_main, ["--config", "smoke", *args], capfd)
    assert_one_line(code, err, 1, f"{root / 'train.txt'}:4", "v3.mp4")
    assert "video_reader.cc" not in err[0] and "Check failed" not in err[0]
    assert not (tmp_path / "run").exists()
