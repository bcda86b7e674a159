"""Sphinx extension: a banner on every page of a book built from a trial of the full route.

``python -m reproduce --scale full --trial`` sets ``$PAPERLIB_TRIAL`` (:mod:`paperlib.experiments.trial`); while it
is set, every page, hand-written or executed, opens with the theme's announcement bar saying that the book is a
trial whose numbers measure nothing. Without it this extension does nothing.
"""

from __future__ import annotations


def _announce(app, config) -> None:
    from paperlib.experiments import trial

    if trial.current() is None:
        return
    config.html_theme_options = {**(config.html_theme_options or {}), "announcement": trial.banner()}


def setup(app):
    app.connect("config-inited", _announce)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
