"""What the GPU check drivers (``gpu_op_check.py``, ``gpu_train_check.py``, ``gpu_book_check.py``) share: steps run
as subprocesses with a time limit and a log each, a JSON report rewritten after every step (so it is there even
when a later step fails or the whole command is stopped), and the provenance of a run (versions of torch, CUDA,
cuDNN, NCCL, the driver, the GPU; the code's commit or, where git is absent, its hash)."""

from __future__ import annotations

import json
import os
import platform
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SHIM = "gpu_check_shim"  # the folder of the placeholder av module

AV_PLACEHOLDER = '''"""Placeholder written by reproduce/gpu/gpu_common.py: PyAV is not installed on this machine
(its wheel does not fit the carried tree). paperlib.data.synthetic imports av at module level, but only writing
new MMIT videos uses it (reproduce/gpu/gpu_book_check.py unpacks the embedded MMIT data, generated elsewhere)."""


def __getattr__(name):
    raise ImportError(f"av.{name}: PyAV is not installed here (placeholder module from reproduce/gpu/gpu_common.py)")
'''


def placeholder_av(work: Path) -> bool:
    """Where PyAV is absent (the GPU image lacks it; its 36 MB wheel does not fit the carried tree), put a
    placeholder ``av`` on the path of this process and its children: ``paperlib.data.synthetic`` imports av at
    module level (every embedded dataset, Something-v1's too, goes through it), though only encoding MMIT videos
    uses it. Returns whether the placeholder was needed."""
    import importlib.util

    if importlib.util.find_spec("av") is not None:
        return False
    shim = work / SHIM
    (shim / "av").mkdir(parents=True, exist_ok=True)
    (shim / "av" / "__init__.py").write_text(AV_PLACEHOLDER)
    os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [os.environ.get("PYTHONPATH"), str(shim)]))
    sys.path.append(str(shim))
    return True


def open_folders(prog: str, device: str, out: str, work: str | None) -> tuple[Path, Path] | None:
    """``$OUT`` and the work folder (``work``, else a new temporary one), both created, with this repository on
    the ``PYTHONPATH`` of the steps; None, after a one-line message, when ``device`` is cuda and there is none."""
    if device == "cuda":
        import torch

        if not torch.cuda.is_available():
            print(f"{prog}: no CUDA device (use --dry-run on CPU)", file=sys.stderr)
            return None
    out_folder = Path(out).resolve()
    out_folder.mkdir(parents=True, exist_ok=True)
    if work:
        work_folder = Path(work).resolve()
        work_folder.mkdir(parents=True, exist_ok=True)
    else:
        import tempfile

        work_folder = Path(tempfile.mkdtemp(prefix=f"{prog}."))
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
    return out_folder, work_folder


PART_DEADLINE = "GPU_PART_DEADLINE"  # set by gpu_all.py: the Unix time its part must end by, less the report's time


def deadline_after(budget: float) -> float:
    """The ``time.monotonic()`` a driver stops its steps by: ``budget`` seconds from now, or earlier when
    gpu_all.py's ``$GPU_PART_DEADLINE`` (counted from the part's start, so the start-up is inside it) comes first."""
    end = time.monotonic() + budget
    part = os.environ.get(PART_DEADLINE)
    return min(end, time.monotonic() + float(part) - time.time()) if part else end


def write_json(path: Path, payload: dict) -> None:
    """Atomically (a reader never sees half a file)."""
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(json.dumps(payload, indent=1, default=str) + "\n")
    os.replace(tmp, path)


def descendants(pid: int) -> list[int]:
    """Every descendant of ``pid`` (from /proc), children first."""
    parents: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                ppid = int(f.read().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        parents.setdefault(ppid, []).append(int(entry))
    found, todo = [], [pid]
    while todo:
        for child in parents.get(todo.pop(0), []):
            found.append(child)
            todo.append(child)
    return found


def kill_tree(pid: int) -> list[int]:
    """SIGKILL ``pid``, its process group and every descendant (torchrun starts its workers in sessions of their
    own, so the group alone would leave them running); returns the descendants killed."""
    children = descendants(pid)
    for target in (pid, *children):
        try:
            os.kill(target, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
    try:
        os.killpg(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    return children


def _kill_group(proc: subprocess.Popen) -> None:
    """SIGKILL the step's process tree (torchrun's workers, papermill's kernel), then reap it."""
    kill_tree(proc.pid)
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        pass


def exit_on_sigterm() -> None:
    """SIGTERM (gpu_all.py stopping a part past its limit) ends a driver as SystemExit: :meth:`Report.run` then
    stops the step in progress and records it (``terminated``) before the driver exits."""

    def stop(signum, frame) -> None:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)  # a second SIGTERM must not cut the recording short
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, stop)


class Report:
    """The JSON report: ``steps`` (per step: exit status, seconds, timed out, log file) and whatever the driver
    adds; written to ``path`` after every step."""

    def __init__(self, path: Path, **fields) -> None:
        self.path = path
        self.data: dict = {**fields, "steps": {}}
        self.started = time.monotonic()
        self.save()

    def save(self) -> None:
        self.data["elapsed_s"] = round(time.monotonic() - self.started, 1)
        write_json(self.path, self.data)

    def elapsed(self) -> float:
        return time.monotonic() - self.started

    def run(
        self,
        name: str,
        command: list[str],
        log: Path,
        timeout: float,
        env: dict | None = None,
        cwd: Path = ROOT,
    ) -> int:
        """Run ``command`` (its own process group), output appended to ``log``; record and return its exit status
        (124 when it ran past ``timeout`` seconds and was killed, 125 when it could not start)."""
        print(f"== {name}: {' '.join(map(str, command))}", flush=True)
        started = time.monotonic()
        timed_out = False
        with open(log, "a") as out:
            out.write(f"\n== {name}: {' '.join(map(str, command))}\n")
            out.flush()
            try:
                proc = subprocess.Popen(
                    [str(c) for c in command],
                    cwd=cwd,
                    env={**os.environ, **(env or {})},
                    stdout=out,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                )
            except OSError as exc:
                out.write(f"could not start: {exc}\n")
                code = 125
            else:
                try:
                    code = proc.wait(timeout=max(1.0, timeout))
                except subprocess.TimeoutExpired:
                    timed_out = True
                    _kill_group(proc)
                    code = 124
                    out.write(f"\n== {name}: killed after {timeout:.0f} s (its time limit)\n")
                except BaseException:  # the driver itself stopped (SIGTERM from gpu_all.py, Ctrl-C): the step too
                    _kill_group(proc)
                    out.write(f"\n== {name}: stopped with the driver after {time.monotonic() - started:.0f} s\n")
                    self.record(name, 143, round(time.monotonic() - started, 1), log.name, terminated=True)
                    raise
        seconds = round(time.monotonic() - started, 1)
        self.record(name, code, seconds, log.name, timed_out=timed_out)
        print(f"   exit {code} after {seconds} s (log: {log.name})", flush=True)
        for line in tail(log, 4):
            print(f"   | {line}", flush=True)
        return code

    def record(self, name: str, code: int, seconds: float, log: str | None = None, **extra) -> None:
        self.data["steps"][name] = {"exit": code, "seconds": seconds, "log": log, **extra}
        self.save()

    def skip(self, name: str, reason: str) -> None:
        print(f"== {name}: skipped ({reason})", flush=True)
        self.data["steps"][name] = {"exit": None, "skipped": reason}
        self.save()

    def passed(self) -> bool:
        return all(s.get("exit") == 0 for s in self.data["steps"].values())


def tail(path: Path, lines: int) -> list[str]:
    try:
        text = path.read_text(errors="replace").replace("\r", "\n")
    except OSError:
        return []
    return [line[:200] for line in text.splitlines() if line.strip()][-lines:]


def _command(args: list[str]) -> str | None:
    if shutil.which(args[0]) is None:
        return None
    try:
        done = subprocess.run(args, capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return done.stdout.strip() if done.returncode == 0 else None


def provenance(device: str) -> dict:
    """Versions and machine: python, torch, CUDA, cuDNN, NCCL, triton, the GPU and its driver (nvidia-smi), nvcc,
    the code's commit (``$PAPERLIB_COMMIT`` where the copy has no git) and its source hash."""
    import torch

    from paperlib.bench.shift import machine_facts
    from paperlib.engine.provenance import git_commit
    from paperlib.experiments.folders import code_hash

    facts: dict = {
        "python": platform.python_version(),
        "executable": sys.executable,
        "torch": torch.__version__,
        "torch_cuda": torch.version.cuda,
        "cudnn": torch.backends.cudnn.version() if torch.backends.cudnn.is_available() else None,
        "commit": git_commit() or os.environ.get("PAPERLIB_COMMIT"),
        "code_hash": code_hash(),
        "started": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
    }
    try:
        import triton

        facts["triton"] = triton.__version__
    except ImportError:
        facts["triton"] = None
    cuda = device == "cuda" and torch.cuda.is_available()
    facts["machine"] = machine_facts(torch.device("cuda" if cuda else "cpu"))
    if cuda:
        facts["nccl"] = ".".join(map(str, torch.cuda.nccl.version()))
        props = torch.cuda.get_device_properties(0)
        facts["gpu"] = {
            "name": props.name,
            "capability": f"{props.major}.{props.minor}",
            "multiprocessors": props.multi_processor_count,
            "memory_gib": round(props.total_memory / 2**30, 1),
        }
    smi = _command(["nvidia-smi", "--query-gpu=name,driver_version,memory.total", "--format=csv,noheader"])
    facts["nvidia_smi"] = smi
    facts["driver"] = smi.split(",")[1].strip() if smi and smi.count(",") >= 2 else None
    nvcc = _command(["nvcc", "--version"])
    facts["nvcc"] = nvcc.splitlines()[-1] if nvcc else None
    return facts
