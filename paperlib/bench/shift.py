"""Benchmark the interlace shift op against the memory roofline, at the ResNet-50 TIN shapes.

Each backend's forward and backward are timed side by side in one run, together with ``copy_`` of a
tensor of the same size into a preallocated one (the attainable bandwidth on this machine). Bytes moved
are counted as (ours): the forward reads x and writes y (``2·E·b``); the
backward reads grad_y, writes grad_x and reads the shifted quarter of x (``(2·E + E_s)·b``), E = N·T·C·H·W.

Layouts: ``channels_first`` (``(N, T, C, H, W)`` contiguous, what the models run by default) and
``channels_last`` (``(N, T, H, W, C)`` in memory: the frames of a ``channels_last`` model), same shapes.

Backends: ``torch`` (pure PyTorch), ``cpp``/``cuda`` (the kernels through the op, which allocates its
outputs), and ``cpp[out]``/``cuda[out]`` (the same kernels writing into preallocated buffers, i.e. the
kernel alone without the allocator's page faults, comparable to the preallocated ``copy_``).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
from dataclasses import asdict, dataclass

import torch

from ..ops import available_backends, channels_last_frames, interlace_shift
from ..utils import atomic_write_text
from .timing import Timer

# conv1 input of the first and of the repeated bottlenecks of each ResNet-50 stage: (channels, side).
# TIN shifts a quarter of those channels (shift_div = 4) in 4 groups.
RESNET50_SHAPES = {"layer1": (256, 56), "layer2": (512, 28), "layer3": (1024, 14), "layer4": (2048, 7)}
LAYOUTS = ["channels_first", "channels_last"]
DTYPES = {"float32": torch.float32, "bfloat16": torch.bfloat16, "float16": torch.float16, "float64": torch.float64}


@dataclass
class Record:
    backend: str
    pass_: str
    shape: list[int]
    dtype: str
    device: str
    seconds: float
    gbytes_per_s: float
    frac_copy: float
    speedup_vs_torch: float | None
    layer: str
    shift_channels: int
    copy_gbytes_per_s: float
    layout: str = "channels_first"

    def to_json(self) -> dict:
        d = asdict(self)
        d["pass"] = d.pop("pass_")
        return d


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    parser.add_argument(
        "--dtype",
        nargs="+",
        default=None,
        choices=sorted(DTYPES),
        help="default: float32 on cpu; float32 bfloat16 float16 on cuda",
    )
    parser.add_argument("--layers", nargs="+", default=list(RESNET50_SHAPES), choices=list(RESNET50_SHAPES))
    parser.add_argument("--batch", type=int, default=8, help="videos N")
    parser.add_argument("--num-segments", type=int, default=8, help="frames per clip T")
    parser.add_argument(
        "--layout",
        nargs="+",
        default=["channels_first"],
        choices=LAYOUTS,
        help="memory layouts of x (default channels_first)",
    )
    parser.add_argument("--budget", type=float, default=1.0, help="seconds of timing per measurement")
    parser.add_argument("--json", default=None, help="write the records (and machine facts) to this file")


def _inputs(shape, dtype, device, layout="channels_first"):
    n, t, c, h, w = shape
    x = torch.randn(shape, device=device).to(dtype)
    if layout == "channels_last":
        x = channels_last_frames(x)
    offset = ((torch.rand(n, 4, device=device) * 2 - 1) * 1.9).to(dtype)  # TIN's range is (-2, 2)
    weight = (torch.rand(n, t, 4, device=device) * 2).to(dtype)
    return x, offset, weight


def bench_shape(timer, layer, shape, shift_channels, dtype, device, backends, layout="channels_first") -> list[Record]:
    x, offset, weight = _inputs(shape, dtype, device, layout)
    grad = torch.randn_like(x)  # same strides as x
    elements, elem_bytes = x.numel(), x.element_size()
    bytes_by_pass = {
        "forward": 2 * elements * elem_bytes,
        "backward": (2 * elements + elements * shift_channels // shape[2]) * elem_bytes,
    }
    bytes_by_pass["forward+backward"] = bytes_by_pass["forward"] + bytes_by_pass["backward"]

    copy_dst = torch.empty_like(x)
    copy_s = timer.median(lambda: copy_dst.copy_(x))
    copy_bw = 2 * elements * elem_bytes / copy_s

    seconds: dict[tuple[str, str], float] = {}
    for name in backends:
        kernel, _, out = name.partition("[")
        if out:  # the kernel into preallocated buffers
            y = torch.empty_like(x)
            gx, go, gw = torch.empty_like(x), torch.empty_like(offset), torch.empty_like(weight)
            ops = torch.ops.paperlib
            fwd = lambda: ops._interlace_shift_into(x, offset, weight, shift_channels, y)  # noqa: E731
            bwd = lambda: ops._interlace_shift_backward_into(grad, x, offset, weight, shift_channels, gx, go, gw)  # noqa: E731
        else:
            with torch.no_grad():
                fwd = lambda: interlace_shift(x, offset, weight, shift_channels=shift_channels, backend=kernel)  # noqa: E731
            leaves = [t.detach().requires_grad_() for t in (x, offset, weight)]
            y = interlace_shift(*leaves, shift_channels=shift_channels, backend=kernel)
            bwd = lambda: torch.autograd.grad(y, leaves, grad, retain_graph=True)  # noqa: E731
        with torch.no_grad():
            seconds[name, "forward"] = timer.median(fwd)
        seconds[name, "backward"] = timer.median(bwd)
        seconds[name, "forward+backward"] = seconds[name, "forward"] + seconds[name, "backward"]

    records = []
    for (name, pass_), s in seconds.items():
        bw = bytes_by_pass[pass_] / s
        base = seconds.get(("torch", pass_))
        records.append(
            Record(
                backend=name,
                pass_=pass_,
                shape=list(shape),
                dtype=str(dtype).removeprefix("torch."),
                device=device.type,
                seconds=s,
                gbytes_per_s=bw / 1e9,
                frac_copy=bw / copy_bw,
                speedup_vs_torch=(base / s) if base else None,
                layer=layer,
                shift_channels=shift_channels,
                copy_gbytes_per_s=copy_bw / 1e9,
                layout=layout,
            )
        )
    return records


def machine_facts(device: torch.device) -> dict:
    facts = {
        "torch": torch.__version__,
        "threads": torch.get_num_threads(),
        "cpu": platform.processor() or platform.machine(),
        "cpu_count": os.cpu_count(),
        "transparent_huge_pages_alloc": os.environ.get("THP_MEM_ALLOC_ENABLE", "0"),
    }
    if device.type == "cuda":
        props = torch.cuda.get_device_properties(device)
        facts.update(device_name=props.name, cuda=torch.version.cuda, memory_gib=round(props.total_memory / 2**30, 1))
    else:
        try:
            with open("/proc/cpuinfo") as f:
                facts["device_name"] = next(ln.split(":", 1)[1].strip() for ln in f if ln.startswith("model name"))
        except (OSError, StopIteration):
            facts["device_name"] = facts["cpu"]
    return facts


def format_table(records: list[Record]) -> str:
    head = (
        f"{'layer':7} {'layout':14} {'dtype':9} {'pass':17} {'backend':10} "
        f"{'ms':>9} {'GB/s':>8} {'of copy':>8} {'vs torch':>9}"
    )
    lines = [head, "-" * len(head)]
    for r in records:
        speed = f"{r.speedup_vs_torch:8.1f}x" if r.speedup_vs_torch else f"{'-':>9}"
        lines.append(
            f"{r.layer:7} {r.layout:14} {r.dtype:9} {r.pass_:17} {r.backend:10} {r.seconds * 1e3:9.2f} "
            f"{r.gbytes_per_s:8.1f} {r.frac_copy:8.2f} {speed}"
        )
    return "\n".join(lines)


def measure(
    device: str | torch.device = "cpu",
    dtypes: list[str] | None = None,
    layers: list[str] | None = None,
    batch: int = 8,
    frames: int = 8,
    budget: float = 1.0,
    verbose: bool = False,
    layouts: list[str] | None = None,
) -> list[Record]:
    """Time every available backend of ``device`` at the given ResNet-50 layer shapes, side by side."""
    device = torch.device(device)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ValueError("paperlib.bench shift: device 'cuda' requested but no CUDA device is available")
    dtypes = dtypes or (["float32", "bfloat16", "float16"] if device.type == "cuda" else ["float32"])
    kernels = [b for b in available_backends(device) if b != "torch"]
    backends = ["torch", *kernels, *(f"{k}[out]" for k in kernels)]
    if verbose:
        facts = machine_facts(device)
        print(
            f"# interlace shift on {facts['device_name']} ({device.type}, torch {facts['torch']}, "
            f"{facts['threads']} threads); N={batch} T={frames}; backends {', '.join(backends)}"
        )
    timer = Timer(device, budget_s=budget)
    records: list[Record] = []
    for dtype_name in dtypes:
        for layer, layout in [(la, lo) for la in layers or list(RESNET50_SHAPES) for lo in layouts or LAYOUTS[:1]]:
            channels, side = RESNET50_SHAPES[layer]
            shape = (batch, frames, channels, side, side)
            new = bench_shape(timer, layer, shape, channels // 4, DTYPES[dtype_name], device, backends, layout)
            if verbose:
                print(format_table(new), flush=True)
            records += new
    return records


def run(args: argparse.Namespace) -> int:
    try:
        records = measure(
            args.device,
            args.dtype,
            args.layers,
            args.batch,
            args.num_segments,
            args.budget,
            verbose=True,
            layouts=args.layout,
        )
    except ValueError as exc:
        raise SystemExit(str(exc)) from None
    if args.json:
        payload = {
            "benchmark": "interlace_shift",
            "machine": machine_facts(torch.device(args.device)),
            "records": [r.to_json() for r in records],
        }
        atomic_write_text(args.json, json.dumps(payload, indent=1) + "\n")
        print(f"# wrote {args.json}")
    return 0
