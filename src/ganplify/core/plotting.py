"""The house style of every figure, applied without touching matplotlib's global state.

Figures are :class:`matplotlib.figure.Figure` objects made without pyplot, so no backend is
selected and no window can open; the style is applied inside :func:`styled` only. Importing this
module changes nothing.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence

import matplotlib as mpl
from matplotlib.figure import Figure

STYLE = {
    "font.size": 12,
    "axes.labelsize": 13,
    "legend.fontsize": 10,
    "figure.dpi": 110,
    "savefig.bbox": "tight",
}


def styled(make):
    """Decorator: build the figure inside the house style (a temporary rc context)."""

    @functools.wraps(make)
    def wrapper(*args, **kwargs):
        with mpl.rc_context(STYLE):
            return make(*args, **kwargs)

    return wrapper


def new_figure(nrows: int = 1, ncols: int = 1, **kwargs):
    """``(fig, axes)`` like ``pyplot.subplots``, on a figure that belongs to no pyplot state."""
    fig = Figure(figsize=kwargs.pop("figsize", None))
    axes = fig.subplots(nrows, ncols, **kwargs)
    return fig, axes


def save(fig: Figure, paths: Sequence[str]) -> None:
    """Save ``fig`` to every path (the PNG for the report, the PDF for talks) in the house style."""
    with mpl.rc_context(STYLE):
        for p in paths:
            fig.savefig(p)
