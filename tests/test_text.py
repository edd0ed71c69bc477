"""Tests for lstm_lib.data.text: the corpus and its split."""

from __future__ import annotations

import hashlib

import numpy as np
import pytest

from lstm_lib.data.text import (
    TextCorpus,
    is_test_file,
    python_source_corpus,
    split_by_position,
)


@pytest.fixture(scope="module")
def corpus():
    return python_source_corpus()


def test_corpus_is_the_pinned_keras_source(corpus):
    assert corpus.package == "keras" and corpus.version == "3.15.1"
    assert corpus.n_bytes >= 1_000_000
    assert list(corpus.files) == sorted(corpus.files)
    assert not any(is_test_file(f) for f in corpus.files)
    assert corpus.sha256 == hashlib.sha256(corpus.text.encode()).hexdigest()
    # the files are joined in order: each starts where its offset says
    from importlib.metadata import distribution

    dist = distribution("keras")
    for j in (0, len(corpus.files) // 2, len(corpus.files) - 1):
        body = dist.locate_file(corpus.files[j]).read_text(encoding="utf-8")
        assert corpus.text[corpus.starts[j]: corpus.starts[j] + len(body)] == body


def test_file_at(corpus):
    assert corpus.file_at(0) == corpus.files[0]
    assert corpus.file_at(int(corpus.starts[5])) == corpus.files[5]
    assert corpus.file_at(int(corpus.starts[5]) - 1) == corpus.files[4]
    with pytest.raises(ValueError):
        corpus.file_at(len(corpus.text))


def test_file_spans_cover_the_range(corpus):
    a, b = 1_000_000, 1_050_000
    spans = corpus.file_spans(a, b)
    assert spans[0][0] <= a < b <= spans[-1][1]
    assert all(s[1] == t[0] for s, t in zip(spans, spans[1:]))
    with pytest.raises(ValueError):
        corpus.file_spans(10, 5)


def test_package_shares_count_characters_per_folder():
    files = ("k/a.py", "k/src/x/one.py", "k/src/x/two.py", "k/src/y/deep/three.py")
    texts = ["aaaa", "bb", "cccccc", "dddddddd"]                    # 4 + 2 + 6 + 8 = 20
    starts = np.cumsum([0] + [len(t) for t in texts[:-1]], dtype=np.int64)
    c = TextCorpus(text="".join(texts), files=files, starts=starts, package="k", version="0",
                   sha256="")
    assert c.package_shares(0, 20) == [("k/src/x", 0.4), ("k/src/y", 0.4), ("k", 0.2)]
    assert [k for k, _ in c.package_shares(0, 20, depth=4)] == ["k/src/x", "k/src/y/deep", "k"]
    assert c.package_shares(0, 20, depth=1) == [("k", 1.0)]
    assert c.package_shares(5, 16) == [("k/src/x", 7 / 11), ("k/src/y", 4 / 11)]
    assert c.package_shares(6, 7) == [("k/src/x", 1.0)]


def test_wrong_pin_refuses():
    with pytest.raises(RuntimeError, match="pinned"):
        python_source_corpus(version="0.0.1")
    with pytest.raises(RuntimeError, match="not installed"):
        python_source_corpus(package="no_such_package_here")


def test_is_test_file():
    assert is_test_file("keras/src/layers/dense_test.py")
    assert is_test_file("keras/src/testing/test_case.py")
    assert is_test_file("pkg/tests/helpers.py")
    assert not is_test_file("keras/src/layers/dense.py")
    assert not is_test_file("keras/src/utils/contest.py")


def test_split_is_by_position():
    s = split_by_position(1000, 0.1, 0.2)
    assert (s.train, s.val, s.test) == (slice(0, 700), slice(700, 800), slice(800, 1000))
    with pytest.raises(ValueError):
        split_by_position(1000, 0.6, 0.5)
    with pytest.raises(ValueError):
        split_by_position(1000, 0.0, 0.1)

