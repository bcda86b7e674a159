# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     notebook_metadata_filter: -jupytext.text_representation.jupytext_version,-jupytext.text_representation.format_version
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Speed: the shift op and the models
#
# TIN's selling point is cost: temporal modelling for about the price of a 2D network. This chapter shows
# two things. First, how close `paperlib`'s interlace shift comes to the memory roofline, from the benchmark
# results committed under `benchmarks/results/` (each file names its device). Second, what the models cost:
# parameters, GFLOPs and latency of TSN, TSM, TIN, a temporal-convolution baseline, I3D, SlowFast and
# R(2+1)D at their papers' input sizes, **measured side by side in one run on this machine** while the book
# is built.

# %% tags=["parameters"]
scale = None  # smoke | embedded | full (default: $PAPERLIB_SCALE, else embedded)
data_root = None  # unused: random inputs
checkpoints = None  # unused
device = "auto"
seeds = None  # unused
results_dir = "../results/notebooks"
rounds = None  # timed rounds of the model benchmark (default: 1 smoke, 3 embedded, 5 full)
train_step = None  # also time a training step (default: only in the full scale)

# %%
import json
from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd
import seaborn as sns
import torch

from paperlib.bench import models as model_bench
from paperlib.experiments import check_parameters, default_scale, write_results

scale = scale or default_scale()
check_parameters(scale=scale, data_root=data_root, device=device, seeds=seeds, results_dir=results_dir)
rounds = rounds or {"smoke": 1, "embedded": 3, "full": 5}[scale]
train_step = (scale == "full") if train_step is None else train_step
device = ("cuda" if torch.cuda.is_available() else "cpu") if device == "auto" else device
RESULTS = Path("..") / "benchmarks" / "results"

# %% [markdown]
# ## The shift op against the roofline
#
# The interlace shift reads its input once and writes its output once (plus the tiny offsets and weights),
# so it can go no faster than copying the tensor. Each benchmark times every backend **and** a `copy_` of the
# same tensor in the same run; "of copy" is the backend's bandwidth as a fraction of that copy (1.0 = at the
# roofline). `cpp[out]`/`cuda[out]` write into preallocated buffers (the kernel alone); `cpp`/`cuda` are the
# op as autograd runs it, allocating its output. Where a file has both layouts, `channels_last` rows are the
# frames of a `channels_last` model (`(N, T, H, W, C)` in memory), which the kernels read and write as they
# are; the figure shows the channels-first rows.

# %%
shift_files = sorted(RESULTS.glob("shift_*.json"))
rows = []
for path in shift_files:
    payload = json.loads(path.read_text())
    for record in payload["records"]:
        rows.append(
            {
                "file": path.name,
                "device": f"{payload['machine']['device_name']} ({record['device']})",
                "layout": record.get("layout", "channels_first"),
                **{
                    k: record[k]
                    for k in (
                        "layer",
                        "dtype",
                        "pass",
                        "backend",
                        "seconds",
                        "gbytes_per_s",
                        "frac_copy",
                        "speedup_vs_torch",
                    )
                },
            }
        )
shift = pd.DataFrame(rows)
devices = sorted(shift["device"].unique())
print(f"committed shift benchmarks: {', '.join(p.name for p in shift_files)}")
if not any("cuda" in d for d in devices):
    print("No GPU result is committed yet: reproduce/gpu_check.sh writes one on a GPU machine.")
layer1 = shift[(shift["layer"] == "layer1") & (shift["dtype"] == "float32")]
layer1.assign(ms=layer1["seconds"] * 1e3).pivot_table(
    index=["device", "layout", "backend"], columns="pass", values=["ms", "frac_copy"]
).round(3)

# %%
per_pass = shift[(shift["pass"] != "forward+backward") & (shift["layout"] == "channels_first")]
grid = sns.catplot(
    data=per_pass, x="layer", y="frac_copy", hue="backend", col="pass", row="device", kind="bar", height=3.2, aspect=1.3
)
grid.set_axis_labels("ResNet-50 stage", "fraction of copy bandwidth")
for ax in grid.axes.flat:
    ax.axhline(1.0, color="black", linewidth=0.8, linestyle="--")
plt.show()

# %% [markdown]
# ## What the models cost, measured here
#
# Inference on one video per call, random input, at each paper's input: TSN/TSM/TIN and the temporal-
# convolution baseline on 8 frames of 224², I3D on 8×224², SlowFast 4×16 on 32×224², R(2+1)D-18 on
# 16×112². The **temporal-convolution baseline** (`tconv_r50`) is our reading of the temporal-convolution
# network the TIN paper compares with: TSN-R50 with a full 3×1×1 convolution over time (all channels to all
# channels, identity-initialised) where TSM and TIN put their shifts. The models run in interleaved rounds
# (each once per round) and the median is shown, so machine load affects all alike.

# %%
records = model_bench.measure(device, rounds=rounds, train=train_step)
cost = pd.DataFrame(records).set_index("model")
cost["params (M)"] = cost["params"] / 1e6
columns = ["clip", "params (M)", "gflops_per_view", "inference_s"] + (["train_step_s"] if train_step else [])
cost[columns].round(3).style.set_caption(f"MEASURED on {device} in this build ({rounds} rounds)")

# %%
ratios = model_bench.ratios(records)
for label, value in ratios.items():
    print(f"{label}: {value:.2f}x the latency")
if train_step:
    for label, value in model_bench.ratios(records, "train_step_s").items():
        print(f"training step, {label}: {value:.2f}x")

# %%
fig, ax = plt.subplots(figsize=(6.5, 4))
sns.scatterplot(data=cost.reset_index(), x="gflops_per_view", y="inference_s", hue="model", s=80, ax=ax)
ax.set(xlabel="GFLOPs per view", ylabel=f"inference latency (s, {device})", xscale="log", yscale="log")
ax.legend(fontsize=8, loc="best")
plt.show()

# %% [markdown]
# ## What this run shows
#
# The statements are generated from the measurements above:

# %%
tin_tsm = ratios.get("TIN / TSM")
print(
    f"TIN takes {tin_tsm:.2f}x TSM's inference time on {device}: "
    f"{'within' if tin_tsm <= 1.15 else 'more than'} the 15 % overhead this project aims for."
)
if "TIN / temporal conv" in ratios:
    print(
        f"The temporal-convolution baseline takes {1 / ratios['TIN / temporal conv']:.2f}x TIN's time "
        f"(the paper quotes 6x less latency for TIN against its temporal-convolution network, on GPU)."
    )
for label in ("TIN / I3D", "TIN / SlowFast", "TIN / R(2+1)D"):
    if label in ratios:
        print(f"{label.split(' / ')[1]} takes {1 / ratios[label]:.2f}x TIN's time per video at its own input.")

# %%
write_results(
    results_dir,
    "speed",
    {"device": device, "models": records, "ratios": ratios, "shift_files": [p.name for p in shift_files]},
    {"scale": scale, "device": device, "rounds": rounds, "train_step": train_step},
)
