"""The exploding-gradient experiment of the vanishing-gradients chapter, and its diagnosis.

A tanh RNN with ``W_hh = rho * Q`` (``Q`` orthogonal, ``rho > 1``) and a linear read-out of
its last state learns the recall task of ``lstm_lib.data.recall`` by plain SGD, with or
without clipping by the global norm:

    run = train_recall(clip=None)            # RecallRun: history, model
    diag = diagnose_readout(run.model, x, y, lr=0.1)

A run that diverges is chaotic: which step it blows up at, and how large the numbers get,
depend on the last bits of every sum, so on the CPU's kernels. :func:`diagnose_readout`
measures what does not: whether the recurrent units are saturated, whether the recurrent
gradient is gone, and whether one SGD step on the read-out is unstable. With features
``z = [h_T; 1]`` and ``M = mean_b z_b z_b^T``, a step of size ``lr`` on the squared error
multiplies the read-out's error along the top eigenvector of ``M`` by ``1 - 2 lr lambda_max``;
once the error dwarfs the targets the loss grows by ``(1 - 2 lr lambda_max)^2`` per step
whenever ``lambda_max > 1 / lr``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from lstm_lib import checks, torch_seeded
from lstm_lib import torch as lt
from lstm_lib.analysis import gradients
from lstm_lib.data.recall import recall_batches
from lstm_lib.training.clipping import global_grad_norm
from lstm_lib.training.loop import History, fit
from lstm_lib.training.losses import mse


class RecallRNN(torch.nn.Module):
    """``lstm_lib.torch.RNN`` (float64, one input) with ``W_hh = rho * Q``, and a read-out.

    ``RecallRNN(hidden_size=32, rho=1.1, seed=0, q_seed=1)``: the RNN's other weights are
    ``lstm_lib``'s default from ``seed``; ``Q`` is
    ``gradients.scaled_orthogonal(hidden_size, rho, seed=q_seed)``; the read-out
    ``torch.nn.Linear(hidden_size, 1)`` is drawn from ``torch.manual_seed(seed)`` without
    touching the global generator. ``forward(x)``: x (B, T, 1) -> prediction (B,).
    """

    def __init__(self, hidden_size: int = 32, rho: float = 1.1, seed: int = 0,
                 q_seed: int = 1) -> None:
        super().__init__()
        hidden_size = checks.positive_int("hidden_size", hidden_size)
        if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
            raise ValueError(f"seed must be a non-negative int, got {seed!r}")
        self.rnn = lt.RNN(1, hidden_size, seed=seed)
        with torch_seeded(seed):
            self.readout = torch.nn.Linear(hidden_size, 1, dtype=torch.float64)
        w_hh = gradients.scaled_orthogonal(hidden_size, rho, seed=q_seed)
        with torch.no_grad():
            self.rnn.weight_hh_l0.copy_(torch.from_numpy(w_hh))

    def last_state(self, x: Any) -> torch.Tensor:
        """The RNN's state after the last step, ``h_T`` (B, H), for x (B, T, 1)."""
        x = torch.as_tensor(x, dtype=torch.float64)
        checks.array("x", x, (None, None, 1), "(B, T, 1)", allow_torch=True)
        out, _ = self.rnn(x)
        return out[:, -1]

    def forward(self, x: Any) -> torch.Tensor:
        """x (B, T, 1) -> the read-out of the last state, (B,)."""
        return self.readout(self.last_state(x))[:, 0]


@dataclass
class RecallRun:
    """One training run of :func:`train_recall`: its ``history``
    (``lstm_lib.training.loop.History``:
    loss, grad_norm before clipping, applied_norm after) and the trained ``model``."""

    history: History
    model: RecallRNN


def train_recall(clip: float | None, *, steps: int = 150, lr: float = 0.1,
                 batch_size: int = 32, length: int = 40, hidden_size: int = 32,
                 rho: float = 1.1, seed: int = 0, data_seed: int = 1) -> RecallRun:
    """Train a :class:`RecallRNN` (built from ``seed``) by plain SGD to recall the first input.

    The batches are ``recall_batches(batch_size, length, position=0, seed=data_seed)``, so
    two runs with different ``clip`` start from the same weights and see the same data.
    ``clip``: the global-norm threshold, or None for no clipping. Returns :class:`RecallRun`.
    """
    model = RecallRNN(hidden_size, rho, seed=seed)
    sgd = torch.optim.SGD(model.parameters(), lr=lr)
    get_batch = recall_batches(batch_size, length, position=0, seed=data_seed)
    history = fit(model, mse, get_batch, steps, optimizer=sgd, clip=clip)
    return RecallRun(history, model)


@dataclass(frozen=True)
class ReadoutDiagnosis:
    """What :func:`diagnose_readout` found on one batch.

    - ``saturated``: the fraction of last-state units with ``|h_T| > 0.999``;
    - ``same_pattern``: True if every sequence ends in exactly the same state;
    - ``feature_norm2``: the mean of ``||z||^2`` over the batch, ``z = [h_T; 1]`` (at most
      ``H + 1``, reached when every unit sits at ``±1``);
    - ``lambda_max``: the largest eigenvalue of ``M = mean_b z_b z_b^T`` (equal to
      ``feature_norm2`` when every ``z_b`` is the same vector);
    - ``predicted_growth``: ``(1 - 2 lr lambda_max)^2``, the loss growth per step of SGD on
      the read-out alone once the error dwarfs the targets;
    - ``recurrent_grad``, ``readout_grad``: the global gradient norms of the RNN's and the
      read-out's parameters for the squared error on the batch.
    """

    saturated: float
    same_pattern: bool
    feature_norm2: float
    lambda_max: float
    predicted_growth: float
    recurrent_grad: float
    readout_grad: float


def diagnose_readout(model: RecallRNN, x: Any, y: Any, lr: float) -> ReadoutDiagnosis:
    """Measure a :class:`RecallRNN` on a batch ``x`` (B, T, 1), ``y`` (B,) for SGD step ``lr``.

    Leaves the model's parameters unchanged (their ``.grad`` is overwritten). Returns
    :class:`ReadoutDiagnosis`.
    """
    if not isinstance(model, RecallRNN):
        raise TypeError(f"model must be a RecallRNN, got {type(model).__name__}")
    if isinstance(lr, bool) or not isinstance(lr, (int, float)) or not lr > 0:
        raise ValueError(f"lr must be a positive number, got {lr!r}")
    with torch.no_grad():
        h_last = model.last_state(x).numpy()
    z = np.concatenate([h_last, np.ones((h_last.shape[0], 1))], axis=1)
    second_moment = z.T @ z / z.shape[0]
    lambda_max = float(np.linalg.eigvalsh(second_moment).max())
    model.zero_grad()
    mse(model, (x, y)).backward()

    return ReadoutDiagnosis(
        saturated=float((np.abs(h_last) > 0.999).mean()),
        same_pattern=bool((h_last == h_last[0]).all()),
        feature_norm2=float((z**2).sum(axis=1).mean()),
        lambda_max=lambda_max,
        predicted_growth=float((1.0 - 2.0 * lr * lambda_max) ** 2),
        recurrent_grad=global_grad_norm(model.rnn.parameters()),
        readout_grad=global_grad_norm(model.readout.parameters()),
    )


def growth_per_step(loss: Any, last: int) -> float:
    """The geometric mean of ``loss[t] / loss[t-1]`` over the ``last`` steps of ``loss`` (n,).

    ``last`` in ``[1, n)``; the losses used must be finite and positive.
    """
    values = np.asarray(loss, dtype=np.float64)
    if values.ndim != 1:
        raise ValueError(f"loss must be 1-D, got shape {values.shape}")
    if isinstance(last, bool) or not isinstance(last, (int, np.integer)):
        raise TypeError(f"last must be an int, got {type(last).__name__}")
    if not 1 <= last < values.size:
        raise ValueError(f"last must be in [1, {values.size}), got {last}")
    tail = values[-last - 1:]
    if not (np.isfinite(tail).all() and (tail > 0).all()):
        raise ValueError("the losses used must be finite and positive")
    return float(np.exp(np.mean(np.diff(np.log(tail)))))


__all__ = ["RecallRNN", "RecallRun", "train_recall", "ReadoutDiagnosis", "diagnose_readout",
           "growth_per_step"]
