"""Real series shipped inside statsmodels (loaded offline), the monthly view of the weekly
CO2 record, and the chronological train / validation / test split.

- ``load_sunspots()``: yearly sunspot numbers 1700-2008 (309 values).
- ``load_co2()``: weekly Mauna Loa CO2 in ppm from March 1958 to December 2001 (2,284 weeks,
  59 of them missing, as NaN).
- ``monthly_means(weekly)``: each month's mean of the weeks observed in it; a month in which no
  week was observed stays NaN (``fill_gaps`` fills it by linear interpolation).
- ``nan_runs(values)``: the lengths of the runs of consecutive missing values.
- ``chronological_split(values, n_val, n_test)``: the first values train, the next validate,
  the last test; never shuffled.

statsmodels is imported inside the loaders, so ``lstm_lib`` does not need it otherwise.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from lstm_lib import checks
from lstm_lib.checks import positive_int


@dataclass(frozen=True)
class RealSeries:
    """A series on a regular time grid.

    ``values``: float64 ``(N,)``, NaN where missing. ``time``: ``(N,)``, the year (int) for
    yearly data, a ``datetime64[D]`` date otherwise (for CO2, the week's or month's first day
    as statsmodels and pandas label it). ``period``: the seasonal period in steps (12 for
    monthly data, 52 for weekly), or None. ``filled``: bool ``(N,)``, True where a value was
    filled in rather than observed (all False for raw data).
    """

    name: str
    values: np.ndarray
    time: np.ndarray
    period: int | None
    unit: str
    filled: np.ndarray

    def __len__(self) -> int:
        return len(self.values)

    @property
    def n_missing(self) -> int:
        """How many values are NaN."""
        return int(np.isnan(self.values).sum())


def _raw(name: str, values: np.ndarray, time: np.ndarray, period: int | None,
         unit: str) -> RealSeries:
    values = np.asarray(values, dtype=np.float64)
    return RealSeries(name, values, np.asarray(time), period, unit,
                      np.zeros(len(values), dtype=bool))


def load_sunspots() -> RealSeries:
    """Yearly mean sunspot numbers, 1700-2008: ``values`` ``(309,)``, ``time`` the years.

    From ``statsmodels.datasets.sunspots`` (no download; no value is missing). The cycle of
    about 11 years is not a fixed period, so ``period`` is None.
    """
    from statsmodels.datasets import sunspots

    df = sunspots.load_pandas().data
    years = df["YEAR"].to_numpy().astype(np.int64)
    return _raw("sunspots", df["SUNACTIVITY"].to_numpy(), years, None, "sunspot number")


def load_co2() -> RealSeries:
    """Weekly atmospheric CO2 at Mauna Loa, March 1958 - December 2001, in ppm.

    From ``statsmodels.datasets.co2`` (no download): ``values`` ``(2284,)`` with 59 NaN
    (weeks without a measurement), ``time`` the week's date (a Saturday), ``period`` 52.
    """
    from statsmodels.datasets import co2

    s = co2.load_pandas().data["co2"]
    return _raw("co2", s.to_numpy(), s.index.to_numpy().astype("datetime64[D]"), 52, "ppm")


def nan_runs(values: np.ndarray) -> np.ndarray:
    """Lengths of the runs of consecutive NaN in a 1-D float array, in order of occurrence
    (an int64 array, empty if nothing is missing)."""
    v = _one_d("values", values, allow_nan=True)
    na = np.concatenate([[False], np.isnan(v), [False]]).astype(np.int8)
    edges = np.diff(na)
    return (np.flatnonzero(edges == -1) - np.flatnonzero(edges == 1)).astype(np.int64)


def monthly_means(weekly: RealSeries) -> RealSeries:
    """Calendar-month means of a weekly series, over the weeks observed in each month.

    ``weekly``: a RealSeries with ``datetime64`` times (as ``load_co2()``). A week counts in
    the month of its date. Returns a RealSeries with one value per month from the first to
    the last, ``time`` the first day of the month, ``period`` 12, NaN for a month in which no
    week was observed (``filled`` all False: nothing is filled in yet).
    """
    if not isinstance(weekly, RealSeries):
        raise TypeError(f"weekly must be a RealSeries, got {type(weekly).__name__}")
    if weekly.time.dtype.kind != "M":
        raise ValueError(f"weekly.time must hold dates (datetime64), got dtype {weekly.time.dtype}")
    months = weekly.time.astype("datetime64[M]")
    grid = np.arange(months[0], months[-1] + 1)
    pos = (months - grid[0]).astype(np.int64)
    ok = ~np.isnan(weekly.values)
    total = np.bincount(pos[ok], weights=weekly.values[ok], minlength=len(grid))
    count = np.bincount(pos[ok], minlength=len(grid))
    with np.errstate(invalid="ignore", divide="ignore"):
        means = np.where(count > 0, total / np.maximum(count, 1), np.nan)
    return _raw(f"{weekly.name}, monthly", means, grid.astype("datetime64[D]"), 12, weekly.unit)


def fill_gaps(series: RealSeries) -> RealSeries:
    """Fill each missing value by linear interpolation between the nearest observed values
    before and after it (on the index, so in time for a regular grid).

    Returns a new RealSeries with no NaN and ``filled`` True where a value was filled.
    A gap at either end cannot be interpolated: ValueError. A filled value uses the next
    observed value, so it looks ahead: fill only gaps that lie inside the training part.
    """
    if not isinstance(series, RealSeries):
        raise TypeError(f"series must be a RealSeries, got {type(series).__name__}")
    v = series.values
    na = np.isnan(v)
    if na.all():
        raise ValueError("series has no observed value to interpolate from")
    if na[0] or na[-1]:
        raise ValueError("series starts or ends with a missing value: a gap at an end cannot "
                         "be interpolated")
    idx = np.arange(len(v))
    out = v.copy()
    out[na] = np.interp(idx[na], idx[~na], v[~na])
    return RealSeries(series.name, out, series.time, series.period, series.unit,
                      series.filled | na)


@dataclass(frozen=True)
class Split:
    """A chronological split: ``train = values[:train_end]``, ``val =
    values[train_end:val_end]``, ``test = values[val_end:]`` (views, in time order)."""

    values: np.ndarray
    train_end: int
    val_end: int

    @property
    def train(self) -> np.ndarray:
        return self.values[: self.train_end]

    @property
    def val(self) -> np.ndarray:
        return self.values[self.train_end : self.val_end]

    @property
    def test(self) -> np.ndarray:
        return self.values[self.val_end :]

    @property
    def sizes(self) -> dict[str, int]:
        """``{"train": n, "val": n, "test": n}``."""
        return {"train": self.train_end, "val": self.val_end - self.train_end,
                "test": len(self.values) - self.val_end}


def chronological_split(values: np.ndarray, n_val: int, n_test: int) -> Split:
    """Split a 1-D series ``(N,)`` in time order: the last ``n_test`` values are the test
    part, the ``n_val`` before them validation, all earlier ones training (at least one).

    NaN are allowed (a state-space model can skip them). Returns a ``Split``.
    """
    v = _one_d("values", values, allow_nan=True)
    n_val = positive_int("n_val", n_val)
    n_test = positive_int("n_test", n_test)
    if n_val + n_test >= len(v):
        raise ValueError(f"n_val + n_test must leave at least one training value, got "
                         f"n_val={n_val} + n_test={n_test} >= N={len(v)}")
    return Split(v, len(v) - n_val - n_test, len(v) - n_test)


def series_csv_bytes(series: RealSeries) -> bytes:
    """``series`` as the CSV that ``lstm_lib.recipes.forecast`` reads: a header
    ``time,NAME``, then one line per step, the time (a year, or a date cut to the month for
    monthly data) and the value written as Python's ``repr`` (it reads back to the same
    float64); a missing value is an empty field. The same bytes on every call."""
    if not isinstance(series, RealSeries):
        raise TypeError(f"series must be a RealSeries, got {type(series).__name__}")
    monthly = series.period == 12 and series.time.dtype.kind == "M"
    lines = [f"time,{series.name.split(',')[0]}"]
    for t, v in zip(series.time, series.values, strict=True):
        stamp = str(t)[:7] if monthly else str(t)
        lines.append(f"{stamp},{'' if np.isnan(v) else repr(float(v))}")
    return ("\n".join(lines) + "\n").encode("ascii")


def _one_d(name: str, values: np.ndarray, allow_nan: bool = False) -> np.ndarray:
    return checks.series(name, values, allow_nan)


__all__ = ["RealSeries", "Split", "chronological_split", "fill_gaps", "load_co2",
           "load_sunspots", "monthly_means", "nan_runs", "series_csv_bytes"]
