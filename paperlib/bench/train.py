"""Benchmark training throughput (clips/s) of TSN, TSM and TIN (R50, 8×224² by default), side by side in one
run, on random inputs (no data loading): one SGD step = forward, backward, update. On GPU with AMP (bf16)
and channels_last. Reports TIN's throughput as a fraction of TSM's."""

from __future__ import annotations

import argparse
import json

import torch
from torch import nn

from ..models import create
from ..utils import atomic_write_text
from .shift import machine_facts
from .timing import Timer

MODELS = ("tsn_r50", "tsm_r50", "tin_r50")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    parser.add_argument("--models", nargs="+", default=list(MODELS))
    parser.add_argument("--batch", type=int, default=None, help="videos per step (default 2 on cpu, 16 on cuda)")
    parser.add_argument("--num-segments", type=int, default=8, help="frames per clip T")
    parser.add_argument("--size", type=int, default=224)
    parser.add_argument("--budget", type=float, default=5.0, help="seconds of timing per model")
    parser.add_argument("--json", default=None)


def measure(
    device: str = "cpu",
    models=MODELS,
    batch: int | None = None,
    frames: int = 8,
    size: int = 224,
    budget: float = 5.0,
    classes: int = 174,
) -> list[dict]:
    device = torch.device(device)
    cuda = device.type == "cuda"
    batch = batch or (16 if cuda else 2)
    timer = Timer(device, budget_s=budget, min_reps=3, flush_bytes=1 << 20)
    results = []
    for name in models:
        torch.manual_seed(0)
        model = create(name, classes, frames).to(device).train()
        if cuda:
            model = model.to(memory_format=torch.channels_last)
        optimizer = torch.optim.SGD(model.parameters(), lr=1e-3, momentum=0.9)
        video = torch.randn(batch, 3, frames, size, size, device=device)
        target = torch.randint(0, classes, (batch,), device=device)

        def step():
            with torch.autocast(device.type, dtype=torch.bfloat16, enabled=cuda):
                loss = nn.functional.cross_entropy(model(video).float(), target)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()

        seconds = timer.median(step, warmup=1)
        results.append(
            {
                "model": name,
                "device": device.type,
                "batch": batch,
                "clip": [3, frames, size, size],
                "amp": "bf16+channels_last" if cuda else "none",
                "seconds_per_step": seconds,
                "clips_per_s": batch / seconds,
            }
        )
    by_name = {r["model"]: r for r in results}
    if "tin_r50" in by_name and "tsm_r50" in by_name:
        ratio = by_name["tin_r50"]["clips_per_s"] / by_name["tsm_r50"]["clips_per_s"]
        for r in results:
            r["tin_over_tsm"] = ratio
    return results


def run(args: argparse.Namespace) -> int:
    if args.device == "cuda" and not torch.cuda.is_available():
        raise SystemExit("paperlib.bench train: --device cuda requested but no CUDA device is available")
    results = measure(args.device, args.models, args.batch, args.num_segments, args.size, args.budget)
    facts = machine_facts(torch.device(args.device))
    print(f"# training step throughput on {facts['device_name']} ({args.device}, {facts['threads']} threads)")
    print(f"{'model':10} {'batch':>5} {'s/step':>8} {'clips/s':>8}")
    for r in results:
        print(f"{r['model']:10} {r['batch']:5d} {r['seconds_per_step']:8.3f} {r['clips_per_s']:8.2f}")
    if results and "tin_over_tsm" in results[0]:
        print(f"TIN throughput / TSM throughput = {results[0]['tin_over_tsm']:.3f}")
    if args.json:
        atomic_write_text(
            args.json, json.dumps({"benchmark": "train", "machine": facts, "records": results}, indent=1) + "\n"
        )
    return 0
