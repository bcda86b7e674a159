"""The CUDA sources must keep compiling on machines without a GPU (wherever nvcc is installed)."""

import os
import subprocess
import sys

import pytest

from paperlib.ops._extension import CSRC, _find_cuda_home

pytestmark = [pytest.mark.nvcc, pytest.mark.skipif(_find_cuda_home() is None, reason="needs the nvcc compiler")]


def test_kernel_file_compiles_warning_free(tmp_path):
    """The torch-free .cu alone: seconds, every warning an error, for Ampere and Hopper."""
    nvcc = os.path.join(_find_cuda_home(), "bin", "nvcc")
    cmd = [
        nvcc,
        "-c",
        str(CSRC / "cuda" / "interlace_shift_kernel.cu"),
        "-o",
        str(tmp_path / "k.o"),
        "-std=c++17",
        "-O3",
        "-Xcompiler",
        "-fPIC,-Wall,-Wextra",
        "-D__CUDA_NO_HALF_OPERATORS__",
        "-D__CUDA_NO_HALF_CONVERSIONS__",
        "-D__CUDA_NO_BFLOAT16_CONVERSIONS__",
        "-gencode=arch=compute_80,code=sm_80",
        "-gencode=arch=compute_90,code=sm_90",
        "-Werror",
        "all-warnings",
    ]
    result = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "k.o").stat().st_size > 0


@pytest.mark.slow
def test_cuda_extension_builds_links_and_registers():
    """The whole CUDA extension (glue + kernels) through cpp_extension.load, in a fresh process."""
    script = (
        "import torch\n"
        "from paperlib.ops import _extension\n"
        "_extension.load_cuda()\n"
        "for op in ('interlace_shift', '_interlace_shift_into', '_interlace_shift_backward_into'):\n"
        "    assert torch._C._dispatch_has_kernel_for_dispatch_key('paperlib::' + op, 'CUDA'), op\n"
        "print('registered')\n"
    )
    env = dict(os.environ)
    env.setdefault("TORCH_CUDA_ARCH_LIST", "9.0")  # no GPU to ask for its architecture
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=900)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "registered" in result.stdout
