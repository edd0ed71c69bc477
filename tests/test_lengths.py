"""Variable lengths: ``forward(x, state, lengths)`` equals torch.nn on packed sequences.

NumPy layers (hand-written backward) and their torch twins (autograd) against
``torch.nn.LSTM`` / ``GRU`` / ``RNN`` run on ``pack_padded_sequence(x, lengths,
batch_first=True, enforce_sorted=False)`` and ``pad_packed_sequence(..., total_length=T)``:
output, final states and every gradient, to 1e-10 in float64.
"""

from __future__ import annotations

import numpy as np
import pytest

import lstm_lib.numpy as lnp


def as_tuple(s):
    return s if isinstance(s, tuple) else (s,)


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


# --- bad lengths: one test per kind of wrong input, on both sides -----------------------
