"""The interlace shift's temporal kernels as an image: one row per offset, one column per lag."""

from __future__ import annotations

from collections.abc import Sequence

import torch


def interlace_kernel_figure(offsets: Sequence[float], num_frames: int = 3):
    """A matplotlib figure of :func:`paperlib.experiments.theory.interlace_kernel` for each offset: the two taps
    slide along the lag axis and trade weight linearly as the offset moves between integers."""
    import matplotlib.pyplot as plt

    from ..experiments.theory import interlace_kernel

    kernels = interlace_kernel(torch.tensor([list(offsets)], dtype=torch.float64), num_frames=num_frames)[0]
    reach = num_frames + 1  # lags -reach..reach
    fig, ax = plt.subplots(figsize=(7, 3))
    image = ax.imshow(
        kernels.numpy(), cmap="viridis", aspect="auto", extent=(-reach - 0.5, reach + 0.5, len(offsets) - 0.5, -0.5)
    )
    ax.set_yticks(range(len(offsets)), [f"b = {b:+.2f}" for b in offsets])
    ax.set_xlabel("lag d (output frame t reads input frame t - d)")
    fig.colorbar(image, ax=ax, label="tap weight")
    ax.set_title("Interlace-shift kernels: two adjacent taps summing to 1")
    fig.tight_layout()
    plt.close(fig)  # shown once, where the caller displays it
    return fig
