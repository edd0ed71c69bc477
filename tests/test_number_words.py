"""The number-words data: num2words' text, a split by the number alone, the data file."""

from __future__ import annotations

import collections

import pytest

from lstm_lib.data import number_words as nw


def test_words_are_num2words_text_in_both_languages():
    assert nw.words(397, "de") == "dreihundertsiebenundneunzig"
    assert nw.words(97, "fr") == "quatre-vingt-dix-sept"
    assert nw.words(0, "de") == "null" and nw.words(21, "fr") == "vingt et un"
    assert nw.words(999_999, "de").startswith("neunhundertneunundneunzigtausend")


@pytest.mark.parametrize("bad, error", [(-1, ValueError), (1_000_000, ValueError),
                                        (3.0, TypeError), (True, TypeError)])
def test_bad_numbers_are_refused(bad, error):
    with pytest.raises(error, match="n must"):
        nw.words(bad, "de")
    with pytest.raises(error, match="n must"):
        nw.split_of(bad)


def test_unknown_language_is_refused():
    with pytest.raises(ValueError, match="lang"):
        nw.words(5, "en")


def test_the_split_is_a_fixed_function_of_the_number_about_80_10_10():
    counts = collections.Counter(nw.split_of(n) for n in range(20_000))
    assert abs(counts["train"] / 20_000 - 0.8) < 0.01
    assert abs(counts["val"] / 20_000 - 0.1) < 0.01 and abs(counts["test"] / 20_000 - 0.1) < 0.01
    assert [nw.split_of(n) for n in range(50)] == [nw.split_of(n) for n in range(50)]
    assert nw.split_of(397) == nw.split_of(int("397"))       # the number, not its text


def test_rows_pair_both_languages_and_long_numbers_are_test_numbers():
    rows = nw.rows([397])
    assert rows == [(nw.split_of(397), "de", "dreihundertsiebenundneunzig", "397"),
                    (nw.split_of(397), "fr", "trois cent quatre-vingt-dix-sept", "397")]
    long = nw.long_numbers()
    assert len(long) == 937 and min(long) >= 100_000 and max(long) <= 999_999
    assert all(nw.split_of(n) == "test" for n in long[:50])


def test_naming_spans_mark_the_characters_that_name_each_digit():
    text = nw.words(397, "de")
    named = ["".join(text[i] for i in sorted(s)) for s in nw.naming_spans(397, "de")]
    assert named == ["drei", "undneunzig", "siebenund"]
    text = nw.words(97, "fr")
    nine, seven = nw.naming_spans(97, "fr")
    assert "".join(text[i] for i in sorted(seven)) == "dix-sept"
    assert set(range(len("quatre-vingt-dix"))) <= nine            # the 9 is 4 * 20 + 10
    assert nw.naming_spans(100, "de")[1:] == [set(), set()]      # 110 only inserts "zehn"
