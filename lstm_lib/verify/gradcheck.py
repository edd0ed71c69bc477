"""Central finite differences for any NumPy layer of ``lstm_lib.numpy``.

The loss is a fixed random projection of everything the layer returns,
L = sum(R * output) + sum(R_h * h_n) [+ sum(R_c * c_n)], so every output and every final
state contributes. For each parameter (and the input, and the initial state if given) the
analytic gradient from ``backward`` is compared with (L(p + eps) - L(p - eps)) / (2 eps),
element by element.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from lstm_lib import checks


def _forward(layer: Any, x: np.ndarray, state: Any, lengths: Any) -> tuple:
    return layer.forward(x, state) if lengths is None else layer.forward(x, state, lengths)


def _loss_and_upstream(layer: Any, x: np.ndarray, state: Any, rng: np.random.Generator,
                       lengths: Any = None):
    out, final = _forward(layer, x, state, lengths)
    finals = final if isinstance(final, tuple) else (final,)
    r_out = rng.standard_normal(out.shape)
    r_fin = tuple(rng.standard_normal(f.shape) for f in finals)

    def loss(o: np.ndarray, f: Any) -> float:
        fs = f if isinstance(f, tuple) else (f,)
        return float((r_out * o).sum() + sum((r * v).sum() for r, v in zip(r_fin, fs)))

    return loss, r_out, (r_fin if len(r_fin) > 1 else r_fin[0])


def numeric_grad(f: Callable[[], float], array: np.ndarray, eps: float = 1e-6) -> np.ndarray:
    """Central differences of a scalar function with respect to every element of ``array``.

    f: takes no arguments and returns a float computed from ``array`` (and anything else).
    array: a float64 array that ``f`` reads; each element is moved by +-eps in place and
    restored. Returns an array of ``array``'s shape: (f(a + eps) - f(a - eps)) / (2 eps).
    """
    if not isinstance(array, np.ndarray) or array.dtype != np.float64:
        raise TypeError(f"array must be a float64 NumPy array, got "
                        f"{getattr(array, 'dtype', type(array).__name__)}")
    if not (isinstance(eps, float) and 0 < eps < 1):
        raise ValueError(f"eps must be a float in (0, 1), got {eps!r}")
    if not array.flags.c_contiguous:
        raise ValueError("array must be C-contiguous (it is perturbed in place through a view)")
    numeric = np.empty_like(array)
    flat, num = array.reshape(-1), numeric.reshape(-1)
    for j in range(flat.size):
        keep = flat[j]
        flat[j] = keep + eps
        up = f()
        flat[j] = keep - eps
        down = f()
        flat[j] = keep
        num[j] = (up - down) / (2 * eps)
    return numeric


def gradcheck(layer: Any, x: np.ndarray, state: Any = None, eps: float = 1e-6,
              seed: int = 0, lengths: Any = None) -> dict[str, float]:
    """Compare a float64 NumPy layer's ``backward`` with central differences.

    layer: an ``lstm_lib.numpy`` RNN, GRU or LSTM (float64); x: (B, T, I); state: optional
    initial state; lengths: None or B integers in [1, T], passed to ``forward`` (x
    right-padded). Returns, for each state_dict key, ``"input"``, and (if ``state`` is
    given) ``"h0"`` / ``"c0"``: the relative error max|analytic - numeric| / max(max|analytic|,
    max|numeric|, 1e-12). Values near 1e-9 or below mean the backward pass is right.
    """
    if getattr(layer, "dtype", None) != np.float64:
        raise TypeError(f"gradcheck needs a float64 layer, got {getattr(layer, 'dtype', None)}")
    checks.array("x", x, (None, None, layer.input_size), "(B, T, I)")
    if not (isinstance(eps, float) and 0 < eps < 1):
        raise ValueError(f"eps must be a float in (0, 1), got {eps!r}")
    x = np.array(x, dtype=np.float64)
    names = layer.state_names
    states = None if state is None else [np.array(s, dtype=np.float64) for s in
                                         ((state,) if len(names) == 1 else state)]

    def as_state(parts: list[np.ndarray] | None) -> Any:
        if parts is None:
            return None
        return parts[0] if len(parts) == 1 else tuple(parts)

    rng = np.random.default_rng(seed)
    loss, r_out, r_fin = _loss_and_upstream(layer, x, as_state(states), rng, lengths)
    dx, d_init = layer.backward(r_out, r_fin)
    analytic = {k: g.copy() for k, g in layer.grads.items()}
    analytic["input"] = dx

    targets: dict[str, np.ndarray] = dict(layer.params)
    targets["input"] = x
    if states is not None:
        d_parts = d_init if isinstance(d_init, tuple) else (d_init,)
        for name, s, g in zip(names, states, d_parts, strict=True):
            targets[f"{name}0"] = s
            analytic[f"{name}0"] = g

    def total() -> float:
        return loss(*_forward(layer, x, as_state(states), lengths))

    errors = {}
    for name, arr in targets.items():
        numeric = numeric_grad(total, arr, eps)
        a = analytic[name]
        scale = max(np.abs(a).max(), np.abs(numeric).max(), 1e-12)
        errors[name] = float(np.abs(a - numeric).max() / scale)
    _forward(layer, x, as_state(states), lengths)  # leave the cache as after a plain forward
    return errors
