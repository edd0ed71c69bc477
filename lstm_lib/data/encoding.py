"""One-hot coding of integer ids, the one definition the data modules share.

``seq_tasks``, ``tagging`` and ``windows`` import :func:`one_hot` from here (and re-export it,
so ``tagging.one_hot`` and ``windows.one_hot`` name this same function).
"""

from __future__ import annotations

import numpy as np

from lstm_lib.checks import positive_int


def one_hot(ids: np.ndarray, depth: int, dtype: type = np.float32) -> np.ndarray:
    """One-hot code integer ``ids`` of any shape ``S``: returns ``(*S, depth)`` of ``dtype``
    (float32 unless given), a single 1 in each vector, at position ``ids[...]``.

    ``ids``: integers in ``[0, depth)`` (a NumPy array or anything ``np.asarray`` takes);
    a non-integer dtype is a TypeError, a value out of range or ``depth < 1`` a ValueError.
    """
    depth = positive_int("depth", depth)
    ids = np.asarray(ids)
    if ids.dtype.kind not in "iu":
        raise TypeError(f"ids must be integers, got dtype {ids.dtype}")
    if ids.size and (ids.min() < 0 or ids.max() >= depth):
        raise ValueError(f"ids must lie in [0, {depth}), got values in [{ids.min()}, {ids.max()}]")
    return np.eye(depth, dtype=dtype)[ids]


__all__ = ["one_hot"]
