"""The ReLU RNN (``nonlinearity="relu"``): NumPy, its twin and torch.nn.RNN agree."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

import lstm_lib.numpy as lnp
import lstm_lib.torch as ltorch
from lstm_lib.params import to_torch
from lstm_lib.verify.compare import compare

RELU = {"nonlinearity": "relu"}


def make(cfg: dict, dtype=np.float64):
    """A NumPy ReLU RNN, its twin, torch.nn.RNN(nonlinearity="relu"), an input and a state."""
    args = (cfg["inp"], cfg["hidden"], cfg["layers"], cfg["bi"])
    m = lnp.RNN(*args, dtype=dtype, seed=cfg["seed"], **RELU)
    twin = ltorch.RNN(*args, dtype=dtype, seed=cfg["seed"], **RELU)
    ref = torch.nn.RNN(cfg["inp"], cfg["hidden"], num_layers=cfg["layers"],
                       bidirectional=cfg["bi"], batch_first=True, **RELU).to(twin.dtype)
    ref.load_state_dict(to_torch(m.state_dict()))
    rng = np.random.default_rng(cfg["seed"])
    x = rng.standard_normal((cfg["batch"], cfg["steps"], cfg["inp"])).astype(dtype)
    state = None
    if cfg["with_state"]:
        shape = ((2 if cfg["bi"] else 1) * cfg["layers"], cfg["batch"], cfg["hidden"])
        state = rng.standard_normal(shape).astype(dtype)
    return m, twin, ref, x, state


@pytest.mark.parametrize("layers,bi,with_state", [(1, False, False), (2, True, True),
                                                  (3, False, True)])
def test_float32_agrees_to_1e4(layers, bi, with_state):
    # Fixed draws, not Hypothesis: a pre-activation within float32 round-off of ReLU's kink
    # could take a different side in each implementation (a rare, legitimate difference).
    cfg = {"batch": 4, "steps": 9, "inp": 3, "hidden": 5, "layers": layers, "bi": bi,
           "with_state": with_state, "seed": 11}
    m, twin, ref, x, state = make(cfg, np.float32)
    table = compare(m, {"twin": twin, "nn": ref}, x, state, seed=cfg["seed"])
    for row, vals in table.rows.items():
        assert max(vals) < 1e-4, (row, vals)


def test_relu_is_used_not_tanh():
    rng = np.random.default_rng(1)
    x = 3 * rng.standard_normal((4, 6, 3))
    relu, tanh = lnp.RNN(3, 8, seed=2, **RELU), lnp.RNN(3, 8, seed=2)
    out_relu, _ = relu.forward(x)
    out_tanh, _ = tanh.forward(x)
    assert out_relu.min() == 0.0 and (out_relu == 0).mean() > 0.1  # ReLU's exact zeros
    assert out_relu.max() > 1.0                                   # beyond tanh's range
    assert np.abs(out_tanh).max() < 1.0 and (out_tanh == 0).sum() == 0
    dx, _ = relu.backward(np.ones_like(out_relu))
    relu_t = ltorch.RNN(3, 8, seed=2, **RELU)
    xt = torch.tensor(x, requires_grad=True)
    relu_t(xt)[0].sum().backward()
    np.testing.assert_allclose(dx, xt.grad.numpy(), rtol=0, atol=1e-12)


def test_nonlinearity_keeps_the_keys_and_the_seeded_init():
    a = lnp.RNN(5, 7, num_layers=2, bidirectional=True, seed=3, **RELU)
    b = lnp.RNN(5, 7, num_layers=2, bidirectional=True, seed=3)
    t = ltorch.RNN(5, 7, num_layers=2, bidirectional=True, seed=3, **RELU)
    ref = torch.nn.RNN(5, 7, num_layers=2, bidirectional=True, batch_first=True, **RELU)
    assert list(a.state_dict()) == list(t.state_dict()) == list(ref.state_dict())
    for k, v in ref.state_dict().items():
        assert a.state_dict()[k].shape == tuple(v.shape)
        np.testing.assert_array_equal(a.state_dict()[k], b.state_dict()[k])
        np.testing.assert_array_equal(a.state_dict()[k], t.state_dict()[k].numpy())
    assert a.nonlinearity == t.nonlinearity == "relu" and b.nonlinearity == "tanh"
    assert "relu" in repr(a) and "relu" in repr(t) and "relu" not in repr(b)


def test_run_with_a_mask_equals_packed_nn_rnn_relu():
    """The recurrence with a mask (one layer, one direction) equals packed nn.RNN: output,
    h_n at each sequence's own last step, every gradient, and dx exactly 0 at padding."""
    rng = np.random.default_rng(5)
    B, T, I, H = 4, 6, 3, 5
    lengths = np.array([6, 2, 1, 4])
    mask = (np.arange(T)[:, None] < lengths[None, :]).astype(np.float64)[..., None]
    m = lnp.RNN(I, H, seed=4, **RELU)
    ref = torch.nn.RNN(I, H, batch_first=True, **RELU).double()
    ref.load_state_dict(to_torch(m.state_dict()))
    x, h0 = rng.standard_normal((B, T, I)), rng.standard_normal((B, H))
    w = m._weights(0, 0)
    cache = m._run(np.ascontiguousarray(x.transpose(1, 0, 2)), w, (h0,), {}, mask)
    out = (cache["h"][1:] * mask).transpose(1, 0, 2)
    xt, h0t = torch.tensor(x, requires_grad=True), torch.tensor(h0[None], requires_grad=True)
    packed = pack_padded_sequence(xt, torch.from_numpy(lengths), batch_first=True,
                                  enforce_sorted=False)
    rout, rh = ref(packed, h0t)
    rout, _ = pad_packed_sequence(rout, batch_first=True, total_length=T)
    np.testing.assert_allclose(out, rout.detach().numpy(), rtol=0, atol=1e-14)
    np.testing.assert_allclose(cache["h"][-1], rh[0].detach().numpy(), rtol=0, atol=1e-14)
    r_out, r_h = rng.standard_normal(out.shape), rng.standard_normal((B, H))
    ((rout * torch.from_numpy(r_out)).sum() + (rh[0] * torch.from_numpy(r_h)).sum()).backward()
    dxs, grads, (dh0,), _ = m._run_backward(cache, w, r_out.transpose(1, 0, 2) * mask, (r_h,))
    dx = dxs.transpose(1, 0, 2)
    np.testing.assert_allclose(dx, xt.grad.numpy(), rtol=0, atol=1e-13)
    np.testing.assert_allclose(dh0, h0t.grad[0].numpy(), rtol=0, atol=1e-13)
    for (k, p), g in zip(ref.named_parameters(), grads, strict=True):
        np.testing.assert_allclose(g, p.grad.numpy(), rtol=0, atol=1e-13, err_msg=k)
    assert (dx[mask.transpose(1, 0, 2)[..., 0] == 0] == 0).all()
