"""Tests of lstm_lib.data.tagging: labels, shapes, validation, and the closed-form ceilings."""

from __future__ import annotations

import numpy as np
import pytest

from lstm_lib.data import encoding, tagging


def test_occurs_later_by_hand():
    tokens = np.array([[1, 2, 1, 3, 2], [0, 0, 0, 0, 0], [4, 3, 2, 1, 0]])
    want = np.array([[1, 1, 0, 0, 0], [1, 1, 1, 1, 0], [0, 0, 0, 0, 0]])
    np.testing.assert_array_equal(tagging.occurs_later(tokens), want)


def test_occurs_later_matches_a_loop():
    rng = np.random.default_rng(1)
    tokens = rng.integers(0, 5, size=(7, 11))
    labels = tagging.occurs_later(tokens)
    for b in range(7):
        for t in range(11):
            assert labels[b, t] == int(tokens[b, t] in tokens[b, t + 1 :])


def test_occurs_later_batch_shapes_and_consistency():
    batch = tagging.occurs_later_batch(4, 9, 6, np.random.default_rng(0))
    assert batch.x.shape == (4, 9, 6) and batch.x.dtype == np.float32
    assert batch.tokens.shape == (4, 9) and batch.labels.shape == (4, 9)
    np.testing.assert_array_equal(batch.x.argmax(-1), batch.tokens)
    np.testing.assert_array_equal(batch.x.sum(-1), 1.0)
    np.testing.assert_array_equal(batch.labels, tagging.occurs_later(batch.tokens))
    assert (batch.labels[:, -1] == 0).all()


def test_batches_are_reproducible_and_differ_across_seeds():
    a = tagging.occurs_later_batch(3, 8, 5, np.random.default_rng(7))
    b = tagging.occurs_later_batch(3, 8, 5, np.random.default_rng(7))
    c = tagging.occurs_later_batch(3, 8, 5, np.random.default_rng(8))
    np.testing.assert_array_equal(a.tokens, b.tokens)
    assert not np.array_equal(a.tokens, c.tokens)


def test_past_only_accuracy_formula_and_monte_carlo():
    acc = tagging.occurs_later_past_only_accuracy(6, 4)
    assert acc.shape == (6,)
    assert acc[-1] == 1.0  # the last symbol never recurs: "0" is always right
    p = 1 - 0.75 ** 5
    assert acc[0] == pytest.approx(max(p, 1 - p))
    # Monte Carlo: the label's frequency per position matches 1 - (1 - 1/V)**k
    batch = tagging.occurs_later_batch(20000, 6, 4, np.random.default_rng(3))
    freq = batch.labels.mean(axis=0)
    k = np.arange(5, -1, -1)
    np.testing.assert_allclose(freq, 1 - 0.75**k, atol=0.015)
    # answering the likelier label per position reaches the ceiling, on average
    guess = (1 - 0.75**k) > 0.5
    empirical = (batch.labels == guess).mean(axis=0)
    np.testing.assert_allclose(empirical, acc, atol=0.015)


def test_markov_tokens_step_probability():
    tokens = tagging.markov_tokens(4000, 30, 8, 0.6, np.random.default_rng(0))
    assert tokens.shape == (4000, 30) and tokens.min() >= 0 and tokens.max() < 8
    hit = (tokens[:, 1:] == (tokens[:, :-1] + 1) % 8).mean()
    assert hit == pytest.approx(tagging.next_symbol_causal_accuracy(8, 0.6), abs=0.01)
    assert tagging.next_symbol_causal_accuracy(8, 0.6) == pytest.approx(0.65)
    always = tagging.markov_tokens(5, 10, 3, 1.0, np.random.default_rng(0))
    np.testing.assert_array_equal(np.diff(always, axis=1) % 3, 1)


def test_next_symbol_batch_shifts_by_one():
    batch = tagging.next_symbol_batch(5, 12, 7, 0.5, np.random.default_rng(2))
    assert batch.x.shape == (5, 12, 7)
    assert batch.tokens.shape == (5, 13) and batch.labels.shape == (5, 12)
    np.testing.assert_array_equal(batch.x.argmax(-1), batch.tokens[:, :-1])
    np.testing.assert_array_equal(batch.labels, batch.tokens[:, 1:])


def test_one_hot_is_the_shared_one():
    assert tagging.one_hot is encoding.one_hot


@pytest.mark.parametrize(
    "call, err",
    [
        (lambda: tagging.occurs_later(np.array([1, 2, 3])), ValueError),
        (lambda: tagging.occurs_later(np.array([[1.0, 2.0]])), TypeError),
        (lambda: tagging.occurs_later([[1, 2]]), TypeError),
        (lambda: tagging.occurs_later(np.array([[-1, 2]])), ValueError),
        (lambda: tagging.one_hot(np.array([[3]]), 3), ValueError),
        (lambda: tagging.occurs_later_batch(0, 5, 3, np.random.default_rng()), ValueError),
        (lambda: tagging.occurs_later_batch(2, 5, 3, 0), TypeError),
        (lambda: tagging.occurs_later_past_only_accuracy(5, 0), ValueError),
        (lambda: tagging.markov_tokens(2, 5, 3, 1.5, np.random.default_rng()), ValueError),
        (lambda: tagging.next_symbol_causal_accuracy(3, -0.1), ValueError),
    ],
)
def test_validation(call, err):
    with pytest.raises(err):
        call()
