"""lstm_lib.viz.plots.gate_heatmaps: inputs and the cell state share one diverging colour map."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from lstm_lib import numpy as lnp  # noqa: E402
from lstm_lib.viz.plots import gate_heatmaps  # noqa: E402


def test_inputs_and_cell_state_use_the_same_centred_colours() -> None:
    x = np.random.default_rng(0).standard_normal((1, 6, 2))
    trace = lnp.LSTM(2, 3, seed=0).trace(x)
    fig = gate_heatmaps(trace, names=("i", "c"), inputs=x[0])
    images = [ax.images[0] for ax in fig.axes if ax.images]
    assert len(images) == 3                               # input, i, c
    inp, gate, cell = images
    assert inp.get_cmap().name == cell.get_cmap().name == "RdBu_r"
    for im in (inp, cell):
        lo, hi = im.get_clim()
        assert lo == pytest.approx(-hi)                   # centred on zero: red > 0 > blue
    assert gate.get_clim() == (0.0, 1.0)
    plt.close(fig)
    with pytest.raises(KeyError):
        gate_heatmaps(trace, names=("z",))
