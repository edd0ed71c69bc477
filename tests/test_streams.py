"""Tests for lstm_lib.data.streams: the stateful batch layout and its inverse."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lstm_lib.data.streams import (
    continuity,
    join_batches,
    row_length,
    stateful_batches,
    stateful_positions,
)


def test_small_example_by_hand():
    batches = stateful_batches(np.arange(12), batch_size=2, chunk_len=3)
    assert [b.tolist() for b in batches] == [[[0, 1, 2], [6, 7, 8]], [[3, 4, 5], [9, 10, 11]]]


@settings(max_examples=200, deadline=None)
@given(
    n=st.integers(1, 400),
    b=st.integers(1, 12),
    t=st.integers(1, 30),
    remainder=st.sampled_from(["drop", "short"]),
)
def test_rows_across_batches_are_contiguous_slices(n, b, t, remainder):
    """Concatenating row i over all batches gives back stream[i*L:(i+1)*L]."""
    stream = np.arange(n) * 10 + 7  # values differ from positions
    try:
        rows = row_length(n, b, t, remainder)
    except ValueError:
        assert (remainder == "short" and n < b) or (remainder == "drop" and n < b * t)
        return
    batches = stateful_batches(stream, b, t, remainder)
    assert all(x.shape[0] == b for x in batches)  # fixed batch size, always
    assert all(x.shape[1] == t for x in batches[:-1])
    joined = join_batches(batches)
    assert joined.shape == (b, rows)
    for i in range(b):
        np.testing.assert_array_equal(joined[i], stream[i * rows : (i + 1) * rows])
    dropped = n - b * rows
    assert 0 <= dropped < (b * t if remainder == "drop" else b)
    if remainder == "drop":
        assert rows % t == 0
    if len(batches) >= 2:
        assert continuity(stateful_positions(n, b, t, remainder)) == 1.0


def test_features_and_targets_stay_aligned():
    x = np.random.default_rng(0).normal(size=(100, 3))
    y = np.arange(100)
    xb = stateful_batches(x, 4, 5)
    yb = stateful_batches(y, 4, 5)
    assert xb[0].shape == (4, 5, 3) and len(xb) == len(yb) == 5
    for xk, yk in zip(xb, yb, strict=True):
        np.testing.assert_array_equal(xk, x[yk])


def test_remainder_rules():
    # 23 positions, 2 rows, chunks of 5
    assert row_length(23, 2, 5, "drop") == 10  # drops 3
    assert row_length(23, 2, 5, "short") == 11  # drops 1; last batch (2, 1)
    assert [p.shape for p in stateful_positions(23, 2, 5, "short")] == [(2, 5), (2, 5), (2, 1)]
    with pytest.raises(ValueError, match="multiple of batch_size"):
        row_length(23, 2, 5, "error")
    assert row_length(20, 2, 5, "error") == 10


def test_shuffled_rows_break_continuity():
    pos = stateful_positions(1000, 10, 10)
    rng = np.random.default_rng(0)
    shuffled = [p[rng.permutation(10)] for p in pos]
    assert continuity(shuffled) < 0.3
    naive = list(np.arange(1000).reshape(10, 10, 10))  # consecutive chunks batched in order
    assert continuity(naive) == 0.0


@pytest.mark.parametrize(
    ("args", "exc", "match"),
    [
        ((0, 2, 3), ValueError, "length"),
        ((10, 0, 3), ValueError, "batch_size"),
        ((10, 2, -1), ValueError, "chunk_len"),
        ((10, 2.0, 3), TypeError, "batch_size"),
        ((5, 2, 3), ValueError, "shorter than one batch"),
    ],
)
def test_validation(args, exc, match):
    with pytest.raises(exc, match=match):
        row_length(*args)


def test_validation_of_inputs():
    with pytest.raises(ValueError, match="remainder"):
        row_length(10, 2, 3, "pad")
    with pytest.raises(TypeError, match="NumPy array"):
        stateful_batches([1, 2, 3], 1, 1)
    with pytest.raises(ValueError, match="0-d"):
        stateful_batches(np.array(3), 1, 1)
    with pytest.raises(ValueError, match="at least one batch"):
        join_batches([])
    with pytest.raises(ValueError, match="batch 1"):
        join_batches([np.zeros((2, 3)), np.zeros((3, 3))])
    with pytest.raises(ValueError, match="at least 2 batches"):
        continuity([np.zeros((2, 3), dtype=int)])
    with pytest.raises(ValueError, match="one B"):
        continuity([np.zeros((2, 3), dtype=int), np.zeros((3, 3), dtype=int)])
