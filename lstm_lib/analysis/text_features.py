"""Exact per-character features of Python source, and how well each unit of a model tracks them.

``python_char_features(source)`` reads a source file with Python's own ``tokenize`` and
returns, for every character, what holds *after* that character has been read (which is
what a recurrent state at that step can know):

- ``in_string``: 1 if the character belongs to a string literal (prefix and quotes
  included), else 0;
- ``in_comment``: 1 if it belongs to a ``#`` comment;
- ``bracket_depth``: how many ``( [ {`` are open (brackets inside strings and comments do
  not count: they are not operator tokens);
- ``indent_depth``: the indentation level of ``tokenize`` (INDENT minus DEDENT tokens so
  far); the level changes at the first token of a line, blank lines keep it;
- ``column``: the position in the line (0 for the character after a newline);
- ``leading_space``: 1 for a space before the first other character of its line (the
  indentation as written).

``CELL_FEATURES`` are the five the interpretability analysis uses (all but
``leading_space``); ``char_classes`` sorts characters into four kinds for scoring.

``correlate_units`` gives Pearson's r between every unit's activation and every feature;
``unit_summary`` the best unit per feature, how many units pass ``|r| > threshold`` and the
fraction of units that pass it for at least one feature. ``plot_text_activation`` draws a
text coloured by one unit's activation, in the manner of Karpathy, Johnson and Fei-Fei (2015).
"""

from __future__ import annotations

import io
import tokenize
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

FEATURES = ("in_string", "in_comment", "bracket_depth", "indent_depth", "column",
            "leading_space")
CELL_FEATURES = FEATURES[:5]
CLASSES = ("leading spaces", "in a string", "in a comment", "other code")
_OPEN, _CLOSE = "([{", ")]}"


def _line_offsets(source: str) -> np.ndarray:
    """Offset of the first character of every line (1-based rows: index row - 1)."""
    starts = [0]
    for i, ch in enumerate(source):
        if ch == "\n":
            starts.append(i + 1)
    return np.asarray(starts, dtype=np.int64)


def python_char_features(source: str) -> dict[str, np.ndarray]:
    """The ``FEATURES`` of every character of ``source`` (a whole Python module).

    Returns a dict of int64 arrays ``(len(source),)``. Raises ``ValueError`` if ``tokenize``
    cannot read the source (unbalanced brackets, unterminated strings, bad indentation).
    """
    if not isinstance(source, str):
        raise TypeError(f"source must be a str, got {type(source).__name__}")
    n = len(source)
    offsets = _line_offsets(source)
    in_string = np.zeros(n, dtype=np.int64)
    in_comment = np.zeros(n, dtype=np.int64)
    bracket = np.zeros(n + 1, dtype=np.int64)   # +1 / -1 where a bracket is read
    indent = np.zeros(n + 1, dtype=np.int64)    # +1 / -1 where the level changes

    def at(pos: tuple[int, int]) -> int:
        row, col = pos
        return min(int(offsets[row - 1]) + col, n) if row - 1 < len(offsets) else n

    try:
        for tok in tokenize.generate_tokens(io.StringIO(source).readline):
            a, b = at(tok.start), at(tok.end)
            if tok.type == tokenize.STRING:
                in_string[a:b] = 1
            elif tok.type == tokenize.COMMENT:
                in_comment[a:b] = 1
            elif tok.type == tokenize.OP and tok.string in _OPEN:
                bracket[a] += 1
            elif tok.type == tokenize.OP and tok.string in _CLOSE:
                bracket[a] -= 1
            elif tok.type == tokenize.INDENT:
                indent[b] += 1       # at the line's first token, after the whitespace
            elif tok.type == tokenize.DEDENT:
                indent[a] -= 1       # DEDENT sits at the next line's first token
    except (tokenize.TokenError, IndentationError, SyntaxError) as err:
        raise ValueError(f"tokenize cannot read the source: {err}") from err
    starts_of_line = np.zeros(n, dtype=np.int64)
    starts_of_line[offsets[1:][offsets[1:] < n]] = offsets[1:][offsets[1:] < n]
    line_start = np.maximum.accumulate(starts_of_line)
    leading = np.zeros(n, dtype=np.int64)
    for a in offsets[offsets < n].tolist():
        end = source.find("\n", a)
        line = source[a: n if end < 0 else end]
        leading[a: a + len(line) - len(line.lstrip(" "))] = 1
    return {
        "in_string": in_string,
        "in_comment": in_comment,
        "bracket_depth": np.cumsum(bracket)[:n],
        "indent_depth": np.cumsum(indent)[:n],
        "column": np.arange(n, dtype=np.int64) - line_start,
        "leading_space": leading,
    }


def char_classes(features: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Sort characters into the four ``CLASSES``, each character into exactly one: leading
    spaces, then (of the rest) string literals, then comments, then everything else.

    ``features``: ``python_char_features`` or ``corpus_features`` output (or a selection of
    positions of it). Returns name -> bool ``(n,)``.
    """
    lead = np.asarray(features["leading_space"]) == 1
    string = (np.asarray(features["in_string"]) == 1) & ~lead
    comment = (np.asarray(features["in_comment"]) == 1) & ~lead & ~string
    return {"leading spaces": lead, "in a string": string, "in a comment": comment,
            "other code": ~(lead | string | comment)}


def corpus_features(text: str, file_spans: Sequence[tuple[int, int]], start: int,
                    stop: int) -> dict[str, np.ndarray]:
    """The ``FEATURES`` of ``text[start:stop]``, each file tokenized whole.

    ``file_spans``: the ``(begin, end)`` offsets of the files that cover ``[start, stop)``
    (``TextCorpus.file_spans(start, stop)``), consecutive. Returns int64 arrays
    ``(stop - start,)``.
    """
    if not file_spans:
        raise ValueError("file_spans must hold at least one (begin, end) pair")
    begin, end = file_spans[0][0], file_spans[-1][1]
    if not (begin <= start < stop <= end):
        raise ValueError(f"the files cover [{begin}, {end}), which must contain "
                         f"[{start}, {stop})")
    parts: dict[str, list[np.ndarray]] = {k: [] for k in FEATURES}
    prev = begin
    for a, b in file_spans:
        if a != prev:
            raise ValueError(f"file_spans must be consecutive, got a gap at {prev}..{a}")
        feats = python_char_features(text[a:b])
        for k in FEATURES:
            parts[k].append(feats[k])
        prev = b
    return {k: np.concatenate(v)[start - begin: stop - begin] for k, v in parts.items()}


def correlate_units(activations: np.ndarray,
                    features: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Pearson's r between each unit and each feature.

    ``activations``: float ``(n, H)``, one row per character; ``features``: name -> ``(n,)``.
    Returns name -> float64 ``(H,)``; a unit that never changes gets r = 0. A feature that
    is constant over the n characters raises ``ValueError`` (its r is undefined).
    """
    a = np.asarray(activations)
    if a.ndim != 2 or a.shape[0] < 2:
        raise ValueError(f"activations must have shape (n, H) with n >= 2, got {a.shape}")
    if a.dtype.kind != "f":
        raise TypeError(f"activations must be floating, got dtype {a.dtype}")
    if not np.isfinite(a).all():
        raise ValueError("activations contain NaN or inf")
    a = a.astype(np.float64)
    a = a - a.mean(0)
    a_norm = np.sqrt((a**2).sum(0))
    out = {}
    for name, f in features.items():
        f = np.asarray(f, dtype=np.float64)
        if f.shape != (a.shape[0],):
            raise ValueError(f"feature {name!r} must have shape ({a.shape[0]},), got {f.shape}")
        f = f - f.mean()
        f_norm = np.sqrt((f**2).sum())
        if f_norm == 0:
            raise ValueError(f"feature {name!r} is constant over these characters")
        with np.errstate(invalid="ignore", divide="ignore"):
            r = (a * f[:, None]).sum(0) / (a_norm * f_norm)
        out[name] = np.where(a_norm > 0, r, 0.0)
    return out


@dataclass(frozen=True)
class FeatureUnits:
    """For one feature: the ``best`` unit (largest |r|), its ``r`` (signed), ``units``, the
    units with ``|r| > threshold`` (ascending), and ``count``, how many there are."""

    feature: str
    best: int
    r: float
    count: int
    units: tuple[int, ...] = ()


@dataclass(frozen=True)
class UnitSummary:
    """``per_feature``: a ``FeatureUnits`` per feature; ``interpretable``: the units with
    ``|r| > threshold`` for at least one feature; ``fraction``: their share of all ``n_units``."""

    per_feature: dict[str, FeatureUnits]
    interpretable: tuple[int, ...]
    n_units: int
    threshold: float

    @property
    def fraction(self) -> float:
        """Share of the units that pass the threshold for some feature."""
        return len(self.interpretable) / self.n_units

    def passing(self, features: Sequence[str]) -> tuple[int, ...]:
        """The units that pass the threshold for at least one of ``features`` (ascending)."""
        unknown = [f for f in features if f not in self.per_feature]
        if unknown:
            raise KeyError(f"no feature {unknown}; the summary has {sorted(self.per_feature)}")
        return tuple(sorted(set().union(*(self.per_feature[f].units for f in features))))


def unit_summary(r: Mapping[str, np.ndarray], threshold: float = 0.5) -> UnitSummary:
    """Summarise ``correlate_units``'s result: name -> r ``(H,)``."""
    if not 0 < threshold < 1:
        raise ValueError(f"threshold must lie in (0, 1), got {threshold!r}")
    if not r:
        raise ValueError("r must hold at least one feature")
    sizes = {np.shape(v) for v in r.values()}
    if len(sizes) != 1 or len(next(iter(sizes))) != 1:
        raise ValueError(f"every r must have the same shape (H,), got {sizes}")
    per, passing = {}, np.zeros(next(iter(sizes))[0], dtype=bool)
    for name, v in r.items():
        v = np.asarray(v, dtype=np.float64)
        best = int(np.argmax(np.abs(v)))
        hits = np.abs(v) > threshold
        passing |= hits
        per[name] = FeatureUnits(name, best, float(v[best]), int(hits.sum()),
                                 tuple(int(i) for i in np.flatnonzero(hits)))
    return UnitSummary(per, tuple(int(i) for i in np.flatnonzero(passing)), len(passing),
                       threshold)


def plot_text_activation(ax: Any, text: str, values: np.ndarray, *, title: str = "",
                         cmap: str = "RdBu_r", vmax: float | None = None,
                         fontsize: float = 7.0) -> Any:
    """Draw ``text`` as a grid of characters, each on a background coloured by its value.

    ``values``: float ``(len(text),)``, e.g. one unit's activation after reading each
    character; colours run from blue (negative) through white to red (positive), symmetric
    around 0 up to ``vmax`` (default: max |value|). A newline ends a row. Returns the image
    (for a colour bar).
    """
    v = np.asarray(values, dtype=np.float64)
    if v.shape != (len(text),):
        raise ValueError(f"values must have shape ({len(text)},), got {v.shape}")
    lines = text.split("\n")
    width = max(1, max(len(ln) + 1 for ln in lines))
    grid = np.full((len(lines), width), np.nan)
    pos = 0
    for row, ln in enumerate(lines):
        k = len(ln) + (row < len(lines) - 1)   # the characters of the row and its newline
        grid[row, :k] = v[pos: pos + k]
        for col, ch in enumerate(ln):
            if ch != " ":
                ax.text(col, row, ch, ha="center", va="center", family="monospace",
                        fontsize=fontsize)
        pos += len(ln) + 1
    vmax = float(np.nanmax(np.abs(v))) if vmax is None else float(vmax)
    img = ax.imshow(grid, cmap=cmap, vmin=-vmax, vmax=vmax, aspect="auto",
                    interpolation="nearest")
    ax.set_xticks([])
    ax.set_yticks([])
    if title:
        ax.set_title(title, fontsize=9)
    return img


__all__ = [
    "FEATURES",
    "CELL_FEATURES",
    "CLASSES",
    "python_char_features",
    "char_classes",
    "corpus_features",
    "correlate_units",
    "FeatureUnits",
    "UnitSummary",
    "unit_summary",
    "plot_text_activation",
]
