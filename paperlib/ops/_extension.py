"""Build-on-first-use of the C++/CUDA interlace shift kernels (``csrc/``) and their Python registrations.

The sources are the repository's top-level ``csrc/``; a wheel ships them as the package data ``paperlib/csrc/``
(:data:`CSRC` is whichever exists), so an installed paperlib compiles them on first use as a checkout does.

``torch.utils.cpp_extension.load`` compiles with ninja into one cache folder (:func:`kernel_cache_dir`:
``$TORCH_EXTENSIONS_DIR`` when set, as ``make`` sets it; otherwise ``<venv>/torch_extensions`` inside a virtual
environment, the very folder ``make`` names, so a build by ``make``, an activated venv, a notebook kernel or
``torchrun`` is made once and shared; ``~/.cache/paperlib/torch_extensions/<python>-torch<version>`` outside
one) and caches the result, so a second process only loads the library. The first build says so on stderr.
Loading registers the ``paperlib::`` ops with the dispatcher; this module then adds their autograd formula and
the fake kernels used by ``torch.compile``/meta tensors.
"""

from __future__ import annotations

import glob
import logging
import os
import shutil
import sys
import threading
from pathlib import Path

import torch

from ..errors import UserError


def kernel_sources_dir() -> Path:
    """The folder of the kernel sources: ``paperlib/csrc`` in an installed wheel (package data), else the
    checkout's top-level ``csrc/`` (an editable install, or ``PYTHONPATH`` on the repository)."""
    package = Path(__file__).resolve().parents[1]
    installed = package / "csrc"
    return installed if installed.is_dir() else package.parent / "csrc"


CSRC = kernel_sources_dir()
CPU_SOURCES = ("interlace_shift.cpp", "cpu/interlace_shift_kernel.cpp")
CUDA_SOURCES = ("cuda/interlace_shift_cuda.cpp", "cuda/interlace_shift_kernel.cu")

_lock = threading.Lock()
_loaded: dict[str, bool | Exception] = {}


class ExtensionBuildError(UserError, RuntimeError):
    """The C++ or CUDA extension could not be compiled or loaded."""


def _prepare_toolchain() -> None:
    # torch runs `ninja` through PATH, also for a cached load; a venv's python is often run without activation.
    import ninja

    for folder in (ninja.BIN_DIR, os.path.dirname(sys.executable)):
        if folder not in os.environ.get("PATH", "").split(os.pathsep):
            os.environ["PATH"] = folder + os.pathsep + os.environ.get("PATH", "")


def _find_cuda_home() -> str | None:
    """The CUDA toolkit root (holding bin/nvcc and the cudart library): $CUDA_HOME, else nvcc's real prefix."""
    if os.environ.get("CUDA_HOME"):
        return os.environ["CUDA_HOME"]
    candidates = []
    nvcc = shutil.which("nvcc")
    if nvcc:
        # nvcc may be a wrapper script (`exec /usr/local/cuda-13.0/bin/nvcc "$@"`): follow it.
        real = Path(nvcc).resolve()
        try:
            text = real.read_text(errors="ignore") if real.stat().st_size < 4096 else ""
        except OSError:
            text = ""
        for word in text.split():
            if word.endswith("/bin/nvcc"):
                candidates.append(Path(word.strip("\"'")).parents[1])
        candidates.append(real.parents[1])
    candidates += [Path(p) for p in sorted(glob.glob("/usr/local/cuda*"), reverse=True)]
    for root in candidates:
        if (root / "bin" / "nvcc").exists() and (glob.glob(str(root / "lib*" / "libcudart*"))):
            return str(root)
    return None


def kernel_cache_dir() -> Path:
    """The one folder compiled kernels live in: ``$TORCH_EXTENSIONS_DIR`` if set; else
    ``<sys.prefix>/torch_extensions`` in a virtual environment whose folder is writable (what ``make`` exports:
    ``.venv/torch_extensions``); else
    ``$XDG_CACHE_HOME`` (``~/.cache``) ``/paperlib/torch_extensions/py3X-torch<version>`` (a kernel is tied to the
    torch it was compiled against)."""
    explicit = os.environ.get("TORCH_EXTENSIONS_DIR")
    if explicit:
        return Path(explicit).expanduser()
    if sys.prefix != sys.base_prefix and os.access(sys.prefix, os.W_OK):
        return Path(sys.prefix) / "torch_extensions"
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    tag = f"py{sys.version_info.major}{sys.version_info.minor}-torch{torch.__version__.replace('+', '_')}"
    return cache / "paperlib" / "torch_extensions" / tag


def _announce_first_build(name: str, sources: tuple[str, ...], cuda: bool) -> None:
    """One line on stderr (local rank 0) when ``name`` is about to be compiled: missing, or older than a source."""
    library = kernel_cache_dir() / name / f"{name}.so"
    if library.is_file() and all(library.stat().st_mtime >= (CSRC / s).stat().st_mtime for s in sources):
        return
    if os.environ.get("LOCAL_RANK", "0") != "0":
        return
    what = "CUDA kernel once (~1-3 min)" if cuda else "C++ kernel once (~30 s)"
    print(f"paperlib: building the {what} into {library.parent}", file=sys.stderr, flush=True)


def _build(name: str, sources: tuple[str, ...], cuda: bool, verbose: bool) -> None:
    cuda_home = _find_cuda_home()
    if cuda_home is not None:  # before cpp_extension's import-time guess (the wrapper's prefix, which fails to link)
        os.environ["CUDA_HOME"] = cuda_home
    # Its import warns "No CUDA runtime is found" on every machine with nvcc but no GPU: not news here.
    logger = logging.getLogger("torch.utils.cpp_extension")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        from torch.utils import cpp_extension
    finally:
        logger.setLevel(level)

    missing = [s for s in sources if not (CSRC / s).exists()]
    if missing:
        raise ExtensionBuildError(f"kernel sources not found under {CSRC}: {missing} (a broken install of paperlib)")
    _prepare_toolchain()
    kwargs: dict = dict(
        name=name,
        sources=[str(CSRC / s) for s in sources],
        extra_cflags=["-O3", "-fopenmp"],
        extra_ldflags=["-fopenmp"],
        is_python_module=False,
        verbose=verbose,
    )
    if cuda:
        if cuda_home is None:
            raise ExtensionBuildError("no CUDA toolkit found (set CUDA_HOME to the folder holding bin/nvcc)")
        cpp_extension.CUDA_HOME = cuda_home  # in case cpp_extension was imported before
        kwargs["extra_cuda_cflags"] = ["-O3", "-std=c++17"]
    # one cache for every way of starting Python (set in the environment, so torchrun's workers and
    # subprocesses agree); an explicit TORCH_EXTENSIONS_DIR, as make exports it, is kept
    os.environ["TORCH_EXTENSIONS_DIR"] = str(kernel_cache_dir())
    _announce_first_build(name, sources, cuda)
    try:
        cpp_extension.load(**kwargs)
    except Exception as exc:  # compiler errors arrive as RuntimeError/CalledProcessError/OSError
        raise ExtensionBuildError(f"building {name} from {CSRC} failed: {exc}") from exc


def _load(key: str, verbose: bool) -> None:
    if _loaded.get(key) is True:  # loaded: no lock, so torch.compile traces straight through
        return
    with _lock:
        state = _loaded.get(key)
        if state is True:
            return
        if isinstance(state, Exception):
            raise state
        try:
            if key == "cpu":
                _build("paperlib_interlace_cpu", CPU_SOURCES, cuda=False, verbose=verbose)
                _register_python_parts()
            else:
                _build("paperlib_interlace_cuda", CUDA_SOURCES, cuda=True, verbose=verbose)
        except ExtensionBuildError as exc:
            _loaded[key] = exc
            raise
        _loaded[key] = True


def load_cpu(verbose: bool = False) -> None:
    """Build (first time) and load the schemas and the C++ CPU kernels. Raises ExtensionBuildError."""
    _load("cpu", verbose)


def load_cuda(verbose: bool = False) -> None:
    """Build (first time) and load the CUDA kernels; needs the CPU library (schemas) first."""
    load_cpu(verbose)
    _load("cuda", verbose)


def is_channels_last_frames(x: torch.Tensor) -> bool:
    """Whether ``x[N, T, C, H, W]`` is laid out as ``(N, T, H, W, C)`` in memory (the 5-D view of a
    ``channels_last`` batch of frames) and not also contiguous: the kernels then keep that layout."""
    return x.dim() == 5 and not x.is_contiguous() and x.permute(0, 1, 3, 4, 2).is_contiguous()


def empty_like_layout(x: torch.Tensor) -> torch.Tensor:
    """An uninitialised tensor like ``x``, in the layout the kernels write (contiguous or channels-last frames)."""
    if not is_channels_last_frames(x):
        return torch.empty_like(x, memory_format=torch.contiguous_format)
    n, t, c, h, w = x.shape
    return x.new_empty((n, t, h, w, c)).permute(0, 1, 4, 2, 3)


def _register_python_parts() -> None:
    """Autograd formula and fake kernels of the ``paperlib::`` ops (once, after the library is loaded)."""

    def setup_context(ctx, inputs, output):
        x, offset, weight, shift_channels = inputs
        ctx.save_for_backward(x, offset, weight)
        ctx.shift_channels = shift_channels

    def backward(ctx, grad_out):
        x, offset, weight = ctx.saved_tensors
        grads = torch.ops.paperlib._interlace_shift_backward(grad_out, x, offset, weight, ctx.shift_channels)
        return (*grads, None)

    torch.library.register_autograd("paperlib::interlace_shift", backward, setup_context=setup_context)

    @torch.library.register_fake("paperlib::interlace_shift")
    def _(x, offset, weight, shift_channels):
        return empty_like_layout(x)

    @torch.library.register_fake("paperlib::_interlace_shift_backward")
    def _(grad_out, x, offset, weight, shift_channels):
        like = lambda t: torch.empty_like(t, memory_format=torch.contiguous_format)  # noqa: E731
        return empty_like_layout(x), like(offset), like(weight)
