"""Training and inference of TIN, TSM, TSN and the 3D models on a GPU, in one command (issue #20):

1. ``build``: the C++/CUDA interlace-shift extension (``paperlib.ops._extension``); which backend TIN then runs.
2. ``timing``: one training step (SGD, forward + backward + update) and one inference pass of TSN, TSM and TIN
   (ResNet-50, 8x224x224, batch 8) in fp32, AMP bf16 and AMP bf16 + channels-last; and of the temporal-convolution
   baseline, I3D, SlowFast (4x16) and R(2+1)D at their papers' clips (``paperlib.bench.models.MODELS``) in AMP
   bf16. Each figure is the median over interleaved rounds (every model once per round) after warm-up calls;
   TIN/TSM and TIN/TSN ratios are taken within the run.
3. ``resume``: the smoke recipe under ``python -m paperlib.launch --standalone --nproc_per_node=1`` (torchrun;
   NCCL on a GPU, gloo on CPU) with AMP bf16, a few hundred steps with mid-epoch checkpoints: an uninterrupted
   reference; a run whose whole process group is SIGKILLed mid-epoch, then relaunched with ``--resume``; a run
   whose worker alone is SIGKILLed, restarted by torchrun (``--max-restarts=1``) and resuming by itself. Both must
   end with the reference's metrics and scores (compared exactly; deterministic algorithms on).
4. ``compile`` (last: the least predictable in time): ``torch._dynamo.explain`` of TIN (graph breaks, training
   and inference), then ``torch.compile(fullgraph=True)`` of TIN and TSM (bf16 + channels-last): compile time, step
   times beside the eager ones measured in the same process, the speed-up, compiled vs eager outputs.

Writes ``OUT/train_check.json`` (rewritten after every step: per-step exit status, versions of torch/CUDA/cuDNN/
NCCL/driver, every timing record, ratios, the compile and resume results) and one log per step
(``OUT/{build,timing,resume,compile}.log``). Every step stops at the end of ``--budget`` seconds (a step that
does not fit is recorded as skipped). ``--dry-run``: the same steps on CPU with small models, clips and
step counts (a check of the script, not a measurement).

    python -m reproduce.gpu.gpu_train_check OUT [--dry-run]        (reproduce/gpu/gpu_train_check.sh wraps it)
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:  # run as a file, too
    sys.path.insert(0, str(ROOT))

from reproduce.gpu.gpu_common import (  # noqa: E402
    Report,
    deadline_after,
    descendants,
    exit_on_sigterm,
    kill_tree,
    open_folders,
    placeholder_av,
    provenance,
    write_json,
)

TWO_D = ("tsn_r50", "tsm_r50", "tin_r50")
THREE_D = ("tconv_r50", "i3d_r50", "slowfast_r50", "r2plus1d_18")
# precision name -> (autocast dtype name or None, channels-last)
PRECISIONS = {"fp32": (None, False), "bf16": ("bf16", False), "bf16_cl": ("bf16", True)}
COMPILED = "bf16_cl_compile"
CLASSES = 174
SMALL = {"width": 16, "depths": [1, 1, 1, 1]}  # --dry-run's models

# Step time limits in seconds, in the order the steps run (estimates for an H200: build ~1-2 min of nvcc, timing
# ~1 min (26 configurations x 23 calls), resume ~1.5-2 min (4 launches of ~300 steps), compile ~2-3 min (4 inductor
# compilations: the least predictable, so last). Each step also stops at the end of --budget (default 560 s).
LIMITS = {"build": 300, "timing": 240, "resume": 240, "compile": 360}


# ---- the timing worker (a subprocess of the driver) --------------------------------------------------------


def _clip(name: str, size_div: int) -> tuple[dict, tuple[int, int, int, int]]:
    from paperlib.bench.models import MODELS

    options, (c, t, h, w) = MODELS[name]
    return dict(options), (c, t, h // size_div, w // size_div)


def _build_model(name: str, clip, options: dict, small: bool, device, channels_last: bool):
    import torch

    from paperlib.models import create

    torch.manual_seed(0)
    model = create(name, CLASSES, clip[1], **options, **(SMALL if small else {})).to(device)
    if channels_last:
        model = model.to(memory_format=torch.channels_last)
    return model


def _steps(model, clip, batch: int, device, amp: str | None, forward=None):
    """(training step, inference pass) closures for ``model`` on random clips (``forward``: a compiled model)."""
    import torch
    from torch import nn

    forward = model if forward is None else forward
    dtype = {"bf16": torch.bfloat16, None: None}[amp]
    videos = torch.randn(batch, *clip, device=device)
    target = torch.randint(0, CLASSES, (batch,), device=device)
    optimizer = torch.optim.SGD(model.parameters(), lr=1e-4, momentum=0.9)

    def train():
        model.train()
        with torch.autocast(device.type, dtype=dtype, enabled=dtype is not None):
            loss = nn.functional.cross_entropy(forward(videos).float(), target)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()

    def infer():
        model.eval()
        with torch.no_grad(), torch.autocast(device.type, dtype=dtype, enabled=dtype is not None):
            return forward(videos)

    return {"train": train, "inference": infer}


def _time_calls(fn, reps: int, device) -> list[float]:
    import torch

    times = []
    for _ in range(reps):
        if device.type == "cuda":
            start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
            start.record()
            fn()
            end.record()
            end.synchronize()
            times.append(start.elapsed_time(end) / 1e3)
        else:
            t0 = time.perf_counter()
            fn()
            times.append(time.perf_counter() - t0)
    return times


def _sync(device) -> None:
    import torch

    if device.type == "cuda":
        torch.cuda.synchronize(device)


def _measure_group(entries: dict, device, rounds: int, reps: int, warmup: int) -> dict:
    """``entries``: key -> {"train": fn, "inference": fn}. Warm-up, then ``rounds`` interleaved rounds of ``reps``
    calls each; key -> kind -> seconds of every timed call, and the first call's seconds (compilation, autotuning)."""
    times: dict = {key: {kind: [] for kind in fns} for key, fns in entries.items()}
    first: dict = {key: {} for key in entries}
    for key, fns in entries.items():
        for kind, fn in fns.items():
            _sync(device)
            t0 = time.perf_counter()
            fn()
            _sync(device)
            first[key][kind] = time.perf_counter() - t0
            for _ in range(warmup - 1):
                fn()
            _sync(device)
    for _ in range(rounds):
        for key, fns in entries.items():
            for kind, fn in fns.items():
                times[key][kind] += _time_calls(fn, reps, device)
    return {"times": times, "first_call_s": first}


def _records(result: dict, meta: dict, batch: int) -> list[dict]:
    rows = []
    for key, kinds in result["times"].items():
        for kind, values in kinds.items():
            values = sorted(values)
            median = statistics.median(values)
            rows.append(
                {
                    **meta[key],
                    "kind": kind,
                    "batch": batch,
                    "median_s": median,
                    "p10_s": values[len(values) // 10],
                    "p90_s": values[(len(values) * 9) // 10],
                    "calls": len(values),
                    "clips_per_s": batch / median,
                    "first_call_s": result["first_call_s"][key][kind],
                }
            )
    return rows


def _ratio_table(records: list[dict]) -> dict:
    """Per precision and kind: TIN / TSM and TIN / TSN median times (same run)."""
    by = {(r["precision"], r["kind"], r["model"]): r["median_s"] for r in records}
    out: dict = {}
    for precision, kind, model in by:
        if model != "tin_r50":
            continue
        for other, label in (("tsm_r50", "TIN / TSM"), ("tsn_r50", "TIN / TSN")):
            if (precision, kind, other) in by:
                out.setdefault(precision, {}).setdefault(kind, {})[label] = (
                    by[precision, kind, "tin_r50"] / by[precision, kind, other]
                )
    return out


def worker_timing(args) -> int:
    """Eager timings of every model and precision; writes ``args.json`` after each group."""
    import torch

    from paperlib.ops.interlace import resolve_backend

    device = torch.device(args.device)
    torch.backends.cudnn.benchmark = args.cudnn_benchmark
    size_div = args.size_div
    payload: dict = {
        "settings": {
            "batch": args.batch,
            "rounds": args.rounds,
            "reps": args.reps,
            "warmup": args.warmup,
            "cudnn_benchmark": args.cudnn_benchmark,
            "cudnn_allow_tf32": torch.backends.cudnn.allow_tf32,
            "matmul_allow_tf32": torch.backends.cuda.matmul.allow_tf32,
            "small_models": args.small,
            "size_div": size_div,
            "tin_backend": resolve_backend("auto", device),
        },
        "records": [],
    }
    groups = [(p, TWO_D) for p in PRECISIONS] + [("bf16", THREE_D)]
    for precision, names in groups:
        amp, channels_last = PRECISIONS[precision]
        entries, meta = {}, {}
        for name in names:
            options, clip = _clip(name, size_div)
            model = _build_model(name, clip, options, args.small, device, channels_last)
            entries[name] = _steps(model, clip, args.batch, device, amp)
            meta[name] = {"model": name, "precision": precision, "options": options, "clip": list(clip)}
        if device.type == "cuda":
            torch.cuda.reset_peak_memory_stats(device)
        started = time.perf_counter()
        result = _measure_group(entries, device, args.rounds, args.reps, args.warmup)
        rows = _records(result, meta, args.batch)
        payload["records"] += rows
        payload["ratios"] = _ratio_table(payload["records"])
        write_json(Path(args.json), payload)
        print(
            f"{precision:8} {'/'.join(names)}: "
            + ", ".join(f"{r['model']} {r['kind']} {r['median_s'] * 1e3:.1f} ms" for r in rows)
            + f" ({time.perf_counter() - started:.0f} s)",
            flush=True,
        )
        del entries
        if device.type == "cuda":
            torch.cuda.empty_cache()
    return 0


def _explain(model, video, dtype, device, train: bool) -> dict:
    import torch

    torch._dynamo.reset()
    model.train(train)
    with torch.autocast(device.type, dtype=dtype), torch.set_grad_enabled(train):
        explained = torch._dynamo.explain(model)(video)
    return {
        "graph_count": explained.graph_count,
        "graph_break_count": explained.graph_break_count,
        "break_reasons": [str(reason)[:500] for reason in explained.break_reasons],
        "op_count": explained.op_count,
    }


def worker_compile(args) -> int:
    """Graph breaks of TIN, then compiled vs eager (bf16 + channels-last) of ``args.compile_models``."""
    import torch

    device = torch.device(args.device)
    torch.backends.cudnn.benchmark = args.cudnn_benchmark
    dtype = torch.bfloat16
    payload: dict = {"settings": {"mode": args.compile_mode, "models": args.compile_models}, "explain": {}}
    options, clip = _clip("tin_r50", args.size_div)
    tin = _build_model("tin_r50", clip, options, args.small, device, True)
    video = torch.randn(args.batch, *clip, device=device)
    for kind, train in (("train", True), ("inference", False)):
        try:
            payload["explain"][kind] = _explain(tin, video, dtype, device, train)
        except Exception as exc:  # noqa: BLE001  (recorded; the compile below says more)
            payload["explain"][kind] = {"error": f"{type(exc).__name__}: {exc}"[:2000]}
        print(f"explain tin_r50 {kind}: {payload['explain'][kind]}", flush=True)
        write_json(Path(args.json), payload)
    torch._dynamo.reset()
    del tin
    entries, meta, compiled = {}, {}, {}
    for name in args.compile_models:
        options, clip = _clip(name, args.size_div)
        for precision in ("bf16_cl", COMPILED):
            model = _build_model(name, clip, options, args.small, device, True)
            forward = None
            if precision == COMPILED:
                forward = torch.compile(model, fullgraph=True, mode=args.compile_mode)
                compiled[name] = (model, forward, clip)
            entries[(name, precision)] = _steps(model, clip, args.batch, device, "bf16", forward)
            meta[(name, precision)] = {"model": name, "precision": precision, "options": options, "clip": list(clip)}
    try:
        result = _measure_group(entries, device, args.rounds, args.reps, args.warmup)
    except Exception as exc:
        payload["error"] = f"{type(exc).__name__}: {exc}"[:4000]
        write_json(Path(args.json), payload)
        raise
    rows = _records(result, meta, args.batch)
    payload["records"] = rows
    by = {(r["model"], r["precision"], r["kind"]): r for r in rows}
    payload["speedup"] = {
        name: {
            kind: by[name, "bf16_cl", kind]["median_s"] / by[name, COMPILED, kind]["median_s"]
            for kind in ("train", "inference")
        }
        for name in args.compile_models
    }
    payload["compile_s"] = {
        name: {kind: by[name, COMPILED, kind]["first_call_s"] for kind in ("train", "inference")}
        for name in args.compile_models
    }
    payload["ratios"] = _ratio_table(rows)
    agreement = {}
    for name, (model, forward, clip) in compiled.items():  # same weights: compiled vs eager inference outputs
        x = torch.randn(args.batch, *clip, device=device)
        model.eval()
        with torch.no_grad(), torch.autocast(device.type, dtype=dtype):
            a, b = model(x).float(), forward(x).float()
        agreement[name] = {"max_abs_diff": (a - b).abs().max().item(), "max_abs": a.abs().max().item()}
    payload["compiled_vs_eager"] = agreement
    write_json(Path(args.json), payload)
    for r in rows:
        print(f"{r['model']:8} {r['precision']:16} {r['kind']:9} {r['median_s'] * 1e3:8.2f} ms", flush=True)
    print(f"speed-up of torch.compile: {payload['speedup']}", flush=True)
    return 0


# ---- the kill-and-resume check -----------------------------------------------------------------------------


def _launch(overrides: list[str], out: Path, extra: list[str] = (), launcher: list[str] = ()) -> list[str]:
    return [
        sys.executable,
        "-m",
        "paperlib.launch",
        "--standalone",
        "--nproc_per_node=1",
        *launcher,
        "-m",
        "paperlib.train",
        "--config",
        "smoke",
        *overrides,
        f"output_dir={out}",
        *extra,
    ]


def _steps_logged(out: Path) -> list[dict]:
    try:
        lines = (out / "log.jsonl").read_text().splitlines()
    except OSError:
        return []
    records = []
    for line in lines:
        try:
            records.append(json.loads(line))
        except json.JSONDecodeError:  # a line being written
            pass
    return records


def _worker_pid(agent: int) -> int | None:
    """The training worker under a torchrun agent: the descendant running paperlib.train."""
    for pid in descendants(agent):
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                if b"paperlib.train" in f.read():
                    return pid
        except OSError:
            continue
    return None


def _kill_mid_epoch(command, out: Path, log, env, at_step: int, target: str, timeout: float) -> dict:
    """Start ``command``; once global step ``at_step`` is logged, SIGKILL the process group (``target="group"``)
    or the training worker alone (``"worker"``), then wait for the process to end."""
    proc = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    deadline = time.monotonic() + timeout
    killed, at = None, None
    while time.monotonic() < deadline and proc.poll() is None:
        steps = [r for r in _steps_logged(out) if r.get("event") == "step"]
        if steps and steps[-1]["step"] >= at_step:
            at = steps[-1]["step"]
            if target == "group":  # the agent and its workers (in sessions of their own): all of it
                killed = [proc.pid, *kill_tree(proc.pid)]
            else:
                worker = _worker_pid(proc.pid)
                if worker is not None:
                    os.kill(worker, signal.SIGKILL)
                    killed = [worker]
            break
        time.sleep(0.02)
    try:
        code = proc.wait(timeout=max(1.0, deadline - time.monotonic()))
    except subprocess.TimeoutExpired:
        kill_tree(proc.pid)
        code = proc.wait()
    return {"killed_pids": killed, "killed_at_step": at, "exit": code}


def _compare(reference: Path, other: Path) -> dict:
    import numpy as np

    try:
        a = json.loads((reference / "metrics.json").read_text())["metrics"]
        b = json.loads((other / "metrics.json").read_text())["metrics"]
        sa, sb = np.load(reference / "scores.npz")["scores"], np.load(other / "scores.npz")["scores"]
    except (OSError, KeyError, ValueError) as exc:
        return {"same": False, "error": f"{type(exc).__name__}: {exc}"}
    diff = float(np.abs(sa - sb).max()) if sa.shape == sb.shape else None
    return {
        "same": a == b and diff == 0.0,
        "metrics_equal": a == b,
        "scores_max_abs_diff": diff,
        "reference": a,
        "resumed": b,
    }


def check_resume(args, work: Path, log_path: Path, deadline: float) -> dict:
    """Reference, group-killed + ``--resume``, worker-killed + elastic restart; compare (see the module doc).
    Each launch may take ``args.resume_run_timeout`` seconds, and none runs past ``deadline``."""

    def limit() -> float:
        return max(1.0, min(args.resume_run_timeout, deadline - time.monotonic()))

    cuda = args.device == "cuda"
    overrides = [
        f"device={args.device}",
        "amp=bf16",
        f"optim.batch_size={args.resume_batch}",
        f"optim.epochs={args.resume_epochs}",
        f"checkpoint_every={args.checkpoint_every}",
        f"eval.every={max(1, args.resume_epochs // 4)}",
        "log_every=1",
        "deterministic=true",
        f"data.cache_dir={work / 'datasets'}",
        "data.workers=0",
    ]
    # cuBLAS is deterministic only with a fixed workspace (torch raises otherwise under deterministic=true)
    env = {
        **os.environ,
        "CUBLAS_WORKSPACE_CONFIG": ":4096:8",
        "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS", "4"),
    }
    result: dict = {
        "backend": "nccl" if cuda else "gloo",
        "overrides": overrides,
    }
    started = time.monotonic()
    with open(log_path, "a") as log:

        def run(name, command):
            timeout = limit()
            log.write(f"\n== resume/{name}: {' '.join(command)}\n")
            log.flush()
            t0 = time.monotonic()
            try:
                code = subprocess.run(
                    command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, timeout=timeout
                ).returncode
            except subprocess.TimeoutExpired:
                code = 124
            result[name] = {"exit": code, "seconds": round(time.monotonic() - t0, 1)}
            print(f"   resume/{name}: exit {code} ({result[name]['seconds']} s)", flush=True)
            return code

        reference = work / "reference"
        if run("reference", _launch(overrides, reference)) != 0:
            if "does not have a deterministic implementation" not in log_path.read_text(errors="replace"):
                result["passed"] = False
                return result
            # an op without a deterministic CUDA kernel: recorded, and the check goes on without the guarantee
            result["deterministic_error"] = [
                line for line in log_path.read_text(errors="replace").splitlines() if "deterministic" in line
            ][-1][:1000]
            overrides[overrides.index("deterministic=true")] = "deterministic=false"
            reference = work / "reference_nondeterministic"
            if run("reference", _launch(overrides, reference)) != 0:
                result["passed"] = False
                return result
        logged = _steps_logged(reference)
        result["reference"]["steps_logged"] = sum(1 for r in logged if r.get("event") == "step")
        spe = next(r["steps_per_epoch"] for r in logged if r.get("event") == "start")
        # mid-epoch, past at least one mid-epoch checkpoint: the epoch ~60 % through the run, iteration
        # checkpoint_every + 1 of it
        kill_epoch = max(1, (args.resume_epochs * 3) // 5)
        at_step = kill_epoch * spe + min(spe - 1, args.checkpoint_every + 1)
        result.update(steps_per_epoch=spe, total_steps=spe * args.resume_epochs, kill_at_step=at_step)
        # 1. the whole torchrun process group SIGKILLed mid-epoch, then relaunched with --resume
        group = work / "killed_group"
        log.write(f"\n== resume/killed_group: {' '.join(_launch(overrides, group))}\n")
        log.flush()
        kill = _kill_mid_epoch(_launch(overrides, group), group, log, env, at_step, "group", limit())
        result["killed_group"] = kill
        print(f"   resume/killed_group: {kill}", flush=True)
        run("resumed_group", _launch(overrides, group, ["--resume"]))
        starts = [r for r in _steps_logged(group) if r.get("event") == "start"]
        result["killed_group"]["starts"] = [(r["start_epoch"], r["start_iteration"]) for r in starts]
        result["killed_group"]["compare"] = _compare(reference, group)
        # 2. the worker alone SIGKILLed: torchrun restarts it, and it resumes by itself (TORCHELASTIC_RESTART_COUNT)
        worker = work / "killed_worker"
        command = _launch(overrides, worker, launcher=["--max-restarts=1", "--monitor-interval=0.5"])
        log.write(f"\n== resume/killed_worker: {' '.join(command)}\n")
        log.flush()
        kill = _kill_mid_epoch(command, worker, log, env, at_step, "worker", limit())
        starts = [r for r in _steps_logged(worker) if r.get("event") == "start"]
        kill["starts"] = [(r["start_epoch"], r["start_iteration"]) for r in starts]
        kill["compare"] = _compare(reference, worker)
        result["killed_worker"] = kill
        print(f"   resume/killed_worker: {kill}", flush=True)
    for name in ("killed_group", "killed_worker"):
        entry = result[name]
        # resumed from a mid-epoch checkpoint (a run that went on to its end would "resume" at its last epoch)
        entry["mid_epoch_resume"] = any(iteration for _, iteration in entry.get("starts", [])[1:])
        entry["passed"] = bool(entry["compare"].get("same") and entry["mid_epoch_resume"])
    result["passed"] = result["killed_group"]["passed"] and result["killed_worker"]["passed"]
    result["seconds"] = round(time.monotonic() - started, 1)
    return result


# ---- the driver --------------------------------------------------------------------------------------------


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m reproduce.gpu.gpu_train_check", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("out", help="folder for train_check.json and the logs")
    parser.add_argument("--dry-run", action="store_true", help="CPU, small models and clips, few steps")
    parser.add_argument("--device", default=None, choices=["cpu", "cuda"], help="default: cuda (cpu with --dry-run)")
    parser.add_argument("--steps", nargs="+", default=list(LIMITS), help="default: build timing resume compile")
    parser.add_argument("--budget", type=float, default=None, help="seconds for all steps (default 560; 1200 dry)")
    parser.add_argument("--work", default=None, help="scratch folder (default: a fresh one under /tmp)")
    parser.add_argument("--batch", type=int, default=None, help="clips per step (default 8; 2 with --dry-run)")
    parser.add_argument("--rounds", type=int, default=None, help="interleaved timing rounds (default 4)")
    parser.add_argument("--reps", type=int, default=None, help="timed calls per model and round (default 5)")
    parser.add_argument("--warmup", type=int, default=None, help="untimed calls before timing (default 3)")
    parser.add_argument("--compile-models", nargs="+", default=None, help="default: tin_r50 tsm_r50")
    parser.add_argument("--compile-mode", default=None, help="torch.compile mode (default: inductor's default)")
    parser.add_argument("--no-cudnn-benchmark", dest="cudnn_benchmark", action="store_false")
    parser.add_argument("--resume-epochs", type=int, default=None, help="default 20 (300 steps); 3 with --dry-run")
    parser.add_argument("--resume-batch", type=int, default=None, help="default 2 (15 steps per epoch)")
    parser.add_argument("--checkpoint-every", type=int, default=4)
    parser.add_argument("--resume-run-timeout", type=float, default=None)
    parser.add_argument("--worker", choices=["timing", "compile"], help=argparse.SUPPRESS)
    parser.add_argument("--json", help=argparse.SUPPRESS)
    parser.add_argument("--small", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--size-div", type=int, default=1, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    dry = args.dry_run
    args.device = args.device or ("cpu" if dry else "cuda")
    defaults = dict(
        batch=2 if dry else 8,
        rounds=2 if dry else 4,
        reps=2 if dry else 5,
        warmup=1 if dry else 3,
        compile_models=["tin_r50"] if dry else ["tin_r50", "tsm_r50"],
        resume_epochs=3 if dry else 20,
        resume_batch=4 if dry else 2,
        resume_run_timeout=240 if dry else 120,
        budget=1200 if dry else 560,
    )
    for key, value in defaults.items():
        if getattr(args, key) is None:
            setattr(args, key, value)
    if dry and not args.worker:
        args.small, args.size_div = True, 7  # 224 -> 32, R(2+1)D's 112 -> 16
    unknown = set(args.steps) - set(LIMITS)
    if unknown:
        parser.error(f"unknown step(s) {sorted(unknown)}; steps: {', '.join(LIMITS)}")
    return args


def _worker_command(args, kind: str, json_path: Path) -> list[str]:
    command = [
        sys.executable,
        "-m",
        "reproduce.gpu.gpu_train_check",
        args.out,
        f"--worker={kind}",
        f"--json={json_path}",
    ]
    command += [f"--device={args.device}", f"--batch={args.batch}", f"--rounds={args.rounds}", f"--reps={args.reps}"]
    command += [f"--warmup={args.warmup}", f"--size-div={args.size_div}", "--compile-models", *args.compile_models]
    command += ["--small"] if args.small else []
    command += [] if args.cudnn_benchmark else ["--no-cudnn-benchmark"]
    command += [f"--compile-mode={args.compile_mode}"] if args.compile_mode else []
    return command


def _read(path: Path) -> dict | None:
    try:
        return json.loads(path.read_text())
    except (OSError, json.JSONDecodeError):
        return None


def summary_lines(data: dict) -> list[str]:
    lines = [f"train check on {data.get('provenance', {}).get('machine', {}).get('device_name')}: "]
    lines[0] += ", ".join(f"{k} {v.get('exit')}" for k, v in data["steps"].items())
    timing = data.get("timing") or {}
    for precision, kinds in (timing.get("ratios") or {}).items():
        lines.append(
            f"  {precision:16} "
            + "; ".join(f"{kind}: " + ", ".join(f"{k} {v:.3f}" for k, v in r.items()) for kind, r in kinds.items())
        )
    compiled = data.get("compile") or {}
    if compiled.get("explain"):
        breaks = {k: v.get("graph_break_count", v.get("error")) for k, v in compiled["explain"].items()}
        lines.append(f"  TIN graph breaks: {breaks}")
    for precision, kinds in (compiled.get("ratios") or {}).items():
        if precision == COMPILED:
            lines.append(f"  {precision:16} " + "; ".join(f"{k}: {v}" for k, v in kinds.items()))
    if compiled.get("speedup"):
        lines.append(f"  torch.compile speed-up: {compiled['speedup']}")
    resume = data.get("resume") or {}
    if "passed" in resume:
        lines.append(
            f"  kill-and-resume ({resume.get('backend')}): "
            + ", ".join(f"{k} {resume.get(k, {}).get('passed')}" for k in ("killed_group", "killed_worker"))
        )
    return lines


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    if args.worker == "timing":
        return worker_timing(args)
    if args.worker == "compile":
        return worker_compile(args)
    folders = open_folders("gpu_train_check", args.device, args.out, args.work)
    if folders is None:
        return 2
    out, work = folders
    exit_on_sigterm()
    av = "placeholder module (PyAV absent)" if placeholder_av(work) else "installed"  # the smoke data needs it
    report = Report(
        out / "train_check.json",
        check="train",
        av=av,
        issue=20,
        dry_run=args.dry_run,
        device=args.device,
        settings={k: v for k, v in vars(args).items() if k not in ("worker", "json", "out", "work")},
        provenance=provenance(args.device),
    )
    scale = 1.0 if args.device == "cuda" else 3.0  # CPU dry runs are slower per step
    deadline = deadline_after(args.budget)

    def limit(step: str) -> float:
        return min(LIMITS[step] * scale, deadline - time.monotonic())

    for step in (s for s in LIMITS if s in args.steps):  # build, timing, resume, compile
        if limit(step) < 10:
            report.skip(step, f"out of budget ({args.budget:.0f} s): rerun with --steps {step}")
        elif step == "build":
            load = "load_cuda" if args.device == "cuda" else "load_cpu"
            code = (
                "from paperlib.ops import _extension, interlace; import torch; "
                f"_extension.{load}(verbose=True); "
                f"print('backend for {args.device}:', interlace.resolve_backend('auto', torch.device('{args.device}')))"
            )
            report.run("build", [sys.executable, "-c", code], out / "build.log", limit(step))
        elif step in ("timing", "compile"):
            json_path = work / f"{step}.json"
            report.run(step, _worker_command(args, step, json_path), out / f"{step}.log", limit(step))
            report.data[step] = _read(json_path)  # whatever the worker wrote, also when it failed part-way
            report.save()
        elif step == "resume":
            t0 = time.monotonic()
            try:
                result = check_resume(args, work / "resume", out / "resume.log", time.monotonic() + limit(step))
                code = 0 if result.get("passed") else 1
            except Exception as exc:  # noqa: BLE001  (recorded: the report must be written)
                result, code = {"error": f"{type(exc).__name__}: {exc}"}, 1
            report.data["resume"] = result
            report.record("resume", code, round(time.monotonic() - t0, 1), "resume.log")
    report.data["passed"] = report.passed()
    report.save()
    print("\n".join(summary_lines(report.data)))
    print(f"gpu_train_check: {'passed' if report.data['passed'] else 'FAILED'}; report: {report.path}")
    return 0 if report.data["passed"] else 1


if __name__ == "__main__":
    sys.exit(main())
