"""The Japanese Vowels data set, offline from sktime, and padding a batch of unequal lengths.

Nine male speakers said the Japanese vowels /ae/; each utterance is a sequence of 7 to 29
frames of 12 LPC cepstral coefficients (Kudo, Toyama and Shimbo, 1999). The task: which
speaker? sktime ships the official split, 270 training utterances (30 per speaker) and 370
test utterances (24 to 88 per speaker), inside the package, so nothing is downloaded:

    train = load_vowels("train")          # Vowels: .sequences, .labels, .lengths
    batch = pad(train.sequences, padding="post")   # Padded: .x (B, T, 12), .lengths, .mask

``pad`` follows Keras's ``pad_sequences`` words (``padding="pre"`` or ``"post"``), but its
default is ``"post"``, the layout ``torch.nn.utils.rnn.pack_padded_sequence`` expects;
Keras's own default is ``"pre"``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from lstm_lib import checks

N_CHANNELS = 12
N_SPEAKERS = 9


@dataclass
class Vowels:
    """One split of Japanese Vowels.

    ``sequences``: list of N float64 arrays, sequence ``i`` of shape ``(T_i, 12)`` (time,
    coefficient); ``labels``: ``(N,)`` int64, the speaker 0..8 (sktime's labels "1".."9"
    minus one); ``split``: "train" or "test".
    """

    sequences: list[np.ndarray]
    labels: np.ndarray
    split: str

    @property
    def lengths(self) -> np.ndarray:
        """``(N,)`` int64: the number of frames of each sequence."""
        return np.array([len(s) for s in self.sequences], dtype=np.int64)

    def __len__(self) -> int:
        return len(self.sequences)


def load_vowels(split: str) -> Vowels:
    """Load the ``"train"`` (270 sequences) or ``"test"`` (370) split from inside sktime.

    Returns a :class:`Vowels` with each utterance as a ``(T_i, 12)`` float64 array, in the
    order of sktime's file, and the speakers as int64 0..8. Raises ``ValueError`` for
    another split name, ``TypeError`` for a non-string.
    """
    if not isinstance(split, str):
        raise TypeError(f"split must be 'train' or 'test', got {type(split).__name__}")
    if split not in ("train", "test"):
        raise ValueError(f"split must be 'train' or 'test', got {split!r}")
    from sktime.datasets import load_japanese_vowels

    frames, labels = load_japanese_vowels(split=split, return_type="df-list")
    sequences = [np.ascontiguousarray(f.to_numpy(dtype=np.float64)) for f in frames]
    speakers = np.asarray(labels).astype(np.int64) - 1
    return Vowels(sequences=sequences, labels=speakers, split=split)


def vowels_npz_bytes() -> bytes:
    """Both splits as one ``.npz`` in the format of ``lstm_lib.recipes.classify`` (its
    ``save_npz``): the training utterances then the test ones, in sktime's order, raw
    coefficients, ``split`` "train" / "test", ``classes`` "speaker 1" .. "speaker 9". The
    bytes are the same on every call (``np.savez`` stamps each member 1980-01-01)."""
    import io

    from lstm_lib.recipes.classify import save_npz

    train, test = load_vowels("train"), load_vowels("test")
    buf = io.BytesIO()
    save_npz(buf, train.sequences + test.sequences,
             np.concatenate([train.labels, test.labels]),
             ["train"] * len(train) + ["test"] * len(test),
             [f"speaker {k}" for k in range(1, N_SPEAKERS + 1)])
    return buf.getvalue()


def channel_stats(sequences: Sequence[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Mean and standard deviation of each channel over every *real* frame of ``sequences``
    (a list of ``(T_i, F)`` arrays): two ``(F,)`` arrays. Compute them on the training split
    and before padding: statistics of a padded array count the pads as data."""
    seqs = _check_sequences(sequences)
    frames = np.concatenate(seqs, axis=0)
    return frames.mean(axis=0), frames.std(axis=0)


def standardize(sequences: Sequence[np.ndarray], mean: np.ndarray,
                std: np.ndarray) -> list[np.ndarray]:
    """``(s - mean) / std`` for each ``(T_i, F)`` array of ``sequences``; ``mean`` and
    ``std`` of shape ``(F,)`` (from :func:`channel_stats`, std > 0). Returns new arrays."""
    seqs = _check_sequences(sequences)
    F = seqs[0].shape[1]
    mean = checks.array("mean", np.asarray(mean, dtype=np.float64), (F,), "(F,)")
    std = checks.array("std", np.asarray(std, dtype=np.float64), (F,), "(F,)")
    if not (std > 0).all():
        raise ValueError("std must be positive in every channel")
    return [(s - mean) / std for s in seqs]


@dataclass
class Padded:
    """A padded batch: ``x`` ``(B, T, F)``, ``lengths`` ``(B,)`` int64, ``mask`` ``(B, T)``
    bool (True at real frames), and ``padding``, "post" (real frames first) or "pre"."""

    x: np.ndarray
    lengths: np.ndarray
    mask: np.ndarray
    padding: str

    @property
    def padded_fraction(self) -> float:
        """The share of the ``B * T`` frame slots that hold padding."""
        return float(1.0 - self.mask.mean())


def pad(sequences: Sequence[np.ndarray], padding: str = "post", value: float = 0.0,
        total_length: int | None = None, dtype: Any = np.float64) -> Padded:
    """Stack arrays of shape ``(T_i, F)`` into one ``(B, T, F)`` array, filled with ``value``.

    ``padding="post"`` puts the real frames first and the padding after (what
    ``pack_padded_sequence`` expects); ``"pre"`` puts the padding first (Keras's
    ``pad_sequences`` default). ``T`` is the longest length, or ``total_length`` if given
    (it must be at least the longest). ``dtype``: float32 or float64. Returns a
    :class:`Padded`; ``mask[b, t]`` is True where ``x[b, t]`` is a real frame.
    """
    seqs = _check_sequences(sequences)
    if padding not in ("post", "pre"):
        raise ValueError(f"padding must be 'post' or 'pre', got {padding!r}")
    if isinstance(value, bool) or not isinstance(value, (int, float, np.floating, np.integer)):
        raise TypeError(f"value must be a number, got {type(value).__name__}")
    if not np.isfinite(value):
        raise ValueError(f"value must be finite, got {value}")
    dt = checks.float_dtype(dtype)
    lengths = np.array([len(s) for s in seqs], dtype=np.int64)
    longest = int(lengths.max())
    T = longest if total_length is None else checks.positive_int("total_length", total_length)
    if T < longest:
        raise ValueError(f"total_length must be at least the longest sequence ({longest}), "
                         f"got {T}")
    B, F = len(seqs), seqs[0].shape[1]
    x = np.full((B, T, F), value, dtype=dt)
    mask = np.zeros((B, T), dtype=bool)
    for b, (s, n) in enumerate(zip(seqs, lengths, strict=True)):
        start = 0 if padding == "post" else T - n
        x[b, start:start + n] = s
        mask[b, start:start + n] = True
    return Padded(x=x, lengths=lengths, mask=mask, padding=padding)


def unpad(x: Any, lengths: Any, padding: str = "post") -> list[np.ndarray]:
    """The inverse of :func:`pad`: the real frames of each row of ``x`` ``(B, T, F)``
    (NumPy array or torch tensor) as a list of ``(lengths[b], F)`` NumPy arrays."""
    if hasattr(x, "detach"):
        x = x.detach().cpu().numpy()
    x = checks.array("x", x, (None, None, None), "(B, T, F)")
    B, T, _ = x.shape
    n = checks.lengths(lengths, B, T)
    if padding not in ("post", "pre"):
        raise ValueError(f"padding must be 'post' or 'pre', got {padding!r}")
    if padding == "post":
        return [x[b, :k].copy() for b, k in enumerate(n)]
    return [x[b, T - k:].copy() for b, k in enumerate(n)]


def _check_sequences(sequences: Any) -> list[np.ndarray]:
    """A non-empty list of finite float ``(T_i, F)`` arrays with one F and every T_i >= 1."""
    if isinstance(sequences, np.ndarray) or not isinstance(sequences, Sequence):
        raise TypeError("sequences must be a list of (T_i, F) arrays, got "
                        f"{type(sequences).__name__}")
    if len(sequences) == 0:
        raise ValueError("sequences must not be empty")
    out = []
    for i, s in enumerate(sequences):
        if not isinstance(s, np.ndarray):
            raise TypeError(f"sequences[{i}] must be a NumPy array, got {type(s).__name__}")
        checks.array(f"sequences[{i}]", s, (None, None), "(T_i, F)")
        if s.shape[1] != sequences[0].shape[1]:
            raise ValueError(f"every sequence must have the same F: sequences[0] has "
                             f"{sequences[0].shape[1]}, sequences[{i}] has {s.shape[1]}")
        out.append(s)
    return out
