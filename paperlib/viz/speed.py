"""The speed chapter's figures: the shift op against the copy roofline, and model cost against latency."""

from __future__ import annotations

import pandas as pd


def roofline_figure(shift: pd.DataFrame):
    """Fraction of copy bandwidth per ResNet-50 stage and backend, one panel per (device, pass), channels-first
    rows of :func:`paperlib.experiments.speed.committed_shift_results`; the dashed line is the copy."""
    import matplotlib.pyplot as plt
    import seaborn as sns

    rows = shift[(shift["pass"] != "forward+backward") & (shift["layout"] == "channels_first")]
    grid = sns.catplot(
        data=rows, x="layer", y="frac_copy", hue="backend", col="pass", row="device", kind="bar", height=3.2, aspect=1.3
    )
    grid.set_axis_labels("ResNet-50 stage", "fraction of copy bandwidth")
    for ax in grid.axes.flat:
        ax.axhline(1.0, color="black", linewidth=0.8, linestyle="--")
    plt.close(grid.figure)  # shown once, where the caller displays it
    return grid.figure


def cost_figure(cost: pd.DataFrame, device: str):
    """GFLOPs per view against inference latency, one point per model (log-log), from
    :func:`paperlib.experiments.speed.cost_table`."""
    import matplotlib.pyplot as plt
    import seaborn as sns

    fig, ax = plt.subplots(figsize=(6.5, 4))
    sns.scatterplot(data=cost.reset_index(), x="gflops_per_view", y="inference_s", hue="model", s=80, ax=ax)
    ax.set(xlabel="GFLOPs per view", ylabel=f"inference latency (s, {device})", xscale="log", yscale="log")
    ax.legend(fontsize=8, loc="best")
    plt.close(fig)  # shown once, where the caller displays it
    return fig
