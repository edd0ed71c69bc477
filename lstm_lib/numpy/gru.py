"""The GRU in NumPy: forward and hand-written backward through time.

One step, for a batch, with gates in PyTorch's order r, z, n (blocks of H columns)::

    a   = x_t W_ih^T + b_ih                   (B, 3H) the input's part
    u   = h_{t-1} W_hh^T + b_hh               (B, 3H) the recurrent part
    r   = sigmoid(a_r + u_r)                  reset gate
    z   = sigmoid(a_z + u_z)                  update gate
    n   = tanh(a_n + r * u_n)                 candidate; u_n = W_hn h_{t-1} + b_hn
    h_t = (1 - z) * n + z * h_{t-1}

Unlike the LSTM, b_hn cannot be folded into the input projection: it sits inside r * (...),
so the recurrent part of the n block keeps its own bias, and the bias gradients of the
ih and hh blocks differ there.

Backward, with dh the total gradient w.r.t. h_t::

    dn_pre = dh * (1 - z) * (1 - n^2)          (the gradient w.r.t. a_n)
    dz_pre = dh * (h_{t-1} - n) * z (1 - z)
    dr_pre = dn_pre * u_n * r (1 - r)
    du     = [dr_pre, dz_pre, dn_pre * r]      (the gradient w.r.t. u)
    da     = [dr_pre, dz_pre, dn_pre]          (the gradient w.r.t. a)
    dL/dh_{t-1} = dh * z + du W_hh

The layout is the LSTM's (see ``lstm_lib.numpy.lstm``): one GEMM for the input projection
of all steps, one recurrent GEMM per step, the local derivatives of all steps computed
before the backward loop, and the weight gradients as large GEMMs after it.

Variable lengths: ``_run`` and ``_run_backward`` take a ``mask`` (T, B, 1) of 1.0 (a real
step) and 0.0 (padding). At a padded step the state is carried, h_t = h_{t-1}, as the blend
``m * h_step + (1 - m) * h_{t-1}``; its pre-activation gradients are exactly 0, and the
gradient of the carried state passes straight through.
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
)
from lstm_lib.numpy.activations import dsigmoid, dtanh, sigmoid_


class GRU(RecurrentStack):
    """A (stacked, optionally bidirectional) GRU layer in NumPy, batch-first.

    ``GRU(input_size, hidden_size, num_layers=1, bidirectional=False, dtype=np.float64,
    seed=0)``. Parameters are ``torch.nn.GRU``'s (``state_dict()``: ``weight_ih_l0``
    (3H, I), ``weight_hh_l0`` (3H, H), ``bias_ih_l0``, ``bias_hh_l0`` (3H,), gate blocks
    r, z, n). ``forward(x, state=None, lengths=None)`` on x (B, T, I) returns
    ``(output, h_n)``: output (B, T, D*H), h_n (D*num_layers, B, H); with ``lengths``, what
    ``torch.nn.GRU`` gives on the packed batch. ``backward(d_output, d_state=None)`` returns
    ``(dx, dh_0)`` and fills ``grads``; ``trace(x)`` returns every step's r, z, n and h.
    """

    gates = 3
    state_names = ("h",)

    def _run(self, xs: np.ndarray, w: Weights, start: tuple[np.ndarray, ...],
             buf: dict[str, np.ndarray], mask: np.ndarray | None = None) -> dict[str, Any]:
        """xs (T, B, I) in reading order; start (h_0,) with h_0 (B, H); mask (T, B, 1) or
        None (every step real). Returns the cache: gates (T, B, 3H) = [r | z | n],
        u_n (T, B, H), h (T+1, B, H)."""
        w_ih, w_hh, b_ih, b_hh = w
        T, B, _ = xs.shape
        H, dt = self.hidden_size, self.dtype
        bias = b_ih.copy()
        bias[: 2 * H] += b_hh[: 2 * H]  # r and z: both biases add; n: b_hn stays inside r*(...)
        gates = projection(xs, w_ih, bias, get(buf, "gates", (T, B, 3 * H), dt))
        u_n = get(buf, "u_n", (T, B, H), dt)
        hs = get(buf, "h", (T + 1, B, H), dt)
        rec = get(buf, "rec", (B, 3 * H), dt)
        tmp = get(buf, "tmp_fwd", (B, H), dt)
        hs[0] = start[0]
        b_hn = b_hh[2 * H:]
        w_hh_t = np.ascontiguousarray(w_hh.T)  # row-major: faster per step (see lstm.py)
        keep = None if mask is None else 1.0 - mask  # 1.0 where the state is carried
        for t in range(T):
            np.matmul(hs[t], w_hh_t, out=rec)          # the recurrent GEMM: one per step
            g = gates[t]
            rz = g[:, : 2 * H]
            rz += rec[:, : 2 * H]
            sigmoid_(rz)                               # r, z (stable: tanh form)
            r, z, n = g[:, :H], g[:, H: 2 * H], g[:, 2 * H:]
            np.add(rec[:, 2 * H:], b_hn, out=u_n[t])   # u_n = W_hn h + b_hn
            np.multiply(r, u_n[t], out=tmp)
            n += tmp
            np.tanh(n, out=n)                          # n = tanh(a_n + r * u_n)
            h = hs[t + 1]
            np.subtract(hs[t], n, out=h)               # h_t = n + z * (h_{t-1} - n)
            h *= z
            h += n
            if mask is not None:                       # padded step: h_t = h_{t-1}
                h *= mask[t]
                np.multiply(hs[t], keep[t], out=tmp)
                h += tmp
        return {"x": xs, "gates": gates, "u_n": u_n, "h": hs, "mask": mask, "buf": buf}

    def _run_backward(self, cache: dict[str, Any], w: Weights, d_hs: np.ndarray,
                      d_end: tuple[np.ndarray, ...]) -> tuple:
        w_ih, w_hh, _, _ = w
        gates, u_n, hs, mask = cache["gates"], cache["u_n"], cache["h"], cache["mask"]
        T, B, H = d_hs.shape
        buf, dt = cache["buf"], self.dtype
        r, z, n = gates[..., :H], gates[..., H: 2 * H], gates[..., 2 * H:]  # (T, B, H) each
        h_prev = hs[:-1]
        # Local derivatives of all steps at once (the factors that do not depend on dh).
        tmp = get(buf, "tmp", (T, B, H), dt)
        dn_fac = dtanh(n, out=get(buf, "dn_fac", (T, B, H), dt))
        np.subtract(1.0, z, out=tmp)
        dn_fac *= tmp                                          # (1 - z) (1 - n^2)
        dz_fac = dsigmoid(z, out=get(buf, "dz_fac", (T, B, H), dt))
        np.subtract(h_prev, n, out=tmp)
        dz_fac *= tmp                                          # (h_{t-1} - n) z (1 - z)
        dr_fac = dsigmoid(r, out=get(buf, "dr_fac", (T, B, H), dt))
        dr_fac *= u_n                                          # u_n r (1 - r)
        carry = get(buf, "carry", (T, B, H), dt)
        carry[...] = z                                         # dh_t / dh_{t-1}, directly
        if mask is not None:  # a padded step: no pre-activation gradient, dh passes through
            dn_fac *= mask
            dz_fac *= mask
            carry *= mask
            carry += 1.0 - mask

        da = get(buf, "da", (T, B, 3 * H), dt)   # gradient w.r.t. the input part a
        du = get(buf, "du", (T, B, 3 * H), dt)   # gradient w.r.t. the recurrent part u
        step_h = get(buf, "step_h", (T, B, H), dt)  # total dL/dh_t
        dh = np.array(d_end[0], dtype=dt)  # gradient reaching h_t from step t+1 (or h_n)
        for t in reversed(range(T)):
            sh = step_h[t]
            np.add(dh, d_hs[t], out=sh)                        # + from the output at step t
            dn_pre = da[t, :, 2 * H:]
            np.multiply(sh, dn_fac[t], out=dn_pre)             # dL/da_n
            np.multiply(sh, dz_fac[t], out=du[t, :, H: 2 * H])  # dL/dz_pre
            np.multiply(dn_pre, dr_fac[t], out=du[t, :, :H])   # dL/dr_pre
            np.multiply(dn_pre, r[t], out=du[t, :, 2 * H:])    # dL/du_n
            np.matmul(du[t], w_hh, out=dh)                     # du W_hh
            np.multiply(sh, carry[t], out=tmp[t])
            dh += tmp[t]                                       # + dh * z
        da[..., : 2 * H] = du[..., : 2 * H]                    # r, z: the same pre-activation
        da2, du2 = da.reshape(T * B, 3 * H), du.reshape(T * B, 3 * H)
        dw_ih = da2.T @ cache["x"].reshape(T * B, -1)
        dw_hh = du2.T @ h_prev.reshape(T * B, H)
        db_ih, db_hh = da2.sum(axis=0), du2.sum(axis=0)
        dxs = (da2 @ w_ih).reshape(T, B, -1)
        return dxs, (dw_ih, dw_hh, db_ih, db_hh), (dh,), {"h": step_h}

    def _trace_steps(self, cache: dict[str, Any]) -> dict[str, np.ndarray]:
        H = self.hidden_size
        gates = cache["gates"]
        return {"r": gates[..., :H], "z": gates[..., H: 2 * H], "n": gates[..., 2 * H:],
                "h": cache["h"][1:]}


class GRUCell(CellBase):
    """One GRU step in NumPy, with ``torch.nn.GRUCell``'s parameters.

    ``GRUCell(input_size, hidden_size, dtype=np.float64, seed=0)``; keys ``weight_ih``
    (3H, I), ``weight_hh`` (3H, H), ``bias_ih``, ``bias_hh`` (3H,). ``forward(x, h=None)``
    on x (B, I), h (B, H) returns h' (B, H) and keeps the gates (``self.gates``: dict r, z,
    n of (B, H)); ``backward(dh)`` returns ``(dx, dh_prev)`` and fills ``grads``.
    """

    layer_class = GRU

    def __init__(self, input_size: int, hidden_size: int, dtype: Any = np.float64,
                 seed: int = 0) -> None:
        super().__init__(input_size, hidden_size, dtype=dtype, seed=seed)
        self.gates: dict[str, np.ndarray] = {}

    def forward(self, x: np.ndarray, h: np.ndarray | None = None) -> np.ndarray:
        """x (B, I), h (B, H) or None -> h' (B, H)."""
        checks.array("x", x, (None, self.input_size), "(B, I)")
        if h is not None:
            checks.array("h", h, (x.shape[0], self.hidden_size), "(B, H)")
            h = h[None]
        _, h_n = self._layer.forward(x[:, None, :], h)
        tr = self._layer._trace_steps(self._layer._caches[0][0])  # type: ignore[index]
        self.gates = {k: tr[k][0].copy() for k in "rzn"}
        return h_n[0]

    __call__ = forward

    def backward(self, dh: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """dh (B, H): gradient w.r.t. h'. Returns (dx (B, I), dh_prev (B, H))."""
        B = self._check_backward("dh", dh)
        dx, dh0 = self._layer.backward(np.zeros((B, 1, self.hidden_size), self.dtype), dh[None])
        self.grads = self._cell_grads()
        return dx[:, 0], dh0[0]
