"""xLSTM's sLSTM and mLSTM: the NumPy functions (``lstm_lib.numpy.xlstm``) and the torch ones
(``lstm_lib.torch.xlstm``, the recipe's) against xlstm 2.0.6's reference functions; the
parallel and recurrent mLSTM against each other; the NumPy SLSTM's forward and hand-written
backward against the recipe's SLSTM and autograd; the input checks; float32 kept."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from xlstm.blocks.mlstm.backends import (
    parallel_stabilized_simple,
    recurrent_step_stabilized_simple,
)
from xlstm.blocks.slstm.src.vanilla.slstm import slstm_forward_pointwise

from lstm_lib.numpy import xlstm as nx
from lstm_lib.torch import xlstm as tx

T_ = torch.from_numpy


def maxdiff(a, b) -> float:
    a = a.detach().numpy() if isinstance(a, torch.Tensor) else a
    b = b.detach().numpy() if isinstance(b, torch.Tensor) else b
    return float(np.abs(a - b).max())


def rel(a, b) -> float:
    """max |a - b| / max |b|."""
    return float(np.abs(a - b).max() / np.abs(b).max())


# ---------------------------------------------------------------------------- sLSTM step

def slstm_inputs(seed: int, scale: float, zero_states: bool, B: int = 4, H: int = 6):
    rng = np.random.default_rng(seed)
    Wx, Ry = (scale * rng.standard_normal((B, 4 * H)) for _ in range(2))
    b = scale * rng.standard_normal((1, 4 * H))
    if zero_states:
        states = np.zeros((4, B, H))
    else:  # y, c anything; n > 0; m anything
        states = np.stack([rng.standard_normal((B, H)), rng.standard_normal((B, H)),
                           rng.uniform(0.1, 3.0, (B, H)), scale * rng.standard_normal((B, H))])
    return Wx, Ry, b, states


@pytest.mark.parametrize("scale", [1.0, 3.0])
@pytest.mark.parametrize("zero_states", [True, False])
def test_slstm_pointwise_matches_xlstm(scale, zero_states):
    worst = 0.0
    for seed in range(5):
        args = slstm_inputs(seed, scale, zero_states)
        ref_states, ref_gates = slstm_forward_pointwise(*map(T_, args), {})
        np_states, np_gates = nx.slstm_pointwise(*args)
        t_states, t_gates = tx.slstm_pointwise(*map(T_, args))
        assert np_states.shape == np_gates.shape == (4, 4, 6)
        assert np_states.dtype == np.float64
        worst = max(worst, maxdiff(np_states, ref_states), maxdiff(np_gates, ref_gates),
                    maxdiff(t_states, ref_states), maxdiff(t_gates, ref_gates))
    print(f"slstm_pointwise vs xlstm (scale {scale}, zero states {zero_states}): {worst:.1e}")
    assert worst < 1e-12


# ---------------------------------------------------------------------------- mLSTM

def mlstm_inputs(seed: int, scale: float, B=2, NH=2, S=9, DH=4, dtype=np.float64):
    rng = np.random.default_rng(seed)
    q, k, v = (rng.standard_normal((B, NH, S, DH)).astype(dtype) for _ in range(3))
    i_pre, f_pre = (scale * rng.standard_normal((B, NH, S, 1)).astype(dtype) for _ in range(2))
    return q, k, v, i_pre, f_pre


def xlstm_recurrent(q, k, v, i_pre, f_pre):
    """xlstm's recurrent step through time from zero states (it squeezes q, k, v in place:
    clones go in)."""
    B, NH, S, DH = q.shape
    c, n, m = torch.zeros(B, NH, DH, DH), torch.zeros(B, NH, DH, 1), torch.zeros(B, NH, 1, 1)
    c, n, m = c.double(), n.double(), m.double()
    hs = []
    for t in range(S):
        h, (c, n, m) = recurrent_step_stabilized_simple(
            c, n, m, *(a[:, :, t:t + 1].clone() for a in (q, k, v, i_pre, f_pre)))
        hs.append(h[:, :, 0])
    return torch.stack(hs, 2)


@pytest.mark.parametrize("scale", [1.0, 3.0])
def test_mlstm_matches_xlstm(scale):
    par = rec = 0.0
    for seed in range(3):
        args = mlstm_inputs(seed, scale)
        targs = tuple(map(T_, args))
        ref_par = parallel_stabilized_simple(*(a.clone() for a in targs))
        ref_rec = xlstm_recurrent(*targs)
        par = max(par, maxdiff(nx.mlstm_parallel(*args), ref_par),
                  maxdiff(tx.mlstm_parallel(*targs), ref_par))
        rec = max(rec, maxdiff(nx.mlstm_recurrent(*args), ref_rec),
                  maxdiff(tx.mlstm_recurrent(*targs), ref_rec))
    print(f"mlstm vs xlstm (gate scale {scale}): parallel {par:.1e}, recurrent {rec:.1e}")
    assert par < 1e-12 and rec < 1e-12


def test_mlstm_step_matches_torch_step():
    rng = np.random.default_rng(5)
    B, NH, DH = 2, 3, 4
    args = (rng.standard_normal((B, NH, DH, DH)), rng.standard_normal((B, NH, DH)),
            rng.standard_normal((B, NH, 1)), *(rng.standard_normal((B, NH, DH)) for _ in "qkv"),
            rng.standard_normal((B, NH, 1)), rng.standard_normal((B, NH, 1)))
    got, want = nx.mlstm_step(*args), tx.mlstm_step(*map(T_, args))
    assert [g.shape for g in got] == [(B, NH, DH), (B, NH, DH, DH), (B, NH, DH), (B, NH, 1)]
    assert max(maxdiff(g, w) for g, w in zip(got, want)) < 1e-12


def mlstm_unstabilised(q, k, v, i_pre, f_pre, eps=1e-6):
    """Both forms without a stabiliser (fine for short sequences): with N = sum_s C_u[t, s] v_s
    and M = max(|sum_s C_u[t, s]|, 1) from the unstabilised C_u = (q k^T / sqrt(DH)) D,
    dividing a form's numerator and denominator by its exp(-m) gives
    h = N / (M + eps exp(m)). Returns (h parallel, h recurrent, m parallel, m recurrent):
    m parallel is the row maximum of log D, m recurrent also counts the zero start state,
    m_t = max(sum_{r<=t} log sigmoid(f~_r), max_s log D[t, s])."""
    S, DH = q.shape[-2:]
    cum = np.cumsum(-np.logaddexp(0, -f_pre[..., 0]), axis=-1)            # (B, NH, S)
    causal = np.tril(np.ones((S, S), bool))
    log_d = np.where(causal, cum[..., :, None] - cum[..., None, :], -np.inf) \
        + i_pre[..., 0][..., None, :]
    m_par = log_d.max(-1)
    m_rec = np.maximum(cum, m_par)
    c = (q @ np.swapaxes(k, -1, -2) / np.sqrt(DH)) * np.exp(log_d)
    num, den = c @ v, np.maximum(np.abs(c.sum(-1)), 1.0)
    return (num / (den + eps * np.exp(m_par))[..., None],
            num / (den + eps * np.exp(m_rec))[..., None], m_par, m_rec)


# Parallel and recurrent differ only in how eps enters: h = N / (M + eps exp(m)) in both
# (see mlstm_unstabilised), but m is the row maximum of log D in the parallel form and the
# recurrent state, which also counts the zero start (m_0 = 0), in the other. Where the first
# input gate i~_1 < log sigmoid(f~_1), the two m differ and so do the outputs, by about
# eps |h| (exp(m_rec) - exp(m_par)) / M: up to ~7e-7 measured (over 20 seeds) for gates of
# unit scale, ~3e-7 for scale 3. Where the two m are equal the forms agree to round-off,
# and with eps = 0 everywhere.
@pytest.mark.parametrize("scale", [1.0, 3.0])
def test_mlstm_parallel_and_recurrent_agree_but_for_eps(scale):
    worst = same_m = explained = 0.0
    kinds = set()
    for seed in range(3):
        args = mlstm_inputs(10 + seed, scale)
        for par, rec in ((nx.mlstm_parallel(*args), nx.mlstm_recurrent(*args)),
                         (tx.mlstm_parallel(*map(T_, args)).numpy(),
                          tx.mlstm_recurrent(*map(T_, args)).numpy())):
            want_par, want_rec, m_par, m_rec = mlstm_unstabilised(*args)
            explained = max(explained, rel(par, want_par), rel(rec, want_rec))
            worst = max(worst, maxdiff(par, rec))
            equal_m = m_par == m_rec
            kinds.update(np.unique(equal_m).tolist())
            same_m = max(same_m, float(np.abs(par - rec)[equal_m].max()))
        no_eps = maxdiff(nx.mlstm_parallel(*args, eps=0.0), nx.mlstm_recurrent(*args, eps=0.0))
        assert no_eps < 1e-10
    print(f"mlstm parallel vs recurrent (gate scale {scale}): {worst:.1e} in all, {same_m:.1e}"
          f" where the two m agree; each form vs N / (M + eps exp(m)): {explained:.1e}")
    assert kinds == {True, False}  # entries where the two m agree, and where they differ
    assert explained < 1e-12
    assert same_m < 1e-10
    assert worst < 2e-6


# ---------------------------------------------------------------------------- SLSTM layer

def layer_pair(I=3, H=5, seed=1):
    m = nx.SLSTM(I, H, seed=seed)
    ref = tx.SLSTM(I, H).double()
    ref.load_state_dict({k: T_(v) for k, v in m.state_dict().items()})
    return m, ref


def test_slstm_init_and_state_dict():
    m = nx.SLSTM(3, 4, seed=2)
    rng = np.random.default_rng(2)
    want = {k: rng.uniform(-0.5, 0.5, s) for k, s in
            (("weight_ih", (16, 3)), ("weight_hh", (16, 4)), ("bias", (16,)))}
    want["bias"][4:8] += 3.0
    assert list(m.state_dict()) == ["weight_ih", "weight_hh", "bias"]
    assert list(m.state_dict()) == list(tx.SLSTM(3, 4).state_dict())
    for k, v in want.items():
        np.testing.assert_array_equal(m.state_dict()[k], v)
    assert m.num_parameters() == sum(p.numel() for p in tx.SLSTM(3, 4).parameters())
    other = nx.SLSTM(3, 4, seed=9)
    other.load_state_dict(tx.SLSTM(3, 4).double().state_dict())  # torch tensors load too
    other.load_state_dict(m.state_dict())
    assert all(np.array_equal(other.params[k], m.params[k]) for k in want)


# The initial states: zero; random with n > 0; n = 0 but c != 0, where the first step's
# clamp of f matters (df = dc c, and f = min(exp(L - i~), 1) is clamped where L > i~)
STARTS = ["zero", "random", "n_zero"]


def start_states(kind, rng, B, H):
    if kind == "zero":
        return None
    y, c, m = rng.standard_normal((3, B, H))
    n = np.zeros((B, H)) if kind == "n_zero" else rng.uniform(0.2, 2.0, (B, H))
    return np.stack([y, c, n, m])


@pytest.mark.parametrize("start", STARTS)
@pytest.mark.parametrize("scale", [1.0, 3.0])
def test_slstm_forward_and_backward_match_autograd(start, scale):
    B, T, I, H = 3, 8, 3, 5
    m, ref = layer_pair(I, H)
    rng = np.random.default_rng(7)
    x = scale * rng.standard_normal((B, T, I))
    s0 = start_states(start, rng, B, H)
    out, states = m.forward(x, s0)
    xt = torch.tensor(x, requires_grad=True)
    s0t = None if s0 is None else torch.tensor(s0, requires_grad=True)
    out_t, states_t = ref(xt, s0t)
    fwd = max(maxdiff(out, out_t), maxdiff(states, states_t))
    assert fwd < 1e-12
    g_out, g_states = rng.standard_normal(out.shape), rng.standard_normal(states.shape)
    ((out_t * T_(g_out)).sum() + (states_t * T_(g_states)).sum()).backward()
    dx = m.backward(g_out, g_states)
    errs = {"x": rel(dx, xt.grad.numpy())}
    errs.update({k: rel(m.grads[k], getattr(ref, k).grad.numpy()) for k in m.grads})
    if s0t is not None:
        errs["states0"] = rel(m.d_initial_states, s0t.grad.numpy())
    print(f"SLSTM start {start}, scale {scale}: forward {fwd:.1e}, backward (relative) "
          + ", ".join(f"{k} {v:.1e}" for k, v in errs.items()))
    assert set(m.grads) == {"weight_ih", "weight_hh", "bias"}
    assert max(errs.values()) < 1e-9


def test_slstm_backward_without_d_states_and_both_branches_of_the_max():
    m, ref = layer_pair()
    rng = np.random.default_rng(3)
    x = 3 * rng.standard_normal((2, 12, 3))
    out, _ = m.forward(x)
    takes = np.concatenate([s["take_i"].ravel() for s in m._cache["steps"][1:]])
    assert takes.any() and not takes.all()  # m' = i~ at some entries, m' = L at others
    xt = torch.tensor(x, requires_grad=True)
    g = rng.standard_normal(out.shape)
    (ref(xt)[0] * T_(g)).sum().backward()
    assert rel(m.backward(g), xt.grad.numpy()) < 1e-9


# ---------------------------------------------------------------------------- input checks

def test_input_checks():
    Wx, Ry, b, states = slstm_inputs(0, 1.0, False)
    with pytest.raises(ValueError, match="Ry must have shape"):
        nx.slstm_pointwise(Wx, Ry[:, :-4], b, states)
    with pytest.raises(ValueError, match="multiple of 4"):
        nx.slstm_pointwise(Wx[:, :-1], Ry[:, :-1], b[:, :-1], states)
    with pytest.raises(ValueError, match="states must have shape"):
        nx.slstm_pointwise(Wx, Ry, b, states[:3])
    with pytest.raises(ValueError, match="NaN"):
        nx.slstm_pointwise(np.where(Wx > 1, np.nan, Wx), Ry, b, states)
    with pytest.raises(TypeError, match="integer"):
        nx.slstm_pointwise(Wx.astype(int), Ry, b, states)
    with pytest.raises(TypeError, match="NumPy array"):
        nx.slstm_pointwise(T_(Wx), Ry, b, states)
    with pytest.raises(TypeError, match="constants"):
        nx.slstm_pointwise(Wx, Ry, b, states, constants=3)

    q, k, v, i_pre, f_pre = mlstm_inputs(0, 1.0)
    for fn in (nx.mlstm_parallel, nx.mlstm_recurrent):
        with pytest.raises(ValueError, match="k must have shape"):
            fn(q, k[:, :, :-1], v, i_pre, f_pre)
        with pytest.raises(ValueError, match="fgate_preact must have shape"):
            fn(q, k, v, i_pre, f_pre[..., 0:1, :])
        with pytest.raises(ValueError, match="4 dimensions"):
            fn(q[0], k, v, i_pre, f_pre)
        with pytest.raises(ValueError, match="NaN"):
            fn(q, k, v * np.nan, i_pre, f_pre)
        with pytest.raises(TypeError, match="complex"):
            fn(q.astype(complex), k, v, i_pre, f_pre)
        with pytest.raises(ValueError, match="eps"):
            fn(q, k, v, i_pre, f_pre, eps=-1.0)
        with pytest.raises(TypeError, match="eps"):
            fn(q, k, v, i_pre, f_pre, eps="small")
    c, n, mm = np.zeros((2, 2, 4, 4)), np.zeros((2, 2, 4)), np.zeros((2, 2, 1))
    with pytest.raises(ValueError, match="n must have shape"):
        nx.mlstm_step(c, n[..., :3], mm, q[:, :, 0], k[:, :, 0], v[:, :, 0],
                      i_pre[:, :, 0], f_pre[:, :, 0])

    m = nx.SLSTM(3, 5)
    with pytest.raises(ValueError, match="backward called before forward"):
        m.backward(np.zeros((1, 1, 5)))
    with pytest.raises(ValueError, match=r"x must have shape \(B, T, I\)"):
        m.forward(np.zeros((2, 4, 2)))
    with pytest.raises(ValueError, match="3 dimensions"):
        m.forward(np.zeros((4, 3)))
    with pytest.raises(ValueError, match="states must have shape"):
        m.forward(np.zeros((2, 4, 3)), np.zeros((4, 3, 5)))
    with pytest.raises(TypeError, match="integer"):
        m.forward(np.zeros((2, 4, 3), dtype=np.int64))
    m.forward(np.ones((2, 4, 3)))
    with pytest.raises(ValueError, match="d_output must have shape"):
        m.backward(np.zeros((2, 3, 5)))
    with pytest.raises(ValueError, match="d_states must have shape"):
        m.backward(np.zeros((2, 4, 5)), np.zeros((3, 2, 5)))
    with pytest.raises(ValueError, match="missing key"):
        m.load_state_dict({"weight_ih": np.zeros((20, 3))})
    with pytest.raises(ValueError, match="bias must have shape"):
        m.load_state_dict({**m.state_dict(), "bias": np.zeros(19)})
    with pytest.raises(TypeError, match="dtype"):
        nx.SLSTM(3, 5, dtype=np.int32)
    with pytest.raises(ValueError, match="hidden_size"):
        nx.SLSTM(3, 0)
    with pytest.raises(ValueError, match="seed"):
        nx.SLSTM(3, 5, seed=-1)


# ---------------------------------------------------------------------------- float32

def test_float32_is_kept():
    f32 = np.float32
    args = [a.astype(f32) for a in slstm_inputs(1, 1.0, False)]
    for a in nx.slstm_pointwise(*args):
        assert a.dtype == f32
    margs = mlstm_inputs(1, 1.0, dtype=f32)
    h_par, h_rec = nx.mlstm_parallel(*margs), nx.mlstm_recurrent(*margs)
    assert h_par.dtype == h_rec.dtype == f32
    assert maxdiff(h_par, nx.mlstm_parallel(*[a.astype(np.float64) for a in margs])) < 1e-4
    B, NH, DH = 2, 2, 4
    step = nx.mlstm_step(np.zeros((B, NH, DH, DH), f32), np.zeros((B, NH, DH), f32),
                         np.zeros((B, NH, 1), f32), *(a[:, :, 0] for a in margs))
    assert all(a.dtype == f32 for a in step)

    m = nx.SLSTM(3, 5, dtype=f32)
    m64 = nx.SLSTM(3, 5)
    x = np.random.default_rng(0).standard_normal((2, 6, 3))
    out, states = m.forward(x.astype(f32))
    assert out.dtype == states.dtype == f32
    assert all(v.dtype == f32 for v in m.state_dict().values())
    dx = m.backward(np.ones(out.shape, f32))
    assert dx.dtype == f32 and all(g.dtype == f32 for g in m.grads.values())
    out64, _ = m64.forward(x)
    assert maxdiff(out, out64) < 1e-5
