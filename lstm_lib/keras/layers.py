"""Keras's vocabulary, in PyTorch: so each line of a Keras model translates to one line here.

| Keras                                   | here                                   |
|-----------------------------------------|----------------------------------------|
| ``RepeatVector(n)``                     | ``RepeatVector(n)``: (B, F) -> (B, n, F) |
| ``TimeDistributed(Dense(k))``           | ``TimeDistributed(nn.Linear(F, k))``   |
| ``LSTM(units, return_sequences=...,     | ``LSTMLayer(input_size, units, ...)``  |
|   return_state=..., stateful=...)``     |  (Keras infers input_size; torch cannot) |

``LSTMLayer`` is ``lstm_lib.torch.LSTM`` (one layer, one direction) with Keras's outputs:

| return_sequences | return_state | result                                   |
|------------------|--------------|------------------------------------------|
| False            | False        | h_T (B, units)                           |
| True             | False        | all h_t (B, T, units)                    |
| False            | True         | (h_T, h_T, c_T)                          |
| True             | True         | (all h_t, h_T, c_T)                      |

Keras 3 returns the three tensors as a tuple (Keras 2 returned a list); so does ``LSTMLayer``.

Masking, as Keras 3 does it (``forward(x, mask=...)``, mask (B, T) boolean, True = a real
step; a ``keras.layers.Masking(v)`` layer makes ``mask = (x != v).any(-1)``): at a masked
step the state (h, c) is carried over unchanged, and the output repeats the previous step's
output (zeros before the first real step), or is zero with ``zero_output_for_mask=True``.
The last output (``return_sequences=False``) is the last step's, so with
``zero_output_for_mask=True`` it is zero for a sequence whose last step is masked.
``go_backwards=True`` reads x (and the mask) from the last step to the first and returns
the outputs in that reading order, the reverse of the input's time order.

In PyTorch terms, with ``output, (h_n, c_n) = nn.LSTM(...)(x)``: all h_t is ``output``
and h_T is ``output[:, -1] == h_n[0]``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch import nn

from lstm_lib import checks
from lstm_lib.torch._stack import as_tensor, positive_strides
from lstm_lib.torch.lstm import LSTM


class RepeatVector(nn.Module):
    """Repeat a vector n times along a new time axis: (B, F) -> (B, n, F)."""

    def __init__(self, n: int) -> None:
        super().__init__()
        self.n = checks.positive_int("n", n)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x: (B, F). Returns (B, n, F)."""
        checks.array("x", x, (None, None), "(B, F)", allow_torch=True)
        return x.unsqueeze(1).expand(-1, self.n, -1)

    def extra_repr(self) -> str:
        return f"n={self.n}"


class TimeDistributed(nn.Module):
    """Apply ``module`` to every time step: (B, T, *F) -> (B, T, *F'), with shared weights."""

    def __init__(self, module: nn.Module) -> None:
        super().__init__()
        if not isinstance(module, nn.Module):
            raise TypeError(f"TimeDistributed wraps an nn.Module, got {type(module).__name__}")
        self.module = module

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x: (B, T, ...) -> (B, T, ...'): the module sees (B*T, ...) rows."""
        if not isinstance(x, torch.Tensor):
            raise TypeError(f"x must be a torch tensor, got {type(x).__name__}")
        if x.dim() < 3:
            raise ValueError(f"x must have at least 3 dimensions (B, T, ...), got shape "
                             f"{tuple(x.shape)}")
        B, T = x.shape[:2]
        y = self.module(x.reshape(B * T, *x.shape[2:]))
        return y.reshape(B, T, *y.shape[1:])


class LSTMLayer(LSTM):
    """``keras.layers.LSTM`` in PyTorch: one LSTM layer that returns what Keras returns.

    ``LSTMLayer(input_size, units, return_sequences=False, return_state=False,
    go_backwards=False, stateful=False, zero_output_for_mask=False, dtype=np.float64,
    seed=0)``. Parameters are ``torch.nn.LSTM``'s (``weight_ih_l0`` (4*units,
    input_size), ...). ``forward(x, initial_state=None, mask=None)`` on x (B, T,
    input_size), ``initial_state`` None or [h, c] each (B, units), ``mask`` None or a
    (B, T) boolean array/tensor, returns a tensor, or the tuple ``(output, h, c)`` if
    ``return_state`` (see the module table; masking and ``go_backwards`` as Keras 3's,
    see the module docstring).

    With ``stateful=True`` the final (h, c) of each call becomes the initial state of the
    next one, sample by sample (row i continues row i), detached from the graph, until
    ``reset_states()`` (or ``reset_state()``, Keras 3's name); the batch size must then stay
    the same from call to call. An ``initial_state`` given to a stateful layer is used
    instead of the carried one, and the call's final state is carried on, as in Keras.
    """

    def __init__(self, input_size: int, units: int, return_sequences: bool = False,
                 return_state: bool = False, go_backwards: bool = False,
                 stateful: bool = False, zero_output_for_mask: bool = False,
                 dtype: Any = np.float64, seed: int = 0) -> None:
        super().__init__(input_size, units, num_layers=1, bidirectional=False, dtype=dtype,
                         seed=seed)
        for name, flag in (("return_sequences", return_sequences),
                           ("return_state", return_state), ("go_backwards", go_backwards),
                           ("stateful", stateful),
                           ("zero_output_for_mask", zero_output_for_mask)):
            if not isinstance(flag, bool):
                raise TypeError(f"{name} must be a bool, got {flag!r}")
        self.units = self.hidden_size
        self.return_sequences = return_sequences
        self.return_state = return_state
        self.go_backwards = go_backwards
        self.stateful = stateful
        self.zero_output_for_mask = zero_output_for_mask
        self.states: tuple[torch.Tensor, torch.Tensor] | None = None

    def reset_states(self) -> None:
        """Forget the carried state: the next call starts from zeros (stateful layers)."""
        self.states = None

    def reset_state(self) -> None:
        """Keras 3's name for :meth:`reset_states`."""
        self.reset_states()

    def forward(self, x: Any, initial_state: Any = None,  # type: ignore[override]
                mask: Any = None) -> Any:
        """x (B, T, input_size) -> tensor, or (output, h, c) with return_state; h, c (B, units).
        ``initial_state``: None or [h_0, c_0], each (B, units). ``mask``: None or (B, T)
        boolean (NumPy or torch), True where the step is real (Keras's semantics)."""
        x = as_tensor("x", x, (None, None, self.input_size), "(B, T, I)", self.dtype)
        B, T = x.shape[0], x.shape[1]
        keep = None if mask is None else self._mask(mask, B, T)  # (B, T) bool
        if self.go_backwards:  # read from the last step; outputs stay in reading order
            x = x.flip(1)
            keep = None if keep is None else keep.flip(1)
        state = None
        if initial_state is not None:
            if not isinstance(initial_state, (tuple, list)) or len(initial_state) != 2:
                raise ValueError("initial_state must be [h, c], each (B, units), got "
                                 f"{type(initial_state).__name__}")
            h0, c0 = (as_tensor(n, s, (B, self.units), "(B, units)", self.dtype)
                      for n, s in zip("hc", initial_state))
            state = (h0[None], c0[None])
        elif self.stateful and self.states is not None:
            if self.states[0].shape[0] != B:
                raise ValueError(
                    f"a stateful layer carries {self.states[0].shape[0]} states (one per sample "
                    f"of the first batch), got a batch of {B}: keep the batch size fixed or call "
                    "reset_states()")
            state = (self.states[0][None], self.states[1][None])
        start = self._state(state, B, "initial_state")
        if keep is None:
            output, (h_n, c_n) = self._forward(x, start)
        else:
            m = keep.T[..., None].to(self.dtype)  # (T, B, 1): 1.0 where the step is real
            carried, (h_n, c_n) = self._forward(x, start, m, zero_masked=False)
            if self.zero_output_for_mask:
                output = carried * m.transpose(0, 1)
            else:  # the previous output: the carried h, or zeros before the first real step
                seen = (keep.cumsum(dim=1) > 0).unsqueeze(-1).to(self.dtype)
                output = carried * seen
        h, c = h_n[0], c_n[0]
        if self.stateful:
            self.states = (h.detach(), c.detach())
        seq = output if self.return_sequences else output[:, -1]
        return (seq, h, c) if self.return_state else seq

    @staticmethod
    def _mask(mask: Any, batch: int, steps: int) -> torch.Tensor:
        """Validate a Keras mask: (B, T) boolean NumPy array or torch tensor."""
        if isinstance(mask, np.ndarray):
            mask = torch.from_numpy(positive_strides(mask))
        if not isinstance(mask, torch.Tensor):
            raise TypeError(f"mask must be a (B, T) = ({batch}, {steps}) boolean NumPy array or "
                            f"torch tensor, got {type(mask).__name__}")
        if mask.dtype != torch.bool:
            raise TypeError(f"mask must be boolean (True = a real step), got dtype {mask.dtype}")
        if tuple(mask.shape) != (batch, steps):
            raise ValueError(f"mask must have shape (B, T) = ({batch}, {steps}), "
                             f"got {tuple(mask.shape)}")
        return mask

    def extra_repr(self) -> str:
        flags = "".join(f", {n}=True" for n in ("go_backwards", "zero_output_for_mask")
                        if getattr(self, n))
        return (f"{self.input_size}, units={self.units}, return_sequences="
                f"{self.return_sequences}, return_state={self.return_state}, "
                f"stateful={self.stateful}" + flags)


Shape = tuple[int, ...]


def trace_shapes(model: nn.Sequential, x: Any) -> list[tuple[str, Shape | list[Shape]]]:
    """Run ``x`` through the layers of ``model`` one by one and record each output's shape.

    Returns ``[("input", x.shape), (layer name, output shape), ...]``; a layer that returns
    several tensors (an ``LSTMLayer`` with ``return_state``) gives a list of shapes, and only
    its first output goes on to the next layer. Runs without gradients.
    """
    if not isinstance(model, nn.Sequential):
        raise TypeError(f"model must be an nn.Sequential, got {type(model).__name__}")
    if not isinstance(x, torch.Tensor):
        x = torch.as_tensor(positive_strides(np.asarray(x)))
    rows: list[tuple[str, Any]] = [("input", tuple(x.shape))]
    with torch.no_grad():
        for layer in model:
            out = layer(x)
            name = type(layer).__name__
            if isinstance(layer, TimeDistributed):
                name = f"TimeDistributed({type(layer.module).__name__})"
            if isinstance(out, (tuple, list)):
                rows.append((name, [tuple(o.shape) for o in out]))
                x = out[0]
            else:
                rows.append((name, tuple(out.shape)))
                x = out
    return rows
