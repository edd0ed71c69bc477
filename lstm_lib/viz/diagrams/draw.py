"""Primitives for boxes-and-arrows diagrams in Matplotlib.

    fig, ax = canvas(10, 4)                 # a 10 x 4 drawing area, units are arbitrary
    box(ax, 2, 2, 2, 1, "LSTM")             # centred at (2, 2), 2 wide, 1 high
    arrow(ax, (3, 2), (6, 2), label="h_t")  # from the box's right edge
"""

from __future__ import annotations

import matplotlib.pyplot as plt
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import Circle, FancyArrowPatch, FancyBboxPatch

INK = "#222222"
COLORS = {"input": "#dbe9f6", "lstm": "#fde3c8", "dense": "#e3f1dc", "output": "#f3dcef",
          "gate": "#fff2b3", "state": "#eeeeee", "backward": "#d9d2f0"}


def canvas(width: float, height: float, figsize: tuple[float, float] | None = None) -> tuple[
        Figure, Axes]:
    """A figure whose axes span [0, width] x [0, height] with equal aspect and no frame."""
    if not (width > 0 and height > 0):
        raise ValueError(f"width and height must be positive, got {width}, {height}")
    fig, ax = plt.subplots(figsize=figsize or (width * 0.7, height * 0.7))
    ax.set_xlim(0, width)
    ax.set_ylim(0, height)
    ax.set_aspect("equal")
    ax.axis("off")
    return fig, ax


def box(ax: Axes, x: float, y: float, w: float, h: float, text: str = "", *,
        color: str = "white", fontsize: float = 11, rounded: bool = True) -> FancyBboxPatch:
    """A box centred at (x, y), w wide and h high, with ``text`` in its middle.
    ``color`` is a fill colour or a key of ``COLORS`` (input, lstm, dense, output, ...)."""
    fill = COLORS.get(color, color)
    style = "round,pad=0.02,rounding_size=0.12" if rounded else "square,pad=0.0"
    patch = FancyBboxPatch((x - w / 2, y - h / 2), w, h, boxstyle=style, facecolor=fill,
                           edgecolor=INK, linewidth=1.3)
    ax.add_patch(patch)
    if text:
        ax.text(x, y, text, ha="center", va="center", fontsize=fontsize, color=INK)
    return patch


def node(ax: Axes, x: float, y: float, text: str, r: float = 0.25, *, color: str = "white",
         fontsize: float = 11) -> Circle:
    """A small circle at (x, y) with a symbol in it (for x, +, tanh in cell diagrams)."""
    c = Circle((x, y), r, facecolor=COLORS.get(color, color), edgecolor=INK, linewidth=1.3)
    ax.add_patch(c)
    ax.text(x, y, text, ha="center", va="center", fontsize=fontsize, color=INK)
    return c


def arrow(ax: Axes, start: tuple[float, float], end: tuple[float, float],
          label: str | None = None, *, color: str = INK, label_pos: float = 0.5,
          label_offset: tuple[float, float] = (0.0, 0.0), curve: float = 0.0,
          fontsize: float = 10, style: str = "-|>") -> FancyArrowPatch:
    """An arrow from ``start`` to ``end`` (a straight line, or an arc if ``curve`` != 0),
    with an optional label near the point at ``label_pos`` (0 = start, 1 = end)."""
    patch = FancyArrowPatch(start, end, arrowstyle=style, mutation_scale=12, color=color,
                            linewidth=1.3, connectionstyle=f"arc3,rad={curve}",
                            shrinkA=0, shrinkB=0)
    ax.add_patch(patch)
    if label:
        lx = start[0] + (end[0] - start[0]) * label_pos + label_offset[0]
        ly = start[1] + (end[1] - start[1]) * label_pos + label_offset[1]
        ax.text(lx, ly, label, ha="center", va="center", fontsize=fontsize, color=color,
                bbox={"facecolor": "white", "edgecolor": "none", "pad": 1.0})
    return patch


def label(ax: Axes, x: float, y: float, text: str, *, fontsize: float = 11,
          ha: str = "center", va: str = "center", color: str = INK) -> None:
    """Free text at (x, y)."""
    ax.text(x, y, text, ha=ha, va=va, fontsize=fontsize, color=color)
