"""lstm_lib.viz.plots.grouped_bars: bars side by side, centred on each group, labelled."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402

from lstm_lib.viz.plots import grouped_bars  # noqa: E402


def test_bars_sit_side_by_side_centred_on_their_group() -> None:
    fig, ax = plt.subplots()
    bars = grouped_bars(ax, ["a", "b", "c"], {"one": [1, 2, 3], "two": [3, 2, 1]},
                        colors=["C0", "C1"], bar_labels={"two": ["x", "y", "z"]})
    assert [b.get_label() for b in bars] == ["one", "two"]
    for g in range(3):
        left, right = bars[0][g], bars[1][g]
        assert left.get_x() + left.get_width() == pytest.approx(right.get_x())  # touching
        centre = (left.get_x() + right.get_x() + right.get_width()) / 2
        assert centre == pytest.approx(g)                                     # on the tick
    assert [r.get_height() for r in bars[1]] == [3, 2, 1]
    texts = [t.get_text() for t in ax.texts]
    assert texts == ["1.00", "2.00", "3.00", "x", "y", "z"]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["a", "b", "c"]
    plt.close(fig)


def test_grouped_bars_checks() -> None:
    fig, ax = plt.subplots()
    with pytest.raises(ValueError):
        grouped_bars(ax, ["a", "b"], {})
    with pytest.raises(ValueError):
        grouped_bars(ax, ["a", "b"], {"one": [1, 2, 3]})
    with pytest.raises(ValueError):
        grouped_bars(ax, ["a", "b"], {"one": [1, 2]}, colors=["C0", "C1"])
    with pytest.raises(ValueError):
        grouped_bars(ax, ["a", "b"], {"one": [1, 2]}, bar_labels={"one": ["x"]})
    plt.close(fig)
