"""A small character language model, its score in bits per character, and sampling.

``CharLM`` reads characters one-hot (``x_t`` is a V-vector with one 1) into one recurrent
layer (``torch.nn.LSTM``, ``GRU`` or ``RNN`` with tanh: the fused kernels train fast) and a
linear read-out to V logits, the scores of the next character. Its loss is the mean
cross-entropy of the next character; in bits,

    bpc = -(1 / n) sum_t log2 p(x_{t+1} | x_1 .. x_t),

the number of bits per character an arithmetic coder driven by the model would need. One-hot
input keeps the recurrent layer's ``state_dict`` exactly ``torch.nn.LSTM``'s, so
``lstm_lib.numpy.LSTM`` loads it as it is (``numpy_lstm_bpc``).
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import nn

from lstm_lib.checks import positive_int
from lstm_lib.data.text import CharVocab, EvalLayout, stream_batches
from lstm_lib.tbptt import run_chunks, train_on_stream
from lstm_lib.train import History

CELLS: dict[str, type[nn.RNNBase]] = {"lstm": nn.LSTM, "gru": nn.GRU, "rnn": nn.RNN}
GATES = {"lstm": 4, "gru": 3, "rnn": 1}
LN2 = math.log(2.0)


def _cell(cell: str) -> str:
    if cell not in CELLS:
        raise ValueError(f"cell must be one of {sorted(CELLS)}, got {cell!r}")
    return cell


def _rate(name: str, p: Any) -> float:
    if isinstance(p, bool) or not isinstance(p, (int, float)) or not 0 <= p < 1:
        raise ValueError(f"{name} must be a float in [0, 1), got {p!r}")
    return float(p)


class CharLM(nn.Module):
    """One-hot characters -> recurrent layer(s) -> linear read-out: next-character logits.

    ``CharLM(vocab_size, hidden_size, cell="lstm"|"gru"|"rnn", num_layers=1, dropout=0.0,
    output_dropout=0.0, unit_forget_bias=False, seed=0)``. ``dropout`` is ``torch.nn``'s
    dropout between stacked layers (needs ``num_layers >= 2``), ``output_dropout`` a dropout
    on the last layer's output before the read-out. Weights are ``torch.nn``'s default
    initialisation, drawn under ``torch.manual_seed(seed)`` (the global generator is left as
    it was); ``unit_forget_bias=True`` (LSTM only) then sets the forget gate's bias to 1, as
    Keras's flag of that name does: ``bias_ih[H:2H] = 1`` and ``bias_hh[H:2H] = 0``.
    Attributes: ``rnn`` (the ``torch.nn`` layer), ``head`` (``nn.Linear(H, V)``).
    """

    def __init__(self, vocab_size: int, hidden_size: int, cell: str = "lstm",
                 num_layers: int = 1, dropout: float = 0.0, output_dropout: float = 0.0,
                 unit_forget_bias: bool = False, seed: int = 0) -> None:
        super().__init__()
        self.vocab_size = positive_int("vocab_size", vocab_size)
        self.hidden_size = positive_int("hidden_size", hidden_size)
        self.num_layers = positive_int("num_layers", num_layers)
        self.cell = _cell(cell)
        dropout = _rate("dropout", dropout)
        if dropout and self.num_layers < 2:
            raise ValueError("dropout between layers needs num_layers >= 2; use output_dropout")
        self.output_dropout = _rate("output_dropout", output_dropout)
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            kwargs: dict[str, Any] = {"nonlinearity": "tanh"} if cell == "rnn" else {}
            self.rnn = CELLS[cell](self.vocab_size, self.hidden_size, self.num_layers,
                                   batch_first=True, dropout=dropout, **kwargs)
            self.head = nn.Linear(self.hidden_size, self.vocab_size)
        if unit_forget_bias:
            if cell != "lstm":
                raise ValueError(f"unit_forget_bias needs cell='lstm', got {cell!r}")
            H = self.hidden_size
            with torch.no_grad():
                for k in range(self.num_layers):
                    getattr(self.rnn, f"bias_ih_l{k}")[H: 2 * H] = 1.0
                    getattr(self.rnn, f"bias_hh_l{k}")[H: 2 * H] = 0.0
        self.drop = nn.Dropout(self.output_dropout)

    def forward(self, ids: torch.Tensor | np.ndarray,
                state: Any = None) -> tuple[torch.Tensor, Any]:
        """``ids``: int ``(B, T)`` character ids; ``state``: the layer's state or None.

        Returns ``(logits (B, T, V), state)``: ``logits[:, t]`` scores the character after
        ``ids[:, t]``; the state as ``torch.nn`` returns it (LSTM: ``(h_n, c_n)``).
        """
        ids = torch.as_tensor(ids)
        if ids.dtype not in (torch.int64, torch.int32, torch.int16, torch.uint8):
            raise TypeError(f"ids must hold integer character ids, got {ids.dtype}")
        if ids.ndim != 2:
            raise ValueError(f"ids must have shape (B, T), got {tuple(ids.shape)}")
        x = nn.functional.one_hot(ids.long(), self.vocab_size).to(self.head.weight.dtype)
        out, state = self.rnn(x, state)
        return self.head(self.drop(out)), state


def count_parameters(cell: str, vocab_size: int, hidden_size: int, num_layers: int = 1) -> int:
    """Scalars in ``CharLM(vocab_size, hidden_size, cell, num_layers)``: per layer
    ``G H (I + H + 2)`` with ``G`` = 4 (LSTM), 3 (GRU), 1 (RNN), plus ``H V + V``."""
    g, V = GATES[_cell(cell)], positive_int("vocab_size", vocab_size)
    H, L = positive_int("hidden_size", hidden_size), positive_int("num_layers", num_layers)
    layers = sum(g * H * ((V if k == 0 else H) + H + 2) for k in range(L))
    return layers + H * V + V


def hidden_for_budget(cell: str, vocab_size: int, n_params: int, num_layers: int = 1) -> int:
    """The hidden size whose ``count_parameters`` is closest to ``n_params`` (ties: smaller)."""
    n_params = positive_int("n_params", n_params)
    best, best_gap = 1, math.inf
    for H in range(1, 4097):
        gap = abs(count_parameters(cell, vocab_size, H, num_layers) - n_params)
        if gap < best_gap:
            best, best_gap = H, gap
    return best


def bits_per_char(logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """Mean cross-entropy in bits: ``logits`` ``(..., V)``, int ``targets`` ``(...)``.
    Returns a scalar tensor (differentiable)."""
    if logits.ndim < 2 or tuple(logits.shape[:-1]) != tuple(targets.shape):
        raise ValueError(f"logits must be (..., V) and targets (...) with the same leading "
                         f"shape, got {tuple(logits.shape)} and {tuple(targets.shape)}")
    flat = logits.reshape(-1, logits.shape[-1])
    return nn.functional.cross_entropy(flat, targets.reshape(-1).long()) / LN2


def _layout_ids(ids: np.ndarray, layout: EvalLayout) -> tuple[np.ndarray, np.ndarray]:
    if not isinstance(ids, np.ndarray) or ids.ndim != 1 or ids.dtype.kind not in "iu":
        raise TypeError("ids must be a NumPy int array (N,)")
    if layout.targets[-1] >= len(ids):
        raise ValueError(f"layout scores position {layout.targets[-1]} but ids has {len(ids)}")
    return ids[layout.inputs], ids[layout.inputs + 1]


def stream_log2_probs(model: CharLM, ids: np.ndarray, layout: EvalLayout,
                      chunk_len: int = 1024) -> np.ndarray:
    """log2 p(ids[t] | ids[:t]) for every position ``t`` in ``layout.targets``, in that order.

    ``ids``: int ``(N,)``. The ``layout.rows`` rows run side by side from a zero state, in
    chunks of ``chunk_len`` steps with the state carried (``lstm_lib.tbptt.run_chunks``), in
    eval mode and without gradients, in the model's dtype. Returns float64
    ``(layout.targets.size,)``.
    """
    chunk_len = positive_int("chunk_len", chunk_len)
    x, y = _layout_ids(ids, layout)
    starts = range(0, x.shape[1], chunk_len)
    xs = [torch.from_numpy(x[:, s: s + chunk_len]) for s in starts]
    was = model.training
    model.eval()
    try:
        with torch.no_grad():
            def step(chunk: torch.Tensor, state: Any) -> tuple[torch.Tensor, Any]:
                logits, state = model(chunk, state)
                return torch.log_softmax(logits, -1), state

            outs, _ = run_chunks(step, xs)
            picked = [logp.gather(-1, torch.from_numpy(y[:, s: s + chunk_len])[..., None])
                      [..., 0].double().numpy() for s, logp in zip(starts, outs, strict=True)]
    finally:
        model.train(was)
    return np.concatenate(picked, axis=1)[layout.mask] / LN2


def stream_bpc(model: CharLM, ids: np.ndarray, layout: EvalLayout,
               chunk_len: int = 1024) -> float:
    """Bits per character of ``model`` on the positions ``layout`` scores in ``ids`` (N,):
    ``-mean(stream_log2_probs(...))``, summed in float64."""
    return float(-stream_log2_probs(model, ids, layout, chunk_len).mean())


class DecayingAdam(torch.optim.Adam):
    """Adam whose learning rate stays at ``lr`` for the first ``1 - decay`` of ``steps``
    steps, then falls linearly to ``final * lr`` at the last step (``decay=0``: constant).
    Each ``step()`` sets the rate for that step first."""

    def __init__(self, params: Any, lr: float, steps: int, decay: float = 0.3,
                 final: float = 0.1) -> None:
        if not 0 <= decay <= 1:
            raise ValueError(f"decay must lie in [0, 1], got {decay!r}")
        if not 0 < final <= 1:
            raise ValueError(f"final must lie in (0, 1], got {final!r}")
        super().__init__(params, lr=lr)
        self.base_lr, self.steps = float(lr), positive_int("steps", steps)
        self.decay, self.final, self.t = float(decay), float(final), 0

    def rate(self, t: int) -> float:
        """The learning rate of step ``t`` (0-based)."""
        start = (1 - self.decay) * self.steps
        if self.decay == 0 or t < start:
            return self.base_lr
        done = min(1.0, (t - start) / max(self.steps - 1 - start, 1))
        return self.base_lr * (1 - (1 - self.final) * done)

    def step(self, closure: Any = None) -> Any:  # noqa: D102 - see the class docstring
        for group in self.param_groups:
            group["lr"] = self.rate(self.t)
        self.t += 1
        return super().step(closure)


def train_charlm(model: CharLM, train_ids: np.ndarray, *, steps: int, batch_size: int,
                 chunk_len: int, lr: float = 1e-2, decay: float = 0.3,
                 clip: float | None = 1.0,
                 eval_fn: Callable[[CharLM], dict[str, float]] | None = None,
                 eval_every: int = 0) -> History:
    """Stateful truncated BPTT over a text (``lstm_lib.tbptt.train_on_stream``).

    ``train_ids`` int ``(N,)`` is laid out by ``lstm_lib.data.text.stream_batches`` into
    ``batch_size`` rows and chunks of ``chunk_len`` characters; one step of ``DecayingAdam``
    (``lr``, ``decay``) per chunk, gradients clipped to global norm ``clip``, the state
    carried (and detached) from chunk to chunk, zeros at each new epoch over the text.
    The loss is ``bits_per_char``. ``eval_fn(model)`` (under ``no_grad``, in eval mode) every
    ``eval_every`` steps fills ``History.metrics``. Returns the ``History``.
    """
    batches = [(torch.from_numpy(x), torch.from_numpy(y))
               for x, y in stream_batches(train_ids, batch_size, chunk_len)]
    opt = DecayingAdam(model.parameters(), lr, steps, decay=decay)
    return train_on_stream(model, lambda epoch: batches, bits_per_char, steps, lr=lr,
                           clip=clip, eval_fn=eval_fn, eval_every=eval_every, optimizer=opt)


def numpy_lstm_bpc(model: CharLM, ids: np.ndarray, layout: EvalLayout,
                   chunk_len: int = 1024) -> float:
    """The bpc of ``stream_bpc``, computed by ``lstm_lib.numpy.LSTM`` in float64.

    The NumPy LSTM loads ``model.rnn.state_dict()`` (an LSTM ``CharLM``, any depth, no
    dropout at evaluation); the read-out and log-softmax are NumPy too. Every row starts
    from a zero state and is read in chunks of ``chunk_len`` steps, the state carried from
    chunk to chunk (the result does not depend on ``chunk_len``; the chunks bound the
    memory, which for a whole stream at once would hold every gate of every step).
    Returns a float.
    """
    from lstm_lib.numpy import LSTM

    if model.cell != "lstm":
        raise ValueError(f"numpy_lstm_bpc needs an LSTM CharLM, got cell={model.cell!r}")
    chunk_len = positive_int("chunk_len", chunk_len)
    x, y = _layout_ids(ids, layout)
    lstm = LSTM(model.vocab_size, model.hidden_size, num_layers=model.num_layers)
    lstm.load_state_dict(model.rnn.state_dict())
    w = model.head.weight.detach().double().numpy()
    b = model.head.bias.detach().double().numpy()
    eye = np.eye(model.vocab_size)
    total, state = 0.0, None
    for s in range(0, x.shape[1], chunk_len):
        out, state = lstm.forward(eye[x[:, s: s + chunk_len]], state)
        logits = out @ w.T + b
        m = logits.max(-1, keepdims=True)
        logp = logits - m - np.log(np.exp(logits - m).sum(-1, keepdims=True))
        picked = np.take_along_axis(logp, y[:, s: s + chunk_len, None], -1)[..., 0]
        total += float(picked[layout.mask[:, s: s + chunk_len]].sum())
    return -total / (layout.targets.size * LN2)


def float64_copy(model: CharLM) -> CharLM:
    """A float64 copy of ``model`` in eval mode (for reference scores and sampling)."""
    return copy.deepcopy(model).double().eval()


def sample(model: CharLM, vocab: CharVocab, prime: str, n: int, temperature: float,
           seed: int) -> str:
    """``n`` characters drawn one at a time from ``softmax(logits / temperature)``.

    The model first reads ``prime`` (a non-empty string); each drawn character is fed back.
    Draws use ``numpy.random.default_rng(seed)``: one uniform ``u`` per character, taken by
    the inverse of the cumulative distribution in float64, so the same model, prime and seed
    give the same text. Returns the ``n`` new characters (without the prime).
    """
    n = positive_int("n", n)
    if not isinstance(prime, str) or not prime:
        raise ValueError("prime must be a non-empty string")
    if isinstance(temperature, bool) or not isinstance(temperature, (int, float)) \
            or not temperature > 0 or not math.isfinite(temperature):
        raise ValueError(f"temperature must be a positive float, got {temperature!r}")
    rng = np.random.default_rng(seed)
    uniforms = rng.random(n)
    was = model.training
    model.eval()
    out: list[int] = []
    try:
        with torch.no_grad():
            logits, state = model(torch.from_numpy(vocab.encode(prime))[None], None)
            for u in uniforms:
                z = logits[0, -1].double().numpy() / temperature
                p = np.exp(z - z.max())
                cdf = np.cumsum(p / p.sum())
                k = min(int(np.searchsorted(cdf, u, side="right")), vocab.size - 1)
                out.append(k)
                logits, state = model(torch.tensor([[k]]), state)
    finally:
        model.train(was)
    return vocab.decode(np.asarray(out, dtype=np.int64))


@dataclass(frozen=True)
class SampleStats:
    """What a text is made of.

    ``word_fraction``: the share of its identifier-like words (runs of letters, digits and
    ``_`` that start with a letter or ``_``) that occur as words in a reference text.
    ``distinct_fraction``: distinct words / words (low for a text that repeats itself).
    ``error_token_fraction``: the share of the tokens Python's ``tokenize`` reads from its
    lines (each line alone, stripped) that are ``ERRORTOKEN`` (a stray ``$``, an unclosed
    one-line quote, ...). Counts: ``n_chars``, ``n_words``.
    """

    n_chars: int
    n_words: int
    word_fraction: float
    distinct_fraction: float
    error_token_fraction: float


def _token_counts(text: str) -> tuple[int, int]:
    """(tokens, error tokens) of every non-blank line of ``text`` read alone."""
    import io
    import tokenize

    kinds = (tokenize.NAME, tokenize.NUMBER, tokenize.STRING, tokenize.OP, tokenize.COMMENT)
    n_tok = n_err = 0
    for line in text.split("\n"):
        s = line.strip()
        if not s:
            continue
        try:
            for tok in tokenize.generate_tokens(io.StringIO(s + "\n").readline):
                if tok.type == tokenize.ERRORTOKEN and tok.string.strip():
                    n_err += 1
                    n_tok += 1
                elif tok.type in kinds:
                    n_tok += 1
        except (tokenize.TokenError, SyntaxError):
            pass  # an open bracket or string at the end of the line: keep what was read
    return n_tok, n_err


def sample_stats(text: str, known_words: set[str] | frozenset[str]) -> SampleStats:
    """Measure ``text`` (e.g. a sample) against ``known_words``, the set of
    ``re_words(reference)`` of a reference text. Fractions of nothing are NaN."""
    if not isinstance(text, str):
        raise TypeError(f"text must be a str, got {type(text).__name__}")
    ws = re_words(text)
    n_tok, n_err = _token_counts(text)
    return SampleStats(
        n_chars=len(text), n_words=len(ws),
        word_fraction=sum(w in known_words for w in ws) / len(ws) if ws else math.nan,
        distinct_fraction=len(set(ws)) / len(ws) if ws else math.nan,
        error_token_fraction=n_err / n_tok if n_tok else math.nan)


def re_words(text: str) -> list[str]:
    """The identifier-like words of ``text``, in order (see ``SampleStats``)."""
    import re

    return re.findall(r"[A-Za-z_][A-Za-z0-9_]*", text)


def compare_params(a: Mapping[str, Any], b: Mapping[str, Any]) -> float:
    """max |a[k] - b[k]| over the keys of two state_dicts (same keys), as a float."""
    if set(a) != set(b):
        raise ValueError(f"state_dicts have different keys: {sorted(set(a) ^ set(b))}")
    return max(float((torch.as_tensor(a[k]).double() - torch.as_tensor(b[k]).double())
                     .abs().max()) for k in a)


__all__ = [
    "CELLS",
    "CharLM",
    "count_parameters",
    "hidden_for_budget",
    "bits_per_char",
    "stream_log2_probs",
    "stream_bpc",
    "DecayingAdam",
    "train_charlm",
    "numpy_lstm_bpc",
    "float64_copy",
    "sample",
    "SampleStats",
    "sample_stats",
    "re_words",
    "compare_params",
]

