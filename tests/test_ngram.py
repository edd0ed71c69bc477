"""The exact k-gram baseline from counts."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lstm_lib.baselines.ngram import NGramCounts, ngram_score
from lstm_lib.data.windows import make_windows


def test_hand_counted_example():
    # contexts "a" (0) followed by b, b, c; context "b" (1) followed by a
    c = np.array([[0], [0], [0], [1]])
    y = np.array([1, 1, 2, 0])
    s = ngram_score(c, y, vocab_size=3)
    assert s.k == 1 and s.n_contexts == 2 and s.n_samples == 4
    assert s.accuracy == pytest.approx(3 / 4)
    expected_ce = -(2 * np.log(2 / 3) + np.log(1 / 3) + np.log(1.0)) / 4
    assert s.cross_entropy == pytest.approx(expected_ce)


def test_unigram_is_k0():
    y = np.array([0, 0, 1, 2, 0])
    s = ngram_score(np.zeros((5, 0), dtype=np.int64), y, vocab_size=3)
    p = np.array([3, 1, 1]) / 5
    assert s.accuracy == pytest.approx(0.6)
    assert s.cross_entropy == pytest.approx(-(p * np.log(p)).sum())


def test_deterministic_sequence_is_perfect_with_enough_context():
    seq = np.tile([0, 1, 2, 1], 10)  # after 1 comes 2 or 0: one symbol is ambiguous
    X, y = make_windows(seq, 1)
    assert ngram_score(X, y, 3).accuracy < 1
    X, y = make_windows(seq, 2)
    s = ngram_score(X, y, 3)
    assert s.accuracy == 1.0 and s.cross_entropy == pytest.approx(0.0, abs=1e-12)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.integers(0, 3), min_size=8, max_size=60), st.integers(1, 3))
def test_count_table_is_optimal_and_longer_context_never_hurts(seq, k):
    seq = np.array(seq)
    K = 4
    if len(seq) <= K:
        return
    scores = []
    for j in range(0, K + 1):
        if j == 0:
            X, y = np.zeros((len(seq) - K, 0), np.int64), seq[K:]
        else:
            X, y = make_windows(seq, j)
            X, y = X[K - j:], y[K - j:]
        scores.append(ngram_score(X, y, 4))
    for a, b in itertools.pairwise(scores):
        assert b.accuracy >= a.accuracy - 1e-12
        assert b.cross_entropy <= a.cross_entropy + 1e-12
    # the table's own predictions reach its accuracy; random predictors never beat it
    X, y = make_windows(seq, k)
    t = NGramCounts(4).fit(X, y)
    best = t.score()
    assert np.mean(t.predict(X) == y) == pytest.approx(best.accuracy)
    p = t.probs(X)
    ce = -np.mean(np.log(p[np.arange(len(y)), y]))
    assert ce == pytest.approx(best.cross_entropy)
    rng = np.random.default_rng(0)
    for _ in range(5):
        q = rng.dirichlet(np.ones(4), size=best.n_contexts)
        _, inv = np.unique(X[..., 0], axis=0, return_inverse=True)
        q = q[inv.reshape(-1)]
        assert -np.mean(np.log(q[np.arange(len(y)), y])) >= best.cross_entropy - 1e-12
        assert np.mean(q.argmax(1) == y) <= best.accuracy + 1e-12


def test_unseen_context_falls_back_to_unigram():
    t = NGramCounts(3).fit(np.array([[0], [0], [1]]), np.array([2, 2, 0]))
    np.testing.assert_allclose(t.probs(np.array([[2]]))[0], [1 / 3, 0, 2 / 3])


def test_errors():
    with pytest.raises(ValueError, match="same nb_samples"):
        ngram_score(np.zeros((3, 1), np.int64), np.zeros(2, np.int64), 2)
    with pytest.raises(TypeError, match="integer"):
        ngram_score(np.zeros((3, 1)), np.zeros(3, np.int64), 2)
    with pytest.raises(ValueError, match="vocab_size"):
        ngram_score(np.zeros((3, 1), np.int64), np.array([0, 1, 2]), 2)
    with pytest.raises(ValueError, match=r"\(nb_samples, k\)"):
        ngram_score(np.zeros(3, np.int64), np.zeros(3, np.int64), 2)
    with pytest.raises(RuntimeError, match="fit"):
        NGramCounts(2).score()
    with pytest.raises(ValueError, match="contexts must have shape"):
        NGramCounts(2).fit(np.zeros((3, 2), np.int64), np.zeros(3, np.int64)).probs(
            np.zeros((1, 1), np.int64))
