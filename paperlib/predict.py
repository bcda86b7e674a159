"""``python -m paperlib.predict --checkpoint PATH VIDEO_OR_FRAME_FOLDER [--labels FILE]``: the top-5 classes.

Reads one video (decord) or one folder of frames, samples a clip the way the model was trained (the
configuration stored in the checkpoint; TSN centre frames or a dense centre clip), applies the test
transform (short side ``scale_size``, centre crop ``input_size``) and prints the 5 most likely classes.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import torch

from .cli import add_debug_argument, guarded
from .data import ClipSampler, FrameFolder, FrameReadError, TestTransform, VideoFile, read_class_names
from .engine.config import config_from_dict
from .engine.device import pick_device
from .models import from_checkpoint
from .models.checkpoint import read_checkpoint


@torch.no_grad()
def predict(
    checkpoint: str | Path | dict, media: str | Path, top: int = 5, device: str = "auto", template: str | None = None
) -> list[tuple[int, float]]:
    """``[(class id, probability)]`` of the ``top`` most likely classes for one video or frame folder;
    ``checkpoint`` is a path or an already-read checkpoint."""
    raw = read_checkpoint(checkpoint) if not isinstance(checkpoint, dict) else checkpoint
    config = config_from_dict(raw.get("config") or {})
    model = from_checkpoint(raw)
    cfg = model.paperlib_config
    media = Path(media)
    source = VideoFile() if media.is_file() else FrameFolder(template or config.data.template)
    if not media.exists():
        raise FileNotFoundError(f"no such video or frame folder: {media}")
    frames = source.count(media)
    if frames == 0:
        hint = source.hint(media) if isinstance(source, FrameFolder) else ""
        raise FrameReadError(f"{media}: no frames matching {getattr(source, 'template', 'the video')}{hint}")
    sampler = ClipSampler(config.data.sampling, cfg["num_segments"], config.data.rate)
    clip = torch.from_numpy(source.read(media, sampler.test(frames)[0])).permute(0, 3, 1, 2)  # [T, 3, H, W]
    video = TestTransform(config.data.input_size, config.data.scale_size)(clip)  # [1, 3, T, h, w]
    torch_device = pick_device(device)
    logits = model.to(torch_device).eval()(video.to(torch_device)).float()[0]
    probs = torch.sigmoid(logits) if config.data.multi_label else torch.softmax(logits, dim=0)
    values, ids = probs.topk(min(top, len(probs)))
    return list(zip(ids.tolist(), values.tolist()))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m paperlib.predict", description=__doc__)
    parser.add_argument("media", help="a video file or a folder of frames")
    parser.add_argument("--checkpoint", required=True)
    parser.add_argument("--labels", default=None, help="class names, one per line (default: stored in the checkpoint)")
    parser.add_argument("--template", default=None, help="frame file template for frame folders, e.g. img_{:05d}.jpg")
    parser.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda"])
    parser.add_argument("--top", type=int, default=5)
    add_debug_argument(parser)
    args = parser.parse_args(argv)

    def body() -> int:
        raw = read_checkpoint(args.checkpoint)
        names = read_class_names(args.labels) if args.labels else raw.get("class_names")
        ranked = predict(raw, args.media, args.top, args.device, args.template)
        print(f"{args.media}:")
        for rank, (cls, prob) in enumerate(ranked, start=1):
            name = names[cls] if names and cls < len(names) else f"class {cls}"
            print(f"{rank}. {prob:7.2%}  {name}")
        return 0

    return guarded(body, args.debug, "nothing was written")


if __name__ == "__main__":
    sys.exit(main())
