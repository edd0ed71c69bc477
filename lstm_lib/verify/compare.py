"""Agreement tables: how far apart two implementations are, quantity by quantity.

``compare(numpy_layer, {"torch twin": twin, "nn.LSTM": ref}, x, state)`` runs the NumPy
layer forward and backward and each torch module forward and (autograd) backward on the
same input and the same upstream gradient, and tabulates max |difference| against NumPy for
the output, the final states, and every gradient (parameters, input, initial state).
With ``lengths=``, the NumPy layer and the ``lstm_lib`` twins get ``lengths``, and a
``torch.nn`` RNN, GRU or LSTM reads the packed batch (``pack_padded_sequence(...,
enforce_sorted=False)``, padded back with ``pad_packed_sequence(..., total_length=T)``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from lstm_lib import checks


def max_abs_diff(a: Any, b: Any) -> float:
    """max |a - b| over all elements of two arrays/tensors of the same shape."""
    a = a.detach().cpu().numpy() if isinstance(a, torch.Tensor) else np.asarray(a)
    b = b.detach().cpu().numpy() if isinstance(b, torch.Tensor) else np.asarray(b)
    if a.shape != b.shape:
        raise ValueError(f"shapes differ: {a.shape} and {b.shape}")
    return float(np.abs(a.astype(np.float64) - b.astype(np.float64)).max())


@dataclass
class Agreement:
    """A table of max |difference| per quantity (rows) and per compared module (columns)."""

    columns: list[str]
    rows: dict[str, list[float]] = field(default_factory=dict)

    @property
    def max_diff(self) -> float:
        """The largest difference anywhere in the table."""
        return max(max(v) for v in self.rows.values())

    def assert_close(self, tol: float) -> None:
        """Raise AssertionError naming every entry above ``tol``."""
        bad = [f"{r} vs {c}: {v:.1e}" for r, vals in self.rows.items()
               for c, v in zip(self.columns, vals) if not v <= tol]
        if bad:
            raise AssertionError(f"differences above {tol:.0e}: " + "; ".join(bad))

    def __str__(self) -> str:
        width = max(len(r) for r in self.rows) + 2
        head = "max |diff| vs NumPy".ljust(width) + "".join(c.rjust(14) for c in self.columns)
        lines = [head, "-" * len(head)]
        for r, vals in self.rows.items():
            lines.append(r.ljust(width) + "".join(f"{v:14.1e}" for v in vals))
        return "\n".join(lines)

    __repr__ = __str__


def compare(numpy_layer: Any, torch_modules: Any, x: np.ndarray, state: Any = None,
            seed: int = 0, lengths: Any = None) -> Agreement:
    """Tabulate how closely torch modules reproduce a NumPy layer, forward and backward.

    numpy_layer: an ``lstm_lib.numpy`` RNN, GRU or LSTM. torch_modules: one module or a dict
    name -> module (``lstm_lib.torch`` twins or ``torch.nn.LSTM``/``GRU``/``RNN`` with
    ``batch_first=True``), each holding the same weights as the NumPy layer (checked).
    x: (B, T, I); state: optional initial state in NumPy; lengths: None or B integers in
    [1, T] (x right-padded; torch.nn modules then read it packed). Returns an ``Agreement``
    with rows output, h_n (, c_n), every parameter's gradient, dx (, dh0, dc0 if ``state``
    is given).
    """
    if not isinstance(torch_modules, Mapping):
        torch_modules = {type(torch_modules).__name__: torch_modules}
    names = numpy_layer.state_names
    rng = np.random.default_rng(seed)
    out, final = (numpy_layer.forward(x, state) if lengths is None
                  else numpy_layer.forward(x, state, lengths=lengths))
    finals = final if isinstance(final, tuple) else (final,)
    r_out = rng.standard_normal(out.shape).astype(numpy_layer.dtype)
    r_fin = tuple(rng.standard_normal(f.shape).astype(numpy_layer.dtype) for f in finals)
    dx, d_init = numpy_layer.backward(r_out, r_fin if len(r_fin) > 1 else r_fin[0])
    d_inits = d_init if isinstance(d_init, tuple) else (d_init,)
    states = None if state is None else ((state,) if len(names) == 1 else tuple(state))

    table = Agreement(columns=list(torch_modules))
    for col, module in torch_modules.items():
        if not isinstance(module, torch.nn.Module):
            raise TypeError(f"{col} must be a torch.nn.Module, got {type(module).__name__}")
        if not getattr(module, "batch_first", True):
            raise ValueError(f"{col} must be batch_first=True")
        sd = module.state_dict()
        checks.state_dict(sd, {k: v.shape for k, v in numpy_layer.params.items()}, col)
        if any(max_abs_diff(sd[k], v) > 0 for k, v in numpy_layer.params.items()):
            raise ValueError(f"{col} holds different weights from the NumPy layer: "
                             "load_state_dict(numpy_layer.state_dict()) first")
        dtype = next(module.parameters()).dtype
        xt = torch.tensor(checks.positive_strides(x), dtype=dtype, requires_grad=True)
        st = None if states is None else tuple(
            torch.tensor(checks.positive_strides(s), dtype=dtype, requires_grad=True)
            for s in states)
        module.zero_grad()
        s_in = None if st is None else (st[0] if len(st) == 1 else st)
        o, f = module(xt, s_in) if lengths is None else _with_lengths(module, xt, s_in, lengths)
        fs = f if isinstance(f, tuple) else (f,)
        loss = (o * torch.tensor(r_out, dtype=dtype)).sum()
        for r, v in zip(r_fin, fs, strict=True):
            loss = loss + (v * torch.tensor(r, dtype=dtype)).sum()
        loss.backward()
        rows = {"output": max_abs_diff(o, out)}
        for n, a, b in zip(names, fs, finals, strict=True):
            rows[f"{n}_n"] = max_abs_diff(a, b)
        for k, p in module.named_parameters():
            rows[f"d {k}"] = max_abs_diff(p.grad, numpy_layer.grads[k])
        rows["d x"] = max_abs_diff(xt.grad, dx)
        if st is not None:
            for n, s, g in zip(names, st, d_inits, strict=True):
                rows[f"d {n}0"] = max_abs_diff(s.grad, g)
        for r, v in rows.items():
            table.rows.setdefault(r, []).append(v)
    return table


def _with_lengths(module: torch.nn.Module, xt: torch.Tensor, state: Any,
                  lengths: Any) -> tuple[torch.Tensor, Any]:
    """Run ``module`` on right-padded ``xt`` (B, T, I) with ``lengths``: torch.nn's RNN, GRU
    and LSTM on the packed batch, padded back to T steps; any other module with ``lengths=``."""
    if not isinstance(module, torch.nn.RNNBase):
        return module(xt, state, lengths=lengths)
    from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

    lens = torch.as_tensor(checks.lengths(lengths, xt.shape[0], xt.shape[1]))
    packed = pack_padded_sequence(xt, lens, batch_first=True, enforce_sorted=False)
    out, final = module(packed, state)
    out, _ = pad_packed_sequence(out, batch_first=True, total_length=xt.shape[1])
    return out, final
