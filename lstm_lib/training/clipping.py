"""Clipping by the global norm, and the global norm itself: training code.

- :func:`global_norm` (NumPy arrays or torch tensors) and :func:`global_grad_norm` (torch
  parameters' ``.grad``) measure the global L2 norm of a set of gradients, the one definition
  of it in ``lstm_lib`` (``lstm_lib.analysis.exploding`` measures with it too).
- :func:`clip_by_global_norm` (a dict of NumPy gradients, e.g. a NumPy layer's ``.grads``)
  and :func:`clip_torch_grads_` (torch parameters, in place) scale a gradient down to a global
  norm of at most ``max_norm``, keeping its direction. ``lstm_lib.training.loop.fit`` clips
  with them and records the norm before and after.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping

import numpy as np
import torch

from lstm_lib import checks


def global_norm(grads: Mapping[str, np.ndarray | torch.Tensor] | Iterable[torch.Tensor]
                ) -> float:
    """The global L2 norm ``sqrt(sum_k ||g_k||^2)`` of a set of gradients, in float64.

    ``grads``: a non-empty mapping name -> gradient (e.g. a NumPy layer's ``.grads``) or a
    non-empty iterable of gradients; each a NumPy array or a torch tensor (any shapes). Each
    ``||g_k||^2`` is summed in float64, the sum of them in Python floats, so the result does
    not depend on the order of the arrays' elements in memory. The one definition of the
    global norm in ``lstm_lib``: :func:`global_grad_norm`, the clipping functions below,
    ``lstm_lib.training.loop.fit`` and ``lstm_lib.analysis.exploding`` all measure with it.
    """
    items = list(grads.items()) if isinstance(grads, Mapping) else list(enumerate(grads))
    if not items:
        raise ValueError("grads must be a non-empty mapping name -> array (or iterable of arrays)")
    total = 0.0
    for name, g in items:
        if isinstance(g, torch.Tensor):
            total += float((g.detach().double() ** 2).sum())
        elif isinstance(g, np.ndarray):
            total += float(np.sum(np.square(g, dtype=np.float64)))
        else:
            raise TypeError(f"grads[{name!r}] must be a NumPy array or a torch tensor, got "
                            f"{type(g).__name__}")
    return math.sqrt(total)


def global_grad_norm(parameters: Iterable[torch.nn.Parameter]) -> float:
    """:func:`global_norm` of the ``.grad`` of torch ``parameters`` (those without a gradient
    are skipped); 0.0 when none has one. Returns a float (inf or nan if a gradient is)."""
    grads = [p.grad for p in parameters if p.grad is not None]
    return global_norm(grads) if grads else 0.0


def clip_by_global_norm(grads: Mapping[str, np.ndarray], max_norm: float, eps: float = 0.0
                        ) -> tuple[dict[str, np.ndarray], float]:
    """Scale a dict of gradients so that its global norm is at most ``max_norm`` (> 0).

    Returns ``(clipped, norm)``: new arrays (same keys, shapes and dtypes), all multiplied by
    ``min(1, max_norm / (norm + eps))``, and the global norm *before* clipping. The direction
    of the whole gradient is kept; only its length changes. ``eps=1e-6`` reproduces
    ``torch.nn.utils.clip_grad_norm_``'s rule exactly; the default 0 clips to ``max_norm``
    exactly.
    """
    max_norm = checks.positive_float("max_norm", max_norm)
    if isinstance(eps, bool) or not isinstance(eps, (int, float)) or not 0 <= eps < max_norm:
        raise ValueError(f"eps must be a number in [0, max_norm), got {eps!r}")
    norm = global_norm(grads)
    if not np.isfinite(norm):
        raise ValueError(f"the gradient's global norm is not finite ({norm})")
    scale = min(1.0, max_norm / (norm + eps)) if norm > 0 else 1.0
    return {k: (g * scale).astype(g.dtype) for k, g in grads.items()}, norm


def clip_torch_grads_(parameters: Iterable[torch.nn.Parameter], max_norm: float, *,
                      norm: float | None = None) -> float:
    """Clip the ``.grad`` of torch parameters in place to a global norm <= ``max_norm``.

    The same rule as :func:`clip_by_global_norm` (and ``torch.nn.utils.clip_grad_norm_``):
    every gradient is multiplied by ``min(1, max_norm / norm)``. Parameters without a
    gradient are skipped. ``norm``: the gradients' global norm if the caller has just
    measured it (:func:`global_grad_norm`, as ``lstm_lib.training.loop.fit`` does), so that it is
    not measured again; None: measure it here. Returns the global norm before clipping, a float.
    """
    max_norm = checks.positive_float("max_norm", max_norm)
    grads = [p.grad for p in parameters if p.grad is not None]
    if not grads:
        raise ValueError("no parameter has a gradient; call backward() first")
    if norm is None:
        norm = global_norm(grads)
    elif isinstance(norm, bool) or not isinstance(norm, (int, float)) or norm < 0:
        raise ValueError(f"norm must be None or a number >= 0, got {norm!r}")
    if not np.isfinite(norm):
        raise ValueError(f"the gradient's global norm is not finite ({norm})")
    if norm > max_norm:
        with torch.no_grad():
            for g in grads:
                g.mul_(max_norm / norm)
    return float(norm)


__all__ = ["global_norm", "global_grad_norm", "clip_by_global_norm", "clip_torch_grads_"]
