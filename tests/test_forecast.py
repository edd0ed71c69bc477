"""Leak-free forecasting: scaling, windows, LSTM forecasts (recursive and direct), the
baselines, ARIMA by AIC, and the error at each horizon."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402

from lstm_lib.baselines.forecast import (  # noqa: E402
    ArimaFit,
    IntervalForecast,
    arima_forecast,
    fit_arima,
    naive_forecast,
    seasonal_naive_forecast,
    select_arima,
)
from lstm_lib.data.real_series import load_sunspots  # noqa: E402
from lstm_lib.data.windows import make_windows  # noqa: E402
from lstm_lib.models.forecast import (  # noqa: E402
    LSTMForecaster,
    MinMaxScaler,
    TrainedForecaster,
    WindowForecaster,
    compare_errors,
    direct_windows,
    fit_lstm_forecaster,
    lstm_forecast,
    origins_for,
    plot_paths,
    rmse_by_horizon,
    seasonal_difference,
    train_forecaster,
    train_on_windows,
    truth_paths,
    undo_seasonal_difference,
)


def ar2(n: int = 300, seed: int = 0) -> np.ndarray:
    """A stationary AR(2), x_t = 1.2 x_{t-1} - 0.5 x_{t-2} + e_t, plus a mean of 10."""
    rng = np.random.default_rng(seed)
    x = np.zeros(n + 50)
    e = rng.standard_normal(n + 50)
    for t in range(2, n + 50):
        x[t] = 1.2 * x[t - 1] - 0.5 * x[t - 2] + e[t]
    return x[50:] + 10.0


# --------------------------------------------------------------------------- scaling


def test_scaler_maps_the_training_range_onto_unit_interval_and_back():
    train = np.array([2.0, 4.0, np.nan, 6.0])
    s = MinMaxScaler.fit(train)
    assert (s.low, s.high) == (2.0, 6.0)
    np.testing.assert_allclose(s.transform(np.array([2.0, 4.0, 6.0, 10.0])), [0, 0.5, 1, 2])
    x = np.array([[-3.0, 7.5], [100.0, 0.25]])
    np.testing.assert_allclose(s.inverse(s.transform(x)), x)


def test_scaler_refuses_constant_or_empty_data():
    with pytest.raises(ValueError, match="constant"):
        MinMaxScaler.fit(np.ones(4))
    with pytest.raises(ValueError, match="all NaN"):
        MinMaxScaler.fit(np.full(3, np.nan))
    with pytest.raises(TypeError, match="NumPy array"):
        MinMaxScaler.fit([1.0, 2.0])


# --------------------------------------------------------------------------- origins


def test_origins_truth_and_rmse_line_up():
    v = np.arange(20.0)
    o = origins_for(10, 20, 3)
    np.testing.assert_array_equal(o, np.arange(10, 18))
    t = truth_paths(v, o, 3)
    np.testing.assert_array_equal(t[:, 0], o)
    np.testing.assert_array_equal(t[-1], [17, 18, 19])
    f = t + np.array([1.0, -2.0, 0.0])
    np.testing.assert_allclose(rmse_by_horizon(f, t), [1, 2, 0])


def test_origins_and_rmse_check_their_inputs():
    with pytest.raises(ValueError, match="shorter than horizon"):
        origins_for(5, 7, 3)
    with pytest.raises(ValueError, match="past the end"):
        truth_paths(np.arange(10.0), np.array([8]), 3)
    with pytest.raises(TypeError, match="integers"):
        truth_paths(np.arange(10.0), np.array([1.0]), 1)
    with pytest.raises(ValueError, match="same shape"):
        rmse_by_horizon(np.zeros((3, 2)), np.zeros((3, 3)))
    with pytest.raises(ValueError, match="NaN"):
        rmse_by_horizon(np.full((1, 1), np.nan), np.zeros((1, 1)))


# --------------------------------------------------------------------------- baselines


def test_naive_repeats_the_last_value_seen():
    v = np.array([1.0, 5.0, 2.0, 7.0, 3.0])
    f = naive_forecast(v, np.array([2, 4]), 3)
    np.testing.assert_array_equal(f, [[5, 5, 5], [7, 7, 7]])
    with pytest.raises(ValueError, match="needs 1 values"):
        naive_forecast(v, np.array([0]), 1)


def test_seasonal_naive_is_exact_on_a_periodic_series_at_every_horizon():
    pattern = np.array([3.0, -1.0, 4.0, 1.0, -5.0])
    v = np.tile(pattern, 8)
    o = np.arange(5, 25)
    f = seasonal_naive_forecast(v, o, 12, period=5)  # horizons beyond one period too
    np.testing.assert_array_equal(f, truth_paths(v, o, 12))
    # and it only looks back: the value for o + h - 1 comes from before o
    g = seasonal_naive_forecast(np.arange(30.0), np.array([10]), 4, period=3)
    np.testing.assert_array_equal(g, [[7, 8, 9, 7]])


# --------------------------------------------------------------------------- windows


def test_direct_windows_hold_the_next_n_out_values():
    seq = np.arange(12.0) ** 2
    X, Y = direct_windows(seq, 4, 3)
    assert X.shape == (12 - 4 - 3 + 1, 4, 1) and Y.shape == (6, 3)
    for i in range(len(X)):
        np.testing.assert_array_equal(X[i, :, 0], seq[i:i + 4])
        np.testing.assert_array_equal(Y[i], seq[i + 4:i + 7])
    X1, Y1 = direct_windows(seq, 4, 1)
    Xm, ym = make_windows(seq, 4)
    np.testing.assert_array_equal(X1, Xm)
    np.testing.assert_array_equal(Y1[:, 0], ym)


def test_seasonal_difference_round_trips_beyond_one_period():
    v = np.cumsum(np.random.default_rng(1).standard_normal(60)) + 100
    d = seasonal_difference(v, 12)
    np.testing.assert_allclose(d, v[12:] - v[:-12])
    o = np.array([24, 30, 40])
    true_d = np.stack([d[k - 12:k - 12 + 20] for k in o])  # the true differences ahead
    levels = undo_seasonal_difference(true_d, v, o, 12)
    np.testing.assert_allclose(levels, truth_paths(v, o, 20))
    with pytest.raises(ValueError, match="rows"):
        undo_seasonal_difference(true_d[:2], v, o, 12)


# --------------------------------------------------------------------------- the LSTM


def test_window_forecaster_shapes_and_seeded_weights():
    a, b, c = WindowForecaster(5, 3, seed=7), WindowForecaster(5, 3, seed=7), WindowForecaster(5, 3)
    state = torch.random.get_rng_state()
    WindowForecaster(5, seed=1)
    assert torch.equal(torch.random.get_rng_state(), state)  # the global generator is untouched
    for key, value in a.state_dict().items():
        assert torch.equal(value, b.state_dict()[key])
    assert not torch.equal(a.lstm.weight_hh_l0, c.lstm.weight_hh_l0)
    assert set(a.lstm.state_dict()) == {"weight_ih_l0", "weight_hh_l0", "bias_ih_l0",
                                        "bias_hh_l0"}
    assert a(torch.zeros(2, 7, 1)).shape == (2, 3)
    with pytest.raises(ValueError, match=r"\(B, T, 1\)"):
        a(torch.zeros(2, 7))


def untrained(n_out: int = 1, T: int = 4) -> TrainedForecaster:
    return TrainedForecaster(WindowForecaster(3, n_out, seed=0), T, history=None)


def test_recursive_forecast_feeds_back_its_own_output():
    tr = untrained()
    v = np.sin(np.arange(30) / 3)
    o = np.array([6, 15])
    f = lstm_forecast(tr, v, o, 3)
    with torch.no_grad():
        for i, start in enumerate(o):
            w = list(v[start - 4:start])
            for h in range(3):
                x = torch.tensor(w[-4:], dtype=torch.float32)[None, :, None]
                nxt = tr.model(x).item()
                assert abs(f[i, h] - nxt) < 1e-6
                w.append(nxt)


def test_forecasts_use_only_the_past():
    v = np.sin(np.arange(40) / 4)
    later = v.copy()
    later[20:] += 100.0  # change everything from the origin on
    o = np.array([12, 20])
    for tr, method in ((untrained(), "recursive"), (untrained(5), "direct")):
        np.testing.assert_array_equal(lstm_forecast(tr, v, o, 5, method),
                                      lstm_forecast(tr, later, o, 5, method))
    np.testing.assert_array_equal(naive_forecast(v, o, 5), naive_forecast(later, o, 5))
    np.testing.assert_array_equal(seasonal_naive_forecast(v, o, 5, 8),
                                  seasonal_naive_forecast(later, o, 5, 8))


def test_direct_forecast_is_the_model_output():
    tr = untrained(4)
    v = np.linspace(0, 1, 20)
    f = lstm_forecast(tr, v, np.array([10]), 4, "direct")
    with torch.no_grad():
        out = tr.model(torch.tensor(v[6:10], dtype=torch.float32)[None, :, None])
    np.testing.assert_allclose(f[0], out[0].numpy(), rtol=1e-6)
    np.testing.assert_allclose(lstm_forecast(tr, v, np.array([10]), 2, "direct"), f[:, :2])


def test_lstm_forecast_checks_its_inputs():
    with pytest.raises(ValueError, match="cannot forecast horizon"):
        lstm_forecast(untrained(2), np.zeros(10), np.array([5]), 3, "direct")
    with pytest.raises(ValueError, match="one-output"):
        lstm_forecast(untrained(2), np.zeros(10), np.array([5]), 3, "recursive")
    with pytest.raises(ValueError, match="method"):
        lstm_forecast(untrained(), np.zeros(10), np.array([5]), 1, "both")
    with pytest.raises(ValueError, match="needs 4 values"):
        lstm_forecast(untrained(), np.zeros(10), np.array([3]), 1)
    with pytest.raises(ValueError, match="NaN"):
        lstm_forecast(untrained(), np.array([0, 1, np.nan, 3, 4.0]), np.array([4]), 1)
    with pytest.raises(TypeError, match="TrainedForecaster"):
        lstm_forecast(WindowForecaster(2), np.zeros(10), np.array([5]), 1)


def test_training_beats_the_naive_forecast_on_a_sine():
    v = np.sin(2 * np.pi * np.arange(300) / 20)
    tr = train_forecaster(v[:200], 10, 8, steps=200, seed=0)
    assert tr.history.loss[-1] < 0.1 * tr.history.loss[0]
    o = np.arange(200, 290)
    e_lstm = rmse_by_horizon(lstm_forecast(tr, v, o, 5), truth_paths(v, o, 5))
    e_naive = rmse_by_horizon(naive_forecast(v, o, 5), truth_paths(v, o, 5))
    assert (e_lstm < 0.5 * e_naive).all()


def test_train_on_windows_checks_its_inputs():
    X, Y = direct_windows(np.arange(20.0), 4, 2)
    with pytest.raises(ValueError, match=r"Y must have shape \(15, n_out\)"):
        train_on_windows(X, Y[:-1], 3, steps=1)
    with pytest.raises(TypeError, match="floating"):
        train_on_windows(X.astype(int), Y, 3, steps=1)
    with pytest.raises(ValueError, match=r"\(n, T, 1\)"):
        train_on_windows(X[..., 0], Y, 3, steps=1)


def test_lstm_forecaster_scales_on_train_alone_and_undoes_the_differences():
    rng = np.random.default_rng(0)
    t = np.arange(160)
    v = 0.05 * t + np.sin(2 * np.pi * t / 12) + 0.05 * rng.standard_normal(160)
    fc = fit_lstm_forecaster(v[:120], 12, 4, method="direct", horizon=6, difference=12,
                             seeds=(0, 1), steps=150)
    d_train = v[12:120] - v[:108]
    assert (fc.scaler.low, fc.scaler.high) == (d_train.min(), d_train.max())
    assert isinstance(fc, LSTMForecaster) and len(fc.members) == 2
    o = np.arange(120, 155)
    f = fc.forecast(v, o)
    assert f.shape == (35, 6)
    e = rmse_by_horizon(f, truth_paths(v, o, 6))
    e_snaive = rmse_by_horizon(seasonal_naive_forecast(v, o, 6, 12), truth_paths(v, o, 6))
    assert e.mean() < e_snaive.mean()  # it learned the drift of 0.6 per year
    later = v.copy()
    later[130:] = 0.0
    np.testing.assert_array_equal(fc.forecast(v, np.array([125, 130]), 6),
                                  fc.forecast(later, np.array([125, 130]), 6))
    truth = np.stack([v[i: i + 6] for i in o])  # by hand: the next 6 values of each origin
    alone = [LSTMForecaster([m], fc.scaler, fc.difference, fc.method, fc.horizon).forecast(v, o)
             for m in fc.members]
    np.testing.assert_allclose(np.mean(alone, axis=0), f, rtol=1e-12)  # the members' mean
    per_member = [np.sqrt(((a - truth) ** 2).mean(axis=0)).mean() for a in alone]
    assert per_member[0] != per_member[1]
    np.testing.assert_allclose(fc.seed_spread(v, o, truth), per_member, rtol=1e-12)
    np.testing.assert_array_equal(fc.rmse(v, o), e)  # forecast scored against the series
    np.testing.assert_allclose(fc.rmse(v, o, 3),
                               np.sqrt(((f[:, :3] - truth[:, :3]) ** 2).mean(axis=0)), rtol=1e-12)
    with pytest.raises(ValueError, match="horizon"):
        fc.rmse(v, o, 0)
    with pytest.raises(ValueError, match="method"):
        fit_lstm_forecaster(v, 12, 4, method="both")


# --------------------------------------------------------------------------- ARIMA


def test_aic_selects_the_true_ar_order_and_forecasts_use_only_the_past():
    v = ar2(300)
    sel = select_arima(v[:250], [(1, 0, 0), (2, 0, 0)], trend="c")
    assert sel.best.order == (2, 0, 0) and sel.best.converged and not sel.best.warnings
    assert sel.best.aic < sel.table[0].aic
    np.testing.assert_allclose(sel.best.result.params[1:3], [1.2, -0.5], atol=0.15)
    o = np.array([250, 260, 290])
    fc = arima_forecast(sel.best, v, o, 5)
    assert isinstance(fc, IntervalForecast) and fc.mean.shape == (3, 5)
    assert (fc.lower < fc.mean).all() and (fc.mean < fc.upper).all()
    assert (np.diff(fc.upper - fc.lower, axis=1) >= 0).all()  # wider with the horizon
    for i, start in enumerate(o):  # the same as refiltering the past alone
        alone = sel.best.result.apply(v[:start]).get_forecast(5)
        np.testing.assert_allclose(fc.mean[i], alone.predicted_mean, rtol=1e-10)
        np.testing.assert_allclose(fc.upper[i], alone.conf_int()[:, 1], rtol=1e-10)
    later = v.copy()
    later[260:] += 50
    np.testing.assert_allclose(arima_forecast(sel.best, later, o[:2], 5).mean, fc.mean[:2],
                               rtol=1e-12)


def test_fit_arima_keeps_warnings_as_text_and_select_skips_them():
    v = load_sunspots().values[:229]
    warned = fit_arima(v, (0, 0, 2), trend="c")  # statsmodels' MA start values fail here
    assert warned.warnings and all(isinstance(w, str) for w in warned.warnings)
    assert "Non-invertible starting MA parameters" in warned.warnings[0]
    sel = select_arima(v, [(0, 0, 2), (2, 0, 0)], trend="c")
    assert sel.best.order == (2, 0, 0) and len(sel.table) == 2
    with pytest.raises(ValueError, match="no candidate"):
        select_arima(v, [(0, 0, 2)], trend="c")
    with pytest.raises(ValueError, match="order must be"):
        fit_arima(v, (1, 0))
    assert warned.name == "ARIMA(0,0,2)"
    seasonal = ArimaFit((0, 1, 1), (0, 1, 1, 12), None, 0.0, True, (), None)
    assert seasonal.name == "ARIMA(0,1,1)(0,1,1)_12"


def test_arima_skips_missing_values():
    v = ar2(200)
    gaps = v.copy()
    gaps[[20, 21, 60]] = np.nan
    fitted = fit_arima(gaps, (2, 0, 0), trend="c")
    assert fitted.converged and np.isfinite(fitted.aic)
    assert np.isfinite(arima_forecast(fitted, gaps, np.array([22, 100]), 3).mean).all()


# --------------------------------------------------------------------------- plotting


def test_plot_paths_draws_one_legend_entry_per_method():
    v = ar2(80)
    o = np.array([50, 60, 70])
    fc = IntervalForecast(np.zeros((3, 5)) + 10, np.zeros((3, 5)) + 8, np.zeros((3, 5)) + 12,
                          0.05)
    fig, ax = plt.subplots()
    plot_paths(ax, np.arange(80), v, o, {"ar": fc, "naive": naive_forecast(v, o, 5)},
               context=5)
    labels = [t.get_text() for t in ax.legend().get_texts()]
    assert labels == ["observed", "ar", "ar, 95% interval", "naive"]
    assert len(ax.lines) == 1 + 3 + 3
    with pytest.raises(ValueError, match="shape"):
        plot_paths(ax, np.arange(80), v, o, {"bad": np.zeros((2, 5))})
    plt.close(fig)


def test_compare_errors_needs_a_margin_for_a_winner():
    win = compare_errors(1.0, 1.25, ("lstm", "arima"))
    assert win.winner == "lstm" and abs(win.ratio - 1.25) < 1e-12
    assert win.text == "lstm wins: arima's error is more than 10% larger"
    assert compare_errors(2.0, 1.0, ("lstm", "arima")).winner == "arima"
    tie = compare_errors(1.0, 1.05, ("lstm", "arima"))
    assert tie.winner is None and tie.text.startswith("a tie")
    assert compare_errors(1.0, 1.05, ("a", "b"), tie=0.01).winner == "a"
    with pytest.raises(ValueError, match="positive"):
        compare_errors(0.0, 1.0, ("a", "b"))
    with pytest.raises(ValueError, match="tie"):
        compare_errors(1.0, 2.0, ("a", "b"), tie=1.5)
