"""Lay one long stream out for stateful training: row i of batch k+1 continues row i of batch k.

A stateful layer keeps the final state of row ``i`` of one batch as the initial state of row
``i`` of the next batch. That is only right if the data agree: the stream of length ``N`` is
cut into ``B`` contiguous rows of length ``L`` (row ``i`` holds positions ``i*L .. i*L+L-1``),
and batch ``k`` is the ``k``-th time chunk of every row::

    stream:  0 1 2 3 4 5 6 7 8 9 10 11          B = 2 rows, L = 6, chunk length T = 3
    rows:    [0 1 2 3 4 5]                      batch 0: [[0 1 2],   batch 1: [[3 4 5],
             [6 7 8 9 10 11]                              [6 7 8]]             [9 10 11]]

Reading row ``i`` of batch 0, then of batch 1, ... gives back one contiguous piece of the
stream (``join_batches`` does it; ``continuity`` measures how many rows continue).

The remainder: ``N`` is rarely a multiple of ``B * T``. Every layout here keeps the batch
size fixed (a stateful layer's state has exactly ``B`` rows) and never wraps or pads:

- ``"drop"`` (default): rows of ``L = T * (N // (B*T))``; the last ``N - B*L`` positions
  (fewer than ``B*T``) are dropped. All ``K = L // T`` batches are ``(B, T)``.
- ``"short"``: rows of ``L = N // B`` (fewer than ``B`` positions dropped); the last batch is
  shorter in time, ``(B, L % T)``, when ``T`` does not divide ``L``. The state still carries
  into it correctly: only the time length changes, never the batch size.
- ``"error"``: raise ``ValueError`` unless ``N`` is a multiple of ``B * T``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import numpy as np

from lstm_lib.checks import positive_int

Remainder = Literal["drop", "short", "error"]
_REMAINDERS = ("drop", "short", "error")


def row_length(length: int, batch_size: int, chunk_len: int, remainder: Remainder = "drop") -> int:
    """The length ``L`` of each of the ``batch_size`` rows for a stream of ``length`` positions.

    See the module docstring for the three ``remainder`` rules. Raises ``ValueError`` if the
    stream is too short to give every row at least one position (``"short"``) or one full
    chunk (``"drop"``, ``"error"``).
    """
    length = positive_int("length", length)
    batch_size = positive_int("batch_size", batch_size)
    chunk_len = positive_int("chunk_len", chunk_len)
    if remainder not in _REMAINDERS:
        raise ValueError(f"remainder must be one of {_REMAINDERS}, got {remainder!r}")
    if remainder == "short":
        rows = length // batch_size
        if rows == 0:
            raise ValueError(
                f"a stream of {length} positions is too short for batch_size={batch_size} rows"
            )
        return rows
    per_batch = batch_size * chunk_len
    if remainder == "error" and length % per_batch:
        raise ValueError(
            f"stream length must be a multiple of batch_size * chunk_len = {per_batch}, "
            f"got {length} (remainder {length % per_batch}); use remainder='drop' or 'short'"
        )
    if length < per_batch:
        raise ValueError(
            f"a stream of {length} positions is shorter than one batch of "
            f"batch_size * chunk_len = {per_batch}"
        )
    return chunk_len * (length // per_batch)


def stateful_positions(
    length: int, batch_size: int, chunk_len: int, remainder: Remainder = "drop"
) -> list[np.ndarray]:
    """Stream positions of every stateful batch.

    Returns a list of ``K`` int64 arrays; array ``k`` has shape ``(batch_size, T_k)`` and
    entry ``[i, t] = i * L + k * chunk_len + t``, with ``L = row_length(...)``. ``T_k`` is
    ``chunk_len`` except possibly for the last batch under ``remainder="short"``.
    """
    rows = row_length(length, batch_size, chunk_len, remainder)
    grid = np.arange(batch_size, dtype=np.int64)[:, None] * rows + np.arange(rows)[None, :]
    return [grid[:, s : s + chunk_len] for s in range(0, rows, chunk_len)]


def stateful_batches(
    stream: np.ndarray, batch_size: int, chunk_len: int, remainder: Remainder = "drop"
) -> list[np.ndarray]:
    """Cut ``stream`` (shape ``(N, *F)``, any dtype) into stateful batches.

    Returns a list of ``K`` arrays of shape ``(batch_size, T_k, *F)``: row ``i`` of batch
    ``k+1`` starts at the stream position right after the end of row ``i`` of batch ``k``.
    Lay inputs and targets of equal length out with the same arguments and they stay aligned.
    """
    if not isinstance(stream, np.ndarray):
        kind = type(stream).__name__
        raise TypeError(f"stream must be a NumPy array of shape (N, ...), got {kind}")
    if stream.ndim == 0:
        raise ValueError("stream must have at least 1 dimension (N, ...), got a 0-d array")
    return [stream[p] for p in stateful_positions(len(stream), batch_size, chunk_len, remainder)]


def join_batches(batches: Sequence[np.ndarray]) -> np.ndarray:
    """The inverse of the layout: concatenate row ``i`` of every batch along time.

    ``batches``: ``K`` arrays of shape ``(B, T_k, *F)`` (equal ``B`` and ``F``).
    Returns an array ``(B, sum T_k, *F)``; for batches from ``stateful_batches`` row ``i`` is
    the contiguous stream slice ``stream[i*L : (i+1)*L]``.
    """
    if len(batches) == 0:
        raise ValueError("batches must hold at least one batch, got 0")
    first = np.asarray(batches[0])
    for k, b in enumerate(batches):
        b = np.asarray(b)
        if b.ndim < 2 or b.shape[0] != first.shape[0] or b.shape[2:] != first.shape[2:]:
            raise ValueError(
                f"every batch must have shape (B, T_k, *F) = ({first.shape[0]}, *, "
                f"{', '.join(map(str, first.shape[2:])) or '-'}), got {b.shape} at batch {k}"
            )
    return np.concatenate([np.asarray(b) for b in batches], axis=1)


def continuity(positions: Sequence[np.ndarray]) -> float:
    """The fraction of (batch ``k``, row ``i``) pairs, ``k < K-1``, whose row ``i`` in batch
    ``k+1`` starts at the stream position right after the end of row ``i`` in batch ``k``.

    ``positions``: ``K >= 2`` int arrays ``(B, T_k)`` of stream positions, e.g. from
    ``stateful_positions`` (which gives 1.0) or a shuffled copy of them. Returns a float in
    ``[0, 1]``; a stateful layer computes what it should only where this holds.
    """
    if len(positions) < 2:
        raise ValueError(f"positions must hold at least 2 batches, got {len(positions)}")
    rows = {np.shape(p)[0] for p in positions}
    if len(rows) != 1 or any(np.ndim(p) != 2 for p in positions):
        shapes = [np.shape(p) for p in positions]
        raise ValueError(f"positions must be 2-d (B, T_k) with one B, got shapes {shapes}")
    pairs = zip(positions[:-1], positions[1:], strict=True)
    ok = [np.asarray(b)[:, 0] == np.asarray(a)[:, -1] + 1 for a, b in pairs]
    return float(np.mean(np.concatenate(ok)))


__all__ = [
    "Remainder",
    "row_length",
    "stateful_positions",
    "stateful_batches",
    "join_batches",
    "continuity",
]
