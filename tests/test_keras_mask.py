"""Keras masking and ``go_backwards`` in ``lstm_lib.keras.layers.LSTMLayer`` (float64).

Against real Keras 3 (``mask=`` and a ``Masking`` layer; right-, left-padded and holed
masks): Keras runs a masked LSTM through its Python loop, whose ``ops.matmul`` computes in
float32 on the torch backend (an unmasked call takes the fused float64 kernel and agrees to
1e-12), so masked results agree to ~1e-8 and are checked to 1e-6; a wrong masking rule is
off by more than 1e-2, which the tests check too. Against references without Keras
(packed ``torch.nn.LSTM``, each sequence run alone) the agreement is checked to 1e-12.
"""

import importlib.util
import os

import numpy as np
import pytest
import torch
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from lstm_lib.keras import bridge as kb
from lstm_lib.keras.layers import LSTMLayer
from lstm_lib.torch import LSTM

os.environ.setdefault("KERAS_BACKEND", "torch")
HAVE_KERAS = importlib.util.find_spec("keras") is not None
needs_keras = pytest.mark.skipif(not HAVE_KERAS, reason="keras is not installed")

B, T, I, H = 4, 6, 2, 3
KERAS_TOL = 1e-6  # Keras's masked loop multiplies in float32 (see the module docstring)

MASKS = {
    "right-padded": np.array([[1, 1, 1, 1, 1, 1], [1, 1, 1, 0, 0, 0],
                              [1, 0, 0, 0, 0, 0], [1, 1, 1, 1, 1, 0]], bool),
    "left-padded": np.array([[1, 1, 1, 1, 1, 1], [0, 0, 0, 1, 1, 1],
                             [0, 0, 0, 0, 0, 1], [0, 1, 1, 1, 1, 1]], bool),
    "holes": np.array([[1, 0, 1, 0, 1, 0], [0, 1, 1, 0, 0, 1],
                       [1, 1, 0, 0, 1, 1], [0, 0, 0, 0, 0, 0]], bool),  # the last: all masked
}


@pytest.fixture(scope="module")
def keras():
    return pytest.importorskip("keras", exc_type=ImportError)


def x_input(seed=0):
    return np.random.default_rng(seed).standard_normal((B, T, I))


def np_(t):
    return np.asarray(t.detach().cpu()) if hasattr(t, "detach") else np.asarray(t)


def maxdiff(a, b):
    d = np.abs(np_(a) - np_(b))
    return float(d.max()) if d.size else 0.0


def pair(keras, seed, **flags):
    ours = LSTMLayer(I, H, return_state=True, seed=seed, **flags)
    theirs = keras.layers.LSTM(H, return_state=True, dtype="float64", **flags)
    kb.copy_lstm_to_keras(ours, theirs)
    return ours, theirs


@needs_keras
@pytest.mark.parametrize("mask_name", list(MASKS))
@pytest.mark.parametrize("go_backwards", [False, True])
@pytest.mark.parametrize("zero_output", [False, True])
@pytest.mark.parametrize("return_sequences", [False, True])
def test_mask_equals_keras(keras, mask_name, go_backwards, zero_output, return_sequences):
    flags = {"return_sequences": return_sequences, "go_backwards": go_backwards,
             "zero_output_for_mask": zero_output}
    ours, theirs = pair(keras, 3, **flags)
    mask = MASKS[mask_name]
    x = x_input(1)
    for state in (None, [np.full((B, H), 0.4), np.full((B, H), -0.3)]):
        a = ours(x, initial_state=state, mask=mask)
        b = theirs(x, initial_state=state, mask=mask)
        assert type(a) is type(b) is tuple and len(a) == len(b) == 3
        for u, v in zip(a, b, strict=True):
            assert tuple(u.shape) == tuple(v.shape)
            assert maxdiff(u, v) < KERAS_TOL
        # the mask matters: ignoring it would fail the check above by far
        unmasked = ours(x, initial_state=state)
        assert max(maxdiff(u, v) for u, v in zip(unmasked, b, strict=True)) > 1e-2


@needs_keras
@pytest.mark.parametrize("padding", ["right", "left"])
@pytest.mark.parametrize("go_backwards", [False, True])
def test_masking_layer_equals_keras(keras, padding, go_backwards):
    mask = MASKS[f"{padding}-padded"]
    x = x_input(2)
    x[~mask] = 0.0  # what a Masking(0.0) layer masks
    ours = LSTMLayer(I, H, return_sequences=True, go_backwards=go_backwards, seed=4)
    lstm = keras.layers.LSTM(H, return_sequences=True, go_backwards=go_backwards,
                             dtype="float64")
    model = keras.Sequential([keras.Input((T, I), dtype="float64"),
                              keras.layers.Masking(0.0, dtype="float64"), lstm])
    kb.copy_lstm_to_keras(ours, lstm)
    theirs = model(x)
    keras_mask = (x != 0.0).any(axis=-1)
    np.testing.assert_array_equal(keras_mask, mask)
    assert maxdiff(ours(x, mask=keras_mask), theirs) < KERAS_TOL
    assert maxdiff(ours(x), theirs) > 1e-2  # without the mask the zeros would be read


@needs_keras
@pytest.mark.parametrize("return_sequences", [False, True])
def test_go_backwards_without_mask_equals_keras_to_1e12(keras, return_sequences):
    ours, theirs = pair(keras, 5, return_sequences=return_sequences, go_backwards=True)
    x = x_input(3)
    for u, v in zip(ours(x), theirs(x), strict=True):
        assert maxdiff(u, v) < 1e-12
    # Keras returns the outputs in reading order: the reverse of the input's time order
    fwd = LSTMLayer(I, H, return_sequences=True, seed=5)
    flipped = np.ascontiguousarray(x[:, ::-1])
    if return_sequences:
        assert maxdiff(ours(x)[0], fwd(flipped)) < 1e-15
    assert maxdiff(ours(x)[1], fwd(flipped)[:, -1]) < 1e-15


@needs_keras
def test_stateful_with_mask_equals_keras(keras):
    ours = LSTMLayer(I, H, return_sequences=True, stateful=True, seed=6)
    theirs = keras.layers.LSTM(H, return_sequences=True, stateful=True, dtype="float64")
    kb.copy_lstm_to_keras(ours, theirs, batch_size=B)
    x, mask = x_input(4), MASKS["holes"]
    for part in (slice(0, 2), slice(2, 6)):
        assert maxdiff(ours(x[:, part], mask=mask[:, part]),
                       theirs(x[:, part], mask=mask[:, part])) < KERAS_TOL


# --- references without Keras, to 1e-12 ---------------------------------------------------

@pytest.mark.parametrize("zero_output", [False, True])
def test_right_padded_mask_is_packed_torch_nn(zero_output):
    mask = MASKS["right-padded"]
    lengths = mask.sum(axis=1)
    layer = LSTMLayer(I, H, return_sequences=True, return_state=True,
                      zero_output_for_mask=zero_output, seed=7)
    ref = torch.nn.LSTM(I, H, batch_first=True).double()
    ref.load_state_dict(layer.state_dict())
    x = torch.from_numpy(x_input(5))
    out, h, c = layer(x, mask=mask)
    packed, (h_n, c_n) = ref(pack_padded_sequence(x, torch.from_numpy(lengths),
                                                  batch_first=True, enforce_sorted=False))
    want, _ = pad_packed_sequence(packed, batch_first=True, total_length=T)
    assert maxdiff(h, h_n[0]) < 1e-12 and maxdiff(c, c_n[0]) < 1e-12
    for b, n in enumerate(lengths):
        assert maxdiff(out[b, :n], want[b, :n]) < 1e-12
        # past the end: the last real output repeated (Keras), or zeros
        tail = torch.zeros(T - n, H, dtype=out.dtype) if zero_output else h_n[0, b].expand(
            T - n, H)
        assert maxdiff(out[b, n:], tail) < 1e-12


def test_left_padded_mask_is_each_sequence_run_alone():
    mask = MASKS["left-padded"]
    layer = LSTMLayer(I, H, return_sequences=True, return_state=True, seed=8)
    x = x_input(6)
    h0, c0 = np.full((B, H), 0.5), np.full((B, H), 0.2)
    out, h, c = layer(x, initial_state=[h0, c0], mask=mask)
    plain = LSTM(I, H, seed=8)
    for b in range(B):
        first = int(np.argmax(mask[b]))
        alone, (hb, cb) = plain(x[b:b + 1, first:], (h0[None, b:b + 1], c0[None, b:b + 1]))
        assert maxdiff(out[b, first:], alone[0]) < 1e-12
        assert torch.all(out[b, :first] == 0.0)  # before the first real step: zeros, not h0
        assert maxdiff(h[b], hb[0, 0]) < 1e-12 and maxdiff(c[b], cb[0, 0]) < 1e-12


def test_masked_steps_get_no_gradient_and_carry_the_state():
    mask = MASKS["holes"]
    layer = LSTMLayer(I, H, return_sequences=True, return_state=True, seed=9)
    x = torch.tensor(x_input(7), requires_grad=True)
    out, h, c = layer(x, mask=mask)
    (out.sum() + h.sum() + c.sum()).backward()
    assert torch.all(x.grad[torch.from_numpy(~mask)] == 0.0)
    assert torch.all(x.grad[torch.from_numpy(mask)].abs() > 0)
    # a fully masked sequence keeps its initial (zero) state and outputs zeros
    assert torch.all(out[3] == 0.0) and torch.all(h[3] == 0.0) and torch.all(c[3] == 0.0)
    # a masked step's output is the previous step's output
    assert torch.equal(out[0, 1], out[0, 0]) and torch.equal(out[2, 3], out[2, 1])


def test_mask_accepts_numpy_and_torch_bools():
    layer = LSTMLayer(I, H, return_sequences=True, seed=1)
    x = x_input(8)
    a = layer(x, mask=MASKS["holes"])
    b = layer(x, mask=torch.from_numpy(MASKS["holes"]))
    c = layer(x, mask=MASKS["holes"][:, ::-1][:, ::-1])  # a view with a negative stride, twice
    assert torch.equal(a, b) and torch.equal(a, c)


def test_mask_validation():
    layer = LSTMLayer(I, H)
    x = x_input()
    with pytest.raises(TypeError, match="mask must be boolean.*int64"):
        layer(x, mask=MASKS["holes"].astype(np.int64))
    with pytest.raises(TypeError, match="mask must be boolean.*float32"):
        layer(x, mask=torch.ones(B, T))
    with pytest.raises(TypeError, match=r"mask must be a \(B, T\) = \(4, 6\) boolean.*list"):
        layer(x, mask=MASKS["holes"].tolist())
    with pytest.raises(ValueError, match=r"mask must have shape \(B, T\) = \(4, 6\), got \(4, 5\)"):
        layer(x, mask=MASKS["holes"][:, :5])
    with pytest.raises(TypeError, match="go_backwards must be a bool"):
        LSTMLayer(I, H, go_backwards="yes")
    with pytest.raises(TypeError, match="zero_output_for_mask must be a bool"):
        LSTMLayer(I, H, zero_output_for_mask=1)
