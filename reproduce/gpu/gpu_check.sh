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
source "$(dirname "$0")/common.sh"

run_check gpu_op_check gpu_check.json "$@"
