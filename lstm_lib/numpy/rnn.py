"""The vanilla (Elman) tanh RNN in NumPy: forward and hand-written backward through time.

One step, for a batch::

    h_t = tanh(x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh)

and its backward: with dh the total gradient w.r.t. h_t,
dz = dh * (1 - h_t^2) and dL/dh_{t-1} = dz W_hh (plus what h_{t-1} gets from its own output).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from lstm_lib import checks
from lstm_lib.numpy._stack import (
    CellBase,
    RecurrentStack,
    Weights,
    get,
    projection,
    weight_grads,
)
from lstm_lib.numpy.activations import dtanh


class RNN(RecurrentStack):
    """A (stacked, optionally bidirectional) tanh RNN layer in NumPy, batch-first.

    ``RNN(input_size, hidden_size, num_layers=1, bidirectional=False, dtype=np.float64,
    seed=0)``, parameters as ``torch.nn.RNN``'s. ``forward(x, h_0=None)`` on x (B, T, I)
    returns ``(output, h_n)``: output (B, T, D*H), h_n (D*num_layers, B, H).
    ``backward(d_output, d_h_n=None)`` returns ``(dx, dh_0)`` and fills ``grads``.
    """

    gates = 1
    state_names = ("h",)

    def _run(self, xs: np.ndarray, w: Weights, start: tuple[np.ndarray, ...],
             buf: dict[str, np.ndarray]) -> dict[str, Any]:
        w_ih, w_hh, b_ih, b_hh = w
        T, B, _ = xs.shape
        H, dt = self.hidden_size, self.dtype
        z = projection(xs, w_ih, b_ih + b_hh, get(buf, "z", (T, B, H), dt))
        hs = get(buf, "h", (T + 1, B, H), dt)
        rec = get(buf, "rec", (B, H), dt)
        hs[0] = start[0]
        w_hh_t = w_hh.T
        for t in range(T):
            np.matmul(hs[t], w_hh_t, out=rec)
            z[t] += rec
            np.tanh(z[t], out=hs[t + 1])
        return {"x": xs, "h": hs, "buf": buf}

    def _run_backward(self, cache: dict[str, Any], w: Weights, d_hs: np.ndarray,
                      d_end: tuple[np.ndarray, ...]) -> tuple:
        w_ih, w_hh, _, _ = w
        hs = cache["h"]
        T, B, H = d_hs.shape
        dz = get(cache["buf"], "dz", (T, B, H), self.dtype)
        dh_dz = dtanh(hs[1:], out=get(cache["buf"], "dh_dz", (T, B, H), self.dtype))  # all steps
        step_h = get(cache["buf"], "step_h", (T, B, H), self.dtype)  # total dL/dh_t
        dh = np.array(d_end[0], dtype=self.dtype)  # gradient reaching h_t from step t+1
        for t in reversed(range(T)):
            np.add(dh, d_hs[t], out=step_h[t])     # + from the output at step t
            np.multiply(step_h[t], dh_dz[t], out=dz[t])  # through tanh: 1 - h_t^2
            np.matmul(dz[t], w_hh, out=dh)         # dL/dh_{t-1} = dz W_hh
        dw_ih, dw_hh, db, dxs = weight_grads(dz, cache["x"], hs[:-1], w_ih)
        return dxs, (dw_ih, dw_hh, db, db.copy()), (dh,), {"h": step_h}

    def _trace_steps(self, cache: dict[str, Any]) -> dict[str, np.ndarray]:
        return {"h": cache["h"][1:]}


class RNNCell(CellBase):
    """One tanh RNN step in NumPy, with ``torch.nn.RNNCell``'s parameters.

    ``forward(x, h=None)`` on x (B, I), h (B, H) returns h' (B, H);
    ``backward(dh)`` returns ``(dx, dh_prev)`` and fills ``grads``.
    """

    layer_class = RNN

    def forward(self, x: np.ndarray, h: np.ndarray | None = None) -> np.ndarray:
        """x (B, I), h (B, H) or None -> h' (B, H)."""
        checks.array("x", x, (None, self.input_size), "(B, I)")
        if h is not None:
            checks.array("h", h, (x.shape[0], self.hidden_size), "(B, H)")
            h = h[None]
        _, h_n = self._layer.forward(x[:, None, :], h)
        return h_n[0]

    __call__ = forward

    def backward(self, dh: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """dh (B, H): gradient w.r.t. h'. Returns (dx (B, I), dh_prev (B, H))."""
        B = self._check_backward("dh", dh)
        dx, dh0 = self._layer.backward(np.zeros((B, 1, self.hidden_size), self.dtype), dh[None])
        self.grads = self._cell_grads()
        return dx[:, 0], dh0[0]
