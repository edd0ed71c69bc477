"""Recall a value: a regression task whose answer lies a fixed number of steps back.

Every step of a sequence carries one number drawn uniformly from [-1, 1]. The target, read
after the last step, is the number that was seen at step ``position`` (0 = the first step).
Nothing in between helps: the answer must be carried across ``T - 1 - position`` steps, so the
gradient that teaches it has to travel back that far. A model that remembers nothing can do
no better than predicting 0, a mean squared error of Var(U[-1, 1]) = 1/3 (:data:`CHANCE_MSE`).

The exploding-gradient experiment of the vanishing-gradients chapter trains on it.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from lstm_lib import checks

CHANCE_MSE = 1.0 / 3.0  # mean squared error of always predicting 0 (the target's variance)


def recall_batch(batch_size: int, length: int, position: int = 0,
                 rng: np.random.Generator | None = None,
                 dtype: type | np.dtype = np.float64) -> tuple[np.ndarray, np.ndarray]:
    """Draw one batch of the recall task.

    Returns ``(x, y)``: ``x`` (batch_size, length, 1) uniform in [-1, 1]; ``y`` (batch_size,)
    with ``y[b] = x[b, position, 0]``. ``rng``: a NumPy Generator (a fresh unseeded one if
    None); ``dtype`` float32 or float64. ``position`` must lie in ``[0, length)``.
    """
    batch_size = checks.positive_int("batch_size", batch_size)
    length = checks.positive_int("length", length)
    if isinstance(position, bool) or not isinstance(position, (int, np.integer)):
        raise TypeError(f"position must be an int, got {type(position).__name__}")
    if not 0 <= position < length:
        raise ValueError(f"position must be in [0, length) = [0, {length}), got {position}")
    dt = checks.float_dtype(dtype)
    if rng is None:
        rng = np.random.default_rng()
    rng = checks.generator(rng, "rng", allow_seed=False)
    x = rng.uniform(-1.0, 1.0, size=(batch_size, length, 1)).astype(dt)
    return x, x[:, position, 0].copy()


def recall_batches(batch_size: int, length: int, position: int = 0, seed: int = 0,
                   dtype: type | np.dtype = np.float64
                   ) -> Callable[[int], tuple[np.ndarray, np.ndarray]]:
    """A ``get_batch(step)`` for ``lstm_lib.training.loop.fit``: step ``s`` always gives the same
    batch.

    Batch ``s`` is :func:`recall_batch` drawn from ``np.random.default_rng([seed, s])``, so
    two runs (say, with and without clipping) see exactly the same data in the same order.
    Returns a function ``step -> (x (B, T, 1), y (B,))``.
    """
    checks.positive_int("batch_size", batch_size)
    checks.positive_int("length", length)
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed must be a non-negative int, got {seed!r}")
    recall_batch(1, length, position, np.random.default_rng(0), dtype)  # validate early

    def get_batch(step: int) -> tuple[np.ndarray, np.ndarray]:
        if isinstance(step, bool) or not isinstance(step, (int, np.integer)) or step < 0:
            raise ValueError(f"step must be a non-negative int, got {step!r}")
        return recall_batch(batch_size, length, position,
                            np.random.default_rng([int(seed), int(step)]), dtype)

    return get_batch


__all__ = ["CHANCE_MSE", "recall_batch", "recall_batches"]
