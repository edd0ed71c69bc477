"""A noisy periodic series (a sine of a given period plus Gaussian noise, seeded) and the
least-squares linear forecast from a window, the reference a trained forecaster is held to."""

from __future__ import annotations

import numpy as np

from lstm_lib.checks import positive_int


def noisy_periodic(
    n: int,
    period: float,
    noise: float = 0.1,
    amplitude: float = 1.0,
    phase: float = 0.0,
    seed: int = 0,
) -> np.ndarray:
    """``x_t = amplitude * sin(2 pi t / period + phase) + noise * e_t``, ``e_t ~ N(0, 1)``.

    ``n``: number of steps (>= 1); ``period`` > 0 in steps; ``noise`` >= 0 (the standard
    deviation, so the best possible mean squared forecast error is ``noise**2``).
    Returns a float64 array of shape ``(n,)``; the same ``seed`` gives the same series.
    """
    n = positive_int("n", n)
    for name, value in (("period", period), ("noise", noise), ("amplitude", amplitude),
                        ("phase", phase)):
        if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
            raise TypeError(f"{name} must be a real number, got {type(value).__name__}")
        if not np.isfinite(value):
            raise ValueError(f"{name} must be finite, got {value}")
    if period <= 0:
        raise ValueError(f"period must be > 0, got {period}")
    if noise < 0:
        raise ValueError(f"noise must be >= 0, got {noise}")
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    return amplitude * np.sin(2 * np.pi * t / period + phase) + noise * rng.standard_normal(n)


def _windows_2d(name: str, X: np.ndarray) -> np.ndarray:
    X = np.asarray(X)
    if X.dtype.kind not in "biuf":
        raise TypeError(f"{name} must hold real numbers, got dtype {X.dtype}")
    if X.ndim == 3 and X.shape[2] == 1:
        X = X[..., 0]
    if X.ndim != 2 or X.shape[0] == 0 or X.shape[1] == 0:
        raise ValueError(
            f"{name} must have shape (nb_samples, k) or (nb_samples, k, 1), got {X.shape}"
        )
    if not np.isfinite(X).all():
        raise ValueError(f"{name} contains NaN or inf")
    return X.astype(np.float64)


def linear_forecast(X_train: np.ndarray, y_train: np.ndarray, X_test: np.ndarray) -> np.ndarray:
    """Least-squares autoregression AR(k) with an intercept: fit ``y ~ w . window + b`` on the
    training windows, return the forecasts for the test windows.

    ``X_train``: ``(n, k)`` or ``(n, k, 1)`` (as ``make_windows`` returns them); ``y_train``:
    ``(n,)``; ``X_test``: ``(m, k)`` or ``(m, k, 1)``. Returns float64 forecasts ``(m,)``.
    """
    A = _windows_2d("X_train", X_train)
    B = _windows_2d("X_test", X_test)
    y = np.asarray(y_train, dtype=np.float64)
    if y.shape != (A.shape[0],):
        raise ValueError(f"y_train must have shape ({A.shape[0]},), got {y.shape}")
    if B.shape[1] != A.shape[1]:
        raise ValueError(f"X_test must have k = {A.shape[1]} columns like X_train, got {B.shape}")
    ones = np.ones((A.shape[0], 1))
    w = np.linalg.lstsq(np.hstack([A, ones]), y, rcond=None)[0]
    return B @ w[:-1] + w[-1]


__all__ = ["linear_forecast", "noisy_periodic"]
