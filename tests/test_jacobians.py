"""Tests for lstm_lib.analysis.jacobians: the block Jacobian of one LSTM step, against autograd."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import lstm_lib.numpy as lnp
from lstm_lib.analysis.jacobians import LSTMStepJacobian, lstm_jacobians, lstm_step_jacobian

I, H, T = 3, 4, 6


def _params(seed: int = 0, scale: float = 1.0, dtype=np.float64) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    return {"weight_ih": scale * rng.standard_normal((4 * H, I)).astype(dtype),
            "weight_hh": scale * rng.standard_normal((4 * H, H)).astype(dtype),
            "bias_ih": rng.standard_normal(4 * H).astype(dtype),
            "bias_hh": rng.standard_normal(4 * H).astype(dtype)}


def _point(seed: int = 1, dtype=np.float64) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return (rng.standard_normal(I).astype(dtype), rng.standard_normal(H).astype(dtype),
            rng.standard_normal(H).astype(dtype))


def _autograd(x, h, c, params) -> np.ndarray:
    cell = torch.nn.LSTMCell(I, H, dtype=torch.float64)
    cell.load_state_dict({k: torch.from_numpy(v) for k, v in params.items()})

    def step(h_, c_):
        h_t, c_t = cell(torch.from_numpy(x)[None], (h_[None], c_[None]))
        return h_t[0], c_t[0]

    blocks = torch.autograd.functional.jacobian(step, (torch.from_numpy(h), torch.from_numpy(c)))
    return np.block([[b.numpy() for b in row] for row in blocks])


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_matches_autograd(seed: int) -> None:
    params = _params(seed)
    x, h, c = _point(seed + 10)
    J = lstm_step_jacobian(x, h, c, **params)
    assert isinstance(J, LSTMStepJacobian)
    assert J.matrix().shape == (2 * H, 2 * H)
    for block in (J.hh, J.hc, J.ch, J.cc):
        assert block.shape == (H, H)
    np.testing.assert_allclose(J.matrix(), _autograd(x, h, c, params), rtol=0, atol=1e-13)


def test_new_state_and_gates_are_those_of_lstm_cell() -> None:
    params = _params(3)
    x, h, c = _point(4)
    J = lstm_step_jacobian(x, h, c, **params)
    cell = lnp.LSTMCell(I, H)
    cell.load_state_dict(params)
    h_new, c_new = cell.forward(x[None], (h[None], c[None]))
    np.testing.assert_allclose(J.h, h_new[0], rtol=0, atol=1e-15)
    np.testing.assert_allclose(J.c, c_new[0], rtol=0, atol=1e-15)
    for k in "ifgo":
        np.testing.assert_allclose(J.gates[k], cell.gates[k][0], rtol=0, atol=1e-15)


def test_blocks_are_the_named_paths() -> None:
    params = _params(5)
    x, h, c = _point(6)
    J = lstm_step_jacobian(x, h, c, **params)
    f, o = J.gates["f"], J.gates["o"]
    np.testing.assert_array_equal(J.cc, np.diag(f))          # the direct path, nothing else
    np.testing.assert_allclose(sum(J.ch_paths.values()), J.ch, rtol=0, atol=1e-15)
    d = o * (1 - np.tanh(J.c) ** 2)
    np.testing.assert_allclose(J.hc, np.diag(d * f), rtol=0, atol=1e-15)
    np.testing.assert_allclose(J.hh - J.hh_output, d[:, None] * J.ch, rtol=0, atol=1e-15)
    assert set(J.ch_paths) == {"f", "i", "g"}


def test_without_recurrent_weights_only_the_right_column_is_left() -> None:
    params = _params(7)
    params["weight_hh"][:] = 0.0
    J = lstm_step_jacobian(*_point(8), **params)
    assert not J.hh.any() and not J.ch.any()
    assert J.cc.any() and J.hc.any()


def test_float32_in_float32_out() -> None:
    params = _params(9, dtype=np.float32)
    J = lstm_step_jacobian(*_point(10, dtype=np.float32), **params)
    assert J.matrix().dtype == np.float32
    ref = lstm_step_jacobian(*_point(10), **{k: v.astype(np.float64) for k, v in params.items()})
    np.testing.assert_allclose(J.matrix(), ref.matrix(), rtol=0, atol=1e-5)


def test_sequence_reproduces_the_numpy_backward() -> None:
    """(u, 0) times the transposed Jacobians of every step is the NumPy layer's BPTT."""
    rng = np.random.default_rng(11)
    layer = lnp.LSTM(I, H, seed=2)
    x = rng.standard_normal((1, T, I))
    u = rng.standard_normal(H)
    out, _ = layer.forward(x)
    d_out = np.zeros_like(out)
    d_out[0, -1] = u
    layer.backward(d_out)
    params = {k.removesuffix("_l0"): v for k, v in layer.state_dict().items()}
    steps = lstm_jacobians(x[0], **params)
    assert len(steps) == T
    np.testing.assert_allclose(np.array([s.h for s in steps]), out[0], rtol=0, atol=1e-15)
    g = np.concatenate([u, np.zeros(H)])
    for t in range(T - 1, -1, -1):
        s = steps[t]
        dc = g[H:] + s.gates["o"] * (1 - np.tanh(s.c) ** 2) * g[:H]
        np.testing.assert_allclose(g[:H], layer.step_grads["h"][0, 0, t], rtol=0, atol=1e-14)
        np.testing.assert_allclose(dc, layer.step_grads["c"][0, 0, t], rtol=0, atol=1e-14)
        g = s.matrix().T @ g


def test_sequence_with_an_initial_state() -> None:
    params = _params(12)
    rng = np.random.default_rng(13)
    x, h0, c0 = rng.standard_normal((T, I)), rng.standard_normal(H), rng.standard_normal(H)
    steps = lstm_jacobians(x, **params, h0=h0, c0=c0)
    first = lstm_step_jacobian(x[0], h0, c0, **params)
    np.testing.assert_array_equal(steps[0].matrix(), first.matrix())
    second = lstm_step_jacobian(x[1], first.h, first.c, **params)
    np.testing.assert_array_equal(steps[1].matrix(), second.matrix())


@pytest.mark.parametrize("change, match", [
    (dict(x=np.zeros(I + 1)), "x must have shape"),
    (dict(h_prev=np.zeros(H + 1)), "h_prev must have shape"),
    (dict(c_prev=np.zeros((1, H))), "c_prev must have 1 dimensions"),
    (dict(weight_hh=np.zeros((4 * H, H + 1))), "4 x"),
    (dict(weight_ih=np.zeros((4 * H + 1, I))), "weight_ih must have shape"),
    (dict(bias_ih=np.zeros(4 * H - 1)), "bias_ih must have shape"),
    (dict(bias_hh=np.zeros((4 * H, 1))), "bias_hh must have 1 dimensions"),
    (dict(x=np.array([np.nan, 0.0, 0.0])), "NaN"),
])
def test_wrong_shapes_and_values_raise_value_error(change, match) -> None:
    x, h, c = _point()
    kw = dict(x=x, h_prev=h, c_prev=c, **_params())
    kw.update(change)
    with pytest.raises(ValueError, match=match):
        lstm_step_jacobian(**kw)


@pytest.mark.parametrize("change", [
    dict(x=np.zeros(I, dtype=np.int64)),
    dict(h_prev=np.zeros(H, dtype=bool)),
    dict(c_prev=np.zeros(H, dtype=np.complex128)),
    dict(weight_hh=[[0.0] * H] * (4 * H)),
    dict(bias_ih=torch.zeros(4 * H, dtype=torch.float64)),
])
def test_wrong_dtype_kinds_raise_type_error(change) -> None:
    x, h, c = _point()
    kw = dict(x=x, h_prev=h, c_prev=c, **_params())
    kw.update(change)
    with pytest.raises(TypeError):
        lstm_step_jacobian(**kw)


def test_sequence_checks_its_inputs() -> None:
    params = _params()
    with pytest.raises(ValueError, match=r"x must have shape \(T, I\)"):
        lstm_jacobians(np.zeros((T, I + 1)), **params)
    with pytest.raises(ValueError, match="h0 must have shape"):
        lstm_jacobians(np.zeros((T, I)), **params, h0=np.zeros(H + 1))
    with pytest.raises(TypeError):
        lstm_jacobians(np.zeros((T, I), dtype=np.int32), **params)
