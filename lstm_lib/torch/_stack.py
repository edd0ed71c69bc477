"""Layers x directions for the torch twins (the torch side of ``lstm_lib.numpy._stack``).

Parameters are registered under ``torch.nn.LSTM``'s names, so ``state_dict()`` has its keys.
A subclass supplies ``_run``: the recurrence of one direction, as a loop over time.
With ``lengths=`` the stack builds the (T, B, 1) mask and the per-sequence reversal of
``lstm_lib.numpy._stack`` (the same protocol, from torch ops; autograd does the backward).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch import nn

from lstm_lib import checks, params
from lstm_lib.checks import positive_strides
from lstm_lib.numpy._stack import reverse_index, time_mask


def torch_dtype(dtype: Any) -> torch.dtype:
    """float32/float64 given as NumPy or torch dtype -> the torch dtype."""
    return {"float32": torch.float32, "float64": torch.float64}[checks.float_dtype(dtype).name]


def as_tensor(name: str, x: Any, shape: tuple[int | None, ...], dims: str,
              dtype: torch.dtype) -> torch.Tensor:
    """Validate ``x`` (tensor or NumPy array) and return it as a tensor of ``dtype``.

    A NumPy array with negative strides (a flipped view such as ``x[:, ::-1]``) is copied
    first: ``torch.as_tensor`` refuses those."""
    checks.array(name, x, shape, dims, allow_torch=True)
    return torch.as_tensor(positive_strides(x)).to(dtype)


def load_parameters(module: nn.Module, load: Any, state_dict: Any, strict: bool,
                    assign: bool) -> Any:
    """``load_state_dict`` of a twin: check ``state_dict`` against ``module._shapes``
    (``checks.state_dict``: with ``strict=True`` a missing or unexpected key is a
    ValueError; with ``strict=False`` both are allowed, as in ``torch.nn``), turn its arrays
    (NumPy or torch) into tensors of ``module.dtype`` and hand them to ``load``
    (``torch.nn.Module.load_state_dict``), which returns the missing and unexpected keys."""
    checks.state_dict(state_dict, module._shapes, type(module).__name__, strict=strict)
    tensors = {k: torch.as_tensor(positive_strides(v)).detach().to(module.dtype)
               if k in module._shapes else v for k, v in state_dict.items()}
    return load(tensors, strict=strict, assign=assign)


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
        self._mask_rev: tuple[torch.Tensor | None, torch.Tensor | None] = (None, None)

    def load_state_dict(self, state_dict: Any, strict: bool = True, assign: bool = False) -> Any:
        """Copy parameters from a dict of torch tensors or NumPy arrays (same keys/shapes);
        ``strict`` and the return value as ``torch.nn.Module.load_state_dict``'s
        (:func:`load_parameters`)."""
        return load_parameters(self, super().load_state_dict, state_dict, strict, assign)

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

    def forward(self, x: Any, state: Any = None, lengths: Any = None
                ) -> tuple[torch.Tensor, Any]:
        """x: (B, T, I); state: initial state or None (zeros); LSTM: (h_0, c_0), RNN: h_0,
        each (D*num_layers, B, H). lengths: None or B integers in [1, T] (x right-padded;
        the result is ``torch.nn``'s on the packed sequence: output 0 past each length,
        final states at each sequence's own last step).
        Returns (output (B, T, D*H), final state like the initial).
        ``self.steps[name][k]`` keeps the T per-step state tensors of layer-direction k
        (k = layer * D + direction), inside the autograd graph, in the input's time order;
        with ``lengths`` the backward direction's list is in its reading order (each
        sequence reversed within its own length), since one step tensor then holds
        different time positions for different sequences.
        """
        x = as_tensor("x", x, (None, None, self.input_size), "(B, T, I)", self.dtype)
        start = self._state(state, x.shape[0], "state")
        self._mask_rev = self._lengths(lengths, x.shape[0], x.shape[1])
        return self._forward(x, start, *self._mask_rev)

    def _lengths(self, lengths: Any, batch: int, steps: int
                 ) -> tuple[torch.Tensor | None, torch.Tensor | None]:
        """(mask (T, B, 1), rev (B, T)) for validated lengths; (None, None) for None."""
        if lengths is None:
            return None, None
        lens = checks.lengths(lengths, batch, steps)
        mask = torch.from_numpy(time_mask(lens, steps, np.float64)).to(self.dtype)
        rev = torch.from_numpy(np.ascontiguousarray(reverse_index(lens, steps).T))  # (B, T)
        return mask, rev

    def _forward(self, x: torch.Tensor, start: tuple[torch.Tensor, ...],
                 mask: torch.Tensor | None = None, rev: torch.Tensor | None = None,
                 zero_masked: bool = True) -> tuple[torch.Tensor, Any]:
        """The stack over validated input. mask: None or (T, B, 1) of 1.0/0.0, the state
        carried over where 0 (any pattern: a Keras mask too); rev: None (the backward
        direction reads ``x.flip(1)``) or a (B, T) index, each row its sequence's order of
        reading. With ``zero_masked`` each layer's output is multiplied by the mask; without,
        a masked step's output is the carried h."""
        finals: list[list[torch.Tensor]] = [[] for _ in self.state_names]
        self.steps = {name: [] for name in self.state_names}
        rows = torch.arange(x.shape[0])[:, None]
        out_mask = None if mask is None or not zero_masked else mask.transpose(0, 1)
        extra = {} if mask is None else {"mask": mask}
        layer_in = x
        for layer in range(self.num_layers):
            outs = []
            for d in range(self.num_directions):
                k = layer * self.num_directions + d
                if d == 0:
                    xs = layer_in
                else:  # backward reader: time reversed (within each length)
                    xs = layer_in.flip(1) if rev is None else layer_in[rows, rev]
                steps = self._run(xs, self._weights(layer, d), tuple(s[k] for s in start),
                                  **extra)
                for i, name in enumerate(self.state_names):
                    finals[i].append(steps[name][-1])
                for name, seq in steps.items():  # states, and the gates when tracing
                    seq = seq if d == 0 or rev is not None else seq[::-1]
                    self.steps.setdefault(name, []).append(seq)
                hs = torch.stack(self.steps["h"][k], dim=1)  # (B, T, H)
                if d == 1 and rev is not None:
                    hs = hs[rows, rev]
                outs.append(hs)
            layer_in = torch.cat(outs, dim=-1)
            if out_mask is not None:
                layer_in = layer_in * out_mask
        final = tuple(torch.stack(f) for f in finals)
        return layer_in, (final[0] if len(final) == 1 else final)

    def trace(self, x: Any, state: Any = None, lengths: Any = None) -> dict[str, torch.Tensor]:
        """Every step's gates and states: dict of (D*num_layers, B, T, H) tensors
        (LSTM: i, f, g, o, c, h; RNN: h), in the input's time order; with ``lengths``,
        0 past each length."""
        self._record = True
        try:
            self.forward(x, state, lengths)
        finally:
            self._record = False
        mask, rev = self._mask_rev
        out = {}
        for name, per_k in self.steps.items():
            seqs = []
            for k, s in enumerate(per_k):
                seq = torch.stack(s, dim=1)  # (B, T, H)
                if mask is not None:
                    seq = seq * mask.transpose(0, 1)
                    if k % self.num_directions == 1:
                        seq = seq[torch.arange(seq.shape[0])[:, None], rev]
                seqs.append(seq)
            out[name] = torch.stack(seqs)
        return out

    def _run(self, xs: torch.Tensor, w: tuple[torch.Tensor, ...],
             start: tuple[torch.Tensor, ...], mask: torch.Tensor | None = None
             ) -> dict[str, list[torch.Tensor]]:
        """The recurrence of one direction: xs (B, T, F) in reading order; ``mask`` None
        (every step real) or (T, B, 1) of 1.0/0.0, the state carried over where it is 0.
        Returns lists of T per-step tensors (B, H): ``h`` (and ``c``, and gates if traced)."""
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
        """Copy parameters from torch tensors or NumPy arrays with the torch cell's keys;
        ``strict`` and the return value as ``torch.nn.Module.load_state_dict``'s
        (:func:`load_parameters`)."""
        return load_parameters(self, super().load_state_dict, state_dict, strict, assign)

    def _input(self, x: Any) -> torch.Tensor:
        return as_tensor("x", x, (None, self.input_size), "(B, I)", self.dtype)
