"""Adam in NumPy, step for step what PyTorch does.

``Adam`` updates a dict of NumPy parameters (for example a ``lstm_lib.numpy`` layer's
``params``) from a dict of gradients with the same keys (the layer's ``grads``), in place.
The update is ``torch.optim.Adam``'s (Kingma & Ba 2015, with L2 ``weight_decay`` added to
the gradient as PyTorch does), written in the same order of operations, so that a NumPy model
and its torch twin trained side by side stay equal to round-off::

    g    = grad + weight_decay * p
    m    = m + (1 - beta1) * (g - m)                  (torch: exp_avg.lerp_(g, 1 - beta1))
    v    = beta2 * v + (1 - beta2) * g * g
    p    = p - lr / (1 - beta1^t) * m / (sqrt(v) / sqrt(1 - beta2^t) + eps)

Clipping by global norm lives in ``lstm_lib.training.clipping.clip_by_global_norm`` (with
``eps=1e-6`` it is ``torch.nn.utils.clip_grad_norm_``'s rule).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, MutableMapping

import numpy as np


def _check_grads(params: Mapping[str, np.ndarray], grads: Mapping[str, np.ndarray]) -> None:
    if not isinstance(grads, Mapping):
        raise TypeError(f"grads must be a dict of arrays, got {type(grads).__name__}")
    missing = sorted(set(params) - set(grads))
    extra = sorted(set(grads) - set(params))
    if missing or extra:
        raise ValueError(f"grads must have the keys of params; missing {missing}, extra {extra}")
    for k, g in grads.items():
        if not isinstance(g, np.ndarray):
            raise TypeError(f"grads[{k!r}] must be a NumPy array, got {type(g).__name__}")
        if g.shape != params[k].shape:
            raise ValueError(f"grads[{k!r}] must have shape {params[k].shape}, got {g.shape}")
        if not np.isfinite(g).all():
            raise ValueError(f"grads[{k!r}] contains NaN or inf")


class Adam:
    """``torch.optim.Adam`` for a dict of NumPy arrays.

    ``Adam(params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0)``: ``params``
    maps names to float arrays (any shapes), updated in place by ``step(grads)``, where
    ``grads`` has the same keys and shapes. The moments ``m``, ``v`` (dicts like
    ``params``) and the step count ``t`` are public, for inspection.
    """

    def __init__(self, params: MutableMapping[str, np.ndarray], lr: float = 1e-3,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0.0) -> None:
        if not isinstance(params, MutableMapping) or not params:
            raise TypeError("params must be a non-empty dict of NumPy arrays")
        for k, p in params.items():
            if not isinstance(p, np.ndarray) or p.dtype.kind != "f":
                raise TypeError(f"params[{k!r}] must be a float NumPy array, "
                                f"got {type(p).__name__} {getattr(p, 'dtype', '')}")
        if not (isinstance(lr, (int, float)) and lr > 0 and math.isfinite(lr)):
            raise ValueError(f"lr must be a positive number, got {lr!r}")
        if len(betas) != 2 or not all(0.0 <= b < 1.0 for b in betas):
            raise ValueError(f"betas must be two numbers in [0, 1), got {betas!r}")
        if not eps >= 0:
            raise ValueError(f"eps must be >= 0, got {eps!r}")
        if not weight_decay >= 0:
            raise ValueError(f"weight_decay must be >= 0, got {weight_decay!r}")
        self.params = params
        self.lr, self.betas, self.eps, self.weight_decay = float(lr), betas, eps, weight_decay
        self.m = {k: np.zeros_like(p) for k, p in params.items()}
        self.v = {k: np.zeros_like(p) for k, p in params.items()}
        self.t = 0

    def step(self, grads: Mapping[str, np.ndarray]) -> None:
        """Apply one Adam update to every parameter, in place, from ``grads`` (same keys
        and shapes as ``params``)."""
        _check_grads(self.params, grads)
        beta1, beta2 = self.betas
        self.t += 1
        bias1 = 1 - beta1 ** self.t
        bias2_sqrt = (1 - beta2 ** self.t) ** 0.5
        step_size = self.lr / bias1
        for k, p in self.params.items():
            g = grads[k]
            if self.weight_decay:
                g = g + self.weight_decay * p
            m, v = self.m[k], self.v[k]
            m += (1 - beta1) * (g - m)
            v *= beta2
            v += (1 - beta2) * g * g
            p -= step_size * (m / (np.sqrt(v) / bias2_sqrt + self.eps))

    def __repr__(self) -> str:
        return (f"Adam(lr={self.lr}, betas={self.betas}, eps={self.eps}, "
                f"weight_decay={self.weight_decay}, t={self.t})")
