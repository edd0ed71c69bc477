"""Truncated backpropagation through time over a stream cut into chunks.

The state is *carried* from one chunk to the next (its values), but its graph is *cut*
(``detach``) at every chunk border, so the gradient of a chunk's loss reaches back only to
that chunk's first step. ``carry=False`` is the stateless alternative: every chunk starts
from zeros. A ``model`` here is any callable ``model(x, state) -> (output, new_state)``
with ``state=None`` meaning zeros, as ``torch.nn.LSTM``, ``lstm_lib.torch.LSTM`` and
``lstm_lib.numpy.LSTM.forward`` are.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import torch

from lstm_lib.checks import positive_int
from lstm_lib.training.loop import History, fit


def detach_state(state: Any) -> Any:
    """The same state values without their autograd history.

    ``state``: ``None``, a tensor, a NumPy array (returned as is: it has no graph) or a
    tuple/list of these, e.g. ``(h_n, c_n)`` each ``(L, B, H)``. Same structure back.
    """
    if state is None or isinstance(state, np.ndarray):
        return state
    if isinstance(state, torch.Tensor):
        return state.detach()
    if isinstance(state, (tuple, list)):
        return type(state)(detach_state(s) for s in state)
    raise TypeError(f"state must be None, a tensor, an array or a tuple of them, "
                    f"got {type(state).__name__}")


def run_chunks(
    model: Callable[[Any, Any], tuple[Any, Any]],
    chunks: Sequence[Any],
    state: Any = None,
    *,
    carry: bool = True,
    detach: bool = True,
) -> tuple[list[Any], Any]:
    """Run ``model`` over consecutive chunks ``(B, T_k, I)`` of the same B streams.

    ``carry``: pass each chunk's final state to the next chunk (else every chunk starts from
    ``state``, zeros if ``None``). ``detach``: cut the state's graph at every border.
    Returns ``(outputs, final_state)``: the list of the K outputs ``(B, T_k, ...)`` and the
    state after the last chunk.
    """
    if len(chunks) == 0:
        raise ValueError("chunks must hold at least one chunk, got 0")
    start, outputs = state, []
    for x in chunks:
        out, new = model(x, state if carry else start)
        outputs.append(out)
        state = detach_state(new) if detach else new
    return outputs, state


def train_on_stream(
    model: torch.nn.Module,
    epoch_batches: Callable[[int], Sequence[tuple[Any, Any]]],
    loss_fn: Callable[[Any, Any], torch.Tensor],
    steps: int,
    *,
    carry: bool = True,
    lr: float = 1e-2,
    clip: float | None = None,
    eval_fn: Callable[[torch.nn.Module], dict[str, float]] | None = None,
    eval_every: int = 0,
    optimizer: torch.optim.Optimizer | None = None,
) -> History:
    """Truncated BPTT with ``lstm_lib.training.loop.fit``: one Adam step per chunk of a stream.

    ``model(x, state) -> (prediction, new_state)``. ``epoch_batches(e)`` gives epoch ``e``'s
    chunks in stream order, a sequence of ``(x, y)`` with x ``(B, T, I)`` (e.g. from
    ``lstm_lib.data.streams.stateful_batches``). The state is zeros at the start of every
    epoch (new streams: a reset) and, with ``carry=True``, carried from chunk to chunk
    within it, detached at every border; with ``carry=False`` every chunk starts from zeros.
    ``loss_fn(prediction, y)`` returns a scalar. ``eval_fn``, ``eval_every`` and ``optimizer``
    go to ``fit`` (metrics every ``eval_every`` steps; Adam if no optimizer is given).
    Returns ``fit``'s History (``steps`` losses).
    """
    steps = positive_int("steps", steps)
    schedule: list[tuple[Any, Any, bool]] = []  # (x, y, first chunk of an epoch)
    carried: list[Any] = [None]

    def get_batch(step: int) -> tuple[Any, Any, bool]:
        while len(schedule) <= step:
            batches = epoch_batches(_epochs(schedule))
            if len(batches) == 0:
                raise ValueError(f"epoch_batches({_epochs(schedule)}) gave no batches")
            schedule.extend((x, y, k == 0) for k, (x, y) in enumerate(batches))
        return schedule[step]

    def step_loss(m: torch.nn.Module, batch: tuple[Any, Any, bool]) -> torch.Tensor:
        x, y, first = batch
        if first or not carry:
            carried[0] = None  # reset: this chunk starts from zeros
        pred, new = m(x, carried[0])
        carried[0] = detach_state(new)
        return loss_fn(pred, y)

    return fit(model, step_loss, get_batch, steps, lr=lr, clip=clip, eval_fn=eval_fn,
               eval_every=eval_every, optimizer=optimizer)


def _epochs(schedule: list[tuple[Any, Any, bool]]) -> int:
    """How many epochs the schedule holds (the number of first chunks)."""
    return sum(first for _, _, first in schedule)


__all__ = ["detach_state", "run_chunks", "train_on_stream"]
