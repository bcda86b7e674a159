#!/usr/bin/env bash
# GPU check of the interlace shift op, in one go on a CUDA machine:
#   build the CUDA extension, run the op tests (CUDA ones included), compute-sanitizer memcheck and
#   racecheck over a small forward/backward, the op benchmark (fp32/bf16/fp16, every ResNet-50 TIN shape, both
#   layouts), and
#   the model benchmark (TSN/TSM/TIN/temporal conv/I3D/SlowFast/R(2+1)D: inference and an AMP training step).
# Needs only python3 with torch (+ ninja, pytest) and nvcc; no package index.
#
#   usage: reproduce/gpu_check.sh OUT_DIR   (results: OUT_DIR/gpu_check.json, shift_cuda.json, models_cuda.json, *.log)
set -uo pipefail
out=${1:?usage: reproduce/gpu_check.sh OUT_DIR}
mkdir -p "$out"
out=$(cd "$out" && pwd)
cd "$(dirname "$0")/.."
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}" PYTHONUNBUFFERED=1
export TORCH_EXTENSIONS_DIR="${TORCH_EXTENSIONS_DIR:-/tmp/paperlib_torch_extensions}"
py=${PYTHON:-python3}
declare -A status

step() {  # step NAME LOG COMMAND...: run, keep the log, record the exit status
  local name=$1 log=$2; shift 2
  echo "== $name: $*"
  local t0=$SECONDS
  "$@" >"$out/$log" 2>&1
  status[$name]=$?
  echo "   exit ${status[$name]} after $((SECONDS - t0)) s (log: $log)"
  tail -n 5 "$out/$log"
}

nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader || true
step build build.log "$py" -c "from paperlib.ops import _extension; _extension.load_cuda(verbose=True); print('built')"
step tests tests.log "$py" -m pytest -q -p no:cacheprovider tests/test_ops_interlace.py
sanitizer=$(command -v compute-sanitizer || ls /usr/local/cuda*/bin/compute-sanitizer 2>/dev/null | head -n 1)
for tool in memcheck racecheck; do
  if [ -n "$sanitizer" ]; then
    step "$tool" "$tool.log" env PYTORCH_NO_CUDA_MEMORY_CACHING=1 "$sanitizer" --tool "$tool" --error-exitcode 3 \
      "$py" reproduce/sanitizer_case.py
  else
    echo "compute-sanitizer not found" >"$out/$tool.log"; status[$tool]=127
  fi
done
step bench bench.log "$py" -m paperlib.bench shift --device cuda --layout channels_first channels_last \
  --json "$out/shift_cuda.json"
step models models.log "$py" -m paperlib.bench models --device cuda --train --json "$out/models_cuda.json"

"$py" - "$out" "${status[build]}" "${status[tests]}" "${status[memcheck]}" "${status[racecheck]}" "${status[bench]}" \
  "${status[models]}" <<'PY'
import json, sys, torch
out, *codes = sys.argv[1:]
steps = dict(zip(["build", "tests", "memcheck", "racecheck", "bench", "models"], map(int, codes)))
device = torch.cuda.get_device_name(0) if torch.cuda.is_available() else None
summary = {"device": device, "torch": torch.__version__, "cuda": torch.version.cuda, "exit_codes": steps,
           "passed": all(code == 0 for code in steps.values())}
json.dump(summary, open(f"{out}/gpu_check.json", "w"), indent=1)
print(json.dumps(summary))
PY
for code in "${status[@]}"; do [ "$code" -eq 0 ] || exit 1; done
