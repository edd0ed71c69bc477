"""Smoothed n-gram language models of a long stream of symbol ids (characters).

``lstm_lib.baselines.ngram`` gives the *exact* optimum of a k-symbol predictor on the data it
counted:
the maximum-likelihood table, scored in-sample. On new text that table gives probability 0
to every (context, symbol) pair it never saw, so a held-out score needs smoothing. This
module counts every order up to ``order`` over a training stream of millions of symbols
(contexts packed into one int64, so counting is one ``np.unique`` per order) and scores
held-out positions with one of two smoothings, each with one constant per order chosen on
validation data:

- ``"add-k"``: ``p(y | c) = (n(c, y) + k) / (n(c) + k V)``;
- ``"interpolated"`` (a Dirichlet prior on the next order down)::

      p_0(y)      = 1 / V
      p_m(y | c)  = (n(c, y) + a_m p_{m-1}(y | c')) / (n(c) + a_m)

  with ``c`` the last ``m - 1`` symbols and ``c'`` the last ``m - 2``; an unseen context
  falls back to the order below, a rare one leans on it.

Order ``m`` means a context of ``m - 1`` symbols: order 1 is the unigram.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from lstm_lib.checks import positive_int

SMOOTHINGS = ("add-k", "interpolated")
DEFAULT_GRID = tuple(float(a) for a in np.logspace(-3, 3, 25))


def _ids(name: str, ids: np.ndarray, vocab_size: int) -> np.ndarray:
    if not isinstance(ids, np.ndarray):
        raise TypeError(f"{name} must be a NumPy int array (N,), got {type(ids).__name__}")
    if ids.dtype.kind not in "iu":
        raise TypeError(f"{name} must hold integer ids, got dtype {ids.dtype}")
    if ids.ndim != 1 or ids.size == 0:
        raise ValueError(f"{name} must have shape (N,) with N >= 1, got {ids.shape}")
    if ids.min() < 0 or ids.max() >= vocab_size:
        raise ValueError(f"{name} must lie in [0, {vocab_size}), got min {ids.min()} "
                         f"max {ids.max()}")
    return ids.astype(np.int64)


def _context_codes(ids: np.ndarray, positions: np.ndarray, length: int, base: int) -> np.ndarray:
    """The last ``length`` ids before each position, packed: sum_j ids[p-1-j] base^j."""
    code = np.zeros(len(positions), dtype=np.int64)
    for j in range(length):
        code += ids[positions - 1 - j] * base**j
    return code


@dataclass
class _Table:
    """Sorted unique keys and their counts."""

    keys: np.ndarray
    counts: np.ndarray

    @classmethod
    def of(cls, codes: np.ndarray) -> _Table:
        keys, counts = np.unique(codes, return_counts=True)
        return cls(keys, counts.astype(np.int64))

    def lookup(self, codes: np.ndarray) -> np.ndarray:
        """Counts of ``codes`` (0 where never seen)."""
        at = np.searchsorted(self.keys, codes)
        at = np.minimum(at, len(self.keys) - 1)
        return np.where(self.keys[at] == codes, self.counts[at], 0)


@dataclass
class NGramLM:
    """Counts of every order ``1 .. order`` of a training stream of ids in ``[0, vocab_size)``.

    ``fit(ids)`` counts; ``log2_probs`` / ``bpc`` score positions of another stream;
    ``choose`` picks the smoothing constants on validation data.
    """

    order: int
    vocab_size: int
    n_train: int = 0
    _joint: list[_Table] = field(default_factory=list, repr=False)
    _context: list[_Table] = field(default_factory=list, repr=False)

    def __post_init__(self) -> None:
        self.order = positive_int("order", self.order)
        self.vocab_size = positive_int("vocab_size", self.vocab_size)
        if self.vocab_size ** self.order >= 2**62:
            raise ValueError(f"vocab_size**order must fit in int64, got {self.vocab_size}"
                             f"**{self.order}")

    def fit(self, ids: np.ndarray) -> NGramLM:
        """Count, for every order ``m``, each (``m-1`` symbols, next symbol) of ``ids`` ``(N,)``
        (positions ``m-1 .. N-1``; order 1 counts every symbol). Returns ``self``."""
        ids = _ids("ids", ids, self.vocab_size)
        if len(ids) < self.order:
            raise ValueError(f"ids must hold at least order={self.order} symbols, got {len(ids)}")
        self.n_train = len(ids)
        self._joint, self._context = [], []
        for m in range(1, self.order + 1):
            pos = np.arange(m - 1, len(ids))
            ctx = _context_codes(ids, pos, m - 1, self.vocab_size)
            self._context.append(_Table.of(ctx))
            self._joint.append(_Table.of(ctx * self.vocab_size + ids[pos]))
        return self

    def _check(self, ids: np.ndarray, positions: np.ndarray, order: int) -> tuple[np.ndarray, ...]:
        if not self._joint:
            raise RuntimeError("call fit(ids) before scoring")
        if isinstance(order, bool) or not isinstance(order, (int, np.integer)) \
                or not 1 <= order <= self.order:
            raise ValueError(f"order must be an int in 1..{self.order}, got {order!r}")
        ids = _ids("ids", ids, self.vocab_size)
        pos = np.asarray(positions)
        if pos.ndim != 1 or pos.size == 0 or pos.dtype.kind not in "iu":
            raise ValueError(f"positions must be a non-empty int array (n,), got {pos.dtype} "
                             f"{pos.shape}")
        if pos.min() < order - 1 or pos.max() >= len(ids):
            raise ValueError(f"positions must lie in [{order - 1}, {len(ids)}) so that each has "
                             f"{order - 1} symbols of context, got {pos.min()}..{pos.max()}")
        return ids, pos.astype(np.int64)

    def _counts(self, ids: np.ndarray, pos: np.ndarray,
                order: int) -> list[tuple[np.ndarray, np.ndarray]]:
        """Per order m = 1..order: (n(c, y), n(c)) at each position, float64 (n,) each."""
        V = self.vocab_size
        y = ids[pos]
        out = []
        for m in range(1, order + 1):
            ctx = _context_codes(ids, pos, m - 1, V)
            joint = self._joint[m - 1].lookup(ctx * V + y).astype(np.float64)
            out.append((joint, self._context[m - 1].lookup(ctx).astype(np.float64)))
        return out

    @staticmethod
    def _smooth(counts: list[tuple[np.ndarray, np.ndarray]], smoothing: str,
                alphas: Sequence[float], vocab_size: int) -> np.ndarray:
        """Probabilities from the counts of orders 1..len(counts)."""
        if smoothing == "add-k":
            n_cy, n_c = counts[-1]
            return (n_cy + alphas[0]) / (n_c + alphas[0] * vocab_size)
        p = np.full(len(counts[0][0]), 1.0 / vocab_size)
        for (n_cy, n_c), a in zip(counts, alphas, strict=True):
            p = (n_cy + a * p) / (n_c + a)
        return p

    def _check_alphas(self, smoothing: str, alphas: Sequence[float], order: int) -> list[float]:
        if smoothing not in SMOOTHINGS:
            raise ValueError(f"smoothing must be one of {SMOOTHINGS}, got {smoothing!r}")
        alphas = [float(a) for a in alphas]
        want = 1 if smoothing == "add-k" else order
        if len(alphas) != want or not all(a > 0 and math.isfinite(a) for a in alphas):
            raise ValueError(f"{smoothing} needs {want} positive finite alpha(s), got {alphas}")
        return alphas

    def log2_probs(self, ids: np.ndarray, positions: np.ndarray, order: int,
                   smoothing: str, alphas: Sequence[float]) -> np.ndarray:
        """log2 p(ids[t] | the ``order - 1`` symbols before t) for each t in ``positions``.

        ``ids``: int ``(N,)``; ``positions``: int ``(n,)``, each ``>= order - 1``.
        ``smoothing="add-k"``: ``alphas`` is ``[k]``; ``"interpolated"``: ``alphas`` holds
        ``a_1 .. a_order`` (one per order, lowest first). Returns float64 ``(n,)``.
        """
        ids, pos = self._check(ids, positions, order)
        alphas = self._check_alphas(smoothing, alphas, order)
        counts = self._counts(ids, pos, order)
        return np.log2(self._smooth(counts, smoothing, alphas, self.vocab_size))

    def bpc(self, ids: np.ndarray, positions: np.ndarray, order: int, smoothing: str,
            alphas: Sequence[float]) -> float:
        """Bits per character: ``-mean(log2_probs(...))`` over ``positions``."""
        return float(-self.log2_probs(ids, positions, order, smoothing, alphas).mean())

    def choose(self, ids: np.ndarray, positions: np.ndarray, smoothing: str,
               grid: Sequence[float] = DEFAULT_GRID) -> list[NGramChoice]:
        """For every order 1..``self.order``, the smoothing constants in ``grid`` with the
        lowest bpc on ``ids[positions]`` (validation data; every position needs
        ``order - 1`` symbols of context).

        ``"add-k"``: the best ``k`` per order. ``"interpolated"``: ``a_1``, then ``a_2`` given
        ``a_1``, ... each the best in ``grid`` (one greedy pass, lowest order first), so the
        choice for order m extends that for order m - 1. Returns one ``NGramChoice`` per order.
        """
        ids, pos = self._check(ids, positions, self.order)
        if smoothing not in SMOOTHINGS:
            raise ValueError(f"smoothing must be one of {SMOOTHINGS}, got {smoothing!r}")
        grid = [float(a) for a in grid]
        if not grid or not all(a > 0 and math.isfinite(a) for a in grid):
            raise ValueError(f"grid must hold positive finite values, got {grid}")
        counts = self._counts(ids, pos, self.order)
        V = self.vocab_size

        def score(m: int, alphas: list[float]) -> float:
            return float(-np.log2(self._smooth(counts[:m], smoothing, alphas, V)).mean())

        out: list[NGramChoice] = []
        chosen: list[float] = []
        for m in range(1, self.order + 1):
            if smoothing == "add-k":
                scores = [score(m, [k]) for k in grid]
                best = int(np.argmin(scores))
                out.append(NGramChoice(m, smoothing, (grid[best],), scores[best]))
            else:
                scores = [score(m, chosen + [a]) for a in grid]
                best = int(np.argmin(scores))
                chosen.append(grid[best])
                out.append(NGramChoice(m, smoothing, tuple(chosen), scores[best]))
        return out


@dataclass(frozen=True)
class NGramChoice:
    """Smoothing chosen on validation: ``order``, ``smoothing``, its ``alphas`` and the
    validation bpc they give (``val_bpc``)."""

    order: int
    smoothing: str
    alphas: tuple[float, ...]
    val_bpc: float


__all__ = ["NGramLM", "NGramChoice", "SMOOTHINGS", "DEFAULT_GRID"]
