"""The layer contract (CONTRIBUTING.md, "The contract"), checked once for every layer.

In the manner of scikit-learn's ``parametrize_with_checks``: one list of layers, {LSTM, GRU,
RNN tanh, RNN relu} x {numpy, torch}, one list of checks, and every check runs on every layer:

- ``state_dict`` keys and shapes are ``torch.nn``'s (layers and cells), init in +-1/sqrt(H);
- the seeded twins are equal: the NumPy layer and its torch twin built with the same arguments
  hold identical weights, another seed other weights;
- float64 agreement with ``torch.nn``: output, final states and every gradient (parameters,
  input, initial state), layers and cells;
- ``lengths=``: what ``torch.nn`` gives on the packed batch; output and dx exactly 0 at padding;
- ``trace``: the gates and states of every step, equal in both implementations, the top
  layer's h equal to the output;
- bad inputs raise ValueError (a wrong shape or value) or TypeError (a wrong kind);
- a gradcheck: the NumPy backward against central differences, the twin's autograd against
  ``torch.autograd.gradcheck``;
- ``load_state_dict``: a round trip through ``torch.nn`` is bit-identical, and ``strict=`` as
  ``torch.nn.Module.load_state_dict``: strict rejects a missing or unexpected key (ValueError),
  ``strict=False`` loads the keys it knows and reports the same missing and unexpected keys.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import lstm_lib.numpy as lnp
import lstm_lib.torch as ltorch
from lstm_lib.params import to_torch
from lstm_lib.verify.compare import compare
from lstm_lib.verify.gradcheck import gradcheck

IMPLS = {"numpy": lnp, "torch": ltorch}
KINDS = {  # name: (class name, extra constructor keywords, gate blocks, trace keys)
    "LSTM": ("LSTM", {}, 4, set("ifgoch")),
    "GRU": ("GRU", {}, 3, set("rznh")),
    "RNN-tanh": ("RNN", {"nonlinearity": "tanh"}, 1, {"h"}),
    "RNN-relu": ("RNN", {"nonlinearity": "relu"}, 1, {"h"}),
}
LAYERS = [(impl, kind) for impl in IMPLS for kind in KINDS]
I, H = 3, 4
CONFIGS = [  # (batch, steps, input, hidden, layers, bidirectional, with an initial state)
    (3, 6, 3, 4, 1, False, False),
    (2, 5, 3, 4, 2, True, True),
    (1, 1, 1, 1, 3, False, True),
    (5, 12, 6, 6, 3, True, True),
]
# ... and drawn ones: the corners above, and Hypothesis's draws over the same ranges
DRAWN = st.tuples(st.integers(1, 5), st.integers(1, 12), st.integers(1, 6), st.integers(1, 6),
                  st.integers(1, 3), st.booleans(), st.booleans())
EXAMPLES = 10


def make(impl: str, kind: str, *args, **kw):
    """The layer under test, built as ``torch.nn``'s: (input_size, hidden_size, num_layers,
    bidirectional); ``cell=True`` for the cell of the same kind."""
    name, extra, _, _ = KINDS[kind]
    cell = kw.pop("cell", False)
    if cell and name == "RNN":
        extra = dict(extra)
    return getattr(IMPLS[impl], name + ("Cell" if cell else ""))(*args, **extra, **kw)


def make_nn(kind: str, *args, cell: bool = False, **kw) -> torch.nn.Module:
    name, extra, _, _ = KINDS[kind]
    if cell:
        return getattr(torch.nn, name + "Cell")(*args, **extra).double()
    return getattr(torch.nn, name)(*args, batch_first=True, **extra, **kw).double()


def twin_of(impl: str) -> str:
    return "torch" if impl == "numpy" else "numpy"


def inputs(kind: str, batch: int, steps: int, inp: int, hidden: int, layers: int, bi: bool,
           with_state: bool, seed: int = 0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((batch, steps, inp))
    if not with_state:
        return x, None
    shape = ((2 if bi else 1) * layers, batch, hidden)
    parts = tuple(rng.standard_normal(shape) for _ in range(2 if kind == "LSTM" else 1))
    return x, parts if kind == "LSTM" else parts[0]


def agreement(impl: str, kind: str, cfg: tuple, lengths=None):
    """The layer under test and torch.nn (packed, with lengths) against the NumPy layer:
    one table (lstm_lib.verify.compare), rows output, finals and every gradient."""
    batch, steps, inp, hidden, layers, bi, with_state = cfg
    m = make("numpy", kind, inp, hidden, layers, bi, seed=5)
    ref = make_nn(kind, inp, hidden, num_layers=layers, bidirectional=bi)
    ref.load_state_dict(to_torch(m.state_dict()))
    x, state = inputs(kind, *cfg)
    modules = {"nn": ref}
    if impl == "torch":
        modules["twin"] = make("torch", kind, inp, hidden, layers, bi, seed=5)
    return m, compare(m, modules, x, state, seed=1, lengths=lengths)


# ------------------------------------------------------------------------------ the checks
def check_state_dict_keys_and_shapes(impl, kind):
    _, _, gates, _ = KINDS[kind]
    for layers, bi in ((1, False), (2, True), (3, False)):
        ours = make(impl, kind, 5, 7, layers, bi, seed=3).state_dict()
        theirs = make_nn(kind, 5, 7, num_layers=layers, bidirectional=bi).state_dict()
        assert list(ours) == list(theirs)
        for k, v in theirs.items():
            assert tuple(ours[k].shape) == tuple(v.shape), k
            assert float(np.abs(np.asarray(ours[k])).max()) <= 1 / np.sqrt(7)
        assert tuple(ours["weight_ih_l0"].shape) == (gates * 7, 5)
        if layers > 1:
            assert tuple(ours["weight_ih_l1"].shape) == (gates * 7, 7 * (2 if bi else 1))
    cell = make(impl, kind, 5, 7, seed=3, cell=True).state_dict()
    ref = make_nn(kind, 5, 7, cell=True).state_dict()
    assert list(cell) == list(ref)
    assert all(tuple(cell[k].shape) == tuple(v.shape) for k, v in ref.items())


def check_seeded_twins_equal(impl, kind):
    a = make(impl, kind, 5, 7, 2, True, seed=3)
    b = make(twin_of(impl), kind, 5, 7, 2, True, seed=3)
    other = make(impl, kind, 5, 7, 2, True, seed=4)
    for k, v in a.state_dict().items():
        np.testing.assert_array_equal(np.asarray(v), np.asarray(b.state_dict()[k]), err_msg=k)
    assert not np.array_equal(np.asarray(a.state_dict()["weight_hh_l0"]),
                              np.asarray(other.state_dict()["weight_hh_l0"]))
    n_ref = sum(p.numel() for p in make_nn(kind, 5, 7, num_layers=2, bidirectional=True)
                .parameters())
    assert a.num_parameters() == b.num_parameters() == n_ref
    c1 = make(impl, kind, 5, 7, seed=3, cell=True).state_dict()
    c2 = make(twin_of(impl), kind, 5, 7, seed=3, cell=True).state_dict()
    for k, v in c1.items():
        np.testing.assert_array_equal(np.asarray(v), np.asarray(c2[k]), err_msg=k)


def check_float64_agrees_with_torch_nn(impl, kind):
    def one(cfg):
        m, table = agreement(impl, kind, cfg)
        names = ["output"] + [f"{n}_n" for n in m.state_names] + ["d x"]
        names += [f"d {k}" for k in m.params]
        names += [f"d {n}0" for n in m.state_names] if cfg[-1] else []
        assert set(table.rows) == set(names), (cfg, sorted(table.rows))
        table.assert_close(1e-10)

    for cfg in CONFIGS:
        one(cfg)
    settings(max_examples=EXAMPLES, deadline=None, database=None)(given(cfg=DRAWN)(one))()


def _numpy(t):
    return t.detach().numpy() if torch.is_tensor(t) else np.asarray(t)


def check_cell_agrees_with_torch_nn(impl, kind):
    """Forward (with a state and without), every gradient, and the gates it keeps."""
    rng = np.random.default_rng(0)
    cell = make(impl, kind, I, H, seed=2, cell=True)
    twin = make(twin_of(impl), kind, I, H, seed=2, cell=True)
    ref = make_nn(kind, I, H, cell=True)
    ref.load_state_dict(to_torch(cell.state_dict()))
    x, h, c = 2 * rng.standard_normal((3, I)), rng.standard_normal((3, H)), \
        rng.standard_normal((3, H))
    lstm = kind == "LSTM"
    w = tuple(rng.standard_normal((3, H)) for _ in range(2 if lstm else 1))

    def run(module, numpy_side: bool):
        """(results, dx, d_state) for the loss sum(w * results)."""
        if numpy_side:
            got = module.forward(x, (h, c) if lstm else h)
            dx, d_state = module.backward(*w)
            return got if lstm else (got,), dx, d_state if lstm else (d_state,), module.grads
        xt, ht, ct = (torch.tensor(a, requires_grad=True) for a in (x, h, c))
        got = module(xt, (ht, ct) if lstm else ht)
        got = got if lstm else (got,)
        sum((g * torch.from_numpy(wi)).sum() for g, wi in zip(got, w, strict=True)).backward()
        grads = {k: p.grad.numpy() for k, p in module.named_parameters()}
        d_state = (ht.grad.numpy(), ct.grad.numpy()) if lstm else (ht.grad.numpy(),)
        return got, xt.grad.numpy(), d_state, grads

    want = run(ref, False)
    got = run(cell, impl == "numpy")
    for a, b in zip(got[0], want[0], strict=True):
        np.testing.assert_allclose(_numpy(a), _numpy(b), rtol=0, atol=1e-14)
    np.testing.assert_allclose(got[1], want[1], rtol=0, atol=1e-13)
    for a, b in zip(got[2], want[2], strict=True):
        np.testing.assert_allclose(a, b, rtol=0, atol=1e-13)
    assert set(got[3]) == set(want[3])
    for k, g in want[3].items():
        np.testing.assert_allclose(_numpy(got[3][k]), g, rtol=0, atol=1e-13, err_msg=k)
    zero = cell.forward(x) if impl == "numpy" else cell(torch.from_numpy(x))
    zero_ref = ref(torch.from_numpy(x))
    for a, b in zip(zero if lstm else (zero,), zero_ref if lstm else (zero_ref,), strict=True):
        np.testing.assert_allclose(_numpy(a), _numpy(b), rtol=0, atol=1e-14)
    gate_keys = KINDS[kind][3] - {"h", "c"}
    if gate_keys:  # the LSTM's and the GRU's cells keep their gates, equal in both twins
        cell.forward(x, (h, c) if lstm else h)
        twin.forward(x, (h, c) if lstm else h)
        assert set(cell.gates) == set(twin.gates) == gate_keys
        for k in gate_keys:
            np.testing.assert_allclose(_numpy(cell.gates[k]), _numpy(twin.gates[k]), rtol=0,
                                       atol=1e-15, err_msg=k)


def check_lengths_equal_packed_torch_nn(impl, kind):
    """lengths 1 and T in one batch, several layers, both directions, an initial state; then
    drawn configurations and lengths; the padding: output and dx exactly 0."""
    cfg = (4, 7, I, H, 3, True, True)
    lengths = np.array([7, 1, 4, 6])
    m, table = agreement(impl, kind, cfg, lengths=lengths)
    assert {"output", "h_n", "d x"} <= set(table.rows)
    assert {f"d {k}" for k in m.params} <= set(table.rows)
    table.assert_close(1e-10)

    @settings(max_examples=EXAMPLES, deadline=None, database=None)
    @given(cfg=DRAWN, data=st.data())
    def drawn(cfg, data):
        ls = data.draw(st.lists(st.integers(1, cfg[1]), min_size=cfg[0], max_size=cfg[0]))
        agreement(impl, kind, cfg, lengths=np.array(ls))[1].assert_close(1e-10)

    drawn()
    x, state = inputs(kind, *cfg)
    layer = make(impl, kind, I, H, 3, True, seed=5)
    pad = np.arange(7)[None, :] >= lengths[:, None]
    if impl == "numpy":
        out, _ = layer.forward(x, state, lengths=lengths)
        dx, _ = layer.backward(np.ones_like(out))
    else:
        xt = torch.tensor(x, requires_grad=True)
        out_t, _ = layer(xt, state, lengths=lengths)
        out_t.sum().backward()
        out, dx = out_t.detach().numpy(), xt.grad.numpy()
    assert np.all(out[pad] == 0.0) and np.all(dx[pad] == 0.0)
    assert np.abs(dx[1, :1]).min() > 0 and np.abs(dx[2, :4]).min() > 0
    want = np.asarray(out)
    for form in ([7, 1, 4, 6], (7, 1, 4, 6), torch.tensor([7, 1, 4, 6]),
                 np.array([7, 1, 4, 6], np.int32), np.array([7, 1, 4, 6], np.uint8)):
        got = layer.forward(x, state, lengths=form)[0] if impl == "numpy" else \
            layer(x, state, lengths=form)[0].detach().numpy()
        np.testing.assert_allclose(got, want, rtol=0, atol=1e-15)


def check_trace(impl, kind):
    """Gates and states of every step: equal in both twins, the top layer's h is the output,
    the step's own equation holds; with lengths= too (zero past each length)."""
    _, _, _, keys = KINDS[kind]
    rng = np.random.default_rng(1)
    x = rng.standard_normal((2, 6, I))
    a = make(impl, kind, I, H, 2, True, seed=7)
    b = make(twin_of(impl), kind, I, H, 2, True, seed=7)
    for lengths in (None, [6, 3]):
        kw = {} if lengths is None else {"lengths": lengths}
        ta = {k: _numpy(v) for k, v in a.trace(x, **kw).items()}
        tb = {k: _numpy(v) for k, v in b.trace(x, **kw).items()}
        assert set(ta) == set(tb) == keys
        for k in keys:
            assert ta[k].shape == (4, 2, 6, H)
            np.testing.assert_allclose(ta[k], tb[k], rtol=0, atol=1e-14, err_msg=k)
            if lengths is not None:
                assert np.all(ta[k][:, 1, 3:] == 0.0), k
        out = _numpy((a.forward if impl == "numpy" else a)(x, **kw)[0])
        np.testing.assert_allclose(out[..., :H], ta["h"][2], rtol=0, atol=1e-15)  # top, forward
        np.testing.assert_allclose(out[..., H:], ta["h"][3], rtol=0, atol=1e-15)  # top, backward
    t = {k: _numpy(v) for k, v in a.trace(x).items()}
    if kind == "LSTM":
        np.testing.assert_allclose(t["h"], t["o"] * np.tanh(t["c"]), rtol=0, atol=1e-15)
    if kind == "GRU":
        h_prev = np.concatenate([np.zeros((4, 2, 1, H)), t["h"][:, :, :-1]], axis=2)
        fwd = [0, 2]  # forward directions: h_prev is the previous step in input order
        np.testing.assert_allclose(t["h"][fwd], ((1 - t["z"]) * t["n"] + t["z"] * h_prev)[fwd],
                                   rtol=0, atol=1e-15)
        assert ((t["r"] > 0) & (t["r"] < 1)).all() and (np.abs(t["n"]) < 1).all()


def check_step_grads(impl, kind):
    """The NumPy layer's .step_grads, (D*L, B, T, H) per state: the total gradient of the loss
    with respect to every step's state, as autograd finds it on the twin's .steps."""
    rng = np.random.default_rng(2)
    x = rng.standard_normal((2, 5, I))
    m, t = make("numpy", kind, I, H, seed=1), make("torch", kind, I, H, seed=1)
    if impl == "torch":
        m, t = make("numpy", kind, I, H, seed=1), make("torch", kind, I, H, seed=1)
    out, _ = m.forward(x)
    r = rng.standard_normal(out.shape)
    m.backward(r)
    o, _ = t(torch.from_numpy(x))
    names = m.state_names
    steps = [s for n in names for s in t.steps[n][0]]
    grads = torch.autograd.grad((o * torch.from_numpy(r)).sum(), steps)
    for i, n in enumerate(names):
        assert m.step_grads[n].shape == (1, 2, 5, H)
        want = torch.stack(grads[5 * i:5 * (i + 1)], 1).numpy()
        np.testing.assert_allclose(m.step_grads[n][0], want, rtol=0, atol=1e-13, err_msg=n)


BAD_NONLINEARITIES = ["sigmoid", "ReLU", "", None, 1, torch.relu]


def check_bad_inputs(impl, kind):
    """A wrong shape or value: ValueError; a wrong kind: TypeError; each says what it wanted."""
    lstm = kind == "LSTM"

    def layer(**kw):
        return make(impl, kind, 4, 5, **kw)

    def run(m, x, state=None, **kw):
        return m.forward(x, state, **kw) if impl == "numpy" else m(x, state, **kw)

    with pytest.raises(ValueError, match=r"\(B, T, I\) = \(\*, \*, 4\), got \(2, 3, 6\)"):
        run(layer(), np.zeros((2, 3, 6)))
    with pytest.raises(ValueError, match=r"3 dimensions \(B, T, I\), got 2"):
        run(layer(), np.zeros((3, 4)))
    with pytest.raises(TypeError, match="real floating dtype"):
        run(layer(), np.zeros((2, 3, 4), dtype=np.int64))
    x = np.zeros((2, 3, 4))
    x[1, 2, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        run(layer(), x)
    wrong = np.zeros((1, 2, 5))
    with pytest.raises(ValueError, match=r"state h .*\(2, 2, 5\), got \(1, 2, 5\)"):
        run(layer(num_layers=2), np.zeros((2, 3, 4)), (wrong, wrong) if lstm else wrong)
    if lstm:  # a pair is wanted (today a ValueError, where the RNN and GRU say TypeError)
        with pytest.raises((TypeError, ValueError), match="tuple"):
            run(layer(), np.zeros((2, 3, 4)), wrong)
    else:
        with pytest.raises(TypeError, match="got tuple"):
            run(layer(), np.zeros((2, 3, 4)), (wrong, wrong))
    with pytest.raises(TypeError, match="float32 or float64"):
        layer(dtype=np.int32)
    for kw in ({"input_size": 0}, {"hidden_size": -1}, {"num_layers": 0}):
        with pytest.raises(ValueError, match="positive int"):
            make(impl, kind, **{"input_size": 4, "hidden_size": 5, **kw})
    # load_state_dict: another kind's shapes, a missing key
    other = "GRU" if kind != "GRU" else "LSTM"
    rows, other_rows = KINDS[kind][2] * 5, KINDS[other][2] * 5
    with pytest.raises(ValueError, match=rf"weight_ih_l0 must have shape \({rows}, 4\), "
                                         rf"got \({other_rows}, 4\)"):
        layer().load_state_dict(make("numpy", other, 4, 5).state_dict())
    sd = make("numpy", kind, 4, 5).state_dict()
    del sd["bias_hh_l0"]
    with pytest.raises(ValueError, match="missing key"):
        layer().load_state_dict(sd)
    # lengths=
    X = np.zeros((3, 4, 4))
    bad_lengths = [
        (TypeError, r"lengths must be 3 integers in \[1, 4\].*float64", np.array([4.0, 2, 1])),
        (TypeError, "integers", torch.tensor([4.0, 2.0, 1.0])),
        (TypeError, "bool", np.array([True, True, False])),
        (TypeError, "bool", [True, 1, 2]),
        (TypeError, "object", np.array([4, None, 1], dtype=object)),
        (TypeError, "<U1", ["4", "2", "1"]),
        (TypeError, "got int", 4),
        (ValueError, r"1-D of size B = 3\), got shape \(2,\)", [4, 2]),
        (ValueError, r"got shape \(3, 1\)", np.array([[4], [2], [1]])),
        (ValueError, "ragged", [[4, 2], [1]]),
        (ValueError, r"in \[1, 4\].*got \[0\]", [4, 0, 1]),
        (ValueError, r"got \[-2\]", np.array([-2, 1, 1])),
        (ValueError, r"in \[1, 4\].*got \[5\] \(min 1, max 5\)", [5, 2, 1]),
    ]
    for error, match, lengths in bad_lengths:
        with pytest.raises(error, match=match):
            run(layer(bidirectional=True), X, lengths=lengths)
    # cells
    cell = make(impl, kind, 4, 5, cell=True)
    with pytest.raises(ValueError, match=r"\(B, I\) = \(\*, 4\), got \(2, 3\)"):
        cell.forward(np.zeros((2, 3)))
    h_bad = np.zeros((2, 4))
    with pytest.raises(ValueError, match=r"h must have shape \(B, H\) = \(2, 5\), got \(2, 4\)"):
        cell.forward(np.zeros((2, 4)), (h_bad, np.zeros((2, 5))) if lstm else h_bad)
    if impl == "numpy":  # backward: only the NumPy layers have one
        with pytest.raises(ValueError, match="before forward"):
            layer().backward(np.zeros((2, 3, 5)))
        with pytest.raises(ValueError, match="before forward"):
            make(impl, kind, 4, 5, cell=True).backward(np.zeros((2, 5)))
        m = layer(bidirectional=True)
        m.forward(np.zeros((2, 3, 4)))
        with pytest.raises(ValueError, match=r"d_output .*\(2, 3, 10\), got \(2, 3, 5\)"):
            m.backward(np.zeros((2, 3, 5)))
        m = layer()
        out, _ = m.forward(np.zeros((2, 3, 4)))
        d_bad = np.zeros((1, 3, 5))
        with pytest.raises(ValueError, match=r"d_state h .*\(1, 2, 5\), got \(1, 3, 5\)"):
            m.backward(np.zeros_like(out), (d_bad, np.zeros((1, 2, 5))) if lstm else d_bad)
        cell.forward(np.zeros((2, 4)))
        with pytest.raises(ValueError, match=r"dh must have shape \(B, H\) = \(2, 5\)"):
            cell.backward(np.zeros((3, 5)))
    if KINDS[kind][0] == "RNN":
        cls = IMPLS[impl].RNN
        for bad in BAD_NONLINEARITIES:
            for c in (cls, IMPLS[impl].RNNCell):
                with pytest.raises(ValueError, match=r"nonlinearity must be one of 'tanh', "
                                                     r"'relu', got"):
                    c(3, 4, nonlinearity=bad)
        with pytest.raises(TypeError):  # keyword-only
            cls(3, 4, 1, False, np.float64, 0, "relu")


def check_gradcheck(impl, kind):
    """NumPy: the hand-written backward against central differences, with and without
    lengths (and dx exactly 0 at padding). torch: autograd against torch.autograd.gradcheck,
    over the input, the initial state and every parameter."""
    rng = np.random.default_rng(0)
    init = {"h0", "c0"} if kind == "LSTM" else {"h0"}
    for layers, bi in ((1, False), (2, True), (3, False)):
        m = make(impl, kind, I, H, layers, bi, seed=1)
        x, state = inputs(kind, 3, 5, I, H, layers, bi, True, seed=2)
        if impl == "numpy":
            for lengths in (None, np.array([5, 2, 3])):
                errors = gradcheck(m, x, state) if lengths is None else \
                    gradcheck(m, x, state, lengths=lengths)
                assert set(errors) == set(m.params) | {"input"} | init
                assert max(errors.values()) < 1e-7, (lengths, errors)
            m.forward(x, state, lengths=np.array([5, 2, 3]))
            dx, _ = m.backward(rng.standard_normal((3, 5, H * (2 if bi else 1))))
            assert (dx[1, 2:] == 0).all() and (dx[2, 3:] == 0).all() and (dx[1, :2] != 0).all()
            continue
        if layers == 3:
            continue  # autograd's own check: two configurations are enough
        names = [k for k, _ in m.named_parameters()]
        parts = state if isinstance(state, tuple) else (state,)
        leaves = [torch.tensor(x, requires_grad=True)]
        leaves += [torch.tensor(s, requires_grad=True) for s in parts]
        leaves += [p.detach().clone().requires_grad_(True) for _, p in m.named_parameters()]

        n_state = len(parts)

        def f(x_, *rest, m=m, names=names, n_state=n_state):
            s = rest[:n_state]
            params = dict(zip(names, rest[n_state:], strict=True))
            out, fin = torch.func.functional_call(m, params, (x_, s if len(s) > 1 else s[0]))
            return (out, *(fin if isinstance(fin, tuple) else (fin,)))

        assert torch.autograd.gradcheck(f, tuple(leaves), eps=1e-6, atol=1e-7)


def check_state_dict_round_trip(impl, kind):
    """numpy -> this layer -> torch.nn -> this layer, bit for bit; state_dict returns copies."""
    a = make("numpy", kind, 4, 3, 2, True, seed=1)
    ours = make(impl, kind, 4, 3, 2, True, seed=9)
    ref = make_nn(kind, 4, 3, num_layers=2, bidirectional=True)
    ours.load_state_dict(a.state_dict())
    ref.load_state_dict({k: torch.as_tensor(np.asarray(v)) for k, v in ours.state_dict().items()})
    back = make(impl, kind, 4, 3, 2, True, seed=8)
    back.load_state_dict(ref.state_dict())
    for k, v in a.state_dict().items():
        assert _numpy(back.state_dict()[k]).tobytes() == v.tobytes(), k
    sd = ours.state_dict()
    first = next(iter(sd))
    if impl == "numpy":
        sd[first][...] = 0.0
        assert np.abs(ours.state_dict()[first]).sum() > 0


def check_load_state_dict_strict(impl, kind):
    """As torch.nn.Module.load_state_dict: strict=True (the default) rejects a missing and
    an unexpected key; strict=False loads the keys it knows, leaves the others, and returns
    the same missing_keys and unexpected_keys as torch.nn."""
    ours = make(impl, kind, I, H, 2, True, seed=1)
    ref = make_nn(kind, I, H, num_layers=2, bidirectional=True)
    full = {k: np.asarray(v).copy() + 1.0 for k, v in ours.state_dict().items()}
    dropped = next(iter(full))
    missing = {k: v for k, v in full.items() if k != dropped}
    extra = {**full, "stray.weight": np.zeros(2)}
    for bad in (missing, extra):
        with pytest.raises(RuntimeError):
            ref.load_state_dict({k: torch.as_tensor(v) for k, v in bad.items()})
        with pytest.raises(ValueError, match="missing|unexpected"):
            ours.load_state_dict(bad)
        with pytest.raises(ValueError, match="missing|unexpected"):
            ours.load_state_dict(bad, strict=True)
    before = {k: np.asarray(v).copy() for k, v in ours.state_dict().items()}
    partial = {k: v for k, v in extra.items() if k != dropped}
    got = ours.load_state_dict(partial, strict=False)
    want = ref.load_state_dict({k: torch.as_tensor(v) for k, v in partial.items()}, strict=False)
    assert list(got.missing_keys) == list(want.missing_keys) == [dropped]
    assert list(got.unexpected_keys) == list(want.unexpected_keys) == ["stray.weight"]
    after = {k: np.asarray(v) for k, v in ours.state_dict().items()}
    np.testing.assert_array_equal(after[dropped], before[dropped])
    for k, v in partial.items():
        if k != "stray.weight":
            np.testing.assert_array_equal(after[k], v, err_msg=k)


CHECKS = [check_state_dict_keys_and_shapes, check_seeded_twins_equal,
          check_float64_agrees_with_torch_nn, check_cell_agrees_with_torch_nn,
          check_lengths_equal_packed_torch_nn, check_trace, check_step_grads, check_bad_inputs,
          check_gradcheck, check_state_dict_round_trip, check_load_state_dict_strict]


@pytest.mark.parametrize(
    ("impl", "kind", "check"),
    [(impl, kind, check) for impl, kind in LAYERS for check in CHECKS],
    ids=[f"{impl}-{kind}-{check.__name__.removeprefix('check_')}"
         for impl, kind in LAYERS for check in CHECKS])
def test_layer_contract(impl, kind, check):
    check(impl, kind)
