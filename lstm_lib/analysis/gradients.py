"""Gradients through time: how far back the loss reaches.

The chapter on vanishing and exploding gradients measures one thing again and again: the
norm of the gradient of a loss taken at the last step ``T`` with respect to the hidden (or
cell) state at every earlier step ``t``, as a function of the lag ``T - t``.

- :func:`numpy_step_grad_norms` reads it from a NumPy layer's hand-written backward
  (``.step_grads``); :func:`torch_step_grad_norms` from torch autograd on the per-step
  states that a ``lstm_lib.torch`` layer keeps in ``.steps``. The loss is the same for both:
  ``L = sum_b <u_b, s_T,b>`` for a fixed direction ``u`` and the last state ``s_T`` (``h`` or,
  for the LSTM, ``c``), so ``dL/ds_T = u``. :func:`lag_profile` turns such norms into one
  curve against the lag; :func:`forget_gate_path` is the LSTM's direct cell-state path.
- :func:`scaled_orthogonal` and :func:`set_spectral_radius` build recurrent weight matrices
  with a chosen spectral radius; :func:`spectral_radius` measures it.
- :func:`linear_theory` and :func:`meanfield_rates` are the theory the measurements are
  compared with; :func:`decay_rate` fits the measured per-step rate.

How to keep the gradient bounded (the global norm, clipping by it) is training code:
``lstm_lib.training.clipping``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from lstm_lib import checks

# --------------------------------------------------------------------------- weight matrices


def spectral_radius(w: np.ndarray) -> float:
    """The largest modulus of an eigenvalue of a square matrix ``w`` (n, n)."""
    w = checks.array("w", w, (None, None), "(n, n)")
    if w.shape[0] != w.shape[1]:
        raise ValueError(f"w must be square (n, n), got shape {w.shape}")
    return float(np.max(np.abs(np.linalg.eigvals(w))))


def set_spectral_radius(w: np.ndarray, rho: float) -> np.ndarray:
    """Return ``w`` (n, n) rescaled so that its spectral radius is ``rho`` (> 0).

    Rescaling multiplies every eigenvalue by the same factor, so the eigenvectors (and the
    shape of the spectrum) are kept. Raises ``ValueError`` if ``w`` has spectral radius 0.
    """
    rho = checks.positive_float("rho", rho)
    current = spectral_radius(w)
    if current == 0.0:
        raise ValueError("w has spectral radius 0 (nilpotent or zero); it cannot be rescaled")
    return w * (rho / current)


def scaled_orthogonal(n: int, rho: float, seed: int = 0, dtype: Any = np.float64) -> np.ndarray:
    """``rho * Q`` for a random orthogonal ``Q`` (n, n), seeded; returns (n, n).

    Every eigenvalue of ``rho * Q`` has modulus ``rho`` *and* every singular value equals
    ``rho``: ``||(rho Q)^k v|| = rho^k ||v||`` exactly for every vector ``v`` and every ``k``.
    For a general matrix with spectral radius ``rho`` this holds only asymptotically.
    ``Q`` is drawn uniformly (Haar measure): the QR factors of a Gaussian matrix, with the
    signs of R's diagonal moved into Q.
    """
    n = checks.positive_int("n", n)
    rho = checks.positive_float("rho", rho)
    dt = checks.float_dtype(dtype)
    rng = np.random.default_rng(seed)
    q, r = np.linalg.qr(rng.standard_normal((n, n)))
    q = q * np.sign(np.diag(r))
    return (rho * q).astype(dt)


# ----------------------------------------------------------------------------- measurement


def _direction(u: Any, batch: int, hidden: int) -> np.ndarray:
    """Validate the loss direction ``u`` (B, H) and return it as float64."""
    u = checks.array("u", u, (batch, hidden), "(B, H)")
    return np.asarray(u, dtype=np.float64)


def numpy_step_grad_norms(layer: Any, x: np.ndarray, u: np.ndarray, loss_at: str = "h",
                          wrt: str | None = None, state: Any = None) -> np.ndarray:
    """Norms of ``dL/ds_t`` for every step from a NumPy layer's hand-written backward.

    ``layer``: a single-layer, one-direction ``lstm_lib.numpy.RNN`` or ``LSTM``;
    ``x`` (B, T, I); ``u`` (B, H): the loss is ``L = sum_b <u_b, s_T,b>`` where ``s`` is the
    state named by ``loss_at`` (``"h"``, or ``"c"`` for the LSTM). ``wrt`` names the state
    whose gradient is measured (``"h"`` or ``"c"``; default: the same as ``loss_at``).
    Returns ``(B, T)`` float64: entry ``[b, t]`` is ``||dL/ds_t||`` for example ``b`` (the
    total derivative, through every path from step ``t`` to the loss).
    """
    wrt = loss_at if wrt is None else wrt
    is_lstm = _check_layer(layer, loss_at, wrt)
    out, _ = layer.forward(x, state)
    batch, _, hidden = out.shape
    u = _direction(u, batch, hidden).astype(out.dtype)
    d_out = np.zeros_like(out)
    zeros = np.zeros((1, batch, hidden), dtype=out.dtype)
    if loss_at == "h":
        d_out[:, -1, :] = u
        layer.backward(d_out)
    else:
        layer.backward(d_out, (zeros, u[None]))
    grads = _numpy_state_grads(layer, wrt, is_lstm)  # (B, T, H)
    return np.linalg.norm(grads.astype(np.float64), axis=-1)


def torch_step_grad_norms(module: Any, x: Any, u: Any, loss_at: str = "h",
                          wrt: str | None = None, state: Any = None) -> np.ndarray:
    """The same as :func:`numpy_step_grad_norms`, from torch autograd.

    ``module``: a single-layer, one-direction ``lstm_lib.torch.RNN`` or ``LSTM``; ``x``
    (B, T, I) tensor or array; ``u`` (B, H). After a forward, the module's ``.steps`` holds
    the state tensors of every step, inside the autograd graph; ``torch.autograd.grad`` of
    the loss with respect to them is the total derivative ``dL/ds_t``. Returns ``(B, T)``
    float64 NumPy norms.
    """
    wrt = loss_at if wrt is None else wrt
    _check_layer(module, loss_at, wrt)
    dtype = next(module.parameters()).dtype
    xt = torch.as_tensor(checks.positive_strides(x), dtype=dtype)
    module.forward(xt, state)
    h_steps, c_steps = _torch_steps(module)
    last = (h_steps if loss_at == "h" else c_steps)[-1]
    batch, hidden = last.shape
    ut = torch.as_tensor(checks.positive_strides(_direction(u, batch, hidden)), dtype=dtype)
    loss = (ut * last).sum()
    targets = h_steps if wrt == "h" else c_steps
    grads = torch.autograd.grad(loss, targets, allow_unused=True)
    norms = [
        torch.zeros(batch, dtype=torch.float64) if g is None
        else torch.linalg.vector_norm(g.double(), dim=-1)
        for g in grads
    ]
    return torch.stack(norms, dim=1).numpy()


def _check_layer(layer: Any, loss_at: str, wrt: str) -> bool:
    """Validate layer options; return True for an LSTM (a layer with a cell state)."""
    for name, value in (("loss_at", loss_at), ("wrt", wrt)):
        if value not in ("h", "c"):
            raise ValueError(f"{name} must be 'h' or 'c', got {value!r}")
    is_lstm = "c" in getattr(layer, "state_names", ("h",))
    if not is_lstm and "c" in (loss_at, wrt):
        raise ValueError(f"an RNN has no cell state; loss_at and wrt must be 'h', "
                         f"got loss_at={loss_at!r}, wrt={wrt!r}")
    if getattr(layer, "num_layers", 1) != 1 or getattr(layer, "bidirectional", False):
        raise ValueError("expected a single-layer, one-direction layer, got "
                         f"num_layers={getattr(layer, 'num_layers', 1)}, "
                         f"bidirectional={getattr(layer, 'bidirectional', False)}")
    return is_lstm


def _numpy_state_grads(layer: Any, wrt: str, is_lstm: bool) -> np.ndarray:
    """The (B, T, H) gradient w.r.t. h or c from ``layer.step_grads`` ((1, B, T, H) each)."""
    return layer.step_grads[wrt][0]


def _torch_steps(module: Any) -> tuple[list[torch.Tensor], list[torch.Tensor]]:
    """Per-step h and c tensors (lists of T tensors (B, H)) from ``module.steps``.

    ``module.steps[name][k]`` is the list for layer-direction ``k``; only ``k = 0`` exists
    here. The RNN has no ``c``: an empty list comes back for it.
    """
    steps = module.steps
    if "h" not in steps or not steps["h"]:
        raise ValueError("the module has no recorded steps: run forward first")
    return steps["h"][0], (steps["c"][0] if "c" in steps else [])


def lag_profile(norms: np.ndarray) -> np.ndarray:
    """Relative gradient norm against lag, summarised over the batch.

    ``norms`` (B, T) positive per-step norms ``||dL/ds_t||`` (as returned by the two
    functions above). Each example is divided by its own last-step norm, then the batch is
    summarised by the geometric mean (the mean of the logs: the right average for quantities
    that change by factors). Returns (T,) float64 indexed by lag: entry ``k`` belongs to step
    ``T - 1 - k``, and entry 0 is 1.
    """
    norms = checks.array("norms", norms, (None, None), "(B, T)")
    norms = np.asarray(norms, dtype=np.float64)
    if not (norms > 0).all():
        raise ValueError("norms must be positive (a zero gradient has no lag profile)")
    rel = np.log(norms) - np.log(norms[:, -1:])
    return np.exp(rel.mean(axis=0))[::-1].copy()


def forget_gate_path(f: np.ndarray, dc_last: np.ndarray) -> np.ndarray:
    """The gradient that reaches every cell state along the direct path ``c_{t-1} -> c_t``.

    Along that path one step back multiplies by the forget gate:
    ``dc_t = f_{t+1} * f_{t+2} * ... * f_T * dc_T`` (element-wise). ``f`` (B, T, H): the
    forget gates of every step; ``dc_last`` (B, H): ``dL/dc_T``. Returns (B, T, H), whose
    last step is ``dc_last``. It equals the LSTM's full ``dL/dc_t`` when ``W_hh = 0`` (then no
    other path from ``c_t`` to the loss exists); otherwise it is one path among many.
    """
    f = checks.array("f", f, (None, None, None), "(B, T, H)")
    batch, _, hidden = f.shape
    dc_last = checks.array("dc_last", dc_last, (batch, hidden), "(B, H)")
    out = np.empty(f.shape, dtype=np.result_type(f, dc_last))
    out[:, -1] = dc_last
    for t in range(f.shape[1] - 2, -1, -1):
        out[:, t] = out[:, t + 1] * f[:, t + 1]
    return out


# ---------------------------------------------------------------------------------- theory


def linear_theory(rho: float, lags: np.ndarray, g0: float = 1.0) -> np.ndarray:
    """Gradient norm at each lag in the linear regime with ``W_hh = rho * Q``: ``g0 rho^k``.

    ``lags`` (n,) non-negative lags ``k = T - t``; returns (n,) float64. Exact when every
    ``tanh'`` factor equals 1 (the state stays at 0) and ``W_hh`` is ``rho`` times an
    orthogonal matrix; otherwise ``tanh' <= 1`` makes this an upper bound.
    """
    rho = checks.positive_float("rho", rho)
    lags = np.asarray(lags, dtype=np.float64)
    if lags.ndim != 1 or (lags < 0).any():
        raise ValueError(f"lags must be a 1-D array of non-negative lags, got shape {lags.shape}")
    return g0 * rho**lags


def meanfield_rates(h: np.ndarray, rho: float) -> np.ndarray:
    """Predicted per-step gradient factor ``rho * rms_i(1 - h_t,i^2)`` for every step.

    ``h`` (B, T, H): the hidden states of an RNN with ``W_hh = rho * Q`` (Q orthogonal).
    Back through step ``t`` the gradient ``v`` becomes ``rho Q^T diag(1 - h_t^2) v``; ``Q``
    keeps the norm, so the factor is ``rho ||diag(1 - h_t^2) v|| / ||v||``. If ``v`` points in
    a direction unrelated to the saturated units, that ratio is the root mean square of
    ``1 - h_t^2``. Returns (B, T) float64 predicted factors.
    """
    h = checks.array("h", h, (None, None, None), "(B, T, H)")
    rho = checks.positive_float("rho", rho)
    d = 1.0 - np.asarray(h, dtype=np.float64) ** 2
    return rho * np.sqrt(np.mean(d * d, axis=-1))


def decay_rate(norms: np.ndarray, lags: np.ndarray) -> float:
    """Per-step factor fitted to measured norms: ``exp(slope)`` of ``log norm`` against lag.

    ``norms`` (n,) positive gradient norms measured at ``lags`` (n,), n >= 2. A least-squares
    line through ``(lag, log norm)``; returns ``exp(slope)``, the factor by which the norm
    changes per step back in time (< 1: vanishing, > 1: exploding).
    """
    norms = np.asarray(norms, dtype=np.float64)
    lags = np.asarray(lags, dtype=np.float64)
    if norms.ndim != 1 or norms.shape != lags.shape or norms.size < 2:
        raise ValueError(f"norms and lags must be 1-D of the same length >= 2, got "
                         f"{norms.shape} and {lags.shape}")
    if not (np.isfinite(norms).all() and (norms > 0).all()):
        raise ValueError("norms must be finite and positive")
    slope = np.polyfit(lags, np.log(norms), 1)[0]
    return float(np.exp(slope))


__all__ = [
    "spectral_radius", "set_spectral_radius", "scaled_orthogonal",
    "numpy_step_grad_norms", "torch_step_grad_norms", "lag_profile", "forget_gate_path",
    "linear_theory", "meanfield_rates", "decay_rate",
]
