"""Windows of a sequence, the noisy periodic series, and the chapter's two diagrams."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from matplotlib.patches import FancyBboxPatch  # noqa: E402

from lstm_lib.data import encoding  # noqa: E402
from lstm_lib.data.series import linear_forecast, noisy_periodic  # noqa: E402
from lstm_lib.data.windows import make_windows, n_windows, one_hot  # noqa: E402
from lstm_lib.viz.diagrams.windows import naive_model, window_model  # noqa: E402


@settings(max_examples=60, deadline=None)
@given(
    n=st.integers(2, 40),
    dim=st.sampled_from([None, 1, 3]),
    seq_length=st.integers(1, 12),
    horizon=st.integers(1, 5),
    stride=st.integers(1, 4),
)
def test_every_window_is_a_true_slice(n, dim, seq_length, horizon, stride):
    shape = (n,) if dim is None else (n, dim)
    seq = np.arange(np.prod(shape), dtype=np.float64).reshape(shape) * 1.5 - 7
    if seq_length + horizon > n:
        with pytest.raises(ValueError, match="longer than the sequence"):
            make_windows(seq, seq_length, horizon, stride)
        return
    X, y = make_windows(seq, seq_length, horizon, stride)
    nb = (n - seq_length - horizon) // stride + 1
    assert nb == n_windows(n, seq_length, horizon, stride) >= 1
    assert X.shape == (nb, seq_length, 1 if dim is None else dim)
    assert y.shape == ((nb,) if dim is None else (nb, dim))
    seq2 = seq[:, None] if dim is None else seq
    for i in range(nb):
        s = i * stride
        np.testing.assert_array_equal(X[i], seq2[s:s + seq_length])
        np.testing.assert_array_equal(y[i], seq[s + seq_length - 1 + horizon])
    # the last target lies inside the sequence and the next window would not fit
    assert (nb - 1) * stride + seq_length - 1 + horizon <= n - 1
    assert nb * stride + seq_length - 1 + horizon > n - 1


def test_windows_are_copies_and_keep_integer_ids():
    ids = np.array([3, 1, 4, 1, 5, 9, 2, 6], dtype=np.int64)
    X, y = make_windows(ids, 3)
    assert X.dtype == np.int64 and y.dtype == np.int64
    np.testing.assert_array_equal(X[:, :, 0], [[3, 1, 4], [1, 4, 1], [4, 1, 5], [1, 5, 9],
                                               [5, 9, 2]])
    np.testing.assert_array_equal(y, [1, 5, 9, 2, 6])
    X[0, 0, 0] = 100
    assert ids[0] == 3


def test_window_equal_to_sequence_minus_horizon_gives_one_sample():
    X, y = make_windows(np.arange(5.0), 4)
    assert X.shape == (1, 4, 1) and y.tolist() == [4.0]


@pytest.mark.parametrize("seq_length, horizon, match", [
    (6, 1, "longer than the sequence"),
    (5, 1, "longer than the sequence"),
    (2, 4, "longer than the sequence"),
    (0, 1, "seq_length must be a positive int"),
    (-2, 1, "seq_length must be a positive int"),
    (2, 0, "horizon must be a positive int"),
])
def test_bad_sizes_raise_value_error(seq_length, horizon, match):
    with pytest.raises(ValueError, match=match):
        make_windows(np.arange(5.0), seq_length, horizon)


def test_bad_stride_and_non_int_sizes():
    with pytest.raises(ValueError, match="stride"):
        make_windows(np.arange(5.0), 2, stride=0)
    with pytest.raises(TypeError, match="seq_length"):
        make_windows(np.arange(5.0), 2.0)


@pytest.mark.parametrize("shape", [(), (4, 3, 2), (4, 0)])
def test_wrong_rank_raises(shape):
    with pytest.raises(ValueError, match=r"\(N,\) or \(N, input_dim\)|input_dim >= 1"):
        make_windows(np.zeros(shape), 1)


def test_wrong_dtype_kind_and_nan():
    with pytest.raises(TypeError, match="dtype"):
        make_windows(np.array(list("abcdef")), 2)
    with pytest.raises(TypeError, match="dtype"):
        make_windows(np.arange(6) + 1j, 2)
    with pytest.raises(TypeError, match="NumPy array"):
        make_windows("abcdef", 2)
    with pytest.raises(ValueError, match="NaN"):
        make_windows(np.array([0.0, np.nan, 1.0, 2.0]), 2)


def test_lists_and_tensors_are_accepted():
    import torch

    X1, y1 = make_windows([1, 2, 3, 4], 2)
    X2, y2 = make_windows(torch.arange(1, 5), 2)
    np.testing.assert_array_equal(X1, X2)
    np.testing.assert_array_equal(y1, [3, 4])


def test_one_hot_is_the_shared_one():
    assert one_hot is encoding.one_hot


def test_noisy_periodic():
    a = noisy_periodic(200, period=20, noise=0.0)
    np.testing.assert_allclose(a[:40], np.tile(a[:20], 2), atol=1e-12)
    np.testing.assert_allclose(a[5], 1.0)  # a quarter period after 0: sin(pi/2)
    b = noisy_periodic(20_000, period=20, noise=0.3, seed=1)
    resid = b - noisy_periodic(20_000, period=20, noise=0.0)
    assert abs(resid.std() - 0.3) < 0.01
    np.testing.assert_array_equal(b, noisy_periodic(20_000, period=20, noise=0.3, seed=1))
    assert not np.array_equal(b, noisy_periodic(20_000, period=20, noise=0.3, seed=2))
    with pytest.raises(ValueError, match="period"):
        noisy_periodic(10, period=0)
    with pytest.raises(ValueError, match="noise"):
        noisy_periodic(10, period=5, noise=-1)
    with pytest.raises(ValueError, match="positive"):
        noisy_periodic(0, period=5)
    with pytest.raises(TypeError, match="period"):
        noisy_periodic(10, period="5")


def test_linear_forecast_is_exact_for_a_clean_sine_with_two_values():
    clean = noisy_periodic(300, period=16, noise=0.0)
    X, y = make_windows(clean, 2)
    pred = linear_forecast(X[:200], y[:200], X[200:])
    np.testing.assert_allclose(pred, y[200:], atol=1e-9)  # x_{t+1} = 2 cos(w) x_t - x_{t-1}
    X1, y1 = make_windows(clean, 1)
    err1 = np.mean((linear_forecast(X1[:200], y1[:200], X1[200:]) - y1[200:]) ** 2)
    assert err1 > 0.05  # one value cannot tell rising from falling


def test_linear_forecast_errors():
    X = np.zeros((5, 2))
    with pytest.raises(ValueError, match="y_train"):
        linear_forecast(X, np.zeros(4), X)
    with pytest.raises(ValueError, match="k = 2"):
        linear_forecast(X, np.zeros(5), np.zeros((3, 3)))
    with pytest.raises(TypeError, match="real numbers"):
        linear_forecast(X.astype(complex), np.zeros(5), X)
    with pytest.raises(ValueError, match="NaN"):
        linear_forecast(np.full((5, 2), np.nan), np.zeros(5), X)


def _boxes(ax):
    return [p for p in ax.patches if isinstance(p, FancyBboxPatch)]


def test_diagrams_have_the_notes_boxes():
    fig, ax = naive_model()
    assert len(_boxes(ax)) == 4  # input, LSTM, FC, softmax
    texts = [t.get_text() for t in ax.texts]
    assert "LSTM" in texts and "FC" in texts and "softmax" in texts
    plt.close(fig)
    for t in (1, 3, 5):
        fig, ax = window_model(t)
        assert len(_boxes(ax)) == 2 * t + 1  # an input and an LSTM per step, one output
        texts = [x.get_text() for x in ax.texts]
        assert texts.count("LSTM") == t and texts.count("output") == 1
        plt.close(fig)
    fig, ax = window_model(3, cell_state=False)
    texts = [x.get_text() for x in ax.texts]
    assert "$h_{t}$" in texts and "$h_{t+1}$" in texts
    plt.close(fig)
    with pytest.raises(ValueError):
        window_model(0)


@pytest.mark.parametrize("kw", [{"seq_length": 0}, {"horizon": 0}, {"stride": 0}, {"length": -1}])
def test_n_windows_rejects_bad_sizes(kw):
    args = {"length": 10, "seq_length": 3, "horizon": 1, "stride": 1} | kw
    with pytest.raises(ValueError, match=next(iter(kw))):
        n_windows(**args)
