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
# # What TIN learns: offsets and weights by layer
#
# The paper's Figure 5 plots, for each TIN layer, the learned temporal offsets and the per-frame weights.
# This chapter reads them from the TIN trained in the Table 1 chapter (8 frames, first seed), or from a
# checkpoint you pass as `checkpoints`, over the validation videos: every video's offset pair $(b_0, b_1)$
# per layer, and the weights $w_0, w_1$ per frame for the layer you choose. The figure is interactive in the
# static page (no server): hover a point for its video and value, pick a layer in the drop-down.

# %% tags=["parameters"]
scale = None  # smoke | embedded | full (default: $PAPERLIB_SCALE, else embedded)
data_root = None  # the real Something-Something v1 (with scale "full"); None: the embedded dataset
checkpoints = None  # a TIN checkpoint file (paperlib or a peer format), or Table 1's checkpoint folder, instead of the Table 1 run
device = "auto"
seeds = None  # the Table 1 seed whose TIN is read (default: the first)
results_dir = "../results/notebooks"
max_videos = 200

# %%
from pathlib import Path

import pandas as pd

from paperlib.engine.config import config_from_dict
from paperlib.engine.data import build_datasets, resolve_data
from paperlib.engine.provenance import sha256_file
from paperlib.experiments import check_parameters, default_scale, run_provenance, write_results
from paperlib.experiments.offsets import collect_interlace
from paperlib.experiments.table1 import find_checkpoint, run_config, run_or_load
from paperlib.models import from_checkpoint
from paperlib.models.checkpoint import read_checkpoint
from paperlib.viz import offset_summary, offsets_figure, offsets_static, show

scale = scale or default_scale()
seeds = seeds or [0]
check_parameters(scale=scale, data_root=data_root, device=device, seeds=seeds, results_dir=results_dir)

# %%
if checkpoints is None:
    run = run_or_load(
        run_config(scale, "tin_r50", 8, seeds[0], data_root, device), Path(results_dir).parent, data_root
    )
    checkpoint = run / "last.pth"
elif Path(checkpoints).is_dir():
    checkpoint = find_checkpoint(checkpoints, "tin_r50", 8)
    if checkpoint is None:
        raise FileNotFoundError(f"checkpoints: no 8-frame TIN checkpoint in {checkpoints}")
else:
    checkpoint = Path(checkpoints)
config = config_from_dict(read_checkpoint(checkpoint).get("config") or {})
if data_root is not None:
    config.data.root = data_root
model = from_checkpoint(checkpoint)
_, val_set = build_datasets(config, resolve_data(config))
records, video_ids = collect_interlace(model, val_set, max_videos)
print(f"{checkpoint}: {len(records)} TIN layers, {len(video_ids)} validation videos")

# %%
show(offsets_figure(records, video_ids))

# %% [markdown]
# The same two views for print:

# %%
offsets_static(records)
# %% [markdown]
# ## What this run shows
#
# Computed from the numbers above (the statements are generated, not written in advance).

# %%
summary = offset_summary(records)
grows = summary["offset_depth_rank_corr"]
ends, middle = summary["end_frame_weight"], summary["middle_frame_weight"]
print(
    "Mean |offset| per layer: "
    + ", ".join(f"{layer}: {m:.3f}" for layer, m in zip(summary["layers"], summary["mean_abs_offset"]))
)
print(
    f"Offsets {'grow' if grows > 0.5 else 'do not clearly grow'} with depth "
    f"(rank correlation of mean |offset| with layer index: {grows:+.2f})."
)
print(
    f"End frames get {'lower' if ends < middle else 'not lower'} weights than middle frames "
    f"(mean weight {ends:.3f} at the first and last frame vs {middle:.3f} in between)."
)
pd.DataFrame({"layer": summary["layers"], "mean |offset|": summary["mean_abs_offset"]}).set_index("layer").round(3)

# %%
trained_here = checkpoint.parent / "metrics.json"
origin = [run_provenance(checkpoint.parent)] if checkpoints is None and trained_here.exists() else []
write_results(
    results_dir,
    "offsets",
    {
        "checkpoint": str(checkpoint),
        "checkpoint_sha256": sha256_file(checkpoint),
        "videos": len(video_ids),
        "provenance": origin,
        **summary,
    },
    {"scale": scale, "seeds": seeds, "data_root": data_root, "checkpoints": checkpoints, "max_videos": max_videos},
)
