"""A small text corpus made by code: the counting numbers written out in English words.

``numbers_corpus(stop)`` writes ``one . two . three . ... `` up to ``stop`` and tokenises it
into words or characters. Nothing is downloaded: the reader can regenerate and read every
symbol. The text is regular (counting) but not trivial: which word comes next depends on
how much of the previous number the model can see, which is what a context window controls.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np

from lstm_lib.checks import positive_int

_ONES = (
    "zero one two three four five six seven eight nine ten eleven twelve thirteen "
    "fourteen fifteen sixteen seventeen eighteen nineteen"
).split()
_TENS = "_ _ twenty thirty forty fifty sixty seventy eighty ninety".split()

SEPARATOR = "."
MAX_NUMBER = 999_999


def _below_thousand(n: int) -> list[str]:
    words: list[str] = []
    hundreds, rest = divmod(n, 100)
    if hundreds:
        words += [_ONES[hundreds], "hundred"]
    if rest >= 20:
        tens, ones = divmod(rest, 10)
        words.append(_TENS[tens])
        if ones:
            words.append(_ONES[ones])
    elif rest:
        words.append(_ONES[rest])
    return words


def number_words(n: int) -> list[str]:
    """The English words of the integer ``1 <= n <= 999_999``, e.g. ``123`` ->
    ``['one', 'hundred', 'twenty', 'three']`` (no "and", no hyphens).

    Returns a list of ``w`` words, ``1 <= w <= 10``.
    """
    n = positive_int("n", n)
    if n > MAX_NUMBER:
        raise ValueError(f"n must be at most {MAX_NUMBER}, got {n}")
    thousands, rest = divmod(n, 1000)
    words: list[str] = []
    if thousands:
        words += _below_thousand(thousands) + ["thousand"]
    return words + _below_thousand(rest)


@dataclass
class Corpus:
    """A token sequence with its vocabulary.

    ``tokens``: the text as a list of N symbols (words or characters).
    ``vocab``: the V distinct symbols, sorted, so ids do not depend on hash order.
    ``ids``: ``encode(tokens)``, an int64 array of shape ``(N,)``.
    """

    tokens: list[str]
    level: str
    vocab: list[str] = field(init=False)
    ids: np.ndarray = field(init=False, repr=False)

    def __post_init__(self) -> None:
        if len(self.tokens) == 0:
            raise ValueError("a corpus needs at least one token, got 0")
        self.vocab = sorted(set(self.tokens))
        self._index = {s: i for i, s in enumerate(self.vocab)}
        self.ids = self.encode(self.tokens)

    @property
    def vocab_size(self) -> int:
        """V, the number of distinct symbols."""
        return len(self.vocab)

    def encode(self, tokens: Iterable[str]) -> np.ndarray:
        """Symbols -> ids: a sequence of n symbols gives an int64 array of shape ``(n,)``.

        Raises ``ValueError`` naming the first symbol that is not in the vocabulary.
        """
        if isinstance(tokens, str) and self.level == "word":
            tokens = tokens.split()
        out = []
        for s in tokens:
            if s not in self._index:
                raise ValueError(f"symbol {s!r} is not in the vocabulary of {self.vocab_size}")
            out.append(self._index[s])
        return np.asarray(out, dtype=np.int64)

    def decode(self, ids: Sequence[int] | np.ndarray) -> list[str]:
        """Ids -> symbols: an integer array of shape ``(n,)`` gives a list of n symbols."""
        arr = np.asarray(ids)
        if arr.ndim != 1:
            raise ValueError(f"ids must have 1 dimension (n,), got shape {arr.shape}")
        if arr.size and arr.dtype.kind not in "iu":
            raise TypeError(f"ids must be integers, got dtype {arr.dtype}")
        if arr.size and (arr.min() < 0 or arr.max() >= self.vocab_size):
            raise ValueError(
                f"ids must lie in [0, {self.vocab_size}), got min {arr.min()} max {arr.max()}"
            )
        return [self.vocab[i] for i in arr.tolist()]

    def text(self, ids: Sequence[int] | np.ndarray | None = None) -> str:
        """Ids (default: the whole corpus) -> readable text: words joined by spaces,
        characters joined as they are."""
        symbols = self.tokens if ids is None else self.decode(ids)
        return (" " if self.level == "word" else "").join(symbols)


def numbers_text(stop: int, start: int = 1) -> str:
    """The numbers ``start..stop`` in words, each followed by `` . ``: ``"one . two . "``...

    Returns one string ending in ``" ."``.
    """
    start, stop = positive_int("start", start), positive_int("stop", stop)
    if stop < start:
        raise ValueError(f"stop must be >= start, got start={start}, stop={stop}")
    if stop > MAX_NUMBER:
        raise ValueError(f"stop must be at most {MAX_NUMBER}, got {stop}")
    return " ".join(" ".join(number_words(n)) + " " + SEPARATOR for n in range(start, stop + 1))


def numbers_corpus(stop: int, level: str = "word", start: int = 1) -> Corpus:
    """The numbers ``start..stop`` written in words, as a ``Corpus`` of words or characters.

    ``level="word"`` splits on spaces (V is at most 30: 27 number words, "hundred",
    "thousand", "." ); ``level="char"`` keeps every character, spaces included.
    """
    if level not in ("word", "char"):
        raise ValueError(f"level must be 'word' or 'char', got {level!r}")
    text = numbers_text(stop, start=start)
    tokens = text.split() if level == "word" else list(text)
    return Corpus(tokens=tokens, level=level)


__all__ = ["Corpus", "number_words", "numbers_text", "numbers_corpus", "SEPARATOR"]
