"""The GRU: NumPy (hand-written backward), its torch twin and torch.nn.GRU agree."""

from __future__ import annotations

import inspect
import warnings

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

import lstm_lib.numpy as lnp
import lstm_lib.numpy._stack as np_stack
import lstm_lib.torch as ltorch
from lstm_lib.params import to_torch
from lstm_lib.verify.compare import compare
from lstm_lib.verify.gradcheck import gradcheck, numeric_grad

configs = st.fixed_dictionaries({
    "batch": st.integers(1, 5), "steps": st.integers(1, 12), "inp": st.integers(1, 6),
    "hidden": st.integers(1, 6), "layers": st.integers(1, 3), "bi": st.booleans(),
    "with_state": st.booleans(), "seed": st.integers(0, 2**16),
})

HAS_LENGTHS = "lengths" in inspect.signature(np_stack.RecurrentStack.forward).parameters


def make(cfg: dict, dtype=np.float64):
    """A NumPy GRU, its twin, torch.nn.GRU with the same weights, an input and a state."""
    args = (cfg["inp"], cfg["hidden"], cfg["layers"], cfg["bi"])
    m = lnp.GRU(*args, dtype=dtype, seed=cfg["seed"])
    twin = ltorch.GRU(*args, dtype=dtype, seed=cfg["seed"])
    ref = torch.nn.GRU(cfg["inp"], cfg["hidden"], num_layers=cfg["layers"],
                       bidirectional=cfg["bi"], batch_first=True).to(twin.dtype)
    ref.load_state_dict(to_torch(m.state_dict()))
    rng = np.random.default_rng(cfg["seed"])
    x = rng.standard_normal((cfg["batch"], cfg["steps"], cfg["inp"])).astype(dtype)
    state = None
    if cfg["with_state"]:
        shape = ((2 if cfg["bi"] else 1) * cfg["layers"], cfg["batch"], cfg["hidden"])
        state = rng.standard_normal(shape).astype(dtype)
    return m, twin, ref, x, state


@settings(max_examples=10, deadline=None)
@given(cfg=configs)
def test_float32_agrees_to_1e4(cfg):
    m, twin, ref, x, state = make(cfg, np.float32)
    table = compare(m, {"twin": twin, "nn": ref}, x, state, seed=cfg["seed"])
    for row, vals in table.rows.items():
        assert max(vals) < 1e-4, (row, vals)


def test_gradcheck_catches_a_gru_bias_bug(monkeypatch):
    """Folding b_hn into b_in (the LSTM's shortcut) is wrong for the GRU; gradcheck sees it."""
    m = lnp.GRU(2, 3, seed=0)
    x = np.random.default_rng(0).standard_normal((2, 4, 2))
    original = lnp.GRU._run_backward

    def shared_bias(self, *args):
        dxs, (dw_ih, dw_hh, db_ih, _), d_start, steps = original(self, *args)
        return dxs, (dw_ih, dw_hh, db_ih, db_ih.copy()), d_start, steps

    monkeypatch.setattr(lnp.GRU, "_run_backward", shared_bias)
    assert gradcheck(m, x)["bias_hh_l0"] > 1e-3


def test_n_block_bias_gradients_differ_r_z_blocks_agree():
    rng = np.random.default_rng(3)
    m = lnp.GRU(3, 4, seed=2)
    out, h_n = m.forward(rng.standard_normal((2, 6, 3)))
    m.backward(rng.standard_normal(out.shape), rng.standard_normal(h_n.shape))
    g_ih, g_hh = m.grads["bias_ih_l0"], m.grads["bias_hh_l0"]
    np.testing.assert_allclose(g_ih[:8], g_hh[:8], rtol=0, atol=1e-15)   # r, z
    assert np.abs(g_ih[8:] - g_hh[8:]).max() > 1e-3                     # n: r * (...)


def test_float32_layer_computes_in_float32():
    m = lnp.GRU(3, 4, dtype=np.float32)
    out, h = m.forward(np.ones((2, 3, 3)))
    assert out.dtype == h.dtype == np.float32
    dx, dh0 = m.backward(np.ones_like(out))
    assert dx.dtype == dh0.dtype == m.grads["bias_hh_l0"].dtype == np.float32


def test_saturating_input_is_finite_and_warning_free():
    m = lnp.GRU(2, 3, seed=0)
    x = np.full((1, 4, 2), 1e4)
    x[0, 1] = -1e4
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out, _ = m.forward(x)
        dx, _ = m.backward(np.ones_like(out))
    assert np.isfinite(out).all() and np.isfinite(dx).all()


def test_forward_results_are_not_overwritten_by_the_next_call():
    m = lnp.GRU(2, 3)
    out1, h1 = m.forward(np.ones((1, 4, 2)))
    keep = out1.copy(), h1.copy()
    m.forward(-np.ones((1, 4, 2)))
    np.testing.assert_array_equal(out1, keep[0])
    np.testing.assert_array_equal(h1, keep[1])


# ------------------------------------------------------------------- the mask (lengths) path
def packed_nn(ref: torch.nn.Module, x: np.ndarray, lengths: np.ndarray, h0: np.ndarray | None):
    """torch.nn on the packed batch, padded back to (B, T, D*H); x and h0 as leaf tensors."""
    xt = torch.tensor(x, requires_grad=True)
    h0t = None if h0 is None else torch.tensor(h0, requires_grad=True)
    packed = pack_padded_sequence(xt, torch.as_tensor(lengths), batch_first=True,
                                  enforce_sorted=False)
    out, h_n = ref(packed, h0t)
    out, _ = pad_packed_sequence(out, batch_first=True, total_length=x.shape[1])
    return xt, h0t, out, h_n


def test_run_with_a_mask_equals_packed_nn_gru():
    """The recurrence itself (one layer, one direction) with a mask equals packed nn.GRU:
    output, h_n at each sequence's last real step, and every gradient; dx is exactly 0 at
    the padded steps."""
    rng = np.random.default_rng(5)
    B, T, I, H = 4, 7, 3, 5
    lengths = np.array([7, 3, 1, 5])
    mask = (np.arange(T)[:, None] < lengths[None, :]).astype(np.float64)[..., None]  # (T, B, 1)
    m = lnp.GRU(I, H, seed=4)
    ref = torch.nn.GRU(I, H, batch_first=True).double()
    ref.load_state_dict(to_torch(m.state_dict()))
    x, h0 = rng.standard_normal((B, T, I)), rng.standard_normal((B, H))
    w = m._weights(0, 0)
    cache = m._run(np.ascontiguousarray(x.transpose(1, 0, 2)), w, (h0,), {}, mask)
    out = (cache["h"][1:] * mask).transpose(1, 0, 2)
    xt, h0t, rout, rh = packed_nn(ref, x, lengths, h0[None])
    np.testing.assert_allclose(out, rout.detach().numpy(), rtol=0, atol=1e-14)
    np.testing.assert_allclose(cache["h"][-1], rh[0].detach().numpy(), rtol=0, atol=1e-14)
    r_out, r_h = rng.standard_normal(out.shape), rng.standard_normal((B, H))
    ((rout * torch.from_numpy(r_out)).sum() + (rh[0] * torch.from_numpy(r_h)).sum()).backward()
    d_hs = (r_out.transpose(1, 0, 2) * mask)  # the stack zeroes d_output at padded steps
    dxs, grads, (dh0,), _ = m._run_backward(cache, w, d_hs, (r_h,))
    dx = dxs.transpose(1, 0, 2)
    np.testing.assert_allclose(dx, xt.grad.numpy(), rtol=0, atol=1e-13)
    np.testing.assert_allclose(dh0, h0t.grad[0].numpy(), rtol=0, atol=1e-13)
    for (k, p), g in zip(ref.named_parameters(), grads, strict=True):
        np.testing.assert_allclose(g, p.grad.numpy(), rtol=0, atol=1e-13, err_msg=k)
    assert (dx[mask.transpose(1, 0, 2)[..., 0] == 0] == 0).all()
    assert np.abs(dx[1, :3]).min() > 0  # ... and not zero where the steps are real
    twin = ltorch.GRU(I, H, seed=4)
    hs = twin._run(torch.from_numpy(x), twin._weights(0, 0), (torch.from_numpy(h0),),
                   torch.from_numpy(mask))["h"]
    np.testing.assert_allclose(torch.stack(hs, 1).detach().numpy()[:, -1], cache["h"][-1],
                               rtol=0, atol=1e-14)


def test_run_without_a_mask_equals_all_ones_mask():
    rng = np.random.default_rng(6)
    m = lnp.GRU(2, 3, seed=1)
    xs, h0 = rng.standard_normal((5, 2, 2)), rng.standard_normal((2, 3))
    w = m._weights(0, 0)
    a = m._run(xs, w, (h0,), {})
    ha = a["h"].copy()
    d = rng.standard_normal((5, 2, 3))
    dxa = m._run_backward(a, w, d, (h0,))[0].copy()
    b = m._run(xs, w, (h0,), {}, np.ones((5, 2, 1)))
    np.testing.assert_array_equal(ha, b["h"])
    np.testing.assert_array_equal(dxa, m._run_backward(b, w, d, (h0,))[0])


# ------------------------------------------------------------------- lengths= through the stack
needs_lengths = pytest.mark.skipif(not HAS_LENGTHS, reason="the stack has no lengths= yet")
@needs_lengths
def test_numeric_grad_sees_the_padding_is_dead():
    """Central differences agree that x at padded steps does not matter: exactly 0."""
    rng = np.random.default_rng(1)
    m = lnp.GRU(2, 3, bidirectional=True, seed=0)
    x, lengths = rng.standard_normal((2, 4, 2)), np.array([4, 2])
    r = rng.standard_normal((2, 4, 6))
    num = numeric_grad(lambda: float((r * m.forward(x, lengths=lengths)[0]).sum()), x)
    assert (num[1, 2:] == 0).all() and np.abs(num[1, :2]).min() > 0


@needs_lengths
@pytest.mark.parametrize("kind", ["GRU", "LSTM", "RNN"])
def test_compare_with_lengths_packs_torch_nn(kind):
    rng = np.random.default_rng(8)
    m = getattr(lnp, kind)(3, 4, num_layers=2, bidirectional=True, seed=2)
    twin = getattr(ltorch, kind)(3, 4, num_layers=2, bidirectional=True, seed=2)
    ref = getattr(torch.nn, kind)(3, 4, num_layers=2, bidirectional=True,
                                  batch_first=True).double()
    ref.load_state_dict(to_torch(m.state_dict()))
    x, lengths = rng.standard_normal((3, 6, 3)), np.array([6, 1, 4])
    table = compare(m, {"twin": twin, "nn": ref}, x, lengths=lengths)
    assert {"output", "h_n", "d x"} <= set(table.rows)
    table.assert_close(1e-10)
    unpacked = compare(m, {"nn": ref}, x)  # without lengths: another computation
    h_with = np.asarray(m.forward(x, lengths=lengths)[1])  # (h_n, c_n) for the LSTM
    h_without = np.asarray(m.forward(x)[1])
    assert np.abs(h_with - h_without).max() > 1e-2 and unpacked.max_diff < 1e-10
