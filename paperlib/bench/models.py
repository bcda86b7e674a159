"""Benchmark model cost side by side in one run: parameters, GFLOPs, inference latency and (optionally)
training-step time of TSN, TSM, TIN, the temporal-convolution baseline, I3D, SlowFast and R(2+1)D at their
papers' input sizes, on random inputs. The models are timed in interleaved rounds (every model once per
round), so a change in machine load hits all of them alike. Reports TIN's cost as ratios."""

from __future__ import annotations

import argparse
import json
import statistics
import time

import torch
from torch import nn

from ..models import complexity, create
from ..utils import atomic_write_text
from .shift import machine_facts

# name -> (builder options, clip [C, T, H, W]) at the input each paper trains on
MODELS = {
    "tsn_r50": ({}, (3, 8, 224, 224)),
    "tsm_r50": ({}, (3, 8, 224, 224)),
    "tin_r50": ({}, (3, 8, 224, 224)),
    "tconv_r50": ({}, (3, 8, 224, 224)),
    "i3d_r50": ({}, (3, 8, 224, 224)),
    "slowfast_r50": ({"variant": "4x16"}, (3, 32, 224, 224)),
    "r2plus1d_18": ({}, (3, 16, 112, 112)),
}
RATIOS = {
    "TIN / TSM": "tsm_r50",
    "TIN / TSN": "tsn_r50",
    "TIN / temporal conv": "tconv_r50",
    "TIN / I3D": "i3d_r50",
    "TIN / SlowFast": "slowfast_r50",
    "TIN / R(2+1)D": "r2plus1d_18",
}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    parser.add_argument("--models", nargs="+", default=list(MODELS), choices=list(MODELS))
    parser.add_argument("--rounds", type=int, default=5, help="timed rounds (every model once per round)")
    parser.add_argument("--batch", type=int, default=1, help="videos per inference call")
    parser.add_argument("--train", action="store_true", help="also time a training step (batch --train-batch)")
    parser.add_argument("--train-batch", type=int, default=None, help="default 2 on cpu, 8 on cuda")
    parser.add_argument(
        "--downscale",
        type=int,
        default=1,
        help="divide each input's height and width by this (quick checks; the default 1 is the papers' sizes)",
    )
    parser.add_argument("--json", default=None)


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def measure(
    device: str = "cpu",
    models=tuple(MODELS),
    rounds: int = 5,
    batch: int = 1,
    train: bool = False,
    train_batch: int | None = None,
    classes: int = 400,
    downscale: int = 1,
) -> list[dict]:
    """One record per model: params, GFLOPs per view, median inference seconds per call and, with ``train``,
    median seconds per training step (SGD; on CUDA with bf16 autocast and channels_last where 4-D)."""
    device = torch.device(device)
    cuda = device.type == "cuda"
    train_batch = train_batch or (8 if cuda else 2)
    clips = {name: (*MODELS[name][1][:2], *(side // downscale for side in MODELS[name][1][2:])) for name in models}
    built, steps = {}, {}
    for name in models:
        options, clip = MODELS[name][0], clips[name]
        torch.manual_seed(0)
        model = create(name, classes, clip[1], **options).to(device)
        counted = complexity(create(name, classes, clip[1], **options), (1, *clip))
        video = torch.randn(batch, *clip, device=device)
        built[name] = (model, video, counted)

        def infer(model=model, video=video):
            with torch.no_grad(), torch.autocast(device.type, dtype=torch.bfloat16, enabled=cuda):
                model.eval()(video)

        steps[name] = {"inference": infer}
        if train:
            optimizer = torch.optim.SGD(model.parameters(), lr=1e-4, momentum=0.9)
            videos = torch.randn(train_batch, *clip, device=device)
            target = torch.randint(0, classes, (train_batch,), device=device)

            def step(model=model, optimizer=optimizer, videos=videos, target=target):
                model.train()
                with torch.autocast(device.type, dtype=torch.bfloat16, enabled=cuda):
                    loss = nn.functional.cross_entropy(model(videos).float(), target)
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                optimizer.step()

            steps[name]["train"] = step
    times: dict[tuple[str, str], list[float]] = {}
    for round_ in range(rounds + 1):  # round 0 warms up
        for name in models:
            for kind, fn in steps[name].items():
                _sync(device)
                t0 = time.perf_counter()
                fn()
                _sync(device)
                if round_:
                    times.setdefault((name, kind), []).append(time.perf_counter() - t0)
    records = []
    for name in models:
        record = {
            "model": name,
            "options": MODELS[name][0],
            "clip": list(clips[name]),
            "device": device.type,
            "batch": batch,
            "params": built[name][2]["params"],
            "gflops_per_view": built[name][2]["gflops"],
            "inference_s": statistics.median(times[name, "inference"]),
            "inference_rounds_s": times[name, "inference"],  # one per interleaved round: paired across models
        }
        if train:
            record.update(
                train_batch=train_batch,
                train_step_s=statistics.median(times[name, "train"]),
                amp="bf16+autocast" if cuda else "none",
            )
        records.append(record)
    return records


def ratios(records: list[dict], key: str = "inference_s") -> dict[str, float]:
    """TIN's time over each other model's, for the models measured."""
    by_name = {r["model"]: r for r in records if key in r}
    if "tin_r50" not in by_name:
        return {}
    return {label: by_name["tin_r50"][key] / by_name[other][key] for label, other in RATIOS.items() if other in by_name}


def run(args: argparse.Namespace) -> int:
    if args.device == "cuda" and not torch.cuda.is_available():
        raise SystemExit("paperlib.bench models: --device cuda requested but no CUDA device is available")
    records = measure(
        args.device, args.models, args.rounds, args.batch, args.train, args.train_batch, downscale=args.downscale
    )
    facts = machine_facts(torch.device(args.device))
    print(
        f"# model cost on {facts['device_name']} ({args.device}, {facts['threads']} threads), "
        f"median of {args.rounds} interleaved rounds"
    )
    print(f"{'model':14} {'clip':>16} {'params (M)':>10} {'GFLOPs':>8} {'infer (s)':>10} {'train step (s)':>15}")
    for r in records:
        step = f"{r['train_step_s']:15.3f}" if "train_step_s" in r else f"{'-':>15}"
        print(
            f"{r['model']:14} {'x'.join(map(str, r['clip'])):>16} {r['params'] / 1e6:10.2f} "
            f"{r['gflops_per_view']:8.2f} {r['inference_s']:10.3f} {step}"
        )
    summary = {"inference": ratios(records, "inference_s")}
    if args.train:
        summary["train_step"] = ratios(records, "train_step_s")
    for kind, values in summary.items():
        print(f"{kind}: " + ", ".join(f"{k} = {v:.2f}" for k, v in values.items()))
    if args.json:
        payload = {"benchmark": "models", "machine": facts, "records": records, "ratios": summary}
        atomic_write_text(args.json, json.dumps(payload, indent=1) + "\n")
    return 0
