"""Numbers written out in German and French (``num2words``), paired with their digits.

The task of the encoder-decoder chapter: read "dreihundertsiebenundneunzig" or
"quatre-vingt-dix-sept" and write "397" or "97". ``words(n, lang)`` is the text num2words
gives for ``n`` (0..999,999) in ``"de"`` or ``"fr"``; ``split_of(n)`` puts every number in
``"train"``, ``"val"`` or ``"test"`` by a hash of ``n`` alone (80/10/10), so a test number is
never seen in training, in any language. ``pairs_tsv_bytes()`` is the data file of the
``numwords`` checkpoints (``lstm_lib.data.sources``): every number below 100,000 in both
languages with its split, and a fixed sample of test-split numbers from 100,000 to 999,999
marked ``"long"`` (the length-generalisation set), in ``lstm_lib.recipes.seq2seq``'s format.
``naming_spans(n, lang)`` says which characters name which digit (the chapter's word
alignment).
"""

from __future__ import annotations

import difflib
import functools
import hashlib
from collections.abc import Iterable

LANGS = ("de", "fr")
MAX_N = 999_999
TRAIN_BELOW = 100_000                 # the checkpoints train on numbers below this
LONG_START, LONG_STRIDE = 100_003, 97  # the "long" sample: every 97th number from here, test split


def _check_n(n: int) -> int:
    if isinstance(n, bool) or not isinstance(n, int):
        raise TypeError(f"n must be an int, got {type(n).__name__}")
    if not 0 <= n <= MAX_N:
        raise ValueError(f"n must lie in 0..{MAX_N:,}, got {n}")
    return n


def words(n: int, lang: str) -> str:
    """``n`` written out by num2words in ``lang`` ("de" or "fr"), as num2words gives it
    (lowercase; French with its spaces and hyphens)."""
    from num2words import num2words

    _check_n(n)
    if lang not in LANGS:
        raise ValueError(f"lang must be one of {LANGS}, got {lang!r}")
    return num2words(n, lang=lang)


def split_of(n: int) -> str:
    """``"train"`` (80 %), ``"val"`` (10 %) or ``"test"`` (10 %): the first byte pair of the
    SHA-256 of ``n``'s decimal digits, mod 100 — a fixed function of ``n`` alone."""
    bucket = int.from_bytes(hashlib.sha256(str(_check_n(n)).encode()).digest()[:2], "big") % 100
    return "train" if bucket < 80 else "val" if bucket < 90 else "test"


def long_numbers() -> list[int]:
    """The length-generalisation numbers: ``range(100_003, 1_000_000, 97)`` kept where
    ``split_of`` says "test" (so they are test numbers in every sense)."""
    return [n for n in range(LONG_START, MAX_N + 1, LONG_STRIDE) if split_of(n) == "test"]


def rows(numbers: Iterable[int], split: str | None = None) -> list[tuple[str, str, str, str]]:
    """``(split, lang, words, digits)`` for every number in both languages (``split``: the
    number's own ``split_of`` unless given)."""
    out = []
    for n in numbers:
        part = split or split_of(n)
        for lang in LANGS:
            out.append((part, lang, words(n, lang), str(n)))
    return out


def naming_spans(n: int, lang: str) -> list[set[int]]:
    """For every digit of ``n`` (left to right), the positions of the characters of
    ``words(n, lang)`` that name it: the characters that change when that digit alone is
    changed to each other value (a leading digit: to each other non-zero value), by
    ``difflib.SequenceMatcher`` (without its junk heuristic), united over the other values.
    So in "dreihundertsiebenundneunzig" the 3 is named by "drei", the 9 by "undneunzig" (what
    changes when 97 becomes 87, 57, ...) and the 7 by "siebenund"; in French 97 the "dix"
    names both the 9 and the 7. A digit whose change only inserts characters (a 0: 100 ->
    110) gets an empty set."""
    text, digits = words(n, lang), str(_check_n(n))
    spans = []
    for p, d in enumerate(digits):
        changed: set[int] = set()
        for other in "0123456789":
            if other == d or (p == 0 and other == "0" and len(digits) > 1):
                continue
            m = int(digits[:p] + other + digits[p + 1:])
            match = difflib.SequenceMatcher(None, text, words(m, lang), autojunk=False)
            for tag, i1, i2, _, _ in match.get_opcodes():
                if tag in ("replace", "delete"):        # an insertion changes no character
                    changed.update(range(i1, i2))
        spans.append(changed)
    return spans


@functools.cache
def pairs_tsv_bytes() -> bytes:
    """The data file of the numwords checkpoints: a header line, then one
    ``split<TAB>lang<TAB>words<TAB>digits`` line per pair (UTF-8)."""
    lines = ["split\ttag\tsource\ttarget"]
    for row in rows(range(TRAIN_BELOW)) + rows(long_numbers(), "long"):
        lines.append("\t".join(row))
    return ("\n".join(lines) + "\n").encode("utf-8")


__all__ = ["LANGS", "TRAIN_BELOW", "long_numbers", "naming_spans", "pairs_tsv_bytes", "rows",
           "split_of", "words"]
