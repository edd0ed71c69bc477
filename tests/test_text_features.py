"""Tests for lstm_lib.analysis.text_features: exact per-character features and unit correlations."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from lstm_lib.analysis.text_features import (  # noqa: E402
    CLASSES,
    FEATURES,
    char_classes,
    corpus_features,
    correlate_units,
    plot_text_activation,
    python_char_features,
    unit_summary,
)

SRC = '''def f(a, b=[1, 2]):
    """Doc (with) string."""
    x = {"k": (a,
          b)}  # note (

    if x:
        return 1
y = ")"
'''


def _at(feats, src, needle, offset=0):
    i = src.index(needle) + offset
    return {k: int(v[i]) for k, v in feats.items()}


def test_features_by_hand():
    F = python_char_features(SRC)
    assert set(F) == set(FEATURES) and all(v.shape == (len(SRC),) for v in F.values())
    assert _at(F, SRC, "(a,")["bracket_depth"] == 1
    assert _at(F, SRC, "[1")["bracket_depth"] == 2 and _at(F, SRC, "]")["bracket_depth"] == 1
    # brackets inside a string or a comment do not count
    doc = _at(F, SRC, "(with")
    assert doc["in_string"] == 1 and doc["bracket_depth"] == 0 and doc["indent_depth"] == 1
    assert _at(F, SRC, "# note (", 7) == {"in_string": 0, "in_comment": 1, "bracket_depth": 0,
                                          "indent_depth": 1, "column": 22, "leading_space": 0}
    # the continuation line keeps depth 2 until the closing brackets
    assert _at(F, SRC, "b)}")["bracket_depth"] == 2 and _at(F, SRC, "b)}", 2)["bracket_depth"] == 0
    assert _at(F, SRC, "return")["indent_depth"] == 2
    assert _at(F, SRC, "y =")["indent_depth"] == 0
    assert _at(F, SRC, '")"', 1)["in_string"] == 1 and F["bracket_depth"][-3] == 0
    # the indentation level changes at the first token of a line, not at its spaces
    i = SRC.index("return")
    assert F["indent_depth"][i - 1] == 1 and F["indent_depth"][i] == 2
    # column: 0 after each newline, the newline itself ends its line
    starts = [0] + [j + 1 for j, ch in enumerate(SRC[:-1]) if ch == "\n"]
    assert all(F["column"][s] == 0 for s in starts)
    assert F["column"][SRC.index("\n")] == SRC.index("\n")


def test_leading_spaces_and_classes():
    F = python_char_features(SRC)
    i = SRC.index("return")
    assert F["leading_space"][i - 8: i].tolist() == [1] * 8 and F["leading_space"][i] == 0
    assert F["leading_space"][SRC.index("= {") - 1] == 0      # a space after code
    assert F["leading_space"][SRC.index("\n\n") + 1] == 0    # an empty line has none
    cls = char_classes(F)
    assert list(cls) == list(CLASSES)
    total = sum(v.astype(int) for v in cls.values())
    assert (total == 1).all()                                  # each character in one class
    assert cls["in a string"][SRC.index("Doc")] and cls["in a comment"][SRC.index("note")]
    assert cls["leading spaces"][i - 1] and cls["other code"][i]


def test_bad_source_raises():
    with pytest.raises(ValueError):
        python_char_features("x = (1,\n")
    with pytest.raises(TypeError):
        python_char_features(b"x = 1\n")


def test_corpus_features_match_each_file_alone():
    a, b = "x = (1,\n     2)\n", "s = '(('\n"
    text = a + b
    spans = [(0, len(a)), (len(a), len(text))]
    got = corpus_features(text, spans, 3, len(text) - 2)
    fa, fb = python_char_features(a), python_char_features(b)
    for k in FEATURES:
        np.testing.assert_array_equal(got[k], np.concatenate([fa[k], fb[k]])[3:-2])
    with pytest.raises(ValueError):
        corpus_features(text, spans, 0, len(text) + 1)
    with pytest.raises(ValueError):
        corpus_features(text, [(0, 3), (5, len(text))], 0, 4)


def test_correlation_finds_the_planted_unit():
    rng = np.random.default_rng(0)
    n, H = 2000, 6
    f = rng.integers(0, 4, n)
    acts = rng.normal(size=(n, H))
    acts[:, 3] = -0.8 * f + 0.3 * rng.normal(size=n)
    acts[:, 5] = 0.0                                    # a dead unit
    r = correlate_units(acts, {"depth": f, "noise": rng.normal(size=n)})
    np.testing.assert_allclose(r["depth"][3], np.corrcoef(acts[:, 3], f)[0, 1])
    assert r["depth"][5] == 0.0
    s = unit_summary(r, threshold=0.5)
    assert s.per_feature["depth"].best == 3 and s.per_feature["depth"].r < -0.9
    assert s.per_feature["depth"].count == 1 and s.per_feature["noise"].count == 0
    assert s.interpretable == (3,) and s.fraction == pytest.approx(1 / 6)
    assert s.per_feature["depth"].units == (3,) and s.per_feature["noise"].units == ()
    assert s.passing(["depth", "noise"]) == (3,) and s.passing(["noise"]) == ()
    with pytest.raises(KeyError):
        s.passing(["column"])


def test_passing_joins_the_units_of_several_features():
    r = {"a": np.array([0.9, 0.1, -0.6, 0.0]), "b": np.array([0.0, 0.7, 0.8, 0.2])}
    s = unit_summary(r, threshold=0.5)
    assert s.per_feature["a"].units == (0, 2) and s.per_feature["b"].units == (1, 2)
    assert s.passing(["a", "b"]) == s.interpretable == (0, 1, 2)
    assert set(s.passing(["b"])) - set(s.passing(["a"])) == {1}


def test_correlation_checks():
    with pytest.raises(ValueError, match="constant"):
        correlate_units(np.ones((5, 2)) + np.arange(5.0)[:, None], {"c": np.ones(5)})
    with pytest.raises(TypeError):
        correlate_units(np.ones((5, 2), dtype=int), {"c": np.arange(5)})
    with pytest.raises(ValueError):
        correlate_units(np.ones((5, 2)), {"c": np.arange(4)})
    with pytest.raises(ValueError):
        unit_summary({"a": np.zeros(3)}, threshold=1.5)


def test_plot_text_activation_places_every_visible_character():
    text = "ab c\n(d)\n"
    fig, ax = plt.subplots()
    img = plot_text_activation(ax, text, np.linspace(-1, 1, len(text)), title="t")
    grid = img.get_array()
    assert grid.shape == (3, 5)
    drawn = sorted(t.get_text() for t in ax.texts)
    assert drawn == sorted("abc(d)")
    with pytest.raises(ValueError):
        plot_text_activation(ax, text, np.zeros(3))
    plt.close(fig)
