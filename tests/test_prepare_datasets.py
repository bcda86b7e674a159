"""The UCF101, HMDB51, Jester, Kinetics-400/600/700 and Moments in Time recipes on small copies in each dataset's
published layout, the expected-size table, and ``check --dataset``'s completeness report."""

from __future__ import annotations

from pathlib import Path

import pytest

from paperlib.data.check import main as check_main
from paperlib.data.lists import ListFormatError, VideoRecord, read_list
from paperlib.data.prepare import (
    PREPARERS,
    prepare_hmdb51,
    prepare_jester,
    prepare_kinetics,
    prepare_mit,
    prepare_ucf101,
)
from paperlib.data.prepare.__main__ import main as prepare_main
from paperlib.data.prepare.expected import EXPECTED, Expected, completeness
from paperlib.data.sources import FrameReadError
from tests.data_fixtures import gradient_frames, write_frame_folder, write_mp4


def frames(folder: Path, t: int, template: str = "{:05d}.jpg") -> None:
    write_frame_folder(folder, gradient_frames(t, 8, 8), template)


def write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


# --- UCF101 --------------------------------------------------------------------------------------------


@pytest.fixture
def ucf(tmp_path):
    ann = tmp_path / "ucfTrainTestlist"
    write(ann / "classInd.txt", "1 ApplyEyeMakeup\r\n2 HandstandPushups\r\n")  # CRLF, as shipped
    write(
        ann / "trainlist01.txt",
        "ApplyEyeMakeup/v_ApplyEyeMakeup_g08_c01.avi 1\r\nHandstandPushups/v_HandStandPushups_g08_c01.avi 2\r\n",
    )
    write(
        ann / "testlist01.txt",
        "ApplyEyeMakeup/v_ApplyEyeMakeup_g01_c01.avi\r\nHandstandPushups/v_HandStandPushups_g01_c01.avi\r\n",
    )
    write(ann / "trainlist02.txt", "ApplyEyeMakeup/v_ApplyEyeMakeup_g01_c01.avi 1\r\n")
    write(ann / "testlist02.txt", "HandstandPushups/v_HandStandPushups_g08_c01.avi\r\n")
    write_mp4(tmp_path / "UCF-101/ApplyEyeMakeup/v_ApplyEyeMakeup_g08_c01.avi", gradient_frames(6, 16, 16))
    frames(tmp_path / "UCF-101/HandstandPushups/v_HandStandPushups_g08_c01", 4)
    frames(tmp_path / "UCF-101/ApplyEyeMakeup/v_ApplyEyeMakeup_g01_c01", 3)
    frames(tmp_path / "UCF-101/HandstandPushups/v_HandStandPushups_g01_c01", 5)
    return tmp_path


def test_ucf101_lists_labels_and_splits(ucf):
    written = prepare_ucf101(ucf)
    assert written["categories"].read_text() == "ApplyEyeMakeup\nHandstandPushups\n"  # classInd order, 0-based
    assert written["train_split1"].read_text() == (
        "UCF-101/ApplyEyeMakeup/v_ApplyEyeMakeup_g08_c01.avi 6 0\n"
        "UCF-101/HandstandPushups/v_HandStandPushups_g08_c01 4 1\n"
    )
    assert read_list(written["val_split1"]) == [
        VideoRecord("UCF-101/ApplyEyeMakeup/v_ApplyEyeMakeup_g01_c01", 3, (0,), 1),
        VideoRecord("UCF-101/HandstandPushups/v_HandStandPushups_g01_c01", 5, (1,), 2),
    ]
    split2 = prepare_ucf101(ucf, split=2)
    assert split2["train_split2"].read_text() == "UCF-101/ApplyEyeMakeup/v_ApplyEyeMakeup_g01_c01 3 0\n"
    assert split2["val_split2"].read_text() == "UCF-101/HandstandPushups/v_HandStandPushups_g08_c01 4 1\n"
    assert written["train_split1"].exists()  # the splits sit side by side
    with pytest.raises(ValueError, match="splits 1, 2 and 3"):
        prepare_ucf101(ucf, split=4)


def test_ucf101_bad_lines_name_file_and_line(ucf, tmp_path_factory):
    out = tmp_path_factory.mktemp("out")
    write(
        ucf / "ucfTrainTestlist/trainlist01.txt",
        "ApplyEyeMakeup/v_ApplyEyeMakeup_g08_c01.avi 1\nHandstandPushups/v_HandStandPushups_g08_c01.avi 1\n",
    )
    with pytest.raises(
        ListFormatError, match=r"trainlist01.txt:2: label '1' is not the classInd.txt id of 'HandstandPushups' \(2\)"
    ):
        prepare_ucf101(ucf, out)
    write(ucf / "ucfTrainTestlist/testlist01.txt", "YoYo/v_YoYo_g01_c01.avi\n")
    write(ucf / "ucfTrainTestlist/trainlist01.txt", "ApplyEyeMakeup/v_ApplyEyeMakeup_g08_c01.avi 1\n")
    with pytest.raises(ListFormatError, match=r"testlist01.txt:1: class folder 'YoYo'"):
        prepare_ucf101(ucf, out)
    write(ucf / "ucfTrainTestlist/testlist01.txt", "\nApplyEyeMakeup/v_ApplyEyeMakeup_g02_c01.avi\n")
    with pytest.raises(FrameReadError, match=r"testlist01.txt:2: neither a video nor a frame folder"):
        prepare_ucf101(ucf, out)
    assert list(out.iterdir()) == []  # nothing half-written


# --- HMDB51 --------------------------------------------------------------------------------------------


@pytest.fixture
def hmdb(tmp_path):
    splits = tmp_path / "testTrainMulti_7030_splits"
    for split in (1, 2):  # "<video>.avi <id> " lines, with the trailing space of the real files
        write(splits / f"climb_stairs_test_split{split}.txt", f"Stairs_a.avi {split} \nStairs_b.avi {3 - split} \n")
        write(splits / f"climb_test_split{split}.txt", "Rock_a.avi 1 \nRock_b.avi 0 \n")
    for cls, vid, t in (("climb_stairs", "Stairs_a", 3), ("climb_stairs", "Stairs_b", 4), ("climb", "Rock_a", 5)):
        frames(tmp_path / "hmdb51" / cls / vid, t)
    return tmp_path


def test_hmdb51_lists_labels_and_splits(hmdb):
    written = prepare_hmdb51(hmdb)
    assert written["categories"].read_text() == "climb\nclimb_stairs\n"  # alphabetical
    assert written["train_split1"].read_text() == "hmdb51/climb/Rock_a 5 0\nhmdb51/climb_stairs/Stairs_a 3 1\n"
    assert written["val_split1"].read_text() == "hmdb51/climb_stairs/Stairs_b 4 1\n"  # id 0 (Rock_b) in neither
    split2 = prepare_hmdb51(hmdb, split=2)
    assert split2["train_split2"].read_text() == "hmdb51/climb/Rock_a 5 0\nhmdb51/climb_stairs/Stairs_b 4 1\n"
    assert split2["val_split2"].read_text() == "hmdb51/climb_stairs/Stairs_a 3 1\n"
    with pytest.raises(FileNotFoundError, match=r"_test_split3.txt"):
        prepare_hmdb51(hmdb, split=3)


def test_hmdb51_bad_line_names_file_and_line(hmdb, tmp_path_factory):
    out = tmp_path_factory.mktemp("out")
    write(hmdb / "testTrainMulti_7030_splits/climb_test_split1.txt", "Rock_a.avi 1\nRock_b.avi 3\n")
    with pytest.raises(ListFormatError, match=r"climb_test_split1.txt:2: expected '<video>.avi <0\|1\|2>'"):
        prepare_hmdb51(hmdb, out)
    assert list(out.iterdir()) == []
    with pytest.raises(FileNotFoundError, match="split folder not found"):
        prepare_hmdb51(hmdb / "elsewhere")


# --- Jester --------------------------------------------------------------------------------------------


def test_jester_shares_the_something_v1_reader(tmp_path):
    write(tmp_path / "jester-v1-labels.csv", "Swiping Left\nDoing other things\n")
    write(tmp_path / "jester-v1-train.csv", "34870;Swiping Left\n56557;Doing other things\n")
    write(tmp_path / "jester-v1-validation.csv", "9223;Swiping Left\n")
    for vid, t in ((34870, 4), (56557, 3), (9223, 5)):
        frames(tmp_path / "20bn-jester-v1" / str(vid), t, "{:05d}.jpg")
    written = prepare_jester(tmp_path)
    assert written["categories"].read_text() == "Doing other things\nSwiping Left\n"  # alphabetical, as TSM
    assert written["train"].read_text() == "20bn-jester-v1/34870 4 1\n20bn-jester-v1/56557 3 0\n"
    assert written["val"].read_text() == "20bn-jester-v1/9223 5 1\n"
    in_file_order = prepare_jester(tmp_path, tmp_path / "mm", sort_labels=False)  # MMAction2's numbering
    assert in_file_order["val"].read_text() == "20bn-jester-v1/9223 5 0\n"
    write(tmp_path / "jester-v1-train.csv", "34870;Swiping Left\n56557 Doing other things\n")
    with pytest.raises(ListFormatError, match=r"jester-v1-train.csv:2: expected 'id;label'"):
        prepare_jester(tmp_path, tmp_path / "bad")
    assert not (tmp_path / "bad").exists()


# --- Kinetics-400/600/700 ------------------------------------------------------------------------------


def test_kinetics_versions_read_the_published_names_and_layouts(tmp_path):
    assert PREPARERS["kinetics400"] is PREPARERS["kinetics600"] is PREPARERS["kinetics700"] is prepare_kinetics
    header = "label,youtube_id,time_start,time_end,split\n"
    write(tmp_path / "annotations/train.csv", header + "abseiling,aaa,0,10,train\nabseiling,gone,0,10,train\n")
    write(tmp_path / "annotations/val.csv", header + '"massaging person\'s head",bbb,5.0,15.0,val\n')  # CVDF's name
    frames(tmp_path / "train" / "aaa_000000_000010", 4, "img_{:05d}.jpg")  # CVDF tarballs: no class folders
    frames(
        tmp_path / "val" / "massaging person's head" / "bbb_000005_000015", 3, "img_{:05d}.jpg"
    )  # arrange_by_classes.py
    written = prepare_kinetics(tmp_path)
    assert written["categories"].read_text() == "abseiling\nmassaging_persons_head\n"
    assert written["train"].read_text() == "train/aaa_000000_000010 4 0\n"
    assert written["val"].read_text() == "val/massaging person's head/bbb_000005_000015 3 1\n"
    assert written["missing"] == {"train": 1, "val": 0}
    write(tmp_path / "annotations/validate.csv", header)  # DeepMind's name wins over CVDF's (incomplete for K600)
    assert prepare_kinetics(tmp_path)["val"].read_text() == ""
    (tmp_path / "annotations/val.csv").unlink()
    (tmp_path / "annotations/validate.csv").unlink()
    with pytest.raises(FileNotFoundError, match=r"annotations/validate.csv \(nor annotations/val.csv"):
        prepare_kinetics(tmp_path)


# --- Moments in Time -----------------------------------------------------------------------------------


@pytest.fixture
def mit(tmp_path):
    write(tmp_path / "moments_categories.txt", "adult+female+singing,0\nbouncing,1\n")
    write(
        tmp_path / "trainingSet.csv", "bouncing/yt-ab_c_12.mp4,bouncing,3,0\nadult+female+singing/getty-1_4.mp4,0,2,1\n"
    )
    write(tmp_path / "validationSet.csv", "bouncing/flickr-9_1.mp4,bouncing,3,0\n")
    write_mp4(tmp_path / "training/bouncing/yt-ab_c_12.mp4", gradient_frames(7, 16, 16))
    frames(tmp_path / "training/adult+female+singing/getty-1_4", 4)  # frames extracted beside the layout
    frames(tmp_path / "validation/bouncing/flickr-9_1", 3)
    return tmp_path


def test_mit_lists_labels_from_names_or_indices(mit):
    written = prepare_mit(mit)
    assert written["categories"].read_text() == "adult+female+singing\nbouncing\n"
    assert written["train"].read_text() == (
        "training/bouncing/yt-ab_c_12.mp4 7 1\ntraining/adult+female+singing/getty-1_4 4 0\n"
    )
    assert written["val"].read_text() == "validation/bouncing/flickr-9_1 3 1\n"


def test_mit_bad_rows_and_missing_files_are_named(mit, tmp_path_factory):
    out = tmp_path_factory.mktemp("out")
    write(mit / "validationSet.csv", "bouncing/flickr-9_1.mp4,bouncing,3,0\nbouncing/x.mp4,flying,1,2\n")
    with pytest.raises(ListFormatError, match=r"validationSet.csv:2: label 'flying' is not in moments_categories.txt"):
        prepare_mit(mit, out)
    (mit / "validationSet.csv").unlink()
    with pytest.raises(FileNotFoundError, match=r"validationSet.csv"):
        prepare_mit(mit, out)
    assert list(out.iterdir()) == []


# --- expected sizes and check --dataset ----------------------------------------------------------------


def test_expected_table_is_sourced_and_matches_the_recipes():
    for name, exp in EXPECTED.items():
        assert exp.source and exp.classes > 0, name
        assert all(n is None or n > 0 for n in exp.videos.values()), name
        assert any(n is None for n in exp.videos.values()) <= bool(exp.note), f"{name}: an omitted count needs a note"
        assert (name if name != "mit_v2" else "mit") in PREPARERS
    for n in (1, 2, 3):  # each UCF101 split covers the 13,320 clips; HMDB51 is 70 + 30 videos per class
        assert EXPECTED["ucf101"].videos[f"train_split{n}"] + EXPECTED["ucf101"].videos[f"val_split{n}"] == 13320
        assert (
            EXPECTED["hmdb51"].videos[f"train_split{n}"] == 51 * 70
            and EXPECTED["hmdb51"].videos[f"val_split{n}"] == 51 * 30
        )
    report = completeness("ucf101", "train_split1", 9530, 101)
    assert report.message == "ucf101 train_split1: 9,530 of 9,537 videos (7 missing), 101 of 101 classes: incomplete"
    assert report.problem and not report.warning
    report = completeness("kinetics400", "val", 19881, 400)
    assert report.message.startswith(
        "kinetics400 val: 19,881 of 19,906 videos (25 missing), 400 of 400 classes: warning only"
    )
    assert report.warning and not report.problem
    assert completeness("mit_v2", "train", 5, 305).message.endswith(
        "(no published count to compare with), 305 of 305 classes: classes as published"
    )
    with pytest.raises(KeyError, match="no split 'test'"):
        completeness("jester", "test", 1, 1)


@pytest.fixture
def small_list(tmp_path):
    for name, t in (("a", 3), ("b", 4)):
        frames(tmp_path / name, t, "{:05d}.jpg")
    write(tmp_path / "train.txt", "a 3 0\nb 4 1\n")
    return tmp_path


@pytest.mark.parametrize(
    "expected, incomplete, status, message",
    [
        (2, False, 0, "tiny train: 2 of 2 videos, 2 of 2 classes: complete"),
        (3, False, 1, "tiny train: 2 of 3 videos (1 missing), 2 of 2 classes: incomplete"),
        (
            3,
            True,
            0,
            "tiny train: 2 of 3 videos (1 missing), 2 of 2 classes: warning only: Tiny copies always miss videos",
        ),
        (
            1,
            False,
            1,
            "tiny train: 2 videos, 1 more than the 1 published, 2 of 2 classes: not the published dataset or split",
        ),
    ],
)
def test_check_reports_completeness(small_list, monkeypatch, capsys, expected, incomplete, status, message):
    monkeypatch.setitem(
        EXPECTED, "tiny", Expected("Tiny", 2, {"train": expected}, "test", always_incomplete=incomplete)
    )
    assert check_main([str(small_list / "train.txt"), "--root", str(small_list), "--dataset", "tiny"]) == status
    assert message in capsys.readouterr().out


def test_check_dataset_with_the_real_table(small_list, capsys):
    (small_list / "val_split1.txt").write_text((small_list / "train.txt").read_text())
    args = [str(small_list / "val_split1.txt"), "--root", str(small_list), "--dataset"]
    assert check_main([*args, "ucf101"]) == 1  # the split comes from the file name
    assert (
        "ucf101 val_split1: 2 of 3,783 videos (3,781 missing), 2 classes where UCF101 has 101"
        in capsys.readouterr().out
    )
    assert check_main([*args, "ucf101", "--split", "train_split3"]) == 1
    assert "ucf101 train_split3: 2 of 9,624 videos" in capsys.readouterr().out
    assert check_main([*args, "jester"]) == 2  # no split val_split1 in Jester: say which
    assert "jester has no split 'val_split1' (its splits: train, val)" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        check_main([str(small_list / "train.txt"), "--root", str(small_list), "--split", "train"])


def test_prepare_cli_passes_split_and_reports(ucf, hmdb, capsys):
    assert prepare_main(["ucf101", "--root", str(ucf), "--split", "2"]) == 0
    out = capsys.readouterr().out
    assert f"train_split2: {ucf / 'train_split2.txt'}" in out
    assert "ucf101 train_split2: 1 of 9,586 videos (9,585 missing), 1 class where UCF101 has 101" in out
    assert prepare_main(["jester", "--root", str(ucf), "--split", "2"]) == 2  # a usage error
    assert "jester takes no --split" in capsys.readouterr().err
    assert prepare_main(["hmdb51", "--root", str(hmdb), "--split", "3"]) == 1
    assert "_test_split3.txt" in capsys.readouterr().err


def test_prepare_cli_prints_kinetics_missing_rows(tmp_path, capsys):
    header = "label,youtube_id,time_start,time_end,split\n"
    write(tmp_path / "annotations/train.csv", header + "abseiling,aaa,0,10,train\nabseiling,gone,0,10,train\n")
    write(tmp_path / "annotations/validate.csv", header + "abseiling,ccc,0,10,val\n")
    frames(tmp_path / "train/abseiling/aaa_000000_000010", 2, "img_{:05d}.jpg")
    frames(tmp_path / "val/abseiling/ccc_000000_000010", 2, "img_{:05d}.jpg")
    assert prepare_main(["kinetics400", "--root", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "rows without a video on disk, left out: train 1, val 0" in out
    assert "kinetics400 train: 1 of 246,534 videos (246,533 missing), 1 class where Kinetics-400 has 400" in out
