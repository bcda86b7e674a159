#!/usr/bin/env bash
# GPU check of the book and of a full-size recipe (issue #21), in one go on a CUDA machine:
#   install the carried wheels (.whl/, made by reproduce/gpu/gpu_wheels.sh: papermill, ipykernel, plotly, decord, ...)
#   into /tmp/site; build the CUDA extension; render the embedded Something-v1-format data at 224 px, train the
#   Table 1 TIN-R50 recipe on it (AMP bf16, a few hundred iterations), evaluate it with 1x1 and 3x2 views and run
#   the offsets chapter on its checkpoint; run every chapter of the book (embedded scale, device=cuda) through
#   papermill, timed, within the time left (default budget 540 s; about 9 minutes on an H200 in all).
# Needs python3 with torch, nvcc, and the carried .whl/ and .gpu_data/ (the embedded MMIT data; PyAV is absent).
#
#   usage: reproduce/gpu/gpu_book_check.sh OUT_DIR [--dry-run] [more options of python -m reproduce.gpu.gpu_book_check]
#   results: OUT_DIR/book_check.json (versions, per-step exit status, seconds per chapter, the full-size run's
#            metrics; rewritten after every step), OUT_DIR/chapters.tar.gz (executed notebooks and the chapters'
#            results, for building the HTML book elsewhere), OUT_DIR/full.tar.gz, OUT_DIR/{install,chapters,full}.log
#   --dry-run: CPU, the smoke scale and a tiny full-size route (checks the script, measures nothing); no install
set -uo pipefail
source "$(dirname "$0")/common.sh"
export MPLBACKEND=Agg

case " $* " in
  *" --dry-run "*) echo "dry run: no wheels installed (the local environment has them)" >"$out/install.log" ;;
  *)
    if compgen -G ".whl/*.whl" >/dev/null; then
      t0=$SECONDS
      "$py" -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl \
        >"$out/install.log" 2>&1
      echo "pip install exit $? after $((SECONDS - t0)) s" | tee -a "$out/install.log"
      export PYTHONPATH="$PYTHONPATH:/tmp/site"
    else
      echo "no .whl/ here: run reproduce/gpu/gpu_wheels.sh and carry .whl and .gpu_data" | tee "$out/install.log"
    fi
    ;;
esac
run_check gpu_book_check book_check.json "$@"
