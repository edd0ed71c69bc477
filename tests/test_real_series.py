"""The real series from statsmodels, the monthly view of weekly CO2, and the split."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from lstm_lib.data.real_series import (
    RealSeries,
    chronological_split,
    fill_gaps,
    load_co2,
    load_sunspots,
    monthly_means,
    nan_runs,
)


def test_sunspots_are_309_complete_years():
    s = load_sunspots()
    assert len(s) == 309 and s.values.dtype == np.float64 and s.n_missing == 0
    np.testing.assert_array_equal(s.time, np.arange(1700, 2009))
    assert s.values.min() >= 0 and 150 < s.values.max() < 200
    assert not s.filled.any()


def test_co2_is_weekly_with_59_missing_weeks():
    c = load_co2()
    assert len(c) == 2284 and c.n_missing == 59 and c.period == 52 and c.unit == "ppm"
    steps = np.diff(c.time).astype(np.int64)
    assert (steps == 7).all()  # a regular weekly grid: missing weeks are NaN, not absent
    assert str(c.time[0]) == "1958-03-29" and str(c.time[-1]) == "2001-12-29"


def test_nan_runs_counts_each_gap_in_order():
    v = np.array([np.nan, 1, np.nan, np.nan, 2, 3, np.nan, np.nan, np.nan])
    np.testing.assert_array_equal(nan_runs(v), [1, 2, 3])
    assert nan_runs(np.arange(5.0)).size == 0
    runs = nan_runs(load_co2().values)
    assert runs.sum() == 59 and runs.max() == 18 and len(runs) == 22


def test_nan_runs_checks_its_input():
    with pytest.raises(TypeError, match="NumPy array"):
        nan_runs([1.0, np.nan])
    with pytest.raises(ValueError, match=r"shape \(N,\)"):
        nan_runs(np.zeros((2, 2)))
    with pytest.raises(TypeError, match="real numbers"):
        nan_runs(np.array(["a"]))


def weekly(values, start="2000-01-01"):
    t = np.datetime64(start) + 7 * np.arange(len(values))
    v = np.asarray(values, dtype=float)
    return RealSeries("w", v, t, 52, "u", np.zeros(len(v), dtype=bool))


def test_monthly_means_average_the_observed_weeks_only():
    # 2000-01-01, -08, -15, -22, -29 are January; -02-05 ... -02-26 February; then March.
    w = weekly([1, 2, np.nan, 4, 5, np.nan, np.nan, np.nan, np.nan, 10])
    m = monthly_means(w)
    assert [str(t) for t in m.time] == ["2000-01-01", "2000-02-01", "2000-03-01"]
    np.testing.assert_allclose(m.values[[0, 2]], [(1 + 2 + 4 + 5) / 4, 10])
    assert np.isnan(m.values[1]) and m.period == 12 and not m.filled.any()


def test_monthly_means_match_pandas_on_co2():
    c = load_co2()
    m = monthly_means(c)
    ref = pd.Series(c.values, index=pd.DatetimeIndex(c.time)).resample("MS").mean()
    assert len(m) == len(ref) == 526
    np.testing.assert_array_equal(np.isnan(m.values), ref.isna().to_numpy())
    np.testing.assert_allclose(m.values, ref.to_numpy(), rtol=1e-12)


def test_monthly_means_check_their_input():
    with pytest.raises(TypeError, match="RealSeries"):
        monthly_means(np.zeros(3))
    with pytest.raises(ValueError, match="datetime64"):
        monthly_means(load_sunspots())


def test_fill_gaps_interpolates_linearly_and_marks_what_it_filled():
    m = RealSeries("m", np.array([0.0, np.nan, np.nan, 3.0, 4.0, np.nan, 8.0]),
                   np.arange(7), 12, "u", np.zeros(7, dtype=bool))
    f = fill_gaps(m)
    np.testing.assert_allclose(f.values, [0, 1, 2, 3, 4, 6, 8])
    np.testing.assert_array_equal(f.filled, np.isnan(m.values))
    assert f.n_missing == 0 and np.isnan(m.values).sum() == 3  # the input is unchanged


@pytest.mark.parametrize("values", [[np.nan, 1.0, 2.0], [1.0, 2.0, np.nan]])
def test_fill_gaps_refuses_a_gap_at_an_end(values):
    m = RealSeries("m", np.array(values), np.arange(3), None, "u", np.zeros(3, dtype=bool))
    with pytest.raises(ValueError, match="end"):
        fill_gaps(m)


def test_chronological_split_keeps_time_order():
    v = np.arange(10.0)
    s = chronological_split(v, n_val=3, n_test=2)
    assert s.sizes == {"train": 5, "val": 3, "test": 2}
    np.testing.assert_array_equal(np.concatenate([s.train, s.val, s.test]), v)
    assert s.train.max() < s.val.min() and s.val.max() < s.test.min()
    s_nan = chronological_split(np.array([1.0, np.nan, 3.0, 4.0]), 1, 1)
    assert np.isnan(s_nan.train[1])  # a state-space model may skip missing values


def test_chronological_split_checks_its_sizes():
    with pytest.raises(ValueError, match="at least one training value"):
        chronological_split(np.arange(5.0), 3, 2)
    with pytest.raises(ValueError, match="positive int"):
        chronological_split(np.arange(5.0), 0, 2)
    with pytest.raises(TypeError, match="positive int"):
        chronological_split(np.arange(5.0), 1.5, 2)
    with pytest.raises(ValueError, match="inf"):
        chronological_split(np.array([1.0, np.inf, 2.0, 3.0]), 1, 1)
