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

# %%

# %% [markdown]
# # Model zoo: published checkpoints, and ours
#
# Two tables. The first lists checkpoints their authors published for the models in `paperlib`: what each
# was trained on, the accuracy **they report** (with its source, not measured here: no real dataset or
# published weight can be downloaded on the machines that build this book), the key layout of the file, and
# the one line that loads it. Every line in that column is run by the test suite (`tests/test_zoo.py`) on a
# file written in that layout, strictly: a checkpoint that does not fit raises an error listing the
# missing, unexpected and wrong-shape keys instead of loading half of it. Files are read with
# `torch.load(weights_only=True)`: no code in a checkpoint runs.
#
# The second table lists the checkpoints this book's own runs produced (the runs behind the numbers of
# {doc}`table1` and {doc}`mmit_single`, at this build's scale): **measured** numbers, the file's sha256,
# and the `from_checkpoint` call that rebuilds the model and loads it; the call is run below for every row.

# %% tags=["parameters"]
scale = None  # smoke | embedded | full (default: $PAPERLIB_SCALE, else embedded)
data_root = None  # as in the other chapters: this one reads their results and trains nothing
checkpoints = None  # given checkpoints are evaluated by the other chapters, not listed here as ours
device = "auto"
results_dir = "../results/notebooks"
repo_root = ".."  # paths in the load calls are relative to this folder

# %%
import pandas as pd
from IPython.display import display

from paperlib.experiments import check_parameters, default_scale, write_results
from paperlib.experiments.zoo import own_checkpoints
from paperlib.models.zoo import PUBLISHED

scale = scale or default_scale()
check_parameters(scale=scale, data_root=data_root, device=device, results_dir=results_dir)
pd.set_option("display.max_colwidth", None)

# %% [markdown]
# ## Published checkpoints (REPORTED numbers)
#
# `create` and `load_checkpoint` come from `paperlib.models`. The layout is detected from the keys, so the
# same line loads an official TIN/TSM, X-Temporal, MMAction2, torchvision, PyTorchVideo or PySlowFast
# (`.pyth`, e.g. your own PySlowFast training checkpoints) file. Not loadable: PySlowFast's Caffe2 `.pkl`
# model-zoo files (plain pickles, refused by `weights_only=True`, with Caffe2 key names; PyTorchVideo
# publishes the same models as `.pyth`) and non-local variants (extra keys, reported). A shift has no
# weights, so where it sits is not in the file: `tsm_r101` shifts every second block as the official TSM
# code does (`temporal_every=2`); for X-Temporal's TSM ResNet-101, which shifts every block, pass
# `temporal_every=1`. X-Temporal reports MMIT results as
# sample-wise mAP, which is not the class-wise mAP of {doc}`mmit_single`.

# %%
published = pd.DataFrame(
    [
        {
            "model": e.model,
            "dataset": e.dataset,
            "classes": e.num_classes,
            "input": e.input,
            "REPORTED (not measured here)": e.reported,
            "source": e.source,
            "layout": e.fmt,
            "load": e.call(),
            "note": e.note,
        }
        for e in PUBLISHED
    ]
)
published.style.hide(axis="index").set_caption("Published checkpoints: the publishers' numbers")

# %% [markdown]
# ## Checkpoints of this build (MEASURED numbers)

# %%
rows = own_checkpoints(results_dir, relative_to=repo_root)
print(f"{len(rows)} checkpoints from this build's runs ({scale} scale); every load call below was run.")
ours = pd.DataFrame(rows)
for dataset, table in ours.groupby("dataset", sort=False):
    display(
        table.dropna(axis="columns", how="all")
        .style.hide(axis="index")
        .format(precision=2)
        .set_caption(f"{dataset}: checkpoints of this build, MEASURED here")
    )

# %%
write_results(
    results_dir,
    "model_zoo",
    {"published": published.to_dict(orient="records"), "ours": rows},
    {"scale": scale, "data_root": data_root, "checkpoints": checkpoints},
)
