"""Sphinx extension: each page includes each script once.

sphinx-thebe adds its inline configuration script (``const THEBE_JS_URL = ...``) every time Sphinx reads the
sources, and a build that reads them twice then declares the constant twice, a JavaScript error on every page
("Identifier 'THEBE_JS_URL' has already been declared"). Dropping repeated scripts from each page's context fixes
it without touching the theme.
"""

from __future__ import annotations


def _unique_scripts(app, pagename, templatename, context, doctree) -> None:
    seen: set[tuple] = set()
    unique = []
    for script in context.get("script_files", []):
        attributes = tuple(sorted((k, str(v)) for k, v in getattr(script, "attributes", {}).items()))
        key = (getattr(script, "filename", str(script)), attributes)
        if key not in seen:
            seen.add(key)
            unique.append(script)
    if "script_files" in context:
        context["script_files"][:] = unique


def setup(app):
    app.connect("html-page-context", _unique_scripts, priority=900)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
