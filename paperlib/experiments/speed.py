"""The speed chapter: the committed shift-op benchmarks against the memory roofline, and what the models cost,
measured side by side while the book is built, with the verdict drawn from those measurements."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pandas as pd

from ..bench import models as model_bench
from ..engine.device import pick_device
from .chapter import repository_root

# Our target, not the paper's: TIN's inference may take at most 1.15x TSM's (the interlace module's OffsetNet,
# WeightNet and shift on top of TSM's free shift). The paper gives no such number.
TIN_OVERHEAD_TARGET = 1.15
# What TIN's abstract (Shao et al., AAAI 2020, arXiv:2001.06499) says about latency, word for word; it names
# no device.
PAPER_LATENCY_CLAIM = (
    "TIN performs equivalently to the regularized temporal convolution network (r-TCN), but gains 4% more "
    "accuracy with 6x less latency on 6 challenging benchmarks"
)
ROUNDS = {"smoke": 1, "embedded": 3, "long": 3, "full": 5}  # timed rounds of the model benchmark per scale
# The smoke scale only shows that the chapter runs: its clips are a quarter of the papers' height and width
# (1/16 of the work); every other scale times the papers' sizes.
DOWNSCALE = {"smoke": 4}
SHIFT_COLUMNS = ("layer", "dtype", "pass", "backend", "seconds", "gbytes_per_s", "frac_copy", "speedup_vs_torch")


def benchmark_folder() -> Path | None:
    """``benchmarks/results/`` of the checkout (None for an installed package, which carries no benchmarks)."""
    root = repository_root()
    return None if root is None else root / "benchmarks" / "results"


def committed_shift_results(folder: str | os.PathLike | None = None) -> pd.DataFrame:
    """Every record of the committed shift benchmarks (``shift_*.json`` written by ``python -m paperlib.bench
    shift --json``) in ``folder`` (default :func:`benchmark_folder`): one row per (file, layer, layout, dtype,
    pass, backend), with the file's device as ``"<device name> (<cpu|cuda>)"``."""
    folder = benchmark_folder() if folder is None else Path(folder)
    rows = []
    for path in sorted(folder.glob("shift_*.json")) if folder is not None else []:
        payload = json.loads(path.read_text())
        for record in payload["records"]:
            rows.append(
                {
                    "file": path.name,
                    "device": f"{payload['machine']['device_name']} ({record['device']})",
                    "layout": record.get("layout", "channels_first"),
                    **{k: record.get(k) for k in SHIFT_COLUMNS},
                }
            )
    return pd.DataFrame(rows, columns=["file", "device", "layout", *SHIFT_COLUMNS])


def shift_notes(shift: pd.DataFrame) -> list[str]:
    """Which benchmark files were read, and whether a GPU result is among them."""
    files = list(dict.fromkeys(shift["file"]))
    lines = [f"committed shift benchmarks: {', '.join(files) if files else 'none'}"]
    if not any("(cuda)" in d for d in shift["device"].unique()):
        lines.append("No GPU result is committed yet: reproduce/gpu/gpu_all.sh writes one on a GPU machine.")
    return lines


def layer_table(shift: pd.DataFrame, layer: str = "layer1", dtype: str = "float32") -> pd.DataFrame:
    """Milliseconds and fraction of copy bandwidth of each (device, layout, backend) at one layer and dtype,
    passes as columns."""
    rows = shift[(shift["layer"] == layer) & (shift["dtype"] == dtype)]
    return (
        rows.assign(ms=rows["seconds"] * 1e3)
        .pivot_table(index=["device", "layout", "backend"], columns="pass", values=["ms", "frac_copy"])
        .round(3)
    )


def resolve_device(device: str) -> str:
    """The device the models are timed on (``"auto"``: CUDA if available), as ``"cpu"`` or ``"cuda"``."""
    return pick_device(device).type


def measure_models(device: str, scale: str, rounds: int | None = None, train_step: bool | None = None) -> list[dict]:
    """:func:`paperlib.bench.models.measure` with the chapter's defaults: :data:`ROUNDS` rounds per scale, clips
    downscaled by :data:`DOWNSCALE`, and a training step timed only at the full scale; a trial of the full route
    (:mod:`.trial`) times its rounds."""
    from . import trial

    rounds = rounds or (trial.current().rounds if trial.current() is not None else ROUNDS[scale])
    train_step = (scale == "full") if train_step is None else train_step
    return model_bench.measure(device, rounds=rounds, train=train_step, downscale=DOWNSCALE.get(scale, 1))


def caption(device: str, scale: str) -> str:
    """The cost table's caption: where it was measured, and the clips' size where they are not the papers'."""
    text = f"MEASURED on {device} in this build"
    if DOWNSCALE.get(scale, 1) > 1:
        text += f", clips at 1/{DOWNSCALE[scale]} of the papers' height and width (the {scale} scale)"
    return text


def cost_table(records: list[dict]) -> pd.DataFrame:
    """Input clip, parameters (M), GFLOPs per view, inference latency and (when measured) training-step time
    per model."""
    cost = pd.DataFrame(records).set_index("model")
    cost["params (M)"] = cost["params"] / 1e6
    columns = ["clip", "params (M)", "gflops_per_view", "inference_s"]
    return cost[columns + (["train_step_s"] if "train_step_s" in cost else [])].round(3)


def ratio_table(records: list[dict]) -> pd.DataFrame:
    """TIN's time over each other model's: inference, and the training step where it was measured."""
    table = pd.DataFrame({"inference": pd.Series(model_bench.ratios(records), dtype=float)})
    train = model_bench.ratios(records, "train_step_s")
    if train:
        table["training step"] = pd.Series(train)
    table.index.name = "TIN / model"
    return table.round(2)


def verdict(ratios: dict[str, float], device: str) -> list[str]:
    """The chapter's statements, from the measured inference ratios (``paperlib.bench.models.ratios``)."""
    lines = []
    tin_tsm = ratios.get("TIN / TSM")
    if tin_tsm is not None:
        within = "within" if tin_tsm <= TIN_OVERHEAD_TARGET else "more than"
        lines.append(
            f"TIN takes {tin_tsm:.2f}x TSM's inference time on {device}: {within} the "
            f"{round((TIN_OVERHEAD_TARGET - 1) * 100)} % overhead this project aims for (our target, not the paper's)."
        )
    if "TIN / temporal conv" in ratios:
        lines.append(
            f"Our temporal-convolution baseline takes {1 / ratios['TIN / temporal conv']:.2f}x TIN's time on "
            f'{device}. The paper\'s abstract: "{PAPER_LATENCY_CLAIM}".'
        )
    for label in ("TIN / I3D", "TIN / SlowFast", "TIN / R(2+1)D"):
        if label in ratios:
            lines.append(
                f"{label.split(' / ')[1]} takes {1 / ratios[label]:.2f}x TIN's time per video at its own input."
            )
    return lines
