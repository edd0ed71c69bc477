"""Tests for lstm_lib.analysis.gradients: per-step gradient norms and theory helpers."""

from __future__ import annotations

import numpy as np
import pytest

import lstm_lib.numpy as lnp
import lstm_lib.torch as lt
from lstm_lib.analysis import gradients as G

I, H, B, T = 3, 5, 2, 7


@pytest.fixture
def data() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    return rng.standard_normal((B, T, I)), rng.standard_normal((B, H))


# ----------------------------------------------------------------------------- matrices

def test_spectral_radius_of_known_matrices() -> None:
    assert G.spectral_radius(np.diag([0.5, -2.0, 1.0])) == pytest.approx(2.0)
    rotation = np.array([[0.0, -3.0], [3.0, 0.0]])  # eigenvalues +-3i
    assert G.spectral_radius(rotation) == pytest.approx(3.0)


def test_set_spectral_radius_rescales_and_keeps_eigenvectors() -> None:
    w = np.random.default_rng(1).standard_normal((6, 6))
    w2 = G.set_spectral_radius(w, 0.7)
    assert G.spectral_radius(w2) == pytest.approx(0.7, abs=1e-12)
    ratio = w2 / w
    assert np.allclose(ratio, ratio[0, 0])  # a pure rescaling


def test_set_spectral_radius_rejects_bad_input() -> None:
    with pytest.raises(ValueError, match="spectral radius 0"):
        G.set_spectral_radius(np.zeros((3, 3)), 1.0)
    with pytest.raises(ValueError, match="square"):
        G.set_spectral_radius(np.ones((2, 3)), 1.0)
    with pytest.raises(ValueError, match="> 0"):
        G.set_spectral_radius(np.eye(2), -1.0)
    with pytest.raises(TypeError, match="positive number"):
        G.set_spectral_radius(np.eye(2), "1")


@pytest.mark.parametrize("rho", [0.5, 1.0, 1.5])
def test_scaled_orthogonal_has_all_singular_values_rho(rho: float) -> None:
    w = G.scaled_orthogonal(8, rho, seed=3)
    assert np.allclose(w.T @ w, rho**2 * np.eye(8), atol=1e-12)
    assert G.spectral_radius(w) == pytest.approx(rho, abs=1e-12)
    assert np.array_equal(w, G.scaled_orthogonal(8, rho, seed=3))
    assert not np.allclose(w, G.scaled_orthogonal(8, rho, seed=4))
    assert G.scaled_orthogonal(4, rho, dtype=np.float32).dtype == np.float32


def test_scaled_orthogonal_rejects_bad_sizes() -> None:
    with pytest.raises(ValueError, match="positive int"):
        G.scaled_orthogonal(0, 1.0)
    with pytest.raises(TypeError, match="float32 or float64"):
        G.scaled_orthogonal(3, 1.0, dtype=np.int64)


# ------------------------------------------------------------------------- measurement

def _pair(kind: str, seed: int = 1) -> tuple:
    return getattr(lnp, kind)(I, H, seed=seed), getattr(lt, kind)(I, H, seed=seed)


@pytest.mark.parametrize("kind,loss_at,wrt", [("RNN", "h", "h"), ("LSTM", "h", "h"),
                                              ("LSTM", "h", "c"), ("LSTM", "c", "c"),
                                              ("LSTM", "c", "h")])
def test_numpy_and_torch_norms_agree(data, kind: str, loss_at: str, wrt: str) -> None:
    x, u = data
    a, b = _pair(kind)
    n_np = G.numpy_step_grad_norms(a, x, u, loss_at, wrt)
    n_tc = G.torch_step_grad_norms(b, x, u, loss_at, wrt)
    assert n_np.shape == (B, T)
    assert np.allclose(n_np, n_tc, rtol=1e-10, atol=1e-14)
    if (loss_at, wrt) == ("c", "h"):
        assert np.all(n_np[:, -1] == 0)  # h_T does not influence c_T
    else:
        assert (n_np > 0).all()


def test_last_step_norm_is_norm_of_u(data) -> None:
    x, u = data
    n = G.numpy_step_grad_norms(lnp.RNN(I, H, seed=2), x, u)
    assert np.allclose(n[:, -1], np.linalg.norm(u, axis=-1))


def _loss_from(layer, x_tail, u, state, loss_at: str) -> float:
    """L = sum <u, s_T> after running ``layer`` on ``x_tail`` from ``state``."""
    out, final = layer.forward(x_tail, state)
    last = out[:, -1] if loss_at == "h" else final[1][0]
    return float(np.sum(u * last))


@pytest.mark.parametrize("kind,loss_at,wrt", [("RNN", "h", "h"), ("LSTM", "h", "c"),
                                              ("LSTM", "h", "h"), ("LSTM", "c", "c")])
def test_numpy_norms_match_finite_differences(data, kind: str, loss_at: str, wrt: str) -> None:
    """dL/ds_t is the gradient w.r.t. the initial state of the sequence cut after step t.

    For c_t the perturbation moves h_t = o_t tanh(c_t) with it: the measured quantity is the
    total derivative, through h_t as well."""
    x, u = data
    layer = getattr(lnp, kind)(I, H, seed=5)
    norms = G.numpy_step_grad_norms(layer, x, u, loss_at, wrt)
    tr = layer.trace(x)
    eps = 1e-6
    for t in (1, 4):
        h_t = tr["h"][:, :, t]  # (1, B, H)
        c_t = tr["c"][:, :, t] if kind == "LSTM" else None
        grad = np.zeros((B, H))
        for bb in range(B):
            for j in range(H):
                losses = []
                for sign in (1.0, -1.0):
                    h, c = h_t.copy(), None if c_t is None else c_t.copy()
                    if wrt == "h":
                        h[0, bb, j] += sign * eps
                    else:  # h_t = o_t tanh(c_t) moves with c_t: the total derivative
                        c[0, bb, j] += sign * eps
                        h[0, bb, j] = tr["o"][0, bb, t, j] * np.tanh(c[0, bb, j])
                    state = h if kind == "RNN" else (h, c)
                    losses.append(_loss_from(layer, x[:, t + 1:], u, state, loss_at))
                grad[bb, j] = (losses[0] - losses[1]) / (2 * eps)
        assert np.allclose(np.linalg.norm(grad, axis=-1), norms[:, t], rtol=1e-6)


def test_rnn_at_rest_gives_rho_to_the_lag(data) -> None:
    _, u = data
    rnn = lnp.RNN(I, H, seed=0)
    sd = rnn.state_dict()
    sd["weight_hh_l0"] = G.scaled_orthogonal(H, 0.8, seed=1)
    sd["bias_ih_l0"][:] = 0.0
    sd["bias_hh_l0"][:] = 0.0
    rnn.load_state_dict(sd)
    norms = G.numpy_step_grad_norms(rnn, np.zeros((B, T, I)), u)
    profile = G.lag_profile(norms)
    lags = np.arange(T)
    assert np.allclose(profile, G.linear_theory(0.8, lags), rtol=1e-12)
    assert G.decay_rate(profile, lags) == pytest.approx(0.8, rel=1e-12)


def test_measurement_rejects_bad_arguments(data) -> None:
    x, u = data
    rnn = lnp.RNN(I, H)
    with pytest.raises(ValueError, match="no cell state"):
        G.numpy_step_grad_norms(rnn, x, u, wrt="c")
    with pytest.raises(ValueError, match="'h' or 'c'"):
        G.numpy_step_grad_norms(rnn, x, u, loss_at="x")
    with pytest.raises(ValueError, match="single-layer"):
        G.numpy_step_grad_norms(lnp.RNN(I, H, num_layers=2), x, u)
    with pytest.raises(ValueError, match="single-layer"):
        G.torch_step_grad_norms(lt.LSTM(I, H, bidirectional=True), x, u)
    with pytest.raises(ValueError, match=r"\(B, H\)"):
        G.numpy_step_grad_norms(rnn, x, u[:, :-1])
    with pytest.raises(ValueError, match=r"\(B, H\)"):
        G.torch_step_grad_norms(lt.RNN(I, H), x, u[:1])


def test_lag_profile() -> None:
    norms = np.array([[8.0, 4.0, 2.0], [2.0, 2.0, 2.0]])
    # example 0 relative: 4, 2, 1; example 1: 1, 1, 1; geometric mean: 2, sqrt(2), 1
    assert np.allclose(G.lag_profile(norms), [1.0, np.sqrt(2.0), 2.0])
    with pytest.raises(ValueError, match="positive"):
        G.lag_profile(np.array([[1.0, 0.0]]))
    with pytest.raises(ValueError, match="2 dimensions"):
        G.lag_profile(np.ones(3))


def test_forget_gate_path_is_the_whole_gradient_without_recurrent_weights(data) -> None:
    x, u = data
    lstm = lnp.LSTM(I, H, seed=3)
    sd = lstm.state_dict()
    sd["weight_hh_l0"][:] = 0.0
    lstm.load_state_dict(sd)
    G.numpy_step_grad_norms(lstm, x, u, "h", "c")
    dc = lstm.step_grads["c"][0]
    direct = G.forget_gate_path(lstm.trace(x)["f"][0], dc[:, -1])
    assert np.allclose(direct, dc, rtol=1e-12, atol=1e-15)


def test_forget_gate_path_small_example() -> None:
    f = np.array([[[0.5], [0.25], [0.1]]])  # (B=1, T=3, H=1)
    out = G.forget_gate_path(f, np.array([[2.0]]))
    assert np.allclose(out[0, :, 0], [2.0 * 0.1 * 0.25, 2.0 * 0.1, 2.0])
    with pytest.raises(ValueError, match=r"\(B, H\)"):
        G.forget_gate_path(f, np.ones((2, 1)))


# ---------------------------------------------------------------------------------- theory

def test_linear_theory_and_decay_rate() -> None:
    lags = np.arange(10)
    curve = G.linear_theory(0.9, lags, g0=3.0)
    assert np.allclose(curve, 3.0 * 0.9**lags)
    assert G.decay_rate(curve, lags) == pytest.approx(0.9)
    with pytest.raises(ValueError, match="non-negative"):
        G.linear_theory(0.9, np.array([-1.0]))
    with pytest.raises(ValueError, match="positive"):
        G.decay_rate(np.array([1.0, 0.0]), np.array([0.0, 1.0]))
    with pytest.raises(ValueError, match="same length"):
        G.decay_rate(np.ones(3), np.arange(2))


def test_meanfield_rates() -> None:
    h = np.zeros((2, 4, 3))
    assert np.allclose(G.meanfield_rates(h, 1.3), 1.3)
    h[:, :, 0] = 1.0  # one of three units saturated: rms(1 - h^2) = sqrt(2/3)
    assert np.allclose(G.meanfield_rates(h, 1.0), np.sqrt(2.0 / 3.0))
    with pytest.raises(ValueError, match="3 dimensions"):
        G.meanfield_rates(np.zeros((2, 3)), 1.0)
