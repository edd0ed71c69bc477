"""A trained character language model, examined: the chapter module of the language-model chapter.

The model, its training and its scoring are the recipe's (``lstm_lib.recipes.char_lm``):
one concept, one place. This module loads the book's checkpoints (trained once with
``make train``, checked by ``make check-checkpoints``) and holds what the chapter measures
with them:

- ``numpy_log2_probs``: the same scores from ``lstm_lib.numpy.LSTM`` in float64 (a second,
  hand-written implementation reading the trained weights);
- ``cell_states``: every cell state over a text, for the interpretable-cell analysis;
- ``long_repeat_mask``: which characters of a text lie inside a long exact repeat of a
  reference text (what a compressor can copy and a fixed-size state cannot hold);
- ``primed_bits``: what ``lzma`` or ``bz2`` needs for a text after reading a prefix;
- ``ngram_sample``: text drawn from an ``lstm_lib.baselines.ngram_lm.NGramLM``;
- ``sample_stats``: what a text is made of (known words, lines Python's tokenizer reads).

Bits per character (bpc) are ``-mean(log2 p(x_t | x_<t))``: what an arithmetic coder driven
by the model would spend per character.
"""

from __future__ import annotations

import bz2
import functools
import io
import lzma
import math
import re
import tokenize
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from lstm_lib import torch_seeded
from lstm_lib.baselines.ngram_lm import NGramLM
from lstm_lib.checkpoints import CHECKPOINTS
from lstm_lib.checks import positive_int
from lstm_lib.recipes import char_lm as recipe

LN2 = math.log(2.0)


@dataclass(frozen=True)
class Checkpoint:
    """A checkpoint of the ``char_lm`` recipe: ``model`` (eval mode, float32), ``vocab``,
    the ``manifest`` dict and its ``args`` (``recipe.Args``)."""

    name: str
    directory: Path
    model: recipe.CharModel = field(repr=False)
    vocab: recipe.Vocab = field(repr=False)
    manifest: dict[str, Any] = field(repr=False)
    args: recipe.Args = field(repr=False)

    @property
    def parameters(self) -> int:
        return sum(p.numel() for p in self.model.parameters())


def load_checkpoint(name: str, root: Path = CHECKPOINTS) -> Checkpoint:
    """``checkpoints/NAME`` (a ``char_lm`` checkpoint) as a ``Checkpoint``."""
    directory = Path(root) / name
    if not (directory / "manifest.json").exists():
        raise ValueError(f"no checkpoint at {directory}: run `make train NAME={name}`")
    manifest = recipe.read_manifest(directory)
    if manifest["recipe"] != recipe.RECIPE:
        raise ValueError(f"{name} was made by {manifest['recipe']}, not {recipe.RECIPE}")
    model, vocab = recipe.load(directory)
    return Checkpoint(name, directory, model, vocab, manifest, recipe.Args(**manifest["args"]))


def untrained(ck: Checkpoint) -> recipe.CharModel:
    """The checkpoint's model before its first step: the recipe's seeded initialisation
    (the global torch generator is left as it was)."""
    with torch_seeded(None):
        return recipe.build_model(ck.args, ck.vocab.size).eval()


def _ids(ids: np.ndarray) -> np.ndarray:
    if not isinstance(ids, np.ndarray) or ids.dtype.kind not in "iu":
        got = ids.dtype if isinstance(ids, np.ndarray) else type(ids).__name__
        raise TypeError(f"ids must be a NumPy int array (N,), got {got}")
    if ids.ndim != 1:
        raise ValueError(f"ids must have shape (N,), got {ids.shape}")
    return ids.astype(np.int64)


def _numpy_twin(model: recipe.CharModel) -> Any:
    from lstm_lib.numpy import LSTM

    if model.cell != "lstm":
        raise ValueError(f"the NumPy twin needs an LSTM, got cell={model.cell!r}")
    lstm = LSTM(model.rnn.input_size, model.rnn.hidden_size, num_layers=model.rnn.num_layers)
    lstm.load_state_dict(model.rnn.state_dict())
    return lstm


def numpy_log2_probs(model: recipe.CharModel, ids: np.ndarray, rows: int = 32,
                     warmup: int = 128, chunk_len: int = 1024) -> np.ndarray:
    """``recipe.log2_probs`` computed by ``lstm_lib.numpy.LSTM`` in float64.

    The embedding is a row lookup, the LSTM the NumPy layer loaded with
    ``model.rnn.state_dict()``, the read-out and log-softmax NumPy too. Same positions and
    order as ``recipe.log2_probs(model, ids, rows, warmup)``: float64 ``(rows * L,)``.
    """
    ids = _ids(ids)
    chunk_len = positive_int("chunk_len", chunk_len)
    lstm = _numpy_twin(model)
    emb = model.embed.weight.detach().double().numpy()
    w = model.head.weight.detach().double().numpy()
    b = model.head.bias.detach().double().numpy()
    inputs, _ = recipe.eval_positions(len(ids), rows, warmup)
    x, y = ids[inputs], ids[inputs + 1]
    picked, state = [], None
    for s in range(0, x.shape[1], chunk_len):
        out, state = lstm.forward(emb[x[:, s: s + chunk_len]], state)
        z = out @ w.T + b
        m = z.max(-1, keepdims=True)
        logp = z - m - np.log(np.exp(z - m).sum(-1, keepdims=True))
        picked.append(np.take_along_axis(logp, y[:, s: s + chunk_len, None], -1)[..., 0])
    return np.concatenate(picked, axis=1)[:, warmup:].reshape(-1) / LN2


@torch.no_grad()
def cell_states(model: recipe.CharModel, ids: np.ndarray) -> np.ndarray:
    """The cell state ``c_t`` of every unit after reading each of ``ids`` (one stream from a
    zero state): float64 ``(N, H)`` (the last layer's, for a stack).

    ``torch.nn.LSTM`` returns only the last step's ``c``, so the layer is run one step at a
    time, the state carried, in the model's dtype (use a float64 copy for exact values).
    ``tests/test_charlm.py`` checks the result against ``lstm_lib.numpy.LSTM.trace``.
    """
    ids = _ids(ids)
    if model.cell != "lstm":
        raise ValueError(f"cell states need an LSTM, got cell={model.cell!r}")
    x = model.embed(torch.from_numpy(ids)[None])               # (1, N, E)
    out, state = [], None
    for t in range(x.shape[1]):
        _, state = model.rnn(x[:, t: t + 1], state)
        out.append(state[1][-1, 0])
    return torch.stack(out).double().numpy()


def _window_hashes(ids: np.ndarray, length: int) -> np.ndarray:
    """A 64-bit polynomial hash of every window ``ids[t: t + length]``, uint64 ``(N - length
    + 1,)`` (arithmetic modulo 2**64)."""
    base = np.uint64(1_000_003)
    h = np.zeros(len(ids) - length + 1, dtype=np.uint64)
    with np.errstate(over="ignore"):
        for j in range(length):
            h = h * base + ids[j: j + len(h)].astype(np.uint64) + np.uint64(1)
    return h


def long_repeat_mask(reference: np.ndarray, ids: np.ndarray, min_len: int = 32) -> np.ndarray:
    """True for every position of ``ids`` that lies inside a stretch of at least ``min_len``
    symbols that occurs, exactly, somewhere in ``reference`` (both int ``(N,)``).

    Windows are compared by a 64-bit hash; every hash match is then checked symbol by symbol,
    so a collision cannot mark a position. Returns bool ``(len(ids),)``.
    """
    reference, ids = _ids(reference), _ids(ids)
    min_len = positive_int("min_len", min_len)
    mask = np.zeros(len(ids), dtype=bool)
    if len(ids) < min_len or len(reference) < min_len:
        return mask
    ref_h = _window_hashes(reference, min_len)
    order = np.argsort(ref_h, kind="stable")
    sorted_h = ref_h[order]
    h = _window_hashes(ids, min_len)
    at = np.clip(np.searchsorted(sorted_h, h), 0, len(sorted_h) - 1)
    hit = sorted_h[at] == h
    for start in np.flatnonzero(hit):                 # confirm: no false positives
        r = order[at[start]]
        if not np.array_equal(reference[r: r + min_len], ids[start: start + min_len]):
            hit[start] = False
    cover = np.zeros(len(ids) + 1, dtype=np.int64)
    np.add.at(cover, np.flatnonzero(hit), 1)
    np.add.at(cover, np.flatnonzero(hit) + min_len, -1)
    return np.cumsum(cover)[:-1] > 0


COMPRESSORS = ("lzma", "bz2")


@functools.lru_cache(maxsize=4)
def compressed_size(data: bytes, method: str) -> int:
    """Bytes of ``data`` compressed by ``method``: ``"lzma"`` (LZMA2, raw stream, preset 6
    with a 16 MiB dictionary, so a 7 MB text fits in its window) or ``"bz2"`` (level 9:
    900 kB blocks, compressed independently). The last few results are cached, so a prefix
    shared by several ``primed_bits`` calls is compressed once."""
    if method == "lzma":
        filters = [{"id": lzma.FILTER_LZMA2, "preset": 6, "dict_size": 16 << 20}]
        return len(lzma.compress(data, format=lzma.FORMAT_RAW, filters=filters))
    if method == "bz2":
        return len(bz2.compress(data, 9))
    raise ValueError(f"method must be one of {COMPRESSORS}, got {method!r}")


def primed_bits(prefix: str, text: str, method: str) -> float:
    """Bits per character ``method`` spends on ``text`` after reading ``prefix``:
    ``(size(prefix + text) - size(prefix)) * 8 / len(text)`` (``prefix=""``: alone)."""
    if not text:
        raise ValueError("text must not be empty")
    a = compressed_size((prefix + text).encode("utf-8"), method)
    b = compressed_size(prefix.encode("utf-8"), method) if prefix else 0
    return (a - b) * 8 / len(text)


def ngram_sample(lm: NGramLM, order: int, alphas: Sequence[float], prime: np.ndarray, n: int,
                 temperature: float = 1.0, seed: int = 0) -> np.ndarray:
    """``n`` ids drawn from the interpolated ``order``-gram ``lm`` (constants ``alphas``),
    each from ``p(y | last order-1 ids) ** (1 / temperature)`` renormalised, fed back.
    ``prime``: int ``(k,)`` with ``k >= order - 1``. One uniform of
    ``numpy.random.default_rng(seed)`` per id, through the cumulative distribution, as the
    recipe's ``sample`` draws. Returns int64 ``(n,)``."""
    prime = _ids(prime)
    n, V = positive_int("n", n), lm.vocab_size
    if len(prime) < order - 1:
        raise ValueError(f"prime must hold at least {order - 1} ids, got {len(prime)}")
    if not temperature > 0:
        raise ValueError(f"temperature must be > 0, got {temperature!r}")
    ids = list(prime)
    cand = np.arange(V, dtype=np.int64)
    pos = (order - 1) + order * np.arange(V)
    for u in np.random.default_rng(seed).random(n):
        ctx = np.asarray(ids[len(ids) - (order - 1):], dtype=np.int64)
        block = np.concatenate([np.tile(ctx, (V, 1)), cand[:, None]], axis=1).reshape(-1)
        logp = lm.log2_probs(block, pos, order, "interpolated", alphas) / temperature
        p = np.exp2(logp - logp.max())
        ids.append(min(int(np.searchsorted(np.cumsum(p / p.sum()), u, side="right")), V - 1))
    return np.asarray(ids[len(prime):], dtype=np.int64)


@dataclass(frozen=True)
class SampleStats:
    """What a text is made of.

    ``line_fraction``: the share of its non-blank lines that Python's ``tokenize`` reads alone
    (the line stripped) without an error token or error (a bracket left open at the end of
    the line is allowed: code continues on the next line). ``word_fraction``: the share of
    its identifier-like words (``[A-Za-z_][A-Za-z0-9_]*``) that occur in a reference set of
    words. ``distinct_fraction``: distinct words / words. Fractions of nothing are NaN.
    """

    n_chars: int
    n_lines: int
    n_words: int
    line_fraction: float
    word_fraction: float
    distinct_fraction: float


# Characters that are no Python operator. Python 3.11's tokenize reads each as an error
# token; 3.12's reads it as an operator ("!" is one only in an f-string's "{x!r}").
_NOT_OPERATORS = frozenset("`$?!")
_FSTRING_START = getattr(tokenize, "FSTRING_START", None)   # Python 3.12 and later
_FSTRING_END = getattr(tokenize, "FSTRING_END", None)


def tokenizes(line: str) -> bool:
    """True if ``tokenize`` reads ``line`` (stripped) with no error token, no character that
    is no Python operator (a backtick, ``$``, ``?``, or ``!`` outside an f-string) and no
    error other than an open bracket or an open triple-quoted string at its end. The same
    answer under Python 3.11's tokenize and 3.12's, which reads those characters as
    operators and a one-line string left open as an error."""
    fstrings = 0
    try:
        for tok in tokenize.generate_tokens(io.StringIO(line.strip() + "\n").readline):
            if tok.type == tokenize.ERRORTOKEN and tok.string.strip():
                return False
            fstrings += (tok.type == _FSTRING_START) - (tok.type == _FSTRING_END)
            if tok.type == tokenize.OP and tok.string in _NOT_OPERATORS and not (
                    tok.string == "!" and fstrings):
                return False
    except tokenize.TokenError as err:
        return "EOF in multi-line" in str(err) or "unterminated triple-quoted" in str(err)
    except (SyntaxError, IndentationError):
        return False
    return True


def re_words(text: str) -> list[str]:
    """The identifier-like words of ``text``, in order."""
    return re.findall(r"[A-Za-z_][A-Za-z0-9_]*", text)


def sample_stats(text: str, known_words: set[str] | frozenset[str]) -> SampleStats:
    """Measure ``text`` against ``known_words`` (e.g. ``set(re_words(training_text))``)."""
    if not isinstance(text, str):
        raise TypeError(f"text must be a str, got {type(text).__name__}")
    lines = [s for s in text.split("\n") if s.strip()]
    ws = re_words(text)
    nan = math.nan
    return SampleStats(
        n_chars=len(text), n_lines=len(lines), n_words=len(ws),
        line_fraction=sum(map(tokenizes, lines)) / len(lines) if lines else nan,
        word_fraction=sum(w in known_words for w in ws) / len(ws) if ws else nan,
        distinct_fraction=len(set(ws)) / len(ws) if ws else nan)


__all__ = [
    "Checkpoint",
    "load_checkpoint",
    "untrained",
    "numpy_log2_probs",
    "cell_states",
    "long_repeat_mask",
    "COMPRESSORS",
    "compressed_size",
    "primed_bits",
    "ngram_sample",
    "SampleStats",
    "tokenizes",
    "re_words",
    "sample_stats",
]
