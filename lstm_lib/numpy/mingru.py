"""minGRU in NumPy: the loop, the parallel log-space scan, and a hand-written backward.

minGRU (Feng et al. 2024, "Were RNNs all we needed?") is the GRU with the previous state
taken out of its gate and its candidate. For a batch, with ``W`` (2H, I) and ``b`` (2H) in
blocks z, h (``linear.weight``, ``linear.bias``: the state_dict of the torch recipe's
``lstm_lib.recipes.state_tracking.MinGRU``)::

    k_t  = x_t W_z^T + b_z,   p_t = x_t W_h^T + b_h          (B, H) each
    z_t  = sigmoid(k_t)                                      the update gate
    h~_t = g(p_t),   g(p) = p + 1/2 (p >= 0), sigmoid(p) (p < 0)    positive, continuous
    h_t  = (1 - z_t) h_{t-1} + z_t h~_t                      h_{-1} = h0 (zeros by default)

The gate and the candidate read x alone, so the recurrence is *linear* in h:
``h_t = c_t h_{t-1} + b_t`` with ``c_t = 1 - z_t`` and ``b_t = z_t h~_t``, both known for
every step before the first one is computed. Unrolled, ``h_t = A_t (h0 + sum_{s<=t} b_s /
A_s)`` with ``A_t = prod_{r<=t} c_r``: a prefix scan. Every factor is positive (h0 too, which
is why h0 must be positive), so it runs in log space (Heinsen 2023)::

    a_t     = sum_{r<=t} log(1 - z_r)                        (cumsum; log(1 - z) = -softplus(k))
    log h_t = a_t + logcumsumexp_{s<=t}(log b_s - a_s)       log b_s = -softplus(-k_s) + log g(p_s)

with h0 entered as a step s = -1 of coefficient 1 and ``b = h0``. ``mode="sequential"`` runs
the loop, ``mode="parallel"`` (the default, as the recipe's) the scan; they agree to
round-off. Round-off of the scan: ``a_t`` and the logcumsumexp grow like t, and their sum
(log h_t, of moderate size) is their difference, so the scan's relative error in h_t is about
``eps * |a_t|``: 1e-11 in float64 after 2000 steps of gates near 1 (|a_t| ~ 6e4), but 1e-3
in float32. The loop's error does not grow so.

``logcumsumexp`` is ``np.logaddexp.accumulate``: each step ``logaddexp(u, v) = max(u, v) +
log1p(exp(-|u - v|))`` exponentiates only numbers <= 0, so nothing overflows however large the
values (and -inf, a log of 0, is its identity).

Backward. The loss reaches h_t directly (``d_output[:, t]``, and ``d_h_n`` at the last step)
and through h_{t+1}; with dh_t the total gradient w.r.t. h_t, from t = T-1 down to 0::

    dh_{T-1} = d_output_{T-1} + d_h_n
    dh_t     = d_output_t + (1 - z_{t+1}) dh_{t+1}            the linear recurrence, backwards
    dk_t     = dh_t (h~_t - h_{t-1}) z_t (1 - z_t)            dh_t/dz_t = h~_t - h_{t-1}; sigmoid'
    dp_t     = dh_t z_t g'(p_t),  g'(p) = 1 (p >= 0), sigmoid(p) (1 - sigmoid(p)) (p < 0)
    d_h0     = (1 - z_0) dh_0
    dW = sum_{b,t} [dk_t, dp_t]^T x_t     db = sum_{b,t} [dk_t, dp_t]     dx_t = [dk_t, dp_t] W

The backward is that of the function both modes compute: the same whichever mode ran.
(At exactly p = 0 torch's autograd through the recipe's parallel ``log_g`` gives g'(0) = 0,
through its loop 1; this module uses 1, the right derivative, in both.)

Initialisation, shared with the torch twin (``lstm_lib.torch.MinGRU``): from
``np.random.default_rng(seed)``, in float64 and in the order ``linear.weight``,
``linear.bias``, each uniform in +-1/sqrt(input_size) (``torch.nn.Linear``'s bound); then
cast to ``dtype``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from lstm_lib import checks
from lstm_lib.numpy._stack import IncompatibleKeys, load_params

MODES = ("parallel", "sequential")


def mingru_shapes(input_size: int, hidden_size: int) -> dict[str, tuple[int, ...]]:
    """The parameters' shapes, in the order they are drawn: ``linear.weight`` (2H, I),
    ``linear.bias`` (2H,) (the recipe's state_dict keys)."""
    return {"linear.weight": (2 * hidden_size, input_size), "linear.bias": (2 * hidden_size,)}


def mingru_init(input_size: int, hidden_size: int, dtype: Any, seed: int) -> dict[str, np.ndarray]:
    """Seeded initial parameters of minGRU (both twins call this).

    Draws in float64 from ``np.random.default_rng(seed)``, ``linear.weight`` (2H, I) then
    ``linear.bias`` (2H,), each uniform in [-1/sqrt(I), 1/sqrt(I)], then casts to ``dtype``."""
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed must be a non-negative int, got {seed!r}")
    dt = checks.float_dtype(dtype)
    input_size = checks.positive_int("input_size", input_size)
    hidden_size = checks.positive_int("hidden_size", hidden_size)
    rng = np.random.default_rng(int(seed))
    bound = 1.0 / np.sqrt(input_size)
    return {k: rng.uniform(-bound, bound, size=s).astype(dt)
            for k, s in mingru_shapes(input_size, hidden_size).items()}


def check_mode(mode: Any) -> str:
    """``mode`` if it is "parallel" or "sequential", else a ValueError naming both."""
    if not isinstance(mode, str) or mode not in MODES:
        raise ValueError(f"mode must be 'parallel' or 'sequential', got {mode!r}")
    return mode


def softplus(x: np.ndarray) -> np.ndarray:
    """log(1 + exp(x)), elementwise, without overflow (``np.logaddexp(0, x)``); x's dtype."""
    return np.logaddexp(x.dtype.type(0), x)


def logcumsumexp(v: np.ndarray, axis: int = 1) -> np.ndarray:
    """log(cumsum(exp(v))) along ``axis``, stably: ``np.logaddexp.accumulate``.

    Each step is ``logaddexp(u, w) = max(u, w) + log1p(exp(-|u - w|))``, so only numbers
    <= 0 are exponentiated: no overflow for any finite v, and -inf (log 0) adds nothing.
    Same shape and dtype as ``v``."""
    return np.logaddexp.accumulate(v, axis=axis)


def log_g(p: np.ndarray) -> np.ndarray:
    """log g(p): log(p + 1/2) for p >= 0, log sigmoid(p) = -softplus(-p) for p < 0."""
    return np.where(p >= 0, np.log(np.maximum(p, 0) + 0.5), -softplus(-p))


class MinGRU:
    """minGRU in NumPy, batch-first, with the parallel scan and a hand-written backward.

    ``MinGRU(input_size, hidden_size, dtype=np.float64, seed=0)``. Parameters (``params``,
    ``state_dict()``): ``linear.weight`` (2H, I) and ``linear.bias`` (2H,), blocks z, h: the
    keys of the recipe's ``MinGRU`` and of the torch twin ``lstm_lib.torch.MinGRU``, which
    holds the same weights for the same arguments.

    ``forward(x (B, T, I), h0=None, mode="parallel")`` returns ``(output (B, T, H), h_n
    (1, B, H))``; h0 (1, B, H) must be positive (zeros when None). ``backward(d_output,
    d_h_n=None)`` returns dx (B, T, I), fills ``grads`` (the state_dict's keys; what
    ``lstm_lib.numpy.optim.Adam`` takes) and sets ``d_h0`` (1, B, H) to the gradient w.r.t.
    h0 when h0 was given (None otherwise). The equations are in this module's docstring.
    """

    def __init__(self, input_size: int, hidden_size: int, dtype: Any = np.float64,
                 seed: int = 0) -> None:
        self.input_size = checks.positive_int("input_size", input_size)
        self.hidden_size = checks.positive_int("hidden_size", hidden_size)
        self.dtype = checks.float_dtype(dtype)
        self._shapes = mingru_shapes(self.input_size, self.hidden_size)
        self.params: dict[str, np.ndarray] = mingru_init(
            self.input_size, self.hidden_size, self.dtype, seed)
        self.grads: dict[str, np.ndarray] = {}
        self.d_h0: np.ndarray | None = None
        self._cache: dict[str, Any] | None = None

    # ----------------------------------------------------------------------- parameters
    def state_dict(self) -> dict[str, np.ndarray]:
        """Copies of the parameters, keys ``linear.weight`` (2H, I), ``linear.bias`` (2H,)."""
        return {k: v.copy() for k, v in self.params.items()}

    def load_state_dict(self, state_dict: dict[str, Any], strict: bool = True) -> IncompatibleKeys:
        """Copy parameters from a dict of NumPy arrays or torch tensors (the keys and shapes
        of ``state_dict()``). ``strict`` as ``torch.nn.Module.load_state_dict``: ``True``
        rejects a missing or unexpected key (ValueError); ``False`` loads the keys it knows.
        Returns the missing and unexpected keys, as torch does."""
        return load_params(self.params, state_dict, self._shapes, self.dtype,
                           type(self).__name__, strict)

    def num_parameters(self) -> int:
        """Total number of scalar parameters: 2H (I + 1)."""
        return sum(v.size for v in self.params.values())

    # ----------------------------------------------------------------------- forward
    def forward(self, x: np.ndarray, h0: np.ndarray | None = None,
                mode: str = "parallel") -> tuple[np.ndarray, np.ndarray]:
        """Run minGRU over a batch of sequences.

        x: (B, T, I) float array; h0: None (zeros) or a positive (1, B, H) float array;
        mode: "parallel" (the log-space scan) or "sequential" (the loop), which give the
        same result to round-off. Returns (output (B, T, H): every h_t, h_n (1, B, H): the
        last). Arrays are cast to the layer's dtype.
        """
        check_mode(mode)
        checks.array("x", x, (None, None, self.input_size), "(B, T, I)")
        batch, steps, _ = x.shape
        H = self.hidden_size
        start = None
        if h0 is not None:
            checks.array("h0", h0, (1, batch, H), "(1, B, H)")
            start = np.asarray(h0, dtype=self.dtype)[0]                 # (B, H)
            if not (start > 0).all():
                raise ValueError(f"h0 must be positive (the scan takes its log), got min "
                                 f"{start.min()!r}")
        xs = np.asarray(x, dtype=self.dtype)
        W, b = self.params["linear.weight"], self.params["linear.bias"]
        pre = xs @ W.T + b                                              # (B, T, 2H)
        k, p = pre[..., :H], pre[..., H:]
        log_c = -softplus(k)                                            # log(1 - z_t)
        log_z = -softplus(-k)                                           # log z_t
        z = np.exp(log_z)                   # z and 1 - z from their logs: both to full
        c = np.exp(log_c)                   # relative precision, for gates near 0 or 1
        sig_p = np.exp(-softplus(-p))                                   # sigmoid(p)
        positive = p >= 0
        h_tilde = np.where(positive, p + 0.5, sig_p)                    # g(p_t)
        if mode == "sequential":
            output = self._loop(c, z * h_tilde, start)
        else:
            output = self._scan(log_c, log_z + log_g(p), start)
        dg = np.where(positive, 1.0, sig_p * (1.0 - sig_p)).astype(self.dtype)  # g'(p_t)
        self._cache = {"x": xs, "z": z, "c": c, "h_tilde": h_tilde, "dg": dg,
                       "output": output, "h0": start}
        self.d_h0 = None
        return output, output[:, -1][None].copy()

    __call__ = forward

    def _loop(self, c: np.ndarray, bt: np.ndarray, start: np.ndarray | None) -> np.ndarray:
        """h_t = c_t h_{t-1} + b_t, step by step (time-major inside); (B, T, H)."""
        batch, steps, H = c.shape
        ct = np.ascontiguousarray(c.transpose(1, 0, 2))
        bt_ = np.ascontiguousarray(bt.transpose(1, 0, 2))
        out = np.empty((steps, batch, H), self.dtype)
        h = np.zeros((batch, H), self.dtype) if start is None else start
        for t in range(steps):
            h = np.multiply(ct[t], h, out=out[t])
            h += bt_[t]
        return out.transpose(1, 0, 2)

    def _scan(self, log_c: np.ndarray, log_b: np.ndarray,
              start: np.ndarray | None) -> np.ndarray:
        """The same recurrence as a prefix scan in log space (Heinsen 2023); (B, T, H)."""
        if start is not None:  # h0 as a step before the first: coefficient 1 (log 0), b = h0
            log_c = np.concatenate([np.zeros_like(log_c[:, :1]), log_c], axis=1)
            log_b = np.concatenate([np.log(start)[:, None], log_b], axis=1)
        a = np.cumsum(log_c, axis=1)                                    # a_t = sum log(1 - z)
        output = np.exp(a + logcumsumexp(log_b - a, axis=1))
        return output if start is None else output[:, 1:]

    # ----------------------------------------------------------------------- backward
    def backward(self, d_output: np.ndarray, d_h_n: np.ndarray | None = None) -> np.ndarray:
        """Gradients for the last ``forward`` (either mode: the same function).

        d_output: (B, T, H), dL/doutput; d_h_n: None (zero) or (1, B, H), dL/dh_n (added to
        the last step's). Returns dx (B, T, I); fills ``grads`` with ``linear.weight``
        (2H, I) and ``linear.bias`` (2H,); sets ``d_h0`` (1, B, H) if forward had an h0,
        else None.
        """
        if self._cache is None:
            raise ValueError("backward called before forward: run forward(x) first")
        cache = self._cache
        x, z, c, h_tilde, dg = (cache[k] for k in ("x", "z", "c", "h_tilde", "dg"))
        output, start = cache["output"], cache["h0"]
        batch, steps, H = output.shape
        checks.array("d_output", d_output, (batch, steps, H), "(B, T, H)")
        dout = np.asarray(d_output, dtype=self.dtype)
        # dh_t = d_output_t + (1 - z_{t+1}) dh_{t+1}: the loop, time-major
        dh = np.ascontiguousarray(dout.transpose(1, 0, 2))              # (T, B, H), a copy
        if d_h_n is not None:
            checks.array("d_h_n", d_h_n, (1, batch, H), "(1, B, H)")
            dh[-1] += np.asarray(d_h_n, dtype=self.dtype)[0]
        ct = np.ascontiguousarray(c.transpose(1, 0, 2))
        for t in range(steps - 2, -1, -1):
            dh[t] += ct[t + 1] * dh[t + 1]
        dh = dh.transpose(1, 0, 2)                                      # (B, T, H)
        prev = np.empty_like(output)                                    # h_{t-1}
        prev[:, 1:] = output[:, :-1]
        prev[:, 0] = 0.0 if start is None else start
        dpre = np.empty((batch, steps, 2 * H), self.dtype)
        dpre[..., :H] = dh * (h_tilde - prev) * z * c                   # dk_t
        dpre[..., H:] = dh * z * dg                                     # dp_t
        flat = dpre.reshape(batch * steps, 2 * H)
        self.grads = {
            "linear.weight": flat.T @ x.reshape(batch * steps, self.input_size),
            "linear.bias": flat.sum(axis=0),
        }
        self.d_h0 = None if start is None else (c[:, 0] * dh[:, 0])[None]
        return dpre @ self.params["linear.weight"]                      # dx_t = [dk, dp] W

    def __repr__(self) -> str:
        return (f"{type(self).__name__}(input_size={self.input_size}, "
                f"hidden_size={self.hidden_size}, dtype={self.dtype.name})")
