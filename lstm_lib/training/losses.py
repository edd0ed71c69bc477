"""Loss functions in the form ``lstm_lib.training.loop.fit`` takes: ``loss_fn(model, batch)``.

    history = fit(model, mse, get_batch, steps=300)

``batch`` is ``(x, y)``, as NumPy arrays or torch tensors; the model is called on ``x`` (a
NumPy array becomes a tensor of the model's parameter dtype first). A model that returns a
tuple ``(prediction, state)``, as ``torch.nn.LSTM`` and ``lstm_lib.models.readout.RecurrentReadout``
do, is read by its first element. The prediction and ``y`` must have the same shape: a
``(B, 1)`` prediction against a ``(B,)`` target would broadcast to ``(B, B)`` and train on
the wrong loss without any error, so that raises ``ValueError`` here.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch


def _tensor(name: str, value: Any, dtype: torch.dtype) -> torch.Tensor:
    """``value`` (NumPy array or tensor) as a tensor; a NumPy float array gets ``dtype``."""
    if isinstance(value, torch.Tensor):
        tensor = value
    elif isinstance(value, np.ndarray):
        tensor = torch.from_numpy(np.ascontiguousarray(value))
    else:
        raise TypeError(f"{name} must be a NumPy array or a torch tensor, "
                        f"got {type(value).__name__}")
    if tensor.is_complex() or not (tensor.is_floating_point() or name == "x"):
        raise TypeError(f"{name} must have a real floating dtype, got {tensor.dtype}")
    if tensor.is_floating_point() and isinstance(value, np.ndarray):
        tensor = tensor.to(dtype)
    return tensor


def _model_dtype(model: torch.nn.Module) -> torch.dtype:
    """The dtype of the model's first floating parameter (float32 if it has none)."""
    for p in model.parameters():
        if p.is_floating_point():
            return p.dtype
    return torch.float32


def predictions(model: torch.nn.Module, x: Any) -> torch.Tensor:
    """``model(x)`` as one tensor: the first element if the model returns a tuple.

    ``x``: a NumPy array or tensor of whatever shape the model takes (a NumPy float array is
    converted to the model's parameter dtype). Returns the prediction tensor.
    """
    if not isinstance(model, torch.nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    out = model(_tensor("x", x, _model_dtype(model)))
    if isinstance(out, (tuple, list)):
        out = out[0]
    if not isinstance(out, torch.Tensor):
        raise TypeError(f"the model must return a tensor (or a tuple starting with one), "
                        f"got {type(out).__name__}")
    return out


def mse(model: torch.nn.Module, batch: tuple[Any, Any]) -> torch.Tensor:
    """Mean squared error of ``model`` on ``batch = (x, y)``, a scalar tensor.

    ``x``: the model's input (for the book's recurrent models ``(B, T, I)``); ``y``: the
    targets, exactly the shape of the prediction (``(B,)``, ``(B, 1)``, ``(B, T, 1)``, ...).
    Returns ``mean((model(x) - y) ** 2)`` over every element. A ``y`` of another shape
    raises ``ValueError`` (no silent broadcasting); a non-float ``y`` raises ``TypeError``.
    """
    if not isinstance(batch, (tuple, list)) or len(batch) != 2:
        raise ValueError(f"batch must be a pair (x, y), got {type(batch).__name__}"
                         + (f" of length {len(batch)}" if isinstance(batch, (tuple, list))
                            else ""))
    x, y = batch
    pred = predictions(model, x)
    target = _tensor("y", y, pred.dtype).to(pred.dtype)
    if tuple(pred.shape) != tuple(target.shape):
        raise ValueError(f"y must have the prediction's shape {tuple(pred.shape)}, got "
                         f"{tuple(target.shape)}")
    return ((pred - target) ** 2).mean()


def cross_entropy(model: torch.nn.Module, batch: tuple[Any, Any]) -> torch.Tensor:
    """Mean cross-entropy of ``model``'s logits on ``batch = (x, labels)``, a scalar tensor.

    The model returns logits ``(..., K)``; ``labels`` are class indices of the logits' shape
    without the last axis: ``(B,)`` for one class per sequence, ``(B, T)`` for one per step
    (a tagger), averaged over every labelled position. Integer ``labels`` only
    (``TypeError`` otherwise); another shape raises ``ValueError``.
    """
    if not isinstance(batch, (tuple, list)) or len(batch) != 2:
        raise ValueError(f"batch must be a pair (x, labels), got {type(batch).__name__}")
    x, labels = batch
    logits = predictions(model, x)
    if isinstance(labels, np.ndarray):
        labels = torch.from_numpy(np.ascontiguousarray(labels))
    if not isinstance(labels, torch.Tensor) or labels.is_floating_point() or labels.is_complex():
        raise TypeError(f"labels must be an integer array or tensor, got "
                        f"{getattr(labels, 'dtype', type(labels).__name__)}")
    if tuple(labels.shape) != tuple(logits.shape[:-1]):
        raise ValueError(f"labels must have the logits' shape without the class axis "
                         f"{tuple(logits.shape[:-1])}, got {tuple(labels.shape)}")
    return torch.nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]),
                                             labels.reshape(-1).long())


__all__ = ["mse", "cross_entropy", "predictions"]
