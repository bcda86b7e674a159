"""The library behind the interlace_shift, theory, speed and model_zoo chapters (fast: no training)."""

import json

import matplotlib
import pandas as pd
import pytest

from paperlib.experiments import interlace, speed, theory, zoo
from paperlib.experiments.chapter import repository_root
from paperlib.models.zoo import PUBLISHED

matplotlib.use("Agg")

# --- theory


def test_equivalence_table_is_exact_in_float64():
    table = theory.equivalence_table([0, 3])
    assert list(table.index) == [0, 3] and list(table.columns) == list(theory.GRADIENT_NAMES)
    assert (table.to_numpy() < theory.EXACT_TOLERANCE).all()


def test_tsm_is_the_special_case_of_the_real_modules():
    assert theory.tsm_special_case(channels=32, frames=4) is True


@pytest.mark.parametrize("frames", [8, 16])
def test_tin_module_parameters_follow_the_official_formula(frames):
    table = theory.constraint_cost_table(channels=(64, 256, 2048), frames=frames)
    for c, count in table["TIN module parameters"].items():
        assert count == 9 * c // 4 + frames**2 + 3 * frames + 5  # OffsetNet + WeightNet of the official module
    assert list(table["free kernels (3 taps x C/4)"]) == [48, 192, 1536]
    assert (table["interlace: weights per video"] == 2 * frames).all()


def test_theory_verdict_follows_the_measurements():
    good = pd.DataFrame({"output": [0.0], "grad x": [1e-15]})
    assert "IS that convolution" in theory.verdict(good, True)[0]
    assert "special case" in theory.verdict(good, True)[1]
    bad = pd.DataFrame({"output": [1e-3]})
    lines = theory.verdict(bad, False)
    assert "check" in lines[0] and "NOT" in lines[1]


def test_kernel_figure():
    from paperlib.viz.kernels import interlace_kernel_figure

    fig = interlace_kernel_figure(theory.KERNEL_OFFSETS, num_frames=3)
    assert fig.axes[0].images[0].get_array().shape == (len(theory.KERNEL_OFFSETS), 9)


# --- interlace shift


def test_semantics_checks_hold():
    checks = interlace.semantics_checks()
    assert len(checks) == 2 and all(checks.values())


def test_backend_parity_on_cpu():
    parity = interlace.backend_parity("cpu")
    assert "torch" in parity.index and (parity.loc["torch"] == 0).all()
    assert list(parity.columns) == list(interlace.PARITY_COLUMNS)
    assert (parity.to_numpy() <= interlace.PARITY_TOLERANCE).all()
    summary = interlace.parity_summary(parity)
    assert set(summary) == set(parity.index) and all(isinstance(v, float) for v in summary.values())


def _timings():
    return pd.DataFrame(
        [
            {"backend": b, "pass": p, "frac_copy": f, "seconds": f / 100, "ms": f * 10}
            for b, f0 in (("torch", 0.2), ("cpp", 0.9))
            for p, f in (("forward", f0), ("backward", f0 / 2))
        ]
    )


def test_benchmark_table_and_verdict():
    table = interlace.benchmark_table(_timings())
    assert table.loc["cpp", ("frac_copy", "forward")] == 0.9
    parity = pd.DataFrame({"y": [0.0, 1e-15], "grad x": [0.0, 2e-14]}, index=pd.Index(["torch", "cpp"], name="backend"))
    lines = interlace.verdict({"b = 0.5": True, "b = 2": False}, parity, _timings())
    assert lines[:2] == ["b = 0.5: yes", "b = 2: NO"]
    assert "cpp agrees" in lines[2] and "cpp, at 0.90" in lines[3]
    parity.loc["cpp", "y"] = 1.0
    assert "does NOT agree" in interlace.verdict({}, parity, _timings())[0]


def test_benchmark_measures_every_backend():
    timings = interlace.benchmark("cpu", budget_s=0.01, layers=("layer4",))
    assert "torch" in set(timings["backend"]) and {"ms", "frac_copy", "pass"} <= set(timings.columns)


# --- speed


def _shift_file(folder, device="cpu", name="Test CPU"):
    record = {
        "backend": "cpp",
        "dtype": "float32",
        "device": device,
        "seconds": 0.002,
        "gbytes_per_s": 10.0,
        "frac_copy": 0.8,
        "speedup_vs_torch": 4.0,
        "layer": "layer1",
        "pass": "forward",
    }  # no "layout": an older file, channels-first
    payload = {"benchmark": "interlace_shift", "machine": {"device_name": name}, "records": [record]}
    (folder / f"shift_{device}.json").write_text(json.dumps(payload))


def test_committed_shift_results(tmp_path):
    _shift_file(tmp_path)
    (tmp_path / "models_cpu.json").write_text("{}")  # not a shift benchmark
    shift = speed.committed_shift_results(tmp_path)
    assert len(shift) == 1 and shift.loc[0, "device"] == "Test CPU (cpu)" and shift.loc[0, "layout"] == "channels_first"
    assert speed.layer_table(shift).loc[("Test CPU (cpu)", "channels_first", "cpp"), ("ms", "forward")] == 2.0
    notes = speed.shift_notes(shift)
    assert "shift_cpu.json" in notes[0] and "No GPU result" in notes[1]
    _shift_file(tmp_path, "cuda", "H200")
    assert len(speed.shift_notes(speed.committed_shift_results(tmp_path))) == 1
    assert speed.committed_shift_results(tmp_path / "missing").empty


def test_committed_shift_results_are_found_from_the_repository():
    assert repository_root() is not None and speed.benchmark_folder() == repository_root() / "benchmarks" / "results"
    shift = speed.committed_shift_results()
    assert not shift.empty and shift["file"].str.startswith("shift_").all()


def test_speed_verdict_uses_the_target_and_quotes_the_paper():
    assert speed.TIN_OVERHEAD_TARGET == 1.15
    lines = speed.verdict({"TIN / TSM": 1.1, "TIN / temporal conv": 0.25, "TIN / I3D": 0.5}, "cpu")
    assert "1.10x" in lines[0] and "within the 15 %" in lines[0]
    assert "4.00x" in lines[1] and "6x less latency" in lines[1] and "GPU" not in lines[1]
    assert "I3D takes 2.00x" in lines[2]
    assert "more than" in speed.verdict({"TIN / TSM": 1.2}, "cuda")[0]
    assert speed.verdict({}, "cpu") == []


def test_speed_tables_and_figures():
    from paperlib.viz.speed import cost_figure, roofline_figure

    records = [
        {"model": m, "clip": "3x8x224x224", "params": p, "gflops_per_view": g, "inference_s": s, "train_step_s": 2 * s}
        for m, p, g, s in (("tin_r50", 24e6, 33.0, 0.2), ("tsm_r50", 24e6, 33.0, 0.18), ("i3d_r50", 28e6, 40.0, 0.5))
    ]
    cost = speed.cost_table(records)
    assert list(cost.columns) == ["clip", "params (M)", "gflops_per_view", "inference_s", "train_step_s"]
    assert cost.loc["tin_r50", "params (M)"] == 24.0
    ratios = speed.ratio_table(records)
    assert ratios.loc["TIN / TSM", "inference"] == pytest.approx(1.11) and "training step" in ratios
    assert "train_step_s" not in speed.cost_table(
        [{k: v for k, v in r.items() if k != "train_step_s"} for r in records]
    )
    assert speed.resolve_device("cpu") == "cpu"
    assert cost_figure(cost, "cpu").axes and roofline_figure(speed.committed_shift_results()).axes


def test_smoke_scale_times_quarter_size_clips_and_says_so(monkeypatch):
    seen = {}
    monkeypatch.setattr(speed.model_bench, "measure", lambda device, **kw: seen.setdefault(device, kw) and [])
    speed.measure_models("cpu", "smoke")
    assert seen["cpu"] == {"rounds": 1, "train": False, "downscale": 4}
    seen.clear()
    speed.measure_models("cpu", "embedded")
    assert seen["cpu"]["downscale"] == 1
    assert speed.caption("cpu", "embedded") == "MEASURED on cpu in this build"
    assert "1/4 of the papers' height and width" in speed.caption("cpu", "smoke")


# --- model zoo


def test_published_table_lists_every_published_checkpoint():
    table = zoo.published_table()
    assert len(table) == len(PUBLISHED) and zoo.REPORTED_COLUMN in table
    assert table["load"].str.startswith("load_checkpoint(create(").all()
    reported = zoo.published_results()
    assert len(reported) == sum(len(e.results) for e in PUBLISHED)
    assert {"dataset", "metric", "value", "views"} <= set(reported.columns)


def test_shown_path_is_never_absolute(tmp_path):
    root = repository_root()
    assert zoo.shown_path(root / "results" / "smoke" / "table1" / "x" / "last.pth", tmp_path) == (
        "results/smoke/table1/x/last.pth"
    )
    assert zoo.shown_path(tmp_path / "table1" / "x" / "last.pth", tmp_path) == "table1/x/last.pth"
    assert zoo.shown_path("/elsewhere/last.pth", tmp_path) == "last.pth"


def test_own_checkpoints_lists_the_runs_trained_here(tmp_path):
    assert zoo.own_checkpoints(tmp_path) == []
    trained, evaluated, given = tmp_path / "table1" / "tin-abc", tmp_path / "table1" / "tin-eval", tmp_path.parent
    for folder in (trained, evaluated):
        folder.mkdir(parents=True)
    (trained / "log.jsonl").write_text("{}\n")  # trained here; the evaluation folder has no training log
    table1 = pd.DataFrame({"run": [str(trained), str(evaluated), str(given), None]})
    with pytest.raises(FileNotFoundError, match="tin-abc/last.pth: a trained run without its checkpoint"):
        zoo.own_checkpoints(tmp_path, table1)
    (trained / "log.jsonl").unlink()
    assert zoo.own_checkpoints(tmp_path, table1) == []


def test_own_checkpoint_tables_one_per_dataset():
    assert zoo.own_checkpoint_tables([]) == {}
    rows = [{"dataset": "a", "x": 1, "y": None}, {"dataset": "b", "x": 2, "y": 3.0}]
    rows.append({"dataset": "a", "x": 4, "y": None})
    tables = zoo.own_checkpoint_tables(rows)
    assert list(tables) == ["a", "b"] and list(tables["a"]["x"]) == [1, 4] and "y" not in tables["a"]


def test_zoo_verdict():
    lines = zoo.verdict(zoo.published_table(), [])
    assert f"{len(PUBLISHED)} published checkpoints" in lines[0] and "No checkpoint" in lines[1]
    assert "2 checkpoints of this build on 1 dataset," in zoo.verdict(zoo.published_table(), [{"dataset": "a"}] * 2)[1]
