"""The data a checkpoint's manifest may name, each made again offline from an installed package.

A checkpoint (``lstm_lib.checkpoints``) records ``data: {"source": NAME, "sha256": ...}``.
``data_file(NAME)`` writes that data to ``_build/data/NAME.SUFFIX`` (once; again only when
its bytes change) and returns the path, which is what a recipe's ``--text`` / ``--data``
option takes. Each source is a function that returns the file's bytes, so the SHA-256 of
the file is the SHA-256 of the data.
"""

from __future__ import annotations

import functools
import hashlib
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DATA_CACHE = ROOT / "_build" / "data"


@dataclass(frozen=True)
class Source:
    """``make()`` returns the data file's bytes; ``suffix`` its file type (``.txt``)."""

    make: Callable[[], bytes]
    suffix: str
    about: str


def _keras_source() -> bytes:
    from lstm_lib.data.text import python_source_corpus

    return python_source_corpus().text.encode("utf-8")


@functools.cache
def _japanese_vowels() -> bytes:
    from lstm_lib.data.vowels import vowels_npz_bytes

    return vowels_npz_bytes()


@functools.cache
def _sunspots() -> bytes:
    from lstm_lib.data.real_series import load_sunspots, series_csv_bytes

    return series_csv_bytes(load_sunspots())


@functools.cache
def _co2_monthly() -> bytes:
    from lstm_lib.data.real_series import load_co2, monthly_means, series_csv_bytes

    return series_csv_bytes(monthly_means(load_co2()))


@functools.cache
def _number_words() -> bytes:
    from lstm_lib.data.number_words import pairs_tsv_bytes

    return pairs_tsv_bytes()


@functools.cache
def _formal_languages() -> bytes:
    from lstm_lib.data.formal_languages import tasks_tsv_bytes

    return tasks_tsv_bytes()


SOURCES: dict[str, Source] = {
    "keras-3.15.1-source": Source(
        _keras_source, ".txt",
        "the non-test .py files of keras 3.15.1, sorted by path and joined "
        "(lstm_lib.data.text.python_source_corpus)"),
    "japanese-vowels": Source(
        _japanese_vowels, ".npz",
        "Japanese Vowels from sktime (270 training and 370 test utterances, 12 LPC "
        "coefficients per frame, 7-29 frames, 9 speakers) in lstm_lib.recipes.classify's "
        "npz format (lstm_lib.data.vowels.vowels_npz_bytes)"),
    "sunspots": Source(
        _sunspots, ".csv",
        "yearly sunspot numbers 1700-2008 from statsmodels.datasets.sunspots, as a CSV "
        "(lstm_lib.data.real_series.series_csv_bytes)"),
    "co2-monthly": Source(
        _co2_monthly, ".csv",
        "monthly means of statsmodels' weekly Mauna Loa CO2, March 1958 - December 2001 "
        "(526 months, 5 without an observed week left empty), as a CSV "
        "(lstm_lib.data.real_series.monthly_means, series_csv_bytes)"),
    "number-words-de-fr": Source(
        _number_words, ".tsv",
        "every number below 100,000 and 937 test-split numbers from 100,003 to 999,999 "
        "written out in German and French by num2words 0.5.14, with their digits and "
        "splits, in lstm_lib.recipes.seq2seq's TSV format "
        "(lstm_lib.data.number_words.pairs_tsv_bytes)"),
    "state-tracking": Source(
        _formal_languages, ".tsv",
        "parity and cycle navigation (5 places): 20,000 training and 500 validation "
        "sequences of lengths 1-40 each, 500 test sequences of length 256, in "
        "lstm_lib.recipes.state_tracking's TSV format "
        "(lstm_lib.data.formal_languages.tasks_tsv_bytes)"),
}


def data_file(name: str, cache: Path = DATA_CACHE) -> Path:
    """The data of source ``name`` written to ``cache/NAME.SUFFIX``; returns the path."""
    if name not in SOURCES:
        raise ValueError(f"unknown data source {name!r}; known: {sorted(SOURCES)}")
    source = SOURCES[name]
    data = source.make()
    path = Path(cache) / f"{name}{source.suffix}"
    if not path.exists() or path.read_bytes() != data:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f"{path.suffix}.{os.getpid()}.tmp")   # one per process
        tmp.write_bytes(data)
        tmp.replace(path)
    return path


def sha256_of(path: str | Path) -> str:
    """The SHA-256 of the file at ``path``, as 64 hexadecimal digits (a manifest's
    ``data.sha256``)."""
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def data_file_matching(name: str, sha256: str, cache: Path = DATA_CACHE) -> Path:
    """The data file of source ``name`` with SHA-256 ``sha256`` (a checkpoint manifest's
    ``data.sha256``): the one in ``cache`` if it is there with that digest (``make
    check-checkpoints`` writes them), else ``data_file(name, cache)``, made again. Raises
    ``ValueError`` if the file made again does not have that digest either."""
    if name not in SOURCES:
        raise ValueError(f"unknown data source {name!r}; known: {sorted(SOURCES)}")
    if not isinstance(sha256, str) or len(sha256) != 64:
        raise ValueError(f"sha256 must be 64 hexadecimal digits, got {sha256!r}")
    path = Path(cache) / f"{name}{SOURCES[name].suffix}"
    if path.exists() and sha256_of(path) == sha256:
        return path
    path = data_file(name, cache)
    digest = sha256_of(path)
    if digest != sha256:
        raise ValueError(f"source {name!r} made here has sha256 {digest}, expected {sha256}")
    return path


__all__ = ["SOURCES", "Source", "data_file", "data_file_matching", "sha256_of", "DATA_CACHE"]
