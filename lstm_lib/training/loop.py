"""The one small training loop the chapters share.

    history = fit(model, loss_fn, get_batch, steps=300, lr=1e-2, clip=1.0)

``get_batch(step)`` returns a batch (anything), ``loss_fn(model, batch)`` returns a scalar
loss tensor; Adam updates the model; the global gradient norm is recorded before clipping
(``grad_norm``) and as applied, after clipping (``applied_norm``).
A progress bar is shown to people running the notebook (on stderr); it is off when the
environment variable ``LSTM_LIB_PROGRESS=0`` (as under ``make``), so stored outputs and
nbval never see it.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from lstm_lib import checks
from lstm_lib.training.clipping import clip_torch_grads_, global_grad_norm


@dataclass
class History:
    """What ``fit`` recorded: per step the loss, the global gradient norm before clipping
    and the one applied after it; per evaluation the step and each metric of ``eval_fn``."""

    step: list[int] = field(default_factory=list)
    loss: list[float] = field(default_factory=list)
    grad_norm: list[float] = field(default_factory=list)
    applied_norm: list[float] = field(default_factory=list)
    eval_step: list[int] = field(default_factory=list)
    metrics: dict[str, list[float]] = field(default_factory=dict)
    diverged: bool = False

    def last(self, name: str = "loss") -> float:
        """The last recorded value of ``loss``, ``grad_norm`` or a metric."""
        fields = ("loss", "grad_norm", "applied_norm")
        values = getattr(self, name) if name in fields else self.metrics[name]
        return values[-1]


def progress_enabled() -> bool:
    """True unless LSTM_LIB_PROGRESS is "0" (make sets it so stored outputs stay clean)."""
    return os.environ.get("LSTM_LIB_PROGRESS", "1") != "0"


def progress(iterable: Iterable[Any], *, total: int | None = None,
             desc: str = "training") -> Iterable[Any]:
    """``iterable`` with a progress bar on stderr for people running a notebook (tqdm), or
    unchanged when ``progress_enabled()`` is false, so stored outputs never show one.
    Use it for any loop that runs longer than a few seconds:
    ``for step in progress(range(n), desc="ablation"): ...``."""
    if not progress_enabled():
        return iterable
    try:
        from tqdm import tqdm
    except ImportError:  # pragma: no cover - tqdm is in requirements.txt
        return iterable
    return tqdm(iterable, total=total, desc=desc, leave=False)


def batch_stream(make_batch: Callable[[np.random.Generator], Any],
                 seed: int | np.random.Generator) -> Callable[[int], Any]:
    """A ``get_batch`` for ``fit`` that draws a fresh batch at every step.

    ``make_batch(rng)`` returns one batch drawn from the NumPy Generator ``rng``; the stream
    owns one Generator, ``np.random.default_rng(seed)`` (or ``seed`` itself if it is one),
    so two models trained on ``batch_stream(make_batch, seed)`` with the same seed see the
    same batches in the same order. The returned ``get_batch(step)`` ignores ``step``: call
    it once per step, in order, as ``fit`` does.
    """
    if not callable(make_batch):
        raise TypeError(f"make_batch must be callable (rng -> batch), got "
                        f"{type(make_batch).__name__}")
    rng = checks.generator(seed, "seed")

    def get_batch(step: int) -> Any:
        return make_batch(rng)

    return get_batch


def fit(
    model: torch.nn.Module,
    loss_fn: Callable[[torch.nn.Module, Any], torch.Tensor],
    get_batch: Callable[[int], Any],
    steps: int,
    *,
    lr: float = 1e-2,
    clip: float | None = None,
    optimizer: torch.optim.Optimizer | None = None,
    eval_fn: Callable[[torch.nn.Module], dict[str, float]] | None = None,
    eval_every: int = 0,
    stop_on_divergence: bool = True,
) -> History:
    """Train ``model`` for ``steps`` steps of Adam (or ``optimizer``) and return the History.

    get_batch(step) -> batch; loss_fn(model, batch) -> scalar tensor. ``clip``: if given,
    rescale the gradients so their global norm is at most ``clip``
    (``lstm_lib.training.clipping.clip_torch_grads_``). The global norm is measured once per step
    (``lstm_lib.training.clipping.global_grad_norm``); the applied norm is measured again only on a
    step whose gradients clipping scaled (otherwise it is that same number).
    ``eval_fn(model)`` returns a dict of floats,
    run under ``torch.no_grad()`` every ``eval_every`` steps (0: only at the end). A
    non-finite loss or gradient norm stops training (``History.diverged``; that step's
    ``applied_norm`` is NaN); with ``stop_on_divergence=False`` training goes on, and such a
    step is not clipped (its ``applied_norm`` is the measured norm).
    """
    steps = checks.positive_int("steps", steps)
    if isinstance(eval_every, bool) or not isinstance(eval_every, int) or eval_every < 0:
        raise ValueError(f"eval_every must be an int >= 0, got {eval_every!r}")
    if clip is not None and not clip > 0:
        raise ValueError(f"clip must be positive or None, got {clip!r}")
    if not lr > 0:
        raise ValueError(f"lr must be positive, got {lr!r}")
    params = [p for p in model.parameters() if p.requires_grad]
    opt = optimizer or torch.optim.Adam(params, lr=lr)
    hist = History()

    def evaluate(step: int) -> None:
        if eval_fn is None:
            return
        model.eval()
        with torch.no_grad():
            results = eval_fn(model)
        model.train()
        hist.eval_step.append(step)
        for k, v in results.items():
            hist.metrics.setdefault(k, []).append(float(v))

    bar = progress(range(steps), desc="training")
    model.train()
    for step in bar:
        opt.zero_grad()
        loss = loss_fn(model, get_batch(step))
        value = float(loss.detach())
        loss.backward()
        norm = global_grad_norm(params)
        if not (math.isfinite(value) and math.isfinite(norm)) and stop_on_divergence:
            hist.step.append(step)
            hist.loss.append(value)
            hist.grad_norm.append(norm)
            hist.applied_norm.append(math.nan)
            hist.diverged = True
            break
        applied = norm
        if clip is not None and math.isfinite(norm):
            clip_torch_grads_(params, clip, norm=norm)   # measured once, above
            if norm > clip:  # the gradients were scaled: measure what is applied
                applied = global_grad_norm(params)
        opt.step()
        hist.step.append(step)
        hist.loss.append(value)
        hist.grad_norm.append(norm)
        hist.applied_norm.append(applied)
        if eval_every and (step + 1) % eval_every == 0:
            evaluate(step + 1)
        if hasattr(bar, "set_postfix"):
            bar.set_postfix(loss=f"{value:.4f}", refresh=False)
    if hasattr(bar, "close"):
        bar.close()
    if eval_fn is not None and (not hist.eval_step or hist.eval_step[-1] != len(hist.step)):
        evaluate(len(hist.step))
    return hist
