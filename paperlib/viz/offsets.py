"""TIN's learned offsets and per-frame weights, layer by layer (the paper's Figure 5), interactive offline.

Input: ``records`` from :func:`paperlib.models.recording_interlace` accumulated over videos, i.e.
``{layer: {"offset": array[V, 2], "weight": array[V, T, 2]}}`` in network order.
"""

from __future__ import annotations

import numpy as np


def offsets_figure(records: dict[str, dict[str, np.ndarray]], video_ids: list[str]):
    """Two panels: every video's offsets (b0, b1) per layer against depth (hover: video and value), and the
    per-frame weights of the layer chosen in the drop-down (mean over videos and every video's curve)."""
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    layers = list(records)
    fig = make_subplots(
        rows=1, cols=2, subplot_titles=("offsets by depth (every video)", "per-frame weights"), horizontal_spacing=0.12
    )
    for j, name in enumerate(("b0", "b1")):
        xs, ys, text = [], [], []
        for i, layer in enumerate(layers):
            values = records[layer]["offset"][:, j]
            xs += [i + (j - 0.5) * 0.15] * len(values)
            ys += values.tolist()
            text += [f"{layer}<br>{vid}<br>{name} = {v:+.3f}" for vid, v in zip(video_ids, values)]
        fig.add_trace(
            go.Scatter(
                x=xs,
                y=ys,
                mode="markers",
                name=f"offset {name}",
                text=text,
                hoverinfo="text",
                marker=dict(size=5, opacity=0.6),
            ),
            row=1,
            col=1,
        )
    always = len(fig.data)
    per_layer = []
    for i, layer in enumerate(layers):
        w = records[layer]["weight"]  # [V, T, 2]
        frames = list(range(w.shape[1]))
        start = len(fig.data)
        for v in range(w.shape[0]):
            fig.add_trace(
                go.Scatter(
                    x=frames,
                    y=w[v, :, 0].tolist(),
                    mode="lines",
                    line=dict(width=0.5, color="#bbb"),
                    hovertemplate=f"{video_ids[v]}<br>frame %{{x}}: w0 = %{{y:.3f}}<extra></extra>",
                    showlegend=False,
                    visible=i == 0,
                ),
                row=1,
                col=2,
            )
        for j, colour in ((0, "#1f77b4"), (1, "#d62728")):
            fig.add_trace(
                go.Scatter(
                    x=frames,
                    y=w[:, :, j].mean(axis=0).tolist(),
                    mode="lines+markers",
                    name=f"mean w{j}",
                    line=dict(color=colour, width=3),
                    visible=i == 0,
                    showlegend=i == 0,
                ),
                row=1,
                col=2,
            )
        per_layer.append(range(start, len(fig.data)))
    buttons = []
    for i, layer in enumerate(layers):
        visible = [True] * always + [False] * (len(fig.data) - always)
        for k in per_layer[i]:
            visible[k] = True
        buttons.append(dict(label=layer, method="update", args=[{"visible": visible}]))
    fig.update_layout(
        updatemenus=[dict(buttons=buttons, x=1.0, y=1.18, xanchor="right", showactive=True)],
        height=460,
        margin=dict(l=40, r=20, t=80, b=40),
        legend=dict(orientation="h", y=-0.15),
    )
    fig.update_xaxes(tickvals=list(range(len(layers))), ticktext=layers, row=1, col=1)
    fig.update_xaxes(title_text="frame t", row=1, col=2)
    fig.update_yaxes(title_text="offset (frames)", row=1, col=1)
    fig.update_yaxes(title_text="weight", row=1, col=2)
    return fig


def offsets_static(records: dict[str, dict[str, np.ndarray]]):
    """The same two views for print (matplotlib/seaborn)."""
    import matplotlib.pyplot as plt
    import seaborn as sns

    layers = list(records)
    fig, (ax0, ax1) = plt.subplots(1, 2, figsize=(11, 3.5))
    data = {"layer": [], "offset": [], "which": []}
    for layer in layers:
        for j in range(2):
            values = records[layer]["offset"][:, j]
            data["layer"] += [layer] * len(values)
            data["offset"] += values.tolist()
            data["which"] += [f"b{j}"] * len(values)
    sns.boxplot(x=data["layer"], y=data["offset"], hue=data["which"], ax=ax0, fliersize=1)
    ax0.set_xlabel("layer")
    ax0.set_ylabel("offset (frames)")
    ax0.tick_params(axis="x", rotation=45)
    for layer in layers:
        ax1.plot(records[layer]["weight"].mean(axis=(0, 2)), marker="o", label=layer)
    ax1.set_xlabel("frame t")
    ax1.set_ylabel("mean weight")
    ax1.legend(fontsize=7, ncol=2)
    fig.tight_layout()
    plt.close(fig)  # shown once, where the caller displays it
    return fig
