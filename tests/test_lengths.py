"""Variable lengths: ``forward(x, state, lengths)`` equals torch.nn on packed sequences.

NumPy layers (hand-written backward) and their torch twins (autograd) against
``torch.nn.LSTM`` / ``GRU`` / ``RNN`` run on ``pack_padded_sequence(x, lengths,
batch_first=True, enforce_sorted=False)`` and ``pad_packed_sequence(..., total_length=T)``:
output, final states and every gradient, to 1e-10 in float64.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

import lstm_lib.numpy as lnp
import lstm_lib.torch as ltorch
from lstm_lib.gradcheck import gradcheck

KINDS = ["LSTM", "GRU", "RNN", "RNN-relu"]

configs = st.fixed_dictionaries({
    "batch": st.integers(1, 5), "steps": st.integers(1, 12), "inp": st.integers(1, 6),
    "hidden": st.integers(1, 6), "layers": st.integers(1, 3), "bi": st.booleans(),
    "with_state": st.booleans(), "seed": st.integers(0, 2**16),
})


def build(kind: str, cfg: dict):
    """NumPy layer, torch twin, torch.nn module (same weights), x, lengths, state; float64."""
    name, _, act = kind.partition("-")
    args = (cfg["inp"], cfg["hidden"], cfg["layers"], cfg["bi"])
    extra = {"nonlinearity": act} if act else {}
    m = getattr(lnp, name)(*args, seed=cfg["seed"], **extra)
    twin = getattr(ltorch, name)(*args, seed=cfg["seed"], **extra)
    ref = getattr(torch.nn, name)(cfg["inp"], cfg["hidden"], num_layers=cfg["layers"],
                                  bidirectional=cfg["bi"], batch_first=True, **extra).double()
    ref.load_state_dict({k: torch.from_numpy(v) for k, v in m.state_dict().items()})
    rng = np.random.default_rng(cfg["seed"])
    B, T = cfg["batch"], cfg["steps"]
    x = rng.standard_normal((B, T, cfg["inp"]))
    lengths = rng.integers(1, T + 1, size=B)  # all may be < T: the padding is then longer
    if "lengths" in cfg:
        lengths = np.array(cfg["lengths"])
    state = None
    if cfg["with_state"]:
        shape = ((2 if cfg["bi"] else 1) * cfg["layers"], B, cfg["hidden"])
        parts = tuple(rng.standard_normal(shape) for _ in m.state_names)
        state = parts if len(parts) > 1 else parts[0]
    return m, twin, ref, x, lengths, state


def as_tuple(s):
    return s if isinstance(s, tuple) else (s,)


def run_torch(module, x, lengths, state, r_out, r_fin, packed: bool):
    """Forward with lengths (packed for torch.nn), the loss sum(r * results), autograd.
    Returns (output, finals, grads of params, dx, d_state) as NumPy arrays."""
    xt = torch.tensor(x, requires_grad=True)
    st_ = None if state is None else tuple(torch.tensor(s, requires_grad=True)
                                           for s in as_tuple(state))
    s_in = None if st_ is None else (st_ if len(st_) > 1 else st_[0])
    module.zero_grad()
    if packed:
        p = pack_padded_sequence(xt, torch.from_numpy(lengths), batch_first=True,
                                 enforce_sorted=False)
        po, fin = module(p, s_in)
        out, _ = pad_packed_sequence(po, batch_first=True, total_length=x.shape[1])
    else:
        out, fin = module(xt, s_in, lengths=lengths)
    fins = as_tuple(fin)
    loss = (out * torch.from_numpy(r_out)).sum()
    for r, f in zip(r_fin, fins, strict=True):
        loss = loss + (f * torch.from_numpy(r)).sum()
    loss.backward()
    grads = {k: p.grad.numpy() for k, p in module.named_parameters()}
    d_state = None if st_ is None else tuple(s.grad.numpy() for s in st_)
    return (out.detach().numpy(), tuple(f.detach().numpy() for f in fins), grads,
            xt.grad.numpy(), d_state)


def diffs_against_packed(kind: str, cfg: dict) -> dict[str, float]:
    """max |difference| of NumPy and of the twin against packed torch.nn, per quantity."""
    m, twin, ref, x, lengths, state = build(kind, cfg)
    rng = np.random.default_rng(cfg["seed"] + 1)
    out, fin = m.forward(x, state, lengths=lengths)
    fins = as_tuple(fin)
    r_out = rng.standard_normal(out.shape)
    r_fin = tuple(rng.standard_normal(f.shape) for f in fins)
    dx, d_init = m.backward(r_out, r_fin if len(r_fin) > 1 else r_fin[0])
    pad = np.arange(x.shape[1])[None, :] >= lengths[:, None]  # (B, T) True at padding
    assert np.all(dx[pad] == 0.0) and np.all(out[pad] == 0.0)
    result: dict[str, float] = {}
    expected = run_torch(ref, x, lengths, state, r_out, r_fin, packed=True)
    got_twin = run_torch(twin, x, lengths, state, r_out, r_fin, packed=False)
    assert np.all(got_twin[3][pad] == 0.0) and np.all(got_twin[0][pad] == 0.0)
    for who, (o, f, g, d, ds) in {"numpy": (out, fins, m.grads, dx, as_tuple(d_init)),
                                  "twin": got_twin}.items():
        e_o, e_f, e_g, e_d, e_ds = expected
        result[f"{who} output"] = float(np.abs(o - e_o).max())
        for name, a, b in zip(m.state_names, f, e_f, strict=True):
            result[f"{who} {name}_n"] = float(np.abs(a - b).max())
        assert set(g) == set(e_g) == set(m.params)
        for k in e_g:
            result[f"{who} d {k}"] = float(np.abs(g[k] - e_g[k]).max())
        result[f"{who} d x"] = float(np.abs(d - e_d).max())
        if e_ds is not None:
            for name, a, b in zip(m.state_names, ds, e_ds, strict=True):
                result[f"{who} d {name}0"] = float(np.abs(a - b).max())
    return result


@pytest.mark.parametrize("kind", KINDS)
@settings(max_examples=12, deadline=None)
@given(cfg=configs)
def test_lengths_equal_packed_torch_nn_to_1e10(kind, cfg):
    result = diffs_against_packed(kind, cfg)
    n_params = len(build(kind, cfg)[0].params)
    assert len(result) >= 2 * (2 + n_params)  # output, h_n, d x and every parameter, twice
    bad = {k: v for k, v in result.items() if not v <= 1e-10}
    assert not bad, bad


@pytest.mark.parametrize("kind", KINDS)
def test_lengths_fixed_configuration_covers_the_hard_case(kind):
    """Three layers, bidirectional, initial state, lengths 1 and T in one batch."""
    cfg = {"batch": 4, "steps": 7, "inp": 3, "hidden": 5, "layers": 3, "bi": True,
           "with_state": True, "seed": 11, "lengths": [7, 1, 4, 6]}
    result = diffs_against_packed(kind, cfg)
    assert max(result.values()) < 1e-10, result


@pytest.mark.parametrize("kind", ["LSTM", "GRU", "RNN"])
def test_each_sequence_equals_itself_run_alone(kind):
    """Independent of torch.nn: row b of a padded batch equals x[b, :len] run alone, and the
    padding's values do not matter."""
    rng = np.random.default_rng(3)
    m = getattr(lnp, kind)(3, 4, num_layers=2, bidirectional=True, seed=2)
    x = rng.standard_normal((3, 6, 3))
    lengths = np.array([6, 2, 4])
    out, fin = m.forward(x, lengths=lengths)
    junk = x.copy()
    for b, n in enumerate(lengths):
        junk[b, n:] = 1e3 * rng.standard_normal((6 - n, 3))
    out2, fin2 = m.forward(junk, lengths=lengths)
    np.testing.assert_array_equal(out, out2)
    for a, b_ in zip(as_tuple(fin), as_tuple(fin2), strict=True):
        np.testing.assert_array_equal(a, b_)
    for b, n in enumerate(lengths):
        alone, fin_b = m.forward(x[b:b + 1, :n])
        np.testing.assert_allclose(out[b, :n], alone[0], atol=1e-14)
        assert np.all(out[b, n:] == 0.0)
        for a, c in zip(as_tuple(fin), as_tuple(fin_b), strict=True):
            np.testing.assert_allclose(a[:, b], c[:, 0], atol=1e-14)


@pytest.mark.parametrize("kind", ["LSTM", "GRU", "RNN"])
def test_full_lengths_equal_no_lengths(kind):
    rng = np.random.default_rng(4)
    m = getattr(lnp, kind)(3, 4, num_layers=2, bidirectional=True, seed=5)
    x = rng.standard_normal((3, 5, 3))
    out, fin = m.forward(x)
    r = rng.standard_normal(out.shape)
    dx, _ = m.backward(r)
    grads = {k: v.copy() for k, v in m.grads.items()}
    out_l, fin_l = m.forward(x, lengths=[5, 5, 5])
    dx_l, _ = m.backward(r)
    np.testing.assert_allclose(out_l, out, atol=1e-15)
    np.testing.assert_allclose(dx_l, dx, atol=1e-15)
    for k in grads:
        np.testing.assert_allclose(m.grads[k], grads[k], atol=1e-14)


def test_lstm_gradcheck_with_lengths_below_1e7():
    class WithLengths:
        """The layer with ``lengths`` fixed, for ``gradcheck`` (which calls forward(x, s))."""

        def __init__(self, layer, lengths):
            self.layer, self.lengths = layer, lengths

        def __getattr__(self, name):
            return getattr(self.layer, name)

        def forward(self, x, state=None):
            return self.layer.forward(x, state, lengths=self.lengths)

    rng = np.random.default_rng(0)
    layer = lnp.LSTM(3, 4, num_layers=2, bidirectional=True, seed=1)
    x = rng.standard_normal((3, 5, 3))
    state = tuple(rng.standard_normal((4, 3, 4)) for _ in range(2))
    lengths = np.array([5, 2, 3])
    errors = gradcheck(WithLengths(layer, lengths), x, state)
    assert set(errors) == set(layer.params) | {"input", "h0", "c0"}
    assert max(errors.values()) < 1e-7, errors


def test_lengths_accepted_as_array_list_tuple_and_tensor():
    rng = np.random.default_rng(1)
    x = rng.standard_normal((3, 4, 2))
    m, t = lnp.LSTM(2, 3, bidirectional=True), ltorch.LSTM(2, 3, bidirectional=True)
    want, _ = m.forward(x, lengths=np.array([4, 1, 3]))
    for lengths in ([4, 1, 3], (4, 1, 3), torch.tensor([4, 1, 3]), np.array([4, 1, 3], np.int32),
                    np.array([4, 1, 3], np.uint8)):
        got, _ = m.forward(x, lengths=lengths)
        np.testing.assert_array_equal(got, want)
        got_t, _ = t(x, lengths=lengths)
        np.testing.assert_allclose(got_t.detach().numpy(), want, atol=1e-15)


def test_twin_trace_with_lengths_matches_numpy():
    rng = np.random.default_rng(2)
    x = rng.standard_normal((3, 5, 2))
    lengths = [5, 2, 4]
    m = lnp.LSTM(2, 3, num_layers=2, bidirectional=True, seed=4)
    t = ltorch.LSTM(2, 3, num_layers=2, bidirectional=True, seed=4)
    a, b = m.trace(x, lengths=lengths), t.trace(x, lengths=lengths)
    assert set(a) == set(b) == set("ifgoch")
    for k in a:
        assert a[k].shape == (4, 3, 5, 3)
        np.testing.assert_allclose(a[k], b[k].detach().numpy(), atol=1e-14)
        assert np.all(a[k][:, 1, 2:] == 0.0)
    out, _ = m.forward(x, lengths=lengths)
    np.testing.assert_array_equal(out[..., 3:], a["h"][3])  # top layer, backward direction


# --- bad lengths: one test per kind of wrong input, on both sides -----------------------

LAYERS = [pytest.param(lambda: lnp.LSTM(2, 3), id="numpy-LSTM"),
          pytest.param(lambda: ltorch.LSTM(2, 3), id="torch-LSTM"),
          pytest.param(lambda: lnp.RNN(2, 3, bidirectional=True), id="numpy-RNN"),
          pytest.param(lambda: ltorch.GRU(2, 3), id="torch-GRU")]
X = np.zeros((3, 4, 2))


@pytest.mark.parametrize("make", LAYERS)
def test_float_lengths_are_a_type_error(make):
    with pytest.raises(TypeError, match=r"lengths must be 3 integers in \[1, 4\].*float64"):
        make().forward(X, lengths=np.array([4.0, 2.0, 1.0]))
    with pytest.raises(TypeError, match="integers"):
        make().forward(X, lengths=torch.tensor([4.0, 2.0, 1.0]))


@pytest.mark.parametrize("make", LAYERS)
def test_bool_lengths_are_a_type_error(make):
    with pytest.raises(TypeError, match="bool"):
        make().forward(X, lengths=np.array([True, True, False]))
    with pytest.raises(TypeError, match="bool"):
        make().forward(X, lengths=[True, 1, 2])


@pytest.mark.parametrize("make", LAYERS)
def test_object_or_string_lengths_are_a_type_error(make):
    with pytest.raises(TypeError, match="object"):
        make().forward(X, lengths=np.array([4, None, 1], dtype=object))
    with pytest.raises(TypeError, match="<U1"):
        make().forward(X, lengths=["4", "2", "1"])
    with pytest.raises(TypeError, match="got int"):
        make().forward(X, lengths=4)


@pytest.mark.parametrize("make", LAYERS)
def test_lengths_of_the_wrong_shape_are_a_value_error(make):
    with pytest.raises(ValueError, match=r"1-D of size B = 3\), got shape \(2,\)"):
        make().forward(X, lengths=[4, 2])
    with pytest.raises(ValueError, match=r"got shape \(3, 1\)"):
        make().forward(X, lengths=np.array([[4], [2], [1]]))
    with pytest.raises(ValueError, match="ragged"):
        make().forward(X, lengths=[[4, 2], [1]])


@pytest.mark.parametrize("make", LAYERS)
def test_lengths_below_1_are_a_value_error(make):
    with pytest.raises(ValueError, match=r"in \[1, 4\].*got \[0\]"):
        make().forward(X, lengths=[4, 0, 1])
    with pytest.raises(ValueError, match=r"got \[-2\]"):
        make().forward(X, lengths=np.array([-2, 1, 1]))


@pytest.mark.parametrize("make", LAYERS)
def test_lengths_above_T_are_a_value_error(make):
    with pytest.raises(ValueError, match=r"in \[1, 4\].*got \[5\] \(min 1, max 5\)"):
        make().forward(X, lengths=[5, 2, 1])
