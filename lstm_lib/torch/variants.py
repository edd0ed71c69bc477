"""LSTM variants with parts removed, for ablation studies in the manner of Greff et al. (2017).

The step is ``lstm_lib.torch.lstm.lstm_step`` with four switches. Each part is either kept
or replaced by the identity::

    "forget"       f = 1                (no forget gate: the 1997 LSTM's cell)
    "input"        i = 1                (no input gate)
    "output"       o = 1                (no output gate)
    "output_tanh"  h = o * c            (no output activation; h = o * tanh(c) otherwise)

A switch is a multiplier ``keep`` in {0, 1}: ``gate * keep + (1 - keep)`` is the gate itself
(keep = 1, bit for bit) or exactly 1 (keep = 0), and the gradient reaching the removed gate's
weights is exactly zero, so an optimiser leaves them where they started. (A single model
takes a branch instead of the arithmetic; a stack of models needs one value per model.)

Two modules:

- ``AblatedLSTM``: one layer, a drop-in ``lstm_lib.torch.LSTM`` (same constructor plus
  ``ablate``, same weights for the same seed, ``torch.nn.LSTM``'s state_dict keys).
- ``AblationStack``: M independent one-layer LSTM regressors (each with its own ablation,
  seed and linear read-out) computed together with batched matrix products, so a table of
  variants x seeds trains for the price of one Python loop over time.

``chrono_init_`` sets the gate biases of Tallec & Ollivier (2018); ``chrono_keep_bias_`` sets
only the half that keeps the state (the LSTM's forget gate, or the GRU's update gate).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import torch
from torch import nn

from lstm_lib import checks, params
from lstm_lib.torch._stack import as_tensor, torch_dtype
from lstm_lib.torch.lstm import LSTM

PARTS = ("forget", "input", "output", "output_tanh")
"""The parts that can be removed, in the order of the ``keep`` vector."""


def _parts(ablate: Iterable[str] | str) -> frozenset[str]:
    """Validate an ablation: a part name or an iterable of them (empty: the full LSTM)."""
    if isinstance(ablate, str):
        ablate = (ablate,)
    try:
        parts = frozenset(ablate)
    except TypeError as err:
        raise TypeError(f"ablate must be an iterable of part names, got {ablate!r}") from err
    unknown = sorted(p for p in parts if p not in PARTS)
    if unknown:
        raise ValueError(f"unknown part(s) {unknown}; expected a subset of {list(PARTS)}")
    return parts


def keep_vector(ablate: Iterable[str] | str) -> tuple[float, float, float, float]:
    """The multipliers (keep_f, keep_i, keep_o, keep_tanh): 1.0 keeps a part, 0.0 removes it."""
    parts = _parts(ablate)
    return tuple(0.0 if p in parts else 1.0 for p in PARTS)  # type: ignore[return-value]


def _switch(gate: torch.Tensor, keep: Any, drop: Any) -> torch.Tensor:
    """gate * keep + drop: the gate itself (keep = 1, drop = 0) or exactly 1 (keep = 0, drop = 1).
    Python numbers take a branch; tensors (one value per model of a stack) a fused addcmul."""
    if isinstance(keep, torch.Tensor):
        return torch.addcmul(drop, gate, keep)
    return gate if keep else torch.ones_like(gate)


def ablated_step(z: torch.Tensor, c_prev: torch.Tensor, keep: Sequence[Any],
                 drop: Sequence[Any] | None = None) -> dict[str, torch.Tensor]:
    """One LSTM step with parts removed.

    z: (..., B, 4H) pre-activations in the order i, f, g, o; c_prev: (..., B, H).
    keep: (keep_f, keep_i, keep_o, keep_tanh), each 1 (keep the part) or 0 (remove it), as
    Python numbers or as tensors broadcastable against (..., B, H); ``drop`` = 1 - keep
    (computed if not given; pass it to save the work in a loop). Returns the dict of
    ``lstm_step``: gates i, f, g, o and states c, h, each (..., B, H). With every keep equal
    to 1 the result is ``lstm_step(z, c_prev)`` bit for bit.
    """
    if drop is None:
        drop = tuple(1 - k for k in keep)
    zi, zf, zg, zo = z.chunk(4, dim=-1)
    f = _switch(torch.sigmoid(zf), keep[0], drop[0])
    i = _switch(torch.sigmoid(zi), keep[1], drop[1])
    o = _switch(torch.sigmoid(zo), keep[2], drop[2])
    g = torch.tanh(zg)
    c = f * c_prev + i * g
    keep_t, drop_t = keep[3], drop[3]
    if isinstance(keep_t, torch.Tensor):
        act = torch.addcmul(c * drop_t, torch.tanh(c), keep_t)
    else:
        act = torch.tanh(c) if keep_t else c
    h = o * act
    return {"i": i, "f": f, "g": g, "o": o, "c": c, "h": h}


class AblatedLSTM(LSTM):
    """A one-direction ``lstm_lib.torch.LSTM`` with parts removed.

    ``AblatedLSTM(input_size, hidden_size, num_layers=1, dtype=np.float64, seed=0,
    ablate=())``: ``ablate`` names the removed parts (see ``PARTS``); every layer loses the
    same parts. Weights, keys, ``forward`` (x (B, T, I) -> (output (B, T, H), (h_n, c_n)))
    and ``trace`` are those of ``lstm_lib.torch.LSTM``; with ``ablate=()`` it computes
    exactly what ``lstm_lib.torch.LSTM`` computes.
    """

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1,
                 dtype: Any = np.float64, seed: int = 0,
                 ablate: Iterable[str] | str = ()) -> None:
        super().__init__(input_size, hidden_size, num_layers=num_layers, bidirectional=False,
                         dtype=dtype, seed=seed)
        self.ablate = _parts(ablate)
        self.keep = keep_vector(self.ablate)

    def _step(self, z: torch.Tensor, c_prev: torch.Tensor) -> dict[str, torch.Tensor]:
        """``lstm_step`` with the removed parts switched off (the loop is the LSTM's)."""
        return ablated_step(z, c_prev, self.keep)

    def extra_repr(self) -> str:
        removed = ", ".join(p for p in PARTS if p in self.ablate) or "nothing"
        return super().extra_repr() + f", ablate=({removed})"


def chrono_biases(hidden_size: int, t_max: float, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Tallec & Ollivier's (2018) "chrono" gate biases for one layer.

    b_f = log(u) with u ~ U(1, t_max - 1) per unit, and b_i = -b_f: unit k starts out
    remembering over about u_k steps, with its input gate mostly shut. Returns
    (b_i, b_f), each (hidden_size,) float64, drawn from ``np.random.default_rng(seed)``.
    """
    hidden_size = checks.positive_int("hidden_size", hidden_size)
    if not (isinstance(t_max, (int, float)) and math.isfinite(t_max) and t_max > 2):
        raise ValueError(f"t_max must be a finite number > 2, got {t_max!r}")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed must be a non-negative int, got {seed!r}")
    u = np.random.default_rng(int(seed)).uniform(1.0, t_max - 1.0, size=hidden_size)
    b_f = np.log(u)
    return -b_f, b_f


def chrono_init_(lstm: nn.Module, t_max: float, seed: int = 0) -> nn.Module:
    """Set the input- and forget-gate biases of every layer of ``lstm`` to the chrono ones.

    ``lstm``: any module with ``torch.nn.LSTM``'s parameter names (``nn.LSTM``,
    ``lstm_lib.torch.LSTM``, ``AblatedLSTM``). For each layer and direction, rows i (0:H)
    and f (H:2H) of ``bias_ih`` get ``chrono_biases(H, t_max, seed + k)`` (k counts the
    layer-directions) and the same rows of ``bias_hh`` get 0; other parameters are
    untouched. Returns ``lstm``.
    """
    names = dict(lstm.named_parameters())
    H = getattr(lstm, "hidden_size", None)
    if "bias_ih_l0" not in names or not isinstance(H, int):
        raise ValueError("chrono_init_ needs an LSTM with torch.nn.LSTM's parameter names "
                         "(bias_ih_l0, ...) and a hidden_size attribute")
    if names["bias_ih_l0"].shape != (4 * H,):
        raise ValueError(f"bias_ih_l0 must have shape (4H,) = ({4 * H},), "
                         f"got {tuple(names['bias_ih_l0'].shape)}")
    k = 0
    with torch.no_grad():
        for layer in range(getattr(lstm, "num_layers", 1)):
            for d in range(2 if getattr(lstm, "bidirectional", False) else 1):
                _, _, b_ih, b_hh = params.layer_keys(layer, d)
                b_i, b_f = chrono_biases(H, t_max, seed + k)
                bias = names[b_ih]
                bias[:H] = torch.from_numpy(b_i).to(bias.dtype)
                bias[H:2 * H] = torch.from_numpy(b_f).to(bias.dtype)
                names[b_hh][: 2 * H] = 0.0
                k += 1
    return lstm


def chrono_keep_bias_(rnn: nn.Module, t_max: float, seed: int = 0) -> nn.Module:
    """Chrono-initialise only the gate that keeps the state: the LSTM's f, the GRU's z.

    ``rnn``: a module with ``torch.nn.LSTM``'s or ``torch.nn.GRU``'s parameter names
    (``bias_ih_l0`` of 4H rows for an LSTM, 3H for a GRU, and a ``hidden_size``). In both,
    rows H:2H of the biases belong to that gate. For each layer and direction, those rows of
    ``bias_ih`` get ``b_f = log(u)`` of ``chrono_biases(H, t_max, seed + k)`` (k counts the
    layer-directions, as in ``chrono_init_``, so the same seed gives the same ``b_f``) and
    the same rows of ``bias_hh`` get 0; every other parameter is left as it was.

    - LSTM: unlike ``chrono_init_``, the input gate keeps its initial biases (PyTorch's
      default: about 0, so i starts near 1/2). This isolates the forget-gate half of chrono.
    - GRU (``h' = (1 - z) * n + z * h``): the state is kept with weight z and written with
      weight 1 - z, so this starts the GRU remembering over about u steps with its write
      mostly shut, as ``chrono_init_`` starts an LSTM (there i = 1 - f exactly).

    Returns ``rnn``.
    """
    names = dict(rnn.named_parameters())
    H = getattr(rnn, "hidden_size", None)
    if "bias_ih_l0" not in names or not isinstance(H, int):
        raise ValueError("chrono_keep_bias_ needs an LSTM or GRU with torch.nn's parameter "
                         "names (bias_ih_l0, ...) and a hidden_size attribute")
    rows = names["bias_ih_l0"].shape[0]
    if names["bias_ih_l0"].ndim != 1 or rows not in (3 * H, 4 * H):
        raise ValueError(f"bias_ih_l0 must have 4H (LSTM) or 3H (GRU) rows, H = {H}; got "
                         f"shape {tuple(names['bias_ih_l0'].shape)} (a plain RNN has no gate "
                         "to set)")
    k = 0
    with torch.no_grad():
        for layer in range(getattr(rnn, "num_layers", 1)):
            for d in range(2 if getattr(rnn, "bidirectional", False) else 1):
                _, _, b_ih, b_hh = params.layer_keys(layer, d)
                _, b_f = chrono_biases(H, t_max, seed + k)
                bias = names[b_ih]
                bias[H:2 * H] = torch.from_numpy(b_f).to(bias.dtype)
                names[b_hh][H:2 * H] = 0.0
                k += 1
    return rnn


class AblationStack(nn.Module):
    """M independent LSTM regressors, each with its own ablation, seed and read-out.

    ``AblationStack(input_size, hidden_size, ablations, seeds, out_features=1,
    dtype=np.float32, chrono_t_max=None)``: member m is ``AblatedLSTM(input_size,
    hidden_size, ablate=ablations[m], seed=seeds[m], dtype=dtype)`` (chrono-initialised with
    ``chrono_init_(lstm, chrono_t_max, seeds[m])`` if ``chrono_t_max`` is given) followed by
    a linear read-out of its last hidden state, initialised like ``nn.Linear`` from
    ``torch.Generator().manual_seed(seeds[m])``. ``member(m)`` returns those two modules.

    Parameters are stacked along a leading member axis: ``weight_ih`` (M, 4H, I),
    ``weight_hh`` (M, 4H, H), ``bias_ih``, ``bias_hh`` (M, 4H), ``readout_weight``
    (M, out, H), ``readout_bias`` (M, out). The members never mix: the loss
    ``per_member_loss(...).sum()`` gives each member the gradient of its own loss, Adam is
    elementwise, and ``clip_grad_norm_`` clips each member's gradient on its own.
    """

    def __init__(self, input_size: int, hidden_size: int, ablations: Sequence[Any],
                 seeds: Sequence[int], out_features: int = 1, dtype: Any = np.float32,
                 chrono_t_max: float | None = None) -> None:
        super().__init__()
        self.input_size = checks.positive_int("input_size", input_size)
        self.hidden_size = checks.positive_int("hidden_size", hidden_size)
        self.out_features = checks.positive_int("out_features", out_features)
        if isinstance(ablations, str) or len(ablations) != len(seeds) or len(seeds) == 0:
            raise ValueError(f"ablations and seeds must be sequences of the same length >= 1, "
                             f"got {len(ablations)} and {len(seeds)}")
        self.ablations = [_parts(a) for a in ablations]
        self.seeds = [int(s) for s in seeds]
        self.dtype = torch_dtype(dtype)
        self.chrono_t_max = chrono_t_max
        members = [self._build_member(m) for m in range(len(self.seeds))]
        for key in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
            stacked = torch.stack([getattr(lstm, f"{key}_l0").detach() for lstm, _ in members])
            self.register_parameter(key, nn.Parameter(stacked.clone()))
        self.readout_weight = nn.Parameter(torch.stack([lin.weight.detach() for _, lin in members]))
        self.readout_bias = nn.Parameter(torch.stack([lin.bias.detach() for _, lin in members]))
        keep = torch.tensor([keep_vector(a) for a in self.ablations], dtype=self.dtype)
        self.register_buffer("keep", keep[:, :, None, None])  # (M, 4, 1, 1)

    @property
    def num_members(self) -> int:
        """M, the number of independent models."""
        return len(self.seeds)

    def _build_member(self, m: int) -> tuple[AblatedLSTM, nn.Linear]:
        lstm = AblatedLSTM(self.input_size, self.hidden_size, dtype=self.dtype,
                           seed=self.seeds[m], ablate=self.ablations[m])
        if self.chrono_t_max is not None:
            chrono_init_(lstm, self.chrono_t_max, self.seeds[m])
        gen = torch.Generator().manual_seed(self.seeds[m])
        bound = 1.0 / math.sqrt(self.hidden_size)
        lin = nn.Linear(self.hidden_size, self.out_features, dtype=self.dtype)
        with torch.no_grad():
            lin.weight.uniform_(-bound, bound, generator=gen)
            lin.bias.uniform_(-bound, bound, generator=gen)
        return lstm, lin

    def member(self, m: int) -> tuple[AblatedLSTM, nn.Linear]:
        """Member m as stand-alone modules holding copies of its current parameters."""
        if isinstance(m, bool) or not isinstance(m, int) or not 0 <= m < self.num_members:
            raise ValueError(f"m must be an int in [0, {self.num_members}), got {m!r}")
        lstm = AblatedLSTM(self.input_size, self.hidden_size, dtype=self.dtype,
                           seed=self.seeds[m], ablate=self.ablations[m])
        lstm.load_state_dict({f"{k}_l0": getattr(self, k)[m].detach().clone()
                              for k in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")})
        lin = nn.Linear(self.hidden_size, self.out_features, dtype=self.dtype)
        with torch.no_grad():
            lin.weight.copy_(self.readout_weight[m])
            lin.bias.copy_(self.readout_bias[m])
        return lstm, lin

    def forward(self, x: Any) -> torch.Tensor:
        """x: (B, T, I), the same batch for every member, or (M, B, T, I), one per member.
        Returns the read-out of each member's last hidden state: (M, B, out_features)."""
        M = self.num_members
        if isinstance(x, (np.ndarray, torch.Tensor)) and x.ndim == 4:
            x = as_tensor("x", x, (M, None, None, self.input_size), "(M, B, T, I)", self.dtype)
        else:
            x = as_tensor("x", x, (None, None, self.input_size), "(B, T, I)", self.dtype)
            x = x.expand(M, *x.shape)
        B, H = x.shape[1], self.hidden_size
        # (M, B, T, 4H): the input part of every step, one batched product for all members
        x_proj = x @ self.weight_ih.transpose(1, 2)[:, None] + (self.bias_ih + self.bias_hh)[
            :, None, None]
        w_hh_t = self.weight_hh.transpose(1, 2)  # (M, H, 4H)
        keep = tuple(self.keep[:, k] for k in range(4))  # each (M, 1, 1)
        drop = tuple(1 - k for k in keep)
        h = torch.zeros(M, B, H, dtype=self.dtype)
        c = torch.zeros(M, B, H, dtype=self.dtype)
        # unbind: one backward node for all steps (indexing x_proj[:, :, t] inside the loop
        # would make autograd add T gradients the size of the whole x_proj)
        for x_t in x_proj.unbind(2):
            step = ablated_step(torch.baddbmm(x_t, h, w_hh_t), c, keep, drop)
            h, c = step["h"], step["c"]
        return torch.baddbmm(self.readout_bias[:, None], h, self.readout_weight.transpose(1, 2))

    def per_member_loss(self, pred: torch.Tensor, y: Any) -> torch.Tensor:
        """Mean squared error of each member: pred (M, B, out), y (B, out) or (M, B, out)
        -> (M,). Sum it for a loss whose gradient is every member's own."""
        y = torch.as_tensor(checks.positive_strides(y), dtype=pred.dtype)
        return ((pred - y) ** 2).mean(dim=(1, 2))

    def grad_norms(self) -> torch.Tensor:
        """(M,): the norm of each member's gradient over all of its parameters."""
        sq = torch.zeros(self.num_members, dtype=torch.float64)
        for p in self.parameters():
            if p.grad is not None:
                sq += (p.grad.detach().double() ** 2).reshape(self.num_members, -1).sum(1)
        return sq.sqrt()

    def clip_grad_norm_(self, max_norm: float) -> torch.Tensor:
        """Clip each member's gradient as ``torch.nn.utils.clip_grad_norm_`` would clip
        that member alone (scale by min(1, max_norm / (norm + 1e-6))). Returns the norms (M,)."""
        if not max_norm > 0:
            raise ValueError(f"max_norm must be positive, got {max_norm!r}")
        norms = self.grad_norms()
        scale = (max_norm / (norms + 1e-6)).clamp(max=1.0).to(self.dtype)
        for p in self.parameters():
            if p.grad is not None:
                p.grad.mul_(scale.reshape(-1, *([1] * (p.grad.ndim - 1))))
        return norms

    def extra_repr(self) -> str:
        return (f"{self.input_size}, {self.hidden_size}, members={self.num_members}, "
                f"out_features={self.out_features}, dtype={self.dtype}")
