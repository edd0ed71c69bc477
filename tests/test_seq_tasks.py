"""Tests for lstm_lib.data.seq_tasks: shapes, dtypes, the targets' definitions, validation."""

import numpy as np
import pytest

from lstm_lib.data import encoding
from lstm_lib.data import seq_tasks as st


def rng(seed=0):
    return np.random.default_rng(seed)


def test_one_hot_is_the_shared_one():
    assert st.one_hot is encoding.one_hot

def test_blobs_shapes_and_separable():
    x, y = st.blobs(600, rng(), num_classes=3, dim=4, spread=0.1)
    assert x.shape == (600, 4) and x.dtype == np.float32
    assert y.shape == (600,) and y.dtype == np.int64
    assert set(np.unique(y)) == {0, 1, 2}
    # with little noise, the nearest centre is the class
    angles = 2 * np.pi * np.arange(3) / 3
    centres = np.stack([np.cos(angles), np.sin(angles)], axis=1)
    nearest = ((x[:, None, :2] - centres[None]) ** 2).sum(-1).argmin(1)
    assert (nearest == y).mean() > 0.99


def test_counting_definition():
    x, y = st.counting(50, rng(), length=7, num_digits=10, max_step=3)
    assert x.shape == (50, 13) and y.shape == (50, 7)
    start = x[:, :10].argmax(1)
    step = x[:, 10:].argmax(1) + 1
    np.testing.assert_array_equal(y[:, 0], start)
    np.testing.assert_array_equal((y[:, 1:] - y[:, :-1]) % 10, np.repeat(step[:, None], 6, 1))
    np.testing.assert_array_equal(x.sum(1), np.full(50, 2.0))


def test_digit_sum_definition():
    x, y = st.digit_sum(40, rng(), length=6, num_digits=5)
    assert x.shape == (40, 6, 1) and x.dtype == np.float32 and y.dtype == np.float32
    assert x.min() >= 0 and x.max() <= 4
    np.testing.assert_array_equal(y, x[..., 0].sum(1))


def test_running_max_definition():
    x, y = st.running_max(30, rng(), length=9)
    digits = x.argmax(-1)
    assert y.shape == (30, 9)
    for t in range(9):
        np.testing.assert_array_equal(y[:, t], digits[:, : t + 1].max(1))
    assert (np.diff(y, axis=1) >= 0).all()


def test_reverse_digits_definition():
    x, y = st.reverse_digits(20, rng(), length=4)
    np.testing.assert_array_equal(y, x.argmax(-1)[:, ::-1])
    assert y.dtype == np.int64 and x.shape == (20, 4, 10)


def test_smallest_sorted_definition():
    x, y = st.smallest_sorted(25, rng(), in_length=6, out_length=3)
    assert x.shape == (25, 6, 10) and y.shape == (25, 3)
    digits = x.argmax(-1)
    for row_d, row_y in zip(digits, y, strict=True):
        np.testing.assert_array_equal(row_y, sorted(row_d)[:3])
    with pytest.raises(ValueError, match="at most in_length"):
        st.smallest_sorted(2, rng(), in_length=3, out_length=4)


def test_seeded_generators_are_reproducible():
    a = st.running_max(5, rng(7))
    b = st.running_max(5, rng(7))
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_array_equal(a[1], b[1])


@pytest.mark.parametrize(
    "fn", [st.blobs, st.counting, st.digit_sum, st.running_max, st.reverse_digits,
           st.smallest_sorted]
)
def test_validation(fn):
    with pytest.raises(ValueError, match="positive"):
        fn(0, rng())
    with pytest.raises(TypeError, match="int"):
        fn(2.5, rng())
    with pytest.raises(TypeError, match="Generator"):
        fn(3, 0)
