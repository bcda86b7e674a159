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
# **What this chapter shows.** The paper's Figure 5 plots, for each TIN layer, the learned temporal offsets
# and the per-frame weights. This chapter reads them from the TINs trained in the {doc}`table1` chapter
# (8 frames, every seed), or from a checkpoint you pass as `checkpoints`, over the validation videos: every
# video's offset pair $(b_0, b_1)$ per layer, and the weights $w_0, w_1$ per frame for the layer you choose.
# The figure (the first seed's TIN) is interactive in the static page (no server): hover a point for its video
# and value, pick a layer in the drop-down. The two readings of the figure the paper draws (offsets are small
# in shallow layers and grow with depth; end frames get lower weights) are then measured on every seed's TIN,
# each with a 95 % interval over seeds, and the chapter ends with the verdicts computed from them.

# %% tags=["parameters", "hide-cell"]
scale = None  # smoke | embedded | long | full (default: $PAPERLIB_SCALE, else embedded)
profile = None  # the same as scale (either name)
data_root = None  # the real Something-Something v1 (with scale "full"); None: the embedded dataset
checkpoints = None  # a TIN checkpoint file, or Table 1's checkpoint folder, instead of the Table 1 run
device = "auto"
seeds = None  # the Table 1 seeds whose TINs are read (default: Table 1's); the figure shows the first
results_dir = (
    None  # default: the repository's results/<scale>/ (or $PAPERLIB_RESULTS/<scale>)
)
trial = None  # True (scale full): the full route, a few steps per run ($PAPERLIB_TRIAL)
max_videos = 200

# %% tags=["remove-cell"]
import math

from IPython.display import display

from paperlib.experiments import open_chapter, run_provenance
from paperlib.experiments.offsets import (
    collect_from_checkpoint,
    offset_summary,
    seed_table,
    tin_checkpoint,
    tin_checkpoints,
    verdict,
    weight_profile,
)
from paperlib.experiments.table1 import measured_with
from paperlib.utils import sha256_file
from paperlib.viz import offsets_figure, offsets_static, show, statements

chapter = open_chapter(
    "offsets",
    scale=scale,
    profile=profile,
    seeds=seeds,
    data_root=data_root,
    checkpoints=checkpoints,
    device=device,
    results_dir=results_dir,
    trial=trial,
    max_videos=max_videos,
)
checkpoint = tin_checkpoint(chapter)
records, video_ids = collect_from_checkpoint(
    checkpoint, chapter.data_root, max_videos, chapter.device
)

# %% tags=["hide-input"]
display(
    statements(
        [
            f"`{chapter.relative(checkpoint)}`: {len(records)} TIN layers, {len(video_ids)} validation videos"
        ]
    )
)
show(offsets_figure(records, video_ids))

# %% [markdown]
# The same two views for print:

# %% tags=["hide-input"]
offsets_static(records)

# %% [markdown]
# ## Over every seed
#
# The same measurements on the 8-frame TIN of every Table 1 seed: per seed, how many layers barely shift (mean
# |offset| below 0.1 frame: there the shifted channels mostly read their own frame, and the block computes nearly
# what TSN's does), the rank correlation of each layer's mean |offset| with its depth (+1: strictly growing) and
# the mean weight of the first and last frames against the frames in between; then the weight of each frame
# averaged over seeds, with its 95 % interval. The offsets start at +1 frame at the embedded and long scales (ours;
# the originals' +0.5 at the smoke and full scales), so a layer below 0.1 has moved towards no shift during
# training.

# %% tags=["hide-input"]
summary = offset_summary(records)
summaries = {
    seed: summary
    if path == checkpoint
    else offset_summary(
        collect_from_checkpoint(path, chapter.data_root, max_videos, chapter.device)[0]
    )
    for seed, path in tin_checkpoints(chapter).items()
}
per_seed = seed_table(summaries)
display(
    per_seed.style.format(precision=3).set_caption(
        f"MEASURED by paperlib, {chapter.scale} scale, per seed; the TINs of Table 1: "
        f"{measured_with(chapter.scale).split(';')[0]}"
    )
)
# one seed has no interval: shown as n/a, not as -inf to inf
weight_profile(summaries).style.format(
    lambda v: "n/a" if math.isinf(v) else f"{v:.3f}",
    subset=["95% CI low", "95% CI high"],
).format(precision=3, subset=["weight"]).set_caption(
    "MEASURED: mean weight per frame, averaged over seeds"
)

# %% tags=["remove-cell"]
trained_here = checkpoint.parent / "metrics.json"
chapter.save(
    {
        "checkpoint": chapter.relative(checkpoint),
        "checkpoint_sha256": sha256_file(checkpoint),
        "videos": len(video_ids),
        "provenance": [run_provenance(checkpoint.parent)]
        if checkpoints is None and trained_here.exists()
        else [],
        **summary,
        "per_seed": per_seed.reset_index().to_dict(orient="records"),
        "weight_profile": weight_profile(summaries)
        .reset_index()
        .to_dict(orient="records"),
        "verdict": verdict(summary, per_seed),
    }
)

# %% [markdown]
# ## What this run shows
#
# The claims this chapter measures are rows `offsets_grow` and `ends_lower` of the {doc}`claims`, with their
# intervals and verdicts.
#
# Computed from the offsets and weights above (the statements are generated, not written in advance).

# %% tags=["hide-input"]
statements(verdict(summary, per_seed))
