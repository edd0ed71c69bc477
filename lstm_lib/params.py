"""Parameter names and initialisation shared by every implementation.

The layout is ``torch.nn.LSTM``'s: for layer ``l`` and direction suffix ``""`` (forward) or
``"_reverse"`` (backward), the keys are ``weight_ih_l{l}{sfx}`` (G*H, I_l),
``weight_hh_l{l}{sfx}`` (G*H, H), ``bias_ih_l{l}{sfx}`` (G*H,) and ``bias_hh_l{l}{sfx}``
(G*H,), where G = 4 gates (i, f, g, o) for the LSTM and G = 1 for the RNN, and
I_l = I for the first layer, D*H above it.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from lstm_lib import checks

DIRECTION_SUFFIXES = ("", "_reverse")


def layer_config(input_size: int, hidden_size: int, num_layers: int,
                 bidirectional: bool) -> tuple[int, int, int, int]:
    """Validate a recurrent layer's sizes; return (input_size, hidden_size, num_layers, D)
    with D = 2 if bidirectional else 1. Raises ValueError/TypeError naming the argument."""
    input_size = checks.positive_int("input_size", input_size)
    hidden_size = checks.positive_int("hidden_size", hidden_size)
    num_layers = checks.positive_int("num_layers", num_layers)
    if not isinstance(bidirectional, bool):
        raise TypeError(f"bidirectional must be a bool, got {bidirectional!r}")
    return input_size, hidden_size, num_layers, 2 if bidirectional else 1


def layer_keys(layer: int, direction: int) -> tuple[str, str, str, str]:
    """The four state_dict keys (W_ih, W_hh, b_ih, b_hh) of one layer and direction."""
    sfx = f"_l{layer}{DIRECTION_SUFFIXES[direction]}"
    return (f"weight_ih{sfx}", f"weight_hh{sfx}", f"bias_ih{sfx}", f"bias_hh{sfx}")


def shapes(
    input_size: int, hidden_size: int, num_layers: int, num_directions: int, gates: int
) -> dict[str, tuple[int, ...]]:
    """Map every state_dict key to its shape, in ``torch.nn.LSTM``'s key order."""
    out: dict[str, tuple[int, ...]] = {}
    for layer in range(num_layers):
        layer_in = input_size if layer == 0 else num_directions * hidden_size
        for d in range(num_directions):
            w_ih, w_hh, b_ih, b_hh = layer_keys(layer, d)
            out[w_ih] = (gates * hidden_size, layer_in)
            out[w_hh] = (gates * hidden_size, hidden_size)
            out[b_ih] = (gates * hidden_size,)
            out[b_hh] = (gates * hidden_size,)
    return out


def init(
    shape_of: dict[str, tuple[int, ...]], hidden_size: int, dtype: np.dtype, seed: int
) -> dict[str, np.ndarray]:
    """PyTorch's initialisation: every parameter uniform in [-1/sqrt(H), 1/sqrt(H)].

    Draws in float64 from ``np.random.default_rng(seed)`` in key order, then casts, so the
    NumPy layer and its torch twin built with the same seed hold identical weights.
    """
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed must be a non-negative int, got {seed!r}")
    hidden_size = checks.positive_int("hidden_size", hidden_size)
    rng = np.random.default_rng(int(seed))
    bound = 1.0 / np.sqrt(hidden_size)
    return {k: rng.uniform(-bound, bound, size=s).astype(dtype) for k, s in shape_of.items()}


def cell_shapes(input_size: int, hidden_size: int, gates: int) -> dict[str, tuple[int, ...]]:
    """State_dict shapes of a single cell (``torch.nn.LSTMCell`` / ``RNNCell`` keys)."""
    return {
        "weight_ih": (gates * hidden_size, input_size),
        "weight_hh": (gates * hidden_size, hidden_size),
        "bias_ih": (gates * hidden_size,),
        "bias_hh": (gates * hidden_size,),
    }


def to_torch(state_dict: dict) -> dict:
    """A state_dict of NumPy arrays as torch tensors (sharing memory), for loading into
    ``torch.nn.LSTM`` / ``nn.RNN``, whose ``load_state_dict`` accepts only tensors.
    Tensors pass through unchanged."""
    import torch

    if not hasattr(state_dict, "items"):
        raise TypeError(f"state_dict must be a mapping, got {type(state_dict).__name__}")
    return {k: (torch.from_numpy(np.ascontiguousarray(v)) if isinstance(v, np.ndarray) else v)
            for k, v in state_dict.items()}


def layer_state_dict(state_dict: Any, layer: int, reverse: bool = False) -> dict:
    """One layer and direction of a stacked (or bidirectional) state_dict, as the state_dict
    of a one-layer, one-direction LSTM or RNN: the keys ``..._l{layer}`` (or
    ``..._l{layer}_reverse``) renamed to ``..._l0``, the values unchanged (arrays or tensors).

    ``state_dict``: a mapping with ``torch.nn.LSTM``'s keys, or anything with
    ``.state_dict()`` (``nn.LSTM(num_layers=3)``, ``lstm_lib`` layers). So
    ``LSTM(I_l, H).load_state_dict(layer_state_dict(deep, l))`` gives layer ``l`` alone.
    """
    if hasattr(state_dict, "state_dict") and not hasattr(state_dict, "items"):
        state_dict = state_dict.state_dict()
    if not hasattr(state_dict, "items"):
        raise TypeError(f"state_dict must be a mapping or have .state_dict(), "
                        f"got {type(state_dict).__name__}")
    if isinstance(layer, bool) or not isinstance(layer, (int, np.integer)) or layer < 0:
        raise ValueError(f"layer must be a non-negative int, got {layer!r}")
    if not isinstance(reverse, bool):
        raise TypeError(f"reverse must be a bool, got {reverse!r}")
    wanted = layer_keys(int(layer), 1 if reverse else 0)
    missing = [k for k in wanted if k not in state_dict]
    if missing:
        raise ValueError(f"state_dict has no {missing}; its keys are {sorted(state_dict)}")
    return {new: state_dict[old] for old, new in zip(wanted, layer_keys(0, 0), strict=True)}


def param_count(input_size: int, hidden_size: int, blocks: int = 4, biases: int = 2) -> int:
    """Parameters of one recurrent layer and direction: ``blocks * (H*I + H*H + biases*H)``.

    ``blocks``: 4 for the LSTM (i, f, g, o), 3 for the GRU (r, z, n) or a coupled-gate LSTM,
    1 for a plain RNN. ``biases``: 2 as in PyTorch (``bias_ih`` and ``bias_hh``), 1 as in
    Keras, 0 without bias. Returns an int.
    """
    input_size = checks.positive_int("input_size", input_size)
    hidden_size = checks.positive_int("hidden_size", hidden_size)
    blocks = checks.positive_int("blocks", blocks)
    if isinstance(biases, bool) or not isinstance(biases, (int, np.integer)):
        raise TypeError(f"biases must be an int (0, 1 or 2), got {type(biases).__name__}")
    if biases not in (0, 1, 2):
        raise ValueError(f"biases must be 0, 1 or 2, got {biases}")
    h = hidden_size
    return blocks * (h * input_size + h * h + int(biases) * h)
