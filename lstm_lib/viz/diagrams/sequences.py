"""What a Keras LSTM returns: ``return_sequences`` and ``return_state``, drawn.

- ``return_sequences_diagram(steps=3)``: the notes' first figure, an ``h_t`` out of every step.
- ``return_state_diagram(steps=3)``: the notes' second figure, the per-step outputs and, besides
  them, ``h_T`` and ``c_T`` out of the last step.
- ``lstm_outputs(return_sequences, return_state, steps=3)``: any of the four flag settings.
- ``all_flags(steps=3)``: the four settings side by side (2 x 2).

Unlike the notes' drawings, the input ``x_t`` enters *every* step (an LSTM reads one input
vector per step), and the two arrows from step to step are labelled: the hidden state ``h``
and the cell state ``c`` both carry on. Per-step ``h_t`` that are computed but not returned
are drawn in grey.
"""

from __future__ import annotations

from matplotlib.axes import Axes
from matplotlib.figure import Figure

from lstm_lib.checks import positive_int
from lstm_lib.viz.diagrams.draw import arrow, box, canvas, label

GAP = 2.6                 # distance between two steps
CELL_W, CELL_H = 1.2, 1.8
Y_IN, Y_CELL, Y_OUT = 0.5, 2.6, 4.6
GREY = "#aaaaaa"
STATE = "#b04a2f"         # the final states returned by return_state
MAX_STEPS = 6


def panel_size(steps: int) -> tuple[float, float]:
    """(width, height) in drawing units of one panel with ``steps`` steps."""
    steps = positive_int("steps", steps)
    return GAP * steps + 2.4, 6.8


def returned(return_sequences: bool, return_state: bool) -> str:
    """What ``keras.layers.LSTM`` returns for these flags, with shapes, as text."""
    out = "output (B, T, H)" if return_sequences else "h_T (B, H)"
    return f"({out}, h_T (B, H), c_T (B, H))" if return_state else out


def draw_flags(ax: Axes, return_sequences: bool, return_state: bool, x0: float = 0.0,
               y0: float = 0.0, steps: int = 3, title: bool = True) -> None:
    """Draw one LSTM layer unrolled over ``steps`` steps on ``ax``, lower-left at (x0, y0),
    with the outputs the two Keras flags return (black/red) and those they drop (grey)."""
    for name, flag in (("return_sequences", return_sequences), ("return_state", return_state)):
        if not isinstance(flag, bool):
            raise TypeError(f"{name} must be a bool, got {flag!r}")
    steps = positive_int("steps", steps)
    if steps > MAX_STEPS:
        raise ValueError(f"steps must be at most {MAX_STEPS} to fit the drawing, got {steps}")
    width, height = panel_size(steps)
    xs = [x0 + 1.0 + GAP * (i + 0.5) for i in range(steps)]
    names = ["1", "2", "3", "4", "5", "6"][: steps - 1] + ["T"]
    top, bottom = y0 + Y_CELL + 0.45, y0 + Y_CELL - 0.45
    arrow(ax, (x0 + 0.1, top), (xs[0] - CELL_W / 2, top))
    arrow(ax, (x0 + 0.1, bottom), (xs[0] - CELL_W / 2, bottom))
    label(ax, x0 + 0.45, top + 0.3, "$h_0$", fontsize=9)
    label(ax, x0 + 0.45, bottom - 0.3, "$c_0$", fontsize=9)
    for i, (x, t) in enumerate(zip(xs, names, strict=True)):
        box(ax, x, y0 + Y_CELL, CELL_W, CELL_H, "LSTM", color="lstm", fontsize=10)
        box(ax, x, y0 + Y_IN, 1.0, 0.6, f"$x_{t}$", color="input", fontsize=10)
        arrow(ax, (x, y0 + Y_IN + 0.3), (x, y0 + Y_CELL - CELL_H / 2))
        kept = return_sequences or i == steps - 1
        arrow(ax, (x, y0 + Y_CELL + CELL_H / 2), (x, y0 + Y_OUT), label=f"$h_{t}$",
              label_pos=1.15 if kept else 1.12, color="#222222" if kept else GREY)
        if i + 1 < steps:
            nxt = xs[i + 1] - CELL_W / 2
            arrow(ax, (x + CELL_W / 2, top), (nxt, top))
            arrow(ax, (x + CELL_W / 2, bottom), (nxt, bottom))
            label(ax, (x + xs[i + 1]) / 2, top + 0.3, f"$h_{t}$", fontsize=9)
            label(ax, (x + xs[i + 1]) / 2, bottom - 0.3, f"$c_{t}$", fontsize=9)
    if return_state:
        end = xs[-1] + CELL_W / 2
        arrow(ax, (end, top), (end + 1.0, top), color=STATE)
        arrow(ax, (end, bottom), (end + 1.0, bottom), color=STATE)
        label(ax, end + 1.3, top, "$h_T$", fontsize=10, color=STATE)
        label(ax, end + 1.3, bottom, "$c_T$", fontsize=10, color=STATE)
    if title:
        label(ax, x0 + width / 2, y0 + Y_OUT + 1.2,
              f"return_sequences={return_sequences}, return_state={return_state}", fontsize=10)
        label(ax, x0 + width / 2, y0 - 0.45, "returns " + returned(return_sequences,
                                                                    return_state), fontsize=9)


def lstm_outputs(return_sequences: bool, return_state: bool,
                 steps: int = 3) -> tuple[Figure, Axes]:
    """One panel for one setting of the two flags. Returns ``(fig, ax)``."""
    width, height = panel_size(steps)
    fig, ax = canvas(width, height + 0.6, figsize=(0.55 * width, 0.55 * (height + 0.6)))
    draw_flags(ax, return_sequences, return_state, 0.0, 1.0, steps)
    return fig, ax


def return_sequences_diagram(steps: int = 3) -> tuple[Figure, Axes]:
    """The notes' "return sequence" figure: an ``h_t`` out of every step."""
    return lstm_outputs(True, False, steps)


def return_state_diagram(steps: int = 3) -> tuple[Figure, Axes]:
    """The notes' "return states" figure: the per-step ``h_t`` and ``h_T``, ``c_T`` besides."""
    return lstm_outputs(True, True, steps)


def all_flags(steps: int = 3) -> tuple[Figure, Axes]:
    """The four settings of (return_sequences, return_state) in a 2 x 2 grid."""
    width, height = panel_size(steps)
    fig, ax = canvas(2 * width + 0.5, 2 * (height + 0.6),
                     figsize=(0.45 * (2 * width + 0.5), 0.45 * 2 * (height + 0.6)))
    for r, seq in enumerate((False, True)):
        for c, state in enumerate((False, True)):
            draw_flags(ax, seq, state, c * (width + 0.5), (1 - r) * (height + 0.6) + 1.0, steps)
    return fig, ax


__all__ = ["all_flags", "draw_flags", "lstm_outputs", "panel_size", "return_sequences_diagram",
           "return_state_diagram", "returned"]
