"""Tests for lstm_lib.models.windows: the context-windows chapter's models and plumbing."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from lstm_lib.models.windows import (
    Forecaster,
    WindowModel,
    WindowScore,
    score_next_symbol,
    train_on_windows,
    windows_before,
)


def test_windows_before_ids_and_values() -> None:
    ids = np.arange(20) % 7
    X, y = windows_before(ids, np.array([3, 10, 19]), 3)
    assert X.dtype == torch.int64 and X.shape == (3, 3) and y.tolist() == [3, 3, 5]
    assert X[1].tolist() == [0, 1, 2]                      # ids 7, 8, 9 (mod 7)
    values = np.linspace(0, 1, 11).astype(np.float32)
    Xv, yv = windows_before(values, np.array([5]), 2)
    assert Xv.shape == (1, 2, 1) and Xv.dtype == torch.float32
    assert Xv[0, :, 0].tolist() == pytest.approx([0.3, 0.4]) and yv.item() == pytest.approx(0.5)
    with pytest.raises(ValueError):
        windows_before(ids, np.array([2]), 3)              # not enough before position 2
    with pytest.raises(ValueError):
        windows_before(ids, np.array([20]), 3)
    with pytest.raises(TypeError):
        windows_before(ids, np.array([3.0]), 3)
    with pytest.raises(ValueError):
        windows_before(ids.reshape(4, 5), np.array([3]), 1)


def test_window_model_shapes_seed_and_inputs() -> None:
    ids = torch.tensor([[0, 1, 2], [3, 4, 0]])
    a, b = WindowModel(5, hidden_size=6, seed=3), WindowModel(5, hidden_size=6, seed=3)
    assert a(ids).shape == (2, 5)
    assert all(torch.equal(p, q) for p, q in zip(a.parameters(), b.parameters(), strict=True))
    state = torch.random.get_rng_state()
    WindowModel(5, seed=4)
    assert torch.equal(state, torch.random.get_rng_state())
    e = WindowModel(5, hidden_size=6, embed_dim=2, seed=0)
    assert e.inputs(ids).shape == (2, 3, 2) and a.inputs(ids).shape == (2, 3, 5)
    with pytest.raises(ValueError):
        a(torch.tensor([[0, 5]]))                          # id outside the vocabulary
    with pytest.raises(TypeError):
        a(torch.zeros(2, 3))                               # floats are not ids
    with pytest.raises(ValueError):
        WindowModel(5, seed=-1)


def test_forecaster_shapes() -> None:
    f = Forecaster(hidden_size=4, seed=0)
    assert f(torch.zeros(3, 5, 1)).shape == (3,)
    with pytest.raises(ValueError):
        f(torch.zeros(3, 5, 2))


def test_training_learns_a_deterministic_rule_and_scores_it() -> None:
    ids = np.tile(np.arange(4), 50)                        # 0 1 2 3 0 1 2 3 ...: next = last + 1
    X, y = windows_before(ids, np.arange(2, ids.size), 2)
    model = WindowModel(4, hidden_size=8, seed=0)
    before = score_next_symbol(model, X, y)
    hist = train_on_windows(model, X, y, F.cross_entropy, steps=150, batch_size=32, lr=0.05)
    after = score_next_symbol(model, X, y)
    assert isinstance(after, WindowScore) and after.n == len(y)
    assert after.accuracy == 1.0 and after.cross_entropy < before.cross_entropy
    assert len(hist.loss) == 150
    with pytest.raises(ValueError):
        train_on_windows(model, X, y[:-1], F.cross_entropy)


def test_train_and_score_learns_a_deterministic_rule() -> None:
    from lstm_lib.models.windows import WindowRun, train_and_score

    rng = np.random.default_rng(0)
    X = torch.as_tensor(rng.integers(0, 4, (600, 2)))
    y = (X[:, -1] + 1) % 4                          # next symbol = last one + 1 (mod 4)
    run = train_and_score(4, (X[:400], y[:400]), (X[400:], y[400:]), steps=150, seed=0)
    assert isinstance(run, WindowRun) and set(run.scores) == {"train", "held out"}
    assert run.scores["train"].accuracy > 0.95 and run.scores["held out"].accuracy > 0.95
    again = train_and_score(4, (X[:400], y[:400]), (X[400:], y[400:]), steps=150, seed=0)
    assert again.scores["train"] == run.scores["train"]       # seeded: repeatable
    with pytest.raises(TypeError, match="pair"):
        train_and_score(4, X, (X, y))


def test_followers_counts_and_checks() -> None:
    from lstm_lib.baselines.ngram import NGramCounts
    from lstm_lib.models.windows import followers

    X = np.array([[0], [0], [0], [1]])
    y = np.array([1, 1, 2, 0])
    table = NGramCounts(3).fit(X, y)
    assert followers(table, [0], "abc") == {"b": 2, "c": 1}
    assert followers(table, [2], "abc") == {}                # never seen
    with pytest.raises(ValueError, match="k = 1"):
        followers(table, [0, 1], "abc")
    with pytest.raises(TypeError, match="fitted"):
        followers(NGramCounts(3), [0], "abc")
    with pytest.raises(TypeError, match="integer"):
        followers(table, [0.5], "abc")


def test_seen_unseen_accuracy_splits_by_context() -> None:
    from lstm_lib.baselines.ngram import NGramCounts
    from lstm_lib.models.windows import seen_unseen_accuracy

    table = NGramCounts(3).fit(np.array([[0], [1]]), np.array([1, 2]))

    class Fixed(torch.nn.Module):                  # always predicts symbol 0
        def forward(self, ids: torch.Tensor) -> torch.Tensor:
            out = torch.zeros(ids.shape[0], 3)
            out[:, 0] = 1.0
            return out

    X = torch.tensor([[0], [1], [2], [2]])
    y = torch.tensor([1, 0, 0, 1])
    s = seen_unseen_accuracy(Fixed(), table, X, y)
    assert (s.n_seen, s.n_unseen, s.seen_fraction) == (2, 2, 0.5)
    assert s.model_seen == 0.5 and s.model_unseen == 0.5
    assert s.table_seen == 0.5             # right on [0] -> 1, wrong on [1] -> 0
    # unseen contexts: the table predicts the most frequent target overall (1; ties -> 1)
    assert s.table_unseen == 0.5
    with pytest.raises(ValueError, match=r"\(n, k\)"):
        seen_unseen_accuracy(Fixed(), table, X[:, 0], y)
    with pytest.raises(TypeError, match="tensors"):
        seen_unseen_accuracy(Fixed(), table, X.numpy(), y)


def test_forecast_errors_beats_the_mean_and_checks() -> None:
    from lstm_lib.data.series import noisy_periodic
    from lstm_lib.models.windows import forecast_errors

    train = noisy_periodic(400, period=8, noise=0.05, seed=1).astype(np.float32)
    test = noisy_periodic(200, period=8, noise=0.05, phase=1.0, seed=2).astype(np.float32)
    err = forecast_errors(train, test, 3, first=3, steps=100, seed=0)
    assert set(err) == {"LSTM", "AR"}
    assert err["AR"] < 0.05 and err["LSTM"] < 0.4     # variance of the sine is 0.5
    with pytest.raises(ValueError, match="first"):
        forecast_errors(train, test, 3, first=2)
    with pytest.raises(TypeError, match="float"):
        forecast_errors(np.arange(50), test, 3, first=3)
