"""Forecast origins: the conventions every forecast function in ``lstm_lib`` follows, and the
check of its origins against a series.

Conventions. A forecast *origin* ``o`` is the index of the first value forecast: the
forecaster may use ``series[:o]`` and nothing after it, and forecasts ``series[o : o + H]``
for horizons ``h = 1 .. H``. Every forecast function takes the series and a 1-D int array
of origins and returns an array ``(n_origins, H)`` whose column ``h - 1`` is the forecast
``h`` steps ahead. The LSTM forecasters (``lstm_lib.models.forecast``, whose
``truth_paths`` returns the values the forecasts are scored against) and the baselines
(``lstm_lib.baselines.forecast``) share them.
"""

from __future__ import annotations

from typing import Any

import numpy as np


def check_origins(origins: Any, n: int, horizon: int, need: int = 0) -> np.ndarray:
    """Check origins against a series of length n: need <= o and o + horizon <= n."""
    o = np.asarray(origins)
    if o.dtype.kind not in "iu":
        raise TypeError(f"origins must be integers, got dtype {o.dtype}")
    if o.ndim != 1 or o.shape[0] == 0:
        raise ValueError(f"origins must have shape (n_origins,) with n_origins >= 1, "
                         f"got {o.shape}")
    if o.min() < need:
        raise ValueError(f"every origin needs {need} values before it, got origin {o.min()}")
    if o.max() + horizon > n:
        raise ValueError(f"origin {o.max()} + horizon {horizon} runs past the end of the "
                         f"series (N={n})")
    return o.astype(np.int64)


__all__ = ["check_origins"]
