"""Tests for lstm_lib.keras.bridge: layouts both ways, and equal outputs with real Keras."""

import os

import numpy as np
import pytest
import torch

from lstm_lib.keras import bridge as kb

os.environ.setdefault("KERAS_BACKEND", "torch")
keras = pytest.importorskip("keras", exc_type=ImportError)

I, H, B, T = 3, 4, 2, 5


def torch_lstm(num_layers=1, bidirectional=False, seed=0):
    torch.manual_seed(seed)
    return torch.nn.LSTM(I, H, num_layers=num_layers, bidirectional=bidirectional,
                         batch_first=True).double()


def x_input(seed=1):
    return np.random.default_rng(seed).standard_normal((B, T, I))


def test_layout_round_trip_numpy():
    sd = {k: v.detach().numpy() for k, v in torch_lstm().state_dict().items()}
    kernel, recurrent, bias = kb.lstm_to_keras_weights(sd)
    assert kernel.shape == (I, 4 * H) and recurrent.shape == (H, 4 * H) and bias.shape == (4 * H,)
    np.testing.assert_array_equal(kernel, sd["weight_ih_l0"].T)
    np.testing.assert_array_equal(bias, sd["bias_ih_l0"] + sd["bias_hh_l0"])
    back = kb.keras_to_lstm_weights([kernel, recurrent, bias])
    np.testing.assert_array_equal(back["weight_hh_l0"], sd["weight_hh_l0"])
    np.testing.assert_array_equal(back["bias_hh_l0"], np.zeros(4 * H))
    np.testing.assert_array_equal(back["bias_ih_l0"], bias)


def test_lstm_keys():
    assert kb.lstm_keys(1, reverse=True) == (
        "weight_ih_l1_reverse", "weight_hh_l1_reverse", "bias_ih_l1_reverse",
        "bias_hh_l1_reverse")
    with pytest.raises(ValueError, match="non-negative"):
        kb.lstm_keys(-1)


@pytest.mark.parametrize("return_sequences", [False, True])
def test_torch_to_keras_same_outputs(return_sequences):
    lstm = torch_lstm()
    k = keras.layers.LSTM(H, return_sequences=return_sequences, return_state=True,
                          dtype="float64")
    kb.copy_lstm_to_keras(lstm, k)  # builds the layer
    x = x_input()
    seq, h, c = (np.asarray(v.detach()) for v in k(x))
    out, (h_n, c_n) = lstm(torch.from_numpy(x))
    want = out.detach().numpy() if return_sequences else h_n[0].detach().numpy()
    assert np.abs(seq - want).max() < 1e-12
    assert np.abs(h - h_n[0].detach().numpy()).max() < 1e-12
    assert np.abs(c - c_n[0].detach().numpy()).max() < 1e-12


def test_keras_to_torch_same_outputs():
    k = keras.layers.LSTM(H, return_sequences=True, dtype="float64")
    x = x_input(2)
    y_keras = np.asarray(k(x).detach())  # built with Keras's own (glorot/orthogonal) init
    lstm = torch_lstm(seed=5)
    before = lstm.weight_ih_l0.detach().clone()
    kb.copy_keras_to_lstm(k, lstm)
    assert not torch.equal(before, lstm.weight_ih_l0)
    assert lstm.weight_ih_l0.dtype == torch.float64
    y_torch = lstm(torch.from_numpy(x))[0].detach().numpy()
    assert np.abs(y_keras - y_torch).max() < 1e-12


def test_second_layer_and_reverse_direction():
    lstm = torch_lstm(num_layers=2, bidirectional=True)
    k = keras.layers.LSTM(H, dtype="float64")
    k.build((None, None, I))
    with pytest.raises(ValueError, match="input size"):
        kb.copy_lstm_to_keras(lstm, k, layer=1)  # layer 1 reads 2H features, not I
    k2 = keras.layers.LSTM(H, dtype="float64")
    kb.copy_lstm_to_keras(lstm, k2, layer=1, reverse=True)
    kernel = k2.cell.kernel.value.detach().numpy()
    np.testing.assert_array_equal(kernel, lstm.weight_ih_l1_reverse.detach().numpy().T)
    assert kernel.shape == (2 * H, 4 * H)


def test_bidirectional_keras_matches_torch():
    lstm = torch_lstm(bidirectional=True)
    bi = keras.layers.Bidirectional(keras.layers.LSTM(H, return_sequences=True, dtype="float64"),
                                    dtype="float64")
    x = x_input(3)
    bi(x)  # build
    kb.copy_lstm_to_keras(lstm, bi.forward_layer)
    kb.copy_lstm_to_keras(lstm, bi.backward_layer, reverse=True)
    y_keras = np.asarray(bi(x).detach())
    y_torch = lstm(torch.from_numpy(x))[0].detach().numpy()
    assert y_keras.shape == y_torch.shape == (B, T, 2 * H)
    assert np.abs(y_keras - y_torch).max() < 1e-12


def test_dense_both_ways():
    torch.manual_seed(0)
    lin = torch.nn.Linear(I, 2).double()
    d = keras.layers.Dense(2, dtype="float64")
    kb.copy_linear_to_keras(lin, d)
    np.testing.assert_array_equal(d.kernel.value.detach().numpy(), lin.weight.detach().numpy().T)
    np.testing.assert_array_equal(d.bias.value.detach().numpy(), lin.bias.detach().numpy())
    x = np.random.default_rng(0).standard_normal((4, I))
    # Keras 3.15's ops.matmul on the torch backend multiplies float64 tensors in float32
    # (it follows JAX's 32-bit default), so a float64 Dense agrees only to float32 precision
    diff = np.abs(np.asarray(d(x).detach()) - lin(torch.from_numpy(x)).detach().numpy()).max()
    assert diff < 1e-6
    d2 = keras.layers.Dense(2, dtype="float64")
    d2.build((None, I))
    lin2 = torch.nn.Linear(I, 2).double()
    kb.copy_keras_to_linear(d2, lin2)
    np.testing.assert_array_equal(lin2.weight.detach().numpy(), d2.kernel.value.detach().numpy().T)


def test_validation_errors():
    lstm = torch_lstm()
    with pytest.raises(TypeError, match="keras.layers.LSTM"):
        kb.copy_lstm_to_keras(lstm, torch.nn.LSTM(I, H))
    with pytest.raises(ValueError, match="units=5"):
        kb.copy_lstm_to_keras(lstm, keras.layers.LSTM(5))
    with pytest.raises(ValueError, match="activation"):
        kb.copy_lstm_to_keras(lstm, keras.layers.LSTM(H, activation="relu"))
    with pytest.raises(ValueError, match="use_bias"):
        kb.copy_lstm_to_keras(lstm, keras.layers.LSTM(H, use_bias=False))
    with pytest.raises(ValueError, match="not built"):
        kb.copy_keras_to_lstm(keras.layers.LSTM(H), lstm)
    with pytest.raises(ValueError, match="has no"):
        kb.lstm_to_keras_weights(lstm, layer=1)
    with pytest.raises(TypeError, match="state_dict"):
        kb.lstm_to_keras_weights(42)
    bad = dict(lstm.state_dict())
    bad["weight_ih_l0"] = bad["weight_ih_l0"][:5]
    with pytest.raises(ValueError, match=r"\(4H, I\)"):
        kb.lstm_to_keras_weights(bad)
    bad = dict(lstm.state_dict())
    bad["bias_hh_l0"] = bad["bias_hh_l0"] * float("nan")
    with pytest.raises(ValueError, match="NaN"):
        kb.lstm_to_keras_weights(bad)
    with pytest.raises(ValueError, match="kernel, recurrent_kernel, bias"):
        kb.keras_to_lstm_weights([np.zeros((I, 4 * H)), np.zeros((H, 4 * H))])
    with pytest.raises(ValueError, match=r"\(H, 4H\)"):
        kb.keras_to_lstm_weights([np.zeros((I, 4 * H)), np.zeros((H, H)), np.zeros(4 * H)])
    k = keras.layers.LSTM(H + 1)
    k.build((None, None, I))
    with pytest.raises(ValueError, match="shape"):
        kb.copy_keras_to_lstm(k, lstm)


def test_copy_model_to_keras_and_shapes():
    from lstm_lib.keras.layers import LSTMLayer, RepeatVector, TimeDistributed, trace_shapes

    keras.config.set_floatx("float64")
    try:
        ours = torch.nn.Sequential(RepeatVector(T), LSTMLayer(I, H, return_sequences=True),
                                   TimeDistributed(torch.nn.Linear(H, 2, dtype=torch.float64)))
        km = keras.Sequential([keras.Input(shape=(I,)), keras.layers.RepeatVector(T),
                               keras.layers.LSTM(H, return_sequences=True),
                               keras.layers.TimeDistributed(keras.layers.Dense(2))])
        assert kb.copy_model_to_keras(ours, km) == [("LSTMLayer", "LSTM"), ("Linear", "Dense")]
        x = np.random.default_rng(0).standard_normal((B, I))
        diff = np.abs(km(x).detach().numpy() - ours(torch.from_numpy(x)).detach().numpy()).max()
        assert diff < 1e-6  # Dense: float32 matmul in Keras 3.15 on torch (see above)
        ks = kb.keras_shapes(km)
        assert ks[0] == ("Input", (None, I))
        assert [s[1:] for _, s in ks] == [s[1:] for _, s in trace_shapes(ours, x)]
        # mismatched kinds or counts are refused
        wrong = keras.Sequential([keras.Input(shape=(T, I)), keras.layers.Dense(H),
                                  keras.layers.LSTM(2)])
        with pytest.raises(ValueError, match="cannot pair"):
            kb.copy_model_to_keras(torch.nn.Sequential(LSTMLayer(I, H),
                                                       torch.nn.Linear(H, 2)), wrong)
        with pytest.raises(ValueError, match="1 layers with weights"):
            kb.copy_model_to_keras(torch.nn.Sequential(LSTMLayer(I, H)), km)
        with pytest.raises(ValueError, match="one-layer"):
            kb.copy_model_to_keras(torch.nn.Sequential(torch.nn.LSTM(I, H, num_layers=2)),
                                   keras.Sequential([keras.Input(shape=(T, I)),
                                                     keras.layers.LSTM(H)]))
        with pytest.raises(TypeError, match="keras.Model"):
            kb.copy_model_to_keras(ours, keras.layers.LSTM(H))
        with pytest.raises(TypeError, match="keras.Model"):
            kb.keras_shapes(ours)
    finally:
        keras.config.set_floatx("float32")


def test_numpy_lstm_both_ways():
    from lstm_lib.numpy import LSTM as NumpyLSTM

    layer = NumpyLSTM(I, H, seed=3)
    k = keras.layers.LSTM(H, return_sequences=True, dtype="float64")
    kb.copy_lstm_to_keras(layer, k)                    # a state_dict of NumPy arrays
    x = x_input(4)
    out, _ = layer.forward(x)
    assert np.abs(k(x).detach().numpy() - out).max() < 1e-12
    target = NumpyLSTM(I, H, seed=9)
    kb.copy_keras_to_lstm(k, target)
    assert isinstance(target.state_dict()["weight_ih_l0"], np.ndarray)
    assert np.abs(target.forward(x)[0] - out).max() < 1e-12
