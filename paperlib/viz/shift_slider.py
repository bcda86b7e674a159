"""An interactive view of the interlace shift: one channel over time, the offset on a slider."""

from __future__ import annotations

import torch

from ..ops import interlace_shift


def shift_slider_figure(signal: torch.Tensor, offsets: list[float], weight: float = 1.0, backend: str = "auto"):
    """Plot ``signal`` (``Tensor[T]``, one channel of one video) and its interlace shift for each offset.

    Every offset's output is computed by :func:`paperlib.ops.interlace_shift`; the slider only toggles
    which precomputed trace is visible, so the figure needs no kernel to stay interactive.
    """
    import plotly.graph_objects as go

    t = signal.numel()
    x = signal.reshape(1, t, 1, 1, 1).double()
    frames = list(range(t))
    fig = go.Figure()
    fig.add_trace(
        go.Scatter(
            x=frames, y=signal.tolist(), mode="lines+markers", name="input x[t]", line=dict(color="#888", dash="dot")
        )
    )
    for i, b in enumerate(offsets):
        offset = torch.tensor([[b]], dtype=torch.float64)
        w = torch.full((1, t, 1), weight, dtype=torch.float64)
        y = interlace_shift(x, offset, w, backend=backend).flatten()
        fig.add_trace(
            go.Scatter(
                x=frames,
                y=y.tolist(),
                mode="lines+markers",
                name=f"y[t], offset {b:+.2f}",
                visible=(i == len(offsets) // 2),
                line=dict(color="#d62728"),
            )
        )
    steps = []
    for i, b in enumerate(offsets):
        visible = [True] + [j == i for j in range(len(offsets))]
        steps.append(dict(method="update", label=f"{b:+.2f}", args=[{"visible": visible}]))
    fig.update_layout(
        sliders=[dict(active=len(offsets) // 2, currentvalue=dict(prefix="offset b = "), steps=steps, pad=dict(t=40))],
        xaxis_title="frame t",
        yaxis_title="feature value",
        height=420,
        margin=dict(l=40, r=20, t=30, b=40),
        legend=dict(orientation="h", y=1.12),
    )
    return fig
