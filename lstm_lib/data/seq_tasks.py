"""Toy sequence tasks, one for each input/output architecture.

Every generator takes the number of examples ``n`` and a NumPy ``Generator`` and returns
NumPy arrays ``(x, y)``: inputs as float32, class targets as int64 and regression targets as
float32. Inputs are batch-first, ``(n, T, features)`` for sequences.

=================  ========================  ==========================================
architecture       task                      shapes
=================  ========================  ==========================================
one-to-one         :func:`blobs`             x ``(n, dim)`` -> y ``(n,)`` class
one-to-many        :func:`counting`          x ``(n, digits + max_step)`` -> y ``(n, T)``
many-to-one        :func:`digit_sum`         x ``(n, T, 1)`` -> y ``(n,)`` float sum
many-to-many       :func:`running_max`       x ``(n, T, digits)`` -> y ``(n, T)``
encoder-decoder    :func:`smallest_sorted`   x ``(n, T_in, digits)`` -> y ``(n, T_out)``
encoder-decoder    :func:`reverse_digits`    x ``(n, T, digits)`` -> y ``(n, T)``
=================  ========================  ==========================================
"""

from __future__ import annotations

import numpy as np

from lstm_lib import checks
from lstm_lib.data.encoding import one_hot

__all__ = [
    "one_hot",
    "blobs",
    "counting",
    "digit_sum",
    "running_max",
    "reverse_digits",
    "smallest_sorted",
]


def blobs(
    n: int, rng: np.random.Generator, num_classes: int = 3, dim: int = 2, spread: float = 0.5
) -> tuple[np.ndarray, np.ndarray]:
    """One-to-one: points around ``num_classes`` centres on the unit circle (first 2 dims).

    Returns ``x`` float32 ``(n, dim)`` and the class of each point ``y`` int64 ``(n,)``.
    Centre ``k`` is at angle ``2 pi k / num_classes``; every coordinate gets Gaussian noise of
    standard deviation ``spread``. There is no time axis: a ``Dense`` layer is enough.
    """
    n = checks.positive_int("n", n)
    rng = checks.generator(rng, "rng", allow_seed=False)
    num_classes = checks.positive_int("num_classes", num_classes)
    dim = checks.positive_int("dim", dim)
    if dim < 2:
        raise ValueError(f"dim must be at least 2, got {dim}")
    if not np.isfinite(spread) or spread <= 0:
        raise ValueError(f"spread must be positive and finite, got {spread}")
    y = rng.integers(0, num_classes, size=n)
    angle = 2 * np.pi * y / num_classes
    centres = np.zeros((n, dim))
    centres[:, 0], centres[:, 1] = np.cos(angle), np.sin(angle)
    x = centres + spread * rng.standard_normal((n, dim))
    return x.astype(np.float32), y.astype(np.int64)


def counting(
    n: int, rng: np.random.Generator, length: int = 8, num_digits: int = 10, max_step: int = 3
) -> tuple[np.ndarray, np.ndarray]:
    """One-to-many: from one vector (a start digit and a step), count on for ``length`` steps.

    ``x`` float32 ``(n, num_digits + max_step)`` is the one-hot start digit ``d`` followed by
    the one-hot step ``s`` in ``1..max_step``; ``y`` int64 ``(n, length)`` with
    ``y[:, t] = (d + t * s) mod num_digits`` (``y[:, 0] = d``).
    """
    n = checks.positive_int("n", n)
    rng = checks.generator(rng, "rng", allow_seed=False)
    length = checks.positive_int("length", length)
    num_digits = checks.positive_int("num_digits", num_digits)
    max_step = checks.positive_int("max_step", max_step)
    start = rng.integers(0, num_digits, size=n)
    step = rng.integers(1, max_step + 1, size=n)
    y = (start[:, None] + np.arange(length)[None, :] * step[:, None]) % num_digits
    x = np.concatenate([one_hot(start, num_digits), one_hot(step - 1, max_step)], axis=1)
    return x, y.astype(np.int64)


def digit_sum(
    n: int, rng: np.random.Generator, length: int = 5, num_digits: int = 10
) -> tuple[np.ndarray, np.ndarray]:
    """Many-to-one: read ``length`` digits, one per step, and give their sum.

    ``x`` float32 ``(n, length, 1)`` holds the digits ``0..num_digits-1`` as numbers;
    ``y`` float32 ``(n,)`` is their sum (an integer in ``0..length*(num_digits-1)``).
    """
    n = checks.positive_int("n", n)
    rng = checks.generator(rng, "rng", allow_seed=False)
    length = checks.positive_int("length", length)
    num_digits = checks.positive_int("num_digits", num_digits)
    digits = rng.integers(0, num_digits, size=(n, length))
    return digits[..., None].astype(np.float32), digits.sum(axis=1).astype(np.float32)


def running_max(
    n: int, rng: np.random.Generator, length: int = 8, num_digits: int = 10
) -> tuple[np.ndarray, np.ndarray]:
    """Many-to-many, aligned: tag every step with the largest digit seen so far.

    ``x`` float32 ``(n, length, num_digits)`` one-hot digits; ``y`` int64 ``(n, length)`` with
    ``y[:, t] = max(digits[:, :t + 1])``.
    """
    n = checks.positive_int("n", n)
    rng = checks.generator(rng, "rng", allow_seed=False)
    length = checks.positive_int("length", length)
    num_digits = checks.positive_int("num_digits", num_digits)
    digits = rng.integers(0, num_digits, size=(n, length))
    return one_hot(digits, num_digits), np.maximum.accumulate(digits, axis=1).astype(np.int64)


def reverse_digits(
    n: int, rng: np.random.Generator, length: int = 5, num_digits: int = 10
) -> tuple[np.ndarray, np.ndarray]:
    """Encoder-decoder: read ``length`` digits and write them back in reverse order.

    ``x`` float32 ``(n, length, num_digits)`` one-hot digits; ``y`` int64 ``(n, length)``
    with ``y[:, t] = digits[:, length - 1 - t]``.
    """
    n = checks.positive_int("n", n)
    rng = checks.generator(rng, "rng", allow_seed=False)
    length = checks.positive_int("length", length)
    num_digits = checks.positive_int("num_digits", num_digits)
    digits = rng.integers(0, num_digits, size=(n, length))
    return one_hot(digits, num_digits), digits[:, ::-1].astype(np.int64)


def smallest_sorted(
    n: int,
    rng: np.random.Generator,
    in_length: int = 6,
    out_length: int = 3,
    num_digits: int = 10,
) -> tuple[np.ndarray, np.ndarray]:
    """Encoder-decoder with different lengths: the ``out_length`` smallest digits, ascending.

    ``x`` float32 ``(n, in_length, num_digits)`` one-hot digits; ``y`` int64
    ``(n, out_length)`` the sorted input truncated to its first ``out_length`` entries
    (repeated digits are kept). Needs ``out_length <= in_length``.
    """
    n = checks.positive_int("n", n)
    rng = checks.generator(rng, "rng", allow_seed=False)
    in_length = checks.positive_int("in_length", in_length)
    out_length = checks.positive_int("out_length", out_length)
    num_digits = checks.positive_int("num_digits", num_digits)
    if out_length > in_length:
        raise ValueError(
            f"out_length must be at most in_length ({in_length}), got {out_length}"
        )
    digits = rng.integers(0, num_digits, size=(n, in_length))
    y = np.sort(digits, axis=1)[:, :out_length]
    return one_hot(digits, num_digits), y.astype(np.int64)
