"""The GRU from torch ops: the readable twin of ``lstm_lib.numpy.gru``.

The same equations, one line each (gate blocks r, z, n, as ``torch.nn.GRU``); autograd
supplies the backward pass::

    a = x_t W_ih^T + b_ih,   u = h_{t-1} W_hh^T + b_hh
    r = sigmoid(a_r + u_r),  z = sigmoid(a_z + u_z)
    n = tanh(a_n + r * u_n)
    h_t = (1 - z) * n + z * h_{t-1}
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from lstm_lib.torch._stack import CellBase, RecurrentStack, as_tensor


def gru_step(a: torch.Tensor, u: torch.Tensor, h_prev: torch.Tensor) -> dict[str, torch.Tensor]:
    """One step's gate equations. a: (B, 3H) the input's part x W_ih^T + b_ih; u: (B, 3H)
    the recurrent part h W_hh^T + b_hh; h_prev: (B, H). Returns a dict with the gates r, z,
    n and the new state h, each (B, H)."""
    a_r, a_z, a_n = a.chunk(3, dim=-1)
    u_r, u_z, u_n = u.chunk(3, dim=-1)
    r = torch.sigmoid(a_r + u_r)
    z = torch.sigmoid(a_z + u_z)
    n = torch.tanh(a_n + r * u_n)
    h = (1 - z) * n + z * h_prev
    return {"r": r, "z": z, "n": n, "h": h}


class GRU(RecurrentStack):
    """A (stacked, optionally bidirectional) GRU written from torch ops, batch-first.

    ``GRU(input_size, hidden_size, num_layers=1, bidirectional=False, dtype=np.float64,
    seed=0)`` holds the same weights as ``lstm_lib.numpy.GRU`` built with the same arguments,
    and ``torch.nn.GRU``'s state_dict keys. ``forward(x, state=None, lengths=None)`` on x
    (B, T, I) returns ``(output, h_n)``: output (B, T, D*H), h_n (D*num_layers, B, H); with
    ``lengths``, what ``torch.nn.GRU`` gives on the packed batch.
    """

    gates = 3
    state_names = ("h",)
    _record = False

    def _run(self, xs: torch.Tensor, w: tuple[torch.Tensor, ...],
             start: tuple[torch.Tensor, ...],
             mask: torch.Tensor | None = None) -> dict[str, list[torch.Tensor]]:
        """xs (B, T, I) in reading order; start (h_0,); mask (T, B, 1) of 1.0 (real step)
        and 0.0 (padding: the state is carried), or None. Returns lists of T (B, H) tensors:
        h, and r, z, n when tracing."""
        w_ih, w_hh, b_ih, b_hh = w
        x_proj = xs @ w_ih.T + b_ih                 # (B, T, 3H): the input part of every step
        (h,) = start
        out: dict[str, list[torch.Tensor]] = {"h": []}
        if self._record:
            out.update({k: [] for k in "rzn"})
        for t, a in enumerate(x_proj.unbind(1)):  # (unbind, not x_proj[:, t]: cheaper)
            step = gru_step(a, h @ w_hh.T + b_hh, h)
            h = step["h"] if mask is None else mask[t] * step["h"] + (1 - mask[t]) * h
            step["h"] = h
            for k in out:
                out[k].append(step[k])
        return out


class GRUCell(CellBase):
    """One GRU step from torch ops, with ``torch.nn.GRUCell``'s parameter names.

    ``GRUCell(input_size, hidden_size, dtype=np.float64, seed=0)``; ``forward(x, h=None)``
    on x (B, I), h (B, H) -> h' (B, H); keeps ``self.gates`` (r, z, n).
    """

    num_gates = 3

    def __init__(self, input_size: int, hidden_size: int, dtype: Any = np.float64,
                 seed: int = 0) -> None:
        super().__init__(input_size, hidden_size, dtype=dtype, seed=seed)
        self.gates: dict[str, torch.Tensor] = {}

    def forward(self, x: Any, h: Any = None) -> torch.Tensor:
        """x (B, I), h (B, H) or None -> h' (B, H)."""
        x = self._input(x)
        shape = (x.shape[0], self.hidden_size)
        h = torch.zeros(shape, dtype=self.dtype) if h is None else as_tensor(
            "h", h, shape, "(B, H)", self.dtype)
        step = gru_step(x @ self.weight_ih.T + self.bias_ih,
                        h @ self.weight_hh.T + self.bias_hh, h)
        self.gates = {k: step[k] for k in "rzn"}
        return step["h"]
