"""Tests of the flip-flop memory task (lstm_lib.data.memory)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from lstm_lib.data.memory import (
    MARKER,
    VALUE,
    event_means,
    flip_flop,
    flip_flop_batches,
    latest_value,
)


def test_latest_value_small_example():
    values = np.array([[5.0, 1.0, 7.0, -1.0, 9.0, 3.0]])
    marker = np.array([[False, True, False, True, False, False]])
    got = latest_value(values, marker)
    np.testing.assert_array_equal(got, [[0.0, 1.0, 1.0, -1.0, -1.0, -1.0]])


def test_latest_value_marker_at_first_step_and_none():
    values = np.array([[2.0, 0.5, 0.5], [4.0, 4.0, 4.0]])
    marker = np.array([[True, False, False], [False, False, False]])
    np.testing.assert_array_equal(latest_value(values, marker), [[2.0, 2.0, 2.0], [0, 0, 0]])


def test_shapes_dtypes_and_channels():
    b = flip_flop(8, 30, seed=3)
    assert b.x.shape == (8, 30, 2) and b.y.shape == (8, 30, 1) and b.marker.shape == (8, 30)
    assert b.x.dtype == np.float32 and b.y.dtype == np.float32 and b.marker.dtype == np.bool_
    np.testing.assert_array_equal(b.x[..., MARKER], b.marker.astype(np.float32))
    # at marker steps the value channel is exactly +-1
    assert set(np.unique(b.x[..., VALUE][b.marker])) <= {-1.0, 1.0}
    assert flip_flop(2, 5, seed=0, dtype=np.float64).x.dtype == np.float64


def test_target_is_most_recent_marked_value_by_loop():
    b = flip_flop(16, 50, seed=11, p_marker=0.15)
    for s in range(16):
        held = 0.0
        for t in range(50):
            if b.marker[s, t]:
                held = b.x[s, t, VALUE]
            assert b.y[s, t, 0] == held


def test_noise_level_and_marker_rate():
    b = flip_flop(200, 200, seed=5, p_marker=0.1, noise=0.5)
    rate = b.marker.mean()
    assert abs(rate - 0.1) < 0.01
    noise = b.x[..., VALUE][~b.marker]
    assert abs(noise.std() - 0.5) < 0.01 and abs(noise.mean()) < 0.01
    quiet = flip_flop(4, 20, seed=5, noise=0.0)
    assert np.abs(quiet.x[..., VALUE][~quiet.marker]).max() == 0.0


def test_seeding_reproducible_and_distinct():
    a, b, c = flip_flop(4, 20, seed=1), flip_flop(4, 20, seed=1), flip_flop(4, 20, seed=2)
    np.testing.assert_array_equal(a.x, b.x)
    assert not np.array_equal(a.x, c.x)


def test_batches_for_fit_are_torch_and_reproducible():
    g1, g2 = flip_flop_batches(4, 10, seed=7), flip_flop_batches(4, 10, seed=7)
    x1, y1 = g1(0)
    x2, y2 = g2(0)
    assert isinstance(x1, torch.Tensor) and x1.dtype == torch.float32
    assert x1.shape == (4, 10, 2) and y1.shape == (4, 10, 1)
    assert torch.equal(x1, x2) and torch.equal(y1, y2)
    x3, _ = g1(1)
    assert not torch.equal(x1, x3)  # every call draws a fresh batch


def test_event_means():
    vals = np.arange(6, dtype=float).reshape(1, 6)
    marker = np.array([[True, False, False, True, False, False]])
    at, elsewhere = event_means(vals, marker)
    assert at == pytest.approx(1.5) and elsewhere == pytest.approx(3.0)
    at3, else3 = event_means(np.stack([vals, 10 * vals], axis=-1), marker)
    np.testing.assert_allclose(at3, [1.5, 15.0])
    np.testing.assert_allclose(else3, [3.0, 30.0])


@pytest.mark.parametrize(
    "kwargs, exc",
    [
        (dict(batch_size=0, steps=5), ValueError),
        (dict(batch_size=2, steps=0), ValueError),
        (dict(batch_size=2.0, steps=5), TypeError),
        (dict(batch_size=2, steps=5, p_marker=0.0), ValueError),
        (dict(batch_size=2, steps=5, p_marker=1.5), ValueError),
        (dict(batch_size=2, steps=5, noise=-1.0), ValueError),
        (dict(batch_size=2, steps=5, noise=float("nan")), ValueError),
        (dict(batch_size=2, steps=5, seed=-1), ValueError),
        (dict(batch_size=2, steps=5, dtype=np.int64), TypeError),
    ],
)
def test_flip_flop_rejects_bad_arguments(kwargs, exc):
    with pytest.raises(exc):
        flip_flop(**kwargs)


def test_bad_arguments_to_helpers():
    with pytest.raises(ValueError, match="p_marker"):
        flip_flop_batches(2, 5, p_marker=2.0)
    with pytest.raises(TypeError, match="bool"):
        latest_value(np.zeros((1, 3)), np.zeros((1, 3)))
    with pytest.raises(ValueError, match="shape"):
        latest_value(np.zeros((1, 3)), np.zeros((1, 4), dtype=bool))
    with pytest.raises(ValueError, match="both"):
        event_means(np.zeros((1, 3)), np.zeros((1, 3), dtype=bool))
    with pytest.raises(ValueError, match=r"\(B, T\)"):
        event_means(np.zeros((2, 3)), np.zeros((1, 3), dtype=bool))
    with pytest.raises(ValueError, match="NaN"):
        event_means(np.array([[np.nan, 1.0]]), np.array([[True, False]]))
