"""Forecasting baselines: what an LSTM forecaster is measured against. The naive forecast
(the last value seen), the seasonal-naive forecast (the last value at the same phase of the
season), and ARIMA / SARIMAX from statsmodels, fitted on the training data with orders chosen
by AIC, forecasting from each origin with Gaussian prediction intervals.

Origins and horizons follow the conventions of ``lstm_lib.data.origins``: each forecast
function takes the series and a 1-D int array of origins and returns ``(n_origins, H)``, the
forecast from origin ``o`` using ``series[:o]`` alone. The LSTM forecasters and their scores
are ``lstm_lib.models.forecast``. statsmodels is imported inside the functions that need it.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from lstm_lib import checks
from lstm_lib.checks import positive_int
from lstm_lib.data.origins import check_origins

# --------------------------------------------------------------------------- naive


def naive_forecast(series: np.ndarray, origins: Any, horizon: int) -> np.ndarray:
    """The last value seen, ``series[o - 1]``, at every horizon: ``(n_origins, horizon)``."""
    v = checks.series("series", series, allow_nan=True)
    horizon = positive_int("horizon", horizon)
    o = check_origins(origins, len(v), 0, need=1)
    return np.repeat(v[o - 1][:, None], horizon, axis=1)


def seasonal_naive_forecast(series: np.ndarray, origins: Any, horizon: int,
                            period: int) -> np.ndarray:
    """The last value seen at the same phase of the season: the forecast of
    ``series[o + h - 1]`` is ``series[o + h - 1 - period * ceil(h / period)]``."""
    v = checks.series("series", series, allow_nan=True)
    horizon = positive_int("horizon", horizon)
    period = positive_int("period", period)
    o = check_origins(origins, len(v), 0, need=period)
    h = np.arange(1, horizon + 1)
    back = period * ((h - 1) // period + 1)
    return v[o[:, None] + h[None, :] - 1 - back[None, :]]


# --------------------------------------------------------------------------- ARIMA


@dataclass
class ArimaFit:
    """One candidate fitted by ``select_arima``: its orders, AIC, whether the optimiser
    converged, the warnings statsmodels raised while fitting (as text), and the results."""

    order: tuple[int, int, int]
    seasonal_order: tuple[int, int, int, int]
    trend: str | None
    aic: float
    converged: bool
    warnings: tuple[str, ...]
    result: Any

    @property
    def name(self) -> str:
        s = self.seasonal_order
        seasonal = f"({s[0]},{s[1]},{s[2]})_{s[3]}" if s[3] else ""
        return f"ARIMA({self.order[0]},{self.order[1]},{self.order[2]}){seasonal}"


@dataclass
class ArimaSelection:
    """``best``: the converged candidate of least AIC; ``table``: every candidate, in the
    order given."""

    best: ArimaFit
    table: list[ArimaFit]


def fit_arima(train: np.ndarray, order: Sequence[int],
              seasonal_order: Sequence[int] = (0, 0, 0, 0), trend: str | None = None,
              maxiter: int = 200) -> ArimaFit:
    """Fit ``statsmodels`` SARIMAX by maximum likelihood on ``train`` ``(N,)`` (NaN are
    skipped by the Kalman filter) and return an ArimaFit.

    The warnings statsmodels emits while fitting are caught and kept, as text, in
    ``ArimaFit.warnings`` rather than printed; ``converged`` is the optimiser's own flag.
    """
    from statsmodels.tsa.statespace.sarimax import SARIMAX

    v = checks.series("train", train, allow_nan=True)
    order = tuple(int(k) for k in order)
    seasonal_order = tuple(int(k) for k in seasonal_order)
    if len(order) != 3 or len(seasonal_order) != 4 or min(order + seasonal_order) < 0:
        raise ValueError(f"order must be (p, d, q) and seasonal_order (P, D, Q, s), all >= 0, "
                         f"got {order} and {seasonal_order}")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model = SARIMAX(v, order=order, seasonal_order=seasonal_order, trend=trend)
        res = model.fit(disp=False, maxiter=maxiter)
    converged = bool(res.mle_retvals.get("converged", False))
    texts = tuple(f"{w.category.__name__}: {w.message}" for w in caught)
    return ArimaFit(order, seasonal_order, trend, float(res.aic), converged, texts, res)


def select_arima(train: np.ndarray, orders: Sequence[Sequence[int]],
                 seasonal_orders: Sequence[Sequence[int]] = ((0, 0, 0, 0),),
                 trend: str | None = None) -> ArimaSelection:
    """Fit every combination of ``orders`` and ``seasonal_orders`` on ``train`` alone
    (``fit_arima``) and keep the one of least AIC among those that converged without a
    warning. ValueError if none did."""
    table = [fit_arima(train, o, s, trend) for o in orders for s in seasonal_orders]
    ok = [f for f in table if f.converged and not f.warnings]
    if not ok:
        raise ValueError("no candidate converged without a warning: " +
                         "; ".join(f"{f.name}: {f.warnings}" for f in table))
    return ArimaSelection(min(ok, key=lambda f: f.aic), table)


@dataclass
class IntervalForecast:
    """Forecasts with prediction intervals, each ``(n_origins, H)``: the mean, and the
    lower and upper bounds of the central ``1 - alpha`` interval."""

    mean: np.ndarray
    lower: np.ndarray
    upper: np.ndarray
    alpha: float


def arima_forecast(fitted: ArimaFit, series: np.ndarray, origins: Any, horizon: int,
                   alpha: float = 0.05) -> IntervalForecast:
    """``horizon``-step forecasts from each origin with the parameters estimated on the
    training data (not refitted): the Kalman filter runs over ``series`` (training values
    first, NaN skipped), and the forecast from origin ``o`` uses ``series[:o]`` alone
    (statsmodels' ``get_prediction(start=o, dynamic=0)``). Intervals are the model's
    Gaussian ``1 - alpha`` intervals."""
    if not isinstance(fitted, ArimaFit):
        raise TypeError(f"fitted must be an ArimaFit, got {type(fitted).__name__}")
    v = checks.series("series", series, allow_nan=True)
    horizon = positive_int("horizon", horizon)
    if not 0 < alpha < 1:
        raise ValueError(f"alpha must lie in (0, 1), got {alpha}")
    o = check_origins(origins, len(v), horizon, need=1)
    res = fitted.result.apply(v)
    mean = np.empty((len(o), horizon))
    lower, upper = np.empty_like(mean), np.empty_like(mean)
    for i, start in enumerate(o):
        pred = res.get_prediction(start=int(start), end=int(start) + horizon - 1, dynamic=0)
        ci = np.asarray(pred.conf_int(alpha=alpha))
        mean[i] = np.asarray(pred.predicted_mean)
        lower[i], upper[i] = ci[:, 0], ci[:, 1]
    return IntervalForecast(mean, lower, upper, alpha)


__all__ = [
    "ArimaFit", "ArimaSelection", "IntervalForecast", "arima_forecast", "fit_arima",
    "naive_forecast", "seasonal_naive_forecast", "select_arima",
]
