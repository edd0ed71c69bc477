"""Real text for a character language model: the Python source of a pinned package.

``python_source_corpus()`` reads, at run time and offline, the non-test ``.py`` files of the
installed ``keras`` distribution (pinned to 3.15.1 by the book's lock), in sorted path order,
and joins them into one string of about 6.9 million characters. Nobody here wrote it, the pin
fixes it, and its SHA-256 says which text a reader has. ``split_by_position`` gives the
slices of train, validation and test, cut by position as the ``char_lm`` recipe cuts them
(nothing is shuffled across the split); the recipe holds the vocabulary, the batching and
which characters an evaluation scores.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
from collections import Counter
from dataclasses import dataclass, field

import numpy as np

from lstm_lib.checks import positive_int
from lstm_lib.recipes.char_lm import split_points

KERAS_PIN = "3.15.1"


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


@dataclass(frozen=True)
class TextSplit:
    """Three consecutive slices of one text: ``train``, ``val``, ``test``."""

    train: slice
    val: slice
    test: slice


def split_by_position(n: int, val_fraction: float = 0.05,
                      test_fraction: float = 0.05) -> TextSplit:
    """Cut positions ``0..n-1`` into train, val, test, in this order: the last
    ``test_fraction`` of the text is test, the ``val_fraction`` before it validation. The
    cut is the ``char_lm`` recipe's (``split_points``), as slices."""
    n = positive_int("n", n)
    for name, f in (("val_fraction", val_fraction), ("test_fraction", test_fraction)):
        if not 0 < f < 1:
            raise ValueError(f"{name} must lie in (0, 1), got {f!r}")
    if val_fraction + test_fraction >= 1:
        raise ValueError(f"val_fraction + test_fraction must be < 1, got "
                         f"{val_fraction + test_fraction}")
    a, b = split_points(n, val_fraction, test_fraction)
    return TextSplit(train=slice(0, a), val=slice(a, b), test=slice(b, n))


__all__ = [
    "KERAS_PIN",
    "TextCorpus",
    "is_test_file",
    "python_source_corpus",
    "TextSplit",
    "split_by_position",
]
