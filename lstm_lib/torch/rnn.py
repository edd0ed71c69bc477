"""The tanh RNN from torch ops: the readable twin of ``lstm_lib.numpy.rnn``.

    h_t = tanh(x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh)
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch import nn

from lstm_lib import checks, params
from lstm_lib.torch._stack import RecurrentStack, as_tensor, torch_dtype


class RNN(RecurrentStack):
    """A (stacked, optionally bidirectional) tanh RNN written from torch ops, batch-first.

    Same constructor and weights as ``lstm_lib.numpy.RNN``; ``torch.nn.RNN``'s keys.
    ``forward(x, h_0=None)`` on x (B, T, I) returns ``(output (B, T, D*H), h_n)``.
    """

    gates = 1
    state_names = ("h",)
    _record = False

    def _run(self, xs: torch.Tensor, w: tuple[torch.Tensor, ...],
             start: tuple[torch.Tensor, ...]) -> dict[str, list[torch.Tensor]]:
        w_ih, w_hh, b_ih, b_hh = w
        x_proj = xs @ w_ih.T + b_ih + b_hh
        (h,) = start
        hs = []
        for x_t in x_proj.unbind(1):  # (unbind, not x_proj[:, t]: a cheaper backward)
            h = torch.tanh(x_t + h @ w_hh.T)
            hs.append(h)
        return {"h": hs}


class RNNCell(nn.Module):
    """One tanh RNN step from torch ops, ``torch.nn.RNNCell``'s parameter names.
    ``forward(x, h=None)`` on x (B, I), h (B, H) -> h' (B, H)."""

    def __init__(self, input_size: int, hidden_size: int, dtype: Any = np.float64,
                 seed: int = 0) -> None:
        super().__init__()
        self.input_size = checks.positive_int("input_size", input_size)
        self.hidden_size = checks.positive_int("hidden_size", hidden_size)
        self.dtype = torch_dtype(dtype)
        self._shapes = params.cell_shapes(self.input_size, self.hidden_size, 1)
        values = params.init(params.shapes(self.input_size, self.hidden_size, 1, 1, 1),
                             self.hidden_size, checks.float_dtype(dtype), seed)
        for key, value in values.items():
            self.register_parameter(key.removesuffix("_l0"), nn.Parameter(torch.from_numpy(value)))

    def load_state_dict(self, state_dict: Any, strict: bool = True, assign: bool = False) -> Any:
        """Copy parameters from torch tensors or NumPy arrays with ``nn.RNNCell``'s keys."""
        checks.state_dict(state_dict, self._shapes, "RNNCell")
        return super().load_state_dict(
            {k: torch.as_tensor(v).detach().to(self.dtype) for k, v in state_dict.items()},
            strict=True, assign=assign)

    def forward(self, x: Any, h: Any = None) -> torch.Tensor:
        """x (B, I), h (B, H) or None -> h' (B, H)."""
        x = as_tensor("x", x, (None, self.input_size), "(B, I)", self.dtype)
        shape = (x.shape[0], self.hidden_size)
        h = torch.zeros(shape, dtype=self.dtype) if h is None else as_tensor(
            "h", h, shape, "(B, H)", self.dtype)
        return torch.tanh(x @ self.weight_ih.T + self.bias_ih + h @ self.weight_hh.T + self.bias_hh)
