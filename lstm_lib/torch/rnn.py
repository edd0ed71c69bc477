"""The Elman RNN from torch ops: the readable twin of ``lstm_lib.numpy.rnn``.

    h_t = act(x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh),   act = tanh or ReLU
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from lstm_lib.numpy.rnn import check_nonlinearity
from lstm_lib.torch._stack import CellBase, RecurrentStack, as_tensor

_ACTIVATIONS = {"tanh": torch.tanh, "relu": torch.relu}


class RNN(RecurrentStack):
    """A (stacked, optionally bidirectional) Elman RNN written from torch ops, batch-first.

    Same constructor and weights as ``lstm_lib.numpy.RNN`` (``nonlinearity`` ``"tanh"`` or
    ``"relu"``, as ``torch.nn.RNN``'s); ``torch.nn.RNN``'s keys.
    ``forward(x, h_0=None)`` on x (B, T, I) returns ``(output (B, T, D*H), h_n)``.
    """

    gates = 1
    state_names = ("h",)
    _record = False

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1,
                 bidirectional: bool = False, dtype: Any = np.float64, seed: int = 0, *,
                 nonlinearity: str = "tanh") -> None:
        nonlinearity = check_nonlinearity(nonlinearity)
        super().__init__(input_size, hidden_size, num_layers, bidirectional, dtype, seed)
        self.nonlinearity = nonlinearity

    def _run(self, xs: torch.Tensor, w: tuple[torch.Tensor, ...],
             start: tuple[torch.Tensor, ...],
             mask: torch.Tensor | None = None) -> dict[str, list[torch.Tensor]]:
        """xs (B, T, I) in reading order; start (h_0,); mask (T, B, 1) of 1.0 (real step)
        and 0.0 (padding: the state is carried), or None. Returns {"h": T tensors (B, H)}."""
        w_ih, w_hh, b_ih, b_hh = w
        act = _ACTIVATIONS[self.nonlinearity]
        x_proj = xs @ w_ih.T + b_ih + b_hh
        (h,) = start
        hs = []
        for t, x_t in enumerate(x_proj.unbind(1)):  # (unbind, not x_proj[:, t]: cheaper)
            h_step = act(x_t + h @ w_hh.T)
            h = h_step if mask is None else mask[t] * h_step + (1 - mask[t]) * h
            hs.append(h)
        return {"h": hs}

    def extra_repr(self) -> str:
        extra = "" if self.nonlinearity == "tanh" else ", nonlinearity='relu'"
        return super().extra_repr() + extra


class RNNCell(CellBase):
    """One Elman RNN step from torch ops, ``torch.nn.RNNCell``'s parameter names.
    ``RNNCell(input_size, hidden_size, dtype=np.float64, seed=0, nonlinearity="tanh")``;
    ``forward(x, h=None)`` on x (B, I), h (B, H) -> h' (B, H)."""

    num_gates = 1

    def __init__(self, input_size: int, hidden_size: int, dtype: Any = np.float64,
                 seed: int = 0, *, nonlinearity: str = "tanh") -> None:
        nonlinearity = check_nonlinearity(nonlinearity)
        super().__init__(input_size, hidden_size, dtype=dtype, seed=seed)
        self.nonlinearity = nonlinearity

    def forward(self, x: Any, h: Any = None) -> torch.Tensor:
        """x (B, I), h (B, H) or None -> h' (B, H)."""
        x = self._input(x)
        shape = (x.shape[0], self.hidden_size)
        h = torch.zeros(shape, dtype=self.dtype) if h is None else as_tensor(
            "h", h, shape, "(B, H)", self.dtype)
        act = _ACTIVATIONS[self.nonlinearity]
        return act(x @ self.weight_ih.T + self.bias_ih + h @ self.weight_hh.T + self.bias_hh)
