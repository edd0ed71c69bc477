"""The exact k-gram baseline: what the best predictor that sees only the last k symbols scores.

Count, over a data set of (context, next symbol) pairs, how often each next symbol follows
each context of k symbols. On that same data

- no predictor that sees only the k symbols can be right more often than
  ``sum_c max_y n(c, y) / N`` (predict the most frequent follower of each context), and
- no predictor that sees only the k symbols can have a lower cross-entropy than the
  empirical conditional entropy ``-(1/N) sum_{c,y} n(c, y) log(n(c, y) / n(c))``.

So these numbers bound, exactly, the training accuracy and training loss of any model fed a
window of k symbols, an LSTM included. ``k = 0`` (an empty context) gives the unigram
baseline: always predict the most frequent symbol.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from lstm_lib.checks import positive_int


def _as_pairs(contexts: np.ndarray, targets: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    c = np.asarray(contexts)
    y = np.asarray(targets)
    if c.ndim == 3 and c.shape[2] == 1:  # windows of ids as make_windows returns them
        c = c[..., 0]
    if c.ndim != 2:
        raise ValueError(
            f"contexts must have shape (nb_samples, k) or (nb_samples, k, 1), got {c.shape}"
        )
    if y.ndim != 1:
        raise ValueError(f"targets must have shape (nb_samples,), got {y.shape}")
    if c.shape[0] != y.shape[0]:
        raise ValueError(
            f"contexts and targets must have the same nb_samples, got {c.shape[0]} and {y.shape[0]}"
        )
    if y.shape[0] == 0:
        raise ValueError("need at least one (context, target) pair, got 0")
    for name, a in (("contexts", c), ("targets", y)):
        if a.size and a.dtype.kind not in "iu":
            raise TypeError(f"{name} must hold integer symbol ids, got dtype {a.dtype}")
        if a.size and a.min() < 0:
            raise ValueError(f"{name} must hold non-negative ids, got min {a.min()}")
    return c.astype(np.int64), y.astype(np.int64)


@dataclass(frozen=True)
class NGramScore:
    """The exact optimum of a k-symbol predictor on a data set.

    ``accuracy``: best possible fraction of next symbols predicted right, in [0, 1].
    ``cross_entropy``: least possible mean negative log-likelihood, in nats.
    ``n_contexts``: distinct contexts seen; ``n_samples``: pairs counted; ``k``: context length.
    """

    k: int
    accuracy: float
    cross_entropy: float
    n_contexts: int
    n_samples: int


class NGramCounts:
    """Next-symbol counts per context of k symbols: the k-gram (``(k+1)``-gram) table.

    ``fit(contexts, targets)`` takes contexts ``(nb_samples, k)`` (or ``(nb_samples, k, 1)``,
    as ``make_windows`` returns windows of ids) and targets ``(nb_samples,)``, integer ids
    in ``[0, vocab_size)``.
    """

    def __init__(self, vocab_size: int) -> None:
        self.vocab_size = positive_int("vocab_size", vocab_size)
        self.k: int | None = None
        self.table: dict[tuple[int, ...], np.ndarray] = {}
        self.unigram = np.zeros(self.vocab_size, dtype=np.int64)

    def fit(self, contexts: np.ndarray, targets: np.ndarray) -> NGramCounts:
        """Count every (context, target) pair. Returns ``self``."""
        c, y = _as_pairs(contexts, targets)
        top = max(int(c.max(initial=0)), int(y.max()))
        if top >= self.vocab_size:
            raise ValueError(f"ids must be < vocab_size={self.vocab_size}, got {top}")
        self.k = c.shape[1]
        self.table = {}
        self.unigram = np.bincount(y, minlength=self.vocab_size).astype(np.int64)
        # group identical contexts: unique rows, then one bincount per (row, target) pair
        rows, inverse = np.unique(c, axis=0, return_inverse=True)
        inverse = inverse.reshape(-1)
        flat = np.bincount(inverse * self.vocab_size + y, minlength=len(rows) * self.vocab_size)
        counts = flat.reshape(len(rows), self.vocab_size)
        for row, cnt in zip(rows, counts, strict=True):
            self.table[tuple(row.tolist())] = cnt
        return self

    def _check_fitted(self, contexts: np.ndarray) -> np.ndarray:
        if self.k is None:
            raise RuntimeError("call fit(contexts, targets) before using the counts")
        c = np.asarray(contexts)
        if c.ndim == 3 and c.shape[2] == 1:
            c = c[..., 0]
        if c.ndim != 2 or c.shape[1] != self.k:
            raise ValueError(f"contexts must have shape (nb_samples, {self.k}), got {c.shape}")
        if c.size and c.dtype.kind not in "iu":
            raise TypeError(f"contexts must hold integer symbol ids, got dtype {c.dtype}")
        return c

    def probs(self, contexts: np.ndarray) -> np.ndarray:
        """Maximum-likelihood next-symbol probabilities ``(nb_samples, vocab_size)``.

        A context never seen in ``fit`` gets the unigram distribution of the targets.
        """
        c = self._check_fitted(contexts)
        fallback = self.unigram / self.unigram.sum()
        out = np.empty((c.shape[0], self.vocab_size))
        for i, row in enumerate(c.tolist()):
            cnt = self.table.get(tuple(row))
            out[i] = fallback if cnt is None else cnt / cnt.sum()
        return out

    def predict(self, contexts: np.ndarray) -> np.ndarray:
        """The most frequent follower of each context (ties: the smallest id), ``(nb_samples,)``."""
        return self.probs(contexts).argmax(axis=1)

    def score(self) -> NGramScore:
        """The exact optimum on the data given to ``fit``: accuracy and cross-entropy (nats)."""
        if self.k is None:
            raise RuntimeError("call fit(contexts, targets) before score()")
        counts = np.stack(list(self.table.values()))  # (n_contexts, V)
        n = counts.sum()
        totals = counts.sum(axis=1, keepdims=True)
        nz = counts > 0
        log_p = np.log(np.where(nz, counts, 1) / totals)
        ce = float(-(counts * np.where(nz, log_p, 0.0)).sum() / n)
        acc = float(counts.max(axis=1).sum() / n)
        return NGramScore(k=self.k, accuracy=acc, cross_entropy=ce,
                          n_contexts=len(self.table), n_samples=int(n))


def ngram_score(contexts: np.ndarray, targets: np.ndarray, vocab_size: int) -> NGramScore:
    """Exact k-gram optimum on (contexts ``(nb_samples, k)``, targets ``(nb_samples,)``).

    ``k`` is ``contexts.shape[1]``; ``k = 0`` (shape ``(nb_samples, 0)``) gives the unigram.
    """
    return NGramCounts(vocab_size).fit(contexts, targets).score()


__all__ = ["NGramCounts", "NGramScore", "ngram_score"]
