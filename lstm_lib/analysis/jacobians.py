"""The Jacobian of one LSTM step, written out block by block, with every path named.

One step of the LSTM (gate order i, f, g, o, as ``torch.nn.LSTM``) maps the state
``(h_{t-1}, c_{t-1})`` to ``(h_t, c_t)``::

    z   = W_ih x_t + b_ih + W_hh h_{t-1} + b_hh          (4H,), blocks z_i, z_f, z_g, z_o
    i, f, g, o = sigma(z_i), sigma(z_f), tanh(z_g), sigma(z_o)
    c_t = f * c_{t-1} + i * g
    h_t = o * tanh(c_t)

Its Jacobian with respect to the previous state is a 2 x 2 block matrix, each block (H, H)::

    d(h_t, c_t) / d(h_{t-1}, c_{t-1}) = [[ dh_t/dh_{t-1}   dh_t/dc_{t-1} ],
                                         [ dc_t/dh_{t-1}   dc_t/dc_{t-1} ]]

    dc_t/dc_{t-1} = diag(f)                                  the direct path, no matrix
    dc_t/dh_{t-1} = K = diag(c_{t-1} f (1 - f)) W_hf         through the forget gate
                      + diag(g i (1 - i)) W_hi               through the input gate
                      + diag(i (1 - g^2)) W_hg               through the candidate
    dh_t/dc_{t-1} = D diag(f),        D = diag(o (1 - tanh^2 c_t))
    dh_t/dh_{t-1} = diag(tanh(c_t) o (1 - o)) W_ho + D K     through the output gate, and c_t

``W_hi, W_hf, W_hg, W_ho`` are the four row blocks of ``W_hh``. The gates read ``h_{t-1}``
only (no peepholes), so ``c_{t-1}`` reaches ``c_t`` in this Jacobian by the direct path alone;
the other paths from an older cell state go through a hidden state (``c_{t-1} -> h_t`` here,
then ``h_t -> c_{t+1}`` in the next step's ``K``) and appear when the blocks of successive
steps are multiplied.

- :func:`lstm_step_jacobian` computes the four blocks (and the named terms of ``K`` and of
  ``dh_t/dh_{t-1}``) for one example at one step; it also returns the new state.
- :func:`lstm_jacobians` runs a one-layer LSTM over one sequence and returns every step's.

Everything is NumPy; the result has the dtype of the inputs (float32 or float64).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from lstm_lib import checks
from lstm_lib.numpy.activations import sigmoid

__all__ = ["LSTMStepJacobian", "lstm_step_jacobian", "lstm_jacobians"]


@dataclass(frozen=True)
class LSTMStepJacobian:
    """The Jacobian of one LSTM step, ``d(h_t, c_t) / d(h_{t-1}, c_{t-1})``, in blocks.

    Every block is (H, H), row = an entry of the new state, column = an entry of the old.

    - ``hh``: ``dh_t/dh_{t-1}``; ``hc``: ``dh_t/dc_{t-1}``; ``ch``: ``dc_t/dh_{t-1}``;
      ``cc``: ``dc_t/dc_{t-1} = diag(f_t)``, the direct path.
    - ``ch_paths``: the three terms of ``ch``, keyed ``"f"``, ``"i"``, ``"g"`` (through the
      forget gate, the input gate and the candidate); they sum to ``ch``.
    - ``hh_output``: the term of ``hh`` through the output gate; ``hh - hh_output`` is the
      term through ``c_t``, ``D @ ch`` with ``D = diag(o_t (1 - tanh^2 c_t))``.
    - ``h``, ``c``: the new state (H,); ``gates``: ``i, f, g, o`` of the step, each (H,).
    """

    hh: np.ndarray
    hc: np.ndarray
    ch: np.ndarray
    cc: np.ndarray
    ch_paths: Mapping[str, np.ndarray]
    hh_output: np.ndarray
    h: np.ndarray
    c: np.ndarray
    gates: Mapping[str, np.ndarray]

    def matrix(self) -> np.ndarray:
        """The whole Jacobian as one (2H, 2H) array ``[[hh, hc], [ch, cc]]``: the state is
        ordered ``(h, c)``, so ``J.T @ concat(dL/dh_t, dL/dc_t)`` is one step of BPTT."""
        return np.block([[self.hh, self.hc], [self.ch, self.cc]])


def _weights(weight_ih: np.ndarray, weight_hh: np.ndarray, bias_ih: np.ndarray,
             bias_hh: np.ndarray) -> tuple[int, int]:
    """Check the four parameters of one layer; return (I, H)."""
    checks.array("weight_hh", weight_hh, (None, None), "(4H, H)")
    four_h, hidden = weight_hh.shape
    if four_h != 4 * hidden:
        raise ValueError(f"weight_hh must have shape (4H, H), got {weight_hh.shape}: "
                         f"{four_h} rows is not 4 x {hidden}")
    checks.array("weight_ih", weight_ih, (4 * hidden, None), "(4H, I)")
    checks.array("bias_ih", bias_ih, (4 * hidden,), "(4H,)")
    checks.array("bias_hh", bias_hh, (4 * hidden,), "(4H,)")
    return weight_ih.shape[1], hidden


def _step(x: np.ndarray, h_prev: np.ndarray, c_prev: np.ndarray, weight_ih: np.ndarray,
          weight_hh: np.ndarray, bias_ih: np.ndarray, bias_hh: np.ndarray,
          hidden: int) -> LSTMStepJacobian:
    """The step and its Jacobian, inputs already checked."""
    H = hidden
    z = weight_ih @ x + bias_ih + weight_hh @ h_prev + bias_hh
    i, f, o = sigmoid(z[:H]), sigmoid(z[H:2 * H]), sigmoid(z[3 * H:])
    g = np.tanh(z[2 * H:3 * H])
    c = f * c_prev + i * g
    tc = np.tanh(c)
    h = o * tc
    W_hi, W_hf, W_hg, W_ho = (weight_hh[k * H:(k + 1) * H] for k in range(4))
    # diag(v) @ W is v[:, None] * W: each row scaled by its unit's factor.
    ch_paths = {"f": (c_prev * f * (1 - f))[:, None] * W_hf,
                "i": (g * i * (1 - i))[:, None] * W_hi,
                "g": (i * (1 - g * g))[:, None] * W_hg}
    ch = ch_paths["f"] + ch_paths["i"] + ch_paths["g"]
    cc = np.diag(f)
    d = o * (1 - tc * tc)                       # dh_t/dc_t, a diagonal
    hh_output = (tc * o * (1 - o))[:, None] * W_ho
    hh = hh_output + d[:, None] * ch
    hc = np.diag(d * f)
    return LSTMStepJacobian(hh=hh, hc=hc, ch=ch, cc=cc, ch_paths=ch_paths,
                            hh_output=hh_output, h=h, c=c,
                            gates={"i": i, "f": f, "g": g, "o": o})


def lstm_step_jacobian(x: np.ndarray, h_prev: np.ndarray, c_prev: np.ndarray,
                       weight_ih: np.ndarray, weight_hh: np.ndarray, bias_ih: np.ndarray,
                       bias_hh: np.ndarray) -> LSTMStepJacobian:
    """The Jacobian ``d(h_t, c_t) / d(h_{t-1}, c_{t-1})`` of one LSTM step, for one example.

    ``x`` (I,) the input at step t; ``h_prev``, ``c_prev`` (H,) the previous state;
    ``weight_ih`` (4H, I), ``weight_hh`` (4H, H), ``bias_ih``, ``bias_hh`` (4H,): the
    parameters of ``torch.nn.LSTMCell`` (keys ``weight_ih`` ...; for a layer, the ``_l0``
    entries of its ``state_dict``), gate order i, f, g, o. All real float NumPy arrays.

    Returns an :class:`LSTMStepJacobian` (four (H, H) blocks, the named paths, the new state).
    A wrong shape raises ``ValueError``; an integer, bool or complex array, or anything that
    is not a NumPy array, raises ``TypeError``.
    """
    _, hidden = _weights(weight_ih, weight_hh, bias_ih, bias_hh)
    checks.array("x", x, (weight_ih.shape[1],), "(I,)")
    checks.array("h_prev", h_prev, (hidden,), "(H,)")
    checks.array("c_prev", c_prev, (hidden,), "(H,)")
    return _step(x, h_prev, c_prev, weight_ih, weight_hh, bias_ih, bias_hh, hidden)


def lstm_jacobians(x: np.ndarray, weight_ih: np.ndarray, weight_hh: np.ndarray,
                   bias_ih: np.ndarray, bias_hh: np.ndarray, h0: np.ndarray | None = None,
                   c0: np.ndarray | None = None) -> list[LSTMStepJacobian]:
    """Run a one-layer LSTM over one sequence and return the Jacobian of every step.

    ``x`` (T, I) one sequence; the parameters as in :func:`lstm_step_jacobian`; ``h0``,
    ``c0`` (H,) the initial state, zeros if None. Returns a list of T
    :class:`LSTMStepJacobian`; entry t maps the state after step t - 1 to the state after
    step t, and its ``h``, ``c`` are the layer's outputs at step t. Errors as
    :func:`lstm_step_jacobian`.
    """
    n_in, hidden = _weights(weight_ih, weight_hh, bias_ih, bias_hh)
    checks.array("x", x, (None, n_in), "(T, I)")
    dtype = np.result_type(x, weight_ih, weight_hh)
    h = np.zeros(hidden, dtype) if h0 is None else checks.array("h0", h0, (hidden,), "(H,)")
    c = np.zeros(hidden, dtype) if c0 is None else checks.array("c0", c0, (hidden,), "(H,)")
    out = []
    for x_t in x:
        step = _step(x_t, h, c, weight_ih, weight_hh, bias_ih, bias_hh, hidden)
        out.append(step)
        h, c = step.h, step.c
    return out
