"""The LSTM from torch ops: the readable twin of ``lstm_lib.numpy.lstm``.

The same equations, one line each; autograd supplies the backward pass::

    z   = x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh
    i, f, g, o = sigmoid(z_i), sigmoid(z_f), tanh(z_g), sigmoid(z_o)
    c_t = f * c_{t-1} + i * g
    h_t = o * tanh(c_t)
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from lstm_lib.torch._stack import CellBase, RecurrentStack, as_tensor


def lstm_step(z: torch.Tensor, c_prev: torch.Tensor) -> dict[str, torch.Tensor]:
    """One step's gate equations. z: (B, 4H) pre-activations, c_prev: (B, H).
    Returns a dict with the gates i, f, g, o and the new states c, h, each (B, H)."""
    zi, zf, zg, zo = z.chunk(4, dim=-1)
    i, f, g, o = torch.sigmoid(zi), torch.sigmoid(zf), torch.tanh(zg), torch.sigmoid(zo)
    c = f * c_prev + i * g
    h = o * torch.tanh(c)
    return {"i": i, "f": f, "g": g, "o": o, "c": c, "h": h}


class LSTM(RecurrentStack):
    """A (stacked, optionally bidirectional) LSTM written from torch ops, batch-first.

    ``LSTM(input_size, hidden_size, num_layers=1, bidirectional=False, dtype=np.float64,
    seed=0)`` holds the same weights as ``lstm_lib.numpy.LSTM`` built with the same
    arguments, and ``torch.nn.LSTM``'s state_dict keys. ``forward(x, state)`` on x
    (B, T, I) returns ``(output, (h_n, c_n))``: output (B, T, D*H), h_n, c_n
    (D*num_layers, B, H); ``forward(x, state, lengths)`` on right-padded x is ``torch.nn``'s
    on the packed batch.
    """

    gates = 4
    state_names = ("h", "c")
    _record = False

    def _run(self, xs: torch.Tensor, w: tuple[torch.Tensor, ...],
             start: tuple[torch.Tensor, ...], mask: torch.Tensor | None = None
             ) -> dict[str, list[torch.Tensor]]:
        w_ih, w_hh, b_ih, b_hh = w
        x_proj = xs @ w_ih.T + b_ih + b_hh          # (B, T, 4H): the input part of every step
        h, c = start
        out: dict[str, list[torch.Tensor]] = {"h": [], "c": []}
        if self._record:
            out.update({k: [] for k in "ifgo"})
        for t, x_t in enumerate(x_proj.unbind(1)):  # (unbind, not x_proj[:, t]: cheaper)
            step = self._step(x_t + h @ w_hh.T, c)
            if mask is not None:  # a padded step (mask 0) carries the state over
                m = mask[t]
                step["h"] = m * step["h"] + (1 - m) * h
                step["c"] = m * step["c"] + (1 - m) * c
            h, c = step["h"], step["c"]
            for k in out:
                out[k].append(step[k])
        return out

    def _step(self, z: torch.Tensor, c_prev: torch.Tensor) -> dict[str, torch.Tensor]:
        """One step's gate equations (a variant overrides this, not the loop)."""
        return lstm_step(z, c_prev)


class LSTMCell(CellBase):
    """One LSTM step from torch ops, with ``torch.nn.LSTMCell``'s parameter names.

    ``forward(x, state=None)`` on x (B, I), state (h, c) each (B, H) -> (h', c').
    """

    num_gates = 4

    def __init__(self, input_size: int, hidden_size: int, dtype: Any = np.float64,
                 seed: int = 0) -> None:
        super().__init__(input_size, hidden_size, dtype=dtype, seed=seed)
        self.gates: dict[str, torch.Tensor] = {}

    def forward(self, x: Any, state: Any = None) -> tuple[torch.Tensor, torch.Tensor]:
        """x (B, I); state (h, c) each (B, H) or None. Returns (h', c'); keeps ``self.gates``."""
        x = self._input(x)
        shape = (x.shape[0], self.hidden_size)
        if state is None:
            h = c = torch.zeros(shape, dtype=self.dtype)
        else:
            if not isinstance(state, (tuple, list)) or len(state) != 2:
                raise ValueError(f"state must be a tuple (h, c), got {type(state).__name__}")
            h, c = (as_tensor(n, s, shape, "(B, H)", self.dtype) for n, s in zip("hc", state))
        z = x @ self.weight_ih.T + self.bias_ih + h @ self.weight_hh.T + self.bias_hh
        step = lstm_step(z, c)
        self.gates = {k: step[k] for k in "ifgo"}
        return step["h"], step["c"]
