"""Sphinx extension: a chapter's download button serves the executed notebook, not the unexecuted source.

Jupyter Book's ".ipynb" download links to ``_sources/<page>.ipynb``, the notebook as stored in the repository
(no outputs). MyST-NB writes each notebook it executed to ``<build>/jupyter_execute/<page>.ipynb``; once the
HTML is written, this copies those over the ``_sources`` copies, without stderr outputs (warnings, progress) and
with the repository's absolute path replaced by ``.``, so the download is the page as the reader saw it.
"""

from __future__ import annotations

import json
from pathlib import Path


def executed_notebook(executed: Path, repository: Path) -> str:
    """The executed notebook's JSON, stderr outputs dropped and the repository path made relative."""
    notebook = json.loads(executed.read_text(encoding="utf-8"))
    for cell in notebook.get("cells", []):
        if "outputs" in cell:
            cell["outputs"] = [o for o in cell["outputs"] if o.get("name") != "stderr"]
    return json.dumps(notebook, indent=1, ensure_ascii=False).replace(str(repository), ".")


def _copy_executed(app, exception) -> None:
    if exception is not None or app.builder.format != "html":
        return
    outdir = Path(app.outdir)
    executed_root = outdir.parent / "jupyter_execute"
    repository = Path(app.srcdir).resolve().parent
    for source in (outdir / "_sources").rglob("*.ipynb"):
        executed = executed_root / source.relative_to(outdir / "_sources")
        if executed.is_file():
            source.write_text(executed_notebook(executed, repository), encoding="utf-8")


def setup(app):
    app.connect("build-finished", _copy_executed)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
