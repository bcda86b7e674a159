"""The book and a full-size recipe end to end on a GPU, in one command (issue #21):

1. ``build``: the C++/CUDA interlace-shift extension (built once here, so no chapter pays for it).
2. The full-size route (``full_*`` steps): the embedded Something-v1-format data rendered at 224 px
   (``paperlib.data.synthetic.something``'s own planner and renderer, clips rendered in parallel, then the
   ``sthv1`` preparer); the Table 1 TIN-R50 recipe (``tin_r50_1x1x8_40e_sthv1``: 8 frames, 224 px crops, the paper's
   hyperparameters, batch 6 per GPU with the learning rate scaled linearly) from scratch (no ImageNet file on the
   machine) with AMP bf16 (+ channels-last) for a few hundred iterations; ``python -m paperlib.evaluate`` with
   1x1 and 3x2 views; the offsets chapter (papermill) on its checkpoint.
3. ``chapter_<name>``: every chapter of ``book/_toc.yml`` (``reproduce.chapters``) at the embedded scale with
   ``device=cuda``, through ``python -m reproduce --only NAME --force`` (papermill), each timed, in ``--lanes``
   lanes for the chapters that may run side by side (table1, mmit_single, theory: they time nothing and train
   into disjoint run folders), then the others alone in the book's order, within what is left of ``--budget``;
   chapters that do not fit are recorded as skipped (rerun them with ``--chapters NAME ...``).

Writes ``OUT/book_check.json`` (rewritten after every step: per-step exit status and seconds, per-chapter seconds,
the full-size run's training throughput and metrics for both view settings, the offsets summary, versions, which
optional packages were found), ``OUT/chapters.tar.gz`` (executed notebooks, the chapters' results and provenance
JSON, build.log: enough to build the HTML book elsewhere), ``OUT/full.tar.gz`` (the full-size run's config, logs,
metrics and executed offsets notebook), ``OUT/chapters.log`` and ``OUT/full.log``.

``--dry-run``: CPU, the smoke scale, the full-size route at 64 px on a few clips for one epoch (a check of the
script, not a measurement).

    python -m reproduce.gpu.gpu_book_check OUT [--dry-run]        (reproduce/gpu/gpu_book_check.sh wraps it)
"""

from __future__ import annotations

import argparse
import dataclasses
import importlib.util
import json
import os
import statistics
import subprocess
import sys
import tarfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:  # run as a file, too
    sys.path.insert(0, str(ROOT))

from reproduce.gpu.gpu_common import (  # noqa: E402
    SHIM,
    Report,
    deadline_after,
    exit_on_sigterm,
    kill_tree,
    open_folders,
    placeholder_av,
    provenance,
    tail,
)

RECIPE = "tin_r50_1x1x8_40e_sthv1"
# Chapters that may run side by side (--lanes > 1): they time nothing and write disjoint run folders of the run
# cache (table1/, mmit/). Every other chapter runs alone, after them, in the book's order: those time models or
# kernels (speed, interlace_shift, claims) or read the runs the first ones train (offsets, mmit_ensemble,
# model_zoo, claims), and a chapter not named here is treated the same way.
PARALLEL = ("table1", "mmit_single", "theory")
OPTIONAL = ("papermill", "nbclient", "ipykernel", "plotly", "decord", "av", "jupytext", "myst_nb")


# ---- the full-size data (a worker subprocess) ---------------------------------------------------------------


def worker_render(args) -> int:
    """The embedded Something set at ``args.size`` px (``paperlib.data.synthetic.something.write_something``: the
    planner, renderer, generator per clip and layout of ``make_something``, clips rendered by a process pool), then
    the sthv1 list files."""
    from paperlib.data.prepare import PREPARERS
    from paperlib.data.synthetic import something

    root = Path(args.root)
    scale = dataclasses.replace(
        something.SCALES["embedded"], size=args.size, num_train=args.num_train, num_val=args.num_val
    )
    started = time.perf_counter()
    clips, _ = something.write_something(root, scale, args.seed, processes=args.processes)
    frames = sum(c.num_frames for split_clips in something.plan(scale, args.seed).values() for c in split_clips)
    PREPARERS["sthv1"](root)
    info = {
        "root": str(root),
        "scale": dataclasses.asdict(scale),
        "seed": args.seed,
        "clips": clips,
        "frames": frames,
        "processes": args.processes,
        "seconds": round(time.perf_counter() - started, 1),
    }
    (root / "rendered.json").write_text(json.dumps(info, indent=1) + "\n")
    print(json.dumps(info))
    return 0


# ---- chapters -----------------------------------------------------------------------------------------------


def run_chapters(report: Report, args, names: list[str], results: Path, logs: Path, deadline: float) -> None:
    """``python -m reproduce --only NAME --force`` per chapter: first the :data:`PARALLEL` ones, ``args.lanes`` at a
    time, then the others one at a time, in the book's order; what has not started by ``deadline`` is skipped, what
    runs past it killed."""
    env = {**os.environ, "PAPERLIB_RESULTS": str(results)}
    logs.mkdir(parents=True, exist_ok=True)
    side_by_side = [n for n in names if n in PARALLEL] if args.lanes > 1 else []
    phases = [(side_by_side, args.lanes), ([n for n in names if n not in side_by_side], 1)]
    for phase, (pending, lanes) in enumerate(phases, 1):
        pending, running = list(pending), {}
        while pending or running:
            while pending and len(running) < lanes:
                name = pending.pop(0)
                if deadline - time.monotonic() < 5:
                    report.skip(f"chapter_{name}", f"out of budget: rerun with --chapters {name}")
                    continue
                command = [sys.executable, "-m", "reproduce", "--only", name, "--scale", args.scale]
                command += ["--device", args.device, "--force"]
                log = open(logs / f"{name}.log", "w")
                log.write(f"== chapter {name}: {' '.join(command)}\n")
                log.flush()
                proc = subprocess.Popen(
                    command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
                )
                running[name] = (proc, log, time.monotonic(), len(running) + 1)
                print(f"== chapter_{name}: started (phase {phase}, {len(running)} running)", flush=True)
            for name, (proc, log, started, concurrent) in list(running.items()):
                code, timed_out = proc.poll(), False
                if code is None and time.monotonic() > deadline:
                    kill_tree(proc.pid)
                    proc.wait()
                    code, timed_out = 124, True
                if code is None:
                    continue
                log.close()
                del running[name]
                seconds = round(time.monotonic() - started, 1)
                record = results / args.scale / "provenance" / f"{name}.json"
                executed = json.loads(record.read_text()).get("seconds") if code == 0 and record.is_file() else None
                report.record(
                    f"chapter_{name}",
                    code,
                    seconds,
                    f"chapters.log#{name}",
                    timed_out=timed_out,
                    papermill_seconds=executed,
                    phase=phase,
                    running_at_start=concurrent,
                )
                print(f"   chapter_{name}: exit {code} after {seconds} s", flush=True)
                for line in tail(logs / f"{name}.log", 3):
                    print(f"   | {line}", flush=True)
            time.sleep(0.2)


# ---- the driver ---------------------------------------------------------------------------------------------


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m reproduce.gpu.gpu_book_check", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("out", help="folder for book_check.json, the logs and the bundles")
    parser.add_argument("--dry-run", action="store_true", help="CPU, smoke scale, a tiny full-size route")
    parser.add_argument("--device", default=None, choices=["cpu", "cuda"], help="default: cuda (cpu with --dry-run)")
    parser.add_argument("--scale", default=None, choices=["smoke", "embedded"], help="default: embedded (smoke)")
    parser.add_argument("--chapters", nargs="*", default=None, help="default: every chapter of book/_toc.yml")
    parser.add_argument("--lanes", type=int, default=None, help="chapters run at once (default 3; 2 with --dry-run)")
    parser.add_argument("--budget", type=float, default=None, help="seconds for everything (default 540)")
    parser.add_argument("--skip-full", action="store_true", help="only the chapters")
    parser.add_argument("--skip-build", action="store_true")
    parser.add_argument("--full-size", type=int, default=None, help="frame side of the rendered data (default 224)")
    parser.add_argument("--full-train", type=int, default=None, help="training clips (default 600: 100 steps/epoch)")
    parser.add_argument("--full-val", type=int, default=None, help="validation clips (default 120)")
    parser.add_argument("--full-epochs", type=int, default=None, help="default 3 (300 iterations of batch 6)")
    parser.add_argument("--full-workers", type=int, default=None, help="data loader workers (default 8, 0 dry)")
    parser.add_argument("--no-channels-last", dest="channels_last", action="store_false")
    parser.add_argument("--offsets-videos", type=int, default=None, help="default 64")
    parser.add_argument("--work", default=None, help="scratch folder (default: a fresh one under /tmp)")
    parser.add_argument("--worker", choices=["render"], help=argparse.SUPPRESS)
    parser.add_argument("--root", help=argparse.SUPPRESS)
    parser.add_argument("--size", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--num-train", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--num-val", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--seed", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--processes", type=int, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    dry = args.dry_run
    defaults = dict(
        device="cpu" if dry else "cuda",
        scale="smoke" if dry else "embedded",
        lanes=2 if dry else 3,
        budget=900 if dry else 540,
        full_size=64 if dry else 224,
        full_train=24 if dry else 600,
        full_val=8 if dry else 120,
        full_epochs=1 if dry else 3,
        full_workers=0 if dry else 8,
        offsets_videos=8 if dry else 64,
        processes=2 if dry else max(1, (os.cpu_count() or 2) - 2),
    )
    for key, value in defaults.items():
        if getattr(args, key) is None:
            setattr(args, key, value)
    return args


def _available(name: str) -> str | None:
    """The installed version of a package (or "placeholder"/"found"), None when absent."""
    try:
        spec = importlib.util.find_spec(name)
    except (ImportError, ValueError):
        spec = None
    if spec is None:
        return None
    if spec.origin and Path(spec.origin).parts[-3] == SHIM:
        return "placeholder"
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(name)
    except PackageNotFoundError:
        return "found"


def _prepare_environment(work: Path) -> dict:
    """Unpack the carried MMIT data into the dataset cache; a placeholder ``av`` where PyAV is absent."""
    from paperlib.engine.config import DataConfig

    notes: dict = {}
    cache = Path(DataConfig().cache_dir).expanduser()
    for tar in sorted((ROOT / ".gpu_data").glob("*.tar")):
        cache.mkdir(parents=True, exist_ok=True)
        with tarfile.open(tar) as archive:
            names = {m.name.split("/")[0] for m in archive.getmembers()}
            if all((cache / n / "fingerprint.json").is_file() for n in names):
                notes[tar.name] = f"already in {cache}"
                continue
            archive.extractall(cache, filter="data")
        notes[tar.name] = f"unpacked into {cache}: {sorted(names)}"
    if placeholder_av(work):
        notes["av"] = "placeholder module (PyAV absent)"
    notes["packages"] = {name: _available(name) for name in OPTIONAL}
    return notes


def _bundle(target: Path, members: list[tuple[Path, str]]) -> list[str]:
    """A .tar.gz of the existing ``(path, name in archive)`` members; returns the names added."""
    added = []
    with tarfile.open(target, "w:gz") as tar:
        for path, name in members:
            if path.exists():
                tar.add(path, arcname=name)
                added.append(name)
    return added


def _json(path: Path) -> dict | None:
    try:
        return json.loads(path.read_text())
    except (OSError, json.JSONDecodeError):
        return None


def full_route(report: Report, args, work: Path, log: Path, deadline: float) -> dict:
    """Render, train, evaluate 1x1 and 3x2, offsets chapter; returns what the report keeps of it."""
    full = work / "full"
    data, run = full / "data", full / "tin_r50"
    info: dict = {"recipe": RECIPE}

    def left(cap: float) -> float:
        return min(cap, deadline - time.monotonic())

    render = [sys.executable, "-m", "reproduce.gpu.gpu_book_check", "-", "--worker=render", f"--root={data}"]
    render += [f"--size={args.full_size}", f"--num-train={args.full_train}", f"--num-val={args.full_val}"]
    render += [f"--processes={args.processes}"]
    if report.run("full_data", render, log, left(150)) != 0:
        return info
    info["data"] = _json(data / "rendered.json")
    overrides = [
        f"data.root={data}",
        "model.num_classes=null",  # the embedded data's 10 classes (the recipe says Something-v1's 174)
        "model.pretrained=none",  # no ImageNet file on the machine (nothing can be downloaded there)
        f"device={args.device}",
        "amp=bf16",
        f"channels_last={str(args.channels_last).lower()}",
        f"optim.epochs={args.full_epochs}",
        f"eval.every={args.full_epochs}",
        f"data.workers={args.full_workers}",
        "log_every=10",
        f"output_dir={run}",
    ]
    if args.dry_run:  # the recipe's 224 px crops (256 px test scale) make R50 on a CPU too slow for a dry run
        overrides += ["data.input_size=56", "data.scale_size=64"]
    info["overrides"] = overrides
    train = [sys.executable, "-m", "paperlib.train", "--config", RECIPE, *overrides]
    code = report.run("full_train", train, log, left(240))
    steps = [r for r in map(json.loads, _lines(run / "log.jsonl")) if r.get("event") == "step"]
    start = next((r for r in map(json.loads, _lines(run / "log.jsonl")) if r.get("event") == "start"), {})
    info["train"] = {
        "metrics": (_json(run / "metrics.json") or {}).get("metrics"),
        "steps_per_epoch": start.get("steps_per_epoch"),
        "global_batch": start.get("global_batch"),
        "lr": start.get("lr"),
        "steps_logged": len(steps),
        "clips_per_s_last": steps[-1]["clips_per_s"] if steps else None,
        "clips_per_s_median": statistics.median(r["clips_per_s"] for r in steps) if steps else None,
        "epoch_seconds": [
            r["seconds"] for r in map(json.loads, _lines(run / "log.jsonl")) if r.get("event") == "epoch"
        ],
    }
    report.data["full"] = info
    report.save()
    checkpoint = run / "last.pth"
    if code != 0 or not checkpoint.is_file():
        return info
    info["evaluate"] = {}
    for views in ("1x1", "3x2"):
        target = full / f"eval_{views}"
        command = [sys.executable, "-m", "paperlib.evaluate", "--checkpoint", str(checkpoint), "--views", views]
        command += ["--output", str(target), f"data.workers={args.full_workers}"]
        report.run(f"full_eval_{views}", command, log, left(120))
        record = _json(target / "metrics.json") or {}
        info["evaluate"][views] = {"metrics": record.get("metrics"), "views": record.get("views")}
        report.save()
    executed = full / "offsets.ipynb"
    command = [sys.executable, "-m", "papermill", str(ROOT / "notebooks" / "offsets.ipynb"), str(executed)]
    command += ["-k", "python3", "--cwd", str(ROOT / "notebooks"), "-p", "scale", "full"]
    command += ["-p", "checkpoints", str(checkpoint), "-p", "device", args.device]
    command += ["-p", "results_dir", str(full / "results"), "-p", "max_videos", str(args.offsets_videos)]
    report.run("full_offsets", command, log, left(150))
    offsets = _json(full / "results" / "notebooks" / "offsets.json") or {}
    keep = ("layers", "mean_abs_offset", "offset_depth_rank_corr", "end_frame_weight", "middle_frame_weight")
    info["offsets"] = {k: (offsets.get("results") or offsets).get(k) for k in keep}
    return info


def _lines(path: Path) -> list[str]:
    try:
        return [line for line in path.read_text().splitlines() if line.strip()]
    except OSError:
        return []


def summary_lines(data: dict) -> list[str]:
    steps = data["steps"]
    failed = [k for k, v in steps.items() if v.get("exit") not in (0, None)]
    skipped = [k for k, v in steps.items() if v.get("exit") is None]
    lines = [
        f"book check on {data.get('provenance', {}).get('machine', {}).get('device_name')}: {len(steps)} steps, "
        f"failed: {failed or 'none'}, skipped: {skipped or 'none'}"
    ]
    chapters = {k[len("chapter_") :]: v for k, v in steps.items() if k.startswith("chapter_")}
    if chapters:
        lines.append("  chapters (s): " + ", ".join(f"{k} {v.get('seconds', '-')}" for k, v in chapters.items()))
    full = data.get("full") or {}
    if full.get("train"):
        t = full["train"]
        lines.append(
            f"  full-size TIN-R50: {t.get('steps_logged')} logged steps, {t.get('clips_per_s_median')} clips/s, "
            f"metrics {t.get('metrics')}"
        )
    for views, result in (full.get("evaluate") or {}).items():
        lines.append(f"  evaluate {views}: {result.get('metrics')}")
    if full.get("offsets"):
        lines.append(f"  offsets: depth rank corr {full['offsets'].get('offset_depth_rank_corr')}")
    return lines


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    if args.worker == "render":
        return worker_render(args)
    from reproduce.chapters import CHAPTERS

    names = [c.name for c in CHAPTERS]
    chosen = names if args.chapters is None else args.chapters
    unknown = sorted(set(chosen) - set(names))
    if unknown:
        print(f"gpu_book_check: no chapter {unknown} (chapters: {', '.join(names)})", file=sys.stderr)
        return 2
    chosen = [n for n in names if n in chosen]  # the book's order
    folders = open_folders("gpu_book_check", args.device, args.out, args.work)
    if folders is None:
        return 2
    out, work = folders
    exit_on_sigterm()
    os.environ.setdefault("MPLBACKEND", "Agg")
    environment = _prepare_environment(work)
    report = Report(
        out / "book_check.json",
        check="book",
        issue=21,
        dry_run=args.dry_run,
        device=args.device,
        scale=args.scale,
        settings={k: v for k, v in vars(args).items() if k not in ("worker", "root", "out", "work")},
        environment=environment,
        provenance=provenance(args.device),
    )
    print(f"gpu_book_check: packages {environment['packages']}", flush=True)
    deadline = deadline_after(args.budget) - 15  # 15 s for the bundles
    if not args.skip_build:
        load = "load_cuda" if args.device == "cuda" else "load_cpu"
        code = f"from paperlib.ops import _extension; _extension.{load}(verbose=True); print('built')"
        report.run("build", [sys.executable, "-c", code], out / "chapters.log", min(300, deadline - time.monotonic()))
    if not args.skip_full:
        try:
            report.data["full"] = full_route(report, args, work, out / "full.log", deadline)
        except Exception as exc:  # noqa: BLE001  (recorded: the report must be written)
            report.data["full_error"] = f"{type(exc).__name__}: {exc}"
        report.save()
        full = work / "full"
        _bundle(
            out / "full.tar.gz",
            [
                (full / "data" / "rendered.json", "data/rendered.json"),
                (full / "tin_r50" / "config.yaml", "tin_r50/config.yaml"),
                (full / "tin_r50" / "log.jsonl", "tin_r50/log.jsonl"),
                (full / "tin_r50" / "metrics.json", "tin_r50/metrics.json"),
                (full / "eval_1x1" / "metrics.json", "eval_1x1/metrics.json"),
                (full / "eval_3x2" / "metrics.json", "eval_3x2/metrics.json"),
                (full / "offsets.ipynb", "offsets.ipynb"),
                (full / "results" / "notebooks" / "offsets.json", "offsets.json"),
            ],
        )
    results = work / "results"
    if chosen:
        run_chapters(report, args, chosen, results, work / "chapter_logs", deadline)
        with open(out / "chapters.log", "a") as log:
            for name in chosen:
                path = work / "chapter_logs" / f"{name}.log"
                if path.is_file():
                    log.write(f"\n#{name}\n{path.read_text(errors='replace')}")
        base = results / args.scale
        report.data["chapters_bundle"] = _bundle(
            out / "chapters.tar.gz",
            [(base / sub, f"{args.scale}/{sub}") for sub in ("executed", "notebooks", "provenance", "build.log")],
        )
        chapter_steps = [v for k, v in report.data["steps"].items() if k.startswith("chapter_")]
        report.data["chapters_seconds_sum"] = round(sum(v.get("seconds") or 0 for v in chapter_steps), 1)
    report.data["passed"] = report.passed()
    report.save()
    print("\n".join(summary_lines(report.data)))
    print(f"gpu_book_check: {'passed' if report.data['passed'] else 'FAILED'}; report: {report.path}")
    return 0 if report.data["passed"] else 1


if __name__ == "__main__":
    sys.exit(main())
