"""The context-window chapter's two diagrams, redrawn from the source notes.

- ``naive_model()``: one symbol in, input -> LSTM -> FC -> softmax, no context.
- ``window_model(seq_length=3)``: a window of ``seq_length`` symbols run through the LSTM
  unrolled in time; the state passes from step to step and only the last step has an output.
"""

from __future__ import annotations

from matplotlib.axes import Axes
from matplotlib.figure import Figure

from lstm_lib.checks import positive_int
from lstm_lib.viz.diagrams.draw import arrow, box, canvas, label


def naive_model() -> tuple[Figure, Axes]:
    """The notes' "naive implementation": input -> LSTM -> (h) -> FC -> softmax, drawn
    bottom to top. The LSTM starts from a zero state for every symbol, so the prediction of
    ``x_{t+1}`` sees ``x_t`` only. Returns ``(fig, ax)``."""
    fig, ax = canvas(7.0, 8.4, figsize=(3.8, 4.6))
    x = 3.5
    box(ax, x, 0.6, 3.0, 0.8, "input $x_t$", color="input")
    box(ax, x, 3.0, 3.0, 1.8, "LSTM", color="lstm", fontsize=13)
    box(ax, x, 5.4, 3.6, 0.8, "FC", color="dense")
    box(ax, x, 7.2, 3.6, 0.8, "softmax", color="output")
    arrow(ax, (x, 1.0), (x, 2.1))
    arrow(ax, (x, 3.9), (x, 5.0), label="$h_t$")
    arrow(ax, (x, 5.8), (x, 6.8))
    arrow(ax, (0.1, 3.0), (2.0, 3.0))
    label(ax, 1.0, 3.45, "$(h, c) = 0$", fontsize=9)
    label(ax, x, 7.95, r"$p(x_{t+1} \mid x_t)$", fontsize=10)
    return fig, ax


def window_model(seq_length: int = 3, cell_state: bool = True) -> tuple[Figure, Axes]:
    """The notes' "word/character window" figure: ``seq_length`` inputs
    ``x_t ... x_{t+seq_length-1}``, one LSTM box per time step (the same weights, unrolled),
    the state passed right from step to step, one output above the last step.

    ``cell_state=True`` labels the recurrent arrows ``(h, c)``: an LSTM passes both (the
    notes label only ``h``); ``False`` draws the notes' labels. Returns ``(fig, ax)``.
    """
    seq_length = positive_int("seq_length", seq_length)
    if seq_length > 8:
        raise ValueError(f"seq_length must be at most 8 to fit the drawing, got {seq_length}")
    gap = 4.3
    width = 2.4 + gap * seq_length
    fig, ax = canvas(width, 7.2, figsize=(min(1.3 + 2.2 * seq_length, 12.0), 3.8))
    xs = [2.2 + gap * i for i in range(seq_length)]

    def sub(i: int) -> str:
        return "t" if i == 0 else f"t+{i}"

    arrow(ax, (0.1, 3.0), (xs[0] - 1.1, 3.0))
    label(ax, 0.6, 3.45, "$0$", fontsize=9)
    for i, x in enumerate(xs):
        box(ax, x, 0.6, 2.2, 0.8, f"$x_{{{sub(i)}}}$", color="input")
        box(ax, x, 3.0, 2.2, 1.8, "LSTM", color="lstm", fontsize=12)
        arrow(ax, (x, 1.0), (x, 2.1))
        if i + 1 < seq_length:
            text = f"$h_{{{sub(i)}}}, c_{{{sub(i)}}}$" if cell_state else f"$h_{{{sub(i)}}}$"
            arrow(ax, (x + 1.1, 3.0), (xs[i + 1] - 1.1, 3.0))
            label(ax, (x + xs[i + 1]) / 2, 3.45, text, fontsize=9)
    last = xs[-1]
    box(ax, last, 6.0, 2.6, 1.0, "output", color="output")
    arrow(ax, (last, 3.9), (last, 5.5), label=f"$h_{{{sub(seq_length - 1)}}}$")
    label(ax, last - 1.6, 6.0,
          f"$p(x_{{t+{seq_length}}} \\mid x_t, \\ldots, x_{{{sub(seq_length - 1)}}})$",
          fontsize=10, ha="right")
    return fig, ax


__all__ = ["naive_model", "window_model"]
