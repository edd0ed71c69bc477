"""Cut a sequence into fixed-length windows and the value that follows each one.

A recurrent layer is fed batches shaped ``(nb_samples, seq_length, input_dim)``: sample ``i``
is the window ``seq[i*stride : i*stride + seq_length]``, and its target is the element
``horizon`` steps after the window's last one, ``seq[i*stride + seq_length - 1 + horizon]``.
"""

from __future__ import annotations

import numpy as np

from lstm_lib.checks import positive_int
from lstm_lib.data.encoding import one_hot


def _as_sequence(seq: np.ndarray) -> np.ndarray:
    if not isinstance(seq, np.ndarray):
        try:
            import torch
        except ImportError:  # pragma: no cover - torch is a dependency
            torch = None
        if torch is not None and isinstance(seq, torch.Tensor):
            seq = seq.detach().cpu().numpy()
        elif isinstance(seq, (list, tuple)):
            seq = np.asarray(seq)
        else:
            raise TypeError(f"seq must be a NumPy array, got {type(seq).__name__}")
    if seq.dtype.kind not in "biuf":
        raise TypeError(
            f"seq must hold numbers (bool, integer or real float), got dtype {seq.dtype}"
        )
    if seq.ndim not in (1, 2):
        raise ValueError(
            f"seq must have shape (N,) or (N, input_dim), got {seq.ndim} dimensions {seq.shape}"
        )
    if seq.ndim == 2 and seq.shape[1] == 0:
        raise ValueError(f"seq must have input_dim >= 1, got shape {seq.shape}")
    if seq.dtype.kind == "f" and not np.isfinite(seq).all():
        raise ValueError("seq contains NaN or inf")
    return seq


def n_windows(length: int, seq_length: int, horizon: int = 1, stride: int = 1) -> int:
    """How many windows ``make_windows`` cuts from a sequence of ``length`` elements:
    ``(length - seq_length - horizon) // stride + 1`` (0 if the sequence is too short).
    ``length`` >= 0; ``seq_length``, ``horizon``, ``stride`` >= 1 (else ValueError)."""
    if isinstance(length, bool) or not isinstance(length, (int, np.integer)) or length < 0:
        raise ValueError(f"length must be an int >= 0, got {length!r}")
    seq_length = positive_int("seq_length", seq_length)
    horizon = positive_int("horizon", horizon)
    stride = positive_int("stride", stride)
    span = seq_length + horizon
    return max(0, (length - span) // stride + 1)


def make_windows(
    seq: np.ndarray, seq_length: int, horizon: int = 1, stride: int = 1
) -> tuple[np.ndarray, np.ndarray]:
    """Windows of a sequence and their targets.

    ``seq``: shape ``(N,)`` (then ``input_dim = 1``) or ``(N, input_dim)``; numbers of any
    real kind (token ids stay integers).
    ``seq_length``: time steps per window (>= 1). ``horizon``: how far after the window's
    last element the target lies (>= 1; 1 = the next element). ``stride``: the step between
    the starts of consecutive windows (>= 1).

    Returns ``(X, y)``: ``X`` of shape ``(nb_samples, seq_length, input_dim)``, a copy with
    ``X[i] = seq[i*stride : i*stride + seq_length]``; ``y`` of shape ``(nb_samples,)`` for a
    1-D ``seq`` or ``(nb_samples, input_dim)``, ``y[i] = seq[i*stride + seq_length - 1 +
    horizon]``. ``nb_samples = (N - seq_length - horizon) // stride + 1``.

    Raises ``ValueError`` for a window (plus horizon) longer than the sequence, a
    non-positive ``seq_length``/``horizon``/``stride``, a wrong rank or NaN; ``TypeError``
    for a non-numeric dtype or a non-int size.
    """
    seq = _as_sequence(seq)
    seq_length = positive_int("seq_length", seq_length)
    horizon = positive_int("horizon", horizon)
    stride = positive_int("stride", stride)
    n = seq.shape[0]
    if seq_length + horizon > n:
        raise ValueError(
            f"seq_length + horizon must be at most the sequence length N={n}, got "
            f"seq_length={seq_length} + horizon={horizon} = {seq_length + horizon}: "
            "the window (and its target) is longer than the sequence"
        )
    nb = n_windows(n, seq_length, horizon, stride)
    seq2 = seq[:, None] if seq.ndim == 1 else seq
    starts = np.arange(nb) * stride
    X = seq2[starts[:, None] + np.arange(seq_length)[None, :]]  # fancy indexing copies
    y = seq[starts + seq_length - 1 + horizon]
    return X, y


__all__ = ["make_windows", "n_windows", "one_hot"]
