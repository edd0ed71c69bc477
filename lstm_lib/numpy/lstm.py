"""The LSTM in NumPy: forward and hand-written backward through time.

One step, for a batch, with gates in PyTorch's order i, f, g, o::

    z   = x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh      (B, 4H) pre-activations
    i   = sigmoid(z[:, 0:H])        input gate
    f   = sigmoid(z[:, H:2H])       forget gate
    g   = tanh(z[:, 2H:3H])         candidate
    o   = sigmoid(z[:, 3H:4H])      output gate
    c_t = f * c_{t-1} + i * g
    h_t = o * tanh(c_t)

Backward, with dh the total gradient w.r.t. h_t and dc the one w.r.t. c_t::

    dc   = dc_from_c_{t+1} + dh * o * (1 - tanh(c_t)^2)
    dz_i = dc * g * i (1 - i)          dz_f = dc * c_{t-1} * f (1 - f)
    dz_g = dc * i * (1 - g^2)          dz_o = dh * tanh(c_t) * o (1 - o)
    dL/dc_{t-1} = dc * f               dL/dh_{t-1} = dz W_hh

Speed comes from the layout, not from tricks: the input's part of z for all steps is one
matrix product before the loop; inside the loop there is one matrix product per step;
the weight gradients are three large products after the loop; and in the backward pass the
local derivatives (the factors above that do not depend on dh or dc) are computed for all
steps at once before the loop, so each step only multiplies by them.
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
from lstm_lib.numpy.activations import dsigmoid, dtanh


def gate_constants(hidden_size: int, dtype: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per-column constants (4H,) that turn one exp into the four gate activations.

    sigmoid(x) = 1 / (1 + exp(-x)) and tanh(x) = 2 / (1 + exp(-2x)) - 1, so with, per block
    of H columns, ``pre = (-1, -1, -2, -1)``, ``post = (1, 1, 2, 1)`` and
    ``shift = (0, 0, 1, 0)``: ``post / (1 + exp(pre * z)) - shift`` is
    [sigmoid(z_i), sigmoid(z_f), tanh(z_g), sigmoid(z_o)]. (One exp costs half a tanh.)
    """
    def per_block(values: tuple[float, ...]) -> np.ndarray:
        return np.repeat(np.array(values, dtype=dtype), hidden_size)

    return per_block((-1, -1, -2, -1)), per_block((1, 1, 2, 1)), per_block((0, 0, 1, 0))


def lstm_pointwise(z: np.ndarray, c_prev: np.ndarray, c: np.ndarray, tanh_c: np.ndarray,
                   h: np.ndarray, consts: tuple[np.ndarray, np.ndarray, np.ndarray]) -> None:
    """One step's gate equations, in place.

    z: (B, 4H) pre-activations; overwritten with the gate values [i | f | g | o].
    c_prev: (B, H). Writes c_t into ``c``, tanh(c_t) into ``tanh_c`` and h_t into ``h``.
    consts: ``gate_constants(H, dtype)``.
    """
    pre, post, shift = consts
    H = c.shape[-1]
    z *= pre                            # i, f, o: sigmoid(z) = 1 / (1 + exp(-z))
    np.exp(z, out=z)                    # g: tanh(z) = 2 / (1 + exp(-2z)) - 1
    z += 1.0                            # (exp may overflow to inf for a very negative z:
    np.reciprocal(z, out=z)             #  1 / inf = 0 is then the exact answer)
    z *= post
    z -= shift
    i, f, g, o = z[:, :H], z[:, H: 2 * H], z[:, 2 * H: 3 * H], z[:, 3 * H:]
    np.multiply(f, c_prev, out=c)       # c_t = f * c_{t-1}
    np.multiply(i, g, out=tanh_c)       #       + i * g   (tanh_c used as scratch here)
    c += tanh_c
    np.tanh(c, out=tanh_c)
    np.multiply(o, tanh_c, out=h)       # h_t = o * tanh(c_t)


class LSTM(RecurrentStack):
    """A (stacked, optionally bidirectional) LSTM layer in NumPy, batch-first.

    ``LSTM(input_size, hidden_size, num_layers=1, bidirectional=False, dtype=np.float64,
    seed=0)``. Parameters are ``torch.nn.LSTM``'s (``state_dict()``). ``forward(x, state)``
    on x (B, T, I) returns ``(output, (h_n, c_n))``: output (B, T, D*H), h_n and c_n
    (D*num_layers, B, H); ``forward(x, state, lengths)`` on right-padded x is ``torch.nn``'s
    on the packed batch. ``backward(d_output, d_state)`` returns ``(dx, (dh_0, dc_0))``
    and fills ``grads``; ``trace(x)`` returns every step's gates and states.
    """

    gates = 4
    state_names = ("h", "c")

    def _run(self, xs: np.ndarray, w: Weights, start: tuple[np.ndarray, ...],
             buf: dict[str, np.ndarray], mask: np.ndarray | None = None
             ) -> dict[str, np.ndarray]:
        w_ih, w_hh, b_ih, b_hh = w
        T, B, _ = xs.shape
        H, dt = self.hidden_size, self.dtype
        z = projection(xs, w_ih, b_ih + b_hh, get(buf, "z", (T, B, 4 * H), dt))
        hs = get(buf, "h", (T + 1, B, H), dt)
        cs = get(buf, "c", (T + 1, B, H), dt)
        tanh_c = get(buf, "tanh_c", (T, B, H), dt)
        rec = get(buf, "rec", (B, 4 * H), dt)
        consts = gate_constants(H, dt)
        hs[0], cs[0] = start
        w_hh_t = w_hh.T
        with np.errstate(over="ignore"):  # see lstm_pointwise: an overflow there is harmless
            if mask is None:
                for t in range(T):
                    np.matmul(hs[t], w_hh_t, out=rec)      # the recurrent GEMM: one per step
                    z[t] += rec
                    lstm_pointwise(z[t], cs[t], cs[t + 1], tanh_c[t], hs[t + 1], consts)
            else:  # padded steps (mask 0) carry the state: s_{t+1} = m s_step + (1 - m) s_t
                keep = np.subtract(1.0, mask, out=get(buf, "keep", mask.shape, dt))
                carry = get(buf, "carry", (B, H), dt)
                for t in range(T):
                    np.matmul(hs[t], w_hh_t, out=rec)
                    z[t] += rec
                    lstm_pointwise(z[t], cs[t], cs[t + 1], tanh_c[t], hs[t + 1], consts)
                    for s in (hs, cs):
                        s[t + 1] *= mask[t]
                        s[t + 1] += np.multiply(keep[t], s[t], out=carry)
        return {"x": xs, "gates": z, "h": hs, "c": cs, "tanh_c": tanh_c, "buf": buf,
                "mask": mask}

    def _run_backward(self, cache: dict[str, Any], w: Weights, d_hs: np.ndarray,
                      d_end: tuple[np.ndarray, ...]) -> tuple:
        w_ih, w_hh, _, _ = w
        gates, hs, cs, tanh_c = cache["gates"], cache["h"], cache["c"], cache["tanh_c"]
        T, B, H = tanh_c.shape
        buf, dt = cache["buf"], self.dtype
        i, f, g, o = (gates[..., k * H:(k + 1) * H] for k in range(4))  # (T, B, H) each
        # Local derivatives of all steps at once: dc_t/dz for the i, f, g blocks,
        # dh_t/dz_o, and dh_t/dc_t.
        dc_dz = get(buf, "dc_dz", (T, B, 3, H), dt)
        tmp = get(buf, "tmp", (T, B, H), dt)
        np.multiply(dsigmoid(i, out=tmp), g, out=dc_dz[:, :, 0])        # g i (1 - i)
        np.multiply(dsigmoid(f, out=tmp), cs[:-1], out=dc_dz[:, :, 1])  # c_{t-1} f (1 - f)
        np.multiply(dtanh(g, out=tmp), i, out=dc_dz[:, :, 2])           # i (1 - g^2)
        dh_dzo = dsigmoid(o, out=get(buf, "dh_dzo", (T, B, H), dt))
        dh_dzo *= tanh_c                                                # tanh(c) o (1 - o)
        dh_dc = dtanh(tanh_c, out=get(buf, "dh_dc", (T, B, H), dt))
        dh_dc *= o                                                      # o (1 - tanh(c)^2)
        mask = cache["mask"]
        f_carry = f  # dL/dc_{t-1} = dL/dc_t * f_carry
        if mask is not None:
            # At a padded step the step's own function is multiplied by m = 0: its local
            # derivatives vanish (dz = 0 there, so dx = 0) and the carried state passes
            # its gradient straight through (f_carry = 1, and dh_{t-1} += (1 - m) dh_t).
            dc_dz *= mask[:, :, None, :]
            dh_dzo *= mask
            dh_dc *= mask
            keep = np.subtract(1.0, mask, out=get(buf, "keep", mask.shape, dt))
            f_carry = np.multiply(f, mask, out=get(buf, "f_carry", (T, B, H), dt))
            f_carry += keep
            carry = get(buf, "carry", (B, H), dt)

        dz = get(buf, "dz", (T, B, 4 * H), dt)
        dz4 = dz.reshape(T, B, 4, H)
        step_h = get(buf, "step_h", (T, B, H), dt)  # total dL/dh_t
        step_c = get(buf, "step_c", (T, B, H), dt)  # total dL/dc_t
        dh = np.array(d_end[0], dtype=dt)  # gradient reaching h_t from step t+1 (or h_n)
        dc = np.array(d_end[1], dtype=dt)  # gradient reaching c_t from step t+1 (or c_n)
        for t in reversed(range(T)):
            np.add(dh, d_hs[t], out=step_h[t])                    # + from the output at t
            np.multiply(step_h[t], dh_dc[t], out=step_c[t])       # + through h_t = o tanh(c_t)
            step_c[t] += dc
            np.multiply(step_c[t][:, None, :], dc_dz[t], out=dz4[t, :, :3])  # dz_i, dz_f, dz_g
            np.multiply(step_h[t], dh_dzo[t], out=dz4[t, :, 3])             # dz_o
            np.multiply(step_c[t], f_carry[t], out=dc)            # dL/dc_{t-1} = dc * f
            np.matmul(dz[t], w_hh, out=dh)                        # dL/dh_{t-1} = dz W_hh
            if mask is not None:
                dh += np.multiply(keep[t], step_h[t], out=carry)  # + the carried h_{t-1}
        dw_ih, dw_hh, db, dxs = weight_grads(dz, cache["x"], hs[:-1], w_ih)
        grads = (dw_ih, dw_hh, db, db.copy())
        return dxs, grads, (dh, dc), {"h": step_h, "c": step_c}

    def _trace_steps(self, cache: dict[str, Any]) -> dict[str, np.ndarray]:
        H = self.hidden_size
        gates = cache["gates"]
        return {"i": gates[..., :H], "f": gates[..., H: 2 * H], "g": gates[..., 2 * H: 3 * H],
                "o": gates[..., 3 * H:], "c": cache["c"][1:], "h": cache["h"][1:]}


class LSTMCell(CellBase):
    """One LSTM step in NumPy, with ``torch.nn.LSTMCell``'s parameters.

    ``LSTMCell(input_size, hidden_size, dtype=np.float64, seed=0)``; keys ``weight_ih``
    (4H, I), ``weight_hh`` (4H, H), ``bias_ih``, ``bias_hh`` (4H,). ``forward(x, state)``
    on x (B, I), state (h, c) each (B, H) or None, returns (h', c') and keeps the gates
    (``self.gates``: dict i, f, g, o of (B, H)). ``backward(dh, dc=None)`` returns
    ``(dx, (dh_prev, dc_prev))`` and fills ``grads``. It is a one-layer LSTM run for one
    step, so the cell and the layer share every line of their math.
    """

    layer_class = LSTM

    def __init__(self, input_size: int, hidden_size: int, dtype: Any = np.float64,
                 seed: int = 0) -> None:
        super().__init__(input_size, hidden_size, dtype=dtype, seed=seed)
        self.gates: dict[str, np.ndarray] = {}

    def forward(self, x: np.ndarray, state: Any = None) -> tuple[np.ndarray, np.ndarray]:
        """x (B, I), state (h, c) with each (B, H) or None -> (h', c'), each (B, H)."""
        checks.array("x", x, (None, self.input_size), "(B, I)")
        if state is not None:
            if not isinstance(state, (tuple, list)) or len(state) != 2:
                raise ValueError(f"state must be a tuple (h, c), got {type(state).__name__}")
            for name, s in zip("hc", state, strict=True):
                checks.array(name, s, (x.shape[0], self.hidden_size), "(B, H)")
            state = (state[0][None], state[1][None])
        _, (h, c) = self._layer.forward(x[:, None, :], state)
        tr = self._layer._trace_steps(self._layer._caches[0][0])  # type: ignore[index]
        self.gates = {k: tr[k][0].copy() for k in "ifgo"}
        return h[0], c[0]

    __call__ = forward

    def backward(self, dh: np.ndarray, dc: np.ndarray | None = None
                 ) -> tuple[np.ndarray, tuple[np.ndarray, np.ndarray]]:
        """dh, dc (B, H): gradients w.r.t. h', c'. Returns (dx (B, I), (dh_prev, dc_prev))."""
        B = self._check_backward("dh", dh)
        if dc is None:
            dc = np.zeros_like(dh)
        checks.array("dc", dc, (B, self.hidden_size), "(B, H)")
        d_out = np.zeros((B, 1, self.hidden_size), self.dtype)
        dx, (dh0, dc0) = self._layer.backward(d_out, (dh[None], dc[None]))
        self.grads = self._cell_grads()
        return dx[:, 0], (dh0[0], dc0[0])
