"""The hand-written backward passes agree with central finite differences."""

import numpy as np
import pytest

import lstm_lib.numpy as lnp
from lstm_lib.verify.gradcheck import gradcheck, numeric_grad


@pytest.mark.parametrize("kind", ["LSTM", "RNN"])
@pytest.mark.parametrize("layers,bi", [(1, False), (2, True)])
def test_gradcheck_below_1e7(kind, layers, bi):
    rng = np.random.default_rng(0)
    layer = getattr(lnp, kind)(3, 4, num_layers=layers, bidirectional=bi, seed=1)
    x = rng.standard_normal((2, 4, 3))
    shape = ((2 if bi else 1) * layers, 2, 4)
    state = tuple(rng.standard_normal(shape) for _ in layer.state_names)
    errors = gradcheck(layer, x, state if kind == "LSTM" else state[0])
    assert set(errors) == set(layer.params) | {"input"} | {f"{n}0" for n in layer.state_names}
    assert max(errors.values()) < 1e-7, errors


def test_gradcheck_detects_a_wrong_backward(monkeypatch):
    layer = lnp.RNN(2, 3, seed=0)
    x = np.random.default_rng(0).standard_normal((1, 3, 2))
    original = lnp.RNN._run_backward

    def broken(self, *args):
        dxs, grads, d_start, steps = original(self, *args)
        return dxs, (grads[0] * 1.01, *grads[1:]), d_start, steps

    monkeypatch.setattr(lnp.RNN, "_run_backward", broken)
    assert gradcheck(layer, x)["weight_ih_l0"] > 1e-3


def test_gradcheck_needs_float64():
    with pytest.raises(TypeError, match="float64"):
        gradcheck(lnp.LSTM(2, 2, dtype=np.float32), np.zeros((1, 2, 2), np.float32))


def test_numeric_grad_of_a_known_function():
    a = np.array([[0.5, -1.0], [2.0, 0.25]])
    w = np.array([[1.0, 2.0], [3.0, 4.0]])
    g = numeric_grad(lambda: float((w * np.sin(a)).sum()), a)
    np.testing.assert_allclose(g, w * np.cos(a), rtol=0, atol=1e-9)
    np.testing.assert_array_equal(a, [[0.5, -1.0], [2.0, 0.25]])  # restored


def test_numeric_grad_rejects_float32_and_views():
    with pytest.raises(TypeError, match="float64"):
        numeric_grad(lambda: 0.0, np.zeros(3, np.float32))
    with pytest.raises(ValueError, match="contiguous"):
        numeric_grad(lambda: 0.0, np.zeros((4, 4))[:, :2])
