"""Tests for lstm_lib.data.number_split: held-out numbers of the counting corpus."""

from __future__ import annotations

import numpy as np
import pytest

from lstm_lib.data.corpus import number_words, numbers_corpus
from lstm_lib.data.number_split import held_out_split, token_owners


@pytest.mark.parametrize("level", ["char", "word"])
def test_owners_spell_each_number(level: str) -> None:
    corpus = numbers_corpus(120, level=level, start=3)
    owners = token_owners(120, level, start=3)
    assert owners.shape == corpus.ids.shape and owners[0] == 3 and owners[-1] == 120
    assert np.all(np.diff(owners) >= 0)
    for n in (3, 17, 99, 120):
        text = corpus.text(corpus.ids[owners == n])
        words = " ".join(number_words(n)) + " ."
        assert text.strip() == words if level == "char" else text == words


def test_split_is_seeded_disjoint_and_complete() -> None:
    a = held_out_split(200, fraction=0.25, seed=1, first=10)
    b = held_out_split(200, fraction=0.25, seed=1, first=10)
    assert np.array_equal(a.held_out, b.held_out) and a.held_out.size == 50
    assert np.intersect1d(a.train, a.test).size == 0
    assert np.array_equal(np.union1d(a.train, a.test), np.arange(10, a.owners.size))
    assert np.isin(a.owners[a.test], a.held_out).all()
    assert not np.isin(a.owners[a.train], a.held_out).any()
    c = held_out_split(200, fraction=0.25, seed=2, first=10)
    assert not np.array_equal(a.held_out, c.held_out)


def test_bad_arguments() -> None:
    with pytest.raises(ValueError):
        token_owners(10, "byte")
    with pytest.raises(ValueError):
        token_owners(5, start=6)
    with pytest.raises(ValueError):
        held_out_split(10, fraction=1.0)
    with pytest.raises(ValueError):
        held_out_split(10, first=-1)
    with pytest.raises(ValueError):
        held_out_split(3, first=10_000)
