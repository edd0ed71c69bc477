"""NumPy layers, torch twins and torch.nn agree: outputs, final states and every gradient."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import lstm_lib.numpy as lnp
import lstm_lib.torch as ltorch
from lstm_lib.verify.compare import compare

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


def test_forward_results_are_not_overwritten_by_the_next_call():
    m = lnp.LSTM(2, 3)
    out1, (h1, _) = m.forward(np.ones((1, 4, 2)))
    keep = out1.copy(), h1.copy()
    m.forward(-np.ones((1, 4, 2)))
    np.testing.assert_array_equal(out1, keep[0])
    np.testing.assert_array_equal(h1, keep[1])
