"""Additive (Bahdanau) attention: the NumPy layer's hand-written backward, its torch twin's
autograd and central differences agree; padding gets exactly 0 weight and 0 gradient."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import lstm_lib.numpy as lnp
import lstm_lib.torch as ltorch
from lstm_lib.verify.gradcheck import numeric_grad

IMPLS = [lnp, ltorch]
PARAMS = ("W_q", "W_k", "v")
# (B, T, Hq, Hk, A, lengths): lengths None, mixed, all full, all length 1
CASES = [
    (3, 5, 4, 6, 7, None),
    (3, 5, 4, 6, 7, [5, 2, 1]),
    (4, 7, 2, 3, 5, [7, 7, 7, 7]),
    (2, 4, 5, 2, 3, [1, 1]),
    (1, 1, 3, 3, 2, None),
]


def make(case, seed=0, dtype=np.float64):
    """A NumPy layer, its twin (same seed), a query, keys and the case's lengths."""
    B, T, Hq, Hk, A, lengths = case
    m = lnp.AdditiveAttention(Hq, Hk, A, dtype=dtype, seed=seed)
    twin = ltorch.AdditiveAttention(Hq, Hk, A, dtype=dtype, seed=seed)
    rng = np.random.default_rng(100 + seed)
    q = rng.standard_normal((B, Hq)).astype(dtype)
    k = rng.standard_normal((B, T, Hk)).astype(dtype)
    lens = None if lengths is None else np.array(lengths)
    return m, twin, q, k, lens


def padded(lens, B, T):
    """(B, T) bool: True at padded steps (t >= length)."""
    if lens is None:
        return np.zeros((B, T), bool)
    return np.arange(T)[None, :] >= np.asarray(lens)[:, None]


def test_seeded_twins_hold_identical_weights_drawn_as_documented():
    m = lnp.AdditiveAttention(4, 6, 5, seed=3)
    t = ltorch.AdditiveAttention(4, 6, 5, seed=3)
    assert list(m.state_dict()) == list(t.state_dict()) == list(PARAMS)
    rng = np.random.default_rng(3)  # the documented init: W_q, W_k, v in order, +-1/sqrt(fan_in)
    expected = {"W_q": rng.uniform(-1 / 2, 1 / 2, (5, 4)),
                "W_k": rng.uniform(-1 / np.sqrt(6), 1 / np.sqrt(6), (5, 6)),
                "v": rng.uniform(-1 / np.sqrt(5), 1 / np.sqrt(5), (5,))}
    for key in PARAMS:
        assert m.state_dict()[key].dtype == np.float64
        assert t.state_dict()[key].dtype == torch.float64
        np.testing.assert_array_equal(m.state_dict()[key], expected[key])
        np.testing.assert_array_equal(t.state_dict()[key].numpy(), expected[key])
        assert isinstance(getattr(t, key), torch.nn.Parameter)
    assert m.num_parameters() == t.num_parameters() == 5 * (4 + 6 + 1)
    other = lnp.AdditiveAttention(4, 6, 5, seed=4)
    assert not np.array_equal(other.params["W_k"], m.params["W_k"])
    m32 = lnp.AdditiveAttention(4, 6, 5, dtype=np.float32, seed=3)
    t32 = ltorch.AdditiveAttention(4, 6, 5, dtype=torch.float32, seed=3)
    for key in PARAMS:
        assert m32.params[key].dtype == np.float32 and t32.state_dict()[key].dtype == torch.float32
        np.testing.assert_array_equal(m32.params[key], t32.state_dict()[key].numpy())
        np.testing.assert_array_equal(m32.params[key], expected[key].astype(np.float32))


def reference(m, q, k, lens):
    """The equations one sequence at a time, over its real steps only (no masking)."""
    W_q, W_k, v = m.params["W_q"], m.params["W_k"], m.params["v"]
    B, T, _ = k.shape
    contexts, weights = [], np.zeros((B, T))
    for b in range(B):
        L = T if lens is None else int(lens[b])
        s = np.array([v @ np.tanh(W_q @ q[b] + W_k @ k[b, t]) for t in range(L)])
        a = np.exp(s - s.max()) / np.exp(s - s.max()).sum()
        weights[b, :L] = a
        contexts.append(a @ k[b, :L])
    return np.array(contexts), weights


@pytest.mark.parametrize("case", CASES)
def test_forward_float64_agrees_with_twin_and_reference(case):
    m, twin, q, k, lens = make(case)
    c, a = m.forward(q, k, lens)
    ct, at = twin(q, k, lens)
    B, T, _, Hk, _, _ = case
    assert c.shape == tuple(ct.shape) == (B, Hk) and a.shape == tuple(at.shape) == (B, T)
    assert c.dtype == np.float64 and ct.dtype == torch.float64
    assert np.abs(c - ct.detach().numpy()).max() < 1e-12
    assert np.abs(a - at.detach().numpy()).max() < 1e-12
    c_ref, a_ref = reference(m, q, k, lens)
    assert np.abs(c - c_ref).max() < 1e-12
    assert np.abs(a - a_ref).max() < 1e-12


def test_float32_twins_agree_to_1e5():
    m, twin, q, k, lens = make(CASES[1], dtype=np.float32)
    c, a = m.forward(q, k, lens)
    ct, at = twin(q, k, lens)
    assert c.dtype == np.float32 and ct.dtype == torch.float32
    assert np.abs(c - ct.detach().numpy()).max() < 1e-5
    assert np.abs(a - at.detach().numpy()).max() < 1e-5


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("with_d_weights", [False, True])
def test_backward_agrees_with_autograd_to_1e10(case, with_d_weights):
    m, twin, q, k, lens = make(case)
    rng = np.random.default_rng(7)
    c, a = m.forward(q, k, lens)
    d_c = rng.standard_normal(c.shape)
    d_w = rng.standard_normal(a.shape) if with_d_weights else None
    dq, dk = m.backward(d_c, d_w)
    qt = torch.tensor(q, requires_grad=True)
    kt = torch.tensor(k, requires_grad=True)
    ct, at = twin(qt, kt, None if lens is None else torch.from_numpy(lens))
    loss = (ct * torch.from_numpy(d_c)).sum()
    if with_d_weights:
        loss = loss + (at * torch.from_numpy(d_w)).sum()
    loss.backward()
    assert dq.shape == q.shape and dk.shape == k.shape
    assert np.abs(dq - qt.grad.numpy()).max() < 1e-10
    assert np.abs(dk - kt.grad.numpy()).max() < 1e-10
    assert set(m.grads) == set(PARAMS)
    for key in PARAMS:
        g = getattr(twin, key).grad.numpy()
        assert m.grads[key].shape == g.shape
        assert np.abs(m.grads[key] - g).max() < 1e-10, key
    # the gradients are not trivially zero (so the comparison above means something),
    # except where every sequence has one real step: its weight is the constant 1
    B, T = a.shape
    if (T if lens is None else lens.max()) > 1:
        assert np.abs(dq).max() > 1e-3 and np.abs(m.grads["v"]).max() > 1e-3
    else:
        np.testing.assert_array_equal(dq, 0.0)
        np.testing.assert_array_equal(m.grads["v"], 0.0)
    assert np.abs(dk).max() > 1e-3  # through c = sum_t a_t k_t


@pytest.mark.parametrize("lengths", [None, [3, 1]])
def test_backward_matches_central_differences(lengths):
    m = lnp.AdditiveAttention(3, 2, 4, seed=5)
    rng = np.random.default_rng(11)
    q, k = rng.standard_normal((2, 3)), rng.standard_normal((2, 3, 2))
    r_c, r_w = rng.standard_normal((2, 2)), rng.standard_normal((2, 3))

    def loss() -> float:
        c, a = m.forward(q, k, lengths)
        return float((r_c * c).sum() + (r_w * a).sum())

    loss()
    dq, dk = m.backward(r_c, r_w)
    analytic = {"query": dq, "keys": dk, **{key: m.grads[key].copy() for key in PARAMS}}
    targets = {"query": q, "keys": k, **m.params}
    for name, arr in targets.items():
        numeric = numeric_grad(loss, arr)
        scale = max(np.abs(numeric).max(), np.abs(analytic[name]).max())
        assert scale > 1e-3, name  # a real gradient, not 0 = 0
        assert np.abs(analytic[name] - numeric).max() / scale < 1e-7, name


@pytest.mark.parametrize("impl", IMPLS)
def test_padding_gets_exactly_zero_weight_and_weights_sum_to_one(impl):
    B, T = 3, 6
    lens = np.array([6, 2, 4])
    m = impl.AdditiveAttention(3, 4, 5, seed=2)
    rng = np.random.default_rng(1)
    q, k = rng.standard_normal((B, 3)), rng.standard_normal((B, T, 4))
    c, a = m.forward(q, k, lens)
    a = a.detach().numpy() if isinstance(a, torch.Tensor) else a
    c = c.detach().numpy() if isinstance(c, torch.Tensor) else c
    pad = padded(lens, B, T)
    assert (a[pad] == 0.0).all()
    assert (a[~pad] > 0).all()
    assert np.abs(a.sum(axis=1) - 1).max() < 1e-15
    # what sits in the padding does not matter: fill it with huge values
    k2 = k.copy()
    k2[pad] = 1e6
    c2, a2 = m.forward(q, k2, lens)
    c2 = c2.detach().numpy() if isinstance(c2, torch.Tensor) else c2
    a2 = a2.detach().numpy() if isinstance(a2, torch.Tensor) else a2
    np.testing.assert_array_equal(a2, a)
    np.testing.assert_array_equal(c2, c)
    # without lengths the padding is attended to: the weights change
    _, a_all = m.forward(q, k, None)
    a_all = a_all.detach().numpy() if isinstance(a_all, torch.Tensor) else a_all
    assert (a_all[pad] > 0).all()
    assert np.abs(a_all.sum(axis=1) - 1).max() < 1e-15


def test_numpy_d_keys_exactly_zero_at_padding_and_twin_agrees():
    m, twin, q, k, lens = make((3, 5, 4, 6, 7, [5, 2, 1]))
    rng = np.random.default_rng(3)
    c, a = m.forward(q, k, lens)
    d_w = rng.standard_normal(a.shape)
    _, dk = m.backward(rng.standard_normal(c.shape), d_w)
    pad = padded(lens, 3, 5)
    assert (dk[pad] == 0.0).all()
    assert (dk[~pad] != 0.0).all()
    kt = torch.tensor(k, requires_grad=True)
    ct, at = twin(q, kt, lens)
    (at * torch.from_numpy(d_w)).sum().backward()
    assert (kt.grad.numpy()[pad] == 0.0).all()
    # d_weights at padded steps is ignored: those weights are constant 0
    d_w2 = d_w.copy()
    d_w2[pad] = 1e6
    m.forward(q, k, lens)
    d_c = rng.standard_normal(c.shape)
    dq1, dk1 = m.backward(d_c, d_w)
    g1 = {key: g.copy() for key, g in m.grads.items()}
    dq2, dk2 = m.backward(d_c, d_w2)
    np.testing.assert_array_equal(dq1, dq2)
    np.testing.assert_array_equal(dk1, dk2)
    for key in PARAMS:
        np.testing.assert_array_equal(g1[key], m.grads[key])


def test_full_lengths_equal_no_lengths():
    m, twin, q, k, _ = make(CASES[0])
    full = np.full(3, 5)
    for layer in (m, twin):
        c0, a0 = layer.forward(q, k)
        c1, a1 = layer.forward(q, k, full)
        np.testing.assert_array_equal(np.asarray(c0.tolist()), np.asarray(c1.tolist()))
        np.testing.assert_array_equal(np.asarray(a0.tolist()), np.asarray(a1.tolist()))


@pytest.mark.parametrize("source", [lnp, ltorch])
def test_load_state_dict_round_trip_between_twins_is_bit_identical(source):
    a = source.AdditiveAttention(3, 4, 5, seed=1)
    target = ltorch if source is lnp else lnp
    b = target.AdditiveAttention(3, 4, 5, seed=9)
    assert not np.array_equal(np.asarray(b.state_dict()["v"]), np.asarray(a.state_dict()["v"]))
    b.load_state_dict(a.state_dict())
    back = source.AdditiveAttention(3, 4, 5, seed=7)
    back.load_state_dict(b.state_dict())
    rng = np.random.default_rng(0)
    q, k = rng.standard_normal((2, 3)), rng.standard_normal((2, 4, 4))
    for key in PARAMS:
        want = np.asarray(a.state_dict()[key])
        assert np.asarray(b.state_dict()[key]).tobytes() == want.tobytes()
        assert np.asarray(back.state_dict()[key]).tobytes() == want.tobytes()
    ca, _ = a.forward(q, k)
    cb, _ = b.forward(q, k)
    assert np.abs(np.asarray(ca.tolist()) - np.asarray(cb.tolist())).max() < 1e-12


@pytest.mark.parametrize("impl", IMPLS)
def test_load_state_dict_rejects_bad_dicts(impl):
    m = impl.AdditiveAttention(3, 4, 5)
    sd = {k: np.asarray(v) for k, v in lnp.AdditiveAttention(3, 4, 5).state_dict().items()}
    with pytest.raises(ValueError, match=r"missing key\(s\) \['v'\]"):
        m.load_state_dict({k: sd[k] for k in ("W_q", "W_k")})
    with pytest.raises(ValueError, match=r"unexpected key\(s\) \['b'\]"):
        m.load_state_dict({**sd, "b": np.zeros(5)})
    with pytest.raises(ValueError, match=r"W_k must have shape \(5, 4\), got \(5, 3\)"):
        m.load_state_dict({**sd, "W_k": np.zeros((5, 3))})
    with pytest.raises(TypeError, match=r"v must be floating"):
        m.load_state_dict({**sd, "v": np.zeros(5, dtype=np.int64)})


def test_backward_checks():
    m = lnp.AdditiveAttention(3, 4, 5)
    with pytest.raises(ValueError, match="before forward"):
        m.backward(np.zeros((2, 4)))
    m.forward(np.zeros((2, 3)), np.zeros((2, 6, 4)))
    with pytest.raises(ValueError, match=r"d_context must have shape \(B, Hk\) = \(2, 4\)"):
        m.backward(np.zeros((2, 5)))
    with pytest.raises(ValueError, match=r"d_weights must have shape \(B, T\) = \(2, 6\)"):
        m.backward(np.zeros((2, 4)), np.zeros((2, 5)))
    with pytest.raises(TypeError, match="d_context must have a real floating dtype"):
        m.backward(np.zeros((2, 4), dtype=np.int64))
    with pytest.raises(ValueError, match="d_weights contains NaN"):
        m.backward(np.zeros((2, 4)), np.full((2, 6), np.nan))


Q, K = np.zeros((2, 3)), np.zeros((2, 4, 5))  # B = 2, T = 4, Hq = 3, Hk = 5
NAN_Q = np.full((2, 3), np.nan)
INF_K = K.copy()
INF_K[1, 2, 0] = np.inf
BAD_INPUTS = [
    ((np.zeros(3), K, None), ValueError, r"query must have 2 dimensions \(B, Hq\), got 1"),
    ((np.zeros((2, 4)), K, None), ValueError, r"query must have shape \(B, Hq\) = \(\*, 3\)"),
    ((Q, np.zeros((2, 4)), None), ValueError, r"keys must have 3 dimensions \(B, T, Hk\)"),
    ((Q, np.zeros((2, 4, 6)), None), ValueError,
     r"keys must have shape \(B, T, Hk\) = \(2, \*, 5\), got \(2, 4, 6\)"),
    ((Q, np.zeros((3, 4, 5)), None), ValueError, r"keys .*= \(2, \*, 5\), got \(3, 4, 5\)"),
    ((Q, np.zeros((2, 0, 5)), None), ValueError, r"keys must not be empty"),
    ((NAN_Q, K, None), ValueError, r"query contains NaN"),
    ((Q, INF_K, None), ValueError, r"keys contains NaN or inf"),
    ((Q, K, [4, 2, 1]), ValueError, r"lengths must be 2 integers in \[1, 4\].*shape \(3,\)"),
    ((Q, K, [4]), ValueError, r"lengths must be 2 integers .*got shape \(1,\)"),
    ((Q, K, [0, 2]), ValueError, r"lengths must be 2 integers in \[1, 4\].*got \[0\]"),
    ((Q, K, [5, 2]), ValueError, r"lengths must be 2 integers in \[1, 4\].*got \[5\]"),
    ((Q, K, np.array([[4, 2]])), ValueError, r"got shape \(1, 2\)"),
    ((Q, K, np.array([4.0, 2.0])), TypeError, r"lengths must be .*got dtype float64"),
    ((Q, K, [True, True]), TypeError, r"lengths .*got bools"),
    ((Q, K, "42"), TypeError, r"lengths .*got str"),
    ((Q.astype(np.int64), K, None), TypeError, r"query must have a real floating dtype, got "
     r"integer/bool dtype int64"),
    ((Q, K.astype(np.int32), None), TypeError, r"keys must have a real floating dtype"),
    ((Q, K.astype(np.complex128), None), TypeError, r"keys .*complex dtype complex128"),
    ((Q.tolist(), K, None), TypeError, r"query must be a NumPy array.*got list"),
]


@pytest.mark.parametrize("impl", IMPLS)
@pytest.mark.parametrize("args,error,message", BAD_INPUTS)
def test_bad_inputs_raise(impl, args, error, message):
    m = impl.AdditiveAttention(3, 5, 4)
    with pytest.raises(error, match=message):
        m.forward(*args)


@pytest.mark.parametrize("args,error,message", [
    ((torch.zeros(2, 3, dtype=torch.int64), torch.zeros(2, 4, 5), None), TypeError,
     r"query must have a real floating dtype"),
    ((torch.zeros(2, 3), torch.zeros(2, 4, 5), torch.tensor([4.0, 1.0])), TypeError,
     r"lengths .*got dtype float32"),
    ((torch.zeros(2, 3), torch.zeros(2, 4, 5), torch.tensor([4, 9])), ValueError,
     r"lengths must be 2 integers in \[1, 4\].*got \[9\]"),
])
def test_torch_twin_rejects_bad_tensors(args, error, message):
    with pytest.raises(error, match=message):
        ltorch.AdditiveAttention(3, 5, 4)(*args)


@pytest.mark.parametrize("impl", IMPLS)
@pytest.mark.parametrize("kwargs,error,message", [
    ({"query_size": 0}, ValueError, "query_size must be a positive int, got 0"),
    ({"key_size": 2.5}, TypeError, "key_size must be a positive int, got float"),
    ({"attention_size": -1}, ValueError, "attention_size must be a positive int, got -1"),
    ({"dtype": np.int64}, TypeError, "dtype must be float32 or float64, got int64"),
    ({"seed": -1}, ValueError, "seed must be a non-negative int, got -1"),
])
def test_bad_constructor_arguments_raise(impl, kwargs, error, message):
    args = {"query_size": 3, "key_size": 5, "attention_size": 4, **kwargs}
    with pytest.raises(error, match=message):
        impl.AdditiveAttention(**args)


@pytest.mark.parametrize("impl", IMPLS)
def test_flipped_views_and_lengths_as_tensor_are_accepted(impl):
    m = impl.AdditiveAttention(3, 5, 4, seed=1)
    rng = np.random.default_rng(2)
    q, k = rng.standard_normal((2, 3)), rng.standard_normal((2, 4, 5))
    c1, a1 = m.forward(q[:, ::-1], k[:, ::-1], torch.tensor([4, 2]))
    c2, a2 = m.forward(q[:, ::-1].copy(), k[:, ::-1].copy(), [4, 2])
    np.testing.assert_array_equal(np.asarray(c1.tolist()), np.asarray(c2.tolist()))
    np.testing.assert_array_equal(np.asarray(a1.tolist()), np.asarray(a2.tolist()))
