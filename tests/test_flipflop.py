"""Tests for lstm_lib.data.flipflop: the flip-flop stream and its pulse distances."""

from __future__ import annotations

import numpy as np
import pytest

from lstm_lib.data.flipflop import chunked_loss_floor, flip_flop_stream, steps_since_pulse


def test_target_is_sign_of_last_pulse_by_loop():
    x, y = flip_flop_stream(3000, p_pulse=0.05, seed=3)
    assert x.shape == (3000, 1) and y.shape == (3000,) and y.dtype == np.int64
    state = 0
    for t in range(3000):
        if x[t, 0] != 0:
            state = int(x[t, 0] > 0)
        assert y[t] == state


def test_episodes_start_from_zero_by_loop():
    x, y = flip_flop_stream(2000, p_pulse=0.05, seed=4, episode_len=70)
    gap = steps_since_pulse(x, episode_len=70)
    state = 0
    for t in range(2000):
        if t % 70 == 0:
            state = 0
        if x[t, 0] != 0:
            state = int(x[t, 0] > 0)
        assert y[t] == state
        assert gap[t] == -1 or (gap[t] <= t % 70 and x[t - gap[t], 0] != 0)
    x0, y0 = flip_flop_stream(2000, p_pulse=0.05, seed=4)
    np.testing.assert_array_equal(x, x0)  # the same pulses; only the targets differ
    assert not np.array_equal(y, y0)


def test_pulse_rate_signs_and_seed():
    x, _ = flip_flop_stream(100_000, p_pulse=0.02, seed=1)
    pulses = x[x != 0]
    assert set(np.unique(x).tolist()) == {-1.0, 0.0, 1.0}
    assert abs(len(pulses) / 100_000 - 0.02) < 0.002
    assert abs((pulses > 0).mean() - 0.5) < 0.05
    x2, _ = flip_flop_stream(100_000, p_pulse=0.02, seed=1)
    np.testing.assert_array_equal(x, x2)
    x3, _ = flip_flop_stream(100_000, p_pulse=0.02, seed=2)
    assert not np.array_equal(x, x3)


def test_steps_since_pulse():
    x = np.array([0, 0, 1, 0, 0, -1, 0], dtype=float)
    np.testing.assert_array_equal(steps_since_pulse(x), [-1, -1, 0, 1, 2, 0, 1])
    np.testing.assert_array_equal(steps_since_pulse(x[:, None]), [-1, -1, 0, 1, 2, 0, 1])


@pytest.mark.parametrize(
    ("kwargs", "exc"),
    [
        ({"length": 0}, ValueError),
        ({"length": 10, "p_pulse": 0.0}, ValueError),
        ({"length": 10, "p_pulse": 1.5}, ValueError),
        ({"length": 10, "seed": -1}, ValueError),
        ({"length": 2.5}, TypeError),
        ({"length": 10, "episode_len": 0}, ValueError),
    ],
)
def test_validation(kwargs, exc):
    with pytest.raises(exc):
        flip_flop_stream(**kwargs)
    with pytest.raises(ValueError, match="shape"):
        steps_since_pulse(np.zeros((3, 2)))


def test_chunked_loss_floor_by_hand():
    # one row, chunks of 2: steps 0,1 | 2,3. A pulse at step 1 informs step 1 only.
    y = np.array([[0, 1, 1, 0]])
    gap = np.array([[-1, 0, 1, 2]])
    # blind: position 0 -> steps 0 and 2 (y = 0, 1: q = 1/2); position 1 -> step 3 (y = 0)
    assert abs(chunked_loss_floor(y, gap, 2) - 2 * np.log(2) / 4) < 1e-15
    # chunks as long as the row: everything after the pulse is informed
    assert chunked_loss_floor(y, gap, 4) == 0.0
    with pytest.raises(ValueError, match="one shape"):
        chunked_loss_floor(y, gap[:, :3], 2)


def test_chunked_loss_floor_shrinks_with_longer_chunks():
    x, y = flip_flop_stream(20_000, p_pulse=0.05, seed=0, episode_len=200)
    gap = steps_since_pulse(x, episode_len=200)
    floors = [chunked_loss_floor(y.reshape(100, 200), gap.reshape(100, 200), t)
              for t in (5, 10, 40, 200)]
    assert all(a > b for a, b in zip(floors, floors[1:], strict=False))
    assert 0.3 < floors[0] < np.log(2)
