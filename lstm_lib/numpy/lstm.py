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

Speed comes from the layout and from few passes over memory, not from tricks: the input's
part of z for all steps is one matrix product before the loop; inside the loop there is one
matrix product per step; one ``tanh`` over all 4H columns gives the four gates (the i, f, o
rows of the weights are halved once per call, since sigmoid(x) = (1 + tanh(x/2)) / 2); the
weight gradients are three large products after the loop; and in the backward pass the
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
    """Per-column constants (4H,) that turn one tanh into the four gate activations.

    sigmoid(x) = (1 + tanh(x / 2)) / 2, so with, per block of H columns (i, f, g, o),
    ``scale = (1/2, 1/2, 1, 1/2)``, ``post = (1/2, 1/2, 1, 1/2)`` and
    ``shift = (1/2, 1/2, 0, 1/2)``: ``tanh(scale * z) * post + shift`` is
    [sigmoid(z_i), sigmoid(z_f), tanh(z_g), sigmoid(z_o)]. ``scale`` is applied to the
    weight rows and biases once per call (exact: a power of two), so z arrives scaled.
    tanh saturates to +-1 instead of overflowing, so no input gives a warning.
    """
    def per_block(values: tuple[float, ...]) -> np.ndarray:
        return np.repeat(np.array(values, dtype=dtype), hidden_size)

    half = (0.5, 0.5, 1.0, 0.5)
    return per_block(half), per_block(half), per_block((0.5, 0.5, 0.0, 0.5))


def lstm_pointwise(z: np.ndarray, c_prev: np.ndarray, c: np.ndarray, tanh_c: np.ndarray,
                   h: np.ndarray, post: np.ndarray, shift: np.ndarray) -> None:
    """One step's gate equations, in place.

    z: (B, 4H) pre-activations, already multiplied by ``scale`` (``gate_constants``);
    overwritten with the gate values [i | f | g | o]. c_prev: (B, H). Writes c_t into
    ``c``, tanh(c_t) into ``tanh_c`` and h_t into ``h``. post, shift: (4H,), from
    ``gate_constants(H, dtype)``.
    """
    H = c.shape[-1]
    np.tanh(z, out=z)                   # one tanh for all four blocks, then per block:
    z *= post                           # i, f, o: (1 + tanh(z/2)) / 2;  g: tanh(z)
    z += shift
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
        scale, post, shift = gate_constants(H, dt)
        col = scale[:, None]  # the i, f, o rows halved: z arrives as scale * z
        z = projection(xs, w_ih * col, (b_ih + b_hh) * scale, get(buf, "z", (T, B, 4 * H), dt))
        # W_hh^T, copied once into row-major order: OpenBLAS multiplies by a transposed view
        # up to twice as slowly at these small per-step shapes (benchmarks/gemm_layout.py).
        w_hh_t = np.ascontiguousarray((w_hh * col).T)
        hs = get(buf, "h", (T + 1, B, H), dt)
        cs = get(buf, "c", (T + 1, B, H), dt)
        tanh_c = get(buf, "tanh_c", (T, B, H), dt)
        rec = get(buf, "rec", (B, 4 * H), dt)
        hs[0], cs[0] = start
        # Padded steps (mask 0) carry the state over: s_{t+1} = s_t there. Only the steps
        # where some sequence has ended need that (with right padding: those past the
        # shortest length).
        pad = None if mask is None else mask == 0.0                       # (T, B, 1)
        some_pad = [False] * T if pad is None else pad.any(axis=(1, 2)).tolist()
        for t in range(T):
            np.matmul(hs[t], w_hh_t, out=rec)          # the recurrent GEMM: one per step
            z[t] += rec
            lstm_pointwise(z[t], cs[t], cs[t + 1], tanh_c[t], hs[t + 1], post, shift)
            if some_pad[t]:
                np.copyto(hs[t + 1], hs[t], where=pad[t])
                np.copyto(cs[t + 1], cs[t], where=pad[t])
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
        pad, some_pad = None, [False] * T
        if mask is not None:
            # A padded step (m = 0) carried the state over unchanged: its local derivatives
            # vanish (dz = 0 there, so dx = 0), and the gradient passes straight through to
            # the step before (dL/dh_{t-1} = dL/dh_t, dL/dc_{t-1} = dL/dc_t).
            dc_dz *= mask[:, :, None, :]
            dh_dzo *= mask
            dh_dc *= mask
            pad = mask == 0.0                                           # (T, B, 1)
            some_pad = pad.any(axis=(1, 2)).tolist()

        dz = get(buf, "dz", (T, B, 4 * H), dt)
        dz4 = dz.reshape(T, B, 4, H)
        step_h = get(buf, "step_h", (T, B, H), dt)  # total dL/dh_t
        step_c = get(buf, "step_c", (T, B, H), dt)  # total dL/dc_t
        dh = np.array(d_end[0], dtype=dt)  # gradient reaching h_t from step t+1 (or h_n)
        dc = np.array(d_end[1], dtype=dt)  # gradient reaching c_t from step t+1 (or c_n)
        for t in reversed(range(T)):
            sh, sc = step_h[t], step_c[t]
            np.add(dh, d_hs[t], out=sh)                           # + from the output at t
            np.multiply(sh, dh_dc[t], out=sc)                     # + through h_t = o tanh(c_t)
            sc += dc
            np.multiply(sc[:, None, :], dc_dz[t], out=dz4[t, :, :3])  # dz_i, dz_f, dz_g
            np.multiply(sh, dh_dzo[t], out=dz4[t, :, 3])          # dz_o
            np.multiply(sc, f[t], out=dc)                         # dL/dc_{t-1} = dc * f
            np.matmul(dz[t], w_hh, out=dh)                        # dL/dh_{t-1} = dz W_hh
            if some_pad[t]:                                       # the carried states
                np.copyto(dc, sc, where=pad[t])
                np.copyto(dh, sh, where=pad[t])
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
