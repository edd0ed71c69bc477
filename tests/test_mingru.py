"""minGRU: the NumPy loop and log-space scan agree to round-off (long sequences, saturated
gates); the NumPy layer equals its torch twin (the recipe's MinGRU with seeded weights); the
hand-written backward equals autograd; float32 stays float32; inputs are checked."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import lstm_lib.numpy as lnp
import lstm_lib.torch as ltorch
from lstm_lib.numpy.mingru import logcumsumexp
from lstm_lib.numpy.optim import Adam
from lstm_lib.recipes.state_tracking import MinGRU as RecipeMinGRU

KEYS = ("linear.weight", "linear.bias")
EPS64, EPS32 = np.finfo(np.float64).eps, np.finfo(np.float32).eps
MODES = ("parallel", "sequential")


def rel(a, b) -> float:
    """max |a - b| / max |b| (b the reference)."""
    a = a.detach().numpy() if isinstance(a, torch.Tensor) else a
    b = b.detach().numpy() if isinstance(b, torch.Tensor) else b
    return float(np.abs(a - b).max() / np.abs(b).max())


def saturated(layer, gates: str, seed: int = 0) -> None:
    """Load weights whose gate pre-activations k sit near +25 ("near 1": z ~ 1 - 1e-11),
    near -25 ("near 0": z ~ 1e-11) or spread ("mixed"); candidates moderate."""
    H, I = layer.hidden_size, layer.input_size
    rng = np.random.default_rng(seed)
    centre = {"near 1": 25.0, "near 0": -25.0, "mixed": 0.0}[gates]
    spread = 15.0 if gates == "mixed" else 3.0
    weight = rng.uniform(-1, 1, (2 * H, I))
    bias = np.r_[centre + rng.uniform(-spread, spread, H), rng.uniform(-1, 1, H)]
    layer.load_state_dict({"linear.weight": weight, "linear.bias": bias})


def max_abs_a(layer, x) -> float:
    """max_t |a_t|, a_t = sum_{r<=t} log(1 - z_r) = -sum softplus(k_r): the size of the
    numbers the scan subtracts, which sets its round-off (float64 arithmetic)."""
    W, b = layer.params["linear.weight"].astype(np.float64), layer.params["linear.bias"]
    k = (x @ W.T + b)[..., :layer.hidden_size]
    return float(np.cumsum(np.logaddexp(0, k), axis=1).max())


def test_seeded_twins_hold_identical_weights_drawn_as_documented():
    state = torch.random.get_rng_state()
    m, t = lnp.MinGRU(4, 3, seed=5), ltorch.MinGRU(4, 3, seed=5)
    assert torch.equal(torch.random.get_rng_state(), state)  # the twin leaves torch's RNG alone
    assert isinstance(t, RecipeMinGRU) and isinstance(t.linear, torch.nn.Linear)
    assert list(m.state_dict()) == list(t.state_dict()) == list(KEYS)
    rng = np.random.default_rng(5)  # documented: weight then bias, uniform +-1/sqrt(I)
    expected = {"linear.weight": rng.uniform(-0.5, 0.5, (6, 4)),
                "linear.bias": rng.uniform(-0.5, 0.5, (6,))}
    for key in KEYS:
        np.testing.assert_array_equal(m.state_dict()[key], expected[key])
        np.testing.assert_array_equal(t.state_dict()[key].numpy(), expected[key])
        assert t.state_dict()[key].dtype == torch.float64
    assert m.num_parameters() == t.num_parameters() == 6 * 5
    m32, t32 = lnp.MinGRU(4, 3, dtype=np.float32, seed=5), ltorch.MinGRU(4, 3, torch.float32, 5)
    for key in KEYS:
        assert m32.params[key].dtype == np.float32 and t32.state_dict()[key].dtype == torch.float32
        np.testing.assert_array_equal(m32.params[key], expected[key].astype(np.float32))
        np.testing.assert_array_equal(t32.state_dict()[key].numpy(), m32.params[key])
    assert not np.array_equal(lnp.MinGRU(4, 3, seed=6).params["linear.weight"],
                              m.params["linear.weight"])


def test_logcumsumexp_is_stable_and_exact():
    v = np.array([[[-1e4], [0.0], [1e4], [-np.inf], [1e4]]])
    out = logcumsumexp(v, axis=1)[0, :, 0]
    np.testing.assert_allclose(out, [-1e4, 0.0, 1e4, 1e4, 1e4 + np.log(2)], rtol=1e-15)
    w = np.random.default_rng(0).standard_normal((2, 50, 3))
    np.testing.assert_allclose(logcumsumexp(w, 1), np.log(np.cumsum(np.exp(w), 1)), rtol=1e-13)


@pytest.mark.parametrize("gates", ["near 1", "near 0", "mixed"])
@pytest.mark.parametrize("with_h0", [False, True])
def test_sequential_equals_parallel_over_2000_steps(gates, with_h0):
    B, T, I, H = 2, 2000, 3, 4
    m = lnp.MinGRU(I, H)
    saturated(m, gates)
    rng = np.random.default_rng(1)
    x = rng.standard_normal((B, T, I))
    h0 = rng.uniform(0.05, 3.0, (1, B, H)) if with_h0 else None
    seq, hn_seq = m.forward(x, h0, mode="sequential")
    par, hn_par = m.forward(x, h0, mode="parallel")
    assert (seq > 0).all()
    err = float((np.abs(par - seq) / seq).max())  # h > 0: the elementwise relative error
    # the scan's documented error: about eps * |a_t| (a_t = sum log(1 - z)), plus the
    # logcumsumexp's T steps of rounding
    a_max = max_abs_a(m, x)
    bound = 8 * EPS64 * (T + a_max)
    print(f"\n  {gates}, h0 {'given' if with_h0 else 'none'}: max |par - seq| "
          f"{np.abs(par - seq).max():.2e}, relative {err:.2e} (bound {bound:.1e}, "
          f"max |a_t| {a_max:.0f})")
    assert err < bound
    np.testing.assert_array_equal(hn_par[0], par[:, -1])
    np.testing.assert_array_equal(hn_seq[0], seq[:, -1])


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("with_h0", [False, True])
def test_numpy_equals_torch_twin(mode, with_h0):
    B, T, I, H = 3, 60, 5, 4
    m, t = lnp.MinGRU(I, H, seed=2), ltorch.MinGRU(I, H, seed=2)
    rng = np.random.default_rng(3)
    x = rng.standard_normal((B, T, I))
    h0 = rng.uniform(0.1, 2.0, (1, B, H)) if with_h0 else None
    out, hn = m.forward(x, h0, mode=mode)
    with torch.no_grad():
        out_t, hn_t = t(x, h0, mode=mode)  # NumPy arrays in: the twin converts them
    assert out.shape == tuple(out_t.shape) == (B, T, H) and hn.shape == tuple(hn_t.shape)
    assert hn.shape == (1, B, H)
    print(f"\n  {mode}, h0 {with_h0}: NumPy vs torch {rel(out, out_t):.1e}")
    assert rel(out, out_t) < 1e-13 and rel(hn, hn_t) < 1e-13


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("with_h0", [False, True])
@pytest.mark.parametrize("case", ["random", "saturated"])
def test_backward_equals_autograd(mode, with_h0, case):
    B, T, I, H = 3, 37 if case == "random" else 200, 4, 5
    m, t = lnp.MinGRU(I, H, seed=1), ltorch.MinGRU(I, H, seed=1)
    if case == "saturated":
        saturated(m, "mixed", seed=4)
        t.load_state_dict(m.state_dict())
    rng = np.random.default_rng(7)
    x = rng.standard_normal((B, T, I))
    h0 = rng.uniform(0.1, 2.0, (1, B, H)) if with_h0 else None
    d_out, d_hn = rng.standard_normal((B, T, H)), rng.standard_normal((1, B, H))
    m.forward(x, h0, mode=mode)
    dx = m.backward(d_out, d_hn)
    xt = torch.tensor(x, requires_grad=True)
    ht = None if h0 is None else torch.tensor(h0, requires_grad=True)
    out_t, hn_t = t(xt, ht, mode=mode)
    ((out_t * torch.from_numpy(d_out)).sum() + (hn_t * torch.from_numpy(d_hn)).sum()).backward()
    errors = {"x": rel(dx, xt.grad)}
    errors.update({k: rel(m.grads[k], p.grad) for k, p in t.named_parameters()})
    assert set(m.grads) == set(KEYS)
    if with_h0:
        assert m.d_h0.shape == (1, B, H)
        errors["h0"] = rel(m.d_h0, ht.grad)
    else:
        assert m.d_h0 is None
    print(f"\n  {case}, {mode}, h0 {with_h0}: " + ", ".join(f"{k} {v:.1e}" for k, v in
                                                        errors.items()))
    assert max(errors.values()) < 1e-10, errors
    # without d_h_n: only the outputs' gradient
    m.forward(x, h0, mode=mode)
    dx0 = m.backward(d_out)
    xt.grad = None
    t(xt, ht, mode=mode)[0].mul(torch.from_numpy(d_out)).sum().backward()
    assert rel(dx0, xt.grad) < 1e-10


def test_grads_feed_adam():
    m = lnp.MinGRU(3, 2)
    x = np.random.default_rng(0).standard_normal((2, 5, 3))
    out, _ = m.forward(x, np.ones((1, 2, 2)))
    m.backward(np.ones_like(out))
    before = m.state_dict()
    Adam(m.params, lr=0.1).step(m.grads)
    assert all(not np.array_equal(before[k], m.params[k]) for k in KEYS)


def test_float32_stays_float32_and_modes_agree():
    B, T, I, H = 4, 1000, 6, 8
    m = lnp.MinGRU(I, H, dtype=np.float32)
    m64 = lnp.MinGRU(I, H)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((B, T, I)).astype(np.float32)
    h0 = rng.uniform(0.1, 2.0, (1, B, H)).astype(np.float32)
    reference, _ = m64.forward(x.astype(np.float64), h0.astype(np.float64), mode="sequential")
    errors = {}
    for mode in MODES:
        out, hn = m.forward(x, h0, mode=mode)
        assert out.dtype == hn.dtype == np.float32
        dx = m.backward(np.ones_like(out), np.ones_like(hn))
        assert dx.dtype == m.d_h0.dtype == np.float32
        assert all(g.dtype == np.float32 for g in m.grads.values())
        errors[mode] = float((np.abs(out - reference) / reference).max())
    t32 = ltorch.MinGRU(I, H, dtype=torch.float32)
    with torch.no_grad():
        out_t, hn_t = t32(x, h0)
    assert out_t.dtype == hn_t.dtype == torch.float32
    a_max = max_abs_a(m64, x.astype(np.float64))
    bound = 8 * EPS32 * (T + a_max)
    print(f"\n  float32 vs float64, relative: {errors} (bound {bound:.1e})")
    assert errors["sequential"] < 100 * EPS32
    assert errors["parallel"] < bound
    out_seq, _ = m.forward(x, h0, mode="sequential")
    out_par, _ = m.forward(x, h0, mode="parallel")
    assert float((np.abs(out_par - out_seq) / out_seq).max()) < bound


@pytest.mark.parametrize("impl", [lnp, ltorch])
def test_inputs_are_checked(impl):
    m = impl.MinGRU(3, 2)
    x = np.zeros((2, 4, 3))
    h0 = np.ones((1, 2, 2))
    with pytest.raises(ValueError, match="mode must be 'parallel' or 'sequential', got 'scan'"):
        m.forward(x, mode="scan")
    with pytest.raises(ValueError, match=r"3 dimensions \(B, T, I\), got 2"):
        m.forward(np.zeros((4, 3)))
    with pytest.raises(ValueError, match=r"x must have shape \(B, T, I\) = \(\*, \*, 3\), got"):
        m.forward(np.zeros((2, 4, 5)))
    with pytest.raises(ValueError, match="x contains NaN"):
        m.forward(np.full((2, 4, 3), np.nan))
    with pytest.raises(TypeError, match="x must have a real floating dtype, got integer"):
        m.forward(np.zeros((2, 4, 3), dtype=np.int64))
    with pytest.raises(TypeError, match="NumPy array"):
        m.forward([[[0.0, 0.0, 0.0]]])
    for bad in (0.0, -1.0):
        with pytest.raises(ValueError, match="h0 must be positive"):
            m.forward(x, h0 * bad)
    with pytest.raises(ValueError, match=r"h0 must have shape \(1, B, H\) = \(1, 2, 2\)"):
        m.forward(x, np.ones((1, 3, 2)))
    with pytest.raises(ValueError, match="h0 contains NaN"):
        m.forward(x, np.full((1, 2, 2), np.nan))
    with pytest.raises(TypeError, match="dtype must be float32 or float64"):
        impl.MinGRU(3, 2, dtype=np.int32)
    with pytest.raises(ValueError, match="hidden_size must be a positive int, got 0"):
        impl.MinGRU(3, 0)
    with pytest.raises(ValueError, match="missing key"):
        m.load_state_dict({"linear.weight": np.zeros((4, 3))})
    with pytest.raises(ValueError, match=r"linear.bias must have shape \(4,\), got \(5,\)"):
        m.load_state_dict({"linear.weight": np.zeros((4, 3)), "linear.bias": np.zeros(5)})


def test_numpy_backward_checks():
    m = lnp.MinGRU(3, 2)
    with pytest.raises(ValueError, match="backward called before forward"):
        m.backward(np.zeros((2, 4, 2)))
    m.forward(np.zeros((2, 4, 3)))
    with pytest.raises(ValueError, match=r"d_output must have shape \(B, T, H\) = \(2, 4, 2\)"):
        m.backward(np.zeros((2, 5, 2)))
    with pytest.raises(ValueError, match=r"d_h_n must have shape \(1, B, H\)"):
        m.backward(np.zeros((2, 4, 2)), np.zeros((1, 3, 2)))
    with pytest.raises(TypeError, match="d_output must have a real floating dtype"):
        m.backward(np.zeros((2, 4, 2), dtype=np.int32))


def test_state_dicts_move_between_twins():
    m, t = lnp.MinGRU(3, 2, seed=0), ltorch.MinGRU(3, 2, seed=9)
    t.load_state_dict(m.state_dict())
    m2 = lnp.MinGRU(3, 2, seed=4)
    missing, unexpected = m2.load_state_dict(t.state_dict())
    assert missing == unexpected == []
    for key in KEYS:
        np.testing.assert_array_equal(t.state_dict()[key].numpy(), m.params[key])
        np.testing.assert_array_equal(m2.params[key], m.params[key])
    for layer in (m2, t):  # strict=False as torch.nn's: loads what it knows, reports the rest
        got = layer.load_state_dict({"linear.weight": np.ones((4, 3)), "stray": np.ones(2)},
                                    strict=False)
        assert list(got.missing_keys) == ["linear.bias"]
        assert list(got.unexpected_keys) == ["stray"]
        np.testing.assert_array_equal(np.asarray(layer.state_dict()["linear.weight"]), 1.0)
