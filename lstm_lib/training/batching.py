"""Which sequences go into a batch together: random, sorted by length, or bucketed.

A batch of sequences of different lengths is padded to its longest member, and a recurrent
layer runs for that many steps. Batches of similar lengths waste less:

- ``"random"``: shuffle, cut into batches (the usual default);
- ``"sorted"``: sort by length, cut into batches, shuffle the order of the batches (each
  batch holds neighbours in length; its members are the same in every epoch, up to ties);
- ``"bucketed"``: shuffle, cut into pools of ``pool`` batches, sort each pool by length and
  cut it into batches, shuffle the batches (similar lengths, but new company every epoch).

    plan = make_batches(lengths, batch_size=32, order="bucketed", seed=0)
    padding_cost(lengths, plan)    # PaddingCost: padded_fraction, padded_steps, ...
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from lstm_lib import checks

ORDERS = ("random", "sorted", "bucketed")


def _lengths(lengths: Any) -> np.ndarray:
    if hasattr(lengths, "detach"):
        lengths = lengths.detach().cpu().numpy()
    arr = np.asarray(lengths)
    if arr.dtype.kind not in "iu":
        raise TypeError(f"lengths must be integers, got dtype {arr.dtype}")
    if arr.ndim != 1 or arr.size == 0:
        raise ValueError(f"lengths must be 1-D and not empty, got shape {arr.shape}")
    if arr.min() < 1:
        raise ValueError(f"lengths must be >= 1, got {arr.min()}")
    return arr.astype(np.int64)


def make_batches(lengths: Any, batch_size: int, order: str = "random", seed: Any = 0,
                 pool: int = 4) -> list[np.ndarray]:
    """Split the indices ``0..N-1`` of ``lengths`` ``(N,)`` into batches.

    ``order``: "random", "sorted" or "bucketed" (see the module doc); ``pool``: batches per
    bucket for "bucketed". ``seed``: int or ``numpy.random.Generator`` (pass one Generator
    to get a new plan each epoch). Returns a list of int64 index arrays, each of
    ``batch_size`` indices but the last, which may be shorter; every index appears once.
    Sorting is stable, so ties keep the shuffled order.
    """
    n = _lengths(lengths)
    batch_size = checks.positive_int("batch_size", batch_size)
    pool = checks.positive_int("pool", pool)
    if order not in ORDERS:
        raise ValueError(f"order must be one of {ORDERS}, got {order!r}")
    rng = checks.generator(seed)
    perm = rng.permutation(len(n))
    if order == "random":
        return _cut(perm, batch_size)
    if order == "sorted":
        ranked = perm[np.argsort(n[perm], kind="stable")]
        batches = _cut(ranked, batch_size)
    else:
        batches = []
        for chunk in _cut(perm, batch_size * pool):
            batches += _cut(chunk[np.argsort(n[chunk], kind="stable")], batch_size)
    return [batches[i] for i in rng.permutation(len(batches))]


def _cut(indices: np.ndarray, size: int) -> list[np.ndarray]:
    return [indices[i:i + size].astype(np.int64) for i in range(0, len(indices), size)]


@dataclass
class PaddingCost:
    """The work a plan of batches asks of a recurrent layer that pads each batch to its own
    longest member.

    ``real_steps``: sum of all lengths (the same for every plan); ``slots``: sum over batches
    of batch size x longest length (sequence-steps computed without packing);
    ``padded_steps`` = ``slots - real_steps``; ``padded_fraction`` = ``padded_steps /
    slots``; ``loop_steps``: sum over batches of the longest length (the number of
    sequential steps the time loop runs in an epoch).
    """

    real_steps: int
    slots: int
    padded_steps: int
    padded_fraction: float
    loop_steps: int


def padding_cost(lengths: Any, batches: list[np.ndarray]) -> PaddingCost:
    """The :class:`PaddingCost` of ``batches`` (lists of indices into ``lengths`` ``(N,)``)."""
    n = _lengths(lengths)
    if not isinstance(batches, (list, tuple)) or not batches:
        raise ValueError("batches must be a non-empty list of index arrays")
    slots = loop = real = 0
    for i, b in enumerate(batches):
        b = np.asarray(b)
        if b.dtype.kind not in "iu" or b.ndim != 1 or b.size == 0:
            raise ValueError(f"batches[{i}] must be a non-empty 1-D integer array, got "
                             f"dtype {b.dtype} shape {b.shape}")
        if b.min() < 0 or b.max() >= len(n):
            raise ValueError(f"batches[{i}] holds an index outside [0, {len(n) - 1}]")
        longest = int(n[b].max())
        slots += longest * b.size
        loop += longest
        real += int(n[b].sum())
    return PaddingCost(real_steps=real, slots=slots, padded_steps=slots - real,
                       padded_fraction=(slots - real) / slots, loop_steps=loop)


def plan_matrix(lengths: Any, batches: list[np.ndarray], total_length: int | None = None
                ) -> np.ndarray:
    """A picture of a plan: one row per sequence, in batch order, ``(N, T)`` float with 1.0
    at a real step, 0.5 at a padded step the layer computes (inside its batch's longest
    length) and 0.0 past it. ``T`` is the longest length, or ``total_length``."""
    n = _lengths(lengths)
    padding_cost(n, batches)      # checks the batches
    T = int(n.max()) if total_length is None else checks.positive_int("total_length",
                                                                       total_length)
    if T < n.max():
        raise ValueError(f"total_length must be at least {n.max()}, got {T}")
    rows = []
    for b in batches:
        longest = int(n[b].max())
        for k in n[b]:
            row = np.zeros(T)
            row[:longest] = 0.5
            row[:k] = 1.0
            rows.append(row)
    return np.array(rows)


def epoch_plans(lengths: Any, batch_size: int, order: str = "random", n_epochs: int = 1,
                seed: Any = 0, pool: int = 4) -> list[list[np.ndarray]]:
    """``n_epochs`` plans of batches for ``lengths`` ``(N,)``, one per epoch, all drawn from
    one generator seeded with ``seed``, as a training loop draws them: each epoch gets a new
    plan (:func:`make_batches` with ``batch_size``, ``order``, ``pool``). Returns a list of
    ``n_epochs`` plans, each a list of int64 index arrays."""
    n_epochs = checks.positive_int("n_epochs", n_epochs)
    rng = checks.generator(seed)
    return [make_batches(lengths, batch_size, order, seed=rng, pool=pool)
            for _ in range(n_epochs)]


def epoch_cpu_seconds(layer: Any, x: Any, lengths: Any, plan: list[np.ndarray]) -> float:
    """CPU time (``time.process_time``) of one epoch of forward and backward passes of a
    recurrent ``layer`` (a batch-first ``torch.nn`` module returning ``(output, ...)``) over
    the batches of ``plan``, each batch of the post-padded ``x`` ``(N, T, I)`` (tensor) cut
    to its own longest member of ``lengths`` ``(N,)``, without packing. The loss is
    ``output.sum()``; gradients accumulate in ``layer``. A measurement of this machine, not a
    fact about the method: compare orders by ratios, measured interleaved."""
    import time

    import torch

    n = _lengths(lengths)
    checks.array("x", x, (len(n), None, None), "(N, T, I)", allow_torch=True)
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"x must be a torch.Tensor, got {type(x).__name__}")
    if n.max() > x.shape[1]:
        raise ValueError(f"lengths must be at most T = {x.shape[1]}, got {n.max()}")
    padding_cost(n, plan)          # checks the batches
    start = time.process_time()
    for idx in plan:
        out, _ = layer(x[torch.from_numpy(np.asarray(idx)), :int(n[idx].max())])
        out.sum().backward()
    return time.process_time() - start
