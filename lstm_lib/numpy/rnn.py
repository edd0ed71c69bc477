"""The vanilla (Elman) RNN in NumPy: forward and hand-written backward through time.

One step, for a batch, with ``act`` tanh (the default) or ReLU, as ``torch.nn.RNN``'s
``nonlinearity``::

    h_t = act(x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh)

and its backward: with dh the total gradient w.r.t. h_t, dz = dh * act'(z_t), where
act' = 1 - h_t^2 for tanh and 1 where h_t > 0 (else 0) for ReLU, and
dL/dh_{t-1} = dz W_hh (plus what h_{t-1} gets from its own output).

Variable lengths: ``_run`` / ``_run_backward`` take a ``mask`` (T, B, 1) of 1.0 (a real
step) and 0.0 (padding); at a padded step the state is carried, h_t = h_{t-1}, written as the
blend ``m * h_step + (1 - m) * h_{t-1}``, and the step's pre-activation gradient is 0.
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

NONLINEARITIES = ("tanh", "relu")
"""The values ``nonlinearity`` accepts, as ``torch.nn.RNN``'s."""


def check_nonlinearity(value: Any) -> str:
    """Return ``value`` if it is ``"tanh"`` or ``"relu"``; anything else is a ValueError
    naming the allowed values and what came."""
    if not isinstance(value, str) or value not in NONLINEARITIES:
        raise ValueError(f"nonlinearity must be one of {', '.join(map(repr, NONLINEARITIES))}, "
                         f"got {value!r}")
    return value


class RNN(RecurrentStack):
    """A (stacked, optionally bidirectional) Elman RNN layer in NumPy, batch-first.

    ``RNN(input_size, hidden_size, num_layers=1, bidirectional=False, dtype=np.float64,
    seed=0, nonlinearity="tanh")``, parameters as ``torch.nn.RNN``'s; ``nonlinearity`` is
    ``"tanh"`` or ``"relu"``. ``forward(x, h_0=None, lengths=None)`` on x (B, T, I) returns
    ``(output, h_n)``: output (B, T, D*H), h_n (D*num_layers, B, H).
    ``backward(d_output, d_h_n=None)`` returns ``(dx, dh_0)`` and fills ``grads``.
    """

    gates = 1
    state_names = ("h",)

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1,
                 bidirectional: bool = False, dtype: Any = np.float64, seed: int = 0, *,
                 nonlinearity: str = "tanh") -> None:
        self.nonlinearity = check_nonlinearity(nonlinearity)
        super().__init__(input_size, hidden_size, num_layers, bidirectional, dtype, seed)

    def _run(self, xs: np.ndarray, w: Weights, start: tuple[np.ndarray, ...],
             buf: dict[str, np.ndarray], mask: np.ndarray | None = None) -> dict[str, Any]:
        """xs (T, B, I) in reading order; start (h_0,) with h_0 (B, H); mask (T, B, 1) or
        None (every step real). Returns the cache, with h (T+1, B, H)."""
        w_ih, w_hh, b_ih, b_hh = w
        T, B, _ = xs.shape
        H, dt = self.hidden_size, self.dtype
        z = projection(xs, w_ih, b_ih + b_hh, get(buf, "z", (T, B, H), dt))
        hs = get(buf, "h", (T + 1, B, H), dt)
        rec = get(buf, "rec", (B, H), dt)
        hs[0] = start[0]
        w_hh_t = np.ascontiguousarray(w_hh.T)  # row-major: faster per step (see lstm.py)
        relu = self.nonlinearity == "relu"
        keep = None if mask is None else 1.0 - mask  # 1.0 where the state is carried
        for t in range(T):
            np.matmul(hs[t], w_hh_t, out=rec)
            z[t] += rec
            if relu:
                np.maximum(z[t], 0.0, out=hs[t + 1])
            else:
                np.tanh(z[t], out=hs[t + 1])
            if mask is not None:  # padded step: h_t = h_{t-1}
                hs[t + 1] *= mask[t]
                np.multiply(hs[t], keep[t], out=rec)
                hs[t + 1] += rec
        return {"x": xs, "h": hs, "z": z, "mask": mask, "buf": buf}

    def _run_backward(self, cache: dict[str, Any], w: Weights, d_hs: np.ndarray,
                      d_end: tuple[np.ndarray, ...]) -> tuple:
        w_ih, w_hh, _, _ = w
        hs, mask = cache["h"], cache["mask"]
        T, B, H = d_hs.shape
        buf, dt = cache["buf"], self.dtype
        dz = get(buf, "dz", (T, B, H), dt)
        dh_dz = get(buf, "dh_dz", (T, B, H), dt)  # act'(z_t), all steps at once
        if self.nonlinearity == "relu":
            np.greater(cache["z"], 0.0, out=dh_dz, casting="unsafe")  # 1 where z_t > 0
        else:
            dtanh(hs[1:], out=dh_dz)  # 1 - h_t^2
        keep = None
        if mask is not None:  # a padded step: no pre-activation gradient, dh passes through
            dh_dz *= mask
            keep = 1.0 - mask
        step_h = get(buf, "step_h", (T, B, H), dt)  # total dL/dh_t
        tmp = get(buf, "tmp", (B, H), dt)
        dh = np.array(d_end[0], dtype=dt)  # gradient reaching h_t from step t+1
        for t in reversed(range(T)):
            np.add(dh, d_hs[t], out=step_h[t])     # + from the output at step t
            np.multiply(step_h[t], dh_dz[t], out=dz[t])  # through the activation
            np.matmul(dz[t], w_hh, out=dh)         # dL/dh_{t-1} = dz W_hh
            if keep is not None:                   # + the carried state's gradient
                np.multiply(step_h[t], keep[t], out=tmp)
                dh += tmp
        dw_ih, dw_hh, db, dxs = weight_grads(dz, cache["x"], hs[:-1], w_ih)
        return dxs, (dw_ih, dw_hh, db, db.copy()), (dh,), {"h": step_h}

    def _trace_steps(self, cache: dict[str, Any]) -> dict[str, np.ndarray]:
        return {"h": cache["h"][1:]}

    def __repr__(self) -> str:
        extra = "" if self.nonlinearity == "tanh" else ", nonlinearity='relu'"
        return super().__repr__()[:-1] + extra + ")"


class RNNCell(CellBase):
    """One Elman RNN step in NumPy, with ``torch.nn.RNNCell``'s parameters.

    ``RNNCell(input_size, hidden_size, dtype=np.float64, seed=0, nonlinearity="tanh")``.
    ``forward(x, h=None)`` on x (B, I), h (B, H) returns h' (B, H);
    ``backward(dh)`` returns ``(dx, dh_prev)`` and fills ``grads``.
    """

    layer_class = RNN

    def __init__(self, input_size: int, hidden_size: int, dtype: Any = np.float64,
                 seed: int = 0, *, nonlinearity: str = "tanh") -> None:
        nonlinearity = check_nonlinearity(nonlinearity)
        super().__init__(input_size, hidden_size, dtype=dtype, seed=seed)
        self.nonlinearity = self._layer.nonlinearity = nonlinearity

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
