"""A build's per-run numbers (paperlib.experiments.verify, python -m reproduce --record/--verify): recorded from the
runs found in a results folder, and a build compared with them: identical passes, a changed number or a missing
run fails, naming the run, and training seconds are not compared."""

import json

import numpy as np
import pytest

from paperlib.data.synthetic.something import CLASSES
from paperlib.engine.provenance import cpu_model
from paperlib.experiments import verify
from paperlib.experiments.folders import STAMP, code_hash


def _run(results, data, name, top1, code=None, seconds=12.5):
    folder = results / name
    folder.mkdir(parents=True)
    labels = np.arange(len(CLASSES)) % len(CLASSES)
    scores = np.eye(len(CLASSES))[labels] + 0.01 * np.arange(len(CLASSES))
    np.savez(folder / "scores.npz", ids=np.arange(len(labels)), labels=labels, scores=scores)
    metrics = {"metrics": {"top1": top1, "top5": 100.0, "videos": len(labels), "train_loss": 0.25}, "data": data}
    (folder / "metrics.json").write_text(json.dumps(metrics))
    (folder / "log.jsonl").write_text(json.dumps({"event": "epoch", "seconds": seconds}) + "\n")
    (folder / STAMP).write_text(json.dumps({"code_hash": code or code_hash()}))
    return folder


@pytest.fixture
def build(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    (data / "category.txt").write_text("\n".join(CLASSES) + "\n")
    results = tmp_path / "results" / "smoke"
    for name, top1 in [("table1/tsm_r50_8f_seed0-aaaa11112222", 87.5), ("mmit/tsn_r50_seed0-bbbb33334444", 40.0)]:
        _run(results, {"root": str(data)}, name, top1)
    _run(results, {"root": str(data)}, "table1/tsm_r50_8f_seed0-cccc55556666", 12.0, code="an older code")
    return results


def test_the_record_holds_this_codes_runs_with_their_numbers(build, tmp_path):
    written = verify.record(build, tmp_path / "runs.json", "smoke")
    assert json.loads((tmp_path / "runs.json").read_text()) == written
    runs = {r["run"]: r for r in written["runs"]}
    assert sorted(runs) == ["mmit/tsn_r50_seed0", "table1/tsm_r50_8f_seed0"]  # the older code's run is left out
    tsm = runs["table1/tsm_r50_8f_seed0"]
    assert tsm["key"] == "aaaa11112222" and tsm["numbers"]["top1"] == 87.5 and tsm["train_seconds"] == 12.5
    assert tsm["numbers"]["pair_accuracy"] == 100.0  # each class scored above its reversed partner
    _run(build, {}, "mmit/tsn_r50_seed0-eeee99990000", 41.0)  # one name twice: told apart by the keys
    names = [r["run"] for r in verify.collect(build)]
    assert "mmit/tsn_r50_seed0 [eeee99990000]" in names and "mmit/tsn_r50_seed0 [bbbb33334444]" in names


def test_verify_passes_on_the_same_build_and_ignores_seconds(build, tmp_path, capsys):
    verify.record(build, tmp_path / "runs.json", "smoke")
    log = build / "table1" / "tsm_r50_8f_seed0-aaaa11112222" / "log.jsonl"
    log.write_text(json.dumps({"event": "epoch", "seconds": 99.0}) + "\n")  # another machine's speed
    assert verify.verify(tmp_path / "runs.json", build) == 0
    assert "all 2 runs agree" in capsys.readouterr().out


def test_verify_names_a_changed_number_and_a_missing_run(build, tmp_path, capsys):
    verify.record(build, tmp_path / "runs.json", "smoke")
    metrics_file = build / "table1" / "tsm_r50_8f_seed0-aaaa11112222" / "metrics.json"
    metrics = json.loads(metrics_file.read_text())
    metrics["metrics"]["top1"] = 87.25
    metrics_file.write_text(json.dumps(metrics))
    (build / "mmit" / "tsn_r50_seed0-bbbb33334444" / "metrics.json").unlink()
    assert verify.verify(tmp_path / "runs.json", build) == 1
    out = capsys.readouterr().out
    assert "differs  table1/tsm_r50_8f_seed0: top1 87.5 recorded, 87.25 here" in out
    assert "missing  mmit/tsn_r50_seed0" in out and "2 runs differ" in out


def test_extra_runs_other_keys_and_last_bits_are_told(build, tmp_path):
    verify.record(build, tmp_path / "runs.json", "smoke")
    recorded = json.loads((tmp_path / "runs.json").read_text())["runs"]
    found = [dict(r, key="dddd77778888") for r in recorded] + [dict(recorded[0], run="table1/new_run")]
    found[1] = dict(found[1], scores_sha256="0" * 16, key=recorded[1]["key"])
    differences, notes = verify.compare(recorded, found)
    assert differences == ["extra    table1/new_run (in this build, not recorded)"]
    assert any("other inputs" in n for n in notes) and any("last bits" in n for n in notes)


def test_reproduce_record_and_verify_from_the_command_line(build, tmp_path, monkeypatch, capsys):
    from reproduce.__main__ import main

    monkeypatch.setenv("PAPERLIB_RESULTS", str(build.parent))
    assert main(["--scale", "smoke", "--record", str(tmp_path / "runs.json")]) == 0
    assert main(["--scale", "smoke", "--verify", str(tmp_path / "runs.json")]) == 0
    (build / "table1" / "tsm_r50_8f_seed0-aaaa11112222" / "metrics.json").unlink()
    assert main(["--scale", "smoke", "--verify", str(tmp_path / "runs.json")]) == 1
    assert "missing  table1/tsm_r50_8f_seed0" in capsys.readouterr().out
    with pytest.raises(SystemExit, match="recorded at scale smoke"):
        main(["--scale", "embedded", "--verify", str(tmp_path / "runs.json")])


def test_verify_names_the_machine_a_record_came_from_when_it_is_another(build, tmp_path, capsys):
    written = verify.record(build, tmp_path / "runs.json", "smoke")
    assert written["machine"] == cpu_model()
    assert verify.verify(tmp_path / "runs.json", build) == 0
    assert "recorded on" not in capsys.readouterr().out  # the same machine: nothing to say
    (tmp_path / "runs.json").write_text(json.dumps(dict(written, machine="AMD EPYC")))
    assert verify.verify(tmp_path / "runs.json", build) == 0
    assert f"recorded on AMD EPYC, built on {cpu_model()}" in capsys.readouterr().out


def test_the_cross_machine_table_summarises_the_committed_comparison(tmp_path):
    rows = [
        {"run": "table1/tsm_r50_8f_seed0", "number": "top1", "epyc": 96.0, "xeon": 95.0, "xeon_minus_epyc": -1.0},
        {"run": "table1/tsn_r50_8f_seed0", "number": "top1", "epyc": 28.0, "xeon": 31.0, "xeon_minus_epyc": 3.0},
        {"run": "mmit/tsn_r50_seed0", "number": "mAP_classwise", "epyc": 40.0, "xeon": 40.5, "xeon_minus_epyc": 0.5},
    ]
    machines = {
        "epyc": {"machine": "AMD EPYC", "commit": "a" * 40},
        "xeon": {"machine": "Intel Xeon", "commit": "b" * 40},
    }
    (tmp_path / verify.CROSS_MACHINE).write_text(json.dumps({**machines, "rows": rows}))
    table, caption = verify.cross_machine(tmp_path)
    assert list(table.index) == ["top-1 (%)", "class-wise mAP (%)"]
    assert table.loc["top-1 (%)"].tolist() == [2, 2.0, 3.0]  # runs, mean |difference|, largest |difference|
    assert "AMD EPYC (commit aaaaaaa)" in caption and "Intel Xeon (commit bbbbbbb)" in caption
    assert verify.cross_machine(tmp_path / "empty") is None
