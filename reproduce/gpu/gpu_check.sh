#!/usr/bin/env bash
# GPU check of the interlace shift op, in one go on a CUDA machine (python -m reproduce.gpu.gpu_op_check):
#   build the CUDA extension, run the op tests (CUDA ones included), compute-sanitizer memcheck and racecheck over a
#   small forward/backward, the op benchmark (fp32/bf16/fp16, every ResNet-50 TIN shape, both layouts), and the
#   model benchmark (TSN/TSM/TIN/temporal conv/I3D/SlowFast/R(2+1)D: inference and an AMP training step); each step
#   under its own time limit.
# Needs only python3 with torch (+ ninja, pytest) and nvcc; no package index.
#
#   usage: reproduce/gpu/gpu_check.sh OUT_DIR [--dry-run] [more options of python -m reproduce.gpu.gpu_op_check]
#   results: OUT_DIR/gpu_check.json (per-step exit status and seconds, sanitizer error counts, versions; rewritten
#            after every step), OUT_DIR/shift_cuda.json, OUT_DIR/models_cuda.json, OUT_DIR/<step>.log
#   --dry-run: CPU (the C++ kernel, the CPU op tests, no sanitizer, short benchmarks; measures nothing)
set -uo pipefail
out=${1:?usage: reproduce/gpu/gpu_check.sh OUT_DIR [--dry-run]}
shift
mkdir -p "$out"
out=$(cd "$out" && pwd)
cd "$(dirname "$0")/../.."
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}" PYTHONUNBUFFERED=1
export TORCH_EXTENSIONS_DIR="${TORCH_EXTENSIONS_DIR:-/tmp/paperlib_torch_extensions}"
py=${PYTHON:-python3}

nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader 2>/dev/null || true
"$py" -m reproduce.gpu.gpu_op_check "$out" "$@"
code=$?
[ -f "$out/gpu_check.json" ] || echo "gpu_check: no report was written (exit $code)"
exit $code
