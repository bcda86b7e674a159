"""Sphinx extension: how long each chapter took to execute, written to ``_build/execution_times.json``.

MyST-NB records each executed notebook's run time (seconds) in the build environment; once the build ends this
writes ``{"chapters/table1": 225.4, ...}`` beside the HTML folder, so ``python -m reproduce`` can print the
breakdown and a measured build can be committed with it.
"""

from __future__ import annotations

import json
from pathlib import Path


def _write_times(app, exception) -> None:
    if exception is not None:
        return
    from myst_nb.sphinx_ import NbMetadataCollector

    times = {}
    for docname, data in sorted(NbMetadataCollector.get_doc_data(app.env).items()):
        executed = data.get("exec_data") or {}
        if executed.get("runtime") is not None:
            times[docname] = round(float(executed["runtime"]), 1)
    (Path(app.outdir).parent / "execution_times.json").write_text(json.dumps(times, indent=1) + "\n")


def setup(app):
    app.connect("build-finished", _write_times)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
