"""The set-ups of the vanishing-gradients chapter: networks built to a recipe, and the
gradient they pass back against the lag, as named results.

- :func:`orthogonal_rnn` builds a tanh RNN (NumPy or torch) with ``lstm_lib``'s default
  initialisation except ``W_hh = rho * Q`` (``Q`` orthogonal), optionally without biases.
- :func:`rnn_lag_profiles` measures ``||dL/dh_t||`` against the lag twice, with the NumPy
  backward and with torch autograd on twin layers, and returns both profiles and their gap.
- :func:`lstm_with_forget_bias` builds a NumPy LSTM with a chosen forget-gate bias (and, if
  asked, ``W_hh = 0`` or a scaled ``W_hh``); :func:`lstm_lag_profiles` measures its
  ``dL/dc_t``, the direct forget-gate path alone, and ``dL/dh_t``.
- :func:`rate_over` is the end-to-end rate per step of a profile, ``p[k] ** (1/k)``.
- :func:`rnn_weight_grads_by_lag` splits the gradient of a weight into the contribution of
  every step, by lag: the weight gradient is a sum over lags.
- :func:`sci` prints a small result as ``"1.4 × 10^-13"``, a form the notebook tests
  compare (``1.4e-13`` is masked as round-off by the nbval sanitizer).

The loss is always ``L = sum_b <u_b, h_T,b>`` for a fixed direction ``u`` (B, H), as in
``lstm_lib.analysis.gradients``; profiles are :func:`lstm_lib.analysis.gradients.lag_profile`
curves, (T,),
entry ``k`` the gradient at lag ``k`` relative to lag 0.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from lstm_lib import checks
from lstm_lib import numpy as lnp
from lstm_lib import torch as lt
from lstm_lib.analysis import gradients


@dataclass(frozen=True)
class RNNProfiles:
    """What :func:`rnn_lag_profiles` measured.

    ``numpy``, ``torch``: (T,) lag profiles of ``||dL/dh_t||`` from the NumPy backward and
    from autograd; ``gap``: the largest ``|numpy / torch - 1|`` over every example and step
    (before averaging over the batch); ``layer``: the NumPy RNN measured (for its trace).
    """

    numpy: np.ndarray
    torch: np.ndarray
    gap: float
    layer: lnp.RNN


@dataclass(frozen=True)
class LSTMProfiles:
    """What :func:`lstm_lag_profiles` measured, each a (T,) lag profile.

    ``cell``: ``||dL/dc_t||`` through every path; ``direct``: the direct path
    ``c_t -> c_{t+1} -> ... -> c_T`` alone (the product of forget gates times ``dL/dc_T``);
    ``hidden``: ``||dL/dh_t||``, the quantity measured for the RNN, or None when ``W_hh = 0``
    (then ``h_t`` feeds nothing after step ``t`` and that gradient is 0); ``gap``: the largest
    ``|dL/dc_t - direct path|`` over every example, step and unit (0 when ``W_hh = 0``).
    """

    cell: np.ndarray
    direct: np.ndarray
    hidden: np.ndarray | None
    gap: float


def orthogonal_rnn(input_size: int, hidden_size: int, rho: float, *, biases: bool = True,
                   seed: int = 0, q_seed: int = 1, kind: str = "numpy") -> Any:
    """A one-layer tanh RNN with ``W_hh = rho * Q``, ``Q`` a seeded random orthogonal matrix.

    The other weights are ``lstm_lib``'s default (PyTorch's: uniform in ``±1/sqrt(H)``, drawn
    from ``seed``); ``biases=False`` sets both bias vectors to zero. ``kind``: ``"numpy"``
    (an ``lstm_lib.numpy.RNN``) or ``"torch"`` (its ``lstm_lib.torch.RNN`` twin, float64);
    the same arguments give the same weights in both. ``Q`` comes from
    :func:`lstm_lib.analysis.gradients.scaled_orthogonal` with ``q_seed``.
    """
    if kind not in ("numpy", "torch"):
        raise ValueError(f"kind must be 'numpy' or 'torch', got {kind!r}")
    if not isinstance(biases, bool):
        raise TypeError(f"biases must be a bool, got {type(biases).__name__}")
    sd = lnp.RNN(input_size, hidden_size, seed=seed).state_dict()
    sd["weight_hh_l0"] = gradients.scaled_orthogonal(hidden_size, rho, seed=q_seed)
    if not biases:
        sd["bias_ih_l0"][:] = 0.0
        sd["bias_hh_l0"][:] = 0.0
    layer = (lnp.RNN if kind == "numpy" else lt.RNN)(input_size, hidden_size)
    layer.load_state_dict(sd)
    return layer


def rnn_lag_profiles(rho: float, x: np.ndarray, u: np.ndarray, *, biases: bool = True,
                     seed: int = 0, q_seed: int = 1) -> RNNProfiles:
    """Measure ``||dL/dh_t||`` of :func:`orthogonal_rnn` twice: NumPy backward and autograd.

    ``x`` (B, T, I) inputs; ``u`` (B, H) the loss direction. The NumPy RNN and its torch twin
    are built with the same arguments (so with identical weights). Returns
    :class:`RNNProfiles`.
    """
    x = checks.array("x", x, (None, None, None), "(B, T, I)")
    u = checks.array("u", u, (x.shape[0], None), "(B, H)")
    hidden = u.shape[1]
    kw = dict(biases=biases, seed=seed, q_seed=q_seed)
    numpy_rnn = orthogonal_rnn(x.shape[2], hidden, rho, kind="numpy", **kw)
    torch_rnn = orthogonal_rnn(x.shape[2], hidden, rho, kind="torch", **kw)
    n_np = gradients.numpy_step_grad_norms(numpy_rnn, x, u)
    n_tc = gradients.torch_step_grad_norms(torch_rnn, x, u)
    gap = float(np.max(np.abs(n_np / n_tc - 1.0)))
    return RNNProfiles(gradients.lag_profile(n_np), gradients.lag_profile(n_tc), gap, numpy_rnn)


def lstm_with_forget_bias(input_size: int, hidden_size: int, forget_bias: float, *,
                          recurrent: bool = True, recurrent_scale: float = 1.0,
                          seed: int = 0) -> lnp.LSTM:
    """A one-layer NumPy LSTM, default initialisation, with the forget gate's bias set.

    Rows ``H:2H`` of the biases belong to the forget gate: ``bias_ih`` gets ``forget_bias``
    there and ``bias_hh`` zero, so the gate's total bias is ``forget_bias``.
    ``recurrent=False`` sets ``W_hh = 0`` (the direct cell-state path is then the only one
    from ``c_t`` to the loss); ``recurrent_scale`` multiplies ``W_hh`` otherwise.
    """
    if isinstance(forget_bias, bool) or not isinstance(forget_bias, (int, float)):
        raise TypeError(f"forget_bias must be a number, got {type(forget_bias).__name__}")
    if not np.isfinite(forget_bias):
        raise ValueError(f"forget_bias must be finite, got {forget_bias}")
    if not isinstance(recurrent, bool):
        raise TypeError(f"recurrent must be a bool, got {type(recurrent).__name__}")
    if isinstance(recurrent_scale, bool) or not isinstance(recurrent_scale, (int, float)):
        raise TypeError(f"recurrent_scale must be a number, got {type(recurrent_scale).__name__}")
    if not np.isfinite(recurrent_scale) or recurrent_scale < 0:
        raise ValueError(f"recurrent_scale must be a finite number >= 0, got {recurrent_scale}")
    h = checks.positive_int("hidden_size", hidden_size)
    sd = lnp.LSTM(input_size, h, seed=seed).state_dict()
    sd["bias_ih_l0"][h:2 * h] = forget_bias
    sd["bias_hh_l0"][h:2 * h] = 0.0
    sd["weight_hh_l0"] *= recurrent_scale if recurrent else 0.0
    lstm = lnp.LSTM(input_size, h)
    lstm.load_state_dict(sd)
    return lstm


def lstm_lag_profiles(lstm: lnp.LSTM, x: np.ndarray, u: np.ndarray) -> LSTMProfiles:
    """Lag profiles of a one-layer NumPy LSTM with the loss ``sum_b <u_b, h_T,b>``.

    ``x`` (B, T, I); ``u`` (B, H). Measures ``dL/dc_t`` (every path), the direct
    forget-gate path ``gradients.forget_gate_path`` from ``dL/dc_T``, and ``dL/dh_t``.
    Returns :class:`LSTMProfiles`.
    """
    if not isinstance(lstm, lnp.LSTM):
        raise TypeError(f"lstm must be an lstm_lib.numpy.LSTM, got {type(lstm).__name__}")
    norms_c = gradients.numpy_step_grad_norms(lstm, x, u, loss_at="h", wrt="c")
    dc = lstm.step_grads["c"][0]                                     # (B, T, H): dL/dc_t
    norms_h = np.linalg.norm(lstm.step_grads["h"][0], axis=-1)       # same backward
    direct = gradients.forget_gate_path(lstm.trace(x)["f"][0], dc[:, -1])
    return LSTMProfiles(
        cell=gradients.lag_profile(norms_c),
        direct=gradients.lag_profile(np.linalg.norm(direct, axis=-1)),
        hidden=None if not norms_h[:, :-1].any() else gradients.lag_profile(norms_h),
        gap=float(np.max(np.abs(dc - direct))),
    )


def rate_over(profile: np.ndarray, lag: int) -> float:
    """The end-to-end factor per step of a lag profile: ``(profile[lag] / profile[0])**(1/lag)``.

    ``profile`` (T,) positive, as from :func:`lstm_lib.analysis.gradients.lag_profile`; ``lag`` in
    ``[1, T)``. Unlike a fitted slope, this is exactly the geometric mean of the ``lag``
    per-step factors, whatever the shape of the curve in between.
    """
    profile = np.asarray(profile, dtype=np.float64)
    if profile.ndim != 1 or not (np.isfinite(profile).all() and (profile > 0).all()):
        raise ValueError("profile must be a 1-D array of finite positive values")
    if isinstance(lag, bool) or not isinstance(lag, (int, np.integer)):
        raise TypeError(f"lag must be an int, got {type(lag).__name__}")
    if not 1 <= lag < profile.size:
        raise ValueError(f"lag must be in [1, {profile.size}), got {lag}")
    return float((profile[lag] / profile[0]) ** (1.0 / lag))


def rnn_weight_grads_by_lag(layer: lnp.RNN, x: np.ndarray, u: np.ndarray
                            ) -> dict[str, np.ndarray]:
    """The gradient of each weight of a one-layer NumPy RNN, split into one term per lag.

    The loss is ``sum_b <u_b, h_T,b>``; ``x`` (B, T, I), ``u`` (B, H). A weight is shared by
    all steps, so its gradient is the sum of one term per step: with
    ``delta_t = (1 - h_t^2) * dL/dh_t`` (B, H), step ``t`` contributes ``delta_t^T x_t`` to
    ``dL/dW_ih`` and ``delta_t^T h_{t-1}`` to ``dL/dW_hh`` (``h_{-1} = 0``, the initial
    state). Returns ``{"weight_ih_l0": (T, H, I), "weight_hh_l0": (T, H, H)}`` indexed by lag:
    entry ``k`` belongs to the 0-based step ``T - 1 - k``, so the last step has lag 0 (in the
    book's 1-based numbering, steps ``1..T``, it is step ``T - k``). Summed over the first
    axis they are ``layer.grads``.
    """
    if not isinstance(layer, lnp.RNN) or layer.num_layers != 1 or layer.bidirectional:
        raise TypeError("layer must be a one-layer, one-direction lstm_lib.numpy.RNN")
    x = checks.array("x", x, (None, None, layer.input_size), "(B, T, I)")
    gradients.numpy_step_grad_norms(layer, x, u)       # forward and backward, loss on h_T
    dh = layer.step_grads["h"][0]                      # (B, T, H): dL/dh_t, every path
    h = layer.trace(x)["h"][0]                         # (B, T, H)
    delta = (1.0 - h**2) * dh                          # gradient at the pre-activation
    h_prev = np.concatenate([np.zeros_like(h[:, :1]), h[:, :-1]], axis=1)
    by_step = {"weight_ih_l0": np.einsum("bth,bti->thi", delta, x),
               "weight_hh_l0": np.einsum("bth,btj->thj", delta, h_prev)}
    return {k: v[::-1].copy() for k, v in by_step.items()}



def plot_lag_profiles(ax: Any, profiles: dict[str, RNNProfiles], *, title: str,
                      theory: dict[str, np.ndarray] | None = None,
                      theory_in_colour: bool = False) -> Any:
    """Draw :class:`RNNProfiles` against the lag on a log scale, into the Matplotlib ``ax``.

    ``profiles``: label -> profiles; the NumPy profile is drawn as a line, the torch one as
    dots at every fifth lag, in the same colour. ``theory``: label -> (T,) curve, drawn as a
    wide light-grey line behind the data (or dotted in the profile's colour with
    ``theory_in_colour``). The legend names every curve and has one entry each for the torch
    dots and the theory. Returns ``ax``; the caller ends the cell with ``plt.show()``.
    """
    if not profiles:
        raise ValueError("profiles must not be empty")
    for j, (label, prof) in enumerate(profiles.items()):
        if not isinstance(prof, RNNProfiles):
            raise TypeError(f"profiles[{label!r}] must be RNNProfiles, got {type(prof).__name__}")
        lags = np.arange(prof.numpy.size)
        ax.semilogy(lags, prof.numpy, color=f"C{j}", label=label, zorder=3)
        ax.semilogy(lags[::5], prof.torch[::5], "o", color=f"C{j}", markersize=4, zorder=4)
        if theory is not None:
            style = dict(color=f"C{j}", linestyle=":", linewidth=1) if theory_in_colour else \
                dict(color="0.8", linestyle="-", linewidth=4)
            ax.semilogy(lags, theory[label], zorder=2, **style)
    ax.semilogy([], [], "o", color="0.3", markersize=4, label="torch autograd (dots)")
    if theory is not None:
        ax.semilogy([], [], label=r"theory $\rho^k$" + (" (dotted)" if theory_in_colour else ""),
                    **(dict(color="0.3", linestyle=":", linewidth=1) if theory_in_colour
                       else dict(color="0.8", linewidth=4)))
    ax.set_xlabel("lag T - t (steps back)")
    ax.set_ylabel("||dL/dh_t|| / ||dL/dh_T||")
    ax.set_title(title)
    ax.grid(True, alpha=0.3)
    ax.legend(frameon=False, fontsize=8)
    return ax


def sci(value: float, digits: int = 1) -> str:
    """``value`` (a finite float) as ``"1.4 × 10^-13"``, rounded to ``digits`` decimals.

    Small results whose value matters are printed this way in the book: the nbval sanitizer
    masks ``1.4e-13`` as round-off, but compares this form. ``digits`` >= 0.
    """
    if isinstance(digits, bool) or not isinstance(digits, (int, np.integer)):
        raise TypeError(f"digits must be an int, got {type(digits).__name__}")
    if digits < 0:
        raise ValueError(f"digits must be >= 0, got {digits}")
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(f"value must be a real number, got {type(value).__name__}")
    if not np.isfinite(value):
        raise ValueError(f"value must be finite, got {value}")
    mantissa, exponent = f"{float(value):.{digits}e}".split("e")
    return f"{mantissa} × 10^{int(exponent)}"


__all__ = ["RNNProfiles", "LSTMProfiles", "orthogonal_rnn", "rnn_lag_profiles",
           "lstm_with_forget_bias", "lstm_lag_profiles", "rate_over", "rnn_weight_grads_by_lag",
           "plot_lag_profiles", "sci"]
