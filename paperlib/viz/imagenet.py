"""The embedded ImageNet's figure: one training image of each class."""

from __future__ import annotations

from pathlib import Path


def samples_figure(train_folder: str | Path, columns: int = 8):
    """A grid of the first training image of each class folder of an ImageNet-layout ``train/`` folder, each
    titled with its class folder's name (``disk_red``), in label order."""
    import matplotlib.pyplot as plt
    from PIL import Image

    classes = sorted(p for p in Path(train_folder).iterdir() if p.is_dir())
    rows = -(-len(classes) // columns)
    fig, axes = plt.subplots(rows, columns, figsize=(1.3 * columns, 1.45 * rows), squeeze=False)
    for ax in axes.flat:
        ax.axis("off")
    for ax, folder in zip(axes.flat, classes):
        first = min(folder.glob("*.JPEG"))
        ax.imshow(Image.open(first).convert("RGB"), interpolation="nearest")
        ax.set_title(folder.name.replace("_", " "), fontsize=7)
    fig.tight_layout(pad=0.3)
    plt.close(fig)  # shown once, where the caller displays it
    return fig
