"""Real text for a character language model: the Python source of a pinned package.

``python_source_corpus()`` reads, at run time and offline, the non-test ``.py`` files of the
installed ``keras`` distribution (pinned to 3.15.1 by the book's lock), in sorted path order,
and joins them into one string of about 6.9 million characters. Nobody here wrote it, the pin
fixes it, and its SHA-256 says which text a reader has. ``CharVocab`` turns it into ids,
``split_by_position`` cuts it into train, validation and test by position (nothing is
shuffled across the split), ``stream_batches`` lays a split out for stateful truncated BPTT
(``lstm_lib.data.streams``), and ``eval_layout`` fixes which characters an evaluation scores,
so that n-grams and recurrent models are scored on exactly the same positions.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from lstm_lib.checks import positive_int
from lstm_lib.data.streams import stateful_batches

KERAS_PIN = "3.15.1"
UNK = "\ufffd"  # stands for every character outside the vocabulary


def is_test_file(path: str) -> bool:
    """True for a test module: ``*_test.py``, ``test_*.py``, ``conftest.py``, or any file
    under a ``tests``, ``test`` or ``testing`` folder. ``path`` uses ``/`` separators."""
    parts = path.split("/")
    name = parts[-1]
    return (name.endswith("_test.py") or name.startswith("test_") or name == "conftest.py"
            or any(p in ("tests", "test", "testing") for p in parts[:-1]))


@dataclass(frozen=True)
class TextCorpus:
    """Source files joined into one text.

    ``text``: the whole corpus, N characters. ``files``: the F file paths in corpus order.
    ``starts``: int64 ``(F,)``, the offset in ``text`` where each file begins (file ``j``
    is ``text[starts[j]:starts[j+1]]``, the last one runs to the end). ``package`` and
    ``version``: where it came from. ``sha256``: hex digest of ``text`` in UTF-8.
    """

    text: str = field(repr=False)
    files: tuple[str, ...] = field(repr=False)
    starts: np.ndarray = field(repr=False)
    package: str
    version: str
    sha256: str

    @property
    def n_bytes(self) -> int:
        """Size of the text in UTF-8 bytes."""
        return len(self.text.encode("utf-8"))

    def file_at(self, offset: int) -> str:
        """The path of the file that holds ``text[offset]``."""
        if isinstance(offset, bool) or not isinstance(offset, (int, np.integer)) \
                or not 0 <= offset < len(self.text):
            raise ValueError(f"offset must be an int in [0, {len(self.text)}), got {offset!r}")
        return self.files[int(np.searchsorted(self.starts, offset, side="right")) - 1]

    def file_spans(self, start: int, stop: int) -> list[tuple[int, int]]:
        """The ``(begin, end)`` offsets of every file that overlaps ``text[start:stop]``,
        in order (whole files, so each can be tokenized on its own)."""
        n = len(self.text)
        if not (0 <= start < stop <= n):
            raise ValueError(f"need 0 <= start < stop <= {n}, got start={start}, stop={stop}")
        ends = np.append(self.starts[1:], n)
        first = int(np.searchsorted(self.starts, start, side="right")) - 1
        last = int(np.searchsorted(self.starts, stop, side="left"))
        return [(int(self.starts[j]), int(ends[j])) for j in range(first, last)]

    def package_shares(self, start: int, stop: int, depth: int = 3) -> list[tuple[str, float]]:
        """How ``text[start:stop]`` divides among (sub)packages: the share of its characters
        that lie in files of each folder, cut to its first ``depth`` components
        (``keras/src/utils/io_utils.py`` -> ``keras/src/utils`` at depth 3; a file in a
        shallower folder counts for that folder). Returns ``(folder, share)`` pairs, largest
        share first (ties by name); the shares sum to 1."""
        depth = positive_int("depth", depth)
        shares: Counter[str] = Counter()
        for a, b in self.file_spans(start, stop):
            folder = "/".join(self.file_at(a).split("/")[:-1][:depth])
            shares[folder] += min(b, stop) - max(a, start)
        total = stop - start
        return sorted(((k, v / total) for k, v in shares.items()), key=lambda kv: (-kv[1], kv[0]))


def python_source_corpus(package: str = "keras", version: str = KERAS_PIN) -> TextCorpus:
    """The non-test ``.py`` files of the installed distribution ``package``, sorted by path.

    Reads the files the installer recorded (nothing is imported, nothing is downloaded).
    Raises ``RuntimeError`` if the installed version is not ``version`` (the text would
    differ from the book's) and ``ValueError`` if no source file is found.
    """
    try:
        dist = importlib.metadata.distribution(package)
    except importlib.metadata.PackageNotFoundError as err:
        raise RuntimeError(f"package {package!r} is not installed; pip install "
                           f"{package}=={version}") from err
    if dist.version != version:
        raise RuntimeError(f"{package} {dist.version} is installed, the corpus is pinned to "
                           f"{version}: pip install {package}=={version}")
    paths = sorted(str(f) for f in (dist.files or []) if str(f).endswith(".py")
                   and str(f).startswith(f"{package}/") and not is_test_file(str(f)))
    if not paths:
        raise ValueError(f"no non-test .py files found in {package} {version}")
    texts = [dist.locate_file(p).read_text(encoding="utf-8") for p in paths]
    starts = np.cumsum([0] + [len(t) for t in texts[:-1]], dtype=np.int64)
    text = "".join(texts)
    return TextCorpus(text=text, files=tuple(paths), starts=starts, package=package,
                      version=version,
                      sha256=hashlib.sha256(text.encode("utf-8")).hexdigest())


class CharVocab:
    """Characters <-> ids. ``chars``: the V-1 known characters, sorted; id ``V-1`` is
    ``UNK``, which every other character maps to."""

    def __init__(self, chars: Sequence[str]) -> None:
        if isinstance(chars, str):
            chars = list(chars)
        if any(not isinstance(c, str) or len(c) != 1 for c in chars):
            raise ValueError("chars must be single characters")
        if len(set(chars)) != len(chars):
            raise ValueError("chars must be distinct")
        if UNK in chars:
            raise ValueError(f"chars must not hold the unknown symbol {UNK!r}")
        if len(chars) == 0:
            raise ValueError("need at least one character, got 0")
        self.chars = tuple(sorted(chars))
        self.symbols = self.chars + (UNK,)
        self.unk_id = len(self.chars)
        self._table = np.full(0x110000, self.unk_id, dtype=np.int64)  # code point -> id
        self._table[[ord(c) for c in self.chars]] = np.arange(len(self.chars))

    @classmethod
    def from_text(cls, text: str, min_count: int = 1, ascii_only: bool = False) -> CharVocab:
        """The characters that occur at least ``min_count`` times in ``text`` (with
        ``ascii_only``, only those below code point 128)."""
        if not isinstance(text, str):
            raise TypeError(f"text must be a str, got {type(text).__name__}")
        min_count = positive_int("min_count", min_count)
        counts = Counter(text)
        return cls([c for c, n in counts.items() if n >= min_count and c != UNK
                    and (not ascii_only or ord(c) < 128)])

    @property
    def size(self) -> int:
        """V: the known characters plus ``UNK``."""
        return len(self.symbols)

    def encode(self, text: str) -> np.ndarray:
        """A string of n characters -> int64 ids ``(n,)``; unknown characters -> ``unk_id``."""
        if not isinstance(text, str):
            raise TypeError(f"text must be a str, got {type(text).__name__}")
        codes = np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32)
        return self._table[codes]

    def decode(self, ids: Sequence[int] | np.ndarray) -> str:
        """Ids ``(n,)`` in ``[0, V)`` -> a string of n characters."""
        arr = np.asarray(ids)
        if arr.ndim != 1:
            raise ValueError(f"ids must have 1 dimension (n,), got shape {arr.shape}")
        if arr.size and arr.dtype.kind not in "iu":
            raise TypeError(f"ids must be integers, got dtype {arr.dtype}")
        if arr.size and (arr.min() < 0 or arr.max() >= self.size):
            raise ValueError(f"ids must lie in [0, {self.size}), got min {arr.min()} "
                             f"max {arr.max()}")
        return "".join(self.symbols[i] for i in arr.tolist())


@dataclass(frozen=True)
class TextSplit:
    """Three consecutive slices of one text: ``train``, ``val``, ``test``."""

    train: slice
    val: slice
    test: slice


def split_by_position(n: int, val_fraction: float = 0.05,
                      test_fraction: float = 0.05) -> TextSplit:
    """Cut positions ``0..n-1`` into train, val, test, in this order: the last
    ``test_fraction`` of the text is test, the ``val_fraction`` before it validation."""
    n = positive_int("n", n)
    for name, f in (("val_fraction", val_fraction), ("test_fraction", test_fraction)):
        if not 0 < f < 1:
            raise ValueError(f"{name} must lie in (0, 1), got {f!r}")
    if val_fraction + test_fraction >= 1:
        raise ValueError(f"val_fraction + test_fraction must be < 1, got "
                         f"{val_fraction + test_fraction}")
    b = n - round(test_fraction * n)
    a = b - round(val_fraction * n)
    if not 0 < a < b < n:
        raise ValueError(f"n={n} is too short for these fractions")
    return TextSplit(train=slice(0, a), val=slice(a, b), test=slice(b, n))


def _ids(ids: np.ndarray, name: str = "ids") -> np.ndarray:
    if not isinstance(ids, np.ndarray):
        raise TypeError(f"{name} must be a NumPy int array (N,), got {type(ids).__name__}")
    if ids.dtype.kind not in "iu":
        raise TypeError(f"{name} must hold integer ids, got dtype {ids.dtype}")
    if ids.ndim != 1:
        raise ValueError(f"{name} must have shape (N,), got {ids.shape}")
    return ids


def stream_batches(ids: np.ndarray, batch_size: int,
                   chunk_len: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """Next-character pairs of a stream laid out for stateful training.

    ``ids``: int ``(N,)``. Inputs are ``ids[:-1]``, targets ``ids[1:]``, both cut by
    ``lstm_lib.data.streams.stateful_batches`` with the same arguments, so row ``i`` of
    batch ``k+1`` continues row ``i`` of batch ``k``. Returns ``K`` pairs ``(x, y)`` of int64
    arrays ``(batch_size, chunk_len)`` with ``y[:, t]`` the character after ``x[:, t]``.
    """
    ids = _ids(ids)
    xs = stateful_batches(ids[:-1].astype(np.int64), batch_size, chunk_len)
    ys = stateful_batches(ids[1:].astype(np.int64), batch_size, chunk_len)
    return list(zip(xs, ys, strict=True))


@dataclass(frozen=True)
class EvalLayout:
    """Which characters an evaluation scores, and how a model reads them.

    Row ``r`` reads the positions ``inputs[r]`` = ``r * length + (0 .. warmup + length - 1)``
    of a stream (``inputs`` int64 ``(rows, warmup + length)``); its output at column ``t``
    predicts position ``inputs[r, t] + 1``. Only the last ``length`` columns are scored
    (``mask``, bool, same shape), so every scored character has at least ``warmup``
    characters of context, and the rows together score every position in
    ``warmup + 1 .. warmup + rows * length`` exactly once: ``targets`` int64
    ``(rows * length,)``, in order.
    """

    rows: int
    length: int
    warmup: int
    inputs: np.ndarray = field(repr=False)
    mask: np.ndarray = field(repr=False)
    targets: np.ndarray = field(repr=False)


def eval_layout(n: int, rows: int, warmup: int, length: int | None = None) -> EvalLayout:
    """Score a stream of ``n`` characters in ``rows`` rows that run side by side, each read
    from ``warmup`` characters before its first scored target (each row starts from a zero
    state).

    ``length=None``: the rows tile the stream, scoring every position from ``warmup + 1`` on
    once (the last ``(n - 1 - warmup) % rows`` are not scored). An int ``length``: rows of
    ``length`` scored characters each, spread evenly from the start to the end of the
    stream (a sample of it; ``rows * (warmup + length)`` must not exceed ``n - 1``).
    """
    n, rows = positive_int("n", n), positive_int("rows", rows)
    if isinstance(warmup, bool) or not isinstance(warmup, (int, np.integer)) or warmup < 0:
        raise ValueError(f"warmup must be an int >= 0, got {warmup!r}")
    if length is None:
        length = (n - 1 - warmup) // rows
        if length < 1:
            raise ValueError(f"a stream of {n} characters is too short for rows={rows}, "
                             f"warmup={warmup}")
        starts = length * np.arange(rows, dtype=np.int64)
    else:
        length = positive_int("length", length)
        if rows * (warmup + length) > n - 1:
            raise ValueError(f"{rows} rows of warmup + length = {warmup + length} do not fit "
                             f"in a stream of {n} characters")
        span = n - 1 - (warmup + length)          # the last row starts here
        starts = (np.arange(rows, dtype=np.int64) * span) // max(rows - 1, 1)
    inputs = starts[:, None] + np.arange(warmup + length)
    mask = np.zeros(inputs.shape, dtype=bool)
    mask[:, warmup:] = True
    return EvalLayout(rows=rows, length=int(length), warmup=int(warmup), inputs=inputs,
                      mask=mask, targets=inputs[mask] + 1)


__all__ = [
    "KERAS_PIN",
    "UNK",
    "TextCorpus",
    "is_test_file",
    "python_source_corpus",
    "CharVocab",
    "TextSplit",
    "split_by_position",
    "stream_batches",
    "EvalLayout",
    "eval_layout",
]
