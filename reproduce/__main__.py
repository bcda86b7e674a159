"""``python -m reproduce [--scale embedded|smoke|full] [--data-root DIR] [--checkpoints DIR] [--only NAME]``.

Runs the notebooks with papermill in dependency order, each cached by a hash of its inputs (code, notebook,
parameters): an unchanged rerun reuses the executed notebook. Executed notebooks go to ``book/chapters/``
(rendered as they are) and results with provenance to ``results/<scale>/``; then the book is built with
``jupyter-book build --all -W -n book/``. A failing notebook stops the run with its name and the failing
cell's error, and leaves the previous results in place.
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
BOOK_CHAPTERS = ROOT / "book" / "chapters"


def _ordered(chapters, only: str | None):
    names = [c.name for c in chapters]
    if only is not None and only not in names:
        raise SystemExit(f"reproduce: no chapter named {only!r} (chapters: {', '.join(names)})")
    wanted = {only} if only else set(names)
    by_name = {c.name: c for c in chapters}
    stack = list(wanted)
    while stack:  # a chapter needs the chapters it reads from
        for dep in by_name[stack.pop()].after:
            if dep not in wanted:
                wanted.add(dep)
                stack.append(dep)
    return [c for c in chapters if c.name in wanted]


def run_chapter(chapter, parameters: dict, results: Path, force: bool = False) -> dict:
    """Execute one notebook (or reuse its cached execution); returns its provenance record."""
    import papermill
    from papermill.exceptions import PapermillExecutionError

    from paperlib.experiments import input_key
    from paperlib.experiments.cache import file_digest
    from paperlib.utils import atomic_write_text

    source = NOTEBOOKS / f"{chapter.name}.ipynb"
    key = input_key(notebook=file_digest(source), parameters=parameters)
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


def write_provenance_page(records: list[dict], scale: str, results: Path, path: Path) -> None:
    """The book's provenance page: every chapter of this build, and every training run or checkpoint
    evaluation whose numbers a chapter shows, with how each was produced."""
    lines = [
        "# Provenance",
        "",
        f"Every chapter of this build was executed by `python -m reproduce --scale {scale}`. "
        "Each row says how its numbers were produced; the machine-readable results are in "
        f"`results/{scale}/notebooks/`.",
        "",
        "| chapter | scale | parameters | commit | run time (s) | finished |",
        "|---|---|---|---|---|---|",
    ]
    for r in records:
        params = ", ".join(f"{k}={v}" for k, v in r["parameters"].items() if k not in ("scale", "results_dir"))
        lines.append(
            f"| {r['title']} | {r['parameters']['scale']} | {params} | `{(r['commit'] or 'n/a')[:12]}` "
            f"| {r['seconds']} | {r['finished']} |"
        )
    total = sum(r["seconds"] for r in records)
    lines += [
        "",
        f"Total run time of the executions shown: {total:.0f} s (a cached chapter shows the time of the "
        "run that produced it).",
    ]
    for r in records:
        result_file = results / r["results_file"]
        runs = json.loads(result_file.read_text())["results"].get("provenance") if result_file.exists() else None
        if not runs:
            continue
        lines += [
            "",
            f'## Runs behind "{r["title"]}"',
            "",
            f"Folders under `results/{scale}/`, each named by the hash of its inputs (code, configuration, "
            "data). `data` is the hash of the list files and their entry counts; `started from` names the "
            "run or checkpoint a fine-tuning or evaluation began with.",
            "",
            "| run | commit | device | views | data | started from | checkpoint sha256 | metric (%) |",
            "|---|---|---|---|---|---|---|---|",
        ]
        for run in runs:
            cells = [
                f"`{run['run']}`",
                f"`{run['commit']}`",
                run["device"],
                run["views"],
                f"`{run['data']}`",
                f"`{run['started_from']}`" if run["started_from"] else "",
                f"`{run['checkpoint_sha256']}`" if run["checkpoint_sha256"] else "",
                run["metric"] or "",
            ]
            lines.append("| " + " | ".join(str(c) for c in cells) + " |")
    path.write_text("\n".join(lines) + "\n")


def main(argv: list[str] | None = None) -> int:
    from .chapters import CHAPTERS

    parser = argparse.ArgumentParser(prog="python -m reproduce", description=__doc__)
    parser.add_argument(
        "--scale", default=os.environ.get("PAPERLIB_SCALE", "embedded"), choices=["smoke", "embedded", "full"]
    )
    parser.add_argument("--data-root", default=None, help="the real dataset (scale full)")
    parser.add_argument("--checkpoints", default=None, help="evaluate these checkpoints instead of training")
    parser.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda"])
    parser.add_argument("--only", default=None, help="run this chapter (and what it depends on)")
    parser.add_argument("--force", action="store_true", help="ignore cached executions")
    parser.add_argument("--no-book", action="store_true", help="run the notebooks, do not build the book")
    args = parser.parse_args(argv)
    if args.scale == "full" and not args.data_root and not args.checkpoints:
        parser.error("--scale full needs --data-root (the real datasets) or --checkpoints")
    if args.only is not None and args.only not in [c.name for c in CHAPTERS]:
        parser.error(f"no chapter named {args.only!r} (chapters: {', '.join(c.name for c in CHAPTERS)})")
    results = ROOT / "results" / args.scale
    records = []
    started = time.perf_counter()
    for chapter in _ordered(CHAPTERS, args.only):
        parameters = {
            "scale": args.scale,
            "data_root": args.data_root,
            "checkpoints": args.checkpoints,
            "device": args.device,
            "results_dir": str(results / "notebooks"),
        }
        records.append(run_chapter(chapter, parameters, results, args.force))
    print(f"reproduce: {len(records)} chapter(s) ready in {time.perf_counter() - started:.0f} s")
    if args.no_book:
        return 0
    if BOOK_CHAPTERS.exists():
        shutil.rmtree(BOOK_CHAPTERS)
    BOOK_CHAPTERS.mkdir(parents=True)
    for record in records:
        shutil.copy(results / "executed" / f"{record['chapter']}.ipynb", BOOK_CHAPTERS)
    write_provenance_page(records, args.scale, results, BOOK_CHAPTERS / "provenance.md")
    build = [
        str(Path(sys.executable).parent / "jupyter-book"),
        "build",
        "--all",
        "-W",
        "-n",
        "--keep-going",
        str(ROOT / "book"),
    ]
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    return subprocess.run(build, cwd=ROOT, env=env).returncode


if __name__ == "__main__":
    sys.exit(main())
