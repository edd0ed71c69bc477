"""A bidirectional LSTM built by hand from two unidirectional ``lstm_lib.numpy.LSTM`` layers.

One layer reads the sequence left to right. The other is given the sequence reversed, so it
reads right to left; its outputs are reversed back so that position ``t`` of both lines up,
and the two are concatenated per step: ``output[:, t] = [h_fwd[t] | h_bwd[t]]``. Backprop is
the same story backwards: split the upstream gradient, reverse the backward half, run each
layer's backward, reverse the backward layer's input gradient, and add.

:class:`Bidirectional` holds its parameters under ``torch.nn.LSTM(bidirectional=True)``'s
names (the backward layer's with the suffix ``_reverse``), so ``lstm_lib.verify.compare.compare``
can check it against ``torch.nn.LSTM``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from lstm_lib import checks
from lstm_lib.numpy import LSTM

State = tuple[np.ndarray, np.ndarray]


class Bidirectional:
    """``Bidirectional(forward_layer, backward_layer)``: two one-layer, one-direction NumPy
    LSTMs of equal sizes and dtype, run as one bidirectional layer.

    ``forward(x, state)`` on x (B, T, I) returns ``(output, (h_n, c_n))``: output
    (B, T, 2H), ``h_n`` and ``c_n`` (2, B, H) with the forward reader's final state at index
    0 and the backward reader's at 1, as ``torch.nn.LSTM`` does.
    ``backward(d_output, d_state)`` returns ``(dx, (dh_0, dc_0))`` and fills ``grads``.
    """

    state_names = ("h", "c")

    def __init__(self, forward_layer: LSTM, backward_layer: LSTM) -> None:
        for name, layer in (("forward_layer", forward_layer), ("backward_layer", backward_layer)):
            if not isinstance(layer, LSTM):
                got = type(layer).__name__
                raise TypeError(f"{name} must be an lstm_lib.numpy.LSTM, got {got}")
            if layer.num_layers != 1 or layer.bidirectional:
                raise ValueError(f"{name} must have one layer and one direction, got {layer!r}")
        f, b = forward_layer, backward_layer
        if (f.input_size, f.hidden_size, f.dtype) != (b.input_size, b.hidden_size, b.dtype):
            raise ValueError(f"the two layers must match in sizes and dtype, got {f!r} and {b!r}")
        self.forward_layer, self.backward_layer = f, b
        self.input_size, self.hidden_size, self.dtype = f.input_size, f.hidden_size, f.dtype

    # ------------------------------------------------------------------------- parameters
    @staticmethod
    def _merge(fwd: dict[str, Any], bwd: dict[str, Any]) -> dict[str, Any]:
        return {**fwd, **{f"{k}_reverse": v for k, v in bwd.items()}}

    @property
    def params(self) -> dict[str, np.ndarray]:
        """Both layers' parameters (the arrays themselves) under nn.LSTM's bidirectional keys."""
        return self._merge(self.forward_layer.params, self.backward_layer.params)

    @property
    def grads(self) -> dict[str, np.ndarray]:
        """The gradients of the last ``backward``, keyed like ``params``."""
        return self._merge(self.forward_layer.grads, self.backward_layer.grads)

    def state_dict(self) -> dict[str, np.ndarray]:
        """Copies of ``params``: the keys and shapes of nn.LSTM(bidirectional=True)."""
        return {k: v.copy() for k, v in self.params.items()}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Load a bidirectional state_dict (NumPy arrays or torch tensors) into both layers."""
        expected = {k: v.shape for k, v in self.params.items()}
        checks.state_dict(state_dict, expected, type(self).__name__)
        fwd = {k: v for k, v in state_dict.items() if not k.endswith("_reverse")}
        bwd = {k[: -len("_reverse")]: v for k, v in state_dict.items() if k.endswith("_reverse")}
        self.forward_layer.load_state_dict(fwd)
        self.backward_layer.load_state_dict(bwd)

    def num_parameters(self) -> int:
        """Total number of scalar parameters of both layers."""
        return self.forward_layer.num_parameters() + self.backward_layer.num_parameters()

    # ------------------------------------------------------------------------- the two passes
    def _split(self, state: Any, what: str) -> tuple[State | None, State | None]:
        """(h, c), each (2, B, H), into the forward reader's and the backward reader's."""
        if state is None:
            return None, None
        if not isinstance(state, (tuple, list)) or len(state) != 2:
            raise ValueError(f"{what} must be a tuple (h, c), got {type(state).__name__}")
        h, c = state
        for name, a in (("h", h), ("c", c)):
            checks.array(f"{what} {name}", a, (2, None, self.hidden_size), "(2, B, H)")
        return (h[0:1], c[0:1]), (h[1:2], c[1:2])

    def forward(self, x: np.ndarray, state: Any = None) -> tuple[np.ndarray, State]:
        """x (B, T, I), state None or (h_0, c_0) each (2, B, H).
        Returns output (B, T, 2H) and (h_n, c_n), each (2, B, H)."""
        checks.array("x", x, (None, None, self.input_size), "(B, T, I)")
        start_f, start_b = self._split(state, "state")
        out_f, (h_f, c_f) = self.forward_layer.forward(x, start_f)  # reads x_1 .. x_T
        out_b, (h_b, c_b) = self.backward_layer.forward(x[:, ::-1], start_b)  # reads x_T .. x_1
        output = np.concatenate([out_f, out_b[:, ::-1]], axis=-1)  # line position t up with t
        self._shape = x.shape[:2]
        return output, (np.concatenate([h_f, h_b]), np.concatenate([c_f, c_b]))

    __call__ = forward

    def backward(self, d_output: np.ndarray, d_state: Any = None) -> tuple[np.ndarray, State]:
        """d_output (B, T, 2H); d_state None or (dh_n, dc_n) each (2, B, H).
        Returns dx (B, T, I) and (dh_0, dc_0), each (2, B, H)."""
        if not hasattr(self, "_shape"):
            raise ValueError("backward called before forward: run forward(x) first")
        H = self.hidden_size
        checks.array("d_output", d_output, (*self._shape, 2 * H), "(B, T, 2H)")
        d_end_f, d_end_b = self._split(d_state, "d_state")
        dx_f, (dh_f, dc_f) = self.forward_layer.backward(d_output[..., :H], d_end_f)
        dx_b, (dh_b, dc_b) = self.backward_layer.backward(d_output[:, ::-1, H:], d_end_b)
        dx = dx_f + dx_b[:, ::-1]  # x fed both readers: its gradients add
        return dx, (np.concatenate([dh_f, dh_b]), np.concatenate([dc_f, dc_b]))

    def __repr__(self) -> str:
        return f"Bidirectional({self.forward_layer!r}, {self.backward_layer!r})"


def prefix_outputs(layer: Any, x: Any) -> Any:
    """For every step ``t``, the output a one-layer bidirectional LSTM gives at the *last*
    step of the prefix ``x[:, :t+1]``: what the layer can say about ``x_{t+1}`` before it
    exists (generation, forecasting). Computed in O(T) cell steps, not O(T^2).

    ``layer``: a one-layer ``torch.nn.LSTM(..., batch_first=True, bidirectional=True)`` or
    ``lstm_lib.torch.LSTM(..., bidirectional=True)``; ``x`` a tensor (B, T, I). Returns a
    tensor (B, T, 2H). Why it is cheap: the forward reader is causal, so its state at ``t``
    is the same for the prefix as for the whole sequence (one pass, cached); on the prefix
    the backward reader's output at ``t`` is its *first* step, on ``x_t`` alone from a zero
    state. (For two or more layers this fails: the upper layer reads the lower layer's
    backward outputs at every earlier step, and they all change when a symbol arrives.)
    """
    import torch

    if not isinstance(layer, torch.nn.Module) or not getattr(layer, "bidirectional", False):
        raise TypeError(f"layer must be a bidirectional LSTM module, got {type(layer).__name__}")
    if getattr(layer, "num_layers", 1) != 1:
        raise ValueError(f"prefix_outputs needs one layer (the backward outputs of a lower "
                         f"layer change with every new symbol), got num_layers="
                         f"{layer.num_layers}")
    if getattr(layer, "batch_first", True) is not True:
        raise ValueError("layer must be batch_first=True")
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"x must be a torch tensor (B, T, I), got {type(x).__name__}")
    checks.array("x", x, (None, None, layer.input_size), "(B, T, I)", allow_torch=True)
    B, T, n_in = x.shape
    whole, _ = layer(x)                                   # forward half: causal, cached
    alone, _ = layer(x.reshape(B * T, 1, n_in))           # every symbol alone, from zeros
    H = whole.shape[-1] // 2
    return torch.cat([whole[..., :H], alone.reshape(B, T, 2 * H)[..., H:]], dim=-1)


__all__ = ["Bidirectional", "prefix_outputs"]
