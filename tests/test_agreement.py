"""NumPy layers, torch twins and torch.nn agree: outputs, final states and every gradient."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import lstm_lib.numpy as lnp
import lstm_lib.torch as ltorch
from lstm_lib.compare import compare

configs = st.fixed_dictionaries({
    "batch": st.integers(1, 5), "steps": st.integers(1, 12), "inp": st.integers(1, 6),
    "hidden": st.integers(1, 6), "layers": st.integers(1, 3), "bi": st.booleans(),
    "with_state": st.booleans(), "seed": st.integers(0, 2**16),
})


def reference(kind: str, cfg: dict, dtype: torch.dtype) -> torch.nn.Module:
    cls = torch.nn.LSTM if kind == "LSTM" else torch.nn.RNN
    return cls(cfg["inp"], cfg["hidden"], num_layers=cfg["layers"], bidirectional=cfg["bi"],
               batch_first=True).to(dtype)


def make(kind: str, cfg: dict, dtype):
    """A NumPy layer, its twin and torch.nn's module, all holding the same weights."""
    args = (cfg["inp"], cfg["hidden"], cfg["layers"], cfg["bi"])
    m = getattr(lnp, kind)(*args, dtype=dtype, seed=cfg["seed"])
    twin = getattr(ltorch, kind)(*args, dtype=dtype, seed=cfg["seed"])
    ref = reference(kind, cfg, torch.float64 if dtype == np.float64 else torch.float32)
    ref.load_state_dict({k: torch.from_numpy(v) for k, v in m.state_dict().items()})
    rng = np.random.default_rng(cfg["seed"])
    x = rng.standard_normal((cfg["batch"], cfg["steps"], cfg["inp"])).astype(dtype)
    state = None
    if cfg["with_state"]:
        shape = ((2 if cfg["bi"] else 1) * cfg["layers"], cfg["batch"], cfg["hidden"])
        parts = [rng.standard_normal(shape).astype(dtype) for _ in m.state_names]
        state = parts[0] if kind == "RNN" else tuple(parts)
    return m, twin, ref, x, state


@pytest.mark.parametrize("kind", ["LSTM", "RNN"])
@settings(max_examples=25, deadline=None)
@given(cfg=configs)
def test_float64_agrees_to_1e10(kind, cfg):
    m, twin, ref, x, state = make(kind, cfg, np.float64)
    table = compare(m, {"twin": twin, "nn": ref}, x, state, seed=cfg["seed"])
    expected_rows = {"output", "h_n", "d x"} | {f"d {k}" for k in m.params}
    assert expected_rows <= set(table.rows)
    table.assert_close(1e-10)


@pytest.mark.parametrize("kind", ["LSTM", "RNN"])
@settings(max_examples=15, deadline=None)
@given(cfg=configs)
def test_float32_agrees_relatively_to_1e4(kind, cfg):
    m, twin, ref, x, state = make(kind, cfg, np.float32)
    m64, _, _, _, _ = make(kind, cfg, np.float64)
    table = compare(m, {"twin": twin, "nn": ref}, x, state, seed=cfg["seed"])
    # scale of each quantity, from the float64 run: relative error = diff / (1 + scale)
    s64 = None if state is None else (
        state.astype(np.float64) if kind == "RNN" else tuple(s.astype(np.float64) for s in state))
    out, _ = m64.forward(x.astype(np.float64), s64)
    scale = max(1.0, float(np.abs(out).max()))
    # every row (output, states and every gradient) within 1e-4 of the scale; measured
    # over 300 drawn configurations the largest was 4.3e-6, so 1e-4 leaves a margin of 20
    assert table.max_diff / scale < 1e-4, table


def test_float32_layer_computes_in_float32():
    m = lnp.LSTM(3, 4, dtype=np.float32)
    out, (h, c) = m.forward(np.ones((2, 3, 3)))  # float64 input follows the parameters
    assert out.dtype == h.dtype == c.dtype == np.float32
    dx, _ = m.backward(np.ones_like(out))
    assert dx.dtype == np.float32 and m.grads["weight_ih_l0"].dtype == np.float32


@pytest.mark.parametrize("kind", ["LSTM", "RNN"])
def test_same_seed_same_weights_across_implementations(kind):
    m = getattr(lnp, kind)(5, 7, num_layers=2, bidirectional=True, seed=3)
    t = getattr(ltorch, kind)(5, 7, num_layers=2, bidirectional=True, seed=3)
    ref = getattr(torch.nn, kind)(5, 7, num_layers=2, bidirectional=True, batch_first=True)
    assert list(m.state_dict()) == list(t.state_dict()) == list(ref.state_dict())
    for k, v in m.state_dict().items():
        assert v.shape == tuple(ref.state_dict()[k].shape)
        np.testing.assert_array_equal(v, t.state_dict()[k].numpy())
    bound = 1 / np.sqrt(7)
    assert all(np.abs(v).max() <= bound for v in m.state_dict().values())
    other = getattr(lnp, kind)(5, 7, num_layers=2, bidirectional=True, seed=4)
    assert not np.array_equal(other.params["weight_hh_l0"], m.params["weight_hh_l0"])


@pytest.mark.parametrize("source", ["numpy", "torch"])
def test_state_dict_round_trip_is_bit_identical(source):
    a = lnp.LSTM(4, 3, num_layers=2, bidirectional=True, seed=1)
    b = lnp.LSTM(4, 3, num_layers=2, bidirectional=True, seed=2)
    twin = ltorch.LSTM(4, 3, num_layers=2, bidirectional=True, seed=5)
    sd = a.state_dict()
    if source == "torch":
        twin.load_state_dict(sd)
        sd = twin.state_dict()
    b.load_state_dict(sd)
    for k, v in a.state_dict().items():
        assert v.tobytes() == b.state_dict()[k].tobytes()
    ref = torch.nn.LSTM(4, 3, num_layers=2, bidirectional=True, batch_first=True).double()
    ref.load_state_dict({k: torch.from_numpy(v) for k, v in b.state_dict().items()})
    for k, v in ref.state_dict().items():
        assert v.numpy().tobytes() == a.state_dict()[k].tobytes()


def test_state_dict_returns_copies():
    m = lnp.LSTM(2, 2)
    sd = m.state_dict()
    sd["weight_ih_l0"][:] = 0.0
    assert np.abs(m.params["weight_ih_l0"]).sum() > 0


def test_forward_results_are_not_overwritten_by_the_next_call():
    m = lnp.LSTM(2, 3)
    out1, (h1, _) = m.forward(np.ones((1, 4, 2)))
    keep = out1.copy(), h1.copy()
    m.forward(-np.ones((1, 4, 2)))
    np.testing.assert_array_equal(out1, keep[0])
    np.testing.assert_array_equal(h1, keep[1])


@pytest.mark.parametrize("kind", ["LSTMCell", "RNNCell"])
def test_cells_match_torch_cells(kind):
    rng = np.random.default_rng(0)
    cell = getattr(lnp, kind)(3, 4, seed=2)
    twin = getattr(ltorch, kind)(3, 4, seed=2)
    ref = getattr(torch.nn, kind)(3, 4).double()
    assert list(cell.state_dict()) == list(ref.state_dict()) == list(twin.state_dict())
    ref.load_state_dict({k: torch.from_numpy(v) for k, v in cell.state_dict().items()})
    x = rng.standard_normal((2, 3))
    h = rng.standard_normal((2, 4))
    xt = torch.tensor(x, requires_grad=True)
    ht = torch.tensor(h, requires_grad=True)
    if kind == "LSTMCell":
        c = rng.standard_normal((2, 4))
        ct = torch.tensor(c, requires_grad=True)
        h1, c1 = cell.forward(x, (h, c))
        rh, rc = ref(xt, (ht, ct))
        th, tc = twin(xt, (ht, ct))
        np.testing.assert_allclose(h1, rh.detach().numpy(), atol=1e-14)
        np.testing.assert_allclose(c1, tc.detach().numpy(), atol=1e-14)
        np.testing.assert_allclose(h1, th.detach().numpy(), atol=1e-14)
        assert set(cell.gates) == set("ifgo")
        (rh.sum() * 2 + rc.sum()).backward()
        dx, (dh, dc) = cell.backward(2 * np.ones((2, 4)), np.ones((2, 4)))
        np.testing.assert_allclose(dc, ct.grad.numpy(), atol=1e-13)
    else:
        h1 = cell.forward(x, h)
        np.testing.assert_allclose(h1, ref(xt, ht).detach().numpy(), atol=1e-14)
        np.testing.assert_allclose(h1, twin(xt, ht).detach().numpy(), atol=1e-14)
        (ref(xt, ht).sum() * 2).backward()
        dx, dh = cell.backward(2 * np.ones((2, 4)))
    np.testing.assert_allclose(dx, xt.grad.numpy(), atol=1e-13)
    np.testing.assert_allclose(dh, ht.grad.numpy(), atol=1e-13)
    for k, p in ref.named_parameters():
        np.testing.assert_allclose(cell.grads[k], p.grad.numpy(), atol=1e-13)


def test_trace_matches_between_numpy_and_twin_and_output():
    rng = np.random.default_rng(1)
    x = rng.standard_normal((2, 6, 3))
    m = lnp.LSTM(3, 4, num_layers=2, bidirectional=True, seed=7)
    t = ltorch.LSTM(3, 4, num_layers=2, bidirectional=True, seed=7)
    a, b = m.trace(x), t.trace(torch.from_numpy(x))
    assert set(a) == set(b) == set("ifgoch")
    for k in a:
        assert a[k].shape == (4, 2, 6, 4)
        np.testing.assert_allclose(a[k], b[k].detach().numpy(), atol=1e-14)
    out, _ = m.forward(x)
    np.testing.assert_allclose(out[..., :4], a["h"][2], atol=0)   # top layer, forward
    np.testing.assert_allclose(out[..., 4:], a["h"][3], atol=0)   # top layer, backward
    np.testing.assert_allclose(a["h"], a["o"] * np.tanh(a["c"]), atol=1e-15)


def test_step_grads_are_the_total_gradient_wrt_each_state():
    rng = np.random.default_rng(2)
    x = rng.standard_normal((2, 5, 3))
    m = lnp.LSTM(3, 4, seed=1)
    t = ltorch.LSTM(3, 4, seed=1)
    out, _ = m.forward(x)
    r = rng.standard_normal(out.shape)
    m.backward(r)
    o, _ = t(torch.from_numpy(x))
    loss = (o * torch.from_numpy(r)).sum()
    gh = torch.autograd.grad(loss, t.steps["h"][0] + t.steps["c"][0])
    np.testing.assert_allclose(m.step_grads["h"][0], torch.stack(gh[:5], 1).numpy(), atol=1e-13)
    np.testing.assert_allclose(m.step_grads["c"][0], torch.stack(gh[5:], 1).numpy(), atol=1e-13)
