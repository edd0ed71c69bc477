"""NumPy arrays with negative strides (time-flipped views such as ``x[:, ::-1]``).

torch refuses to view them ("At least one stride in the given numpy array is negative");
``lstm_lib`` copies them first, wherever it hands a user array to torch, and gives the same
result as for a contiguous copy. ``lstm_lib.numpy`` takes them as they are.
"""

import numpy as np
import pytest
import torch

import lstm_lib.numpy as lnp
import lstm_lib.torch as ltorch
from lstm_lib import checks
from lstm_lib.analysis.gradients import torch_step_grad_norms
from lstm_lib.keras.layers import LSTMLayer, trace_shapes
from lstm_lib.torch.variants import AblationStack
from lstm_lib.verify.compare import compare

RNG = np.random.default_rng(0)
X = RNG.standard_normal((2, 5, 3))
FLIPPED = X[:, ::-1]  # a view with a negative stride along time
SAME = np.ascontiguousarray(FLIPPED)


def negative(a):
    """An array equal to ``a`` whose first axis has a negative stride."""
    return np.ascontiguousarray(a[::-1])[::-1]


def test_the_views_really_have_negative_strides():
    assert FLIPPED.strides[1] < 0 and negative(np.ones((3, 2))).strides[0] < 0
    with pytest.raises(ValueError, match="negative"):
        torch.as_tensor(FLIPPED)  # what lstm_lib must not let through
    assert checks.positive_strides(FLIPPED).strides[1] > 0
    assert checks.positive_strides(X) is X  # no copy when none is needed


@pytest.mark.parametrize("kind", ["LSTM", "GRU", "RNN"])
def test_numpy_and_torch_layers_take_a_flipped_view(kind):
    m = getattr(lnp, kind)(3, 4, bidirectional=True, seed=1)
    t = getattr(ltorch, kind)(3, 4, bidirectional=True, seed=1)
    want, _ = m.forward(SAME)
    got, _ = m.forward(FLIPPED)
    np.testing.assert_array_equal(got, want)
    got_t, _ = t(FLIPPED)
    np.testing.assert_allclose(got_t.detach().numpy(), want, atol=1e-14)
    # the initial state and lengths too
    h0 = negative(RNG.standard_normal((2, 2, 4)))
    state = (h0, negative(np.zeros((2, 2, 4)))) if kind == "LSTM" else h0
    lengths = np.array([3, 5])[::-1]
    a, _ = t(FLIPPED, state, lengths=lengths)
    b, _ = m.forward(SAME, tuple(map(np.ascontiguousarray, state)) if kind == "LSTM"
                     else np.ascontiguousarray(state), lengths=np.array([5, 3]))
    np.testing.assert_allclose(a.detach().numpy(), b, atol=1e-14)


@pytest.mark.parametrize("kind", ["LSTMCell", "GRUCell", "RNNCell"])
def test_cells_take_flipped_views(kind):
    cell = getattr(ltorch, kind)(3, 4, seed=2)
    x = negative(RNG.standard_normal((2, 3)))
    h = negative(RNG.standard_normal((2, 4)))
    state = (h, negative(np.zeros((2, 4)))) if kind == "LSTMCell" else h
    out = cell(x, state)
    ref = cell(np.ascontiguousarray(x), tuple(map(np.ascontiguousarray, state))
               if kind == "LSTMCell" else np.ascontiguousarray(h))
    for a, b in zip(out if kind == "LSTMCell" else (out,),
                    ref if kind == "LSTMCell" else (ref,), strict=True):
        assert torch.equal(a, b)


def test_load_state_dict_takes_flipped_views():
    src = lnp.LSTM(3, 4, seed=3)
    flipped = {k: negative(v) for k, v in src.state_dict().items()}
    twin = ltorch.LSTM(3, 4, seed=9)
    twin.load_state_dict(flipped)
    for k, v in src.state_dict().items():
        np.testing.assert_array_equal(twin.state_dict()[k].numpy(), v)
    cell = ltorch.LSTMCell(3, 4)
    cell.load_state_dict({k.removesuffix("_l0"): v for k, v in flipped.items()})
    np.testing.assert_array_equal(cell.weight_hh.detach().numpy(), src.params["weight_hh_l0"])


def test_keras_layer_takes_flipped_views():
    layer = LSTMLayer(3, 4, return_sequences=True, seed=4)
    h0 = negative(np.full((2, 4), 0.1))
    mask = np.array([[True, True, False, True, True], [False, True, True, True, False]])
    a = layer(FLIPPED, initial_state=[h0, h0], mask=mask[:, ::-1])
    b = layer(SAME, initial_state=[np.ascontiguousarray(h0)] * 2,
              mask=np.ascontiguousarray(mask[:, ::-1]))
    assert torch.equal(a, b)
    model = torch.nn.Sequential(LSTMLayer(3, 4))
    assert trace_shapes(model, FLIPPED)[-1] == ("LSTMLayer", (2, 4))


def test_helpers_that_take_arrays_take_flipped_views():
    m, t = lnp.LSTM(3, 4, seed=5), ltorch.LSTM(3, 4, seed=5)
    assert compare(m, t, FLIPPED).max_diff < 1e-12
    u = negative(RNG.standard_normal((2, 4)))
    a = torch_step_grad_norms(t, FLIPPED, u)
    b = torch_step_grad_norms(t, SAME, np.ascontiguousarray(u))
    np.testing.assert_array_equal(a, b)
    stack = AblationStack(3, 4, ablations=[(), ("forget",)], seeds=[0, 1], dtype=np.float64)
    pred = stack(SAME)
    y = negative(RNG.standard_normal(tuple(pred.shape[1:])))
    assert torch.equal(stack.per_member_loss(pred, y),
                       stack.per_member_loss(pred, np.ascontiguousarray(y)))
