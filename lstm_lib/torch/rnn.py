"""The tanh RNN from torch ops: the readable twin of ``lstm_lib.numpy.rnn``.

    h_t = tanh(x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh)
"""

from __future__ import annotations

from typing import Any

import torch

from lstm_lib.torch._stack import CellBase, RecurrentStack, as_tensor


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


class RNNCell(CellBase):
    """One tanh RNN step from torch ops, ``torch.nn.RNNCell``'s parameter names.
    ``forward(x, h=None)`` on x (B, I), h (B, H) -> h' (B, H)."""

    num_gates = 1

    def forward(self, x: Any, h: Any = None) -> torch.Tensor:
        """x (B, I), h (B, H) or None -> h' (B, H)."""
        x = self._input(x)
        shape = (x.shape[0], self.hidden_size)
        h = torch.zeros(shape, dtype=self.dtype) if h is None else as_tensor(
            "h", h, shape, "(B, H)", self.dtype)
        return torch.tanh(x @ self.weight_ih.T + self.bias_ih + h @ self.weight_hh.T + self.bias_hh)
