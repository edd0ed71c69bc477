"""A flip-flop stream: a task whose context is as long as you like.

The input is silent (0) almost everywhere; with probability ``p_pulse`` a step carries a
pulse, +1 or -1 with equal probability. The target at every step is the sign of the most
recent pulse (1 for +1, 0 for -1), and 0 before the first pulse: the stream starts in
state 0. A model must remember one bit for as long as the gap between pulses, on average
``1 / p_pulse`` steps. Cut the stream into chunks shorter than that and most chunks hold no
pulse at all: their targets are set by a pulse in an earlier chunk.

With ``episode_len=E`` the stream is a concatenation of independent episodes of ``E``
steps: the memory starts at 0 again at every multiple of ``E``, so a pulse in one episode
says nothing about the next. Laid out in rows of exactly ``E`` steps
(``lstm_lib.data.streams``), each row is one episode. (``lstm_lib.data.memory`` draws
batches of a noisier two-channel variant, for the gate heat maps of the cell chapter.)
"""

from __future__ import annotations

import numpy as np

from lstm_lib.checks import positive_int


def flip_flop_stream(
    length: int, p_pulse: float = 0.02, seed: int = 0, episode_len: int | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Draw a flip-flop stream of ``length`` steps.

    Returns ``(x, y)``: ``x`` float64 of shape ``(length, 1)`` with values in {-1, 0, +1};
    ``y`` int64 of shape ``(length,)`` with ``y[t] = 1`` if the last pulse at or before ``t``
    (within the same episode, if ``episode_len`` is given) was +1, else 0 (also 0 before
    the first pulse). Same arguments, same stream.
    """
    length = positive_int("length", length)
    p = float(p_pulse)
    if not 0.0 < p <= 1.0:
        raise ValueError(f"p_pulse must lie in (0, 1], got {p_pulse}")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed must be a non-negative int, got {seed!r}")
    rng = np.random.default_rng(seed)
    pulse = rng.random(length) < p
    sign = np.where(rng.random(length) < 0.5, -1.0, 1.0)
    x = np.where(pulse, sign, 0.0)[:, None]
    # target: the sign of the most recent pulse of the episode, 0 before its first one
    last = _last_pulse(x[:, 0], episode_len)
    y = np.where(last >= 0, x[np.maximum(last, 0), 0] > 0, False).astype(np.int64)
    return x, y


def _last_pulse(x: np.ndarray, episode_len: int | None) -> np.ndarray:
    """Index of the most recent pulse at or before each step of (N,) x, within the step's
    episode; -1 where there is none."""
    idx = np.arange(len(x))
    last = np.maximum.accumulate(np.where(x != 0, idx, -1))
    if episode_len is not None:
        episode_len = positive_int("episode_len", episode_len)
        last = np.where(last >= idx - idx % episode_len, last, -1)
    return last


def steps_since_pulse(x: np.ndarray, episode_len: int | None = None) -> np.ndarray:
    """For each step, how many steps ago the most recent pulse was (0 at a pulse).

    ``x``: a flip-flop input of shape ``(N, 1)`` or ``(N,)``; ``episode_len`` as in
    ``flip_flop_stream``. Returns int64 ``(N,)``, -1 before the first pulse (of the episode).
    """
    x = np.asarray(x)
    if x.ndim == 2 and x.shape[1] == 1:
        x = x[:, 0]
    if x.ndim != 1 or x.size == 0:
        raise ValueError(f"x must have shape (N, 1) or (N,) with N >= 1, got {np.shape(x)}")
    last = _last_pulse(x, episode_len)
    return np.where(last >= 0, np.arange(len(x)) - last, -1)


def chunked_loss_floor(y: np.ndarray, gap: np.ndarray, chunk_len: int) -> float:
    """The lowest mean binary cross-entropy (in nats) on targets ``y`` that any model can
    reach if it sees each chunk of ``chunk_len`` steps alone, starting from zeros.

    ``y``, ``gap``: int arrays ``(B, L)``, the targets and ``steps_since_pulse`` laid out in
    rows (each row cut into chunks at multiples of ``chunk_len``). A step is *informed* if
    a pulse of its own chunk precedes it (``0 <= gap <= t mod chunk_len``): its target is a
    function of the chunk, and a loss of 0 is reachable. At any other step the chunk so far
    is all zeros, so the model knows only the position ``j = t mod chunk_len``; the best it
    can do is predict the frequency ``q_j`` of ``y = 1`` among such steps, at a cost of the
    entropy ``H(q_j)``. Returns the mean over all steps.
    """
    chunk_len = positive_int("chunk_len", chunk_len)
    y, gap = np.asarray(y), np.asarray(gap)
    if y.ndim != 2 or y.shape != gap.shape or y.size == 0:
        raise ValueError(f"y and gap must be non-empty (B, L) arrays of one shape, "
                         f"got {y.shape} and {gap.shape}")
    pos = np.broadcast_to(np.arange(y.shape[1]) % chunk_len, y.shape)
    blind = ~((gap >= 0) & (gap <= pos))
    total = 0.0
    for j in range(chunk_len):
        sel = blind & (pos == j)
        if sel.any():
            q = y[sel].mean()
            h = 0.0 if q in (0.0, 1.0) else -(q * np.log(q) + (1 - q) * np.log(1 - q))
            total += h * sel.sum()
    return float(total / y.size)


__all__ = ["flip_flop_stream", "steps_since_pulse", "chunked_loss_floor"]
