"""Every public entry point rejects bad input early, with a message naming what was expected."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch

import lstm_lib.numpy as lnp
import lstm_lib.torch as ltorch

IMPLS = [lnp, ltorch]
X = np.zeros((2, 3, 4))  # (B, T, I) with I = 4


def layer(impl, **kw):
    return impl.LSTM(4, 5, **kw)


@pytest.mark.parametrize("impl", IMPLS)
def test_wrong_rank(impl):
    with pytest.raises(ValueError, match=r"3 dimensions \(B, T, I\), got 2"):
        layer(impl).forward(np.zeros((3, 4)))


@pytest.mark.parametrize("impl", IMPLS)
def test_wrong_feature_size(impl):
    with pytest.raises(ValueError, match=r"shape \(B, T, I\) = \(\*, \*, 4\), got \(2, 3, 6\)"):
        layer(impl).forward(np.zeros((2, 3, 6)))


@pytest.mark.parametrize("impl", IMPLS)
def test_state_of_wrong_shape(impl):
    h = np.zeros((1, 2, 5))
    with pytest.raises(ValueError, match=r"state c .*\(1, 2, 5\), got \(1, 2, 4\)"):
        layer(impl).forward(X, (h, np.zeros((1, 2, 4))))


@pytest.mark.parametrize("impl", IMPLS)
def test_state_of_wrong_batch(impl):
    with pytest.raises(ValueError, match=r"state h .*\(1, 2, 5\), got \(1, 3, 5\)"):
        layer(impl).forward(X, (np.zeros((1, 3, 5)), np.zeros((1, 3, 5))))


@pytest.mark.parametrize("impl", IMPLS)
def test_state_not_a_pair(impl):
    with pytest.raises(ValueError, match=r"tuple \(h_0, c_0\)"):
        layer(impl).forward(X, np.zeros((1, 2, 5)))


@pytest.mark.parametrize("impl", IMPLS)
def test_rnn_state_of_wrong_layers(impl):
    with pytest.raises(ValueError, match=r"\(2, 2, 5\), got \(1, 2, 5\)"):
        impl.RNN(4, 5, num_layers=2).forward(X, np.zeros((1, 2, 5)))


@pytest.mark.parametrize("impl", IMPLS)
@pytest.mark.parametrize("dtype", [np.int64, np.bool_, np.complex128])
def test_integer_bool_or_complex_input(impl, dtype):
    with pytest.raises(TypeError, match="real floating dtype"):
        layer(impl).forward(np.zeros((2, 3, 4), dtype=dtype))


def test_integer_tensor_input_to_twin():
    with pytest.raises(TypeError, match="real floating dtype"):
        ltorch.LSTM(4, 5)(torch.zeros(2, 3, 4, dtype=torch.int64))


@pytest.mark.parametrize("impl", IMPLS)
def test_list_input(impl):
    with pytest.raises(TypeError, match="got list"):
        layer(impl).forward([[[0.0] * 4]])


@pytest.mark.parametrize("impl", IMPLS)
@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_nan_or_inf_input(impl, bad):
    x = X.copy()
    x[1, 2, 3] = bad
    with pytest.raises(ValueError, match="NaN or inf"):
        layer(impl).forward(x)


@pytest.mark.parametrize("impl", IMPLS)
def test_nan_in_state(impl):
    h = np.zeros((1, 2, 5))
    h[0, 0, 0] = np.nan
    with pytest.raises(ValueError, match="state h contains NaN"):
        layer(impl).forward(X, (h, np.zeros((1, 2, 5))))


@pytest.mark.parametrize("impl", IMPLS)
def test_empty_sequence(impl):
    with pytest.raises(ValueError, match="must not be empty"):
        layer(impl).forward(np.zeros((2, 0, 4)))


@pytest.mark.parametrize("impl", IMPLS)
@pytest.mark.parametrize("kw", [{"input_size": 0}, {"hidden_size": -1}, {"num_layers": 0}])
def test_non_positive_sizes(impl, kw):
    args = {"input_size": 4, "hidden_size": 5, "num_layers": 1} | kw
    name = next(iter(kw))
    with pytest.raises(ValueError, match=f"{name} must be a positive int"):
        impl.LSTM(**args)


@pytest.mark.parametrize("impl", IMPLS)
def test_non_integer_size(impl):
    with pytest.raises(TypeError, match="hidden_size must be a positive int, got float"):
        impl.LSTM(4, 2.5)


@pytest.mark.parametrize("impl", IMPLS)
def test_bad_dtype(impl):
    with pytest.raises(TypeError, match="float32 or float64"):
        impl.LSTM(4, 5, dtype=np.int32)


@pytest.mark.parametrize("impl", IMPLS)
def test_state_dict_missing_key(impl):
    sd = dict(layer(impl).state_dict())
    del sd["bias_hh_l0"]
    with pytest.raises(ValueError, match=r"missing key\(s\) \['bias_hh_l0'\]"):
        layer(impl).load_state_dict(sd)


@pytest.mark.parametrize("impl", IMPLS)
def test_state_dict_extra_key(impl):
    sd = dict(layer(impl).state_dict())
    sd["weight_ih_l1"] = sd["weight_ih_l0"]
    with pytest.raises(ValueError, match=r"unexpected key\(s\) \['weight_ih_l1'\]"):
        layer(impl).load_state_dict(sd)


@pytest.mark.parametrize("impl", IMPLS)
def test_state_dict_misshaped_key(impl):
    sd = dict(layer(impl).state_dict())
    sd["weight_hh_l0"] = np.zeros((20, 4))
    with pytest.raises(ValueError, match=r"weight_hh_l0 must have shape \(20, 5\), got \(20, 4\)"):
        layer(impl).load_state_dict(sd)


def test_backward_before_forward():
    with pytest.raises(ValueError, match="backward called before forward"):
        lnp.LSTM(4, 5).backward(np.zeros((2, 3, 5)))


def test_cell_backward_before_forward():
    with pytest.raises(ValueError, match="backward called before forward"):
        lnp.LSTMCell(4, 5).backward(np.zeros((2, 5)))


def test_d_output_of_wrong_shape():
    m = lnp.LSTM(4, 5, bidirectional=True)
    m.forward(X)
    with pytest.raises(ValueError, match=r"d_output must have shape \(B, T, D\*H\) = \(2, 3, 10\)"):
        m.backward(np.zeros((2, 3, 5)))


def test_d_state_of_wrong_shape():
    m = lnp.LSTM(4, 5)
    out, _ = m.forward(X)
    with pytest.raises(ValueError, match="d_state h"):
        m.backward(out, (np.zeros((1, 1, 5)), np.zeros((1, 2, 5))))


def test_cell_input_checks():
    with pytest.raises(ValueError, match=r"\(B, I\)"):
        lnp.LSTMCell(4, 5).forward(np.zeros((2, 3)))
    with pytest.raises(ValueError, match=r"h must have shape \(B, H\)"):
        ltorch.LSTMCell(4, 5)(torch.zeros(2, 4), (torch.zeros(2, 3), torch.zeros(2, 5)))


def test_sigmoid_is_stable_and_warning_free():
    x = np.array([-1e4, -800.0, -30.0, 0.0, 30.0, 800.0, 1e4])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        s = lnp.sigmoid(x)
        s32 = lnp.sigmoid(x.astype(np.float32))
    assert np.isfinite(s).all() and np.isfinite(s32).all()
    assert s[0] == 0.0 and s[-1] == 1.0 and s[3] == 0.5
    np.testing.assert_allclose(s[2], 1 / (1 + np.exp(30.0)), rtol=1e-3)
    mid = np.linspace(-20, 20, 101)
    np.testing.assert_allclose(lnp.sigmoid(mid), torch.sigmoid(torch.from_numpy(mid)).numpy(),
                               atol=1e-15)


def test_sigmoid_rejects_integers_and_nan():
    with pytest.raises(TypeError, match="floating"):
        lnp.sigmoid(np.arange(3))
    with pytest.raises(ValueError, match="NaN"):
        lnp.sigmoid(np.array([np.nan]))


def test_generator_from_seed_or_generator():
    from lstm_lib.checks import generator

    g = np.random.default_rng(1)
    assert generator(g) is g
    assert generator(3).integers(1000) == np.random.default_rng(3).integers(1000)
    with pytest.raises(ValueError, match="non-negative"):
        generator(-1)
    with pytest.raises(TypeError, match="Generator"):
        generator(2.5)
    with pytest.raises(TypeError, match="Generator"):
        generator(True)
    with pytest.raises(TypeError, match=r"rng must be a numpy.random.Generator"):
        generator(0, "rng", allow_seed=False)
