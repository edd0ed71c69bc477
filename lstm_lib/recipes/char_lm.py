"""A character-level language model on your own text: train it, keep it, score it, sample it.

Copy this file: it needs only the standard library, NumPy and PyTorch. From a shell::

    python char_lm.py --text my_corpus.txt --steps 6000 --device cpu --out my_model/
    python char_lm.py --sample my_model/ --prime "def " --chars 400 --temperature 0.8

The model (Karpathy's char-rnn, in PyTorch): each character id is embedded, read by one or
more recurrent layers (``nn.LSTM``; ``nn.GRU`` or a tanh ``nn.RNN`` to compare; or, from
chapter 13, ``mingru``, ``slstm`` or a small causal ``transformer`` that keeps the last
``WINDOW`` inputs as its state), and a linear read-out gives the V logits of the next
character. Training is stateful truncated
backpropagation through time: the text is cut into ``batch_size`` contiguous rows, every
step trains on the next ``chunk_len`` characters of every row, and the state is carried from
step to step but detached (its graph cut) at every chunk border. The loss is the mean
cross-entropy in bits per character (bpc).

The text is split by position: the first ``1 - val_fraction - test_fraction`` of it is for
training, then validation, then test. Nothing is shuffled across the borders.

The output directory holds ``weights.safetensors`` (no pickle: this file writes the format
itself), ``vocab.json`` and ``manifest.json`` (the arguments, the data's SHA-256, the loss
of every training step, the validation curve, the final metrics). ``load(directory)`` gives
``(model, vocab)`` back.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import os
import platform
import struct
import sys
import time
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

RECIPE = "lstm_lib.recipes.char_lm"
LN2 = math.log(2.0)
UNK = "\ufffd"  # stands for every character the vocabulary does not hold
CELLS = {"lstm": nn.LSTM, "gru": nn.GRU, "rnn": nn.RNN}
WINDOW = 128        # the transformer's state: this many previous inputs


@dataclass(frozen=True)
class Args:
    """Everything that decides a trained model (the command line's options, and the
    manifest's ``args``). Run settings that do not change the result (threads, output
    directory) are not here."""

    steps: int = 6000
    cell: str = "lstm"
    hidden_size: int = 512
    embedding_size: int = 64
    num_layers: int = 1
    dropout: float = 0.0
    batch_size: int = 64
    chunk_len: int = 128
    lr: float = 2e-3
    decay: float = 0.3          # the last 30% of the steps: the rate falls linearly ...
    final_lr: float = 0.1       # ... to 0.1 x lr
    clip: float = 1.0
    seed: int = 0
    val_fraction: float = 0.05
    test_fraction: float = 0.05
    min_count: int = 1
    eval_every: int = 250
    eval_chars: int = 60_000    # the validation curve scores this many characters
    eval_rows: int = 32         # final metrics: rows read side by side ...
    eval_warmup: int = 128      # ... each scored after this many characters of context

    def __post_init__(self) -> None:
        for name in ("steps", "hidden_size", "embedding_size", "num_layers", "batch_size",
                     "chunk_len", "min_count", "eval_every", "eval_chars", "eval_rows"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be a positive int, got {value!r}")
        if self.cell not in ALL_CELLS:
            raise ValueError(f"cell must be one of {sorted(ALL_CELLS)}, got {self.cell!r}")
        if not 0 <= self.dropout < 1:
            raise ValueError(f"dropout must lie in [0, 1), got {self.dropout!r}")
        if not (self.lr > 0 and 0 <= self.decay <= 1 and 0 < self.final_lr <= 1):
            raise ValueError("need lr > 0, 0 <= decay <= 1 and 0 < final_lr <= 1")
        if not (0 < self.val_fraction and 0 < self.test_fraction
                and self.val_fraction + self.test_fraction < 1):
            raise ValueError("need val_fraction, test_fraction > 0 and their sum < 1")
        if self.seed < 0 or self.eval_warmup < 0 or not self.clip > 0:
            raise ValueError("need seed >= 0, eval_warmup >= 0 and clip > 0")


# ---------------------------------------------------------------------------- the data

class Vocab:
    """Characters <-> int64 ids. ``chars``: the known characters, sorted; the last id,
    ``unk_id``, stands for every other character (``UNK``)."""

    def __init__(self, chars: Iterable[str]) -> None:
        chars = sorted(set(chars) - {UNK})
        if not chars or any(len(c) != 1 for c in chars):
            raise ValueError("chars must be one or more single characters")
        self.chars = tuple(chars)
        self.symbols = self.chars + (UNK,)
        self.unk_id = len(self.chars)
        self._ids = {c: i for i, c in enumerate(self.chars)}

    @classmethod
    def from_text(cls, text: str, min_count: int = 1) -> Vocab:
        """The characters that occur at least ``min_count`` times in ``text``."""
        return cls(c for c, n in Counter(text).items() if n >= min_count)

    @property
    def size(self) -> int:
        """V: the known characters and UNK."""
        return len(self.symbols)

    def encode(self, text: str) -> np.ndarray:
        """A string of n characters -> int64 ids ``(n,)``."""
        if not isinstance(text, str):
            raise TypeError(f"text must be a str, got {type(text).__name__}")
        codes = np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32)
        table = dict(zip(map(ord, self.chars), range(len(self.chars)), strict=True))
        uniq, inverse = np.unique(codes, return_inverse=True)
        mapped = np.array([table.get(int(u), self.unk_id) for u in uniq], dtype=np.int64)
        return mapped[inverse].reshape(-1) if codes.size else np.zeros(0, dtype=np.int64)

    def decode(self, ids: Iterable[int]) -> str:
        """Ids -> a string."""
        return "".join(self.symbols[int(i)] for i in ids)

    def to_json(self) -> str:
        return json.dumps({"chars": "".join(self.chars), "unk": UNK}, ensure_ascii=True)

    @classmethod
    def from_json(cls, text: str) -> Vocab:
        return cls(json.loads(text)["chars"])


def split_points(n: int, val_fraction: float, test_fraction: float) -> tuple[int, int]:
    """Where a text of ``n`` characters is cut: validation is ``[a, b)``, test ``[b, n)``,
    the last ``round(test_fraction * n)`` and the ``round(val_fraction * n)`` before them."""
    b = n - round(test_fraction * n)
    a = b - round(val_fraction * n)
    if not 0 < a < b < n:
        raise ValueError(f"a text of {n} characters is too short to split")
    return a, b


def split_text(text: str, val_fraction: float, test_fraction: float) -> dict[str, str]:
    """``{"train", "val", "test"}``: three consecutive parts of ``text``, cut by position."""
    a, b = split_points(len(text), val_fraction, test_fraction)
    return {"train": text[:a], "val": text[a:b], "test": text[b:]}


def stream_batches(ids: np.ndarray, batch_size: int, chunk_len: int) -> tuple[np.ndarray,
                                                                             np.ndarray]:
    """Inputs and next-character targets laid out for stateful training.

    The stream ``ids[:-1]`` is cut into ``batch_size`` contiguous rows of ``L`` characters
    (``L`` a multiple of ``chunk_len``; the remainder is dropped), and chunk ``k`` of every
    row makes batch ``k``: row ``i`` of batch ``k+1`` continues row ``i`` of batch ``k``.
    Returns ``x, y``, int64 ``(K, batch_size, chunk_len)``, with ``y`` the character after
    each ``x``.
    """
    n = (len(ids) - 1) // (batch_size * chunk_len) * chunk_len    # L, per row
    if n == 0:
        raise ValueError(f"{len(ids)} characters are fewer than one batch of "
                         f"{batch_size} x {chunk_len}")
    def lay(a: np.ndarray) -> np.ndarray:
        rows = a[: batch_size * n].reshape(batch_size, n // chunk_len, chunk_len)
        return np.ascontiguousarray(rows.transpose(1, 0, 2)).astype(np.int64)
    return lay(ids[:-1]), lay(ids[1:])


def eval_positions(n: int, rows: int, warmup: int) -> tuple[np.ndarray, np.ndarray]:
    """How an evaluation reads a stream of ``n`` characters: ``rows`` rows side by side,
    row ``r`` reading positions ``r*L + (0 .. warmup + L - 1)`` from a zero state and scored
    on its last ``L`` outputs, ``L = (n - 1 - warmup) // rows``. Every position from
    ``warmup + 1`` to ``warmup + rows*L`` is scored once, with at least ``warmup``
    characters of context. Returns ``inputs`` int64 ``(rows, warmup + L)`` and the scored
    ``targets`` int64 ``(rows * L,)`` in row order."""
    length = (n - 1 - warmup) // rows
    if length < 1:
        raise ValueError(f"{n} characters are too few for {rows} rows after {warmup} warmup")
    inputs = length * np.arange(rows, dtype=np.int64)[:, None] + np.arange(warmup + length)
    return inputs, (inputs[:, warmup:] + 1).reshape(-1)


def sha256_of(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


# ---------------------------------------------------------------------------- the model
# Chapter 13's layers, each with nn.LSTM's call: layer(x (B, T, I), state) -> (out, state).

class MinGRUStack(nn.Module):
    """``num_layers`` minGRU layers (Feng et al. 2024): z = sigmoid(x W_z^T + b_z),
    h~ = g(x W_h^T + b_h) with g(a) = a + 1/2 (a >= 0), sigmoid(a) (a < 0), and
    h_t = (1 - z_t) h_{t-1} + z_t h~_t, computed for all t at once by a prefix scan in log
    space (Heinsen 2023). The state is h_n (num_layers, B, H), positive."""

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1,
                 batch_first: bool = True, dropout: float = 0.0) -> None:
        super().__init__()
        self.layers = nn.ModuleList(nn.Linear(input_size if k == 0 else hidden_size,
                                              2 * hidden_size) for k in range(num_layers))

    def forward(self, x: torch.Tensor, state: torch.Tensor | None = None,
                ) -> tuple[torch.Tensor, torch.Tensor]:
        finals = []
        for k, linear in enumerate(self.layers):
            gate, pre = linear(x).chunk(2, -1)
            log_coeff = -nn.functional.softplus(gate)                       # log(1 - z)
            log_g = torch.where(pre >= 0, torch.log(torch.relu(pre) + 0.5),
                                -nn.functional.softplus(-pre))
            log_b = -nn.functional.softplus(-gate) + log_g                  # log(z h~)
            if state is not None:                                           # h_0 as b_0
                log_coeff = torch.cat([torch.zeros_like(log_coeff[:, :1]), log_coeff], 1)
                log_b = torch.cat([torch.log(state[k])[:, None], log_b], 1)
            a = log_coeff.cumsum(1)
            x = torch.exp(a + torch.logcumsumexp(log_b - a, 1))
            x = x if state is None else x[:, 1:]
            finals.append(x[:, -1])
        return x, torch.stack(finals)


class SLSTMStack(nn.Module):
    """``num_layers`` sLSTM layers (Beck et al. 2024), one head each, gate blocks i, f, z, o:
    an exponential input gate, a normaliser n and a stabiliser m beside the cell c::

        m' = max(i~, m + log sigmoid(f~)),  i = exp(i~ - m'),  f = exp(m + log sigmoid(f~) - m')
        c' = f c + i tanh(z~),  n' = f n + i,  h' = sigmoid(o~) c' / n'

    The state is (num_layers, 4, B, H): h, c, n, m (zeros to start; at the first step
    m' = i~)."""

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1,
                 batch_first: bool = True, dropout: float = 0.0) -> None:
        super().__init__()
        self.hidden_size = hidden_size
        self.ih = nn.ModuleList(nn.Linear(input_size if k == 0 else hidden_size,
                                          4 * hidden_size) for k in range(num_layers))
        self.hh = nn.ModuleList(nn.Linear(hidden_size, 4 * hidden_size, bias=False)
                                for _ in range(num_layers))
        with torch.no_grad():
            for layer in self.ih:
                layer.bias[hidden_size:2 * hidden_size] += 3.0    # f near 1 to start

    def forward(self, x: torch.Tensor, state: torch.Tensor | None = None,
                ) -> tuple[torch.Tensor, torch.Tensor]:
        B, T, _ = x.shape
        finals = []
        for k, (ih, hh) in enumerate(zip(self.ih, self.hh, strict=True)):
            h, c, n, m = (x.new_zeros(B, self.hidden_size) for _ in range(4)) \
                if state is None else state[k].unbind(0)
            first = state is None
            outs = []
            for wx in ih(x).unbind(1):
                i_raw, f_raw, z_raw, o_raw = (wx + hh(h)).chunk(4, -1)
                log_f_m = m + nn.functional.logsigmoid(f_raw)
                m_new = i_raw if first else torch.maximum(i_raw, log_f_m)
                i, f = torch.exp(i_raw - m_new), torch.exp(log_f_m - m_new)
                c, n, m = f * c + i * torch.tanh(z_raw), f * n + i, m_new
                h = torch.sigmoid(o_raw) * c / n
                outs.append(h)
                first = False
            x = torch.stack(outs, 1)
            finals.append(torch.stack((h, c, n, m)))
        return x, torch.stack(finals)


class WindowTransformer(nn.Module):
    """A causal Transformer (pre-norm ``nn.TransformerEncoderLayer``s, feed-forward 2 x d,
    4 heads, no dropout, sinusoidal positions) whose state is its last ``WINDOW`` inputs
    (B, <= WINDOW, d): each piece of at most ``WINDOW`` new inputs is read after them, so
    every position sees between ``WINDOW`` and ``2 WINDOW - 1`` inputs back (fewer at the
    start). The input size must equal ``hidden_size`` (d)."""

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1,
                 batch_first: bool = True, dropout: float = 0.0) -> None:
        super().__init__()
        if input_size != hidden_size:
            raise ValueError(f"the transformer needs embedding_size == hidden_size, got "
                             f"{input_size} and {hidden_size}")
        layer = nn.TransformerEncoderLayer(hidden_size, 4, 2 * hidden_size, dropout=0.0,
                                           batch_first=True, norm_first=True)
        self.encoder = nn.TransformerEncoder(layer, num_layers, enable_nested_tensor=False)
        pos = torch.arange(2 * WINDOW, dtype=torch.float32)[:, None]
        freq = torch.exp(-math.log(10000.0) * torch.arange(0, hidden_size, 2) / hidden_size)
        table = torch.zeros(2 * WINDOW, hidden_size)
        table[:, 0::2], table[:, 1::2] = torch.sin(pos * freq), torch.cos(pos * freq)
        self.register_buffer("positions", table, persistent=False)

    def forward(self, x: torch.Tensor, state: torch.Tensor | None = None,
                ) -> tuple[torch.Tensor, torch.Tensor]:
        outs = []
        for piece in x.split(WINDOW, 1):
            z = piece if state is None else torch.cat([state, piece], 1)
            L = z.shape[1]
            mask = nn.Transformer.generate_square_subsequent_mask(L, device=z.device,
                                                                   dtype=z.dtype)
            y = self.encoder(z + self.positions[:L].to(z), mask=mask, is_causal=True)
            outs.append(y[:, -piece.shape[1]:])
            state = z[:, -WINDOW:]
        return torch.cat(outs, 1), state


ALL_CELLS: dict[str, Any] = {**CELLS, "mingru": MinGRUStack, "slstm": SLSTMStack,
                             "transformer": WindowTransformer}


class CharModel(nn.Module):
    """ids ``(B, T)`` -> embedding -> recurrent layer(s) -> linear read-out.

    ``forward(ids, state=None)`` returns ``(logits (B, T, V), state)``: ``logits[:, t]``
    scores the character after ``ids[:, t]``; ``state`` as ``torch.nn`` returns it (LSTM:
    ``(h_n, c_n)``, each ``(num_layers, B, H)``). Attributes ``embed``, ``rnn`` (the
    ``torch.nn`` layer, so its ``state_dict`` is ``nn.LSTM``'s) and ``head``.
    """

    def __init__(self, vocab_size: int, cell: str = "lstm", hidden_size: int = 512,
                 embedding_size: int = 64, num_layers: int = 1, dropout: float = 0.0) -> None:
        super().__init__()
        self.vocab_size, self.cell = vocab_size, cell
        self.embed = nn.Embedding(vocab_size, embedding_size)
        extra: dict[str, Any] = {"nonlinearity": "tanh"} if cell == "rnn" else {}
        self.rnn = ALL_CELLS[cell](embedding_size, hidden_size, num_layers, batch_first=True,
                               dropout=dropout if num_layers > 1 else 0.0, **extra)
        self.drop = nn.Dropout(dropout)
        self.head = nn.Linear(hidden_size, vocab_size)

    def forward(self, ids: torch.Tensor, state: Any = None) -> tuple[torch.Tensor, Any]:
        if ids.dtype != torch.int64 or ids.ndim != 2:
            raise ValueError(f"ids must be int64 (B, T), got {ids.dtype} {tuple(ids.shape)}")
        out, state = self.rnn(self.embed(ids), state)
        return self.head(self.drop(out)), state


def build_model(args: Args, vocab_size: int) -> CharModel:
    """The untrained model of ``args``: torch's default initialisation under
    ``torch.manual_seed(args.seed)``."""
    torch.manual_seed(args.seed)
    return CharModel(vocab_size, args.cell, args.hidden_size, args.embedding_size,
                     args.num_layers, args.dropout)


def detach(state: Any) -> Any:
    """The state's values without their graph (a tensor or a tuple of tensors)."""
    if isinstance(state, tuple):
        return tuple(s.detach() for s in state)
    return None if state is None else state.detach()


def learning_rate(args: Args, step: int) -> float:
    """``lr`` for the first ``1 - decay`` of the steps, then falling linearly to
    ``final_lr * lr`` at the last step."""
    start = (1 - args.decay) * args.steps
    if args.decay == 0 or step < start:
        return args.lr
    done = min(1.0, (step - start) / max(args.steps - 1 - start, 1))
    return args.lr * (1 - (1 - args.final_lr) * done)


# ---------------------------------------------------------------------------- training

def train(model: CharModel, train_ids: np.ndarray, args: Args, *, steps: int | None = None,
          device: str = "cpu", on_eval: Any = None) -> list[float]:
    """Stateful truncated BPTT (see the module docstring): ``steps`` (default
    ``args.steps``) Adam steps, gradients clipped to global norm ``args.clip``, the rate of
    ``learning_rate``. The state is zero at the start of every pass over the text.
    ``on_eval(step, losses)`` is called after every ``args.eval_every``-th step and after
    the last. Returns the training loss of every step, in bits per character."""
    steps = args.steps if steps is None else steps
    xs, ys = (torch.from_numpy(a) for a in stream_batches(train_ids, args.batch_size,
                                                           args.chunk_len))
    opt = torch.optim.Adam(model.parameters(), lr=args.lr)
    model.train()
    losses: list[float] = []
    state = None
    for step in range(steps):
        k = step % len(xs)
        if k == 0:
            state = None                                  # a new pass: fresh rows
        logits, state = model(xs[k].to(device), state)
        loss = nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]),
                                           ys[k].to(device).reshape(-1)) / LN2
        opt.zero_grad(set_to_none=True)
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), args.clip)
        for group in opt.param_groups:
            group["lr"] = learning_rate(args, step)
        opt.step()
        state = detach(state)
        losses.append(float(loss.detach()))
        if on_eval is not None and ((step + 1) % args.eval_every == 0 or step + 1 == steps):
            on_eval(step + 1, losses)
            model.train()
    return losses


# ---------------------------------------------------------------------------- evaluation

@torch.no_grad()
def log2_probs(model: CharModel, ids: np.ndarray, rows: int = 32, warmup: int = 128,
               chunk_len: int = 1024, device: str = "cpu") -> np.ndarray:
    """log2 p(ids[t] | ids[:t]) at the positions ``eval_positions(len(ids), rows, warmup)``
    scores, in that order: float64 ``(rows * L,)``. The rows run side by side from a zero
    state in chunks of ``chunk_len`` steps, the state carried, in eval mode, in the model's
    dtype."""
    inputs, _ = eval_positions(len(ids), rows, warmup)
    x, y = torch.from_numpy(ids[inputs]), torch.from_numpy(ids[inputs + 1])
    was, state, picked = model.training, None, []
    model.eval()
    for s in range(0, x.shape[1], chunk_len):
        logits, state = model(x[:, s: s + chunk_len].to(device), state)
        logp = torch.log_softmax(logits, -1)
        picked.append(logp.gather(-1, y[:, s: s + chunk_len, None].to(device))[..., 0]
                      .double().cpu().numpy())
    model.train(was)
    return np.concatenate(picked, axis=1)[:, warmup:].reshape(-1) / LN2


def bpc(model: CharModel, ids: np.ndarray, rows: int = 32, warmup: int = 128,
        device: str = "cpu") -> float:
    """Bits per character on the positions of ``log2_probs``."""
    return float(-log2_probs(model, ids, rows, warmup, device=device).mean())


def metric_parts(ids: dict[str, np.ndarray], args: Args) -> dict[str, np.ndarray]:
    """The texts the final metrics score: validation, test, and the tail of the training
    text as long as validation (``train_tail``: the gap to it measures memorisation and
    the change of subject between the parts)."""
    return {"val": ids["val"], "test": ids["test"], "train_tail": ids["train"][-len(ids["val"]):]}


def curve_ids(val_ids: np.ndarray, args: Args) -> np.ndarray:
    """The validation characters the learning curve scores: the first ``eval_chars``
    (all of them if there are fewer), plus the warmup of one row."""
    return val_ids[: args.eval_chars + args.eval_warmup + 1]


@torch.no_grad()
def sample(model: CharModel, vocab: Vocab, prime: str, n: int, temperature: float = 1.0,
           seed: int = 0) -> str:
    """``n`` characters drawn one at a time from ``softmax(logits / temperature)``, each fed
    back. The model first reads ``prime`` (non-empty). One uniform of
    ``numpy.random.default_rng(seed)`` per character, taken through the cumulative
    distribution in float64: the same weights, prime and seed give the same text."""
    if not prime or not temperature > 0:
        raise ValueError("need a non-empty prime and a temperature > 0")
    model.eval()
    device = next(model.parameters()).device
    uniforms = np.random.default_rng(seed).random(n)
    logits, state = model(torch.from_numpy(vocab.encode(prime))[None].to(device))
    out = []
    for u in uniforms:
        z = logits[0, -1].double().cpu().numpy() / temperature
        p = np.exp(z - z.max())
        k = min(int(np.searchsorted(np.cumsum(p / p.sum()), u, side="right")), vocab.size - 1)
        out.append(k)
        logits, state = model(torch.tensor([[k]], device=device), state)
    return vocab.decode(out)


# ---------------------------------------------------------------------------- files

_DTYPES = {torch.float32: "F32", torch.float64: "F64", torch.int64: "I64"}


def save_safetensors(tensors: dict[str, torch.Tensor], path: Path,
                     metadata: dict[str, str] | None = None) -> None:
    """Write ``tensors`` in the safetensors format: an 8-byte little-endian header size, a
    JSON header (name -> dtype, shape, byte offsets), then the raw little-endian bytes."""
    header: dict[str, Any] = {"__metadata__": metadata} if metadata else {}
    blobs, offset = [], 0
    for name in sorted(tensors):
        t = tensors[name].detach().cpu().contiguous()
        data = t.numpy().astype(t.numpy().dtype.newbyteorder("<")).tobytes()
        header[name] = {"dtype": _DTYPES[t.dtype], "shape": list(t.shape),
                        "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    head = json.dumps(header, separators=(",", ":")).encode()
    head += b" " * (-len(head) % 8)
    Path(path).write_bytes(struct.pack("<Q", len(head)) + head + b"".join(blobs))


def load_safetensors(path: Path) -> dict[str, torch.Tensor]:
    """Read a file written by ``save_safetensors`` (or by the ``safetensors`` package)."""
    raw = Path(path).read_bytes()
    (size,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8: 8 + size])
    kinds = {v: k for k, v in _DTYPES.items()}
    body, out = raw[8 + size:], {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        a, b = info["data_offsets"]
        dtype = torch.empty(0, dtype=kinds[info["dtype"]]).numpy().dtype.newbyteorder("<")
        array = np.frombuffer(body[a:b], dtype=dtype).reshape(info["shape"])
        out[name] = torch.from_numpy(array.astype(array.dtype.newbyteorder("=")))
    return out


def read_manifest(directory: str | Path) -> dict[str, Any]:
    return json.loads((Path(directory) / "manifest.json").read_text())


def load(directory: str | Path, device: str = "cpu") -> tuple[CharModel, Vocab]:
    """``(model, vocab)`` from a directory this recipe wrote; the model in eval mode."""
    directory = Path(directory)
    args = Args(**read_manifest(directory)["args"])
    vocab = Vocab.from_json((directory / "vocab.json").read_text())
    model = CharModel(vocab.size, args.cell, args.hidden_size, args.embedding_size,
                      args.num_layers, args.dropout)
    model.load_state_dict(load_safetensors(directory / "weights.safetensors"))
    return model.to(device).eval(), vocab


def _machine(device: str) -> str:
    if device.startswith("cuda"):
        return f"cuda ({torch.cuda.get_device_name(0)})"
    name = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                name = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    n = torch.get_num_threads()
    return f"cpu ({name}, {n} thread{'' if n == 1 else 's'})"


def prepare(text: str, args: Args) -> tuple[Vocab, dict[str, np.ndarray]]:
    """The vocabulary of the training part and the ids of the three parts."""
    parts = split_text(text, args.val_fraction, args.test_fraction)
    vocab = Vocab.from_text(parts["train"], args.min_count)
    return vocab, {k: vocab.encode(v) for k, v in parts.items()}


def fit_and_save(text: str, args: Args, out: str | Path, *, device: str = "cpu",
                 source: str = "", log: Any = print) -> dict[str, Any]:
    """Train on ``text`` with ``args`` and write the checkpoint to ``out`` (the weights and
    manifest are also written at every evaluation, marked ``"complete": false``, so a long
    run can be inspected while it trains). Returns the manifest."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    vocab, ids = prepare(text, args)
    model = build_model(args, vocab.size).to(device)
    (out / "vocab.json").write_text(vocab.to_json() + "\n")
    val_curve = curve_ids(ids["val"], args)
    curve: dict[str, list[float]] = {"train_loss": [], "eval_step": [], "val_bpc": []}
    manifest: dict[str, Any] = {
        "recipe": RECIPE, "args": asdict(args),
        "data": {"source": source or "text file", "sha256": sha256_of(text),
                 "characters": len(text), "splits": {k: len(v) for k, v in ids.items()}},
        "vocab_size": vocab.size,
        "parameters": sum(p.numel() for p in model.parameters()),
        "device": _machine(device), "torch": torch.__version__,
        "python": platform.python_version(), "numpy": np.__version__,
    }
    started = time.perf_counter()

    def write(complete: bool, losses: list[float]) -> None:
        curve["train_loss"] = [round(v, 6) for v in losses]
        manifest.update(steps=len(losses), seconds=round(time.perf_counter() - started, 1),
                        curve=curve, complete=complete)
        save_safetensors(model.state_dict(), out / "weights.safetensors",
                         {"recipe": RECIPE})
        (out / "manifest.json").write_text(json.dumps(manifest, indent=1) + "\n")

    def on_eval(step: int, losses: list[float]) -> None:
        v = bpc(model, val_curve, rows=1, warmup=args.eval_warmup, device=device)
        curve["eval_step"].append(step)
        curve["val_bpc"].append(round(v, 6))
        recent = sum(losses[-args.eval_every:]) / len(losses[-args.eval_every:])
        log(f"step {step:6d}/{args.steps}  train {recent:.3f}  val {v:.3f} bpc  "
            f"{time.perf_counter() - started:7.0f} s")
        write(False, losses)

    losses = train(model, ids["train"], args, device=device, on_eval=on_eval)
    manifest["seconds_training"] = round(time.perf_counter() - started, 1)
    manifest["metrics"] = {
        f"{part}_bpc": round(bpc(model, part_ids, args.eval_rows, args.eval_warmup,
                                 device=device), 6)
        for part, part_ids in metric_parts(ids, args).items()}
    write(True, losses)
    return manifest


# ---------------------------------------------------------------------------- checks

def evaluate_checkpoint(directory: str | Path, data_path: str | Path) -> dict[str, float]:
    """The manifest's ``metrics`` recomputed from the stored weights and the data."""
    model, vocab = load(directory)
    args = Args(**read_manifest(directory)["args"])
    parts = split_text(Path(data_path).read_text(encoding="utf-8"), args.val_fraction,
                       args.test_fraction)
    ids = {k: vocab.encode(v) for k, v in parts.items()}
    return {f"{p}_bpc": bpc(model, part_ids, args.eval_rows, args.eval_warmup)
            for p, part_ids in metric_parts(ids, args).items()}


def replay(directory: str | Path, data_path: str | Path, steps: int = 20) -> list[float]:
    """The first ``steps`` training losses, recomputed from the manifest's arguments and
    seed on the data (compare them with the manifest's ``curve["train_loss"]``)."""
    args = Args(**read_manifest(directory)["args"])
    vocab, ids = prepare(Path(data_path).read_text(encoding="utf-8"), args)
    return train(build_model(args, vocab.size), ids["train"], args, steps=steps)


# ---------------------------------------------------------------------------- command line

def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--text", help="a UTF-8 text file to train on")
    p.add_argument("--out", help="the checkpoint directory to write")
    p.add_argument("--device", default="cpu", help="cpu or cuda")
    p.add_argument("--threads", type=int, default=0, help="torch threads (0: torch's choice)")
    p.add_argument("--source", default="", help="where the text came from (for the manifest)")
    p.add_argument("--sample", metavar="DIR", help="sample from a checkpoint instead")
    p.add_argument("--prime", default="\n", help="with --sample: the text to start from")
    p.add_argument("--chars", type=int, default=500, help="with --sample: how many")
    p.add_argument("--temperature", type=float, default=1.0, help="with --sample")
    for name, value in asdict(Args()).items():
        p.add_argument("--" + name.replace("_", "-"), type=type(value), default=value)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    opts = _parser().parse_args(argv)
    if opts.threads:
        torch.set_num_threads(opts.threads)
    if opts.sample:
        model, vocab = load(opts.sample, opts.device)
        print(sample(model, vocab, opts.prime, opts.chars, opts.temperature, opts.seed))
        return 0
    if not opts.text or not opts.out:
        _parser().error("--text and --out are needed to train (or --sample DIR)")
    args = Args(**{k: getattr(opts, k) for k in asdict(Args())})
    text = Path(opts.text).read_text(encoding="utf-8")
    manifest = fit_and_save(text, args, opts.out, device=opts.device, source=opts.source)
    print(json.dumps({"steps": manifest["steps"], "seconds": manifest["seconds"],
                      **manifest["metrics"]}))
    return 0


if __name__ == "__main__":
    os.environ.setdefault("PYTHONHASHSEED", "0")
    sys.exit(main())
