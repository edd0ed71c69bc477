"""The adding problem of Hochreiter & Schmidhuber (1997), Experiment 4.

Every step of a sequence carries a pair: a value drawn uniformly from [-1, 1] and a marker in
{-1, 0, 1}. Exactly two steps are marked with 1. The target, read at the last step only, is a
function of the two marked values X1 and X2:

- ``target="paper"`` (default): 0.5 + (X1 + X2) / 4, the paper's sum scaled into [0, 1];
  a sequence counts as solved when the absolute error is below 0.04 (``SOLVED_TOL``).
- ``target="sum"``: X1 + X2 of the same values in [-1, 1], so a target in [-2, 2]. Later
  papers often ask for X1 + X2 of values drawn from [0, 1] (e.g. Le et al., 2015); this
  function does not draw those.

Marked positions almost follow the paper's scheme: the first marked step (value X1) is one
of the first ten steps, the second (value X2) one of the first T/2 - 1 steps other than the
first mark, each uniformly. That gives T/2 - 2 candidates for the second mark, one fewer than
the paper's "first T/2 - 1 still unmarked positions". The first and the last step carry the
marker -1 unless marked; if the very first step is marked, its value is set to 0 ("we set X1
to zero"). A second simplification: every sequence has exactly length T, where the paper
draws lengths between T and T + T/10.
"""

from __future__ import annotations

from typing import Literal

import numpy as np

from lstm_lib import checks

SOLVED_TOL = 0.04
"""A sequence counts as solved when |prediction - target| < SOLVED_TOL (the paper's 0.04)."""

MIN_LENGTH = 6
"""The shortest T the marking scheme allows (T/2 - 1 must leave room for two marks)."""

Target = Literal["paper", "sum"]


def _first_window(T: int) -> int:
    """How many leading steps may hold the first mark: min(10, T//2 - 1)."""
    return min(10, T // 2 - 1)


def _check_length(T: int) -> int:
    T = checks.positive_int("T", T)
    if T < MIN_LENGTH:
        raise ValueError(f"T must be at least {MIN_LENGTH} for two marks in the first half, "
                         f"got {T}")
    return T


def adding_problem(
    n: int,
    T: int,
    seed: int | np.random.Generator = 0,
    *,
    target: Target = "paper",
    dtype: type | np.dtype = np.float64,
) -> tuple[np.ndarray, np.ndarray]:
    """Draw ``n`` sequences of the adding problem of length ``T``.

    Args:
        n: number of sequences, >= 1.
        T: sequence length, >= 6 (the paper uses 100, 500 and 1000).
        seed: an int seed or a ``numpy.random.Generator`` (advanced in place, so successive
            calls give fresh batches).
        target: ``"paper"`` for 0.5 + (X1 + X2)/4, ``"sum"`` for X1 + X2.
        dtype: float32 or float64.

    Returns:
        ``x`` of shape (n, T, 2): ``x[..., 0]`` the values, ``x[..., 1]`` the markers;
        ``y`` of shape (n, 1): the target of each sequence.
    """
    n = checks.positive_int("n", n)
    T = _check_length(T)
    dt = checks.float_dtype(dtype)
    if target not in ("paper", "sum"):
        raise ValueError(f"target must be 'paper' or 'sum', got {target!r}")
    rng = checks.generator(seed)

    values = rng.uniform(-1.0, 1.0, size=(n, T))
    p1 = rng.integers(0, _first_window(T), size=n)
    # One of the first T/2 - 1 steps other than p1, uniformly: draw from one fewer and skip p1.
    q = rng.integers(0, T // 2 - 2, size=n)
    p2 = q + (q >= p1)
    rows = np.arange(n)
    values[(p1 == 0) | (p2 == 0), 0] = 0.0   # "the first pair marked: X1 set to zero"
    markers = np.zeros((n, T))
    markers[:, 0] = -1.0
    markers[:, -1] = -1.0
    markers[rows, p1] = 1.0
    markers[rows, p2] = 1.0
    s = values[rows, p1] + values[rows, p2]
    y = 0.5 + s / 4.0 if target == "paper" else s
    x = np.stack([values, markers], axis=-1)
    return x.astype(dt), y[:, None].astype(dt)


def solved_fraction(pred: np.ndarray, y: np.ndarray, tol: float = SOLVED_TOL) -> float:
    """Fraction of sequences with |pred - y| < tol; ``pred`` and ``y`` of shape (n, 1)."""
    pred = np.asarray(pred, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    if pred.shape != y.shape or pred.ndim != 2 or pred.shape[1] != 1:
        raise ValueError(f"pred and y must both have shape (n, 1), got {pred.shape} and {y.shape}")
    if not tol > 0:
        raise ValueError(f"tol must be positive, got {tol}")
    return float(np.mean(np.abs(pred - y) < tol))


def baseline(T: int, tol: float = SOLVED_TOL) -> dict[str, float]:
    """What always predicting the mean target 0.5 scores on the paper's target, exactly.

    X1 + X2 of two independent U(-1, 1) values has the triangular density (2 - |s|)/4 on
    [-2, 2]; when the first step is marked (probability 1/k + (1 - 1/k)/(m - 1) with
    k = min(10, T//2 - 1), m = T//2 - 1), its value is 0 and the sum is a single U(-1, 1).
    The error of the constant 0.5 is |X1 + X2| / 4.

    Returns:
        ``{"mse": E[err^2], "mae": E|err|, "solved": P(|err| < tol)}``.
    """
    T = _check_length(T)
    if not 0 < tol < 0.5:
        raise ValueError(f"tol must lie in (0, 0.5), got {tol}")
    k, m = _first_window(T), T // 2 - 1
    p0 = 1.0 / k + (1.0 - 1.0 / k) / (m - 1)
    a = 4.0 * tol  # |X1 + X2| < a
    two = {"mse": (2.0 / 3.0) / 16.0, "mae": (2.0 / 3.0) / 4.0, "solved": a - a * a / 4.0}
    one = {"mse": (1.0 / 3.0) / 16.0, "mae": 0.5 / 4.0, "solved": min(a, 1.0)}
    return {name: (1.0 - p0) * two[name] + p0 * one[name] for name in two}
