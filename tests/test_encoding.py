"""lstm_lib.data.encoding.one_hot: the one one-hot coder of the data modules."""

from __future__ import annotations

import numpy as np
import pytest

from lstm_lib.data.encoding import one_hot


def test_one_hot_puts_a_single_one_at_each_id():
    ids = np.array([[0, 2], [1, 1]])
    out = one_hot(ids, 3)
    assert out.shape == (2, 2, 3) and out.dtype == np.float32
    expected = np.zeros((2, 2, 3), dtype=np.float32)
    for b in range(2):
        for t in range(2):
            expected[b, t, ids[b, t]] = 1.0
    np.testing.assert_array_equal(out, expected)
    np.testing.assert_array_equal(one_hot(np.array([[2, 0]], dtype=np.uint8), 3),
                                  [[[0, 0, 1], [1, 0, 0]]])


def test_one_hot_any_shape_and_dtype():
    assert one_hot(np.array(1), 4).tolist() == [0, 1, 0, 0]
    assert one_hot([3, 0], 4, dtype=np.float64).dtype == np.float64
    assert one_hot(np.zeros((2, 0), dtype=np.int64), 5).shape == (2, 0, 5)


@pytest.mark.parametrize(
    ("ids", "depth", "err", "match"),
    [
        (np.array([3]), 3, ValueError, r"lie in \[0, 3\)"),
        (np.array([-1]), 3, ValueError, r"lie in \[0, 3\)"),
        (np.array([0.5]), 3, TypeError, "integers"),
        (np.array([], dtype=np.float64), 3, TypeError, "integers"),
        (np.array([0]), 0, ValueError, "positive"),
    ],
)
def test_one_hot_rejects_bad_input(ids, depth, err, match):
    with pytest.raises(err, match=match):
        one_hot(ids, depth)
