"""Tests for lstm_lib.data.recall: the recall-a-value regression task."""

from __future__ import annotations

import numpy as np
import pytest

from lstm_lib.data.recall import CHANCE_MSE, recall_batch, recall_batches


@pytest.mark.parametrize("position", [0, 3, 9])
def test_target_is_the_value_at_position(position: int) -> None:
    x, y = recall_batch(5, 10, position, np.random.default_rng(0))
    assert x.shape == (5, 10, 1) and y.shape == (5,)
    assert np.array_equal(y, x[:, position, 0])
    assert x.min() >= -1.0 and x.max() <= 1.0
    y[0] += 1.0
    assert y[0] != x[0, position, 0]  # the target is a copy, not a view


def test_dtype_and_chance_level() -> None:
    x, y = recall_batch(4000, 3, rng=np.random.default_rng(1), dtype=np.float32)
    assert x.dtype == np.float32 and y.dtype == np.float32
    assert np.mean(y.astype(np.float64) ** 2) == pytest.approx(CHANCE_MSE, abs=0.02)


def test_batches_are_reproducible_per_step() -> None:
    get = recall_batches(4, 6, position=1, seed=7)
    x0, y0 = get(0)
    x0b, _ = recall_batches(4, 6, position=1, seed=7)(0)
    x1, _ = get(1)
    assert np.array_equal(x0, x0b)
    assert not np.array_equal(x0, x1)
    assert not np.array_equal(x0, recall_batches(4, 6, position=1, seed=8)(0)[0])
    assert np.array_equal(y0, x0[:, 1, 0])


def test_bad_arguments() -> None:
    rng = np.random.default_rng(0)
    with pytest.raises(ValueError, match=r"position must be in \[0, length\)"):
        recall_batch(2, 5, 5, rng)
    with pytest.raises(ValueError, match="position"):
        recall_batch(2, 5, -1, rng)
    with pytest.raises(TypeError, match="position must be an int"):
        recall_batch(2, 5, 1.0, rng)
    with pytest.raises(ValueError, match="positive int"):
        recall_batch(0, 5, 0, rng)
    with pytest.raises(TypeError, match="Generator"):
        recall_batch(2, 5, 0, rng=42)
    with pytest.raises(TypeError, match="float32 or float64"):
        recall_batch(2, 5, 0, rng, dtype=np.int32)
    with pytest.raises(ValueError, match="position"):
        recall_batches(2, 5, position=7)
    with pytest.raises(ValueError, match="seed"):
        recall_batches(2, 5, seed=-1)
    with pytest.raises(ValueError, match="step"):
        recall_batches(2, 5)(-1)
