# Sourced (without arguments) by the gpu_*.sh wrappers, not run on its own. Takes the wrapper's first argument,
# OUT_DIR, makes it absolute, moves to the repository root and sets what every check needs; then
# `run_check MODULE REPORT [ARGS]` prints the GPU, runs `python -m reproduce.gpu.MODULE OUT_DIR ARGS` and says so
# when it wrote no OUT_DIR/REPORT. The checks need only python3 with torch (+ ninja, pytest) and nvcc.
out=${1:?usage: $0 OUT_DIR [--dry-run] [options of the check]}
shift
mkdir -p "$out"
out=$(cd "$out" && pwd)
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}" PYTHONUNBUFFERED=1
export TORCH_EXTENSIONS_DIR="${TORCH_EXTENSIONS_DIR:-/tmp/paperlib_torch_extensions}"
py=${PYTHON:-python3}

run_check() {
    local module=$1 report=$2 code
    shift 2
    nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader 2>/dev/null || true
    "$py" -m "reproduce.gpu.$module" "$out" "$@"
    code=$?
    [ -f "$out/$report" ] || echo "$module: no report was written (exit $code)"
    return $code
}
