"""The training recipes shipped with paperlib, one ``<name>.yaml`` file each (package data).

``recipe_path("smoke")`` (or ``"smoke.yaml"``) is the file of a recipe, ``available_recipes()`` lists their
names; ``python -m paperlib.train --config NAME`` and :func:`paperlib.engine.config.load_config` accept either
a recipe name or a path to a YAML file.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from ..errors import UserError

SUFFIX = ".yaml"


class UnknownRecipeError(UserError, ValueError):
    """No recipe of that name ships with paperlib; the message lists those that do."""


def recipe_dir() -> Path:
    """The folder holding the recipes (paperlib is installed as files, not zipped)."""
    return Path(str(resources.files(__name__)))


def available_recipes() -> list[str]:
    """The names of the shipped recipes, sorted (``["embedded_mmit", ..., "smoke", ...]``)."""
    return sorted(path.stem for path in recipe_dir().glob(f"*{SUFFIX}"))


def recipe_path(name: str) -> Path:
    """The YAML file of the recipe ``name`` (with or without ``.yaml``); UnknownRecipeError if there is none."""
    stem = name.removesuffix(SUFFIX)
    if stem not in available_recipes():
        raise UnknownRecipeError(f"no recipe named {name!r}; available recipes: {', '.join(available_recipes())}")
    return recipe_dir() / f"{stem}{SUFFIX}"
