"""Layers x directions for the torch twins (the torch side of ``lstm_lib.numpy._stack``).

Parameters are registered under ``torch.nn.LSTM``'s names, so ``state_dict()`` has its keys.
A subclass supplies ``_run``: the recurrence of one direction, as a loop over time.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch import nn

from lstm_lib import checks, params


def torch_dtype(dtype: Any) -> torch.dtype:
    """float32/float64 given as NumPy or torch dtype -> the torch dtype."""
    return {"float32": torch.float32, "float64": torch.float64}[checks.float_dtype(dtype).name]


def as_tensor(name: str, x: Any, shape: tuple[int | None, ...], dims: str,
              dtype: torch.dtype) -> torch.Tensor:
    """Validate ``x`` (tensor or NumPy array) and return it as a tensor of ``dtype``."""
    checks.array(name, x, shape, dims, allow_torch=True)
    return torch.as_tensor(x).to(dtype)


class RecurrentStack(nn.Module):
    """Base of ``lstm_lib.torch.RNN`` and ``LSTM``; see those for the public contract."""

    gates: int = 1
    state_names: tuple[str, ...] = ("h",)

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1,
                 bidirectional: bool = False, dtype: Any = np.float64, seed: int = 0) -> None:
        super().__init__()
        self.input_size, self.hidden_size, self.num_layers, self.num_directions = (
            params.layer_config(input_size, hidden_size, num_layers, bidirectional))
        self.bidirectional = bidirectional
        self.dtype = torch_dtype(dtype)
        self._shapes = params.shapes(self.input_size, self.hidden_size, self.num_layers,
                                     self.num_directions, self.gates)
        np_dtype = checks.float_dtype(dtype)
        for key, value in params.init(self._shapes, self.hidden_size, np_dtype, seed).items():
            self.register_parameter(key, nn.Parameter(torch.from_numpy(value)))
        self.steps: dict[str, list[list[torch.Tensor]]] = {}

    def load_state_dict(self, state_dict: Any, strict: bool = True, assign: bool = False) -> Any:
        """Copy parameters from a dict of torch tensors or NumPy arrays (same keys/shapes)."""
        checks.state_dict(state_dict, self._shapes, type(self).__name__)
        tensors = {k: torch.as_tensor(np.asarray(v) if isinstance(v, np.ndarray) else v)
                   .detach().to(self.dtype) for k, v in state_dict.items()}
        return super().load_state_dict(tensors, strict=True, assign=assign)

    def num_parameters(self) -> int:
        """Total number of scalar parameters."""
        return sum(p.numel() for p in self.parameters())

    def _weights(self, layer: int, direction: int) -> tuple[torch.Tensor, ...]:
        return tuple(getattr(self, k) for k in params.layer_keys(layer, direction))

    def _state(self, state: Any, batch: int, what: str) -> tuple[torch.Tensor, ...]:
        shape = (self.num_directions * self.num_layers, batch, self.hidden_size)
        names = self.state_names
        if state is None:
            return tuple(torch.zeros(shape, dtype=self.dtype) for _ in names)
        if len(names) > 1 and (not isinstance(state, (tuple, list)) or len(state) != len(names)):
            raise ValueError(f"{what} must be a tuple ({', '.join(n + '_0' for n in names)}), "
                             f"got {type(state).__name__}")
        parts = (state,) if len(names) == 1 else state
        return tuple(as_tensor(f"{what} {n}", s, shape, "(D*num_layers, B, H)", self.dtype)
                     for n, s in zip(names, parts, strict=True))

    def forward(self, x: Any, state: Any = None) -> tuple[torch.Tensor, Any]:
        """x: (B, T, I); state: initial state or None (zeros); LSTM: (h_0, c_0), RNN: h_0,
        each (D*num_layers, B, H). Returns (output (B, T, D*H), final state like the initial).
        ``self.steps[name][k]`` keeps the T per-step state tensors of layer-direction k
        (k = layer * D + direction), in the input's time order, inside the autograd graph.
        """
        x = as_tensor("x", x, (None, None, self.input_size), "(B, T, I)", self.dtype)
        start = self._state(state, x.shape[0], "state")
        finals: list[list[torch.Tensor]] = [[] for _ in self.state_names]
        self.steps = {name: [] for name in self.state_names}
        layer_in = x
        for layer in range(self.num_layers):
            outs = []
            for d in range(self.num_directions):
                k = layer * self.num_directions + d
                xs = layer_in if d == 0 else layer_in.flip(1)  # backward reader: time reversed
                steps = self._run(xs, self._weights(layer, d), tuple(s[k] for s in start))
                for i, name in enumerate(self.state_names):
                    finals[i].append(steps[name][-1])
                for name, seq in steps.items():  # states, and the gates when tracing
                    self.steps.setdefault(name, []).append(seq if d == 0 else seq[::-1])
                outs.append(torch.stack(self.steps["h"][k], dim=1))  # (B, T, H)
            layer_in = torch.cat(outs, dim=-1)
        final = tuple(torch.stack(f) for f in finals)
        return layer_in, (final[0] if len(final) == 1 else final)

    def trace(self, x: Any, state: Any = None) -> dict[str, torch.Tensor]:
        """Every step's gates and states: dict of (D*num_layers, B, T, H) tensors
        (LSTM: i, f, g, o, c, h; RNN: h), in the input's time order."""
        self._record = True
        try:
            self.forward(x, state)
        finally:
            self._record = False
        return {name: torch.stack([torch.stack(s, dim=1) for s in per_k])
                for name, per_k in self.steps.items()}

    def _run(self, xs: torch.Tensor, w: tuple[torch.Tensor, ...],
             start: tuple[torch.Tensor, ...]) -> dict[str, list[torch.Tensor]]:
        raise NotImplementedError

    def extra_repr(self) -> str:
        return (f"{self.input_size}, {self.hidden_size}, num_layers={self.num_layers}, "
                f"bidirectional={self.bidirectional}, dtype={self.dtype}")


class CellBase(nn.Module):
    """One step of a recurrent layer from torch ops, with ``torch.nn.LSTMCell``'s /
    ``RNNCell``'s parameter names, initialised with the same draws as a one-layer layer
    built with the same seed."""

    num_gates: int = 1

    def __init__(self, input_size: int, hidden_size: int, dtype: Any = np.float64,
                 seed: int = 0) -> None:
        super().__init__()
        self.input_size = checks.positive_int("input_size", input_size)
        self.hidden_size = checks.positive_int("hidden_size", hidden_size)
        self.dtype = torch_dtype(dtype)
        self._shapes = params.cell_shapes(self.input_size, self.hidden_size, self.num_gates)
        values = params.init(params.shapes(self.input_size, self.hidden_size, 1, 1,
                                           self.num_gates),
                             self.hidden_size, checks.float_dtype(dtype), seed)
        for key, value in values.items():
            self.register_parameter(key.removesuffix("_l0"), nn.Parameter(torch.from_numpy(value)))

    def load_state_dict(self, state_dict: Any, strict: bool = True, assign: bool = False) -> Any:
        """Copy parameters from torch tensors or NumPy arrays with the torch cell's keys."""
        checks.state_dict(state_dict, self._shapes, type(self).__name__)
        return super().load_state_dict(
            {k: torch.as_tensor(v).detach().to(self.dtype) for k, v in state_dict.items()},
            strict=True, assign=assign)

    def _input(self, x: Any) -> torch.Tensor:
        return as_tensor("x", x, (None, self.input_size), "(B, I)", self.dtype)
