"""Tests for lstm_lib.analysis.lag_profiles: the set-ups of the vanishing-gradients chapter."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from lstm_lib import numpy as lnp  # noqa: E402
from lstm_lib.analysis import gradients  # noqa: E402
from lstm_lib.analysis import lag_profiles as lp  # noqa: E402

I, H, B, T = 3, 6, 2, 9


@pytest.fixture
def data() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    return rng.standard_normal((B, T, I)), rng.standard_normal((B, H))


def test_orthogonal_rnn_numpy_and_torch_hold_the_same_weights() -> None:
    a = lp.orthogonal_rnn(I, H, 0.7, kind="numpy").state_dict()
    b = lp.orthogonal_rnn(I, H, 0.7, kind="torch").state_dict()
    assert list(a) == list(b)
    for k in a:
        np.testing.assert_array_equal(a[k], b[k].numpy())
    sv = np.linalg.svd(a["weight_hh_l0"], compute_uv=False)
    np.testing.assert_allclose(sv, 0.7, atol=1e-12)
    assert a["bias_ih_l0"].any()  # the default biases are not zero
    c = lp.orthogonal_rnn(I, H, 0.7, biases=False).state_dict()
    assert not c["bias_ih_l0"].any() and not c["bias_hh_l0"].any()
    np.testing.assert_array_equal(c["weight_ih_l0"], a["weight_ih_l0"])


def test_rnn_profiles_at_rest_are_rho_to_the_k(data) -> None:
    _, u = data
    x0 = np.zeros((B, T, I))
    r = lp.rnn_lag_profiles(0.8, x0, u, biases=False)
    assert isinstance(r, lp.RNNProfiles) and isinstance(r.layer, lnp.RNN)
    np.testing.assert_allclose(r.numpy, 0.8 ** np.arange(T), rtol=1e-12)
    np.testing.assert_allclose(r.torch, r.numpy, rtol=1e-12)
    assert r.gap < 1e-12


def test_rnn_profiles_driven_agree_and_fall_below_rho(data) -> None:
    x, u = data
    r = lp.rnn_lag_profiles(1.0, x, u)
    assert r.gap < 1e-10 and r.numpy[0] == 1.0
    assert lp.rate_over(r.numpy, T - 1) < 1.0


def test_rate_over_is_the_geometric_mean_of_the_factors() -> None:
    factors = np.array([2.0, 0.5, 4.0])
    profile = np.concatenate([[1.0], np.cumprod(factors)])
    assert lp.rate_over(profile, 3) == pytest.approx(4.0 ** (1 / 3))
    assert lp.rate_over(profile, 1) == pytest.approx(2.0)
    with pytest.raises(ValueError):
        lp.rate_over(profile, 4)
    with pytest.raises(ValueError):
        lp.rate_over(np.array([1.0, 0.0]), 1)
    with pytest.raises(TypeError):
        lp.rate_over(profile, 1.5)


def test_forget_bias_lands_in_the_forget_rows() -> None:
    lstm = lp.lstm_with_forget_bias(I, H, 2.5)
    sd = lstm.state_dict()
    np.testing.assert_array_equal(sd["bias_ih_l0"][H:2 * H], 2.5)
    np.testing.assert_array_equal(sd["bias_hh_l0"][H:2 * H], 0.0)
    ref = lnp.LSTM(I, H, seed=0).state_dict()
    np.testing.assert_array_equal(sd["bias_ih_l0"][:H], ref["bias_ih_l0"][:H])
    scaled = lp.lstm_with_forget_bias(I, H, 0, recurrent_scale=3.0).state_dict()
    np.testing.assert_allclose(scaled["weight_hh_l0"], 3 * ref["weight_hh_l0"])
    cut = lp.lstm_with_forget_bias(I, H, 0, recurrent=False).state_dict()
    assert not cut["weight_hh_l0"].any()
    with pytest.raises(TypeError):
        lp.lstm_with_forget_bias(I, H, "1")
    with pytest.raises(ValueError):
        lp.lstm_with_forget_bias(I, H, 1.0, recurrent_scale=-1.0)


def test_lstm_profiles_direct_path_is_everything_without_w_hh(data) -> None:
    x, u = data
    p = lp.lstm_lag_profiles(lp.lstm_with_forget_bias(I, H, 1.0, recurrent=False), x, u)
    assert p.gap < 1e-14 and p.hidden is None
    np.testing.assert_allclose(p.cell, p.direct, rtol=1e-12)
    full = lp.lstm_lag_profiles(lp.lstm_with_forget_bias(I, H, 1.0), x, u)
    assert full.gap > 1e-6 and full.hidden is not None and full.hidden[0] == 1.0
    # the cell profile is the one gradients.numpy_step_grad_norms measures
    lstm = lp.lstm_with_forget_bias(I, H, 1.0)
    ref = gradients.lag_profile(gradients.numpy_step_grad_norms(lstm, x, u, "h", "c"))
    np.testing.assert_allclose(full.cell, ref, rtol=1e-12)
    with pytest.raises(TypeError):
        lp.lstm_lag_profiles(lnp.RNN(I, H), x, u)


def test_weight_grads_by_lag_sum_to_the_gradient(data) -> None:
    x, u = data
    layer = lp.orthogonal_rnn(I, H, 0.9)
    terms = lp.rnn_weight_grads_by_lag(layer, x, u)
    assert terms["weight_ih_l0"].shape == (T, H, I)
    assert terms["weight_hh_l0"].shape == (T, H, H)
    for k, v in terms.items():
        np.testing.assert_allclose(v.sum(axis=0), layer.grads[k], rtol=1e-12, atol=1e-14)
    # lag 0 is the last step: its input term is delta_T x_T^T with delta_T = D_T u
    h = layer.trace(x)["h"][0]
    expected = np.einsum("bh,bi->hi", (1 - h[:, -1] ** 2) * u, x[:, -1])
    np.testing.assert_allclose(terms["weight_ih_l0"][0], expected, rtol=1e-12)
    # the oldest step has h_{-1} = 0, so it adds nothing to dL/dW_hh
    assert not terms["weight_hh_l0"][-1].any()
    with pytest.raises(TypeError):
        lp.rnn_weight_grads_by_lag(lnp.LSTM(I, H), x, u)
    with pytest.raises(ValueError):
        lp.rnn_weight_grads_by_lag(layer, x[:, :, :2], u)


def test_plot_lag_profiles_draws_every_curve(data) -> None:
    x, u = data
    profiles = {"a": lp.rnn_lag_profiles(0.5, x, u), "b": lp.rnn_lag_profiles(1.2, x, u)}
    fig, ax = plt.subplots()
    theory = {k: gradients.linear_theory(r, np.arange(T)) for k, r in (("a", 0.5), ("b", 1.2))}
    lp.plot_lag_profiles(ax, profiles, title="t", theory=theory)
    assert len(ax.lines) == 8 and ax.get_yscale() == "log"    # 6 curves, 2 legend entries
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels == ["a", "b", "torch autograd (dots)", r"theory $\rho^k$"]
    drawn = [line for line in ax.lines if line.get_xdata().size]
    theory_lines = [line for line in drawn if line.get_color() == "0.8"]
    assert len(theory_lines) == 2 and all(line.get_zorder() < 3 for line in theory_lines)
    plt.close(fig)
    with pytest.raises(ValueError):
        lp.plot_lag_profiles(ax, {}, title="t")
    with pytest.raises(TypeError):
        lp.plot_lag_profiles(ax, {"a": (1, 2)}, title="t")


def test_inputs_are_checked(data) -> None:
    x, u = data
    with pytest.raises(ValueError):
        lp.orthogonal_rnn(I, H, 0.5, kind="jax")
    with pytest.raises(TypeError):
        lp.orthogonal_rnn(I, H, 0.5, biases=0)
    with pytest.raises(ValueError):
        lp.rnn_lag_profiles(0.5, x[0], u)           # (T, I): not (B, T, I)
    with pytest.raises(ValueError):
        lp.rnn_lag_profiles(0.5, x, u[:1])          # u must be (B, H)
    with pytest.raises(ValueError):
        lp.rnn_lag_profiles(0.5, np.full_like(x, np.nan), u)
    with pytest.raises(TypeError):
        lp.rnn_lag_profiles(0.5, x.astype(int), u)


def test_sci_prints_a_compared_power_of_ten() -> None:
    assert lp.sci(1.4e-13) == "1.4 × 10^-13"
    assert lp.sci(8.882e-16, 3) == "8.882 × 10^-16"
    assert lp.sci(0.99999999999999) == "1.0 × 10^0"      # rounding carries into the exponent
    assert lp.sci(6.376e8, 2) == "6.38 × 10^8"
    with pytest.raises(ValueError):
        lp.sci(float("nan"))
    with pytest.raises(ValueError):
        lp.sci(1.0, -1)
    with pytest.raises(TypeError):
        lp.sci("1e-13")
    with pytest.raises(TypeError):
        lp.sci(1.0, 1.5)
