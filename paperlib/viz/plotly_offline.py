"""Show plotly figures as self-contained HTML, so a static Jupyter Book page stays interactive offline.

plotly's default renderer under nbclient emits only a JSON mime bundle that myst-nb drops, and its HTML
renderers fetch plotly.js/MathJax from CDNs. Here plotly.js is inlined with the first figure of a kernel
and reused by the later ones.
"""

from __future__ import annotations

_plotlyjs_sent = False


def show(fig) -> None:
    """Display ``fig`` (a ``plotly.graph_objects.Figure``) as HTML with no network references."""
    global _plotlyjs_sent
    from IPython.display import HTML, display

    html = fig.to_html(
        full_html=False,
        include_plotlyjs=not _plotlyjs_sent,
        include_mathjax=False,
        config={"responsive": True, "displaylogo": False},
    )
    display(HTML(html))
    _plotlyjs_sent = True
