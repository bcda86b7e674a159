# Two commands do all set-up on a fresh machine (Python 3.11, no GPU needed):
#   make test   create .venv, install the pinned project, run the whole test suite (pytest-xdist: one worker per
#               core, one thread each, one file per worker)
#   make book   create .venv, install the pinned project, run every chapter (python -m reproduce), build the book
#   make browser-test   open every page of the built book in headless Chromium, screenshots in _build/screenshots
#                       (after make book; needs Debian's chromium package: apt-get install chromium)
PYTHON ?= python3.11
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
# Compiled extensions are cached here, so a second process (or a second `make test`) does not rebuild.
export TORCH_EXTENSIONS_DIR ?= $(CURDIR)/$(VENV)/torch_extensions
PYTEST_ARGS ?=
# Scale of `make book`: smoke (seconds), embedded (the default: the embedded datasets), full (real data).
SCALE ?= embedded

.PHONY: setup test book browser-test bench lint clean

setup: $(STAMP)

$(STAMP): pyproject.toml requirements.lock
	@command -v $(PYTHON) >/dev/null || { echo "error: $(PYTHON) not found (set PYTHON=/path/to/python3.11)"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet -c requirements.lock -e ".[test,book]"
	$(PY) -m ipykernel install --sys-prefix --name python3 >/dev/null
	mkdir -p $(VENV)/share/jupyter/lab/settings && cp .jupyter/overrides.json $(VENV)/share/jupyter/lab/settings/overrides.json  # .py chapters open as notebooks
	touch $(STAMP)

# tests/browser needs a built book: browser-test runs it.
test: $(STAMP)
	OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 $(PY) -m pytest -n auto --dist loadfile --ignore=tests/browser $(PYTEST_ARGS)

book: $(STAMP)
	$(PY) -m reproduce --scale $(SCALE)
	@test -f _build/html/index.html && echo "book: _build/html/index.html"

browser-test: $(STAMP)  ## every page of the built book in headless Chromium; screenshots in _build/screenshots
	$(PY) -m pytest tests/browser

bench: $(STAMP)
	$(PY) -m paperlib.bench shift --device cpu

clean:
	rm -rf _build .pytest_cache

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
