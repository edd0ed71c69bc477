"""Read a sequence, write another: an LSTM encoder-decoder with optional attention.

Copy this file: it needs only the standard library, NumPy and PyTorch. From a shell::

    python seq2seq.py --data pairs.tsv --steps 4000 --device cpu --out my_model/
    python seq2seq.py --translate my_model/ --tag de dreihundertsiebenundneunzig

Your data: one UTF-8 text file of tab-separated lines ``split  tag  source  target`` after a
header line. ``split`` is "train", "val", "test" or any other name (another held-out set);
``tag`` names the source's kind (a language): it is read as one token before the source's
characters, so one model serves every tag; ``source`` and ``target`` are read character by
character. ``save_tsv`` below writes that format.

The model: a character embedding, a bidirectional LSTM encoder (two LSTMs, the second
reading each source reversed within its own length, so each direction starts or stops at
the source's own end), and an ``LSTMCell`` decoder that starts from the encoder's final
states, both directions' joined and projected (``bridge_h``, ``bridge_c``). The decoder
reads a start token, then its previous digit, and writes the next one until an end token.
With ``attention=True`` an additive attention (Bahdanau et al. 2015) scores every encoder
output against the decoder's previous state, ``e_t = v^T tanh(W_q q + W_k k_t)``,
softmaxes the scores over the source's real steps, and feeds the weighted sum of the
encoder outputs (the context) to the decoder's input and to its output layer; without it,
everything the decoder knows about the source passes through the one ``(h, c)`` it starts from.

Training: cross-entropy of every target token, Adam with a cosine decay, gradients clipped
by global norm. ``teacher_forcing`` is the share of steps at which the decoder is fed the
true previous token; at the others (drawn per row and step from a seeded generator) it is
fed its own previous prediction (scheduled sampling, Bengio et al. 2015, at a fixed rate).
Decoding: greedy, or a beam search keeping ``beam_size`` prefixes by their summed
log-probabilities. Every evaluation runs on a float64 copy of the model, so that the same
weights give the same figures on every CPU.

The output directory holds ``weights.safetensors`` (no pickle: this file writes the format
itself), ``vocab.json`` (the source and target tokens) and ``manifest.json`` (the
arguments, the data's SHA-256, every training loss, the validation curve, the final
metrics). ``load(directory)`` gives ``(model, vocab)`` back and ``translate(model, vocab,
sources, beam_size=1)`` the target strings of new sources.
"""

from __future__ import annotations

import argparse
import copy
import hashlib
import json
import math
import os
import platform
import struct
import sys
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn
from torch.nn.utils.rnn import pad_sequence
from torch.utils.data import DataLoader

RECIPE = "lstm_lib.recipes.seq2seq"
DATA_OPTION = "--data"
DTYPES = {"float32": torch.float32, "float64": torch.float64}
PAD, UNK, START, END = "<pad>", "<unk>", "<s>", "</s>"
# The first 50 float32 training losses of the two numwords checkpoints, replayed under the
# native, AVX2 and SSE4 (baseline) CPU kernels and at 1 and 2 threads, agreed with the
# stored ones to 1e-6 (5e-8 native at 1 thread); a changed seed, learning rate or
# teacher-forcing ratio moves them by more than 1e-3 (tests/test_recipe_seq2seq.py).
REPLAY_TOL = 1e-4
MAX_DECODE = 12   # the most target tokens a decoder writes (besides the end token)


@dataclass(frozen=True)
class Args:
    """Everything that decides a trained model (the command line's options and the
    manifest's ``args``)."""

    steps: int = 3000
    embedding_size: int = 32
    hidden_size: int = 64        # per encoder direction
    decoder_size: int = 128
    attention: bool = True
    attention_size: int = 64
    teacher_forcing: float = 1.0  # the share of decoder steps fed the true previous token
    batch_size: int = 64
    lr: float = 3e-3
    lr_final: float = 0.05       # the cosine decay ends at lr * lr_final
    clip: float = 1.0
    seed: int = 0                # the initial weights, the batch order, the sampled inputs
    eval_every: int = 250
    eval_size: int = 1000        # validation pairs scored at every evaluation
    keep_best: bool = True       # keep the weights of the best validation exact match
    dtype: str = "float32"

    def __post_init__(self) -> None:
        for name in ("steps", "embedding_size", "hidden_size", "decoder_size",
                     "attention_size", "batch_size", "eval_every", "eval_size"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be a positive int, got {value!r}")
        for name in ("attention", "keep_best"):
            if not isinstance(getattr(self, name), bool):
                raise ValueError(f"{name} must be a bool, got {getattr(self, name)!r}")
        if self.dtype not in DTYPES:
            raise ValueError(f"dtype must be one of {sorted(DTYPES)}, got {self.dtype!r}")
        if not (0 <= self.teacher_forcing <= 1 and self.lr > 0 and self.clip > 0
                and 0 < self.lr_final <= 1 and self.seed >= 0):
            raise ValueError("need 0 <= teacher_forcing <= 1, lr > 0, clip > 0, "
                             "0 < lr_final <= 1 and seed >= 0")


# ---------------------------------------------------------------------------- the data

Pair = tuple[str, str, str, str]   # (split, tag, source, target)


def save_tsv(path: str | Path, pairs: Sequence[Pair]) -> None:
    """Write the data format this recipe reads (see the module docstring)."""
    lines = ["split\ttag\tsource\ttarget"]
    for row in pairs:
        if len(row) != 4 or any("\t" in f or "\n" in f for f in row):
            raise ValueError(f"a pair is four fields without tabs or newlines, got {row!r}")
        lines.append("\t".join(row))
    Path(path).write_text("\n".join(lines) + "\n", encoding="utf-8")


def load_tsv(path: str | Path) -> list[Pair]:
    """Read a data file written as the module docstring says (``save_tsv``)."""
    lines = Path(path).read_text(encoding="utf-8").splitlines()
    if not lines or lines[0].split("\t") != ["split", "tag", "source", "target"]:
        raise ValueError("the first line must be the header split<TAB>tag<TAB>source<TAB>target")
    pairs = []
    for i, line in enumerate(lines[1:], start=2):
        fields = line.split("\t")
        if len(fields) != 4 or not all(fields):
            raise ValueError(f"line {i}: need four non-empty tab-separated fields")
        pairs.append((fields[0], fields[1], fields[2], fields[3]))
    if not any(p[0] == "train" for p in pairs) or not any(p[0] == "val" for p in pairs):
        raise ValueError('the data needs "train" and "val" pairs')
    return pairs


@dataclass
class Vocab:
    """The tokens: ``source`` (pad, unknown, one ``<tag>`` per tag, the characters) and
    ``target`` (pad, start, end, the characters), as read from the training pairs."""

    source: list[str]
    target: list[str]

    @classmethod
    def fit(cls, pairs: Sequence[Pair]) -> Vocab:
        train = [p for p in pairs if p[0] == "train"]
        tags = sorted({f"<{p[1]}>" for p in train})
        chars = sorted({ch for p in train for ch in p[2]})
        digits = sorted({ch for p in train for ch in p[3]})
        return cls([PAD, UNK, *tags, *chars], [PAD, START, END, *digits])

    def encode_source(self, tag: str, text: str) -> list[int]:
        index = {t: i for i, t in enumerate(self.source)}
        if f"<{tag}>" not in index:
            raise ValueError(f"unknown tag {tag!r}; known: {self.tags}")
        return [index[f"<{tag}>"]] + [index.get(ch, 1) for ch in text]

    def encode_target(self, text: str) -> list[int]:
        index = {t: i for i, t in enumerate(self.target)}
        unknown = set(text) - set(index)
        if unknown:
            raise ValueError(f"target characters {sorted(unknown)} never occur in training")
        return [1] + [index[ch] for ch in text] + [2]

    def decode_target(self, ids: Sequence[int]) -> str:
        out = []
        for i in ids:
            if i == 2:
                break
            if i > 2:
                out.append(self.target[i])
        return "".join(out)

    @property
    def tags(self) -> list[str]:
        return [t[1:-1] for t in self.source[2:] if len(t) > 2 and t[0] == "<" and t[-1] == ">"]

    def to_json(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False, indent=0)


Item = tuple[list[int], list[int]]


def items_of(pairs: Sequence[Pair], vocab: Vocab) -> dict[str, list[Item]]:
    """``split -> [(source ids, target ids)]`` in file order."""
    out: dict[str, list[Item]] = {}
    for split, tag, src, tgt in pairs:
        out.setdefault(split, []).append((vocab.encode_source(tag, src),
                                          vocab.encode_target(tgt)))
    return out


def collate(items: Sequence[Item]) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """``(src (B, S), lengths (B,), tgt (B, L))``, padded with 0 after each row's end."""
    src = pad_sequence([torch.tensor(s) for s, _ in items], batch_first=True)
    tgt = pad_sequence([torch.tensor(t) for _, t in items], batch_first=True)
    return src, torch.tensor([len(s) for s, _ in items]), tgt


# ---------------------------------------------------------------------------- the model

class AdditiveAttention(nn.Module):
    """``score_t = v^T tanh(W_q q + W_k k_t)``, softmax over the real steps (padded steps get
    weight exactly 0), context = the weighted sum of the keys. Parameters ``W_q`` ``(A, Hq)``,
    ``W_k`` ``(A, Hk)``, ``v`` ``(A,)``, no biases. ``forward(query (B, Hq), keys (B, T, Hk),
    lengths=None)`` -> ``(context (B, Hk), weights (B, T))``."""

    def __init__(self, query_size: int, key_size: int, attention_size: int,
                 dtype: torch.dtype = torch.float32) -> None:
        super().__init__()
        self.W_q = nn.Parameter(torch.empty(attention_size, query_size, dtype=dtype))
        self.W_k = nn.Parameter(torch.empty(attention_size, key_size, dtype=dtype))
        self.v = nn.Parameter(torch.empty(attention_size, dtype=dtype))
        for p, fan_in in ((self.W_q, query_size), (self.W_k, key_size),
                          (self.v, attention_size)):
            nn.init.uniform_(p, -fan_in ** -0.5, fan_in ** -0.5)

    def project_keys(self, keys: torch.Tensor) -> torch.Tensor:
        """``W_k k_t`` for every step, ``(B, T, A)`` (the same for every decoder step)."""
        return keys @ self.W_k.T

    def forward(self, query: torch.Tensor, keys: torch.Tensor,
                lengths: torch.Tensor | None = None,
                projected_keys: torch.Tensor | None = None
                ) -> tuple[torch.Tensor, torch.Tensor]:
        pk = self.project_keys(keys) if projected_keys is None else projected_keys
        scores = torch.tanh(pk + (query @ self.W_q.T)[:, None, :]) @ self.v     # (B, T)
        if lengths is not None:
            pad = torch.arange(keys.shape[1], device=keys.device)[None, :] \
                >= lengths.to(keys.device)[:, None]
            scores = scores.masked_fill(pad, float("-inf"))
        weights = torch.softmax(scores, dim=1)
        return torch.bmm(weights[:, None, :], keys)[:, 0], weights


class Seq2Seq(nn.Module):
    """Source ids ``(B, S)`` with lengths ``(B,)`` and target ids ``(B, L)`` (start token
    first) -> logits ``(B, L - 1, V)`` of every next target token. Attributes ``embed``,
    ``encoder_fw`` and ``encoder_bw`` (two ``nn.LSTM``: the bidirectional encoder, the
    second reading each source from its own last character back; both read a padded batch
    whose pads come after a row's end, which is exact and, on one CPU thread, ran forward
    and backward 2.5 times faster than a packed ``bidirectional=True`` layer: the backward
    through a packed sequence fills a gradient buffer at every step), ``bridge_h``,
    ``bridge_c``, ``target_embed``, ``decoder`` (an ``nn.LSTMCell``), ``attention`` (an
    ``AdditiveAttention`` or None), ``out``."""

    def __init__(self, n_source: int, n_target: int, args: Args) -> None:
        super().__init__()
        dtype = DTYPES[args.dtype]
        E, H, D = args.embedding_size, args.hidden_size, args.decoder_size
        self.use_attention = args.attention
        self.embed = nn.Embedding(n_source, E, padding_idx=0, dtype=dtype)
        self.encoder_fw = nn.LSTM(E, H, batch_first=True, dtype=dtype)
        self.encoder_bw = nn.LSTM(E, H, batch_first=True, dtype=dtype)
        self.bridge_h = nn.Linear(2 * H, D, dtype=dtype)
        self.bridge_c = nn.Linear(2 * H, D, dtype=dtype)
        self.target_embed = nn.Embedding(n_target, E, padding_idx=0, dtype=dtype)
        context = 2 * H if args.attention else 0
        self.decoder = nn.LSTMCell(E + context, D, dtype=dtype)
        self.attention = (AdditiveAttention(D, 2 * H, args.attention_size, dtype)
                          if args.attention else None)
        self.out = nn.Linear(D + context, n_target, dtype=dtype)

    def encode(self, src: torch.Tensor, lengths: torch.Tensor) -> dict[str, torch.Tensor]:
        """The encoder's outputs ``keys`` ``(B, S, 2H)`` (forward and backward direction
        joined; zero at padding), the decoder's first state ``h``, ``c`` ``(B, D)`` (both
        from the two directions' final ``h``), the ``lengths`` and, with attention, the
        projected keys."""
        lengths = lengths.to(src.device)
        steps = torch.arange(src.shape[1], device=src.device)[None, :]
        real = steps < lengths[:, None]                                    # (B, S)
        rows = torch.arange(src.shape[0], device=src.device)
        x = self.embed(src)
        forward, _ = self.encoder_fw(x)                   # pads come after: harmless
        flip = torch.where(real, lengths[:, None] - 1 - steps, steps)    # reverse each row
        backward, _ = self.encoder_bw(x[rows[:, None], flip])            # within its length
        backward = backward[rows[:, None], flip]
        keys = torch.cat([forward, backward], dim=2) * real[..., None].to(x.dtype)
        last = torch.cat([forward[rows, lengths - 1], backward[rows, 0]], dim=1)
        memory = {"keys": keys, "h": torch.tanh(self.bridge_h(last)),
                  "c": self.bridge_c(last), "lengths": lengths}
        if self.attention is not None:
            memory["projected"] = self.attention.project_keys(keys)
        return memory

    def step(self, prev: torch.Tensor, memory: dict[str, torch.Tensor]
             ) -> tuple[torch.Tensor, torch.Tensor | None]:
        """One decoder step from the previous tokens ``(B,)``: updates ``memory["h"]``,
        ``memory["c"]`` and returns the logits ``(B, V)`` and the attention weights
        ``(B, S)`` (None without attention). The query is the decoder's previous state."""
        x = self.target_embed(prev)
        weights = None
        if self.attention is not None:
            context, weights = self.attention(memory["h"], memory["keys"], memory["lengths"],
                                              memory["projected"])
            x = torch.cat([x, context], dim=1)
        h, c = self.decoder(x, (memory["h"], memory["c"]))
        memory["h"], memory["c"] = h, c
        features = h if self.attention is None else torch.cat([h, context], dim=1)
        return self.out(features), weights

    def forward(self, src: torch.Tensor, lengths: torch.Tensor, tgt: torch.Tensor,
                teacher_forcing: float = 1.0, generator: torch.Generator | None = None
                ) -> torch.Tensor:
        memory = self.encode(src, lengths)
        prev, logits = tgt[:, 0], []
        for t in range(1, tgt.shape[1]):
            z, _ = self.step(prev, memory)
            logits.append(z)
            prev = tgt[:, t]
            if teacher_forcing < 1.0:
                own = z.detach().argmax(1)
                fed = torch.rand(prev.shape[0], generator=generator) < teacher_forcing
                prev = torch.where(fed.to(prev.device), prev, own)
        return torch.stack(logits, dim=1)


def build_model(args: Args, vocab: Vocab) -> Seq2Seq:
    torch.manual_seed(args.seed)
    return Seq2Seq(len(vocab.source), len(vocab.target), args)


def loss_of(logits: torch.Tensor, tgt: torch.Tensor) -> torch.Tensor:
    """Mean cross-entropy over the real target tokens (after the start token)."""
    return nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]),
                                       tgt[:, 1:].reshape(-1), ignore_index=0)


# ---------------------------------------------------------------------------- decoding

def _allowed(logp: torch.Tensor) -> torch.Tensor:
    """Never write the pad or the start token."""
    logp = logp.clone()
    logp[:, :2] = float("-inf")
    return logp


@torch.no_grad()
def greedy(model: Seq2Seq, src: torch.Tensor, lengths: torch.Tensor,
           max_len: int = MAX_DECODE) -> tuple[torch.Tensor, list[torch.Tensor]]:
    """The most probable token at every step: ids ``(B, <= max_len + 1)`` (0 after a row's
    end token) and, with attention, each step's weights ``(B, S)``."""
    memory = model.encode(src, lengths)
    prev = torch.full((src.shape[0],), 1, dtype=torch.int64, device=src.device)
    done = torch.zeros_like(prev, dtype=torch.bool)
    out, weights = [], []
    for _ in range(max_len + 1):
        z, w = model.step(prev, memory)
        prev = _allowed(torch.log_softmax(z, 1)).argmax(1).masked_fill(done, 0)
        out.append(prev)
        if w is not None:
            weights.append(w)
        done = done | (prev == 2)
        if bool(done.all()):
            break
    return torch.stack(out, 1), weights


@torch.no_grad()
def beam_search(model: Seq2Seq, src: torch.Tensor, lengths: torch.Tensor, beam_size: int,
                max_len: int = MAX_DECODE) -> tuple[torch.Tensor, torch.Tensor]:
    """Keep the ``beam_size`` prefixes of highest summed log-probability; a prefix that
    wrote the end token is finished and keeps its score. Returns the best sequence of each
    row ``(B, <= max_len + 1)`` and its log-probability ``(B,)``."""
    B, K = src.shape[0], beam_size
    memory = model.encode(src, lengths)
    memory = {k: v.repeat_interleave(K, 0) for k, v in memory.items()}   # row b*K + j
    scores = torch.full((B, K), float("-inf"), dtype=memory["h"].dtype, device=src.device)
    scores[:, 0] = 0.0
    prev = torch.full((B * K,), 1, dtype=torch.int64, device=src.device)
    done = torch.zeros(B * K, dtype=torch.bool, device=src.device)
    seqs = torch.zeros(B * K, 0, dtype=torch.int64, device=src.device)
    for _ in range(max_len + 1):
        z, _ = model.step(prev, memory)
        logp = _allowed(torch.log_softmax(z, 1))
        V = logp.shape[1]
        logp[done] = float("-inf")          # a finished prefix only "writes" pad, for free
        logp[done, 0] = 0.0
        cand = (scores.reshape(B * K, 1) + logp).reshape(B, K * V)
        scores, index = cand.topk(K, dim=1)
        origin = (index // V + torch.arange(B, device=src.device)[:, None] * K).reshape(-1)
        token = (index % V).reshape(-1)
        memory["h"], memory["c"] = memory["h"][origin], memory["c"][origin]
        seqs = torch.cat([seqs[origin], token[:, None]], dim=1)
        done = done[origin] | (token == 2) | (token == 0)
        prev = token
        if bool(done.all()):
            break
    best = scores.argmax(1) + torch.arange(B, device=src.device) * K
    return seqs[best], scores.max(1).values


def _float64(model: Seq2Seq) -> Seq2Seq:
    return copy.deepcopy(model).double().eval()


def by_length(items: Sequence[Item], batch_size: int) -> list[list[int]]:
    """The indices of ``items`` in batches of ``batch_size``, in order of source length:
    a batch is padded to its longest source, so similar lengths together waste fewer
    steps. Each item's result does not depend on its batch."""
    order = sorted(range(len(items)), key=lambda i: len(items[i][0]))
    return [order[k: k + batch_size] for k in range(0, len(order), batch_size)]


def decode(model: Seq2Seq, vocab: Vocab, items: Sequence[Item], beam_size: int = 1,
           batch_size: int = 500, device: str = "cpu") -> list[str]:
    """The target string of every item's source, by a float64 copy of the model."""
    model64 = _float64(model).to(device)
    out: list[str] = [""] * len(items)
    for batch in by_length(items, batch_size):
        src, lengths, _ = collate([items[i] for i in batch])
        if beam_size == 1:
            ids, _ = greedy(model64, src.to(device), lengths)
        else:
            ids, _ = beam_search(model64, src.to(device), lengths, beam_size)
        for i, row in zip(batch, ids.tolist(), strict=True):
            out[i] = vocab.decode_target(row)
    return out


def translate(model: Seq2Seq, vocab: Vocab, sources: Sequence[str | tuple[str, str]],
              beam_size: int = 1, tag: str | None = None) -> list[str]:
    """The target string of every source: a ``(tag, text)`` pair, or a text read with
    ``tag`` (needed then). Greedy for ``beam_size=1``, else beam search; float64."""
    items = []
    for s in sources:
        if isinstance(s, str):
            if tag is None:
                raise ValueError("a source given as text needs tag=")
            items.append((vocab.encode_source(tag, s), [1, 2]))
        else:
            items.append((vocab.encode_source(s[0], s[1]), [1, 2]))
    device = next(model.parameters()).device.type
    return decode(model, vocab, items, beam_size, device=device)


# ---------------------------------------------------------------------------- training

def loader(items: list[Item], args: Args) -> DataLoader:
    """The training batches, shuffled anew every pass by a generator seeded with
    ``args.seed``."""
    return DataLoader(items, batch_size=args.batch_size, shuffle=True, collate_fn=collate,
                      generator=torch.Generator().manual_seed(args.seed))


def learning_rate(args: Args, step: int) -> float:
    """Cosine decay from ``lr`` at step 0 to ``lr * lr_final`` at the last step."""
    frac = step / max(args.steps - 1, 1)
    return args.lr * (args.lr_final + (1 - args.lr_final) * 0.5 * (1 + math.cos(math.pi * frac)))


def train(model: Seq2Seq, items: list[Item], args: Args, *, steps: int | None = None,
          device: str = "cpu", on_eval: Any = None) -> list[float]:
    """Train on ``items`` with ``args``; the teacher-forcing draws come from a generator
    seeded with ``args.seed + 1``. ``on_eval(step, losses)`` after every ``eval_every``-th
    step and the last. Returns every step's loss."""
    steps = args.steps if steps is None else steps
    gen = torch.Generator().manual_seed(args.seed + 1)
    opt = torch.optim.Adam(model.parameters(), lr=args.lr)
    model.train()
    losses: list[float] = []
    batches = loader(items, args)
    while len(losses) < steps:
        for src, lengths, tgt in batches:
            for group in opt.param_groups:
                group["lr"] = learning_rate(args, len(losses))
            logits = model(src.to(device), lengths, tgt.to(device), args.teacher_forcing, gen)
            loss = loss_of(logits, tgt.to(device))
            opt.zero_grad(set_to_none=True)
            loss.backward()
            nn.utils.clip_grad_norm_(model.parameters(), args.clip)
            opt.step()
            losses.append(float(loss.detach()))
            step = len(losses)
            if on_eval is not None and (step % args.eval_every == 0 or step == steps):
                on_eval(step, losses)
                model.train()
            if step == steps:
                break
    return losses


# ---------------------------------------------------------------------------- evaluation

@torch.no_grad()
def teacher_forced(model: Seq2Seq, items: Sequence[Item], batch_size: int = 500,
                   device: str = "cpu") -> dict[str, float]:
    """Fed the true previous tokens (float64): the mean cross-entropy per target token,
    the share of target tokens predicted right and the share of targets right at every
    token."""
    model64 = _float64(model).to(device)
    total = right = tokens = exact = 0.0
    for batch in by_length(items, batch_size):
        src, lengths, tgt = collate([items[i] for i in batch])
        tgt = tgt.to(device)
        logits = model64(src.to(device), lengths, tgt)
        real = tgt[:, 1:] != 0
        total += float(loss_of(logits, tgt)) * int(real.sum())
        ok = (logits.argmax(2) == tgt[:, 1:]) | ~real
        right += float((ok & real).sum())
        tokens += int(real.sum())
        exact += float(ok.all(1).sum())
    return {"loss": total / tokens, "token_accuracy": right / tokens,
            "exact": exact / len(items)}


def exact_match(predicted: Sequence[str], targets: Sequence[str]) -> float:
    return sum(p == t for p, t in zip(predicted, targets, strict=True)) / len(targets)


def eval_subset(items: Sequence[Item], size: int) -> list[Item]:
    """An evenly spaced ``size`` of ``items`` (all if fewer)."""
    if len(items) <= size:
        return list(items)
    return [items[int(i)] for i in np.linspace(0, len(items) - 1, size).round()]


def final_metrics(model: Seq2Seq, vocab: Vocab, pairs: Sequence[Pair],
                  device: str = "cpu") -> dict[str, float]:
    """For every held-out split but "val" (which chose the kept weights) and every tag:
    greedy exact match (``SPLIT_TAG_exact``); per
    split: the teacher-forced loss per token (``SPLIT_loss``)."""
    out: dict[str, float] = {}
    splits = sorted({p[0] for p in pairs} - {"train", "val"})
    for split in splits:
        part = [p for p in pairs if p[0] == split]
        items = items_of(part, vocab)[split]
        out[f"{split}_loss"] = round(teacher_forced(model, items, device=device)["loss"], 6)
        predicted = decode(model, vocab, items, device=device)
        for tag in sorted({p[1] for p in part}):
            keep = [i for i, p in enumerate(part) if p[1] == tag]
            out[f"{split}_{tag}_exact"] = round(
                exact_match([predicted[i] for i in keep], [part[i][3] for i in keep]), 6)
    return out


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


def load(directory: str | Path, device: str = "cpu") -> tuple[Seq2Seq, Vocab]:
    """``(model, vocab)`` from a directory this recipe wrote; the model in eval mode."""
    directory = Path(directory)
    args = Args(**read_manifest(directory)["args"])
    vocab = Vocab(**json.loads((directory / "vocab.json").read_text(encoding="utf-8")))
    model = Seq2Seq(len(vocab.source), len(vocab.target), args)
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


def fit_and_save(data_path: str | Path, args: Args, out: str | Path, *, device: str = "cpu",
                 source: str = "", log: Any = print) -> dict[str, Any]:
    """Train on the data file with ``args`` and write the checkpoint to ``out`` (also at
    every evaluation, marked ``"complete": false``). Returns the manifest."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    pairs = load_tsv(data_path)
    vocab = Vocab.fit(pairs)
    items = items_of(pairs, vocab)
    val = [p for p in pairs if p[0] == "val"]
    keep = [int(i) for i in np.linspace(0, len(val) - 1, min(args.eval_size, len(val))).round()]
    val_items = [items["val"][i] for i in keep]
    val_targets = [val[i][3] for i in keep]
    model = build_model(args, vocab).to(device)
    (out / "vocab.json").write_text(vocab.to_json() + "\n", encoding="utf-8")
    curve: dict[str, list[Any]] = {"train_loss": [], "eval_step": [], "val_loss": [],
                                   "val_exact": []}
    manifest: dict[str, Any] = {
        "recipe": RECIPE, "args": asdict(args),
        "data": {"source": source or "tsv file",
                 "sha256": hashlib.sha256(Path(data_path).read_bytes()).hexdigest(),
                 "pairs": {k: len(v) for k, v in items.items()},
                 "source_tokens": len(vocab.source), "target_tokens": len(vocab.target)},
        "parameters": sum(p.numel() for p in model.parameters()),
        "device": _machine(device), "torch": torch.__version__,
        "python": platform.python_version(), "numpy": np.__version__,
    }
    best: dict[str, Any] = {"key": (-1.0, 0.0), "step": 0, "state": None}
    started = time.perf_counter()

    def write(complete: bool, losses: list[float], state: dict[str, torch.Tensor]) -> None:
        curve["train_loss"] = [float(f"{v:.8g}") for v in losses]
        manifest.update(steps=len(losses), seconds=round(time.perf_counter() - started, 1),
                        curve=curve, complete=complete)
        save_safetensors(state, out / "weights.safetensors", {"recipe": RECIPE})
        (out / "manifest.json").write_text(json.dumps(manifest, indent=1) + "\n")

    def on_eval(step: int, losses: list[float]) -> None:
        loss = teacher_forced(model, val_items, device=device)["loss"]
        exact = exact_match(decode(model, vocab, val_items, device=device), val_targets)
        curve["eval_step"].append(step)
        curve["val_loss"].append(round(loss, 6))
        curve["val_exact"].append(round(exact, 6))
        if (exact, -loss) > best["key"]:
            best.update(key=(exact, -loss), step=step,
                        state={k: t.detach().clone() for k, t in model.state_dict().items()})
        recent = losses[-args.eval_every:]
        log(f"step {step:5d}/{args.steps}  train {sum(recent) / len(recent):.4f}  "
            f"val loss {loss:.4f}  val exact {exact:.3f}  "
            f"({time.perf_counter() - started:.0f} s)", flush=True)
        write(False, losses, model.state_dict())

    losses = train(model, items["train"], args, device=device, on_eval=on_eval)
    manifest["seconds_training"] = round(time.perf_counter() - started, 1)
    if args.keep_best:
        model.load_state_dict(best["state"])
    manifest["kept_step"] = best["step"] if args.keep_best else len(losses)
    manifest["metrics"] = final_metrics(model, vocab, pairs, device)
    write(True, losses, model.state_dict())
    return manifest


# ---------------------------------------------------------------------------- checks

def evaluate_checkpoint(directory: str | Path, data_path: str | Path) -> dict[str, float]:
    """The manifest's ``metrics`` recomputed from the stored weights and the data."""
    model, vocab = load(directory)
    return final_metrics(model, vocab, load_tsv(data_path))


def replay(directory: str | Path, data_path: str | Path, steps: int = 20) -> list[float]:
    """The first ``steps`` training losses, recomputed from the manifest's arguments and
    seed on the data (compare them with the manifest's ``curve["train_loss"]``)."""
    args = Args(**read_manifest(directory)["args"])
    pairs = load_tsv(data_path)
    vocab = Vocab.fit(pairs)
    model = build_model(args, vocab)
    return train(model, items_of(pairs, vocab)["train"], args, steps=steps)


# ---------------------------------------------------------------------------- command line

def _bool(text: str) -> bool:
    if text.lower() in ("1", "true", "yes"):
        return True
    if text.lower() in ("0", "false", "no"):
        return False
    raise argparse.ArgumentTypeError(f"expected true or false, got {text!r}")


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--data", "--text", dest="data", help="the .tsv file to train on")
    p.add_argument("--out", help="the checkpoint directory to write")
    p.add_argument("--device", default="cpu", help="cpu or cuda")
    p.add_argument("--threads", type=int, default=0, help="torch threads (0: torch's choice)")
    p.add_argument("--source", default="", help="where the data came from (for the manifest)")
    p.add_argument("--translate", metavar="DIR", help="print the targets of the texts given "
                   "after the options by the checkpoint DIR instead of training")
    p.add_argument("--tag", help="the tag of the texts to translate")
    p.add_argument("--beam-size", type=int, default=1, help="1: greedy")
    p.add_argument("texts", nargs="*", help="texts to translate (with --translate)")
    for name, value in asdict(Args()).items():
        kind = _bool if isinstance(value, bool) else type(value)
        p.add_argument("--" + name.replace("_", "-"), type=kind, default=value)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    opts = _parser().parse_args(argv)
    if opts.threads:
        torch.set_num_threads(opts.threads)
    if opts.translate:
        model, vocab = load(opts.translate, opts.device)
        print("\n".join(translate(model, vocab, opts.texts, opts.beam_size, opts.tag)))
        return 0
    if not opts.data or not opts.out:
        _parser().error("--data and --out are needed to train")
    args = Args(**{k: getattr(opts, k) for k in asdict(Args())})
    manifest = fit_and_save(opts.data, args, opts.out, device=opts.device, source=opts.source)
    print(json.dumps({"steps": manifest["steps"], "seconds": manifest["seconds"],
                      "kept_step": manifest["kept_step"], **manifest["metrics"]}))
    return 0


if __name__ == "__main__":
    os.environ.setdefault("PYTHONHASHSEED", "0")
    sys.exit(main())


__all__ = ["AdditiveAttention", "Args", "Seq2Seq", "Vocab", "beam_search", "build_model",
           "collate", "decode", "evaluate_checkpoint", "exact_match", "final_metrics",
           "greedy", "items_of", "load", "load_tsv", "replay", "save_tsv", "teacher_forced",
           "train", "translate"]
