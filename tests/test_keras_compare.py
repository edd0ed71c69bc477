"""Tests of keras_bridge.shape_table and copy_and_compare (chapter 5's two helpers)."""

import os

import numpy as np
import pytest
import torch
from torch import nn

from lstm_lib.keras import bridge as kb
from lstm_lib.keras.layers import LSTMLayer, TimeDistributed
from lstm_lib.verify.compare import Agreement

os.environ.setdefault("KERAS_BACKEND", "torch")
keras = pytest.importorskip("keras", exc_type=ImportError)

T, I, H, K = 6, 3, 5, 4
DT = torch.float64


def models(k_units=H):
    k_model = keras.Sequential([keras.Input(shape=(T, I)),
                                keras.layers.LSTM(k_units, return_sequences=True, dtype="float64"),
                                keras.layers.TimeDistributed(keras.layers.Dense(K,
                                                                                dtype="float64"))])
    ours = nn.Sequential(LSTMLayer(I, H, return_sequences=True, seed=1),
                         TimeDistributed(nn.Linear(H, K, dtype=DT)))
    return ours, k_model


def test_shape_table_lists_both_sides():
    ours, k_model = models()
    x = np.random.default_rng(0).standard_normal((2, T, I))
    table = kb.shape_table(ours, k_model, x).splitlines()
    assert len(table) == 4 and table[0].startswith("lstm_lib.keras.layers")
    assert table[1].split()[0] == "input" and "(None, 6, 3)" in table[1]
    assert table[2].startswith("LSTMLayer")
    assert "(2, 6, 5)" in table[2] and "(None, 6, 5)" in table[2]
    assert "TimeDistributed(Linear)" in table[3] and "TimeDistributed(Dense)" in table[3]


def test_shape_table_refuses_a_mismatch():
    ours, k_model = models(k_units=H + 1)
    with pytest.raises(ValueError, match="LSTMLayer gives"):
        kb.shape_table(ours, k_model, np.zeros((2, T, I)))
    with pytest.raises(ValueError, match="rows"):
        kb.shape_table(nn.Sequential(LSTMLayer(I, H, return_sequences=True)), k_model,
                       np.zeros((2, T, I)))


def test_copy_and_compare_copies_and_measures():
    ours, k_model = models()
    x = np.random.default_rng(1).standard_normal((3, T, I))
    result = kb.copy_and_compare(ours, k_model, x)
    assert result.pairs == [("LSTMLayer", "LSTM"), ("Linear", "Dense")]
    assert result.max_diff < 1e-6              # Keras's Dense computes in float32
    assert isinstance(result, Agreement) and kb.Agreement is Agreement  # one definition
    assert result.columns == ["keras"] and result.rows == {"output": [result.max_diff]}
    with torch.no_grad():                      # an independent measure of the difference
        direct = (torch.as_tensor(k_model(x)).detach() - ours(torch.from_numpy(x))).abs().max()
    assert result.max_diff == pytest.approx(float(direct), rel=1e-6, abs=1e-15)
    assert str(result).splitlines() == [
        "weights copied: LSTMLayer -> LSTM, Linear -> Dense",
        f"max |keras - lstm_lib| = {result.max_diff:.1e}"]
    with torch.no_grad():                       # a different torch model: a large difference
        ours[1].module.bias += 1.0
        diff = (torch.as_tensor(k_model(x)).detach() - ours(torch.from_numpy(x))).abs().max()
    assert diff > 0.5
