"""A toy memory task: the flip-flop (a one-bit latch hidden in noise).

Each sequence has two input channels. Channel 0 is a *marker*: 1.0 at a few random steps,
0.0 elsewhere. Channel 1 carries a *value*: at a marker step it is exactly +1 or -1; at every
other step it is Gaussian noise. The target at step t is the value of the most recent marker
at or before t (0 before the first marker). So the network must

- write when the marker is on and ignore the value channel otherwise (an input gate),
- throw the old bit away when a new marker comes (a forget gate), and
- hold the bit unchanged across the gaps between markers (a forget gate near 1).

The task is the one-bit case of the flip-flop of Sussillo & Barak (2013). Its gate heat maps
tell a clear story, which :func:`event_means` turns into numbers. (``lstm_lib.data.flipflop``
draws one long noiseless stream of a related task for the stateful chapter; this module draws
batches, with noise and a separate marker channel, so that the gates have work to do.)
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from lstm_lib import checks

MARKER, VALUE = 0, 1  # input channels


@dataclass(frozen=True)
class FlipFlopBatch:
    """One batch of the flip-flop task.

    Attributes:
        x: inputs, ``(B, T, 2)`` float; channel 0 the marker, channel 1 the value.
        y: targets, ``(B, T, 1)`` float in {-1, 0, +1}: the most recent marked value.
        marker: ``(B, T)`` bool, True at marker steps.
    """

    x: np.ndarray
    y: np.ndarray
    marker: np.ndarray


def latest_value(values: np.ndarray, marker: np.ndarray) -> np.ndarray:
    """Carry the value of the most recent marked step forward in time.

    Args:
        values: ``(B, T)`` float, the value at every step (only marked steps are read).
        marker: ``(B, T)`` bool, True where a value is written.

    Returns:
        ``(B, T)`` float: at step t the value of the last marked step ``<= t``; 0 before the
        first marker of a sequence.
    """
    values = checks.array("values", values, (None, None), "(B, T)")
    marker = np.asarray(marker)
    if marker.dtype != np.bool_:
        raise TypeError(f"marker must be a bool array, got dtype {marker.dtype}")
    if marker.shape != values.shape:
        raise ValueError(f"marker must have the shape of values {values.shape}, got {marker.shape}")
    steps = values.shape[1]
    idx = np.where(marker, np.arange(steps), -1)
    last = np.maximum.accumulate(idx, axis=1)  # index of the latest marker, -1 if none yet
    held = np.take_along_axis(values, np.maximum(last, 0), axis=1)
    return np.where(last >= 0, held, 0.0).astype(values.dtype)


def flip_flop(
    batch_size: int,
    steps: int,
    *,
    p_marker: float = 0.1,
    noise: float = 0.5,
    seed: int | np.random.Generator = 0,
    dtype: type = np.float32,
) -> FlipFlopBatch:
    """Draw a batch of the flip-flop task.

    Args:
        batch_size: B >= 1 sequences.
        steps: T >= 1 time steps.
        p_marker: probability that a step is a marker, in (0, 1].
        noise: standard deviation (>= 0) of the value channel at unmarked steps.
        seed: an int seed or a ``np.random.Generator`` (drawn from in place).
        dtype: float32 or float64.

    Returns:
        :class:`FlipFlopBatch` with ``x`` ``(B, T, 2)``, ``y`` ``(B, T, 1)`` and
        ``marker`` ``(B, T)``.
    """
    batch_size = checks.positive_int("batch_size", batch_size)
    steps = checks.positive_int("steps", steps)
    dt = checks.float_dtype(dtype)
    if not 0.0 < float(p_marker) <= 1.0:
        raise ValueError(f"p_marker must be in (0, 1], got {p_marker}")
    if not float(noise) >= 0.0 or not np.isfinite(noise):
        raise ValueError(f"noise must be a finite number >= 0, got {noise}")
    rng = checks.generator(seed)

    marker = rng.random((batch_size, steps)) < p_marker
    bits = rng.choice(np.array([-1.0, 1.0]), size=(batch_size, steps))
    jitter = noise * rng.standard_normal((batch_size, steps))
    value = np.where(marker, bits, jitter)
    x = np.stack([marker.astype(np.float64), value], axis=-1).astype(dt)
    y = latest_value(np.where(marker, bits, 0.0), marker)[..., None].astype(dt)
    return FlipFlopBatch(x=x, y=y, marker=marker)


def flip_flop_batches(
    batch_size: int, steps: int, *, seed: int = 0, **kwargs
) -> Callable[[int], tuple]:
    """A ``get_batch(step) -> (x, y)`` function for :func:`lstm_lib.training.loop.fit`.

    Each call draws a fresh batch (torch float32 tensors ``x`` ``(B, T, 2)``,
    ``y`` ``(B, T, 1)``) from one generator seeded with ``seed``, so a training run is
    reproducible. ``kwargs`` go to :func:`flip_flop` (``p_marker``, ``noise``).
    """
    import torch

    flip_flop(1, 1, seed=seed, **kwargs)  # validate the arguments once, up front
    rng = np.random.default_rng(seed)

    def get_batch(step: int) -> tuple:
        batch = flip_flop(batch_size, steps, seed=rng, dtype=np.float32, **kwargs)
        return torch.from_numpy(batch.x), torch.from_numpy(batch.y)

    return get_batch


def event_means(values: np.ndarray, marker: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean of a per-step quantity at marker steps and at all other steps.

    Args:
        values: ``(B, T)`` or ``(B, T, H)`` float, e.g. a gate from a trace.
        marker: ``(B, T)`` bool.

    Returns:
        ``(at_marker, elsewhere)``: two floats for ``(B, T)`` input, two ``(H,)`` arrays for
        ``(B, T, H)`` input.
    """
    values = np.asarray(values)
    if values.ndim not in (2, 3):
        raise ValueError(f"values must be (B, T) or (B, T, H), got shape {values.shape}")
    checks.array("values", values, (None,) * values.ndim, "(B, T[, H])")
    marker = np.asarray(marker)
    if marker.dtype != np.bool_:
        raise TypeError(f"marker must be a bool array, got dtype {marker.dtype}")
    if marker.shape != values.shape[:2]:
        raise ValueError(f"marker must have shape (B, T) = {values.shape[:2]}, got {marker.shape}")
    if marker.all() or not marker.any():
        raise ValueError("marker must hold both marker and non-marker steps")
    return values[marker].mean(axis=0), values[~marker].mean(axis=0)


__all__ = ["FlipFlopBatch", "flip_flop", "flip_flop_batches", "latest_value", "event_means"]
