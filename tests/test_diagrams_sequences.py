"""Tests of the return_sequences / return_state diagrams (lstm_lib.viz.diagrams.sequences)."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402
from matplotlib.colors import to_hex  # noqa: E402
from matplotlib.patches import FancyArrowPatch  # noqa: E402

from lstm_lib.viz.diagrams import sequences as sq  # noqa: E402


def arrows(ax):
    return [p for p in ax.patches if isinstance(p, FancyArrowPatch)]


def grey_arrows(ax):
    return [a for a in arrows(ax) if to_hex(a.get_edgecolor()) == sq.GREY]


def test_input_enters_every_step():
    fig, ax = sq.return_sequences_diagram(steps=4)
    texts = [t.get_text() for t in ax.texts]
    for t in ("1", "2", "3", "T"):
        assert f"$x_{t}$" in texts
    # inputs reach every step from below: one vertical arrow per step ending at a cell
    ups = [a for a in arrows(ax) if a._posA_posB[0][0] == a._posA_posB[1][0]
           and a._posA_posB[1][1] == sq.Y_CELL + 1.0 - sq.CELL_H / 2]
    assert len(ups) == 4
    plt.close(fig)


@pytest.mark.parametrize("seq,state", [(False, False), (True, False), (False, True),
                                       (True, True)])
def test_arrows_for_each_flag_setting(seq, state):
    steps = 3
    fig, ax = sq.lstm_outputs(seq, state, steps)
    # h_0, c_0 in; per step an input and an output; h and c between steps; h_T, c_T out
    assert len(arrows(ax)) == 2 + 2 * steps + 2 * (steps - 1) + (2 if state else 0)
    # per-step outputs that Keras does not return are grey
    assert len(grey_arrows(ax)) == (0 if seq else steps - 1)
    texts = [t.get_text() for t in ax.texts]
    assert ("$c_T$" in texts) == state
    assert "returns " + sq.returned(seq, state) in texts
    plt.close(fig)


def test_returned_texts():
    assert sq.returned(False, False) == "h_T (B, H)"
    assert sq.returned(True, False) == "output (B, T, H)"
    assert sq.returned(False, True) == "(h_T (B, H), h_T (B, H), c_T (B, H))"
    assert sq.returned(True, True).startswith("(output (B, T, H), h_T")


def test_notes_second_figure_and_grid():
    fig, ax = sq.return_state_diagram()
    texts = [t.get_text() for t in ax.texts]
    assert "$h_T$" in texts and "$c_T$" in texts and "$h_1$" in texts
    plt.close(fig)
    fig, ax = sq.all_flags(steps=2)
    titles = [t.get_text() for t in ax.texts if t.get_text().startswith("return_sequences=")]
    assert len(titles) == 4
    plt.close(fig)


def test_validation():
    with pytest.raises(TypeError, match="return_state must be a bool"):
        sq.lstm_outputs(True, 1)
    with pytest.raises(ValueError, match="at most"):
        sq.lstm_outputs(True, True, steps=sq.MAX_STEPS + 1)
    with pytest.raises(ValueError, match="positive int"):
        sq.all_flags(steps=0)
