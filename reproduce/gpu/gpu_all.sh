#!/usr/bin/env bash
# Issue #30's one GPU run (python -m reproduce.gpu.gpu_all): the three prepared GPU checks in order of value, each
# part under its own time budget, inside 9 minutes in all:
#   op 200 s       gpu_check.sh: C++/CUDA build, op tests (CUDA ones included), compute-sanitizer memcheck/racecheck
#   bench 60 s     gpu_check.sh: the op benchmark (vs copy_ and PyTorch) and the model benchmark
#   timing 60 s    gpu_train_check.sh: TSN/TSM/TIN step and inference times, fp32/bf16/bf16+channels-last; 3D models
#   resume 100 s   gpu_train_check.sh: smoke recipe under torchrun (NCCL, AMP) killed mid-epoch and resumed, twice
#   compile 60 s   gpu_train_check.sh: TIN's graph breaks and torch.compile
#   book 50 s      gpu_book_check.sh: the carried wheels, the op and speed chapters with device=cuda
# A part may use what earlier parts left; one past its limit is stopped (SIGTERM, then SIGKILL for all it started).
# Needs python3 with torch, nvcc; for the book part the carried .whl/ and .gpu_data/ (reproduce/gpu/gpu_wheels.sh).
#
#   usage: reproduce/gpu/gpu_all.sh OUT_DIR [--dry-run] [--parts op bench timing resume compile book]
#   results: OUT_DIR/gpu_all.json (per part: exit, seconds, limit, finished / timed out / skipped, its report's step
#            exit codes; rewritten after every part), OUT_DIR/<part>/ (each check's report, logs, measurements),
#            OUT_DIR/<part>.log
#   --dry-run: every check's own CPU dry run, budgets x8 (checks the driver, measures nothing)
set -uo pipefail
source "$(dirname "$0")/common.sh"

run_check gpu_all gpu_all.json "$@"
