"""The five input/output shapes of a recurrent model, as boxes and arrows.

- ``architecture(kind, steps=3)``: one shape alone; ``kind`` is one of ``KINDS``.
- ``five_shapes(steps=3)``: all five in one figure (two rows).

Time runs left to right, data flows bottom to top: inputs (blue), the recurrent layer
unrolled over the steps (orange; the same weights at every step, its state passed right),
a ``Dense`` read-out (green) that maps each kept state $h_t$ to the output, outputs (pink).
The read-out is drawn on purpose: an LSTM's own states lie in $(-1, 1)$, so a model's
outputs come from a layer on top of them, not from the LSTM itself. The one-to-many shape
is drawn as the notes build it in Keras, with ``RepeatVector``: the one input vector is fed
to every step, not only to the first.
"""

from __future__ import annotations

from matplotlib.axes import Axes
from matplotlib.figure import Figure

from lstm_lib.checks import positive_int
from lstm_lib.viz.diagrams.draw import arrow, box, canvas, label

KINDS = ("one-to-one", "one-to-many", "many-to-one", "many-to-many", "encoder-decoder")

RECIPES = {
    "one-to-one": "Dense(k)",
    "one-to-many": "RepeatVector(T)\nLSTM(H, return_sequences=True)\n"
                   "TimeDistributed(Dense(k))",
    "many-to-one": "LSTM(H)  (return_sequences=False)\nDense(k)",
    "many-to-many": "LSTM(H, return_sequences=True)\nTimeDistributed(Dense(k))",
    "encoder-decoder": "encoder LSTM(H, return_state=True)\n"
                       "decoder LSTM(H, return_sequences=True)(..., initial_state=[h, c])\n"
                       "TimeDistributed(Dense(k))",
}

TITLES = {"many-to-many": "many-to-many (aligned)"}

GAP = 1.7          # distance between two time steps
CELL_W, CELL_H = 1.1, 0.9
IO_W, IO_H = 1.0, 0.55
Y_IN, Y_CELL, Y_DENSE, Y_OUT = 0.5, 2.0, 3.3, 4.45
DENSE_W, DENSE_H = 1.0, 0.5
PANEL_H = 6.9      # height of one panel, titles included
REPEAT = "#4a7bb7"  # the arrows of RepeatVector
HANDOVER = "#b04a2f"  # the encoder's final state handed to the decoder
HANDOVER_GAP = 0.6


def columns(kind: str, steps: int) -> int:
    """Number of time-step columns the shape ``kind`` takes when drawn with ``steps`` steps
    (``encoder-decoder``: ``steps`` encoder and ``steps`` decoder steps)."""
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}, got {kind!r}")
    steps = positive_int("steps", steps)
    return {"one-to-one": 1, "encoder-decoder": 2 * steps}.get(kind, steps)


def panel_width(kind: str, steps: int) -> float:
    """Width in drawing units of the panel of ``kind`` (its columns plus margins)."""
    extra = HANDOVER_GAP if kind == "encoder-decoder" else 0.0
    return GAP * columns(kind, steps) + 0.6 + extra


def _cell(ax: Axes, x: float, y0: float, text: str = "LSTM", color: str = "lstm") -> None:
    box(ax, x, y0 + Y_CELL, CELL_W, CELL_H, text, color=color, fontsize=9)


def _input(ax: Axes, x: float, y0: float, text: str, color: str = "input") -> None:
    box(ax, x, y0 + Y_IN, IO_W, IO_H, text, color=color, fontsize=9)
    arrow(ax, (x, y0 + Y_IN + IO_H / 2), (x, y0 + Y_CELL - CELL_H / 2))


def _output(ax: Axes, x: float, y0: float, text: str, readout: bool = True) -> None:
    """The output box above a step; with ``readout``, through a ``Dense`` box (h_t -> y_t)."""
    box(ax, x, y0 + Y_OUT, IO_W, IO_H, text, color="output", fontsize=9)
    if not readout:
        arrow(ax, (x, y0 + Y_CELL + CELL_H / 2), (x, y0 + Y_OUT - IO_H / 2))
        return
    box(ax, x, y0 + Y_DENSE, DENSE_W, DENSE_H, "Dense", color="dense", fontsize=8)
    arrow(ax, (x, y0 + Y_CELL + CELL_H / 2), (x, y0 + Y_DENSE - DENSE_H / 2))
    arrow(ax, (x, y0 + Y_DENSE + DENSE_H / 2), (x, y0 + Y_OUT - IO_H / 2))


def _chain(ax: Axes, xs: list[float], y0: float) -> None:
    """The recurrent state passed from each step to the next."""
    for a, b in zip(xs[:-1], xs[1:], strict=True):
        arrow(ax, (a + CELL_W / 2, y0 + Y_CELL), (b - CELL_W / 2, y0 + Y_CELL))


def draw_shape(ax: Axes, kind: str, x0: float = 0.0, y0: float = 0.0, steps: int = 3,
               title: bool = True) -> float:
    """Draw the shape ``kind`` on ``ax`` with the bottom of its input row near ``y0`` and
    its left edge at ``x0``; returns the width used. With ``title``, the name goes above
    and the Keras recipe below."""
    n = columns(kind, steps)
    width = panel_width(kind, steps)
    xs = [x0 + 0.3 + GAP * (i + 0.5) for i in range(n)]
    if kind == "encoder-decoder":  # a little more room for the hand-over
        xs = [x + HANDOVER_GAP if i >= steps else x for i, x in enumerate(xs)]
    if kind == "one-to-one":
        box(ax, xs[0], y0 + Y_CELL, CELL_W, CELL_H, "Dense", color="dense", fontsize=9)
        _input(ax, xs[0], y0, "$x$")
        _output(ax, xs[0], y0, "$y$", readout=False)   # the Dense box is the model
    elif kind == "one-to-many":
        mid = (xs[0] + xs[-1]) / 2
        y_vec = y0 + Y_IN - 0.35
        box(ax, mid, y_vec, IO_W, IO_H, "$x$", color="input", fontsize=9)
        for i, x in enumerate(xs):
            _cell(ax, x, y0)
            arrow(ax, (mid, y_vec + IO_H / 2), (x, y0 + Y_CELL - CELL_H / 2), color=REPEAT)
            _output(ax, x, y0, f"$y_{i + 1}$")
        label(ax, mid + 0.65, y_vec, "repeat", fontsize=8, ha="left", color=REPEAT)
        _chain(ax, xs, y0)
    elif kind == "many-to-one":
        for i, x in enumerate(xs):
            _cell(ax, x, y0)
            _input(ax, x, y0, f"$x_{i + 1}$")
        _output(ax, xs[-1], y0, "$y$")
        _chain(ax, xs, y0)
    elif kind == "many-to-many":
        for i, x in enumerate(xs):
            _cell(ax, x, y0)
            _input(ax, x, y0, f"$x_{i + 1}$")
            _output(ax, x, y0, f"$y_{i + 1}$")
        _chain(ax, xs, y0)
    else:  # encoder-decoder
        enc, dec = xs[:steps], xs[steps:]
        for i, x in enumerate(enc):
            _cell(ax, x, y0, "enc")
            _input(ax, x, y0, f"$x_{i + 1}$")
        for i, x in enumerate(dec):
            _cell(ax, x, y0, "dec", color="backward")
            _input(ax, x, y0, f"$q_{i + 1}$", color="state")
            _output(ax, x, y0, f"$y_{i + 1}$")
        _chain(ax, enc, y0)
        _chain(ax, dec, y0)
        arrow(ax, (enc[-1] + CELL_W / 2, y0 + Y_CELL), (dec[0] - CELL_W / 2, y0 + Y_CELL),
              color=HANDOVER)
        label(ax, (enc[-1] + dec[0]) / 2, y0 + Y_CELL + 0.32, "$h, c$", fontsize=9,
              color=HANDOVER)
    if title:
        label(ax, x0 + width / 2, y0 + Y_OUT + 0.75, TITLES.get(kind, kind), fontsize=11)
        label(ax, x0 + width / 2, y0 - 0.2, RECIPES[kind], fontsize=7.5, va="top")
    return width


def architecture(kind: str, steps: int = 3) -> tuple[Figure, Axes]:
    """One shape alone, with its name and Keras recipe. Returns ``(fig, ax)``."""
    width = panel_width(kind, steps)
    fig, ax = canvas(width, PANEL_H, figsize=(max(2.6, 0.62 * width), 0.62 * PANEL_H))
    draw_shape(ax, kind, 0.0, 1.2, steps)
    return fig, ax


def five_shapes(steps: int = 3) -> tuple[Figure, Axes]:
    """All five shapes: one-to-one, one-to-many, many-to-one on the first row; many-to-many
    (aligned) and encoder-decoder on the second. Returns ``(fig, ax)``."""
    steps = positive_int("steps", steps)
    rows = (KINDS[:3], KINDS[3:])
    sep = 0.6
    widths = [sum(panel_width(k, steps) for k in row) + sep * (len(row) - 1) for row in rows]
    width = max(widths)
    height = 2 * PANEL_H
    fig, ax = canvas(width, height, figsize=(0.62 * width, 0.62 * height))
    for r, row in enumerate(rows):
        y0 = height - PANEL_H * (r + 1) + 1.2
        x = (width - widths[r]) / 2
        for kind in row:
            x += draw_shape(ax, kind, x, y0, steps) + sep
    return fig, ax


__all__ = ["KINDS", "RECIPES", "TITLES", "architecture", "columns", "draw_shape", "five_shapes",
           "panel_width"]
