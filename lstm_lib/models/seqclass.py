"""Classify whole sequences of different lengths with a (Bi)LSTM, with or without masking.

    model = SequenceClassifier(12, 32, 9, bidirectional=True, masking=True, seed=0)
    hist = train_classifier(model, x, lengths, y, steps=300, batch_size=32, seed=0)
    accuracy(model, x_test, lengths_test, y_test)

``x`` is a post-padded batch ``(N, T, I)`` (``lstm_lib.data.vowels.pad``). With
``masking=True`` the LSTM reads each sequence through ``pack_padded_sequence``: it stops at
each sequence's own last frame, and the backward direction starts there. With
``masking=False`` it reads the padded array as it is, pads and all, the way a model that
nobody told about the padding does. The layer is ``torch.nn.LSTM`` (fast); the book's own
``lstm_lib`` LSTM computes the same with ``lengths=``.

The model and its training loop are the recipe's (``lstm_lib.recipes.classify``:
``Classifier`` and ``fit``, one concept in one place); this module adds what the chapter
needs besides: NumPy inputs with their checks, float64 by default, a seed that leaves
torch's global generator as it was, and batches formed in another order than the recipe's
random one (``lstm_lib.training.batching``).

Pooling turns the ``(B, T, D*H)`` outputs into one ``(B, D*H)`` vector per sequence:
``"last"`` takes the final state of each direction (``h_n``), ``"mean"`` the average of the
outputs over the steps (the real ones only, with masking).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
import torch

from lstm_lib import checks, torch_seeded
from lstm_lib.recipes import classify as recipe
from lstm_lib.training.batching import make_batches
from lstm_lib.training.loop import History

POOLINGS = ("last", "mean")


def _tensor_lengths(lengths: Any, batch: int, steps: int) -> torch.Tensor:
    """``checks.lengths`` (B integers in [1, T]) as an int64 tensor."""
    return torch.from_numpy(checks.lengths(lengths, batch, steps))


def last_step(output: torch.Tensor, lengths: Any) -> torch.Tensor:
    """``output[b, lengths[b] - 1]`` for each row of a post-padded ``output`` ``(B, T, F)``:
    the output at each sequence's own last real step, ``(B, F)``."""
    checks.array("output", output, (None, None, None), "(B, T, F)", allow_torch=True)
    n = _tensor_lengths(lengths, output.shape[0], output.shape[1])
    return output[torch.arange(output.shape[0]), n - 1]


def masked_mean(output: torch.Tensor, lengths: Any) -> torch.Tensor:
    """The mean of a post-padded ``output`` ``(B, T, F)`` over each row's first
    ``lengths[b]`` steps only: ``(B, F)``. A plain ``output.mean(1)`` divides by T and
    counts whatever the pads hold."""
    checks.array("output", output, (None, None, None), "(B, T, F)", allow_torch=True)
    n = _tensor_lengths(lengths, output.shape[0], output.shape[1])
    return recipe.masked_mean(output, n)


class SequenceClassifier(recipe.Classifier):
    """An LSTM reader and a linear head: ``(B, T, I)`` post-padded sequences -> ``(B, C)``
    logits: the recipe's ``Classifier`` with checked NumPy inputs and a seed.

    ``SequenceClassifier(input_size, hidden_size, num_classes, bidirectional=True,
    masking=True, pooling="last", dtype=torch.float64, seed=0)``; ``forward(x, lengths)``
    with ``lengths`` ``(B,)`` integers in [1, T]. ``masking=False`` ignores ``lengths`` in
    the LSTM (it reads the pads) and pools over all T steps; ``masking=True`` packs.
    ``seed`` fixes the initial weights (PyTorch's default initialisation, seeded).
    """

    def __init__(self, input_size: int, hidden_size: int, num_classes: int,
                 bidirectional: bool = True, masking: bool = True, pooling: str = "last",
                 dtype: Any = torch.float64, seed: int = 0) -> None:
        input_size = checks.positive_int("input_size", input_size)
        hidden_size = checks.positive_int("hidden_size", hidden_size)
        num_classes = checks.positive_int("num_classes", num_classes)
        for name, flag in (("bidirectional", bidirectional), ("masking", masking)):
            if not isinstance(flag, bool):
                raise TypeError(f"{name} must be a bool, got {flag!r}")
        if pooling not in POOLINGS:
            raise ValueError(f"pooling must be one of {POOLINGS}, got {pooling!r}")
        dt = torch.float64 if checks.float_dtype(dtype) == np.float64 else torch.float32
        if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
            raise ValueError(f"seed must be a non-negative int, got {seed!r}")
        with torch_seeded(seed):
            super().__init__(input_size, hidden_size, num_classes, bidirectional=bidirectional,
                             masking=masking, pooling=pooling, dtype=dt)
        self.input_size, self.hidden_size, self.num_classes = input_size, hidden_size, num_classes
        self.dtype = dt

    def features(self, x: Any, lengths: Any) -> torch.Tensor:
        """The pooled ``(B, D*H)`` vector of each sequence (what the head sees)."""
        x = torch.as_tensor(x, dtype=self.dtype)
        checks.array("x", x, (None, None, self.input_size), "(B, T, I)", allow_torch=True)
        return super().features(x, _tensor_lengths(lengths, x.shape[0], x.shape[1]))

    def forward(self, x: Any, lengths: Any) -> torch.Tensor:
        """x ``(B, T, I)`` post-padded, lengths ``(B,)`` -> logits ``(B, num_classes)``."""
        return self.head(self.drop(self.features(x, lengths)))


def predict(model: SequenceClassifier, x: Any, lengths: Any) -> np.ndarray:
    """The predicted class of each sequence, ``(B,)`` int64 (no gradients, eval mode)."""
    was_training = model.training
    model.eval()
    with torch.no_grad():
        pred = model(x, lengths).argmax(-1).numpy()
    model.train(was_training)
    return pred.astype(np.int64)


def accuracy(model: SequenceClassifier, x: Any, lengths: Any, y: Any) -> float:
    """The share of sequences whose predicted class is ``y`` ``(B,)``."""
    y = np.asarray(y)
    if y.dtype.kind not in "iu":
        raise TypeError(f"y must hold integer classes, got dtype {y.dtype}")
    pred = predict(model, x, lengths)
    if y.shape != pred.shape:
        raise ValueError(f"y must have shape (B,) = {pred.shape}, got {y.shape}")
    return float((pred == y).mean())


def train_classifier(model: SequenceClassifier, x: Any, lengths: Any, y: Any, steps: int,
                     *, batch_size: int = 32, lr: float = 1e-2, order: str = "random",
                     seed: int = 0, clip: float | None = 1.0) -> History:
    """Train ``model`` with cross-entropy for ``steps`` Adam steps (the recipe's loop,
    ``lstm_lib.recipes.classify.fit``).

    ``x`` ``(N, T, I)`` post-padded, ``lengths`` ``(N,)``, ``y`` ``(N,)`` classes. Each
    epoch is a new plan of batches (``lstm_lib.training.batching.make_batches`` with ``order``, from
    one generator seeded with ``seed``). A masking model gets each batch cut to its own
    longest length (packing ignores the pads anyway, so only the speed changes); a model
    without masking gets the rows as padded in ``x``, since the pads are part of what it
    reads. Returns a ``History`` with the loss of every step.
    """
    steps = checks.positive_int("steps", steps)
    x = torch.as_tensor(np.asarray(x), dtype=model.dtype)
    checks.array("x", x, (None, None, model.input_size), "(N, T, I)", allow_torch=True)
    N, T, _ = x.shape
    n = _tensor_lengths(lengths, N, T)
    y_arr = np.asarray(y)
    if y_arr.dtype.kind not in "iu" or y_arr.shape != (N,):
        raise ValueError(f"y must be (N,) = ({N},) integer classes, got dtype {y_arr.dtype} "
                         f"shape {y_arr.shape}")
    if y_arr.min() < 0 or y_arr.max() >= model.num_classes:
        raise ValueError(f"y must lie in [0, {model.num_classes - 1}]")
    targets = torch.as_tensor(y_arr.astype(np.int64))
    rng = np.random.default_rng(seed)

    class Plan:
        """Re-iterable: every pass over it is a new epoch, a new plan of batches."""

        def __iter__(self) -> Iterator[tuple[torch.Tensor, torch.Tensor, torch.Tensor]]:
            for idx in make_batches(n.numpy(), batch_size, order=order, seed=rng):
                rows = torch.as_tensor(idx)
                longest = int(n[rows].max()) if model.masking else T
                yield x[rows, :longest], n[rows], targets[rows]

    with torch_seeded(seed):
        losses = recipe.fit(model, Plan(), steps, lr=lr, clip=clip)
    model.eval()
    return History(step=list(range(len(losses))), loss=losses)
