"""Bahdanau's additive attention in NumPy: forward and hand-written backward.

A query q (the decoder's state, size Hq) scores each of T keys k_t (the encoder's outputs,
size Hk); a softmax over the steps turns the scores into weights, and the context is the
weighted sum of the keys (Bahdanau, Cho and Bengio, 2015)::

    u_t = tanh(W_q q + W_k k_t)          (A,)    W_q (A, Hq), W_k (A, Hk); no biases
    s_t = v^T u_t                        scalar  v (A,)
    a_t = exp(s_t) / sum_j exp(s_j)      the weights, over the steps t = 0 .. T-1
    c   = sum_t a_t k_t                  (Hk,)   the context

With ``lengths``, step t of a sequence of length L is padding when t >= L: its score is set
to -inf before the softmax, so its weight is exactly 0 and nothing flows back to it.

Backward, with dc = dL/dc and da_t = dL/da_t (from the context, plus any gradient that
reaches the weights directly)::

    da_t   = k_t . dc (+ dL/da_t given)          a_t enters c as a_t k_t
    ds_t   = a_t (da_t - sum_j a_j da_j)         the softmax's Jacobian
    du_t   = ds_t v                              s_t = v^T u_t
    dz_t   = du_t * (1 - u_t^2)                  u_t = tanh(z_t)
    dv     = sum_t ds_t u_t
    dW_q   = sum_t dz_t q^T       dW_k = sum_t dz_t k_t^T
    dq     = W_q^T sum_t dz_t     dk_t = a_t dc + W_k^T dz_t

Initialisation, shared with the torch twin (``lstm_lib.torch.AdditiveAttention``): from
``np.random.default_rng(seed)``, in float64 and in the order W_q, W_k, v, each parameter
uniform in +-1/sqrt(fan_in) (W_q: 1/sqrt(Hq), W_k: 1/sqrt(Hk), v: 1/sqrt(A)), as
``torch.nn.Linear`` bounds its weights; then cast to ``dtype``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from lstm_lib import checks
from lstm_lib.numpy._stack import IncompatibleKeys, load_params

PARAM_NAMES = ("W_q", "W_k", "v")


def attention_shapes(query_size: int, key_size: int,
                     attention_size: int) -> dict[str, tuple[int, ...]]:
    """The parameters' shapes, in the order they are drawn: W_q (A, Hq), W_k (A, Hk), v (A,)."""
    return {"W_q": (attention_size, query_size), "W_k": (attention_size, key_size),
            "v": (attention_size,)}


def attention_init(query_size: int, key_size: int, attention_size: int, dtype: Any,
                   seed: int) -> dict[str, np.ndarray]:
    """Seeded initial parameters of additive attention (both twins call this).

    Draws in float64 from ``np.random.default_rng(seed)`` in the order W_q, W_k, v, each
    uniform in [-1/sqrt(fan_in), 1/sqrt(fan_in)] with fan_in = Hq, Hk and A, then casts to
    ``dtype``. Returns a dict of NumPy arrays keyed ``W_q`` (A, Hq), ``W_k`` (A, Hk), ``v`` (A,).
    """
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed must be a non-negative int, got {seed!r}")
    dt = checks.float_dtype(dtype)
    rng = np.random.default_rng(int(seed))
    out = {}
    for name, shape in attention_shapes(query_size, key_size, attention_size).items():
        bound = 1.0 / np.sqrt(shape[-1])  # fan_in: the columns a row of W (or v) reads
        out[name] = rng.uniform(-bound, bound, size=shape).astype(dt)
    return out


def attention_sizes(query_size: int, key_size: int, attention_size: int) -> tuple[int, int, int]:
    """Validate the three sizes (positive ints; TypeError/ValueError naming the argument)."""
    return (checks.positive_int("query_size", query_size),
            checks.positive_int("key_size", key_size),
            checks.positive_int("attention_size", attention_size))


class AdditiveAttention:
    """Bahdanau's additive attention in NumPy, with a hand-written backward pass.

    ``AdditiveAttention(query_size, key_size, attention_size, dtype=np.float64, seed=0)``.
    Parameters (``params``, ``state_dict()``): ``W_q`` (A, Hq), ``W_k`` (A, Hk), ``v`` (A,),
    with A = attention_size, Hq = query_size, Hk = key_size; no biases.
    ``forward(query (B, Hq), keys (B, T, Hk), lengths=None)`` returns
    ``(context (B, Hk), weights (B, T))``; ``backward(d_context, d_weights=None)`` returns
    ``(d_query (B, Hq), d_keys (B, T, Hk))`` and fills ``grads`` (keys W_q, W_k, v).
    The equations are in this module's docstring.
    """

    def __init__(self, query_size: int, key_size: int, attention_size: int,
                 dtype: Any = np.float64, seed: int = 0) -> None:
        self.query_size, self.key_size, self.attention_size = attention_sizes(
            query_size, key_size, attention_size)
        self.dtype = checks.float_dtype(dtype)
        self._shapes = attention_shapes(self.query_size, self.key_size, self.attention_size)
        self.params: dict[str, np.ndarray] = attention_init(
            self.query_size, self.key_size, self.attention_size, self.dtype, seed)
        self.grads: dict[str, np.ndarray] = {}
        self._cache: dict[str, Any] | None = None

    # ----------------------------------------------------------------------- parameters
    def state_dict(self) -> dict[str, np.ndarray]:
        """Copies of the parameters, keys ``W_q``, ``W_k``, ``v``."""
        return {k: v.copy() for k, v in self.params.items()}

    def load_state_dict(self, state_dict: dict[str, Any],
                        strict: bool = True) -> IncompatibleKeys:
        """Copy parameters from a dict of NumPy arrays or torch tensors (keys W_q, W_k, v;
        the shapes of ``state_dict()``). A missing or unexpected key is a ValueError unless
        ``strict=False``; returns the missing and unexpected keys, as torch does."""
        return load_params(self.params, state_dict, self._shapes, self.dtype,
                           type(self).__name__, strict)

    def num_parameters(self) -> int:
        """Total number of scalar parameters: A * (Hq + Hk + 1)."""
        return sum(v.size for v in self.params.values())

    # ----------------------------------------------------------------------- forward
    def forward(self, query: np.ndarray, keys: np.ndarray,
                lengths: Any = None) -> tuple[np.ndarray, np.ndarray]:
        """Attend from ``query`` over ``keys``.

        query: (B, Hq) float array; keys: (B, T, Hk) float array (right-padded if
        ``lengths`` is given); lengths: None (all T steps are real) or B integers in [1, T]
        (array, list or tensor). Returns (context (B, Hk), weights (B, T)): the weights are
        a softmax over the steps (each row sums to 1, exactly 0 at t >= length), the
        context is sum_t weights[:, t] * keys[:, t].
        """
        checks.array("query", query, (None, self.query_size), "(B, Hq)")
        batch = query.shape[0]
        checks.array("keys", keys, (batch, None, self.key_size), "(B, T, Hk)")
        steps = keys.shape[1]
        q = np.asarray(query, dtype=self.dtype)                        # (B, Hq)
        k = np.asarray(keys, dtype=self.dtype)                         # (B, T, Hk)
        real = None
        if lengths is not None:
            lens = checks.lengths(lengths, batch, steps)
            real = np.arange(steps)[None, :] < lens[:, None]           # (B, T): t < length
        W_q, W_k, v = self.params["W_q"], self.params["W_k"], self.params["v"]
        z = (q @ W_q.T)[:, None, :] + k @ W_k.T                        # z_t = W_q q + W_k k_t
        u = np.tanh(z)                                                 # u_t = tanh(z_t)
        s = u @ v                                                      # s_t = v^T u_t  (B, T)
        if real is not None:
            s = np.where(real, s, -np.inf)                             # padding: s_t = -inf
        e = np.exp(s - s.max(axis=1, keepdims=True))                   # stable: max s_j -> 0
        a = e / e.sum(axis=1, keepdims=True)                           # a_t = softmax(s)_t
        context = np.einsum("bt,bth->bh", a, k)                        # c = sum_t a_t k_t
        self._cache = {"q": q, "k": k, "u": u, "a": a, "real": real}
        return context, a.copy()

    __call__ = forward

    # ----------------------------------------------------------------------- backward
    def backward(self, d_context: np.ndarray,
                 d_weights: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Gradients for the last ``forward``.

        d_context: (B, Hk), dL/dcontext; d_weights: None (zero) or (B, T), dL/dweights, for
        a loss that reads the weights too (its entries at padded steps are ignored: those
        weights are constant 0). Returns (d_query (B, Hq), d_keys (B, T, Hk)), d_keys exactly
        0 at padded steps; fills ``grads`` with W_q (A, Hq), W_k (A, Hk), v (A,).
        """
        if self._cache is None:
            raise ValueError("backward called before forward: run forward(query, keys) first")
        c = self._cache
        q, k, u, a, real = c["q"], c["k"], c["u"], c["a"], c["real"]
        batch, steps = a.shape
        checks.array("d_context", d_context, (batch, self.key_size), "(B, Hk)")
        dc = np.asarray(d_context, dtype=self.dtype)
        W_q, W_k, v = self.params["W_q"], self.params["W_k"], self.params["v"]
        da = np.einsum("bth,bh->bt", k, dc)                            # da_t = k_t . dc
        if d_weights is not None:
            checks.array("d_weights", d_weights, (batch, steps), "(B, T)")
            da = da + np.asarray(d_weights, dtype=self.dtype)          #  + dL/da_t given
        ds = a * (da - (a * da).sum(axis=1, keepdims=True))            # a_t (da_t - sum_j a_j da_j)
        du = ds[:, :, None] * v                                        # du_t = ds_t v
        dz = du * (1.0 - u * u)                                        # dz_t = du_t (1 - u_t^2)
        dz_sum = dz.sum(axis=1)                                        # sum_t dz_t  (B, A)
        self.grads = {
            "W_q": dz_sum.T @ q,                                       # dW_q = sum_t dz_t q^T
            "W_k": np.einsum("bta,bth->ah", dz, k),                    # dW_k = sum_t dz_t k_t^T
            "v": np.einsum("bt,bta->a", ds, u),                        # dv = sum_t ds_t u_t
        }
        d_query = dz_sum @ W_q                                         # dq = W_q^T sum_t dz_t
        d_keys = a[:, :, None] * dc[:, None, :] + dz @ W_k             # dk_t = a_t dc + W_k^T dz_t
        if real is not None:
            d_keys[~real] = 0.0  # already 0 (a_t = 0 there); set so, not left to round-off
        return d_query, d_keys
