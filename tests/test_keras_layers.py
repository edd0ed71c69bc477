"""lstm_lib.keras.layers against its own definition and against real Keras 3 (float64).

The tests that need Keras skip cleanly when it is not importable.
"""

import importlib.util
import os

import numpy as np
import pytest
import torch

from lstm_lib.keras import bridge as kb
from lstm_lib.keras.layers import LSTMLayer, RepeatVector, TimeDistributed
from lstm_lib.torch import LSTM

os.environ.setdefault("KERAS_BACKEND", "torch")
HAVE_KERAS = importlib.util.find_spec("keras") is not None
needs_keras = pytest.mark.skipif(not HAVE_KERAS, reason="keras is not installed")

FLAGS = [(False, False), (True, False), (False, True), (True, True)]
B, T, I, H = 3, 6, 2, 4


@pytest.fixture(scope="module")
def keras():
    return pytest.importorskip("keras", exc_type=ImportError)


def x_input(seed=0, b=B, t=T):
    return np.random.default_rng(seed).standard_normal((b, t, I))


def maxdiff(a, b):
    return float((torch.as_tensor(a) - torch.as_tensor(b)).detach().abs().max())


# --- RepeatVector -------------------------------------------------------------------------

def test_repeat_vector_copies_the_vector_to_every_step():
    v = torch.randn(2, 5, dtype=torch.float64)
    r = RepeatVector(3)(v)
    assert r.shape == (2, 3, 5)
    for t in range(3):
        assert torch.equal(r[:, t], v)


def test_repeat_vector_validation():
    with pytest.raises(ValueError, match="positive int"):
        RepeatVector(0)
    with pytest.raises(TypeError):
        RepeatVector(2.0)
    with pytest.raises(ValueError, match=r"\(B, F\)"):
        RepeatVector(2)(torch.zeros(2, 3, 4))


@needs_keras
def test_repeat_vector_equals_keras(keras):
    v = np.random.default_rng(1).standard_normal((2, 5))
    ours = RepeatVector(4)(torch.from_numpy(v))
    theirs = keras.layers.RepeatVector(4, dtype="float64")(v)
    assert tuple(theirs.shape) == tuple(ours.shape) == (2, 4, 5)
    assert maxdiff(ours, theirs) == 0.0


# --- TimeDistributed ----------------------------------------------------------------------

def test_time_distributed_applies_one_module_to_each_step():
    torch.manual_seed(0)
    lin = torch.nn.Linear(I, 3).double()
    x = torch.from_numpy(x_input())
    y = TimeDistributed(lin)(x)
    assert y.shape == (B, T, 3)
    for t in range(T):
        assert maxdiff(y[:, t], lin(x[:, t])) < 1e-15
    # the same weights at every step: one Linear's parameters, nothing per step
    assert sum(p.numel() for p in TimeDistributed(lin).parameters()) == I * 3 + 3


def test_time_distributed_validation():
    lin = torch.nn.Linear(I, 3)
    with pytest.raises(ValueError, match="at least 3 dimensions"):
        TimeDistributed(lin)(torch.zeros(2, I))
    with pytest.raises(TypeError, match="nn.Module"):
        TimeDistributed(np.tanh)
    with pytest.raises(TypeError, match="torch tensor"):
        TimeDistributed(lin)(np.zeros((2, 3, I)))


@needs_keras
def test_time_distributed_dense_equals_keras(keras):
    torch.manual_seed(0)
    lin = torch.nn.Linear(I, 3).double()
    dense = keras.layers.Dense(3, dtype="float64")
    kb.copy_linear_to_keras(lin, dense)
    x = x_input(2)
    theirs = keras.layers.TimeDistributed(dense, dtype="float64")(x)
    ours = TimeDistributed(lin)(torch.from_numpy(x))
    assert tuple(theirs.shape) == (B, T, 3)
    # Keras 3.15's ops.matmul (used by Dense) multiplies float64 in float32 on the torch
    # backend, so agreement is at float32 level here, unlike the LSTM below
    assert maxdiff(ours, theirs) < 1e-6


# --- LSTMLayer ----------------------------------------------------------------------------

@pytest.mark.parametrize("seq,state", FLAGS)
def test_lstm_layer_flags_against_lstm(seq, state):
    x = x_input()
    out, (h_n, c_n) = LSTM(I, H, seed=1)(x)
    result = LSTMLayer(I, H, return_sequences=seq, return_state=state, seed=1)(x)
    first = out if seq else out[:, -1]
    if state:
        assert isinstance(result, tuple) and len(result) == 3
        assert maxdiff(result[0], first) == 0.0
        assert maxdiff(result[1], h_n[0]) == 0.0
        assert maxdiff(result[2], c_n[0]) == 0.0
        assert result[1].shape == result[2].shape == (B, H)
    else:
        assert isinstance(result, torch.Tensor)
        assert result.shape == ((B, T, H) if seq else (B, H))
        assert maxdiff(result, first) == 0.0


@needs_keras
@pytest.mark.parametrize("seq,state", FLAGS)
def test_lstm_layer_equals_keras(keras, seq, state):
    ours = LSTMLayer(I, H, return_sequences=seq, return_state=state, seed=3)
    theirs = keras.layers.LSTM(H, return_sequences=seq, return_state=state, dtype="float64")
    kb.copy_lstm_to_keras(ours, theirs)
    x = x_input(4)
    a, b = ours(x), theirs(x)
    if state:
        assert type(a) is type(b) is tuple and len(a) == len(b) == 3
        for u, v in zip(a, b, strict=True):
            assert tuple(u.shape) == tuple(v.shape)
            assert maxdiff(u, v) < 1e-12
    else:
        assert tuple(a.shape) == tuple(b.shape)
        assert maxdiff(a, b) < 1e-12


@needs_keras
def test_lstm_layer_initial_state_equals_keras(keras):
    ours = LSTMLayer(I, H, return_sequences=True, return_state=True, seed=5)
    theirs = keras.layers.LSTM(H, return_sequences=True, return_state=True, dtype="float64")
    kb.copy_lstm_to_keras(ours, theirs)
    rng = np.random.default_rng(5)
    h0, c0 = rng.standard_normal((B, H)), rng.standard_normal((B, H))
    x = x_input(5)
    a = ours(x, initial_state=[h0, c0])
    b = theirs(x, initial_state=[h0, c0])
    assert max(maxdiff(u, v) for u, v in zip(a, b, strict=True)) < 1e-12
    assert maxdiff(a[0], ours(x)[0]) > 1e-3  # the initial state matters


def test_stateful_carries_state_and_resets():
    x = torch.from_numpy(x_input(6))
    whole = LSTMLayer(I, H, return_sequences=True, seed=2)(x)
    chunked = LSTMLayer(I, H, return_sequences=True, stateful=True, seed=2)
    parts = torch.cat([chunked(x[:, :2]), chunked(x[:, 2:5]), chunked(x[:, 5:])], dim=1)
    assert maxdiff(parts, whole) < 1e-12
    assert chunked.states is not None and not chunked.states[0].requires_grad  # detached
    chunked.reset_state()
    assert chunked.states is None
    assert maxdiff(chunked(x[:, :2]), whole[:, :2]) < 1e-12
    with pytest.raises(ValueError, match="carries 3 states"):
        chunked(x[:1])
    # a stateless layer does not carry anything
    plain = LSTMLayer(I, H, return_sequences=True, seed=2)
    plain(x[:, :2])
    assert maxdiff(plain(x[:, 2:5]), whole[:, 2:5]) > 1e-3


@needs_keras
def test_stateful_equals_keras(keras):
    ours = LSTMLayer(I, H, return_sequences=True, stateful=True, seed=7)
    theirs = keras.layers.LSTM(H, return_sequences=True, stateful=True, dtype="float64")
    kb.copy_lstm_to_keras(ours, theirs, batch_size=B)
    x = x_input(7)
    for chunk in (x[:, :2], x[:, 2:5], x[:, 5:]):
        assert maxdiff(ours(chunk), theirs(chunk)) < 1e-12
    ours.reset_state()
    theirs.reset_state()
    assert maxdiff(ours(x[:, :3]), theirs(x[:, :3])) < 1e-12
    # an explicit initial_state wins over the carried one, and its final state is carried on
    h0 = np.full((B, H), 0.3)
    c0 = np.full((B, H), -0.2)
    assert maxdiff(ours(x, initial_state=[h0, c0]), theirs(x, initial_state=[h0, c0])) < 1e-12
    assert maxdiff(ours(x), theirs(x)) < 1e-12


@needs_keras
def test_stateful_keras_build_needs_batch_size(keras):
    layer = keras.layers.LSTM(H, stateful=True)
    with pytest.raises(ValueError, match="batch_size"):
        kb.copy_lstm_to_keras(LSTMLayer(I, H), layer)


def test_lstm_layer_validation():
    with pytest.raises(TypeError, match="return_sequences must be a bool"):
        LSTMLayer(I, H, return_sequences=1)
    with pytest.raises(TypeError, match="stateful must be a bool"):
        LSTMLayer(I, H, stateful="yes")
    with pytest.raises(ValueError, match="positive int"):
        LSTMLayer(I, 0)
    layer = LSTMLayer(I, H)
    with pytest.raises(ValueError, match=r"\(B, T, I\)"):
        layer(np.zeros((B, T, I + 1)))
    with pytest.raises(ValueError, match=r"initial_state must be \[h, c\]"):
        layer(x_input(), initial_state=np.zeros((B, H)))
    with pytest.raises(ValueError, match=r"\(B, units\)"):
        layer(x_input(), initial_state=[np.zeros((B, H + 1)), np.zeros((B, H))])
    with pytest.raises(ValueError, match="NaN"):
        layer(np.full((B, T, I), np.nan))


# --- trace_shapes -------------------------------------------------------------------------

def test_trace_shapes_through_a_one_to_many_model():
    from lstm_lib.keras.layers import trace_shapes

    model = torch.nn.Sequential(RepeatVector(5), LSTMLayer(3, 4, return_sequences=True),
                                TimeDistributed(torch.nn.Linear(4, 2).double()))
    rows = trace_shapes(model, torch.zeros(2, 3, dtype=torch.float64))
    assert rows == [("input", (2, 3)), ("RepeatVector", (2, 5, 3)), ("LSTMLayer", (2, 5, 4)),
                    ("TimeDistributed(Linear)", (2, 5, 2))]
    rows = trace_shapes(torch.nn.Sequential(LSTMLayer(3, 4, return_state=True)),
                        np.zeros((2, 6, 3)))
    assert rows[1] == ("LSTMLayer", [(2, 4), (2, 4), (2, 4)])
    with pytest.raises(TypeError, match="nn.Sequential"):
        trace_shapes(LSTMLayer(3, 4), np.zeros((2, 6, 3)))
