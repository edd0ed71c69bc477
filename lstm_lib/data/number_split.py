"""Held-out numbers for the counting corpus: which token belongs to which number.

A model trained on windows of ``numbers_corpus`` text is scored on the targets it was trained
on (its *training* accuracy) and on targets it never saw. For the second we hold out whole
numbers: every token of a held-out number is a test target, every other token a training
target. The windows before a target may still reach into neighbouring numbers of either set;
what is held out is the prediction of those numbers' tokens.

    split = held_out_split(499, level="char", fraction=0.2, seed=0, first=10)
    split.train, split.test        # target positions in numbers_corpus(499, "char").ids

Token ``j`` of the text belongs to the number whose words it spells, together with the
`` .`` after them and the space before them (the first number has none).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from lstm_lib.checks import positive_int
from lstm_lib.data.corpus import SEPARATOR, number_words


def token_owners(stop: int, level: str = "char", start: int = 1) -> np.ndarray:
    """The number each token of ``numbers_corpus(stop, level, start)`` belongs to, ``(N,)``.

    ``level``: ``"char"`` or ``"word"``. Returns int64 numbers in ``[start, stop]``, in text
    order (non-decreasing).
    """
    if level not in ("char", "word"):
        raise ValueError(f"level must be 'char' or 'word', got {level!r}")
    start, stop = positive_int("start", start), positive_int("stop", stop)
    if stop < start:
        raise ValueError(f"stop must be >= start, got start={start}, stop={stop}")
    owners: list[int] = []
    for n in range(start, stop + 1):
        words = number_words(n) + [SEPARATOR]
        if level == "word":
            owners += [n] * len(words)
        else:
            lead = 0 if n == start else 1          # the space that joins it to the one before
            owners += [n] * (lead + len(" ".join(words)))
    return np.asarray(owners, dtype=np.int64)


@dataclass(frozen=True)
class NumberSplit:
    """Training and held-out targets of the counting corpus.

    ``owners`` (N,): the number of every token; ``held_out``: the sorted held-out numbers;
    ``train``, ``test``: sorted positions ``p >= first`` of target tokens, whose number is not
    held out and is held out.
    """

    owners: np.ndarray
    held_out: np.ndarray
    train: np.ndarray
    test: np.ndarray


def held_out_split(stop: int, level: str = "char", fraction: float = 0.2, seed: int = 0,
                   first: int = 0, start: int = 1) -> NumberSplit:
    """Hold out a random ``fraction`` of the numbers ``start..stop`` (seeded) as test targets.

    ``first``: the first target position (a window of ``k <= first`` tokens fits before
    every target). Returns :class:`NumberSplit`.
    """
    if isinstance(fraction, bool) or not isinstance(fraction, (int, float)) \
            or not 0 < fraction < 1:
        raise ValueError(f"fraction must be a number in (0, 1), got {fraction!r}")
    if isinstance(first, bool) or not isinstance(first, int) or first < 0:
        raise ValueError(f"first must be an int >= 0, got {first!r}")
    owners = token_owners(stop, level, start)
    if first >= owners.size:
        raise ValueError(f"first must be below the corpus length {owners.size}, got {first}")
    numbers = np.arange(start, stop + 1)
    n_held = max(1, int(round(fraction * numbers.size)))
    rng = np.random.default_rng(seed)
    held = np.sort(rng.choice(numbers, size=n_held, replace=False))
    positions = np.arange(first, owners.size)
    is_test = np.isin(owners[positions], held)
    return NumberSplit(owners, held, positions[~is_test], positions[is_test])


__all__ = ["token_owners", "NumberSplit", "held_out_split"]
