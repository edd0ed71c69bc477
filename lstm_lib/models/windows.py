"""The models of the context-windows chapter, and how they are trained and scored.

- :class:`WindowModel`: symbol ids ``(B, T)`` -> one-hot ``(B, T, V)`` or a learned
  embedding ``(B, T, E)`` -> ``torch.nn.LSTM`` from a zero state -> the last hidden state
  ``(B, H)`` -> a linear layer -> scores for the next symbol ``(B, V)``.
- :class:`Forecaster`: a numeric window ``(B, T, 1)`` -> ``torch.nn.LSTM`` -> last hidden
  state -> a linear layer -> the forecast of the next value ``(B,)``.
- :func:`windows_before` cuts the ``k`` tokens before given target positions;
  :func:`train_on_windows` trains either model on random batches of windows with
  ``lstm_lib.training.loop.fit``; :func:`score_next_symbol` gives accuracy and cross-entropy as a
  named result; :func:`train_and_score` does both for a ``WindowModel`` (a
  :class:`WindowRun`).
- :func:`followers` reads a count table's followers of one context;
  :func:`seen_unseen_accuracy` splits a model's and a table's held-out accuracy by whether
  the context was counted; :func:`forecast_errors` gives the test MSE of a
  :class:`Forecaster` and of AR(k) on a series.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from lstm_lib import checks, torch_seeded
from lstm_lib.baselines.ngram import NGramCounts
from lstm_lib.data.series import linear_forecast
from lstm_lib.training.loop import History, fit


def _seeded(seed: int | None) -> AbstractContextManager[None]:
    """Draw from ``torch.manual_seed(seed)`` inside, and leave the global generator as it
    was (``lstm_lib.torch_seeded``); with ``seed=None``, draw from (and advance) the global
    generator."""
    return nullcontext() if seed is None else torch_seeded(seed)


class WindowModel(torch.nn.Module):
    """Next-symbol model over a window of ids.

    ``WindowModel(vocab_size, hidden_size=48, embed_dim=None, seed=None)``: one-hot inputs
    (``input_dim = vocab_size``) unless ``embed_dim`` is given (``torch.nn.Embedding``,
    ``input_dim = embed_dim``). ``seed``: draw the weights from ``torch.manual_seed(seed)``
    without touching the global generator (None: from the global generator).
    ``forward(ids)``: ids ``(B, T)`` int64 -> scores ``(B, vocab_size)`` (logits; the softmax
    is in the loss).
    """

    def __init__(self, vocab_size: int, hidden_size: int = 48, embed_dim: int | None = None,
                 seed: int | None = None) -> None:
        super().__init__()
        self.vocab_size = checks.positive_int("vocab_size", vocab_size)
        hidden_size = checks.positive_int("hidden_size", hidden_size)
        if embed_dim is not None:
            embed_dim = checks.positive_int("embed_dim", embed_dim)
        with _seeded(seed):
            self.embed = (None if embed_dim is None
                          else torch.nn.Embedding(self.vocab_size, embed_dim))
            input_dim = self.vocab_size if embed_dim is None else embed_dim
            self.lstm = torch.nn.LSTM(input_dim, hidden_size, batch_first=True)
            self.fc = torch.nn.Linear(hidden_size, self.vocab_size)

    def inputs(self, ids: torch.Tensor) -> torch.Tensor:
        """ids ``(B, T)`` -> the LSTM's input ``(B, T, input_dim)``."""
        if not isinstance(ids, torch.Tensor) or ids.is_floating_point() or ids.ndim != 2:
            raise TypeError(f"ids must be an integer tensor (B, T), got "
                            f"{getattr(ids, 'dtype', type(ids).__name__)} "
                            f"{tuple(getattr(ids, 'shape', ()))}")
        if ids.numel() and (int(ids.min()) < 0 or int(ids.max()) >= self.vocab_size):
            raise ValueError(f"ids must lie in [0, {self.vocab_size}), got "
                             f"[{int(ids.min())}, {int(ids.max())}]")
        if self.embed is None:
            return F.one_hot(ids, self.vocab_size).float()
        return self.embed(ids)

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        """ids ``(B, T)`` -> scores ``(B, V)`` for the symbol after the window."""
        out, _ = self.lstm(self.inputs(ids))  # zero initial state: no context but the window
        return self.fc(out[:, -1])


class Forecaster(torch.nn.Module):
    """Next-value model: ``x (B, T, 1) -> LSTM -> h_T (B, H) -> Linear -> forecast (B,)``.

    ``Forecaster(hidden_size=32, seed=None)``; ``seed`` as for :class:`WindowModel`.
    """

    def __init__(self, hidden_size: int = 32, seed: int | None = None) -> None:
        super().__init__()
        hidden_size = checks.positive_int("hidden_size", hidden_size)
        with _seeded(seed):
            self.lstm = torch.nn.LSTM(1, hidden_size, batch_first=True)
            self.fc = torch.nn.Linear(hidden_size, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x ``(B, T, 1)`` float -> the forecast of the next value, ``(B,)``."""
        checks.array("x", x, (None, None, 1), "(B, T, 1)", allow_torch=True)
        out, _ = self.lstm(x)
        return self.fc(out[:, -1])[:, 0]


def windows_before(seq: Any, positions: Any, k: int) -> tuple[torch.Tensor, torch.Tensor]:
    """The ``k`` elements before each target position, and the targets, as tensors.

    ``seq``: a 1-D array ``(N,)`` of ids (int) or values (float); ``positions`` ``(n,)``
    ints in ``[k, N)``. Returns ``(X, y)``: for ids ``X (n, k)`` int64 and ``y (n,)``; for
    values ``X (n, k, 1)`` and ``y (n,)`` in ``seq``'s float dtype. Window ``j`` is
    ``seq[positions[j] - k : positions[j]]``, its target ``seq[positions[j]]``.
    """
    seq = np.asarray(seq)
    k = checks.positive_int("k", k)
    if seq.ndim != 1:
        raise ValueError(f"seq must be 1-D (N,), got shape {seq.shape}")
    pos = np.asarray(positions)
    if pos.ndim != 1 or pos.dtype.kind not in "iu":
        raise TypeError(f"positions must be a 1-D integer array, got {pos.dtype} {pos.shape}")
    if pos.size and (pos.min() < k or pos.max() >= seq.size):
        raise ValueError(f"positions must lie in [k, N) = [{k}, {seq.size}), got "
                         f"[{pos.min()}, {pos.max()}]")
    idx = pos[:, None] + np.arange(-k, 0)[None, :]
    X, y = seq[idx], seq[pos]
    if seq.dtype.kind == "f":
        return torch.as_tensor(X[..., None]), torch.as_tensor(y)
    if seq.dtype.kind not in "iu":
        raise TypeError(f"seq must hold integer ids or float values, got {seq.dtype}")
    return torch.as_tensor(X.astype(np.int64)), torch.as_tensor(y.astype(np.int64))


def train_on_windows(model: torch.nn.Module, X: torch.Tensor, y: torch.Tensor,
                     loss_fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor], *,
                     steps: int = 300, batch_size: int = 128, lr: float = 1e-2,
                     seed: int = 0) -> History:
    """Train ``model`` with Adam on ``steps`` random batches of the windows ``X``, ``y``.

    ``loss_fn(output, target)`` (e.g. ``F.cross_entropy`` or ``F.mse_loss``). Batch ``s``
    holds ``batch_size`` windows drawn with replacement from a ``torch.Generator`` seeded
    with ``seed``. Returns ``lstm_lib.training.loop.History``.
    """
    if not isinstance(X, torch.Tensor) or not isinstance(y, torch.Tensor):
        raise TypeError("X and y must be torch tensors (see windows_before)")
    if X.shape[0] != y.shape[0] or X.shape[0] == 0:
        raise ValueError(f"X and y must hold the same number (> 0) of windows, got "
                         f"{X.shape[0]} and {y.shape[0]}")
    batch_size = checks.positive_int("batch_size", batch_size)
    g = torch.Generator().manual_seed(seed)

    def get_batch(step: int) -> tuple[torch.Tensor, torch.Tensor]:
        idx = torch.randint(0, len(y), (batch_size,), generator=g)
        return X[idx], y[idx]

    return fit(model, lambda m, b: loss_fn(m(b[0]), b[1]), get_batch, steps, lr=lr)


@dataclass(frozen=True)
class WindowScore:
    """Next-symbol accuracy (argmax) and mean cross-entropy in nats over ``n`` windows."""

    accuracy: float
    cross_entropy: float
    n: int


def score_next_symbol(model: torch.nn.Module, X: torch.Tensor, y: torch.Tensor) -> WindowScore:
    """Score ``model``'s scores ``model(X) (n, V)`` against the targets ``y (n,)``."""
    with torch.no_grad():
        scores = model(X).double()
    if scores.ndim != 2 or scores.shape[0] != y.shape[0]:
        raise ValueError(f"model(X) must be (n, V) with n = {y.shape[0]}, got "
                         f"{tuple(scores.shape)}")
    return WindowScore(accuracy=(scores.argmax(1) == y).double().mean().item(),
                       cross_entropy=F.cross_entropy(scores, y).item(), n=int(y.shape[0]))


@dataclass(frozen=True)
class WindowRun:
    """A trained :class:`WindowModel` and its scores: ``scores["train"]`` on the windows it
    was trained on, ``scores["held out"]`` on the held-out windows."""

    model: WindowModel
    scores: dict[str, WindowScore]


def train_and_score(vocab_size: int, train: tuple[torch.Tensor, torch.Tensor],
                    held_out: tuple[torch.Tensor, torch.Tensor], *,
                    embed_dim: int | None = None, seed: int = 0, steps: int = 300,
                    batch_size: int = 128) -> WindowRun:
    """Train a ``WindowModel(vocab_size, embed_dim=embed_dim, seed=seed)`` with
    :func:`train_on_windows` (cross-entropy) on ``train = (X (n, k), y (n,))`` and score it
    there and on ``held_out = (X (m, k), y (m,))``. Returns a :class:`WindowRun`."""
    for name, pair in (("train", train), ("held_out", held_out)):
        if not isinstance(pair, tuple) or len(pair) != 2:
            raise TypeError(f"{name} must be a pair (X, y) of tensors, got {type(pair).__name__}")
    model = WindowModel(vocab_size, embed_dim=embed_dim, seed=seed)
    train_on_windows(model, *train, F.cross_entropy, steps=steps, batch_size=batch_size,
                     seed=seed)
    return WindowRun(model=model, scores={"train": score_next_symbol(model, *train),
                                          "held out": score_next_symbol(model, *held_out)})


def followers(table: NGramCounts, context: Any, vocab: Any) -> dict[str, int]:
    """The counts of each symbol after ``context`` in a fitted ``NGramCounts`` table.

    ``context``: ``k`` ids (a sequence of ints, ``k`` = the table's context length);
    ``vocab``: the symbols, ``vocab[id]``. Returns ``{symbol: count}`` for the symbols seen
    after it (an empty dict for a context never seen).
    """
    if not isinstance(table, NGramCounts) or table.k is None:
        raise TypeError("table must be a fitted lstm_lib.baselines.ngram.NGramCounts")
    ctx = np.asarray(context)
    if ctx.ndim != 1 or ctx.size != table.k:
        raise ValueError(f"context must hold k = {table.k} ids, got shape {ctx.shape}")
    if ctx.size and ctx.dtype.kind not in "iu":
        raise TypeError(f"context must hold integer ids, got dtype {ctx.dtype}")
    counts = table.table.get(tuple(ctx.tolist()))
    if counts is None:
        return {}
    return {vocab[j]: int(n) for j, n in enumerate(counts) if n}


@dataclass(frozen=True)
class SeenSplit:
    """Accuracies of a model and of a count table on held-out windows, split by whether the
    window's context occurs in the table (``seen``) or not (``unseen``)."""

    seen_fraction: float
    n_seen: int
    n_unseen: int
    model_seen: float
    model_unseen: float
    table_seen: float
    table_unseen: float


def seen_unseen_accuracy(model: torch.nn.Module, table: NGramCounts, X: torch.Tensor,
                         y: torch.Tensor) -> SeenSplit:
    """Next-symbol accuracy of ``model`` (scores ``(n, V)``) and of ``table.predict`` on the
    windows ``X (n, k)``, targets ``y (n,)``, split by whether each context was counted in
    ``table``. An empty part has accuracy ``nan``."""
    if not isinstance(table, NGramCounts) or table.k is None:
        raise TypeError("table must be a fitted lstm_lib.baselines.ngram.NGramCounts")
    if not isinstance(X, torch.Tensor) or not isinstance(y, torch.Tensor):
        raise TypeError("X and y must be torch tensors (see windows_before)")
    if X.ndim != 2 or y.ndim != 1 or X.shape[0] != y.shape[0] or X.shape[0] == 0:
        raise ValueError(f"X must be (n, k) and y (n,) with n > 0, got {tuple(X.shape)} "
                         f"and {tuple(y.shape)}")
    Xn, yn = X.numpy(), y.numpy()
    seen = np.array([tuple(r) in table.table for r in Xn.tolist()])
    with torch.no_grad():
        model_ok = (model(X).argmax(1) == y).numpy()
    table_ok = table.predict(Xn) == yn

    def mean(ok: np.ndarray, mask: np.ndarray) -> float:
        return float(ok[mask].mean()) if mask.any() else float("nan")

    return SeenSplit(seen_fraction=float(seen.mean()), n_seen=int(seen.sum()),
                     n_unseen=int((~seen).sum()), model_seen=mean(model_ok, seen),
                     model_unseen=mean(model_ok, ~seen), table_seen=mean(table_ok, seen),
                     table_unseen=mean(table_ok, ~seen))


def forecast_errors(train_series: Any, test_series: Any, k: int, *, first: int,
                    steps: int = 300, batch_size: int = 128, seed: int = 0) -> dict[str, float]:
    """Test MSE of a :class:`Forecaster` and of the least-squares AR(k) forecast
    (``lstm_lib.data.series.linear_forecast``), both fitted on ``train_series``.

    ``train_series (N,)``, ``test_series (M,)``: float arrays; the targets are every value
    from position ``first`` on (``first >= k``), each forecast from the ``k`` values before
    it. Returns ``{"LSTM": mse, "AR": mse}``.
    """
    first = checks.positive_int("first", first)
    k = checks.positive_int("k", k)
    if first < k:
        raise ValueError(f"first must be >= k = {k}, got {first}")
    for name, s in (("train_series", train_series), ("test_series", test_series)):
        a = np.asarray(s)
        if a.ndim != 1 or a.dtype.kind != "f":
            raise TypeError(f"{name} must be a 1-D float array, got {a.dtype} {a.shape}")
        if a.size <= first:
            raise ValueError(f"{name} must be longer than first = {first}, got {a.size}")
    X, y = windows_before(train_series, np.arange(first, len(train_series)), k)
    Xt, yt = windows_before(test_series, np.arange(first, len(test_series)), k)
    model = Forecaster(seed=seed)
    train_on_windows(model, X, y, F.mse_loss, steps=steps, batch_size=batch_size, seed=seed)
    with torch.no_grad():
        lstm_test = F.mse_loss(model(Xt), yt).item()
    ar = linear_forecast(X.numpy(), y.numpy(), Xt.numpy())
    return {"LSTM": lstm_test, "AR": float(np.mean((ar - yt.double().numpy()) ** 2))}


__all__ = ["WindowModel", "Forecaster", "windows_before", "train_on_windows", "WindowScore",
           "score_next_symbol", "WindowRun", "train_and_score", "followers", "SeenSplit",
           "seen_unseen_accuracy", "forecast_errors"]
