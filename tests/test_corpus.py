"""The numbers-in-words corpus."""

from __future__ import annotations

import numpy as np
import pytest

from lstm_lib.data.corpus import number_words, numbers_corpus, numbers_text


@pytest.mark.parametrize("n, words", [
    (1, "one"), (13, "thirteen"), (20, "twenty"), (21, "twenty one"), (100, "one hundred"),
    (115, "one hundred fifteen"), (999, "nine hundred ninety nine"), (1000, "one thousand"),
    (1001, "one thousand one"), (40_310, "forty thousand three hundred ten"),
    (999_999, "nine hundred ninety nine thousand nine hundred ninety nine"),
])
def test_number_words(n, words):
    assert " ".join(number_words(n)) == words


def test_number_words_range():
    for bad in (0, -3, 1_000_000):
        with pytest.raises(ValueError):
            number_words(bad)
    with pytest.raises(TypeError):
        number_words(2.0)


def test_numbers_text():
    assert numbers_text(3) == "one . two . three ."
    assert numbers_text(12, start=11) == "eleven . twelve ."
    with pytest.raises(ValueError, match="stop must be >= start"):
        numbers_text(3, start=5)


def test_word_corpus_vocab_and_round_trip():
    c = numbers_corpus(999, level="word")
    assert c.vocab == sorted(c.vocab) and len(set(c.vocab)) == c.vocab_size
    # 19 ones, 8 tens, "hundred", "." (no "thousand" below 1000)
    assert c.vocab_size == 29 and "thousand" not in c.vocab
    assert c.ids.shape == (len(c.tokens),) and c.ids.dtype == np.int64
    assert c.decode(c.ids) == c.tokens
    assert c.text() == numbers_text(999)
    assert c.decode(c.encode("twenty one .")) == ["twenty", "one", "."]
    # every number ends with the separator: 999 of them
    assert c.tokens.count(".") == 999


def test_char_corpus_round_trip():
    c = numbers_corpus(120, level="char")
    assert c.text() == numbers_text(120)
    assert c.text(c.ids[:9]) == "one . two"
    assert set(c.vocab) == set(numbers_text(120))
    assert " " in c.vocab and "." in c.vocab


def test_corpus_errors():
    c = numbers_corpus(10, level="word")
    with pytest.raises(ValueError, match="not in the vocabulary"):
        c.encode(["eleven"])
    with pytest.raises(ValueError, match="lie in"):
        c.decode([c.vocab_size])
    with pytest.raises(TypeError, match="integers"):
        c.decode(np.array([0.0]))
    with pytest.raises(ValueError, match="level"):
        numbers_corpus(10, level="byte")
