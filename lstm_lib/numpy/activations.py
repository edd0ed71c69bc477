"""Activation functions for the NumPy implementation.

The logistic sigmoid is computed as sigma(x) = (1 + tanh(x / 2)) / 2. This identity is
exact in real arithmetic, and the form is stable: tanh saturates to +-1 instead of
overflowing, so sigmoid(+-1e4) is exactly 1 or 0 with no warning, where 1 / (1 + exp(-x))
overflows exp for large negative x.
"""

from __future__ import annotations

from typing import Any

import numpy as np


def sigmoid_(z: np.ndarray) -> np.ndarray:
    """In-place sigmoid of a float array ``z`` (any shape); returns ``z``. No input checks."""
    z *= 0.5
    np.tanh(z, out=z)
    z *= 0.5
    z += 0.5
    return z


def sigmoid(x: Any) -> np.ndarray:
    """Logistic sigmoid 1 / (1 + exp(-x)), elementwise, finite and warning-free for any x.

    ``x``: a float array (any shape) or a Python float. Returns a new array, same shape
    and dtype (float64 for a Python float).
    """
    if isinstance(x, (float, int)) and not isinstance(x, bool):
        x = np.asarray(x, dtype=np.float64)
    if not isinstance(x, np.ndarray):
        raise TypeError(f"sigmoid expects a NumPy float array or a float, got {type(x).__name__}")
    if x.dtype.kind != "f":
        raise TypeError(f"sigmoid expects a floating dtype, got {x.dtype}")
    if np.isnan(x).any():
        raise ValueError("sigmoid input contains NaN")
    return sigmoid_(np.array(x, copy=True))


def dsigmoid(s: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """Derivative of the sigmoid written through its output ``s = sigmoid(x)``: s (1 - s).
    ``out``: optional array of s's shape to write into."""
    out = np.subtract(1.0, s, out=out)
    out *= s
    return out


def dtanh(t: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """Derivative of tanh written through its output ``t = tanh(x)``: 1 - t^2.
    ``out``: optional array of t's shape to write into."""
    out = np.multiply(t, t, out=out)
    np.subtract(1.0, out, out=out)
    return out


__all__ = ["sigmoid", "sigmoid_", "dsigmoid", "dtanh"]
