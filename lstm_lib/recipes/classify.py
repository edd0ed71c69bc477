"""Classify whole sequences of different lengths with an LSTM: train it, keep it, score it.

Copy this file: it needs only the standard library, NumPy and PyTorch. From a shell::

    python classify.py --data my_sequences.npz --steps 1500 --device cpu --out my_model/

Your data: one ``.npz`` file with N sequences of C channels, of any lengths T_i >= 1, laid
end to end (NumPy stores a ragged list only with pickle, which this file never loads)::

    np.savez("my_sequences.npz",
             frames=np.concatenate(seqs),          # (T_1 + ... + T_N, C) floats
             lengths=[len(s) for s in seqs],       # (N,) ints
             labels=y,                             # (N,) ints, 0 .. K-1
             split=["train", ..., "test"],         # optional, (N,): your own test set
             classes=["alice", "bob", ...])        # optional, (K,): the class names

(``save_npz`` below writes exactly that.) Without ``split``, a stratified ``test_fraction``
of the sequences, drawn with ``split_seed``, is the test set. A stratified ``val_fraction``
of the training sequences is held out for validation, the same for every ``seed``.

The pattern: every channel is standardised with the mean and standard deviation of the
real frames of the training sequences (never of a padded array, never of test data). A
``DataLoader`` shuffles the training sequences with a seeded generator, and its
``collate_fn`` pads each batch with ``pad_sequence``. The LSTM reads the batch through
``pack_padded_sequence``, so it stops at each sequence's own last frame (and a backward
direction starts there), and ``h_n``, each direction's state at the end of its reading,
is the summary that a linear layer maps to K logits. Loss: cross-entropy; Adam; gradients
clipped by global norm. ``masking=False`` gives the model that nobody told about the
padding (it reads the pads, to ``pad_to`` frames), for comparison. Its default ``pad_to``
is the longest sequence of the whole data file, test sequences included: a length, not a
value, but pass ``--pad-to`` to keep even that from the test set.

The output directory holds ``weights.safetensors`` (no pickle: this file writes the format
itself), ``preprocess.json`` (the channel means and deviations, the class names) and
``manifest.json`` (the arguments, the data's SHA-256, the loss of every training step, the
validation curve, the final metrics). ``load(directory)`` gives ``(model, preprocess)``
back and ``predict(model, preprocess, sequences)`` the classes of new raw sequences.
"""

from __future__ import annotations

import argparse
import copy
import hashlib
import json
import os
import platform
import struct
import sys
import time
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence, pad_sequence
from torch.utils.data import DataLoader

RECIPE = "lstm_lib.recipes.classify"
DATA_OPTION = "--data"  # the option lstm_lib.checkpoints passes the data file to
POOLINGS = ("last", "mean")
PADDINGS = ("post", "pre")
DTYPES = {"float32": torch.float32, "float64": torch.float64}
# The first 50 training losses, replayed under other CPU kernels (float32; native, AVX2 and
# SSE4 at 1 and 2 threads), agreed with the stored ones to 3e-7, and to 8e-6 for a model
# without a mask (29 steps per batch); a changed argument moved them by 1e-3 (clipping at
# 0.9 instead of 1) to 0.3 (another seed).
REPLAY_TOL = 1e-4


@dataclass(frozen=True)
class Args:
    """Everything that decides a trained model (the command line's options and the
    manifest's ``args``). Run settings that do not change the result (threads, output
    directory, device) are not here."""

    steps: int = 1500
    hidden_size: int = 32
    num_layers: int = 1
    bidirectional: bool = True
    masking: bool = True        # read through pack_padded_sequence (False: read the pads)
    pooling: str = "last"       # "last": h_n; "mean": the mean output over the real frames
    padding: str = "post"       # where the pads go when masking is False ("post" or "pre")
    pad_to: int = 0             # masking False: pad every batch to this many frames (0: the
                                # longest sequence of the data file)
    dropout: float = 0.0
    batch_size: int = 32
    lr: float = 3e-3
    clip: float = 1.0
    weight_decay: float = 0.0
    seed: int = 0               # the initial weights, the batch order, the dropout
    split_seed: int = 0         # which sequences validate (and test, without a split)
    val_fraction: float = 0.2
    test_fraction: float = 0.2  # used only when the data file has no split
    eval_every: int = 50
    keep_best: bool = True      # keep the weights of the evaluation of least validation loss
    dtype: str = "float32"

    def __post_init__(self) -> None:
        for name in ("steps", "hidden_size", "num_layers", "batch_size", "eval_every"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be a positive int, got {value!r}")
        for name in ("bidirectional", "masking", "keep_best"):
            if not isinstance(getattr(self, name), bool):
                raise ValueError(f"{name} must be a bool, got {getattr(self, name)!r}")
        if self.pooling not in POOLINGS or self.padding not in PADDINGS:
            raise ValueError(f"pooling must be one of {POOLINGS} and padding one of "
                             f"{PADDINGS}, got {self.pooling!r} and {self.padding!r}")
        if self.dtype not in DTYPES:
            raise ValueError(f"dtype must be one of {sorted(DTYPES)}, got {self.dtype!r}")
        if not (0 <= self.dropout < 1 and self.lr > 0 and self.clip > 0
                and self.weight_decay >= 0):
            raise ValueError("need 0 <= dropout < 1, lr > 0, clip > 0 and weight_decay >= 0")
        if not (0 < self.val_fraction < 1 and 0 < self.test_fraction < 1):
            raise ValueError("val_fraction and test_fraction must lie in (0, 1)")
        if self.seed < 0 or self.split_seed < 0 or self.pad_to < 0:
            raise ValueError("need seed >= 0, split_seed >= 0 and pad_to >= 0")


# ---------------------------------------------------------------------------- the data

@dataclass
class SequenceData:
    """``sequences``: N float64 arrays ``(T_i, C)``; ``labels`` ``(N,)`` int64 in 0..K-1;
    ``split``: ``(N,)`` strings "train" / "test", or None; ``classes``: K names."""

    sequences: list[np.ndarray]
    labels: np.ndarray
    split: np.ndarray | None
    classes: list[str]


def save_npz(path: str | Path, sequences: Sequence[np.ndarray], labels: Iterable[int],
             split: Iterable[str] | None = None, classes: Iterable[str] | None = None) -> None:
    """Write the data format this recipe reads (see the module docstring)."""
    arrays: dict[str, Any] = {
        "frames": np.concatenate([np.asarray(s, dtype=np.float64) for s in sequences]),
        "lengths": np.array([len(s) for s in sequences], dtype=np.int64),
        "labels": np.asarray(list(labels), dtype=np.int64)}
    if split is not None:
        arrays["split"] = np.asarray(list(split), dtype=str)
    if classes is not None:
        arrays["classes"] = np.asarray(list(classes), dtype=str)
    np.savez(path, **arrays)


def load_npz(path: str | Path) -> SequenceData:
    """Read a data file written as the module docstring says (``save_npz``)."""
    with np.load(path, allow_pickle=False) as f:
        frames = np.asarray(f["frames"], dtype=np.float64)
        lengths = np.asarray(f["lengths"], dtype=np.int64)
        labels = np.asarray(f["labels"], dtype=np.int64)
        split = np.asarray(f["split"]).astype(str) if "split" in f else None
        classes = [str(c) for c in f["classes"]] if "classes" in f else None
    if frames.ndim != 2 or lengths.ndim != 1 or lengths.min() < 1 \
            or lengths.sum() != len(frames) or labels.shape != lengths.shape:
        raise ValueError("need frames (sum of lengths, C), lengths (N,) >= 1, labels (N,)")
    if not np.isfinite(frames).all():
        raise ValueError("frames hold NaN or inf")
    if labels.min() < 0:
        raise ValueError("labels must be 0 .. K-1")
    if split is not None and (split.shape != labels.shape
                              or not set(split) <= {"train", "test"}):
        raise ValueError('split must be (N,) strings "train" or "test"')
    n_classes = int(labels.max()) + 1 if classes is None else len(classes)
    if labels.max() >= n_classes:
        raise ValueError(f"a label is {labels.max()}, but there are {n_classes} classes")
    sequences = np.split(frames, np.cumsum(lengths)[:-1])
    return SequenceData(sequences, labels, split,
                        classes or [str(k) for k in range(n_classes)])


def _stratified(indices: np.ndarray, labels: np.ndarray, fraction: float,
                rng: np.random.Generator) -> np.ndarray:
    """A ``fraction`` of ``indices`` from every class (rounded, at least one where a class
    has two or more), drawn with ``rng``; sorted."""
    picked = []
    for c in np.unique(labels[indices]):
        members = indices[labels[indices] == c]
        k = int(round(fraction * len(members)))
        k = min(max(k, 1 if len(members) > 1 else 0), len(members) - 1)
        picked.append(rng.permutation(members)[:k])
    return np.sort(np.concatenate(picked)).astype(np.int64)


def split_indices(data: SequenceData, args: Args) -> dict[str, np.ndarray]:
    """``{"train", "val", "test"}``: sorted indices into ``data.sequences``. The test set is
    the file's own split if it has one; validation is a stratified ``val_fraction`` of the
    rest, drawn with ``split_seed`` (so every ``seed`` validates on the same sequences)."""
    rng = np.random.default_rng(args.split_seed)
    everything = np.arange(len(data.labels))
    if data.split is not None:
        test = everything[data.split == "test"]
    else:
        test = _stratified(everything, data.labels, args.test_fraction, rng)
    rest = np.setdiff1d(everything, test)
    val = _stratified(rest, data.labels, args.val_fraction, rng)
    train = np.setdiff1d(rest, val)
    if len(train) == 0 or len(val) == 0 or len(test) == 0:
        raise ValueError("too few sequences to train, validate and test")
    return {"train": train, "val": val, "test": test}


@dataclass
class Preprocess:
    """What a new sequence goes through before the model: ``(x - mean) / std`` per
    channel, and, for a model without masking, padding to ``pad_to`` frames."""

    mean: list[float]
    std: list[float]
    classes: list[str]
    masking: bool = True
    padding: str = "post"
    pad_to: int = 0

    @classmethod
    def fit(cls, train: Sequence[np.ndarray], classes: list[str], args: Args,
            longest: int) -> Preprocess:
        """Channel statistics over the real frames of the training sequences."""
        frames = np.concatenate(train)
        std = frames.std(axis=0)
        if not (std > 0).all():
            raise ValueError("a channel is constant over the training frames")
        pad_to = 0 if args.masking else (args.pad_to or longest)
        return cls(frames.mean(axis=0).tolist(), std.tolist(), list(classes), args.masking,
                   args.padding, pad_to)

    def apply(self, sequences: Sequence[np.ndarray], dtype: torch.dtype) -> list[torch.Tensor]:
        mean, std = np.array(self.mean), np.array(self.std)
        return [torch.as_tensor((np.asarray(s, dtype=np.float64) - mean) / std, dtype=dtype)
                for s in sequences]

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=1)


def collate(items: list[tuple[torch.Tensor, int]], padding: str = "post",
            total_length: int = 0) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """A batch from ``(sequence (T_i, C), label)`` pairs: ``x`` ``(B, T, C)`` padded with
    zeros by ``pad_sequence``, ``T`` the longest ``T_i`` or ``total_length`` if larger;
    ``lengths`` ``(B,)`` and ``labels`` ``(B,)`` int64 (on the CPU, where
    ``pack_padded_sequence`` wants the lengths). ``padding="pre"`` puts the pads first."""
    seqs = [s for s, _ in items]
    lengths = torch.tensor([len(s) for s in seqs], dtype=torch.int64)
    labels = torch.tensor([int(y) for _, y in items], dtype=torch.int64)
    if padding == "pre":                      # reverse, pad after, reverse back
        x = pad_sequence([s.flip(0) for s in seqs], batch_first=True).flip(1)
    else:
        x = pad_sequence(seqs, batch_first=True)
    if total_length > x.shape[1]:
        extra = x.new_zeros(x.shape[0], total_length - x.shape[1], x.shape[2])
        x = torch.cat([extra, x] if padding == "pre" else [x, extra], dim=1)
    return x, lengths, labels


# ---------------------------------------------------------------------------- the model

def masked_mean(output: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
    """The mean of a post-padded ``output`` ``(B, T, F)`` over each row's first
    ``lengths[b]`` steps: ``(B, F)``."""
    keep = torch.arange(output.shape[1])[None, :] < lengths[:, None]
    keep = keep.to(device=output.device, dtype=output.dtype)
    return (output * keep[..., None]).sum(1) / lengths.to(output.device, output.dtype)[:, None]


class Classifier(nn.Module):
    """Padded sequences ``(B, T, C)`` and their lengths ``(B,)`` -> ``(B, K)`` logits.

    ``masking=True``: the LSTM reads the batch through ``pack_padded_sequence``, and the
    summary is ``h_n`` of the last layer (``pooling="last"``: the forward direction's state
    after each sequence's own last frame, the backward one's after its first) or the mean
    output over the real frames (``"mean"``). ``masking=False``: the LSTM reads ``x`` as it
    is, pads and all, and the summary is ``h_n`` after the last of the T steps or the mean
    over all T. Attributes ``lstm`` (its ``state_dict`` is ``nn.LSTM``'s), ``drop``, ``head``.
    """

    def __init__(self, n_channels: int, hidden_size: int, n_classes: int, num_layers: int = 1,
                 bidirectional: bool = True, masking: bool = True, pooling: str = "last",
                 dropout: float = 0.0, dtype: torch.dtype = torch.float32) -> None:
        super().__init__()
        self.masking, self.pooling, self.bidirectional = masking, pooling, bidirectional
        self.directions = 2 if bidirectional else 1
        self.lstm = nn.LSTM(n_channels, hidden_size, num_layers, batch_first=True,
                            bidirectional=bidirectional,
                            dropout=dropout if num_layers > 1 else 0.0, dtype=dtype)
        self.drop = nn.Dropout(dropout)
        self.head = nn.Linear(self.directions * hidden_size, n_classes, dtype=dtype)

    def features(self, x: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        """The ``(B, D*H)`` summary of each sequence that the head reads."""
        if self.masking:
            packed = pack_padded_sequence(x, lengths.cpu(), batch_first=True,
                                          enforce_sorted=False)
            out, (h_n, _) = self.lstm(packed)
            if self.pooling == "mean":
                out, _ = pad_packed_sequence(out, batch_first=True, total_length=x.shape[1])
                return masked_mean(out, lengths)
        else:
            out, (h_n, _) = self.lstm(x)
            if self.pooling == "mean":
                return out.mean(1)
        last = h_n[-self.directions:]                   # the last layer's directions
        return last.transpose(0, 1).reshape(x.shape[0], -1)

    def forward(self, x: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        return self.head(self.drop(self.features(x, lengths)))


def build_model(args: Args, n_channels: int, n_classes: int) -> Classifier:
    """The untrained model of ``args``: torch's default initialisation under
    ``torch.manual_seed(args.seed)``."""
    torch.manual_seed(args.seed)
    return Classifier(n_channels, args.hidden_size, n_classes, args.num_layers,
                      args.bidirectional, args.masking, args.pooling, args.dropout,
                      DTYPES[args.dtype])


# ---------------------------------------------------------------------------- training

def fit(model: nn.Module, batches: Iterable[tuple[torch.Tensor, ...]], steps: int, *,
        lr: float, clip: float | None = 1.0, weight_decay: float = 0.0, device: str = "cpu",
        on_eval: Any = None, eval_every: int = 0) -> list[float]:
    """``steps`` Adam steps on the cross-entropy of ``model(x, lengths)`` against the labels,
    gradients clipped to global norm ``clip`` (None: not clipped). ``batches`` yields
    ``(x, lengths, labels)`` and is iterated again at the end of each pass (a
    ``DataLoader``); ``x`` is cast to the model's dtype. ``on_eval(step, losses)`` is
    called after every ``eval_every``-th step and after the last. Returns the loss of every
    step."""
    dtype = next(model.parameters()).dtype
    opt = torch.optim.Adam(model.parameters(), lr=lr, weight_decay=weight_decay)
    model.train()
    losses: list[float] = []
    while len(losses) < steps:
        for x, lengths, labels in batches:
            loss = nn.functional.cross_entropy(model(x.to(device, dtype), lengths),
                                               labels.to(device))
            opt.zero_grad(set_to_none=True)
            loss.backward()
            if clip is not None:
                nn.utils.clip_grad_norm_(model.parameters(), clip)
            opt.step()
            losses.append(float(loss.detach()))
            step = len(losses)
            if on_eval is not None and ((eval_every and step % eval_every == 0)
                                        or step == steps):
                on_eval(step, losses)
                model.train()
            if step == steps:
                break
    return losses


def loader(items: list[tuple[torch.Tensor, int]], args: Args, prep: Preprocess
           ) -> DataLoader:
    """The training batches: ``items`` shuffled anew every pass by a generator seeded with
    ``args.seed``, cut into batches of ``args.batch_size`` (the last may be smaller), each
    padded by ``collate``."""
    def pad_batch(batch: list[tuple[torch.Tensor, int]]) -> tuple[torch.Tensor, ...]:
        return collate(batch, prep.padding, prep.pad_to)
    return DataLoader(items, batch_size=args.batch_size, shuffle=True, collate_fn=pad_batch,
                      generator=torch.Generator().manual_seed(args.seed))


def train(model: Classifier, items: list[tuple[torch.Tensor, int]], args: Args,
          prep: Preprocess, *, steps: int | None = None, device: str = "cpu",
          on_eval: Any = None) -> list[float]:
    """Train on ``items`` (standardised ``(sequence, label)`` pairs) with ``args``; the
    dropout draws from ``torch.manual_seed(args.seed + 1)``. Returns every step's loss."""
    torch.manual_seed(args.seed + 1)
    return fit(model, loader(items, args, prep), args.steps if steps is None else steps,
               lr=args.lr, clip=args.clip, weight_decay=args.weight_decay, device=device,
               on_eval=on_eval, eval_every=args.eval_every)


# ---------------------------------------------------------------------------- evaluation

@torch.no_grad()
def logits(model: Classifier, items: list[tuple[torch.Tensor, int]], prep: Preprocess,
           device: str = "cpu", batch_size: int = 512) -> torch.Tensor:
    """The logits ``(N, K)`` of every item, computed in float64 (a copy of the model), so
    that the same weights give the same figures on every CPU."""
    model64 = copy.deepcopy(model).double().eval()
    out = []
    for start in range(0, len(items), batch_size):
        x, lengths, _ = collate(items[start: start + batch_size], prep.padding, prep.pad_to)
        out.append(model64(x.double().to(device), lengths).cpu())
    return torch.cat(out)


def evaluate(model: Classifier, items: list[tuple[torch.Tensor, int]], prep: Preprocess,
             device: str = "cpu") -> dict[str, float]:
    """``{"loss": mean cross-entropy, "accuracy": share classified right}`` on ``items``."""
    z = logits(model, items, prep, device)
    y = torch.tensor([int(label) for _, label in items], dtype=torch.int64)
    return {"loss": float(nn.functional.cross_entropy(z, y)),
            "accuracy": float((z.argmax(1) == y).double().mean())}


def predict(model: Classifier, prep: Preprocess, sequences: Sequence[np.ndarray],
            device: str = "cpu") -> np.ndarray:
    """The class of each raw ``(T_i, C)`` sequence, ``(N,)`` int64 (see ``prep.classes``)."""
    items = [(s, 0) for s in prep.apply(sequences, torch.float64)]
    return logits(model, items, prep, device).argmax(1).numpy().astype(np.int64)


def prepare(data: SequenceData, args: Args) -> tuple[Preprocess, dict[str, list[Any]]]:
    """The preprocessing fitted on the training part, and the three parts as standardised
    ``(sequence tensor, label)`` pairs (float64; ``fit`` casts each batch to the model's
    dtype, and the evaluation reads them as they are)."""
    parts = split_indices(data, args)
    longest = max(len(s) for s in data.sequences)
    prep = Preprocess.fit([data.sequences[i] for i in parts["train"]], data.classes, args,
                          longest)
    items = {}
    for name, idx in parts.items():
        seqs = prep.apply([data.sequences[i] for i in idx], torch.float64)
        items[name] = list(zip(seqs, data.labels[idx].tolist(), strict=True))
    return prep, items


def final_metrics(model: Classifier, items: dict[str, list[Any]], prep: Preprocess,
                  device: str = "cpu") -> dict[str, float]:
    out = {}
    for part in ("train", "val", "test"):
        for key, value in evaluate(model, items[part], prep, device).items():
            out[f"{part}_{key}"] = round(value, 6)
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


def load(directory: str | Path, device: str = "cpu") -> tuple[Classifier, Preprocess]:
    """``(model, preprocess)`` from a directory this recipe wrote; the model in eval mode."""
    directory = Path(directory)
    args = Args(**read_manifest(directory)["args"])
    prep = Preprocess(**json.loads((directory / "preprocess.json").read_text()))
    model = Classifier(len(prep.mean), args.hidden_size, len(prep.classes), args.num_layers,
                       args.bidirectional, args.masking, args.pooling, args.dropout,
                       DTYPES[args.dtype])
    model.load_state_dict(load_safetensors(directory / "weights.safetensors"))
    return model.to(device).eval(), prep


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
    data = load_npz(data_path)
    prep, items = prepare(data, args)
    model = build_model(args, len(prep.mean), len(prep.classes)).to(device)
    (out / "preprocess.json").write_text(prep.to_json() + "\n")
    curve: dict[str, list[Any]] = {"train_loss": [], "eval_step": [], "val_loss": [],
                                   "val_accuracy": []}
    manifest: dict[str, Any] = {
        "recipe": RECIPE, "args": asdict(args),
        "data": {"source": source or "npz file",
                 "sha256": hashlib.sha256(Path(data_path).read_bytes()).hexdigest(),
                 "sequences": len(data.labels), "channels": len(prep.mean),
                 "classes": len(prep.classes), "splits": {k: len(v) for k, v in items.items()}},
        "parameters": sum(p.numel() for p in model.parameters()),
        "device": _machine(device), "torch": torch.__version__,
        "python": platform.python_version(), "numpy": np.__version__,
    }
    best: dict[str, Any] = {"loss": float("inf"), "step": 0, "state": None}
    started = time.perf_counter()

    def write(complete: bool, losses: list[float], state: dict[str, torch.Tensor]) -> None:
        curve["train_loss"] = [float(f"{v:.8g}") for v in losses]
        manifest.update(steps=len(losses), seconds=round(time.perf_counter() - started, 1),
                        curve=curve, complete=complete)
        save_safetensors(state, out / "weights.safetensors", {"recipe": RECIPE})
        (out / "manifest.json").write_text(json.dumps(manifest, indent=1) + "\n")

    def on_eval(step: int, losses: list[float]) -> None:
        v = evaluate(model, items["val"], prep, device)
        curve["eval_step"].append(step)
        curve["val_loss"].append(round(v["loss"], 6))
        curve["val_accuracy"].append(round(v["accuracy"], 6))
        if v["loss"] < best["loss"]:
            best.update(loss=v["loss"], step=step,
                        state={k: t.detach().clone() for k, t in model.state_dict().items()})
        recent = losses[-args.eval_every:]
        log(f"step {step:5d}/{args.steps}  train {sum(recent) / len(recent):.4f}  "
            f"val loss {v['loss']:.4f}  val accuracy {v['accuracy']:.3f}")
        write(False, losses, model.state_dict())

    losses = train(model, items["train"], args, prep, device=device, on_eval=on_eval)
    if args.keep_best:
        model.load_state_dict(best["state"])
    manifest["kept_step"] = best["step"] if args.keep_best else len(losses)
    manifest["metrics"] = final_metrics(model, items, prep, device)
    write(True, losses, model.state_dict())
    return manifest


# ---------------------------------------------------------------------------- checks

def evaluate_checkpoint(directory: str | Path, data_path: str | Path) -> dict[str, float]:
    """The manifest's ``metrics`` recomputed from the stored weights and the data."""
    model, prep = load(directory)
    _, items = prepare(load_npz(data_path), Args(**read_manifest(directory)["args"]))
    return final_metrics(model, items, prep)


def replay(directory: str | Path, data_path: str | Path, steps: int = 20) -> list[float]:
    """The first ``steps`` training losses, recomputed from the manifest's arguments and
    seed on the data (compare them with the manifest's ``curve["train_loss"]``)."""
    args = Args(**read_manifest(directory)["args"])
    prep, items = prepare(load_npz(data_path), args)
    model = build_model(args, len(prep.mean), len(prep.classes))
    return train(model, items["train"], args, prep, steps=steps)


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
    p.add_argument("--data", "--text", dest="data", help="the .npz file to train on")
    p.add_argument("--out", help="the checkpoint directory to write")
    p.add_argument("--device", default="cpu", help="cpu or cuda")
    p.add_argument("--threads", type=int, default=0, help="torch threads (0: torch's choice)")
    p.add_argument("--source", default="", help="where the data came from (for the manifest)")
    p.add_argument("--predict", metavar="DIR", help="print the classes of --data's sequences "
                   "by the checkpoint DIR instead of training")
    for name, value in asdict(Args()).items():
        kind = _bool if isinstance(value, bool) else type(value)
        p.add_argument("--" + name.replace("_", "-"), type=kind, default=value)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    opts = _parser().parse_args(argv)
    if opts.threads:
        torch.set_num_threads(opts.threads)
    if not opts.data:
        _parser().error("--data is needed")
    if opts.predict:
        model, prep = load(opts.predict, opts.device)
        pred = predict(model, prep, load_npz(opts.data).sequences, opts.device)
        print("\n".join(prep.classes[k] for k in pred))
        return 0
    if not opts.out:
        _parser().error("--out is needed to train")
    args = Args(**{k: getattr(opts, k) for k in asdict(Args())})
    manifest = fit_and_save(opts.data, args, opts.out, device=opts.device, source=opts.source)
    print(json.dumps({"steps": manifest["steps"], "seconds": manifest["seconds"],
                      "kept_step": manifest["kept_step"], **manifest["metrics"]}))
    return 0


if __name__ == "__main__":
    os.environ.setdefault("PYTHONHASHSEED", "0")
    sys.exit(main())


__all__ = ["Args", "Classifier", "Preprocess", "SequenceData", "collate", "evaluate",
           "evaluate_checkpoint", "fit", "load", "load_npz", "masked_mean", "predict",
           "replay", "save_npz", "split_indices", "train"]
