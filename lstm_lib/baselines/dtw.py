"""Dynamic time warping (DTW) and the 1-nearest-neighbour classifier built on it.

The distance is the *dependent* multivariate DTW (DTW_D) of ``dtaidistance.dtw_ndim``: the
two sequences ``a`` ``(n, F)`` and ``b`` ``(m, F)`` are aligned frame to frame by a
monotone warping path from ``(0, 0)`` to ``(n-1, m-1)``; the cost of a path is the sum of
the squared Euclidean distances ``|a_i - b_j|^2`` of the frame pairs it visits, and

    DTW(a, b) = sqrt( min over paths of the path's cost ).

Sequences of different lengths need no padding: the warping absorbs the difference.
``dtw_distance`` computes it in NumPy (the definition, for checking); ``dtw_matrix`` calls
dtaidistance's C routine (``distance_matrix_fast``) for all pairs at once, which is what
sktime's ``DtwDtaidistMultiv(use_c=True)`` calls too.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from lstm_lib import checks


def _sequences(name: str, seqs: Any, F: int | None = None) -> list[np.ndarray]:
    if isinstance(seqs, np.ndarray) or not isinstance(seqs, Sequence) or len(seqs) == 0:
        raise TypeError(f"{name} must be a non-empty list of (T_i, F) arrays, got "
                        f"{type(seqs).__name__}")
    out = []
    for i, s in enumerate(seqs):
        if not isinstance(s, np.ndarray):
            raise TypeError(f"{name}[{i}] must be a NumPy array, got {type(s).__name__}")
        checks.array(f"{name}[{i}]", s, (None, F), "(T_i, F)")
        F = s.shape[1]
        out.append(np.ascontiguousarray(s, dtype=np.float64))
    return out


def dtw_distance(a: np.ndarray, b: np.ndarray) -> float:
    """DTW_D between ``a`` ``(n, F)`` and ``b`` ``(m, F)`` in plain NumPy (O(n m)): the
    square root of the cheapest warping path's summed squared Euclidean frame distances."""
    a, b = _sequences("sequences", [a, b])
    cost = ((a[:, None, :] - b[None, :, :]) ** 2).sum(-1)          # (n, m)
    n, m = cost.shape
    acc = np.full((n + 1, m + 1), np.inf)
    acc[0, 0] = 0.0
    for i in range(1, n + 1):
        for j in range(1, m + 1):
            acc[i, j] = cost[i - 1, j - 1] + min(acc[i - 1, j], acc[i, j - 1],
                                                 acc[i - 1, j - 1])
    return float(np.sqrt(acc[n, m]))


def dtw_matrix(queries: Sequence[np.ndarray], references: Sequence[np.ndarray]) -> np.ndarray:
    """All DTW_D distances from each of Q ``queries`` to each of R ``references`` (lists of
    ``(T_i, F)`` arrays, any lengths, one F): a ``(Q, R)`` array, by dtaidistance's C code
    (one thread)."""
    from dtaidistance import dtw_ndim

    refs = _sequences("references", references)
    qs = _sequences("queries", queries, refs[0].shape[1])
    R = len(refs)
    full = dtw_ndim.distance_matrix_fast(refs + qs, block=((0, R), (R, R + len(qs))),
                                         compact=False, parallel=False)
    return np.asarray(full)[:R, R:].T.copy()


@dataclass
class NearestNeighbour:
    """What 1-NN found for each query: ``prediction`` ``(Q,)`` the label of its nearest
    reference, ``nearest`` ``(Q,)`` that reference's index, ``distance`` ``(Q,)`` the DTW
    distance to it."""

    prediction: np.ndarray
    nearest: np.ndarray
    distance: np.ndarray


def nearest_neighbour(references: Sequence[np.ndarray], labels: Any,
                      queries: Sequence[np.ndarray]) -> NearestNeighbour:
    """1-nearest-neighbour classification under DTW_D: each query gets the label of the
    reference sequence closest to it. ``labels`` ``(R,)``, one per reference. Ties go to
    the lowest reference index (``argmin``)."""
    labels = np.asarray(labels)
    if labels.shape != (len(references),):
        raise ValueError(f"labels must have shape (R,) = ({len(references)},), got "
                         f"{labels.shape}")
    d = dtw_matrix(queries, references)
    nearest = d.argmin(axis=1)
    return NearestNeighbour(prediction=labels[nearest], nearest=nearest,
                            distance=d[np.arange(len(d)), nearest])
