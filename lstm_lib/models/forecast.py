"""Forecasting a real series without leaks: scaling fitted on training data, an LSTM on
windows (one output, fed back for multi-step forecasts, or one output per horizon), the
error at each horizon, the verdict between two errors, and the forecast paths drawn. The
baselines it is measured against (naive, seasonal naive, ARIMA) are
``lstm_lib.baselines.forecast``.

Origins and horizons follow the conventions of ``lstm_lib.data.origins`` (the forecast from
origin ``o`` uses ``series[:o]`` alone and fills column ``h - 1`` of an ``(n_origins, H)``
array with the ``h``-step forecast); ``truth_paths`` returns the values they are scored
against.

The LSTM is ``torch.nn.LSTM`` (fast); the book's readable twin ``lstm_lib.torch.LSTM`` holds
the same weights and would give the same forecasts, only slower. The model, the windows, the
scaler, the training loop and the recursive and direct forecasts are the recipe's
(``lstm_lib.recipes.forecast``, one concept in one place); this module adds checked inputs,
seeds that leave torch's global generator as it was, and ensembles of seeds.
``LSTMForecaster.from_checkpoints`` makes an ensemble of the recipe's checkpoints.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from lstm_lib import checks, torch_seeded
from lstm_lib.baselines.forecast import IntervalForecast
from lstm_lib.checks import positive_int
from lstm_lib.data.origins import check_origins
from lstm_lib.recipes import forecast as recipe
from lstm_lib.training.loop import History

# --------------------------------------------------------------------------- inputs


def _series(name: str, values: Any, allow_nan: bool = False) -> np.ndarray:
    return checks.series(name, values, allow_nan)


def origins_for(start: int, stop: int, horizon: int) -> np.ndarray:
    """Every origin whose ``horizon`` forecasts all lie in ``[start, stop)``: the int array
    ``start, start + 1, ..., stop - horizon`` (ValueError if there is none)."""
    horizon = positive_int("horizon", horizon)
    if isinstance(start, bool) or not isinstance(start, (int, np.integer)) or start < 0:
        raise ValueError(f"start must be an int >= 0, got {start!r}")
    if stop - start < horizon:
        raise ValueError(f"[start, stop) = [{start}, {stop}) is shorter than horizon {horizon}")
    return np.arange(start, stop - horizon + 1, dtype=np.int64)


def truth_paths(series: np.ndarray, origins: Any, horizon: int) -> np.ndarray:
    """The values the forecasts are scored against: ``out[i, h - 1] = series[origins[i] + h
    - 1]``, shape ``(n_origins, horizon)``."""
    v = _series("series", series, allow_nan=True)
    horizon = positive_int("horizon", horizon)
    o = check_origins(origins, len(v), horizon)
    return v[o[:, None] + np.arange(horizon)[None, :]]


def rmse_by_horizon(forecasts: np.ndarray, truth: np.ndarray) -> np.ndarray:
    """Root mean squared error of each column: ``forecasts``, ``truth`` ``(n_origins, H)``
    -> ``(H,)``, entry ``h - 1`` the RMSE of the ``h``-step forecasts."""
    f = np.asarray(forecasts, dtype=np.float64)
    t = np.asarray(truth, dtype=np.float64)
    if f.ndim != 2 or f.shape != t.shape or f.size == 0:
        raise ValueError(f"forecasts and truth must have the same shape (n_origins, H), got "
                         f"{f.shape} and {t.shape}")
    if not (np.isfinite(f).all() and np.isfinite(t).all()):
        raise ValueError("forecasts or truth contain NaN or inf")
    return np.sqrt(np.mean((f - t) ** 2, axis=0))


# --------------------------------------------------------------------------- scaling


@dataclass(frozen=True)
class MinMaxScaler(recipe.MinMaxScaler):
    """``z = (x - low) / (high - low)``: maps ``[low, high]`` onto ``[0, 1]``. Fit it with
    ``MinMaxScaler.fit(train)``: values outside the training range map outside ``[0, 1]``,
    as they should (the future is not known when the scaler is fitted). The recipe's
    scaler, with ``fit`` checking its input; ``transform`` and ``inverse`` take any shape."""

    @classmethod
    def fit(cls, values: np.ndarray) -> MinMaxScaler:
        """The scaler whose range is that of ``values`` ``(N,)`` (NaN ignored)."""
        return super().fit(_series("values", values, allow_nan=True))


# --------------------------------------------------------------------------- the LSTM


class WindowForecaster(recipe.Forecaster):
    """A window ``(B, T, 1)`` -> ``torch.nn.LSTM(1, hidden_size, batch_first=True)`` -> the
    last hidden state ``(B, H)`` -> ``Linear`` -> ``(B, n_out)``: the recipe's
    ``Forecaster``, seeded and with its input checked.

    ``n_out = 1``: the next value (fed back for longer horizons: *recursive*). ``n_out =
    H``: one output per horizon, the next ``H`` values at once (*direct*). The weights are
    initialised from ``seed`` (torch's global generator is left as it was).
    """

    def __init__(self, hidden_size: int, n_out: int = 1, seed: int = 0) -> None:
        hidden_size = positive_int("hidden_size", hidden_size)
        n_out = positive_int("n_out", n_out)
        with torch_seeded(seed):
            super().__init__(hidden_size, n_out)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``x`` ``(B, T, 1)`` -> ``(B, n_out)``."""
        if x.ndim != 3 or x.shape[2] != 1:
            raise ValueError(f"x must have shape (B, T, 1), got {tuple(x.shape)}")
        return super().forward(x)


def direct_windows(seq: np.ndarray, seq_length: int, n_out: int = 1
                   ) -> tuple[np.ndarray, np.ndarray]:
    """Windows of ``seq`` ``(N,)`` and the ``n_out`` values that follow each one.

    Returns ``X`` ``(n, seq_length, 1)`` and ``Y`` ``(n, n_out)`` with ``X[i] =
    seq[i : i + seq_length]`` and ``Y[i, h - 1] = seq[i + seq_length - 1 + h]``,
    ``n = N - seq_length - n_out + 1`` (the recipe's ``windows``).
    """
    seq = _series("seq", seq)
    seq_length = positive_int("seq_length", seq_length)
    n_out = positive_int("n_out", n_out)
    return recipe.windows(seq, seq_length, n_out)


@dataclass
class TrainedForecaster:
    """What ``train_forecaster`` returns: the model, its window length, how the series was
    scaled for it, and the training history (``lstm_lib.training.loop.History``)."""

    model: WindowForecaster
    seq_length: int
    history: History
    settings: dict[str, Any] = field(default_factory=dict)


def train_on_windows(X: np.ndarray, Y: np.ndarray, hidden_size: int, *, steps: int = 400,
                     lr: float = 1e-2, seed: int = 0) -> TrainedForecaster:
    """Train a ``WindowForecaster`` on given windows, full batch, mean squared error, Adam
    (the recipe's loop, ``lstm_lib.recipes.forecast.fit``).

    ``X``: ``(n, T, 1)``; ``Y``: ``(n, n_out)``. Returns a TrainedForecaster (float32).
    """
    X = np.asarray(X)
    Y = np.asarray(Y)
    if X.dtype.kind != "f" or Y.dtype.kind != "f":
        raise TypeError(f"X and Y must be floating, got {X.dtype} and {Y.dtype}")
    if X.ndim != 3 or X.shape[2] != 1 or X.shape[0] == 0:
        raise ValueError(f"X must have shape (n, T, 1), got {X.shape}")
    if Y.ndim != 2 or Y.shape[0] != X.shape[0]:
        raise ValueError(f"Y must have shape ({X.shape[0]}, n_out), got {Y.shape}")
    if not (np.isfinite(X).all() and np.isfinite(Y).all()):
        raise ValueError("X or Y contain NaN or inf")
    steps = positive_int("steps", steps)
    model = WindowForecaster(hidden_size, Y.shape[1], seed=seed)
    losses = recipe.fit(model, X, Y, steps, lr=lr)
    model.eval()
    settings = {"hidden_size": hidden_size, "n_out": Y.shape[1], "steps": steps, "lr": lr,
                "seed": seed}
    return TrainedForecaster(model, X.shape[1], History(step=list(range(steps)), loss=losses),
                             settings)


def train_forecaster(train: np.ndarray, seq_length: int, hidden_size: int, n_out: int = 1,
                     *, steps: int = 400, lr: float = 1e-2, seed: int = 0) -> TrainedForecaster:
    """Train a ``WindowForecaster`` on every window of the (scaled) training series
    ``train`` ``(N,)``: ``direct_windows(train, seq_length, n_out)``, then
    ``train_on_windows``. No value after ``train`` is seen."""
    X, Y = direct_windows(train, seq_length, n_out)
    return train_on_windows(X, Y, hidden_size, steps=steps, lr=lr, seed=seed)


def lstm_forecast(trained: TrainedForecaster, series: np.ndarray, origins: Any, horizon: int,
                  method: str = "recursive") -> np.ndarray:
    """Forecast ``series[o : o + horizon]`` from the window ``series[o - T : o]`` for each
    origin, in the series' (scaled) units.

    ``method="recursive"``: the one-output model forecasts the next value, which is appended
    to the window, ``horizon`` times (``horizon = 1`` is the one-step forecast, fed the true
    past at every origin). ``method="direct"``: the model's ``n_out >= horizon`` outputs are
    the forecasts. ``series`` ``(N,)``; returns ``(n_origins, horizon)`` float64.
    """
    if not isinstance(trained, TrainedForecaster):
        raise TypeError(f"trained must be a TrainedForecaster, got {type(trained).__name__}")
    v = _series("series", series, allow_nan=True)
    horizon = positive_int("horizon", horizon)
    T = trained.seq_length
    model = trained.model
    o = check_origins(origins, len(v), 0, need=T)
    context = v[o[:, None] + np.arange(-T, 0)[None, :]]
    if np.isnan(context).any():
        raise ValueError("a forecast window contains NaN: fill the gaps first")
    if method not in ("recursive", "direct"):
        raise ValueError(f"method must be 'recursive' or 'direct', got {method!r}")
    if method == "recursive" and model.n_out != 1:
        raise ValueError(f"recursive forecasts need a one-output model, got n_out="
                         f"{model.n_out}")
    return recipe.forecast_scaled(model, context, horizon, method)


def seasonal_difference(series: np.ndarray, period: int) -> np.ndarray:
    """``d[i] = series[i + period] - series[i]``: ``(N,)`` -> ``(N - period,)``. Entry
    ``i`` belongs to time ``i + period`` (the later of the two values)."""
    v = _series("series", series)
    period = positive_int("period", period)
    if period >= len(v):
        raise ValueError(f"period {period} must be shorter than the series (N={len(v)})")
    return recipe.seasonal_difference(v, period)


def undo_seasonal_difference(d_forecast: np.ndarray, series: np.ndarray, origins: Any,
                             period: int) -> np.ndarray:
    """Levels from forecasts of the seasonal differences: ``level[o + h - 1] = level[o + h -
    1 - period] + d_forecast[:, h - 1]``, where a level before ``o`` is the observed
    ``series`` value and a later one is the forecast already made (for ``h > period``).

    ``d_forecast``: ``(n_origins, H)``; ``series`` ``(N,)`` the levels; returns
    ``(n_origins, H)``.
    """
    v = _series("series", series, allow_nan=True)
    period = positive_int("period", period)
    d = np.asarray(d_forecast, dtype=np.float64)
    if d.ndim != 2 or d.shape[1] == 0:
        raise ValueError(f"d_forecast must have shape (n_origins, H), got {d.shape}")
    o = check_origins(origins, len(v), 0, need=period)
    if len(o) != d.shape[0]:
        raise ValueError(f"d_forecast has {d.shape[0]} rows for {len(o)} origins")
    out = recipe.undo_difference(d, v, o, period)
    if np.isnan(out).any():
        raise ValueError("a level the forecasts build on is NaN: fill the gaps first")
    return out


@dataclass
class LSTMForecaster:
    """An ensemble of ``WindowForecaster`` s and how the series is prepared for them.

    ``members``: one TrainedForecaster per seed; their forecasts are averaged.
    ``scaler``: fitted on the training part alone. ``difference``: None (the models see the
    scaled values) or a period ``p`` (they see the scaled ``p``-step differences
    ``y[t] - y[t - p]``, and forecasts are turned back into levels). ``method``:
    ``"recursive"`` (one output, fed back) or ``"direct"`` (``horizon`` outputs).
    """

    members: list[TrainedForecaster]
    scaler: MinMaxScaler
    difference: int | None
    method: str
    horizon: int

    def forecast(self, series: np.ndarray, origins: Any, horizon: int | None = None
                 ) -> np.ndarray:
        """Forecasts of ``series[o : o + horizon]`` from ``series[:o]`` for each origin, in
        the series' units: ``(n_origins, horizon)``, the mean over the members.
        ``series`` ``(N,)`` holds the observed values (no NaN in any window used)."""
        v = _series("series", series, allow_nan=True)
        horizon = self.horizon if horizon is None else positive_int("horizon", horizon)
        p = self.difference or 0
        o = check_origins(origins, len(v), 0, need=self.members[0].seq_length + p)
        paths = []
        for m in self.members:
            if self.method == "recursive" and m.model.n_out != 1:
                raise ValueError("recursive forecasts need one-output models")
            prep = recipe.Preprocess(self.scaler.low, self.scaler.high, p, m.seq_length,
                                     self.method, m.model.n_out)
            paths.append(recipe.forecast(m.model, prep, v, o, horizon))
        return np.mean(paths, axis=0)

    @classmethod
    def from_checkpoints(cls, directories: Sequence[str | Path]) -> LSTMForecaster:
        """The ensemble of checkpoints written by ``lstm_lib.recipes.forecast`` (one per
        seed, say): they must share the scaler, the differencing, the window and the
        method. ``horizon`` is their ``args.horizon``; each member's ``settings`` are its
        manifest's ``args``."""
        if len(directories) == 0:
            raise ValueError("directories must name at least one checkpoint")
        members, preps, horizons = [], [], set()
        for d in directories:
            model, prep = recipe.load(d)
            args = recipe.read_manifest(d)["args"]
            members.append(TrainedForecaster(model, prep.window, History(), dict(args)))
            preps.append((prep.low, prep.high, prep.difference, prep.window, prep.method))
            horizons.add(args["horizon"])
        if len(set(preps)) != 1 or len(horizons) != 1:
            raise ValueError("the checkpoints differ in scaler, differencing, window, method "
                             "or horizon: they are not one ensemble")
        low, high, p, _, method = preps[0]
        return cls(members, MinMaxScaler(low, high), p or None, method, horizons.pop())

    def rmse(self, series: np.ndarray, origins: Any, horizon: int | None = None) -> np.ndarray:
        """RMSE of each horizon's forecasts from ``origins`` against ``series`` itself:
        ``(horizon,)``, entry ``h - 1`` for the ``h``-step forecasts (``rmse_by_horizon``
        of ``forecast`` against ``truth_paths``)."""
        horizon = self.horizon if horizon is None else positive_int("horizon", horizon)
        return rmse_by_horizon(self.forecast(series, origins, horizon),
                               truth_paths(series, origins, horizon))

    def seed_spread(self, series: np.ndarray, origins: Any, truth: np.ndarray) -> np.ndarray:
        """The RMSE (averaged over horizons) of each member alone: ``(n_members,)``."""
        single = [LSTMForecaster([m], self.scaler, self.difference, self.method, self.horizon)
                  for m in self.members]
        return np.array([rmse_by_horizon(f.forecast(series, origins, truth.shape[1]),
                                         truth).mean() for f in single])


def fit_lstm_forecaster(train: np.ndarray, seq_length: int, hidden_size: int, *,
                        method: str = "recursive", horizon: int = 1,
                        difference: int | None = None, seeds: Sequence[int] = (0, 1, 2),
                        steps: int = 400, lr: float = 1e-2) -> LSTMForecaster:
    """Fit the scaler on ``train`` ``(N,)`` alone (on its ``difference``-step differences if
    given), then train one ``WindowForecaster`` per seed on every window of the scaled
    training series: one output (``method="recursive"``) or ``horizon`` outputs
    (``"direct"``). Returns an LSTMForecaster; nothing after ``train`` is seen."""
    v = _series("train", train)
    horizon = positive_int("horizon", horizon)
    if method not in ("recursive", "direct"):
        raise ValueError(f"method must be 'recursive' or 'direct', got {method!r}")
    if difference is not None:
        v = seasonal_difference(v, difference)
    if len(seeds) == 0:
        raise ValueError("seeds must name at least one seed")
    scaler = MinMaxScaler.fit(v)
    z = scaler.transform(v)
    n_out = horizon if method == "direct" else 1
    members = [train_forecaster(z, seq_length, hidden_size, n_out, steps=steps, lr=lr, seed=s)
               for s in seeds]
    return LSTMForecaster(members, scaler, difference, method, horizon)


@dataclass(frozen=True)
class Comparison:
    """The verdict between two errors: ``winner`` (a name, or None for a tie), ``ratio`` =
    loser's error / winner's error (>= 1; for a tie, the larger over the smaller), and the
    sentence that says it (``text``)."""

    winner: str | None
    ratio: float
    text: str


def compare_errors(a: float, b: float, names: tuple[str, str], tie: float = 0.1
                   ) -> Comparison:
    """Which of two errors (RMSE, lower is better) wins, with a margin: the larger must
    exceed the smaller by more than the fraction ``tie`` for a winner; otherwise a tie.

    ``a``, ``b``: positive floats; ``names``: their names, in the same order."""
    a, b = float(a), float(b)
    if not (np.isfinite(a) and np.isfinite(b) and a > 0 and b > 0):
        raise ValueError(f"errors must be finite and positive, got {a} and {b}")
    if not 0 < tie < 1:
        raise ValueError(f"tie must lie in (0, 1), got {tie}")
    if len(names) != 2:
        raise ValueError(f"names must name the two errors, got {names!r}")
    lo, hi = sorted([(a, names[0]), (b, names[1])])
    ratio = hi[0] / lo[0]
    if ratio > 1 + tie:
        return Comparison(lo[1], ratio, f"{lo[1]} wins: {hi[1]}'s error is more than "
                          f"{tie:.0%} larger")
    return Comparison(None, ratio, f"a tie: {names[0]} and {names[1]} are within {tie:.0%} "
                      "of each other")


def plot_paths(ax: Any, time: np.ndarray, series: np.ndarray, origins: Any,
               forecasts: dict[str, Any], *, context: int = 0,
               styles: dict[str, str] | None = None, xlabel: str = "time",
               ylabel: str = "") -> Any:
    """Draw the observed ``series`` and, for each method, its forecast path from every
    origin (one legend entry per method); an ``IntervalForecast`` also gets its interval
    shaded. ``forecasts``: name -> ``(n_origins, H)`` array or IntervalForecast; ``time``:
    ``(N,)`` the x value of each index; ``context``: how many values before the first origin
    to show. Returns ``ax``."""
    v = _series("series", series, allow_nan=True)
    if len(time) != len(v):
        raise ValueError(f"time must have the length of series ({len(v)}), got {len(time)}")
    o = check_origins(origins, len(v), 0)
    if not forecasts:
        raise ValueError("forecasts must name at least one method")
    def as_mean(fc: Any) -> np.ndarray:
        return np.asarray(fc.mean if isinstance(fc, IntervalForecast) else fc)

    means = {name: as_mean(fc) for name, fc in forecasts.items()}
    for name, mean in means.items():
        if mean.ndim != 2 or mean.shape[0] != len(o):
            raise ValueError(f"forecasts[{name!r}] must have shape ({len(o)}, H), got "
                             f"{mean.shape}")
    horizon = max(mean.shape[1] for mean in means.values())
    lo, hi = max(0, int(o.min()) - context), min(len(v), int(o.max()) + horizon)
    ax.plot(time[lo:hi], v[lo:hi], "k.-", lw=1, ms=3, label="observed")
    for name, fc in forecasts.items():
        mean = means[name]
        fmt = (styles or {}).get(name, "-")
        color = None
        for i, start in enumerate(o):
            t = time[start : start + mean.shape[1]]
            line = ax.plot(t, mean[i, : len(t)], fmt, color=color,
                           label=name if i == 0 else None)[0]
            color = line.get_color()
            if isinstance(fc, IntervalForecast):
                ax.fill_between(t, fc.lower[i, : len(t)], fc.upper[i, : len(t)], color=color,
                                alpha=0.15, lw=0,
                                label=f"{name}, {1 - fc.alpha:.0%} interval" if i == 0 else None)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.grid(True, alpha=0.3)
    return ax


__all__ = [
    "Comparison", "LSTMForecaster", "MinMaxScaler", "TrainedForecaster", "WindowForecaster",
    "compare_errors", "direct_windows", "fit_lstm_forecaster", "lstm_forecast", "origins_for",
    "plot_paths", "rmse_by_horizon", "seasonal_difference", "train_forecaster",
    "train_on_windows", "truth_paths", "undo_seasonal_difference",
]
