"""Two sequence-tagging tasks: one where the future matters, one where it must not be used.

- *Occurs later*: tag every position of a random sequence with 1 if its symbol appears again
  somewhere after it, else 0. The answer at position ``t`` depends on ``x[t+1:]``, which a
  left-to-right reader has not seen; a bidirectional reader has.
- *Next symbol*: predict ``x[t+1]`` from the symbols read so far. The symbols come from a
  Markov chain: with probability ``p_step`` the next symbol is the current one plus 1
  (mod ``V``), otherwise it is drawn uniformly. A causal reader can at best reach
  ``p_step + (1 - p_step) / V``; a bidirectional reader is handed ``x[t+1]`` by its backward
  half and can do better, which is cheating.

For both tasks, the best accuracy reachable from the past alone has a closed form
(:func:`occurs_later_past_only_accuracy`, :func:`next_symbol_causal_accuracy`), so a chapter
can compare a trained model against the ceiling of any left-to-right model.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from lstm_lib import checks
from lstm_lib.checks import positive_int
from lstm_lib.data.encoding import one_hot


class TaggingBatch(NamedTuple):
    """One batch: one-hot inputs ``x`` (B, T, V) float32, ``tokens`` (B, T) int64 and the
    per-position targets ``labels`` (B, T) int64."""

    x: np.ndarray
    tokens: np.ndarray
    labels: np.ndarray


def _tokens(tokens: np.ndarray) -> np.ndarray:
    if not isinstance(tokens, np.ndarray):
        raise TypeError(f"tokens must be a NumPy array, got {type(tokens).__name__}")
    if tokens.dtype.kind not in "iu":
        raise TypeError(f"tokens must have an integer dtype, got {tokens.dtype}")
    if tokens.ndim != 2 or 0 in tokens.shape:
        raise ValueError(f"tokens must have shape (B, T) with B, T >= 1, got {tokens.shape}")
    if tokens.min() < 0:
        raise ValueError(f"tokens must be >= 0, got a minimum of {tokens.min()}")
    return tokens


def occurs_later(tokens: np.ndarray) -> np.ndarray:
    """Labels of the occurs-later task for ``tokens`` (B, T): (B, T) int64, 1 where
    ``tokens[b, t]`` is in ``tokens[b, t+1:]``. The last position is always 0."""
    tokens = _tokens(tokens)
    equal = tokens[:, :, None] == tokens[:, None, :]  # (B, T, T): [b, t, s] = x_t == x_s
    later = np.triu(np.ones(tokens.shape[1:] * 2, dtype=bool), k=1)  # s > t
    return (equal & later).any(axis=2).astype(np.int64)


def occurs_later_batch(
    batch_size: int, length: int, vocab_size: int, rng: np.random.Generator
) -> TaggingBatch:
    """A batch of the occurs-later task: symbols i.i.d. uniform over ``vocab_size``.

    Returns a :class:`TaggingBatch` with x (B, T, V), tokens (B, T) and labels (B, T)."""
    batch_size = positive_int("batch_size", batch_size)
    length = positive_int("length", length)
    vocab_size = positive_int("vocab_size", vocab_size)
    rng = checks.generator(rng, "rng", allow_seed=False)
    tokens = rng.integers(0, vocab_size, size=(batch_size, length), dtype=np.int64)
    return TaggingBatch(one_hot(tokens, vocab_size), tokens, occurs_later(tokens))


def occurs_later_past_only_accuracy(length: int, vocab_size: int) -> np.ndarray:
    """Best expected accuracy at each position (T,) of any tagger that reads only
    ``x[:t+1]``, for the occurs-later task with i.i.d. uniform symbols.

    The future is independent of the past, so the best guess depends on ``t`` alone: the
    symbol recurs among the ``k = T-1-t`` later ones with probability ``1 - (1 - 1/V)**k``,
    and the best tagger answers the likelier label."""
    length = positive_int("length", length)
    vocab_size = positive_int("vocab_size", vocab_size)
    k = np.arange(length - 1, -1, -1)
    p_again = 1.0 - (1.0 - 1.0 / vocab_size) ** k
    return np.maximum(p_again, 1.0 - p_again)


def markov_tokens(
    batch_size: int, length: int, vocab_size: int, p_step: float, rng: np.random.Generator
) -> np.ndarray:
    """Symbols (B, T) int64 of a Markov chain on ``range(vocab_size)``: ``x[0]`` uniform, then
    ``x[t+1] = x[t] + 1 (mod V)`` with probability ``p_step``, else uniform."""
    batch_size = positive_int("batch_size", batch_size)
    length = positive_int("length", length)
    vocab_size = positive_int("vocab_size", vocab_size)
    if not 0.0 <= float(p_step) <= 1.0:
        raise ValueError(f"p_step must be in [0, 1], got {p_step}")
    rng = checks.generator(rng, "rng", allow_seed=False)
    tokens = rng.integers(0, vocab_size, size=(batch_size, length), dtype=np.int64)
    step = rng.random((batch_size, length)) < p_step
    for t in range(1, length):
        tokens[:, t] = np.where(step[:, t], (tokens[:, t - 1] + 1) % vocab_size, tokens[:, t])
    return tokens


def next_symbol_batch(
    batch_size: int, length: int, vocab_size: int, p_step: float, rng: np.random.Generator
) -> TaggingBatch:
    """A batch of the next-symbol task on :func:`markov_tokens` sequences of ``length + 1``.

    Returns x = one_hot(tokens[:, :-1]) (B, T, V), tokens (B, T + 1) (the whole sequence)
    and labels = tokens[:, 1:] (B, T): the target at position t is the symbol after it."""
    length = positive_int("length", length)
    tokens = markov_tokens(batch_size, length + 1, vocab_size, p_step, rng)
    return TaggingBatch(one_hot(tokens[:, :-1], vocab_size), tokens, tokens[:, 1:].copy())


def next_symbol_causal_accuracy(vocab_size: int, p_step: float) -> float:
    """Best expected accuracy of any causal predictor of :func:`markov_tokens`' next symbol:
    guess ``x[t] + 1``, right with probability ``p_step + (1 - p_step) / V``."""
    vocab_size = positive_int("vocab_size", vocab_size)
    if not 0.0 <= float(p_step) <= 1.0:
        raise ValueError(f"p_step must be in [0, 1], got {p_step}")
    return float(p_step) + (1.0 - float(p_step)) / vocab_size


__all__ = [
    "TaggingBatch",
    "markov_tokens",
    "next_symbol_batch",
    "next_symbol_causal_accuracy",
    "occurs_later",
    "occurs_later_batch",
    "occurs_later_past_only_accuracy",
    "one_hot",
]
