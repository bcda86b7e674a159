"""The install is reproducible and complete: pyproject.toml, environment.yml and requirements.lock pin the same
set, and a built wheel carries the modules, the recipes and the kernel sources the package reads at run time."""

import os
import re
import shutil
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
GROUPS = ("test", "book")  # the optional groups `make test` / `make book` install


def _pins(lines):
    pins = {}
    for line in lines:
        m = re.fullmatch(r"\s*([A-Za-z0-9_.\-]+)==([^\s;#]+)\s*", line)
        if m:
            pins[m.group(1).lower().replace("_", "-")] = m.group(2)
    return pins


def _project():
    return tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]


def _all_requirements():
    """The run-time dependencies and every optional group, as listed."""
    project = _project()
    return project["dependencies"] + [d for group in GROUPS for d in project["optional-dependencies"][group]]


def test_pyproject_pins_everything_exactly():
    deps = _all_requirements()
    assert deps and len(_pins(deps)) == len(deps), f"unpinned dependencies: {[d for d in deps if '==' not in d]}"
    assert set(_project()["optional-dependencies"]) == set(GROUPS)


def test_tooling_is_in_the_groups_not_in_the_run_time_dependencies():
    runtime = _pins(_project()["dependencies"])
    groups = {name: _pins(_project()["optional-dependencies"][name]) for name in GROUPS}
    assert {"pytest", "hypothesis", "playwright", "ruff", "pre-commit"} <= set(groups["test"])
    assert {"papermill", "jupytext", "jupyter-book", "ipykernel"} <= set(groups["book"])
    assert not set(runtime) & (set(groups["test"]) | set(groups["book"]))
    assert {"torch", "torchvision", "pyyaml", "ninja"} <= set(runtime)
    assert 'install --quiet -c requirements.lock -e ".[test,book]"' in (ROOT / "Makefile").read_text()


def test_environment_yml_matches_pyproject():
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    pip_section = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict) and "pip" in d)
    assert _pins(pip_section) == _pins(_all_requirements())
    assert "python=3.11" in env["dependencies"]
    assert "-e .[test,book]" in pip_section


def test_lock_file_agrees_with_pyproject():
    lock = _pins((ROOT / "requirements.lock").read_text().splitlines())
    pins = _pins(_all_requirements())
    disagreeing = {name: (version, lock.get(name)) for name, version in pins.items() if lock.get(name) != version}
    assert not disagreeing, f"pyproject vs requirements.lock: {disagreeing}"


def test_readme_opens_with_the_two_setup_commands():
    text = (ROOT / "README.md").read_text()
    first_block = re.search(r"```(?:bash|sh)?\n(.*?)```", text, re.S).group(1)
    commands = [line.strip() for line in first_block.splitlines() if line.strip() and not line.startswith("#")]
    assert commands == ["make book", "make test"]
    ci = [line.strip() for line in (ROOT / ".ci" / "run").read_text().splitlines()]
    assert "make test" in ci and ci.index("make lint") < ci.index("make test")


def test_console_scripts_point_at_main_functions():
    import importlib

    scripts = _project()["scripts"]
    assert {"paperlib-train", "paperlib-evaluate", "paperlib-predict", "paperlib-bench"} <= set(scripts)
    for name, target in scripts.items():
        module, _, function = target.partition(":")
        assert callable(getattr(importlib.import_module(module), function)), name


@pytest.mark.slow
def test_the_wheel_carries_the_modules_recipes_and_kernel_sources(tmp_path):
    """``pip wheel`` of a copy of the checkout holds every module, recipe and kernel source (the top-level
    ``csrc/`` as ``paperlib/csrc/``), and paperlib installed from it finds the kernel sources it compiles."""
    source = tmp_path / "source"  # a copy, so the build leaves nothing in the checkout
    for folder in ("paperlib", "csrc"):
        shutil.copytree(ROOT / folder, source / folder, ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source)
    build = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", str(source), "-w"]
    done = subprocess.run([*build, str(tmp_path / "dist")], capture_output=True, text=True, cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-2000:]
    (wheel,) = (tmp_path / "dist").glob("paperlib-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    modules = {p.relative_to(ROOT).as_posix() for p in (ROOT / "paperlib").rglob("*.py")}
    recipes = {p.relative_to(ROOT).as_posix() for p in (ROOT / "paperlib" / "configs").glob("*.yaml")}
    kernels = {"paperlib/" + p.relative_to(ROOT).as_posix() for p in (ROOT / "csrc").rglob("*") if p.is_file()}
    assert "paperlib/engine/trainer.py" in modules and modules <= names, modules - names
    assert "paperlib/configs/smoke.yaml" in recipes and recipes <= names, recipes - names
    assert "paperlib/csrc/interlace_shift.cpp" in kernels and kernels <= names, kernels - names
    entry_points = next(n for n in names if n.endswith(".dist-info/entry_points.txt"))
    assert "paperlib-train = paperlib.train:main" in zipfile.ZipFile(wheel).read(entry_points).decode()

    site = tmp_path / "site"  # installed outside the checkout: the loader reads the wheel's paperlib/csrc
    zipfile.ZipFile(wheel).extractall(site)
    probe = (
        "from paperlib.ops import _extension as e\n"
        "print(e.CSRC)\n"
        "assert all((e.CSRC / s).is_file() for s in e.CPU_SOURCES + e.CUDA_SOURCES)\n"
    )
    found = subprocess.run(
        [sys.executable, "-c", probe],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(site)},
    )
    assert found.returncode == 0, found.stderr[-2000:]
    assert found.stdout.strip() == str(site / "paperlib" / "csrc")


def test_the_checkout_compiles_the_top_level_csrc():
    """In a checkout (editable install or ``PYTHONPATH``) the kernels are the top-level ``csrc/``."""
    from paperlib.ops import _extension

    assert _extension.CSRC == ROOT / "csrc"
    assert not (ROOT / "paperlib" / "csrc").exists()
    assert all((ROOT / "csrc" / s).is_file() for s in _extension.CPU_SOURCES + _extension.CUDA_SOURCES)
