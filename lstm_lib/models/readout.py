"""Small trainable models the chapters share: a recurrent layer and a linear read-out.

    model = RecurrentReadout(input_size=6, hidden_size=16, outputs=2, bidirectional=True)
    logits, (h_n, c_n) = model(x)            # x (B, T, 6) -> logits (B, T, 2)

``readout="steps"`` maps the output at every step (the taggers of chapter 3, the flip-flop
stream of chapter 7); ``readout="last"`` maps the final state, one answer per sequence (the
adding problem of chapter 8). The recurrent layer is
PyTorch's fused ``nn.LSTM``, ``nn.GRU`` or ``nn.RNN`` (batch-first), which computes the same
equations as ``lstm_lib.torch``'s layers, faster. ``forward(x, state=None)`` returns
``(y, state)`` as ``torch.nn.LSTM`` does, so the model can be carried from chunk to chunk
by ``lstm_lib.training.tbptt``.
"""

from __future__ import annotations

import math
from typing import Any

import torch
from torch import nn

from lstm_lib import checks, torch_seeded
from lstm_lib.recipes.char_lm import CELLS  # cell name -> torch.nn class: the recipe's table
from lstm_lib.torch.variants import chrono_init_

READOUTS = ("steps", "last")


class RecurrentReadout(nn.Module):
    """A batch-first recurrent layer ``.rnn`` and a linear read-out ``.head``.

    ``RecurrentReadout(input_size, hidden_size, outputs, cell="lstm", bidirectional=False,
    readout="steps", chrono_t_max=None, forget_bias=None, seed=None, dtype=torch.float32)``.

    - ``cell``: ``"lstm"`` (``nn.LSTM``), ``"gru"`` or ``"rnn"`` (tanh ``nn.RNN``).
    - ``readout="steps"``: ``y`` is ``head(output)``, ``(B, T, outputs)``; ``"last"``: ``y``
      is ``head`` of the top layer's final state, ``(B, outputs)``: ``h_n[-1]``, or
      ``cat(h_n[-2], h_n[-1])`` for a bidirectional layer (never ``output[:, -1]``, whose
      backward half has read only ``x_T``).
    - ``chrono_t_max``: if given (LSTM only), the input- and forget-gate biases get the
      chrono initialisation of Tallec & Ollivier (``lstm_lib.torch.variants.chrono_init_``);
      else PyTorch's default, every parameter uniform in ``±1/sqrt(hidden_size)``.
    - ``forget_bias``: if given (LSTM only, not with ``chrono_t_max``), the forget-gate bias of
      every unit is set to this value (``bias_ih`` gets it, ``bias_hh`` 0 in that block), as
      Keras's ``unit_forget_bias=True`` does with 1.0; the other parameters stay PyTorch's.
    - ``seed``: if given, the weights are drawn from ``torch.manual_seed(seed)`` inside
      ``lstm_lib.torch_seeded`` (the global generator is left as it was), so the same seed
      gives the same model; ``None`` draws from the global generator's current state (and
      leaves it as it was too).

    ``forward(x, state=None)``: x ``(B, T, input_size)``; ``state`` as the recurrent
    layer's (``(h_0, c_0)`` for the LSTM, each ``(L*D, B, H)``; ``h_0`` otherwise).
    Returns ``(y, state)``, the final state as ``torch.nn.LSTM`` returns it.
    """

    def __init__(self, input_size: int, hidden_size: int, outputs: int, *, cell: str = "lstm",
                 bidirectional: bool = False, readout: str = "steps",
                 chrono_t_max: float | None = None, forget_bias: float | None = None,
                 seed: int | None = None,
                 dtype: torch.dtype = torch.float32) -> None:
        super().__init__()
        self.input_size = checks.positive_int("input_size", input_size)
        self.hidden_size = checks.positive_int("hidden_size", hidden_size)
        self.outputs = checks.positive_int("outputs", outputs)
        if cell not in CELLS:
            raise ValueError(f"cell must be one of {sorted(CELLS)}, got {cell!r}")
        if readout not in READOUTS:
            raise ValueError(f"readout must be one of {READOUTS}, got {readout!r}")
        if not isinstance(bidirectional, bool):
            raise TypeError(f"bidirectional must be a bool, got {bidirectional!r}")
        if chrono_t_max is not None and cell != "lstm":
            raise ValueError(f"chrono_t_max sets LSTM gate biases; the {cell!r} has no gates "
                             "to set")
        if forget_bias is not None:
            if cell != "lstm" or chrono_t_max is not None:
                raise ValueError("forget_bias sets the forget gate of an LSTM; it cannot be "
                                 f"combined with chrono_t_max (cell={cell!r})")
            if isinstance(forget_bias, bool) or not isinstance(forget_bias, (int, float)) \
                    or not math.isfinite(forget_bias):
                raise ValueError(f"forget_bias must be a finite number, got {forget_bias!r}")
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)
                                 or seed < 0):
            raise ValueError(f"seed must be a non-negative int or None, got {seed!r}")
        if dtype not in (torch.float32, torch.float64):
            raise TypeError(f"dtype must be torch.float32 or torch.float64, got {dtype!r}")
        self.cell, self.readout, self.bidirectional = cell, readout, bidirectional
        directions = 2 if bidirectional else 1
        with torch_seeded(seed):
            self.rnn = CELLS[cell](input_size, hidden_size, batch_first=True,
                                   bidirectional=bidirectional, dtype=dtype)
            self.head = nn.Linear(directions * hidden_size, outputs, dtype=dtype)
        if chrono_t_max is not None:
            chrono_init_(self.rnn, t_max=chrono_t_max, seed=seed or 0)
        if forget_bias is not None:
            H = hidden_size
            with torch.no_grad():
                for name, p in self.rnn.named_parameters():
                    if name.startswith("bias_ih"):
                        p[H:2 * H] = float(forget_bias)
                    elif name.startswith("bias_hh"):
                        p[H:2 * H] = 0.0

    def forward(self, x: Any, state: Any = None) -> tuple[torch.Tensor, Any]:
        """x (B, T, input_size) -> (y, state): y (B, T, outputs) with readout="steps",
        (B, outputs) with readout="last"; state as the recurrent layer returns it."""
        if not isinstance(x, torch.Tensor):
            raise TypeError(f"x must be a torch tensor (B, T, {self.input_size}), "
                            f"got {type(x).__name__}")
        checks.array("x", x, (None, None, self.input_size), "(B, T, I)", allow_torch=True)
        output, state = self.rnn(x, state)
        if self.readout == "steps":
            return self.head(output), state
        h_n = state[0] if self.cell == "lstm" else state
        last = torch.cat([h_n[-2], h_n[-1]], dim=-1) if self.bidirectional else h_n[-1]
        return self.head(last), state

    def extra_repr(self) -> str:
        return f"readout={self.readout!r}"


__all__ = ["RecurrentReadout", "CELLS", "READOUTS"]
