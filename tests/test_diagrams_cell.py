"""Tests of the LSTM cell diagram (lstm_lib.viz.diagrams.cell)."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402

from lstm_lib.viz.diagrams.cell import lstm_cell  # noqa: E402


def _texts(ax) -> list[str]:
    return [t.get_text() for t in ax.texts]


def test_cell_has_every_part_of_the_step():
    fig, ax = lstm_cell(equations=False)
    texts = _texts(ax)
    # three sigmoid blocks and one tanh block of weights, plus tanh(c_t) on the output path
    assert texts.count(r"$\sigma$") == 3
    assert texts.count(r"$\tanh$") == 2
    # three products (forget, input * candidate, output) and one sum
    assert texts.count(r"$\times$") == 3 and texts.count("$+$") == 1
    for name in ("forget gate", "input gate", "candidate", "output gate"):
        assert name in texts
    for state in (r"$c_{t-1}$", r"$c_t$", r"$h_{t-1}$", r"$h_t$", r"$x_t$"):
        assert state in texts
    for gate in "figo":
        assert f"${gate}_t$" in texts
    plt.close(fig)


def test_equations_are_optional_and_widen_the_canvas():
    fig1, ax1 = lstm_cell(equations=True)
    fig2, ax2 = lstm_cell(equations=False)
    eqs = [t for t in _texts(ax1) if t.startswith("$c_t =") or t.startswith("$h_t =")]
    assert len(eqs) == 2
    assert not any(t.startswith("$c_t =") for t in _texts(ax2))
    assert ax1.get_xlim()[1] > ax2.get_xlim()[1]
    assert fig1.get_figwidth() > fig2.get_figwidth()
    plt.close(fig1)
    plt.close(fig2)


def test_everything_lies_inside_the_canvas():
    fig, ax = lstm_cell()
    x0, x1 = ax.get_xlim()
    y0, y1 = ax.get_ylim()
    for t in ax.texts:
        x, y = t.get_position()
        assert x0 <= x <= x1 and y0 <= y <= y1, t.get_text()
    for p in ax.patches:
        bb = p.get_extents().transformed(ax.transData.inverted())
        assert x0 - 1e-6 <= bb.x0 and bb.x1 <= x1 + 1e-6
        assert y0 - 1e-6 <= bb.y0 and bb.y1 <= y1 + 1e-6
    plt.close(fig)


def test_rejects_non_bool():
    with pytest.raises(TypeError, match="bool"):
        lstm_cell(equations="yes")


def test_blocks_follow_pytorch_row_order():
    """The text drills i, f, g, o (rows 0:H, H:2H, 2H:3H, 3H:4H); the picture does too."""
    fig, ax = lstm_cell(equations=False)
    x = {t.get_text(): t.get_position()[0] for t in ax.texts}
    names = ["input gate", "forget gate", "candidate", "output gate"]
    assert [x[n] for n in names] == sorted(x[n] for n in names)
    assert all(t.get_fontsize() >= 8.5 for t in ax.texts)  # readable at book width
    plt.close(fig)
