"""The LSTM cell (one time step) as a boxes-and-arrows diagram.

The picture follows the equations of one step:

- along the top runs the cell state: ``c_{t-1}`` is multiplied by the forget gate ``f_t``,
  then ``i_t * g_t`` is added, giving ``c_t``;
- along the bottom, ``h_{t-1}`` and ``x_t`` are joined into one vector ``[h_{t-1}, x_t]``
  that feeds the four blocks of weights ``sigma, sigma, tanh, sigma``: the input gate i,
  the forget gate f, the candidate g and the output gate o, left to right in PyTorch's row
  order (the input gate's wire passes under the forget gate's on its way to the product);
- on the right, ``tanh(c_t)`` is multiplied by the output gate, giving ``h_t``.
"""

from __future__ import annotations

from matplotlib import patheffects
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import FancyBboxPatch

from lstm_lib.viz.diagrams import draw

# One (ink, fill) pair per block of weights.
GATE_COLORS = {"f": "#2f5f9e", "i": "#3a7d44", "g": "#b3541e", "o": "#6a4c9c"}
GATE_FILLS = {"f": "#d6e4f5", "i": "#d8efd9", "g": "#fbe0cc", "o": "#e6dcf3"}
GATE_NAMES = {"f": "forget gate", "i": "input gate", "g": "candidate", "o": "output gate"}

_R = 0.27  # radius of a pointwise-operation node
_Y_C = 5.5  # the cell-state line
_Y_BUS = 1.7  # the [h_{t-1}, x_t] line
_Y_GATE = 2.95  # centre of the four blocks of weights
_GATE_W, _GATE_H = 1.36, 0.82
_X_GATE = {"i": 3.1, "f": 4.6, "g": 6.1, "o": 7.6}  # PyTorch's row order i, f, g, o
_SMALL = 10  # labels in small print (names of blocks, notes): still readable at book width
_X_OUT = 9.0  # column of tanh(c_t) and of the output product
_X_END = 11.4  # where c_t and h_t leave the picture


def _wire(ax: Axes, points: list[tuple[float, float]], color: str = draw.INK) -> None:
    """A wire without arrow head (the bent part of a connection)."""
    xs, ys = zip(*points, strict=True)
    ax.plot(xs, ys, color=color, lw=1.3, solid_capstyle="round", zorder=1)


def _dot(ax: Axes, x: float, y: float) -> None:
    """A junction: where one wire splits into two."""
    ax.plot([x], [y], "o", color=draw.INK, ms=5, zorder=2)


def lstm_cell(*, equations: bool = True) -> tuple[Figure, Axes]:
    """Draw one LSTM cell (one time step) and return ``(fig, ax)``.

    Args:
        equations: if True, write the six equations of the step to the right of the cell,
            each gate's equation in that gate's colour.

    Returns:
        The Matplotlib figure and axes; the caller shows or saves the figure.
    """
    if not isinstance(equations, bool):
        raise TypeError(f"equations must be a bool, got {type(equations).__name__}")
    width = 17.6 if equations else 12.0
    fig, ax = draw.canvas(width, 6.9)

    # the cell's outline
    ax.add_patch(FancyBboxPatch((1.1, 0.95), 9.1, 5.35,
                                boxstyle="round,pad=0.05,rounding_size=0.35",
                                facecolor="#f6f7fa", edgecolor="#a7aebb", lw=1.2, zorder=0))
    draw.label(ax, 1.35, 6.05, "one LSTM step", fontsize=_SMALL, ha="left", color="#6b7280")

    # --- the cell state along the top: c_{t-1} -> (x f_t) -> (+ i_t g_t) -> c_t
    x_mul_f, x_add = _X_GATE["f"], _X_GATE["g"]
    draw.label(ax, 0.45, _Y_C + 0.35, r"$c_{t-1}$", fontsize=13)
    draw.arrow(ax, (0.0, _Y_C), (x_mul_f - _R, _Y_C))
    draw.node(ax, x_mul_f, _Y_C, r"$\times$", r=_R, color="gate")
    draw.arrow(ax, (x_mul_f + _R, _Y_C), (x_add - _R, _Y_C))
    draw.node(ax, x_add, _Y_C, "$+$", r=_R, color="gate")
    draw.arrow(ax, (x_add + _R, _Y_C), (_X_END, _Y_C))
    draw.label(ax, _X_END - 0.45, _Y_C + 0.35, r"$c_t$", fontsize=13)
    draw.label(ax, 5.35, _Y_C + 0.3, "cell state", fontsize=_SMALL, color="#6b7280")

    # --- the input: [h_{t-1}, x_t] feeds all four blocks of weights
    x_join = 1.8
    draw.label(ax, 0.45, _Y_BUS + 0.35, r"$h_{t-1}$", fontsize=13)
    _wire(ax, [(0.0, _Y_BUS), (_X_GATE["o"], _Y_BUS)])
    draw.label(ax, x_join + 0.45, 0.35, r"$x_t$", fontsize=13)
    draw.arrow(ax, (x_join, 0.05), (x_join, _Y_BUS))
    _dot(ax, x_join, _Y_BUS)
    draw.label(ax, 2.6, _Y_BUS - 0.38, r"$[h_{t-1},\, x_t]$", fontsize=11)

    for gate, x in _X_GATE.items():
        if gate != "o":
            _dot(ax, x, _Y_BUS)
        draw.arrow(ax, (x, _Y_BUS), (x, _Y_GATE - _GATE_H / 2))
        draw.box(ax, x, _Y_GATE, _GATE_W, _GATE_H, color=GATE_FILLS[gate])
        act = r"$\tanh$" if gate == "g" else r"$\sigma$"
        draw.label(ax, x, _Y_GATE + 0.12, act, fontsize=13)
        draw.label(ax, x, _Y_GATE - 0.22, GATE_NAMES[gate], fontsize=_SMALL - 1.5,
                   color=GATE_COLORS[gate])

    top = _Y_GATE + _GATE_H / 2
    # i_t and g_t meet in a product, which goes up into the sum
    y_ig = 4.45
    _wire(ax, [(_X_GATE["i"], top), (_X_GATE["i"], y_ig)], GATE_COLORS["i"])
    draw.arrow(ax, (_X_GATE["i"], y_ig), (x_add - _R, y_ig), color=GATE_COLORS["i"])
    draw.label(ax, _X_GATE["i"] - 0.32, 4.05, r"$i_t$", fontsize=13, color=GATE_COLORS["i"])
    # f_t goes up into the forget product, over the i_t wire (a gap in the halo marks it)
    f_arrow = draw.arrow(ax, (x_mul_f, top), (x_mul_f, _Y_C - _R), color=GATE_COLORS["f"])
    f_arrow.set_path_effects([patheffects.withStroke(linewidth=7, foreground="#f6f7fa"),
                              patheffects.Normal()])
    f_arrow.set_zorder(3)
    draw.label(ax, x_mul_f + 0.32, 3.95, r"$f_t$", fontsize=13, color=GATE_COLORS["f"])
    draw.arrow(ax, (x_add, top), (x_add, y_ig - _R), color=GATE_COLORS["g"])
    draw.label(ax, x_add + 0.33, 3.95, r"$g_t$", fontsize=13, color=GATE_COLORS["g"])
    draw.node(ax, x_add, y_ig, r"$\times$", r=_R, color="gate")
    draw.arrow(ax, (x_add, y_ig + _R), (x_add, _Y_C - _R))

    # --- the output: h_t = o_t * tanh(c_t)
    y_tanh, y_mul_o = 4.55, 3.55
    _dot(ax, _X_OUT, _Y_C)
    draw.arrow(ax, (_X_OUT, _Y_C), (_X_OUT, y_tanh + 0.2))
    draw.box(ax, _X_OUT, y_tanh, 0.85, 0.4, r"$\tanh$", color="gate", fontsize=10)
    draw.arrow(ax, (_X_OUT, y_tanh - 0.2), (_X_OUT, y_mul_o + _R))
    _wire(ax, [(_X_GATE["o"], top), (_X_GATE["o"], y_mul_o)], GATE_COLORS["o"])
    draw.arrow(ax, (_X_GATE["o"], y_mul_o), (_X_OUT - _R, y_mul_o), color=GATE_COLORS["o"])
    draw.label(ax, _X_GATE["o"] + 0.62, y_mul_o + 0.28, r"$o_t$", fontsize=13,
               color=GATE_COLORS["o"])
    draw.node(ax, _X_OUT, y_mul_o, r"$\times$", r=_R, color="gate")
    _wire(ax, [(_X_OUT, y_mul_o - _R), (_X_OUT, _Y_BUS)])
    draw.arrow(ax, (_X_OUT, _Y_BUS), (_X_END, _Y_BUS))
    draw.label(ax, _X_END - 0.45, _Y_BUS + 0.35, r"$h_t$", fontsize=13)
    draw.label(ax, 10.85, _Y_BUS - 0.5, "output, and\nto step t+1", fontsize=_SMALL,
               color="#6b7280")

    if equations:
        eqs = [
            ("i", r"$i_t = \sigma(W_{ii}\, x_t + W_{hi}\, h_{t-1} + b_i)$"),
            ("f", r"$f_t = \sigma(W_{if}\, x_t + W_{hf}\, h_{t-1} + b_f)$"),
            ("g", r"$g_t = \tanh(W_{ig}\, x_t + W_{hg}\, h_{t-1} + b_g)$"),
            ("o", r"$o_t = \sigma(W_{io}\, x_t + W_{ho}\, h_{t-1} + b_o)$"),
            ("", r"$c_t = f_t \odot c_{t-1} + i_t \odot g_t$"),
            ("", r"$h_t = o_t \odot \tanh(c_t)$"),
        ]
        for k, (gate, eq) in enumerate(eqs):
            draw.label(ax, 12.0, 5.6 - 0.8 * k, eq, fontsize=12, ha="left",
                       color=GATE_COLORS.get(gate, draw.INK))
    return fig, ax


__all__ = ["lstm_cell", "GATE_COLORS", "GATE_FILLS", "GATE_NAMES"]
