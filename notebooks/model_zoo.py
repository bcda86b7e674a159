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
# Its path is relative to the repository (or, for results kept outside it, to the results folder).

# %% tags=["parameters", "hide-cell"]
scale = None  # smoke | embedded | full (default: $PAPERLIB_SCALE, else embedded): whose runs to list
profile = None  # the same as scale (either name)
data_root = None  # as in the Table 1 and MMIT chapters, whose runs this one lists
checkpoints = None  # given checkpoints are evaluated by the other chapters, not listed here as ours
device = "auto"
seeds = None  # default: as in the Table 1 and MMIT chapters
results_dir = (
    None  # default: the repository's results/<scale>/ (or $PAPERLIB_RESULTS/<scale>)
)
trial = None  # True (scale full): the full route, a few steps per run ($PAPERLIB_TRIAL)

# %% tags=["remove-cell"]
import pandas as pd
from IPython.display import display

from paperlib.experiments import open_chapter
from paperlib.experiments.chapter import default_seeds
from paperlib.experiments.mmit import run_single_models
from paperlib.experiments.table1 import run_table1
from paperlib.experiments.zoo import (
    own_checkpoint_tables,
    own_checkpoints,
    published_table,
    verdict,
)
from paperlib.viz import statements

chapter = open_chapter(
    "model_zoo",
    scale=scale,
    profile=profile,
    seeds=seeds,
    data_root=data_root,
    checkpoints=checkpoints,
    device=device,
    results_dir=results_dir,
    trial=trial,
)
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
published = published_table()
published.style.hide(axis="index").set_caption(
    "Published checkpoints: the publishers' numbers"
)

# %% [markdown]
# ## Checkpoints of this build (MEASURED numbers)

# %%
# The runs behind the Table 1 and MMIT chapters, from the run cache (trained here if this chapter runs first).
where = (
    chapter.scale,
    chapter.seeds,
    chapter.results_dir,
    chapter.data_root,
    chapter.device,
)
table1 = run_table1(*where, checkpoints=chapter.checkpoints)
mmit_seeds = seeds or default_seeds(
    chapter.scale, "mmit"
)  # the MMIT chapter's own seeds unless given
mmit = run_single_models(
    chapter.scale,
    mmit_seeds,
    chapter.results_dir,
    chapter.mmit_root,  # the MMIT data (Table 1's is data_root)
    chapter.device,
    checkpoints=chapter.checkpoints,
)
ours = own_checkpoints(chapter.results_dir, table1, mmit)
display(
    statements(
        [
            f"{len(ours)} checkpoints from this build's runs ({chapter.scale} scale); every load call below was run."
        ]
    )
)
for dataset, table in own_checkpoint_tables(ours).items():
    display(
        table.style.hide(axis="index")
        .format(precision=2)
        .set_caption(f"{dataset}: checkpoints of this build, MEASURED here")
    )

# %% tags=["remove-cell"]
chapter.save({"published": published.to_dict(orient="records"), "ours": ours})

# %% [markdown]
# ## What this build shows

# %% tags=["hide-input"]
statements(verdict(published, ours))
