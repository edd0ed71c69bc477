"""The sLSTM and mLSTM of xLSTM (Beck et al. 2024) in NumPy; the sLSTM with a hand-written
backward through time.

The twin of ``lstm_lib.torch.xlstm`` (which re-exports ``lstm_lib.recipes.state_tracking``):
the same arguments, shapes and results, float64 by default, the inputs' dtype kept
(float32 in, float32 out). The equations, as in xlstm 2.0.6's reference functions:

sLSTM, one step (``slstm_pointwise``); states y, c, n, m (B, H); pre-activations
``raw = Wx + Ry + b`` (B, 4H), blocks i~, f~, z~, o~::

    L  = m + log sigmoid(f~)
    m' = max(i~, L)                       (m' = i~ while every n is 0: the first step)
    i  = min(exp(i~ - m'), 1),  f = min(exp(L - m'), 1),  o = sigmoid(o~)
    c' = f c + i tanh(z~),  n' = f n + i,  y' = o c' / n'

``m`` (the stabiliser) keeps the exponentials finite and cancels in ``c' / n'``; the clamps
min(., 1) act only on the first step (where m' = i~ whatever L is).

sLSTM backward (``SLSTM.backward``): the exact derivative of the forward as written, through
m, the max and the clamps, with dc, dn, dm the gradients reaching c', n', m' (from the later
steps and the loss) and dy the gradient reaching y'::

    do~ = dy (c'/n') o (1 - o)
    dc += dy o / n',   dn -= dy o c' / n'^2
    dz~ = dc i (1 - tanh(z~)^2),  di = dc tanh(z~) + dn,  df = dc c + dn n
    dc_prev = dc f,  dn_prev = dn f
    da_i = di i [exp(i~ - m') < 1],  da_f = df f [exp(L - m') < 1]   (a clamped gate: 0)
    dm  -= da_i + da_f;  di~ = da_i + dm [m' = i~];  dL = da_f + dm [m' = L]
    dm_prev = dL,  df~ = dL sigmoid(-f~)
    draw = (di~, df~, dz~, do~):  dW_ih += draw^T x,  dW_hh += draw^T y_prev,  db += sum draw
    dx = draw W_ih,  dy_prev = draw W_hh

At a tie the derivative takes one side, always the same: ``m' = i~`` where ``i~ >= L`` (the
gradient of m' goes to i~), and a gate at exactly 1 counts as clamped (derivative 0). Ties
of the clamps are structural (``i~ - m' = 0`` exactly whenever m' = i~) but harmless: there
the gate is the constant 1, its true derivative 0. Torch's autograd splits a tie's gradient
half and half; where the tie is structural the halves cancel, so the two agree; a tie of
``max(i~, L)`` itself happens with probability 0 for real-valued inputs.

mLSTM (``mlstm_parallel``, ``mlstm_step``, ``mlstm_recurrent``; forward only), per head,
q, k, v (S, DH), gate pre-activations i~, f~ (S, 1)::

    D[t, s] = exp(sum_{r=s+1..t} log sigmoid(f~_r) + i~_s)   for s <= t, else 0
    C[t, s] = (q_t . k_s / sqrt(DH)) D[t, s]
    h~_t = sum_s C[t, s] v_s / (max(|sum_s C[t, s]|, exp(-m_t)) + eps),  m_t = max_s log D[t, s]

and stepwise from C = 0, n = 0, m = 0::

    m' = max(log sigmoid(f~) + m, i~),  f = exp(log sigmoid(f~) + m - m'),  i = exp(i~ - m')
    C' = f C + i k v^T / sqrt(DH),  n' = f n + i k / sqrt(DH)
    h  = C'^T q / (max(|q . n'|, exp(-m')) + eps)

The two forms are equal up to ``eps``: dividing by exp(-m) a form's numerator and
denominator, h = q C_u / (max(|q . n_u|, 1) + eps exp(m)) with C_u, n_u unstabilised, and
the parallel form's m_t (the row maximum) is not the recurrent m_t (which also counts the
zero start state), so eps weighs differently.

Initialisation of ``SLSTM``: from ``np.random.default_rng(seed)``, in float64 and in the
order weight_ih, weight_hh, bias, each uniform in +-1/sqrt(H) (the recipe's SLSTM draws
the same, from torch's generator), then ``forget_bias`` (3) added to the f block of bias,
then cast to ``dtype``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np

from lstm_lib import checks
from lstm_lib.numpy._stack import IncompatibleKeys, load_params
from lstm_lib.numpy.activations import sigmoid_

PARAM_NAMES = ("weight_ih", "weight_hh", "bias")


# ---------------------------------------------------------------------------- helpers

def _logsigmoid(x: np.ndarray) -> np.ndarray:
    """log sigmoid(x) = min(x, 0) - log1p(exp(-|x|)), stable for any x (torch's formula)."""
    return np.minimum(x, 0) - np.log1p(np.exp(-np.abs(x)))


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return sigmoid_(np.array(x, copy=True))


def _eps(eps: Any) -> float:
    """Validate ``eps``: a real number >= 0 (TypeError for another kind, ValueError else)."""
    if isinstance(eps, bool) or not isinstance(eps, (int, float, np.integer, np.floating)):
        raise TypeError(f"eps must be a float >= 0, got {type(eps).__name__} {eps!r}")
    if not (math.isfinite(eps) and eps >= 0):
        raise ValueError(f"eps must be a finite float >= 0, got {eps}")
    return float(eps)  # a Python float: it keeps a float32 computation float32


def _dtype(*arrays: np.ndarray) -> np.dtype:
    """The dtype of the result: float32 when every input is float32, else float64."""
    return np.result_type(*arrays)


# ---------------------------------------------------------------------------- sLSTM

def _slstm_step(raw: np.ndarray, c: np.ndarray, n: np.ndarray, m: np.ndarray,
                ) -> dict[str, Any]:
    """The sLSTM step from the pre-activations ``raw`` (B, 4H) and the states c, n, m
    (B, H): every intermediate the backward needs (no input checks)."""
    hidden = c.shape[1]
    i_raw, f_raw, z_raw, o_raw = (raw[:, g * hidden:(g + 1) * hidden] for g in range(4))
    big_l = m + _logsigmoid(f_raw)                            # L = m + log sigmoid(f~)
    first = bool((n == 0).all())
    take_i = np.ones(i_raw.shape, bool) if first else i_raw >= big_l
    m_new = np.where(take_i, i_raw, big_l)                    # m' = max(i~, L) (i~ at ties)
    e_i, e_f = np.exp(i_raw - m_new), np.exp(big_l - m_new)
    free_i, free_f = e_i < 1, e_f < 1                         # not clamped by min(., 1)
    i = np.where(free_i, e_i, 1).astype(raw.dtype, copy=False)
    f = np.where(free_f, e_f, 1).astype(raw.dtype, copy=False)
    o = _sigmoid(o_raw)
    tanh_z = np.tanh(z_raw)
    c_new = f * c + i * tanh_z
    n_new = f * n + i
    y_new = o * c_new / n_new
    return {"y": y_new, "c": c_new, "n": n_new, "m": m_new, "i": i, "f": f, "o": o,
            "z_raw": z_raw, "f_raw": f_raw, "tanh_z": tanh_z, "take_i": take_i,
            "free_i": free_i, "free_f": free_f}


def slstm_pointwise(Wx: np.ndarray, Ry: np.ndarray, b: np.ndarray,  # noqa: N803
                    states: np.ndarray, constants: Mapping[str, float] | None = None,
                    ) -> tuple[np.ndarray, np.ndarray]:
    """One sLSTM step after the matrix products (xlstm 2.0.6's ``slstm_forward_pointwise``).

    Wx, Ry: (B, 4H) float arrays, the input's and the previous output's parts of the
    pre-activations, gate blocks i, f, z, o; b: (1, 4H); states: (4, B, H) = y, c, n, m.
    Returns ``(new states (4, B, H) = y', c', n', m', gates (4, B, H) = i, f, z~, o)``, the
    gates being i and f after stabilising, the raw z~ and o = sigmoid(o~); the equations
    are in the module docstring (m' = i~ while every n is 0). ``constants``: None or a
    mapping, unused (xlstm's signature). The result's dtype: float32 when every input is.
    """
    checks.array("Wx", Wx, (None, None), "(B, 4H)")
    batch, four_h = Wx.shape
    if four_h % 4:
        raise ValueError(f"Wx must have shape (B, 4H), a multiple of 4 columns, got {Wx.shape}")
    hidden = four_h // 4
    checks.array("Ry", Ry, (batch, four_h), "(B, 4H)")
    checks.array("b", b, (1, four_h), "(1, 4H)")
    checks.array("states", states, (4, batch, hidden), "(4, B, H)")
    if constants is not None and not isinstance(constants, Mapping):
        raise TypeError(f"constants must be None or a mapping, got {type(constants).__name__}")
    dt = _dtype(Wx, Ry, b, states)
    raw = (Wx + Ry + b).astype(dt, copy=False)
    _, c, n, m = states.astype(dt, copy=False)
    s = _slstm_step(raw, c, n, m)
    return (np.stack((s["y"], s["c"], s["n"], s["m"])),
            np.stack((s["i"], s["f"], s["z_raw"], s["o"])))


def slstm_shapes(input_size: int, hidden_size: int) -> dict[str, tuple[int, ...]]:
    """The parameters' shapes, in the order they are drawn: weight_ih (4H, I),
    weight_hh (4H, H), bias (4H)."""
    return {"weight_ih": (4 * hidden_size, input_size),
            "weight_hh": (4 * hidden_size, hidden_size), "bias": (4 * hidden_size,)}


class SLSTM:
    """One sLSTM layer in NumPy over time, batch-first, one head, with a hand-written
    backward through time: the twin of the recipe's ``SLSTM``.

    ``SLSTM(input_size, hidden_size, dtype=np.float64, seed=0, forget_bias=3.0)``.
    Parameters (``params``, ``state_dict()``, the torch layer's names): ``weight_ih``
    (4H, I), ``weight_hh`` (4H, H), ``bias`` (4H), gate blocks i, f, z, o.
    ``forward(x (B, T, I), states=None)`` returns ``(output (B, T, H), states (4, B, H))``
    (y, c, n, m after the last step; zeros to start). ``backward(d_output, d_states=None)``
    returns dx (B, T, I), fills ``grads`` (keys as ``params``) and ``d_initial_states``
    (4, B, H). The equations and the initialisation are in the module docstring.
    """

    def __init__(self, input_size: int, hidden_size: int, dtype: Any = np.float64,
                 seed: int = 0, forget_bias: float = 3.0) -> None:
        self.input_size = checks.positive_int("input_size", input_size)
        self.hidden_size = checks.positive_int("hidden_size", hidden_size)
        self.dtype = checks.float_dtype(dtype)
        if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
            raise TypeError(f"seed must be a non-negative int, got {type(seed).__name__}")
        if seed < 0:
            raise ValueError(f"seed must be a non-negative int, got {seed}")
        if isinstance(forget_bias, bool) or not isinstance(forget_bias, (int, float)):
            raise TypeError(f"forget_bias must be a float, got {type(forget_bias).__name__}")
        if not math.isfinite(forget_bias):
            raise ValueError(f"forget_bias must be finite, got {forget_bias}")
        self._shapes = slstm_shapes(self.input_size, self.hidden_size)
        rng = np.random.default_rng(int(seed))
        bound = 1.0 / math.sqrt(self.hidden_size)
        params = {k: rng.uniform(-bound, bound, size=s) for k, s in self._shapes.items()}
        params["bias"][self.hidden_size:2 * self.hidden_size] += forget_bias  # f near 1
        self.params: dict[str, np.ndarray] = {k: v.astype(self.dtype) for k, v in params.items()}
        self.grads: dict[str, np.ndarray] = {}
        self.d_initial_states: np.ndarray | None = None
        self._cache: dict[str, Any] | None = None

    # ----------------------------------------------------------------------- parameters
    def state_dict(self) -> dict[str, np.ndarray]:
        """Copies of the parameters, keys ``weight_ih``, ``weight_hh``, ``bias``: load them
        into the recipe's SLSTM with ``{k: torch.from_numpy(v) for k, v in ...}``."""
        return {k: v.copy() for k, v in self.params.items()}

    def load_state_dict(self, state_dict: Mapping[str, Any],
                        strict: bool = True) -> IncompatibleKeys:
        """Copy parameters from a dict of NumPy arrays or torch tensors (the recipe's SLSTM's
        ``state_dict()``), cast to this layer's dtype. A missing or unexpected key, or a
        wrong shape, is a ValueError (with ``strict=False`` only the shape); returns the
        missing and unexpected keys, as torch does."""
        return load_params(self.params, state_dict, self._shapes, self.dtype,
                           type(self).__name__, strict)

    def num_parameters(self) -> int:
        """Total number of scalar parameters: 4H (I + H + 1)."""
        return sum(v.size for v in self.params.values())

    # ----------------------------------------------------------------------- forward
    def forward(self, x: np.ndarray, states: np.ndarray | None = None,
                ) -> tuple[np.ndarray, np.ndarray]:
        """Run the layer over ``x``.

        x: (B, T, I) float array; states: None (zeros) or (4, B, H) = y, c, n, m to start
        from. Returns ``(output (B, T, H), states (4, B, H))``: y at every step, and the
        four states after the last step. Keeps what ``backward`` needs.
        """
        checks.array("x", x, (None, None, self.input_size), "(B, T, I)")
        batch, steps, _ = x.shape
        H = self.hidden_size
        if states is None:
            start = np.zeros((4, batch, H), self.dtype)
        else:
            checks.array("states", states, (4, batch, H), "(4, B, H)")
            start = np.array(states, dtype=self.dtype, copy=True)
        xs = np.asarray(x, dtype=self.dtype)
        W_ih, W_hh, bias = self.params["weight_ih"], self.params["weight_hh"], self.params["bias"]
        wx = xs @ W_ih.T + bias                                  # (B, T, 4H): input part + b
        y, c, n, m = start
        steps_cache = []
        outputs = np.empty((batch, steps, H), self.dtype)
        for t in range(steps):
            s = _slstm_step(wx[:, t] + y @ W_hh.T, c, n, m)
            s.update(y_prev=y, c_prev=c, n_prev=n)
            steps_cache.append(s)
            y, c, n, m = s["y"], s["c"], s["n"], s["m"]
            outputs[:, t] = y
        self._cache = {"x": xs, "steps": steps_cache}
        return outputs, np.stack((y, c, n, m))

    __call__ = forward

    # ----------------------------------------------------------------------- backward
    def backward(self, d_output: np.ndarray, d_states: np.ndarray | None = None) -> np.ndarray:
        """Gradients for the last ``forward``, by backpropagation through time.

        d_output: (B, T, H), dL/doutput; d_states: None (zero) or (4, B, H), dL/d(the
        returned states y, c, n, m). Returns dx (B, T, I); fills ``grads`` (weight_ih
        (4H, I), weight_hh (4H, H), bias (4H)) and ``d_initial_states`` (4, B, H), dL/d(the
        states the forward started from). The equations are in the module docstring.
        """
        if self._cache is None:
            raise ValueError("backward called before forward: run forward(x) first")
        xs, steps_cache = self._cache["x"], self._cache["steps"]
        batch, steps, _ = xs.shape
        H = self.hidden_size
        checks.array("d_output", d_output, (batch, steps, H), "(B, T, H)")
        d_out = np.asarray(d_output, dtype=self.dtype)
        if d_states is None:
            dy, dc, dn, dm = np.zeros((4, batch, H), self.dtype)
        else:
            checks.array("d_states", d_states, (4, batch, H), "(4, B, H)")
            dy, dc, dn, dm = np.array(d_states, dtype=self.dtype, copy=True)
        W_hh = self.params["weight_hh"]
        d_raw = np.empty((batch, steps, 4 * H), self.dtype)
        for t in reversed(range(steps)):
            s = steps_cache[t]
            dy = dy + d_out[:, t]                                 # from the loss and step t+1
            o, n_new, ratio = s["o"], s["n"], s["c"] / s["n"]      # y' = o c'/n'
            d_o_raw = dy * ratio * o * (1 - o)                     # do~ = dy (c'/n') o (1 - o)
            dc = dc + dy * o / n_new                               # dc += dy o / n'
            dn = dn - dy * o * ratio / n_new                       # dn -= dy o c' / n'^2
            i, f = s["i"], s["f"]
            d_z_raw = dc * i * (1 - s["tanh_z"] ** 2)             # c' = f c + i tanh(z~)
            di = dc * s["tanh_z"] + dn                             # n' = f n + i
            df = dc * s["c_prev"] + dn * s["n_prev"]
            da_i = np.where(s["free_i"], di * i, 0)                # i = min(exp(i~ - m'), 1)
            da_f = np.where(s["free_f"], df * f, 0)                # f = min(exp(L - m'), 1)
            dm = dm - da_i - da_f                                  # both read -m'
            d_i_raw = da_i + np.where(s["take_i"], dm, 0)          # m' = i~ or L
            d_l = da_f + np.where(s["take_i"], 0, dm)
            d_f_raw = d_l * _sigmoid(-s["f_raw"])                  # L = m + log sigmoid(f~)
            d_raw[:, t] = np.concatenate((d_i_raw, d_f_raw, d_z_raw, d_o_raw), axis=1)
            dy = d_raw[:, t] @ W_hh                                # raw reads y_prev W_hh^T
            dc, dn, dm = dc * f, dn * f, d_l                       # to c, n, m of step t-1
        y_prev = np.stack([s["y_prev"] for s in steps_cache], axis=1)   # (B, T, H)
        self.grads = {
            "weight_ih": np.einsum("btg,bti->gi", d_raw, xs),
            "weight_hh": np.einsum("btg,bth->gh", d_raw, y_prev),
            "bias": d_raw.sum(axis=(0, 1)),
        }
        self.d_initial_states = np.stack((dy, dc, dn, dm))
        return d_raw @ self.params["weight_ih"]


# ---------------------------------------------------------------------------- mLSTM

def _check_mlstm(q: Any, k: Any, v: Any, i_pre: Any, f_pre: Any) -> np.dtype:
    checks.array("q", q, (None, None, None, None), "(B, NH, S, DH)")
    shape = q.shape
    checks.array("k", k, shape, "(B, NH, S, DH)")
    checks.array("v", v, shape, "(B, NH, S, DH)")
    checks.array("igate_preact", i_pre, (*shape[:3], 1), "(B, NH, S, 1)")
    checks.array("fgate_preact", f_pre, (*shape[:3], 1), "(B, NH, S, 1)")
    return _dtype(q, k, v, i_pre, f_pre)


def mlstm_parallel(q: np.ndarray, k: np.ndarray, v: np.ndarray, igate_preact: np.ndarray,
                   fgate_preact: np.ndarray, eps: float = 1e-6) -> np.ndarray:
    """The mLSTM over a whole sequence at once (xlstm 2.0.6's ``parallel_stabilized_simple``).

    q, k, v: (B, NH, S, DH) float arrays; igate_preact, fgate_preact: (B, NH, S, 1), the
    gates' pre-activations i~, f~; eps: a float >= 0. Returns h~ (B, NH, S, DH) (the
    equations in the module docstring: each row of D divided by exp(m_t) first, so that no
    exponential overflows). float32 when every input is float32.
    """
    dt = _check_mlstm(q, k, v, igate_preact, fgate_preact)
    eps = _eps(eps)
    q, k, v, i_pre, f_pre = (a.astype(dt, copy=False)
                             for a in (q, k, v, igate_preact, fgate_preact))
    S, DH = q.shape[-2], q.shape[-1]
    cum = np.cumsum(_logsigmoid(f_pre[..., 0]), axis=-1)                 # (B, NH, S)
    log_fg = cum[..., :, None] - cum[..., None, :]                       # sum_{r=s+1..t}
    causal = np.tril(np.ones((S, S), bool))
    log_d = np.where(causal, log_fg, -np.inf) + np.swapaxes(i_pre, -2, -1)  # (B, NH, S, S)
    m = log_d.max(axis=-1, keepdims=True)                                # (B, NH, S, 1)
    c = (q @ np.swapaxes(k / math.sqrt(DH), -2, -1)) * np.exp(log_d - m)
    normaliser = np.maximum(np.abs(c.sum(axis=-1, keepdims=True)), np.exp(-m))
    return (c / (normaliser + eps)) @ v


def mlstm_step(c: np.ndarray, n: np.ndarray, m: np.ndarray, q: np.ndarray, k: np.ndarray,
               v: np.ndarray, i_pre: np.ndarray, f_pre: np.ndarray, eps: float = 1e-6,
               ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """One mLSTM step (xlstm 2.0.6's ``recurrent_step_stabilized_simple``, shapes without
    the length-1 time axis).

    c: (B, NH, DH, DH), n: (B, NH, DH), m: (B, NH, 1), the states; q, k, v: (B, NH, DH);
    i_pre, f_pre: (B, NH, 1), the gates' pre-activations; eps: a float >= 0. Returns
    ``(h (B, NH, DH), c', n', m')`` (the equations in the module docstring).
    """
    checks.array("q", q, (None, None, None), "(B, NH, DH)")
    B, NH, DH = q.shape
    checks.array("k", k, (B, NH, DH), "(B, NH, DH)")
    checks.array("v", v, (B, NH, DH), "(B, NH, DH)")
    checks.array("c", c, (B, NH, DH, DH), "(B, NH, DH, DH)")
    checks.array("n", n, (B, NH, DH), "(B, NH, DH)")
    checks.array("m", m, (B, NH, 1), "(B, NH, 1)")
    checks.array("i_pre", i_pre, (B, NH, 1), "(B, NH, 1)")
    checks.array("f_pre", f_pre, (B, NH, 1), "(B, NH, 1)")
    return _mlstm_step(c, n, m, q, k, v, i_pre, f_pre, _eps(eps),
                       _dtype(c, n, m, q, k, v, i_pre, f_pre))


def _mlstm_step(c: np.ndarray, n: np.ndarray, m: np.ndarray, q: np.ndarray, k: np.ndarray,
                v: np.ndarray, i_pre: np.ndarray, f_pre: np.ndarray, eps: float,
                dt: np.dtype) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    c, n, m, q, k, v, i_pre, f_pre = (a.astype(dt, copy=False)
                                      for a in (c, n, m, q, k, v, i_pre, f_pre))
    log_f = _logsigmoid(f_pre)
    m_new = np.maximum(log_f + m, i_pre)
    f, i = np.exp(log_f + m - m_new), np.exp(i_pre - m_new)
    k = k / math.sqrt(k.shape[-1])
    c_new = f[..., None] * c + i[..., None] * (k[..., :, None] * v[..., None, :])
    n_new = f * n + i * k
    denominator = np.maximum(np.abs((q * n_new).sum(axis=-1, keepdims=True)), np.exp(-m_new))
    h = (q[..., None, :] @ c_new)[..., 0, :] / (denominator + eps)
    return h, c_new, n_new, m_new


def mlstm_recurrent(q: np.ndarray, k: np.ndarray, v: np.ndarray, igate_preact: np.ndarray,
                    fgate_preact: np.ndarray, eps: float = 1e-6) -> np.ndarray:
    """The mLSTM stepped through time from a zero state (C = 0, n = 0, m = 0) with
    ``mlstm_step``: the same arguments and result as ``mlstm_parallel`` (equal up to how
    eps enters; see the module docstring)."""
    dt = _check_mlstm(q, k, v, igate_preact, fgate_preact)
    eps = _eps(eps)
    B, NH, S, DH = q.shape
    c = np.zeros((B, NH, DH, DH), dt)
    n = np.zeros((B, NH, DH), dt)
    m = np.zeros((B, NH, 1), dt)
    h = np.empty((B, NH, S, DH), dt)
    for t in range(S):
        h[:, :, t], c, n, m = _mlstm_step(c, n, m, q[:, :, t], k[:, :, t], v[:, :, t],
                                          igate_preact[:, :, t], fgate_preact[:, :, t], eps,
                                          dt)
    return h


__all__ = ["slstm_pointwise", "SLSTM", "mlstm_parallel", "mlstm_step", "mlstm_recurrent"]
