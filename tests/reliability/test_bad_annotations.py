"""Empty and malformed annotation files of every dataset recipe: each fails with an error that names the file
(and the line or entry where there is one), and nothing is written: the outputs are written only after
every split has been read."""

from __future__ import annotations

import json

import pytest
from PIL import Image

from paperlib.data.lists import ListFormatError
from paperlib.data.prepare import PREPARERS
from paperlib.data.sources import FrameReadError


def _sthv1(root, labels="Pushing something\n", train="7;Pushing something\n", val="3;Pushing something\n"):
    for video in (3, 7):  # one frame each, so only the annotation files can be wrong
        (root / "20bn-something-something-v1" / str(video)).mkdir(parents=True)
        Image.new("RGB", (8, 8)).save(root / "20bn-something-something-v1" / str(video) / "00001.jpg")
    (root / "something-something-v1-labels.csv").write_text(labels)
    (root / "something-something-v1-train.csv").write_text(train)
    (root / "something-something-v1-validation.csv").write_text(val)


@pytest.mark.parametrize(
    "files, match",
    [
        (dict(labels=""), "labels.csv"),
        (dict(train="7 Pushing something\n"), r"train.csv:1"),
        (dict(val="3;Pushing something\nnot-an-id;Pushing something\n"), r"validation.csv:2"),
    ],
)
def test_something_v1_csvs(tmp_path, files, match):
    _sthv1(tmp_path, **files)
    with pytest.raises((ListFormatError, FrameReadError), match=match):
        PREPARERS["sthv1"](tmp_path)
    assert not (tmp_path / "category.txt").exists() and not (tmp_path / "train.txt").exists()  # nothing half-written


@pytest.mark.parametrize(
    "labels, train, match",
    [
        ("{not json", "[]", "labels.json"),
        (json.dumps({"Pushing something": "0"}), json.dumps({"id": "1"}), "train.json"),
        (json.dumps({"Pushing something": "0"}), json.dumps([{"label": "x"}]), r"train.json.*(entry|item) 0"),
    ],
)
def test_something_v2_json(tmp_path, labels, train, match):
    (tmp_path / "something-something-v2-labels.json").write_text(labels)
    (tmp_path / "something-something-v2-train.json").write_text(train)
    (tmp_path / "something-something-v2-validation.json").write_text("[]")
    with pytest.raises((ListFormatError, FileNotFoundError), match=match):
        PREPARERS["sthv2"](tmp_path)
    assert not (tmp_path / "category.txt").exists()


@pytest.mark.parametrize(
    "content, match",
    [
        ("", r"train.csv"),
        ("label,youtube_id\nabseiling,abc\n", r"train.csv"),
        ("label,youtube_id,time_start,time_end,split\nabseiling,abc,zero,10,train\n", r"train.csv:2"),
    ],
)
def test_kinetics_csvs(tmp_path, content, match):
    (tmp_path / "annotations").mkdir()
    (tmp_path / "annotations" / "train.csv").write_text(content)
    (tmp_path / "annotations" / "validate.csv").write_text("label,youtube_id,time_start,time_end,split\n")
    with pytest.raises((ListFormatError, FileNotFoundError), match=match):
        PREPARERS["kinetics"](tmp_path)
    assert not (tmp_path / "category.txt").exists()


@pytest.mark.parametrize(
    "categories, train, match",
    [
        ("", "a/x.mp4,0\n", "moments_categories.txt"),
        ("singing,zero\n", "a/x.mp4,0\n", r"moments_categories.txt:1"),
        ("singing,0\n", "a/x.mp4\n", r"trainingSet.txt:1"),
    ],
)
def test_mmit_annotations(tmp_path, categories, train, match):
    (tmp_path / "annotations").mkdir()
    (tmp_path / "annotations" / "moments_categories.txt").write_text(categories)
    (tmp_path / "annotations" / "trainingSet.txt").write_text(train)
    (tmp_path / "annotations" / "validationSet.txt").write_text("")
    with pytest.raises((ListFormatError, FileNotFoundError), match=match):
        PREPARERS["mmit"](tmp_path)
    assert not (tmp_path / "category.txt").exists()


def _one_frame(path):
    path.parent.mkdir(parents=True)
    Image.new("RGB", (8, 8)).save(path)


def _write(root, files):
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)


_UCF = {
    "ucfTrainTestlist/classInd.txt": "1 Archery\n",
    "ucfTrainTestlist/trainlist01.txt": "Archery/v_Archery_g01_c01.avi 1\n",
    "ucfTrainTestlist/testlist01.txt": "Archery/v_Archery_g01_c01.avi\n",
}
_MIT = {
    "moments_categories.txt": "bouncing,0\n",
    "trainingSet.csv": "bouncing/x.mp4,bouncing,3,0\n",
    "validationSet.csv": "bouncing/x.mp4,bouncing,3,0\n",
}


@pytest.mark.parametrize(
    "recipe, media, files, match",
    [
        (
            "ucf101",
            "UCF-101/Archery/v_Archery_g01_c01/img_00001.jpg",
            {**_UCF, "ucfTrainTestlist/classInd.txt": ""},
            "classInd.txt",
        ),
        (
            "ucf101",
            "UCF-101/Archery/v_Archery_g01_c01/img_00001.jpg",
            {**_UCF, "ucfTrainTestlist/classInd.txt": "first Archery\n"},
            r"classInd.txt:1",
        ),
        (
            "ucf101",
            "UCF-101/Archery/v_Archery_g01_c01/img_00001.jpg",
            {**_UCF, "ucfTrainTestlist/trainlist01.txt": "Archery/v_Archery_g01_c01.avi\n"},
            r"trainlist01.txt:1",
        ),
        (
            "ucf101",
            "UCF-101/Archery/v_Archery_g01_c01/img_00001.jpg",
            {**_UCF, "ucfTrainTestlist/testlist01.txt": "v_Archery_g01_c01.avi\n"},
            r"testlist01.txt:1",
        ),
        (
            "hmdb51",
            "hmdb51/golf/swing/img_00001.jpg",
            {"testTrainMulti_7030_splits/golf_test_split1.txt": "swing.avi one\n"},
            r"golf_test_split1.txt:1",
        ),
        (
            "hmdb51",
            "hmdb51/golf/swing/img_00001.jpg",
            {"testTrainMulti_7030_splits/golf_test_split2.txt": "swing.avi 1\n"},
            r"_test_split1.txt",
        ),
        (
            "jester",
            "20bn-jester-v1/7/00001.jpg",
            {"jester-v1-labels.csv": "", "jester-v1-train.csv": "7;Thumb Up\n"},
            "jester-v1-labels.csv",
        ),
        (
            "jester",
            "20bn-jester-v1/7/00001.jpg",
            {"jester-v1-labels.csv": "Thumb Up\n", "jester-v1-train.csv": "7,Thumb Up\n"},
            r"jester-v1-train.csv:1",
        ),
        ("mit", "training/bouncing/x/img_00001.jpg", {**_MIT, "moments_categories.txt": ""}, "moments_categories.txt"),
        (
            "mit",
            "training/bouncing/x/img_00001.jpg",
            {**_MIT, "trainingSet.csv": "bouncing/x.mp4\n"},
            r"trainingSet.csv:1",
        ),
        (
            "mit",
            "training/bouncing/x/img_00001.jpg",
            {**_MIT, "trainingSet.csv": "bouncing/x.mp4,flying,3,0\n"},
            r"trainingSet.csv:1",
        ),
    ],
)
def test_ucf101_hmdb51_jester_mit_annotations(tmp_path, recipe, media, files, match):
    _one_frame(tmp_path / media)  # the first line's video exists, so only the annotation files can be wrong
    _write(tmp_path, files)
    with pytest.raises((ListFormatError, FileNotFoundError), match=match):
        PREPARERS[recipe](tmp_path)
    assert not (tmp_path / "category.txt").exists()


def test_every_recipe_is_covered():
    """A new recipe gets bad-annotation cases here (the Kinetics versions share one recipe)."""
    covered = {"sthv1", "sthv2", "kinetics", "mmit", "ucf101", "hmdb51", "jester", "mit"}
    assert {name for name, recipe in PREPARERS.items() if recipe is not PREPARERS["kinetics"]} | {"kinetics"} == covered
