"""Tests for lstm_lib.baselines.ngram_lm: counts, smoothing, choice on validation."""

from __future__ import annotations

import math

import numpy as np
import pytest

from lstm_lib.baselines.ngram import NGramCounts
from lstm_lib.baselines.ngram_lm import NGramLM


def _stream(n: int, V: int, seed: int) -> np.ndarray:
    """A Markov chain of order 2: each symbol depends on the two before it."""
    rng = np.random.default_rng(seed)
    table = rng.dirichlet(np.full(V, 0.3), size=(V, V))
    out = list(rng.integers(0, V, 2))
    for _ in range(n - 2):
        out.append(rng.choice(V, p=table[out[-2], out[-1]]))
    return np.asarray(out, dtype=np.int64)


def test_tiny_counts_by_hand():
    ids = np.array([0, 1, 0, 1, 1], dtype=np.int64)    # V = 2
    lm = NGramLM(2, 2).fit(ids)
    # order 2 at position 4 (context 1): n(1, 1) = 1 of n(1) = 2 followers of a 1
    k = 0.5
    got = lm.log2_probs(ids, np.array([4]), 2, "add-k", [k])[0]
    assert got == pytest.approx(math.log2((1 + k) / (2 + 2 * k)))
    # interpolated, order 1: (n(y) + a / V) / (N + a)
    a = 2.0
    got = lm.log2_probs(ids, np.array([0]), 1, "interpolated", [a])[0]
    assert got == pytest.approx(math.log2((2 + a * 0.5) / (5 + a)))


def test_small_alpha_gives_the_exact_table_of_ngram_py():
    """With a tiny constant the smoothed model is the maximum-likelihood table of
    lstm_lib.baselines.ngram.NGramCounts on every seen context."""
    ids = _stream(3000, 5, 0)
    k = 2
    lm = NGramLM(k + 1, 5).fit(ids)
    pos = np.arange(k, len(ids))
    ctx = np.stack([ids[pos - k + j] for j in range(k)], axis=1)
    exact = NGramCounts(5).fit(ctx, ids[pos])
    p_exact = exact.probs(ctx)[np.arange(len(pos)), ids[pos]]
    p_ours = 2.0 ** lm.log2_probs(ids, pos, k + 1, "add-k", [1e-9])
    np.testing.assert_allclose(p_ours, p_exact, rtol=1e-6)
    # and its in-sample cross-entropy is the exact optimum of ngram.py
    ce = exact.score().cross_entropy / math.log(2)
    assert lm.bpc(ids, pos, k + 1, "add-k", [1e-9]) == pytest.approx(ce, rel=1e-6)


@pytest.mark.parametrize("smoothing", ["add-k", "interpolated"])
def test_probabilities_sum_to_one(smoothing):
    V = 4
    ids = _stream(500, V, 1)
    lm = NGramLM(3, V).fit(ids)
    base = np.concatenate([ids[:50], [0]])
    total = np.zeros(1)
    for y in range(V):
        s = base.copy()
        s[-1] = y
        alphas = [0.7] if smoothing == "add-k" else [0.3, 2.0, 5.0]
        total += 2.0 ** lm.log2_probs(s, np.array([50]), 3, smoothing, alphas)
    assert total[0] == pytest.approx(1.0, abs=1e-12)


def test_choice_on_validation_beats_the_unigram_and_orders_help():
    V = 6
    train, val = _stream(20_000, V, 2), _stream(5_000, V, 2)
    lm = NGramLM(4, V).fit(train)
    pos = np.arange(3, len(val))
    for smoothing in ("add-k", "interpolated"):
        choices = lm.choose(val, pos, smoothing)
        assert [c.order for c in choices] == [1, 2, 3, 4]
        bpc = [c.val_bpc for c in choices]
        assert bpc[2] < bpc[1] - 0.1 < bpc[0] - 0.2   # order 3 sees the chain's whole context
        for c in choices:   # the reported score is what bpc() gives with those constants
            assert lm.bpc(val, pos, c.order, smoothing, c.alphas) == pytest.approx(c.val_bpc)
    inter = lm.choose(val, pos, "interpolated")
    assert inter[3].alphas[:3] == inter[2].alphas    # greedy: each order extends the last


def test_checks():
    lm = NGramLM(3, 4)
    with pytest.raises(RuntimeError):
        lm.bpc(np.zeros(5, np.int64), np.array([3]), 3, "add-k", [1.0])
    with pytest.raises(TypeError):
        lm.fit(np.zeros(5))
    with pytest.raises(ValueError):
        lm.fit(np.array([0, 1, 9]))
    lm.fit(np.array([0, 1, 2, 3, 0, 1], dtype=np.int64))
    ids = np.array([0, 1, 2, 3], dtype=np.int64)
    with pytest.raises(ValueError, match="context"):
        lm.bpc(ids, np.array([1]), 3, "add-k", [1.0])
    with pytest.raises(ValueError):
        lm.bpc(ids, np.array([3]), 3, "add-k", [1.0, 2.0])
    with pytest.raises(ValueError):
        lm.bpc(ids, np.array([3]), 3, "witten-bell", [1.0])
    with pytest.raises(ValueError):
        lm.bpc(ids, np.array([3]), 4, "add-k", [1.0])
    with pytest.raises(ValueError):
        NGramLM(20, 200)
