#!/usr/bin/env bash
# GPU check of training and inference (issue #20), in one go on a CUDA machine:
#   build the CUDA extension; time a training step and an inference pass of TSN/TSM/TIN (R50, 8x224x224, batch 8)
#   in fp32, AMP bf16, bf16 + channels-last and bf16 + channels-last + torch.compile (TIN checked for graph breaks),
#   and of the temporal-conv baseline, I3D, SlowFast, R(2+1)D in AMP bf16 (medians of interleaved rounds after
#   warm-up; TIN/TSM ratios within the run); then the smoke recipe under torchrun (NCCL, AMP) SIGKILLed mid-epoch
#   and resumed (group kill + --resume, worker kill + elastic restart), compared with an uninterrupted run.
# Needs only python3 with torch (+ ninja) and nvcc; no package index. About 5-7 minutes on an H200.
#
#   usage: reproduce/gpu/gpu_train_check.sh OUT_DIR [--dry-run] [more options of python -m reproduce.gpu.gpu_train_check]
#   results: OUT_DIR/train_check.json (versions, per-step exit status, timings, ratios, compile and resume results;
#            rewritten after every step) and OUT_DIR/{build,timing,compile,resume}.log
#   --dry-run: the same steps on CPU with small models, clips and step counts (checks the script, measures nothing)
set -uo pipefail
source "$(dirname "$0")/common.sh"

run_check gpu_train_check train_check.json "$@"
