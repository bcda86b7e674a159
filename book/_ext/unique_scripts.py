"""Sphinx extension: each page includes each script once.

sphinx-thebe (and sphinx-togglebutton) add inline scripts through the application, and Sphinx 7.4 files them
twice: once from its registry with the file name ``""`` and once directly with ``None``, which its own check does
not see as equal. The page then declares ``const THEBE_JS_URL`` twice, a JavaScript error on every page
("Identifier 'THEBE_JS_URL' has already been declared"). Dropping repeated scripts (an inline script's missing
file name counted as one) from each page's context fixes it without touching the theme.
"""

from __future__ import annotations


def _unique_scripts(app, pagename, templatename, context, doctree) -> None:
    seen: set[tuple] = set()
    unique = []
    for script in context.get("script_files", []):
        attributes = tuple(sorted((k, str(v)) for k, v in getattr(script, "attributes", {}).items()))
        key = (getattr(script, "filename", str(script)) or "", attributes)  # inline: None or "" (same script)
        if key not in seen:
            seen.add(key)
            unique.append(script)
    if "script_files" in context:
        context["script_files"][:] = unique


def setup(app):
    app.connect("html-page-context", _unique_scripts, priority=900)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
