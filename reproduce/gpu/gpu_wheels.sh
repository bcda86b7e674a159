#!/usr/bin/env bash
# What the GPU machine lacks for reproduce/gpu/gpu_book_check.sh (issue #21), fetched here (it has no package index):
#   .whl/        Python 3.12 manylinux wheels (pip download --no-deps, the device README's recipe) of the packages
#                the chapters need that its image does not hold (KINDS.md's list): papermill and its notebook
#                stack (nbclient, nbformat, jupyter_client, ipykernel, IPython, pyzmq, tornado, ...), plotly,
#                decord (MMIT videos), jupytext, myst-nb + docutils (a chapter's `from myst_nb import glue`; myst-nb's
#                Sphinx stack is not needed for that and stays behind). Versions from requirements.lock.
#   .gpu_data/   mmit-embedded.tar: the embedded MMIT dataset, generated here. PyAV, which writes its videos, is a
#                36 MB wheel that does not fit the 64 MiB the carried tree may weigh; the check unpacks the tar
#                into ~/.cache/paperlib/datasets there, so nothing is encoded on the GPU machine.
# Both folders are git-ignored through .git/info/exclude; the total must stay under 50 MiB (checked).
#
#   usage: reproduce/gpu/gpu_wheels.sh          (then pass carry [".whl", ".gpu_data"] to the device tool's run)
set -euo pipefail
cd "$(dirname "$0")/../.."
py=${PYTHON:-.venv/bin/python}
limit_mib=${LIMIT_MIB:-50}

# Absent from the GPU image (KINDS.md, "Python packages already there"), needed by papermill + ipykernel +
# plotly + decord + jupytext (the dependency closure of those, minus what the image holds). debugpy is left out on
# purpose (ipykernel runs without it: only its debugger needs it; 4 MB); PyYAML, tqdm, requests, click, attrs,
# packaging, narwhals, pygments, markdown-it-py are there already.
PACKAGES=(
  papermill nbclient nbformat jupyter_client jupyter_core ipykernel ipython ipython_pygments_lexers
  traitlets pyzmq tornado comm nest-asyncio2 matplotlib-inline jedi parso prompt_toolkit wcwidth pexpect
  ptyprocess stack-data asttokens executing pure-eval platformdirs fastjsonschema jsonschema
  jsonschema-specifications referencing rpds-py entrypoints tenacity plotly decord jupytext mdit-py-plugins
  myst-nb docutils
)
PLATFORMS=(manylinux_2_28_x86_64 manylinux_2_27_x86_64 manylinux_2_17_x86_64 manylinux2014_x86_64
  manylinux2010_x86_64 manylinux1_x86_64 manylinux_2_24_x86_64 manylinux_2_31_x86_64 manylinux_2_34_x86_64
  manylinux_2_35_x86_64)

for line in /.whl/ /.gpu_data/; do
  grep -qxF "$line" .git/info/exclude 2>/dev/null || echo "$line" >>.git/info/exclude
done
mkdir -p .whl .gpu_data
platform_args=()
for p in "${PLATFORMS[@]}"; do platform_args+=(--platform "$p"); done
pins=()
for name in "${PACKAGES[@]}"; do
  pattern=$(echo "$name" | sed 's/[-_.]/[-_.]/g')
  pin=$(grep -i -E "^${pattern}==" requirements.lock | head -n 1 || true)
  [ -n "$pin" ] || { echo "gpu_wheels: $name is not pinned in requirements.lock" >&2; exit 1; }
  pins+=("$pin")
done
"$py" -m pip download -q --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
  "${platform_args[@]}" -d .whl "${pins[@]}"
# keep one version of each (an older download left behind would stop the install there)
"$py" - "${pins[@]}" <<'PY'
import re, sys
from pathlib import Path
wanted = {re.sub(r"[-_.]+", "_", p.split("==")[0].lower()): p.split("==")[1] for p in sys.argv[1:]}
for wheel in Path(".whl").glob("*.whl"):
    name, version = wheel.name.split("-")[:2]
    if wanted.get(re.sub(r"[-_.]+", "_", name.lower())) != version:
        print(f"gpu_wheels: removing {wheel.name} (not in the list)")
        wheel.unlink()
PY

# the embedded MMIT dataset (generated here if not cached), as one tar named by its folder
"$py" - <<'PY'
import tarfile
from pathlib import Path
from paperlib.data.synthetic import make_mmit
from paperlib.engine.config import DataConfig

data = make_mmit(Path(DataConfig().cache_dir).expanduser(), "embedded", 0)
target = Path(".gpu_data/mmit-embedded.tar")
for old in Path(".gpu_data").glob("*.tar"):
    old.unlink()
with tarfile.open(target, "w") as tar:
    tar.add(data.root, arcname=data.root.name)
print(f"gpu_wheels: {target} holds {data.root.name}")
PY

count=$(ls .whl/*.whl | wc -l)
bytes=$(cat .whl/*.whl .gpu_data/*.tar | wc -c)
mib=$(awk -v b="$bytes" 'BEGIN {printf "%.1f", b / 1048576}')
ls -l .whl .gpu_data | awk 'NF > 5 {printf "%10d  %s\n", $5, $NF}'
echo "gpu_wheels: $count wheels + the MMIT data: $mib MiB (limit $limit_mib MiB)"
awk -v b="$bytes" -v l="$limit_mib" 'BEGIN {exit !(b <= l * 1048576)}' || { echo "gpu_wheels: over the limit" >&2; exit 1; }
