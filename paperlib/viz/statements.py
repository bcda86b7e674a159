"""A chapter's computed statements (its verdict, notes) as a bulleted paragraph that wraps to the page."""

from __future__ import annotations

from collections.abc import Iterable


def statements(lines: Iterable[str]):
    """``lines`` as a Markdown bullet list (an ``IPython.display.Markdown``, shown when it ends a cell): prose that
    wraps to the column, where printed lines would run off the page."""
    from IPython.display import Markdown

    return Markdown("\n".join(f"- {line}" for line in lines))
