"""Figures for the notebooks and the book (plotly figures render offline, with plotly.js inlined once)."""

from .offsets import offsets_figure, offsets_static
from .plotly_offline import show
from .shift_slider import shift_slider_figure
from .statements import statements

__all__ = ["offsets_figure", "offsets_static", "shift_slider_figure", "show", "statements"]
