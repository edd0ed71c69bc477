"""The bidirectional LSTM unrolled over a few steps, as a boxes-and-arrows diagram.

From the bottom up: the inputs ``x_1 .. x_T``; the forward reader, whose state flows left to
right; the backward reader, whose state flows right to left; and on top one output box per
step holding the two states of that step side by side, ``[h_fwd_t | h_bwd_t]`` (forward
first, as in ``torch.nn.LSTM``). Each input feeds both readers. The final states leave the
forward row on the right (``h_n[-2]``, after reading ``x_T``) and the backward row on the
left (``h_n[-1]``, after reading ``x_1``).
"""

from __future__ import annotations

from matplotlib.axes import Axes
from matplotlib.figure import Figure

from lstm_lib import checks
from lstm_lib.viz.diagrams import draw

_DX = 2.6  # distance between two time steps
_W, _H = 1.3, 0.8  # size of a reader box
_Y_IN, _Y_FWD, _Y_BWD, _Y_OUT = 0.7, 2.5, 4.5, 6.5  # rows, bottom to top
_FWD_COLOR, _BWD_COLOR = "#c55a11", "#5b4ea8"


def bilstm(steps: int = 4, *, final_states: bool = True) -> tuple[Figure, Axes]:
    """Draw a one-layer bidirectional LSTM unrolled over ``steps`` time steps (2 to 8).

    final_states: if True, show where ``h_n[-2]`` (forward) and ``h_n[-1]`` (backward) leave.
    Returns ``(fig, ax)``; the caller shows or saves the figure.
    """
    steps = checks.positive_int("steps", steps)
    if not 2 <= steps <= 8:
        raise ValueError(f"steps must be between 2 and 8, got {steps}")
    left = 3.0
    width = left + (steps - 1) * _DX + 2.6
    fig, ax = draw.canvas(width, 7.4)
    xs = [left + t * _DX for t in range(steps)]
    for t, x in enumerate(xs):
        n = str(t + 1)
        draw.box(ax, x, _Y_IN, _W + 0.2, 0.6, f"$x_{{{n}}}$", color="input")
        draw.box(ax, x, _Y_FWD, _W, _H, "LSTM$_\\rightarrow$", color="lstm", fontsize=10)
        draw.box(ax, x, _Y_BWD, _W, _H, "LSTM$_\\leftarrow$", color="backward", fontsize=10)
        # the output of step t: two halves, forward state left, backward state right
        draw.box(ax, x - 0.35, _Y_OUT, 0.7, 0.6, f"$\\overrightarrow{{h}}_{{{n}}}$",
                 color="lstm", rounded=False, fontsize=10)
        draw.box(ax, x + 0.35, _Y_OUT, 0.7, 0.6, f"$\\overleftarrow{{h}}_{{{n}}}$",
                 color="backward", rounded=False, fontsize=10)
        # x_t feeds the forward reader straight up and the backward reader around the left
        draw.arrow(ax, (x, _Y_IN + 0.3), (x, _Y_FWD - _H / 2))
        draw.arrow(ax, (x - 0.4, _Y_IN + 0.3), (x - 0.45, _Y_BWD - _H / 2), curve=-0.35)
        # each reader's state goes up into its half of the output box
        draw.arrow(ax, (x + 0.45, _Y_FWD + _H / 2), (x - 0.35, _Y_OUT - 0.3), curve=0.35,
                   color=_FWD_COLOR)
        draw.arrow(ax, (x + 0.35, _Y_BWD + _H / 2), (x + 0.35, _Y_OUT - 0.3), color=_BWD_COLOR)
    for a, b in zip(xs[:-1], xs[1:], strict=True):
        draw.arrow(ax, (a + _W / 2, _Y_FWD), (b - _W / 2, _Y_FWD), color=_FWD_COLOR)
        draw.arrow(ax, (b - _W / 2, _Y_BWD), (a + _W / 2, _Y_BWD), color=_BWD_COLOR)
    # zero initial states enter where each reader starts
    draw.arrow(ax, (xs[0] - _W / 2 - 0.8, _Y_FWD), (xs[0] - _W / 2, _Y_FWD), color=_FWD_COLOR)
    draw.label(ax, xs[0] - _W / 2 - 1.0, _Y_FWD, "0", color=_FWD_COLOR)
    draw.arrow(ax, (xs[-1] + _W / 2 + 0.8, _Y_BWD), (xs[-1] + _W / 2, _Y_BWD), color=_BWD_COLOR)
    draw.label(ax, xs[-1] + _W / 2 + 1.0, _Y_BWD, "0", color=_BWD_COLOR)
    if final_states:
        draw.arrow(ax, (xs[-1] + _W / 2, _Y_FWD), (xs[-1] + _W / 2 + 1.0, _Y_FWD),
                   color=_FWD_COLOR)
        draw.label(ax, xs[-1] + _W / 2 + 1.05, _Y_FWD - 0.4, "$h_n[-2]$", fontsize=10,
                   color=_FWD_COLOR)
        draw.arrow(ax, (xs[0] - _W / 2, _Y_BWD), (xs[0] - _W / 2 - 1.0, _Y_BWD),
                   color=_BWD_COLOR)
        draw.label(ax, xs[0] - _W / 2 - 1.05, _Y_BWD - 0.4, "$h_n[-1]$", fontsize=10,
                   color=_BWD_COLOR)
    draw.label(ax, 0.1, _Y_FWD + 0.7, "forward reader\n(left to right)", fontsize=9,
               ha="left", color=_FWD_COLOR)
    draw.label(ax, 0.1, _Y_BWD + 0.7, "backward reader\n(right to left)", fontsize=9,
               ha="left", color=_BWD_COLOR)
    draw.label(ax, width / 2, _Y_OUT + 0.6,
               "output[:, t] = [forward state | backward state]   (D·H numbers per step)",
               fontsize=10)
    return fig, ax


__all__ = ["bilstm"]
