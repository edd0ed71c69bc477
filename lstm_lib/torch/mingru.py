"""minGRU from torch ops: the recipe's ``MinGRU`` with seeded weights, the twin of
``lstm_lib.numpy.mingru``.

The equations are those of ``lstm_lib.recipes.state_tracking.MinGRU`` (this module adds no
math); autograd supplies the backward pass::

    z_t = sigmoid(x_t W_z^T + b_z),  h~_t = g(x_t W_h^T + b_h),  h_t = (1 - z_t) h_{t-1} + z_t h~_t

``mode="sequential"`` is the loop, ``mode="parallel"`` Heinsen's log-space scan. The initial
weights are ``lstm_lib.numpy.mingru.mingru_init``'s: the NumPy layer and this twin built with
the same arguments hold identical parameters.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch import nn

from lstm_lib import checks
from lstm_lib.numpy.mingru import check_mode, mingru_init, mingru_shapes
from lstm_lib.recipes import state_tracking
from lstm_lib.torch._stack import as_tensor, load_parameters, torch_dtype


class MinGRU(state_tracking.MinGRU):
    """The recipe's minGRU (an ``nn.Module``, one ``nn.Linear`` called ``linear``: weight
    (2H, I), bias (2H), blocks z, h) with the NumPy twin's seeded weights.

    ``MinGRU(input_size, hidden_size, dtype=np.float64, seed=0)`` (``dtype`` float32 or
    float64, as a NumPy or torch dtype) holds the same ``linear.weight`` and ``linear.bias``
    as ``lstm_lib.numpy.MinGRU`` built with the same arguments; building it leaves torch's
    global random state as it was. ``forward(x (B, T, I), h0=None, mode="parallel")``
    takes tensors or NumPy arrays (cast to ``dtype``), checks them as the NumPy layer does,
    and returns the recipe's ``(output (B, T, H), h_n (1, B, H))``.
    """

    def __init__(self, input_size: int, hidden_size: int, dtype: Any = np.float64,
                 seed: int = 0) -> None:
        input_size = checks.positive_int("input_size", input_size)
        hidden_size = checks.positive_int("hidden_size", hidden_size)
        values = mingru_init(input_size, hidden_size, checks.float_dtype(dtype), seed)
        with torch.random.fork_rng(devices=[]):  # nn.Linear's own init draws from torch's RNG
            super().__init__(input_size, hidden_size)
        self.input_size = input_size
        self.dtype = torch_dtype(dtype)
        self._shapes = mingru_shapes(input_size, hidden_size)
        self.linear.weight = nn.Parameter(torch.from_numpy(values["linear.weight"]))
        self.linear.bias = nn.Parameter(torch.from_numpy(values["linear.bias"]))

    def load_state_dict(self, state_dict: Any, strict: bool = True, assign: bool = False) -> Any:
        """Copy parameters from torch tensors or NumPy arrays keyed ``linear.weight``,
        ``linear.bias``; ``strict`` and the return value as ``torch.nn.Module``'s (a missing
        or unexpected key with ``strict=True`` is a ValueError)."""
        return load_parameters(self, super().load_state_dict, state_dict, strict, assign)

    def num_parameters(self) -> int:
        """Total number of scalar parameters: 2H (I + 1)."""
        return sum(p.numel() for p in self.parameters())

    def forward(self, x: Any, h0: Any = None,
                mode: str = "parallel") -> tuple[torch.Tensor, torch.Tensor]:
        """x (B, T, I); h0 None (zeros) or positive (1, B, H); mode "parallel" or
        "sequential" (tensors or NumPy arrays). Returns (output (B, T, H), h_n (1, B, H))."""
        check_mode(mode)
        x = as_tensor("x", x, (None, None, self.input_size), "(B, T, I)", self.dtype)
        if h0 is not None:
            h0 = as_tensor("h0", h0, (1, x.shape[0], self.hidden_size), "(1, B, H)", self.dtype)
            if not bool((h0 > 0).all()):
                raise ValueError(f"h0 must be positive (the scan takes its log), got min "
                                 f"{float(h0.min())!r}")
        return super().forward(x, h0, mode)

    def extra_repr(self) -> str:
        return (f"input_size={self.input_size}, hidden_size={self.hidden_size}, "
                f"dtype={self.dtype}")
