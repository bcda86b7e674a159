"""``python -m reproduce [--scale embedded|smoke|long|full] [--data-root DIR] [--checkpoints DIR] [--device D]``.

Builds the book at a scale: sets ``PAPERLIB_SCALE`` (and the data, checkpoints and device the chapters read
when their parameters are left at their defaults) and runs ``jupyter-book build --all -W -n book/``, which
executes every chapter (``book/chapters`` is the ``notebooks/`` folder). Training runs and evaluations are
cached by a hash of their inputs under ``results/<scale>/``, so an unchanged rebuild retrains nothing. A
chapter that fails makes the build fail, naming it.

``--only NAME`` runs one chapter with papermill and ``--no-book`` every chapter (executed notebooks in
``results/<scale>/executed/``, each reused while its inputs are unchanged), without building the book.

Every build first times a fixed reference workload (``python -m paperlib.bench calibrate``) and keeps it with the
build's times in ``results/<scale>/build_times.json``, the build's time also as a multiple of it, so builds on
two machines compare. ``--record FILE`` writes the per-run numbers of the build in ``results/<scale>/`` to FILE
(``benchmarks/results/embedded_runs.json`` is the committed one) and ``--verify FILE`` compares the build with
FILE, printing every run that differs (exit status 1 if any); neither builds anything.

``--scale full --trial`` is the trial of the full route (:mod:`paperlib.experiments.trial`): every chapter's paper
recipes at full size with a few iterations per run and a handful of videos per evaluation, on the embedded sets
rendered at full size (or the data given), into ``results/full-trial/`` and a book in ``_build/full-trial/`` with a
banner on every page. Run it before the real run: minutes on a CPU.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"


def run_chapter(chapter, parameters: dict, results: Path, force: bool = False) -> dict:
    """Execute one notebook (or reuse its cached execution); returns its provenance record."""
    import papermill
    from papermill.exceptions import PapermillExecutionError

    from paperlib.experiments import input_key
    from paperlib.experiments.folders import file_digest
    from paperlib.utils import atomic_write_text

    source = NOTEBOOKS / f"{chapter.name}.ipynb"
    environment = {k: v for k, v in os.environ.items() if k.startswith("PAPERLIB_")}  # what the chapters read
    key = input_key(notebook=file_digest(source), parameters=parameters, environment=environment)
    record_path = results / "provenance" / f"{chapter.name}.json"
    executed = results / "executed" / f"{chapter.name}.ipynb"
    if not force and executed.exists() and record_path.exists() and json.loads(record_path.read_text())["key"] == key:
        print(f"reproduce: {chapter.name}: unchanged, reusing {executed}")
        return json.loads(record_path.read_text())
    print(f"reproduce: {chapter.name}: running ...", flush=True)
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        output = Path(tmp) / f"{chapter.name}.ipynb"
        try:
            papermill.execute_notebook(
                str(source),
                str(output),
                parameters=parameters,
                cwd=str(NOTEBOOKS),
                kernel_name="python3",
                progress_bar=False,
            )
        except PapermillExecutionError as exc:
            raise SystemExit(
                f"reproduce: notebook {chapter.name} failed in cell {exc.exec_count}: "
                f"{exc.ename}: {exc.evalue}\n(previous results in {results} are unchanged)"
            ) from None
        executed.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(str(output), executed)
    from paperlib.engine.provenance import git_commit

    record = {
        "chapter": chapter.name,
        "title": chapter.title,
        "key": key,
        "parameters": parameters,
        "commit": git_commit(),
        "seconds": round(time.perf_counter() - started, 1),
        "finished": time.strftime("%Y-%m-%d %H:%M:%S"),
        "results_file": f"notebooks/{chapter.name}.json",
    }
    atomic_write_text(record_path, json.dumps(record, indent=1) + "\n")
    return record


def main(argv: list[str] | None = None) -> int:
    from .chapters import CHAPTERS

    parser = argparse.ArgumentParser(prog="python -m reproduce", description=__doc__)
    parser.add_argument(
        "--scale",
        "--profile",
        dest="scale",
        default=os.environ.get("PAPERLIB_SCALE", "embedded"),
        choices=["smoke", "embedded", "long", "full"],
        help="smoke (minutes), embedded (the default book, about 30 min on 2 cores), long (the embedded data with "
        "deeper models, longer schedules and more seeds: decides the claims the embedded build cannot; hours on "
        "2 cores), full (the real datasets)",
    )
    parser.add_argument("--data-root", default=None, help="the real dataset (scale full): Something-Something v1")
    parser.add_argument("--mmit-root", default=None, help="scale full: the prepared Multi-Moments in Time")
    parser.add_argument(
        "--trial",
        action="store_true",
        help="with --scale full: the full route end to end with a few iterations per run and a handful of videos, "
        "on the embedded sets rendered at full size unless --data-root/--mmit-root are given, and a random "
        "ResNet-50 unless --imagenet is given; results in results/full-trial/, the book in _build/full-trial/ "
        "(minutes on a CPU: run it before the real run)",
    )
    parser.add_argument("--checkpoints", default=None, help="evaluate these checkpoints instead of training")
    parser.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda"])
    parser.add_argument(
        "--imagenet",
        default=None,
        help="scale full, training: the folder holding torchvision's ImageNet weights the recipes start from "
        "(resnet50-0676ba61.pth); nothing is downloaded",
    )
    parser.add_argument("--only", default=None, help="run this chapter alone with papermill (no book)")
    parser.add_argument("--force", action="store_true", help="with --only/--no-book: ignore cached executions")
    parser.add_argument("--no-book", action="store_true", help="run every chapter with papermill, build no book")
    parser.add_argument(
        "--record",
        metavar="FILE",
        default=None,
        help="write the per-run numbers of the build in results/<scale>/ to FILE (JSON; the committed one is "
        "benchmarks/results/embedded_runs.json); builds nothing",
    )
    parser.add_argument(
        "--verify",
        metavar="FILE",
        default=None,
        help="compare the build in results/<scale>/ with the per-run numbers in FILE, print every run that differs "
        "(missing, extra, or a number; training seconds are not compared); exit status 1 if any; builds nothing",
    )
    args = parser.parse_args(argv)
    if args.record or args.verify:
        if args.verify and not Path(args.verify).is_file():
            parser.error(f"--verify {args.verify}: no such file")
        return check_runs(args.scale, args.record, args.verify)
    if args.trial and args.scale != "full":
        parser.error("--trial is a trial of the full route: give it with --scale full")
    if args.scale == "full" and not args.trial and not args.data_root and not args.checkpoints:
        parser.error("--scale full needs --data-root (the real datasets) or --checkpoints")
    if args.scale == "full" and not args.checkpoints and (not args.trial or args.imagenet):
        from paperlib.engine.config import IMAGENET_FILES

        wanted = Path(args.imagenet or ".") / IMAGENET_FILES["50"]
        if not args.imagenet or not wanted.is_file():
            parser.error(
                f"--scale full trains the paper recipes from ImageNet: pass --imagenet DIR, a folder holding "
                f"torchvision's {IMAGENET_FILES['50']} (https://download.pytorch.org/models/{IMAGENET_FILES['50']}; "
                f"not found: {wanted}), or --checkpoints to evaluate trained models"
            )
    if args.scale == "full" and not args.trial and not args.checkpoints and not args.mmit_root:
        parser.error("--scale full trains the MMIT recipes too: pass --mmit-root DIR (the prepared MMIT)")
    names = [c.name for c in CHAPTERS]
    if args.only is not None and args.only not in names:
        parser.error(f"no chapter named {args.only!r} (chapters: {', '.join(names)})")
    # The notebooks read these when their parameters are left at their defaults (paperlib.experiments.chapter).
    settings = {"PAPERLIB_SCALE": args.scale, "PAPERLIB_DEVICE": args.device}
    settings |= {"PAPERLIB_DATA_ROOT": args.data_root} if args.data_root else {}
    settings |= {"PAPERLIB_CHECKPOINTS": args.checkpoints} if args.checkpoints else {}
    settings |= {"PAPERLIB_IMAGENET": str(Path(args.imagenet).resolve())} if args.imagenet else {}
    settings |= {"PAPERLIB_MMIT_ROOT": args.mmit_root} if args.mmit_root else {}
    asked = os.environ.pop("PAPERLIB_TRIAL", "")  # e.g. steps=1,videos=2 (paperlib.experiments.trial)
    settings |= {"PAPERLIB_TRIAL": asked if asked.strip() not in ("", "0") else "1"} if args.trial else {}
    os.environ.update(settings)
    from paperlib.experiments import results_root

    results = results_root(args.scale, args.trial)
    started = time.perf_counter()
    calibration = calibrate(results)
    if args.only or args.no_book:
        parameters = {"scale": args.scale}  # data, checkpoints and device reach the chapters as PAPERLIB_*
        parameters |= {"trial": True} if args.trial else {}
        chosen = [c for c in CHAPTERS if args.only in (None, c.name)]
        chapter_seconds = {}
        for i, chapter in enumerate(chosen, 1):
            print(f"reproduce: chapter {i} of {len(chosen)}: {chapter.name}", flush=True)
            chapter_started = time.perf_counter()
            run_chapter(chapter, parameters, results, args.force)
            chapter_seconds[chapter.name] = round(time.perf_counter() - chapter_started, 1)
        seconds = time.perf_counter() - started
        print(f"reproduce: {len(chosen)} chapter(s) ready in {seconds:.0f} s")
        record_build_times(args.scale, seconds, results, calibration, chapter_seconds)
        return 0
    print(
        f"reproduce: building the book at scale {args.scale} ({len(CHAPTERS)} chapters; runs cached in {results}) ...",
        flush=True,
    )
    build = [
        str(Path(sys.executable).parent / "jupyter-book"),
        "build",
        "--all",
        "-W",
        "-n",
        "--keep-going",
        str(ROOT / "book"),
    ]
    build += ["--path-output", str(ROOT / "_build" / "full-trial")] if args.trial else []  # never the real book
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    code = subprocess.run(build, cwd=ROOT, env=env).returncode
    seconds = time.perf_counter() - started
    print(f"reproduce: book {'built' if code == 0 else 'FAILED'} in {seconds:.0f} s")
    if args.trial:
        print(f"reproduce: the TRIAL book (a banner on every page): {ROOT / '_build/full-trial/_build/html'}")
    if code == 0:
        record_build_times(args.scale, seconds, results, calibration)
    return code


def calibrate(results: Path) -> dict | None:
    """Time the reference workload (:func:`paperlib.bench.calibrate.calibrate`) before the build, print it and keep
    it in ``results/<scale>/calibration.json``; None (and a warning) if it cannot run."""
    from paperlib.bench.calibrate import FILE, describe
    from paperlib.bench.calibrate import calibrate as measure
    from paperlib.utils import atomic_write_text

    try:
        calibration = measure()
    except (RuntimeError, OSError, subprocess.SubprocessError) as exc:
        print(f"reproduce: calibration failed, the build goes on without it: {exc}", flush=True)
        return None
    print(f"reproduce: calibration: {describe(calibration)}", flush=True)
    atomic_write_text(results / FILE, json.dumps(calibration, indent=1) + "\n")  # the speed chapter shows it
    return calibration


def record_build_times(
    scale: str, seconds: float, results: Path, calibration: dict | None = None, chapters: dict | None = None
) -> dict:
    """Print the seconds each chapter took (``chapters``, or the book's ``_build/execution_times.json``, written by
    its ``execution_times`` extension) and keep them with the build's total and the calibration in
    ``results/<scale>/build_times.json``: with the times also as multiples of the reference step (``*_in_steps``),
    which compare across machines."""
    import torch

    from paperlib.bench.shift import machine_facts
    from paperlib.engine.provenance import git_commit
    from paperlib.utils import atomic_write_text

    if chapters is None:
        times_file = ROOT / "_build" / "execution_times.json"
        chapters = json.loads(times_file.read_text()) if times_file.is_file() else {}
    for name, chapter_seconds in sorted(chapters.items(), key=lambda item: -item[1]):
        print(f"reproduce:   {name}: {chapter_seconds:.0f} s")
    record = {
        "scale": scale,
        "book_seconds": round(seconds, 1),
        "chapters_seconds": chapters,
        "cpu_count": os.cpu_count(),
        "machine": machine_facts(torch.device("cpu"))["device_name"],
        "commit": git_commit(),
        "finished": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "calibration": calibration,
    }
    if calibration is not None:
        step = calibration["seconds_per_step"]
        record["reference_step_seconds"] = step
        record["reference_step_cpu_seconds"] = calibration["cpu_seconds_per_step"]
        record["book_in_steps"] = round(seconds / step)
        record["chapters_in_steps"] = {name: round(s / step) for name, s in chapters.items()}
        print(
            f"reproduce: the build took {seconds:.0f} s = {seconds / step:,.0f} reference steps "
            f"({1e3 * step:.1f} ms each on this machine)"
        )
    atomic_write_text(results / "build_times.json", json.dumps(record, indent=1) + "\n")
    return record


def check_runs(scale: str, record_to: str | None, verify_with: str | None) -> int:
    """``--record FILE`` / ``--verify FILE`` (:mod:`paperlib.experiments.verify`) on the build in
    ``results/<scale>/``."""
    from paperlib.experiments import results_root, verify

    results = results_root(scale)
    if record_to:
        written = verify.record(results, record_to, scale)
        if not written["runs"]:
            print(f"reproduce: no runs of this code in {results}: build first (python -m reproduce --scale {scale})")
            return 1
        print(f"reproduce: {len(written['runs'])} runs of the build in {results} recorded in {record_to}")
        return 0
    recorded = json.loads(Path(verify_with).read_text()).get("scale")
    if recorded not in (None, scale):
        raise SystemExit(
            f"reproduce: {verify_with} was recorded at scale {recorded}, and this compares the build at scale {scale}: "
            f"add --scale {recorded}"
        )
    return verify.verify(verify_with, results)


if __name__ == "__main__":
    sys.exit(main())
