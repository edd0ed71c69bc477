"""The sLSTM and mLSTM of xLSTM (Beck et al. 2024) from torch ops; autograd backward.

One concept, one place: the functions and the layer live in the recipe
``lstm_lib.recipes.state_tracking``, whose docstrings hold the equations (they match
xlstm 2.0.6's reference functions). This module only re-exports them under the package's
torch namespace, as the twin of ``lstm_lib.numpy.xlstm``:

- ``slstm_pointwise(Wx, Ry, b, states, constants=None)``: one sLSTM step after the matrix
  products; Wx, Ry (B, 4H), b (1, 4H), states (4, B, H) = y, c, n, m; returns
  ``(new states (4, B, H), gates (4, B, H) = i, f, z~, o)``.
- ``SLSTM(input_size, hidden_size)``: the layer; ``weight_ih`` (4H, I), ``weight_hh``
  (4H, H), ``bias`` (4H); ``forward(x (B, T, I), states=None) -> (output (B, T, H), states)``.
- ``mlstm_parallel(q, k, v, igate_preact, fgate_preact, eps=1e-6)``: the mLSTM over a whole
  sequence at once; q, k, v (B, NH, S, DH), gates (B, NH, S, 1); returns h~ (B, NH, S, DH).
- ``mlstm_step(c, n, m, q, k, v, i_pre, f_pre, eps=1e-6)``: one recurrent mLSTM step.
- ``mlstm_recurrent(...)``: ``mlstm_step`` through time from a zero state; the arguments and
  result of ``mlstm_parallel``.
"""

from lstm_lib.recipes.state_tracking import (
    SLSTM,
    mlstm_parallel,
    mlstm_recurrent,
    mlstm_step,
    slstm_pointwise,
)

__all__ = ["slstm_pointwise", "SLSTM", "mlstm_parallel", "mlstm_step", "mlstm_recurrent"]
