"""LSTMLayer, RepeatVector, TimeDistributed: shapes and stateful behaviour (no Keras needed)."""

import numpy as np
import pytest
import torch

from lstm_lib.keras.layers import LSTMLayer, RepeatVector, TimeDistributed
from lstm_lib.torch import LSTM


@pytest.mark.parametrize("seq,state", [(False, False), (True, False), (False, True), (True, True)])
def test_lstm_layer_returns_what_keras_returns(seq, state):
    x = torch.randn(3, 5, 2, dtype=torch.float64)
    layer = LSTMLayer(2, 4, return_sequences=seq, return_state=state, seed=1)
    out, (h_n, c_n) = LSTM(2, 4, seed=1)(x)
    result = layer(x)
    first = out if seq else out[:, -1]
    if state:
        assert isinstance(result, tuple) and len(result) == 3  # as Keras 3 returns it
        torch.testing.assert_close(result[0], first)
        torch.testing.assert_close(result[1], h_n[0])
        torch.testing.assert_close(result[2], c_n[0])
    else:
        torch.testing.assert_close(result, first)


def test_stateful_carries_state_row_by_row_and_resets():
    x = torch.randn(2, 8, 3, dtype=torch.float64)
    whole = LSTMLayer(3, 4, return_sequences=True, seed=2)(x)
    chunked = LSTMLayer(3, 4, return_sequences=True, stateful=True, seed=2)
    parts = [chunked(x[:, :3]), chunked(x[:, 3:])]
    torch.testing.assert_close(torch.cat(parts, 1), whole, rtol=0, atol=1e-12)
    chunked.reset_states()
    torch.testing.assert_close(chunked(x[:, :3]), whole[:, :3], rtol=0, atol=1e-12)
    with pytest.raises(ValueError, match="carries 2 states"):
        chunked(x[:1, 3:])


def test_repeat_vector_and_time_distributed():
    v = torch.arange(6.0).reshape(2, 3)
    r = RepeatVector(4)(v)
    assert r.shape == (2, 4, 3) and torch.equal(r[:, 2], v)
    lin = torch.nn.Linear(3, 5)
    y = TimeDistributed(lin)(r)
    assert y.shape == (2, 4, 5)
    torch.testing.assert_close(y[:, 1], lin(v))
    with pytest.raises(ValueError, match="positive int"):
        RepeatVector(0)
    with pytest.raises(ValueError, match="at least 3 dimensions"):
        TimeDistributed(lin)(v)
    with pytest.raises(TypeError, match="nn.Module"):
        TimeDistributed(np.tanh)
