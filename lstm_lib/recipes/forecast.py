"""Forecast one series with an LSTM on windows: train it, keep it, score it by horizon.

Copy this file: it needs only the standard library, NumPy and PyTorch. From a shell::

    python forecast.py --data my_series.csv --steps 400 --horizon 12 --device cpu --out my_model/

Your data: a CSV file whose last column holds the values, one line per time step, in time
order, on a regular grid (a header line is skipped; an empty field is a missing value), or
a ``.npy`` file with a 1-D array (NaN for a missing value).

The pattern, with nothing from the future in any step:

1. split in time: the last ``n_test`` values are the test part, the ``n_val`` before them
   validation, everything earlier training; nothing is shuffled across the borders;
2. missing values are filled by linear interpolation, and only inside the training part
   (a filled value looks at the next observed one; a gap later is refused);
3. optionally the seasonal difference ``d_t = y_t - y_{t-p}`` (``difference=p``), which
   turns a trend into a level and removes a wave of period ``p``;
4. min-max scaling fitted on the training part alone (later values may map above 1);
5. every window of ``window`` consecutive training values, and the value after it
   (``method="recursive"``) or the ``horizon`` values after it (``"direct"``);
6. ``nn.LSTM`` reads the window; a linear layer maps its last hidden state to the output;
   Adam on the mean squared error (full batch, or seeded mini-batches);
7. forecasts from an origin ``o`` use ``values[:o]`` only: the recursive model appends its
   own output to the window and goes on, the direct one reads all horizons at once; the
   scaling and the differences are undone. The score is the RMSE at each horizon over every
   origin whose ``horizon`` targets lie in the part being scored.

The output directory holds ``weights.safetensors`` (no pickle: this file writes the format
itself), ``preprocess.json`` (the scaler's constants, the differencing, the window) and
``manifest.json`` (the arguments, the data's SHA-256, the loss of every training step, the
validation curve, the final metrics). ``load(directory)`` gives ``(model, preprocess)``
back and ``forecast(model, preprocess, values, origins)`` forecasts from new origins.
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
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

RECIPE = "lstm_lib.recipes.forecast"
DATA_OPTION = "--data"  # the option lstm_lib.checkpoints passes the data file to
METHODS = ("recursive", "direct")
DTYPES = {"float32": torch.float32, "float64": torch.float64}
# The first 50 training losses, replayed under other CPU kernels (float32; native, AVX2 and
# SSE4 at 1 and 2 threads), agreed with the stored ones to 3e-8; a changed argument moved
# them by 8e-4 (learning rate 1% higher, window one shorter) to 0.2 (another seed).
REPLAY_TOL = 1e-5


@dataclass(frozen=True)
class Args:
    """Everything that decides a trained model (the command line's options and the
    manifest's ``args``). Run settings that do not change the result are not here."""

    steps: int = 400
    window: int = 24
    hidden_size: int = 16
    num_layers: int = 1
    method: str = "recursive"   # "recursive": one output, fed back; "direct": one per horizon
    horizon: int = 10           # how far ahead the forecasts are scored (and direct outputs)
    difference: int = 0         # p > 0: model y_t - y_{t-p} instead of y_t
    n_val: int = 40
    n_test: int = 40
    lr: float = 1e-2
    batch_size: int = 0         # 0: every training window in every step (full batch)
    clip: float = 0.0           # 0: gradients not clipped
    weight_decay: float = 0.0
    seed: int = 0               # the initial weights (and the mini-batch order)
    eval_every: int = 25
    dtype: str = "float32"

    def __post_init__(self) -> None:
        for name in ("steps", "window", "hidden_size", "num_layers", "horizon", "n_val",
                     "n_test", "eval_every"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be a positive int, got {value!r}")
        if self.method not in METHODS:
            raise ValueError(f"method must be one of {METHODS}, got {self.method!r}")
        if self.dtype not in DTYPES:
            raise ValueError(f"dtype must be one of {sorted(DTYPES)}, got {self.dtype!r}")
        if not (self.lr > 0 and self.clip >= 0 and self.weight_decay >= 0):
            raise ValueError("need lr > 0, clip >= 0 and weight_decay >= 0")
        if self.seed < 0 or self.batch_size < 0 or self.difference < 0:
            raise ValueError("need seed >= 0, batch_size >= 0 and difference >= 0")

    @property
    def n_out(self) -> int:
        return self.horizon if self.method == "direct" else 1


# ---------------------------------------------------------------------------- the data

def load_series(path: str | Path) -> np.ndarray:
    """The values of a ``.csv`` (last column; a first line that is not a number is a
    header; an empty field is NaN) or ``.npy`` (1-D) file: float64 ``(N,)``."""
    path = Path(path)
    if path.suffix == ".npy":
        values = np.asarray(np.load(path, allow_pickle=False), dtype=np.float64)
    else:
        rows = [line.rsplit(",", 1)[-1].strip() for line in
                path.read_text(encoding="utf-8").splitlines() if line.strip()]
        try:
            float(rows[0] or "nan")
        except ValueError:
            rows = rows[1:]                               # a header
        values = np.array([float(r) if r else np.nan for r in rows], dtype=np.float64)
    if values.ndim != 1 or len(values) < 3:
        raise ValueError(f"need a 1-D series of 3 or more values, got shape {values.shape}")
    return values


def split_points(n: int, args: Args) -> tuple[int, int]:
    """``(train_end, val_end)``: training ``[0, train_end)``, validation ``[train_end,
    val_end)``, test ``[val_end, n)``."""
    train_end, val_end = n - args.n_val - args.n_test, n - args.n_test
    if train_end < args.difference + args.window + args.n_out:
        raise ValueError(f"{n} values leave too few for training windows")
    if min(args.n_val, args.n_test) < args.horizon:
        raise ValueError("n_val and n_test must hold at least one horizon")
    return train_end, val_end


def fill_gaps(values: np.ndarray, train_end: int) -> np.ndarray:
    """NaN filled by linear interpolation between the observed neighbours. A NaN at the
    start, at the last training step ``train_end - 1`` (its right neighbour would be a
    validation value: a look ahead across the split) or at or after ``train_end`` (where
    the filled value would be scored) is a ValueError."""
    na = np.isnan(values)
    if not 1 <= train_end <= len(values):
        raise ValueError(f"train_end must be in 1..{len(values)}, got {train_end}")
    if na[train_end - 1:].any() or na[0]:
        raise ValueError("missing values are filled only inside the training part, between "
                         "two observed training values; fill or cut the others yourself")
    out = values.copy()
    idx = np.arange(len(values))
    out[na] = np.interp(idx[na], idx[~na], values[~na])
    return out


def seasonal_difference(values: np.ndarray, period: int) -> np.ndarray:
    """``d[i] = values[i + period] - values[i]`` (entry ``i`` belongs to time ``i +
    period``); ``period = 0`` returns ``values``."""
    return values if period == 0 else values[period:] - values[:-period]


def undo_difference(d_forecast: np.ndarray, values: np.ndarray, origins: np.ndarray,
                    period: int) -> np.ndarray:
    """Levels from forecast differences: ``level[o+h-1] = level[o+h-1-period] + d[h-1]``,
    the earlier level observed (before ``o``) or already forecast (``h > period``)."""
    if period == 0:
        return d_forecast
    out = np.empty_like(d_forecast)
    for h in range(1, d_forecast.shape[1] + 1):
        back = h - period                  # the horizon this one builds on (<= 0: observed)
        base = out[:, back - 1] if back >= 1 else values[origins + h - 1 - period]
        out[:, h - 1] = base + d_forecast[:, h - 1]
    return out


@dataclass(frozen=True)
class MinMaxScaler:
    """``z = (x - low) / (high - low)``, fitted on training values (NaN ignored); values
    outside the training range map outside [0, 1], as they should."""

    low: float
    high: float

    @classmethod
    def fit(cls, values: np.ndarray) -> MinMaxScaler:
        if np.isnan(values).all():
            raise ValueError("values are all NaN")
        low, high = float(np.nanmin(values)), float(np.nanmax(values))
        if not high > low:
            raise ValueError(f"values are constant ({low}): no range to scale by")
        return cls(low, high)

    def transform(self, x: np.ndarray) -> np.ndarray:
        return (np.asarray(x, dtype=np.float64) - self.low) / (self.high - self.low)

    def inverse(self, z: np.ndarray) -> np.ndarray:
        return np.asarray(z, dtype=np.float64) * (self.high - self.low) + self.low


def windows(z: np.ndarray, window: int, n_out: int) -> tuple[np.ndarray, np.ndarray]:
    """Every window of ``z`` ``(N,)`` and the ``n_out`` values after it: ``X`` ``(n,
    window, 1)``, ``Y`` ``(n, n_out)``, ``X[i] = z[i : i + window]``, ``Y[i, h - 1] =
    z[i + window + h - 1]``, ``n = N - window - n_out + 1``."""
    n = len(z) - window - n_out + 1
    if n < 1:
        raise ValueError(f"{len(z)} values are too few for a window of {window} and "
                         f"{n_out} outputs")
    rows = np.arange(n)[:, None]
    return (z[rows + np.arange(window)][..., None].astype(np.float64),
            z[rows + window + np.arange(n_out)].astype(np.float64))


@dataclass
class Preprocess:
    """How the model's inputs are made from the series and its outputs turned back:
    the scaler's ``low``, ``high`` (of the training part, differenced if ``difference``),
    the ``window``, the ``method`` and the model's ``n_out`` outputs."""

    low: float
    high: float
    difference: int
    window: int
    method: str
    n_out: int

    @property
    def scaler(self) -> MinMaxScaler:
        return MinMaxScaler(self.low, self.high)

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=1)


def prepare(values: np.ndarray, args: Args) -> tuple[Preprocess, np.ndarray, dict[str, Any]]:
    """The preprocessing fitted on the training part, the filled series, and the training
    windows ``{"X", "Y"}`` (scaled) with the split points ``{"train_end", "val_end"}``."""
    train_end, val_end = split_points(len(values), args)
    filled = fill_gaps(values, train_end)
    d = seasonal_difference(filled[:train_end], args.difference)
    scaler = MinMaxScaler.fit(d)
    X, Y = windows(scaler.transform(d), args.window, args.n_out)
    prep = Preprocess(scaler.low, scaler.high, args.difference, args.window, args.method,
                      args.n_out)
    return prep, filled, {"X": X, "Y": Y, "train_end": train_end, "val_end": val_end}


# ---------------------------------------------------------------------------- the model

class Forecaster(nn.Module):
    """A window ``(B, T, 1)`` -> ``nn.LSTM`` -> the last hidden state ``(B, H)`` ->
    ``Linear`` -> ``(B, n_out)``. Attributes ``lstm`` (``nn.LSTM``'s ``state_dict``), ``fc``."""

    def __init__(self, hidden_size: int, n_out: int = 1, num_layers: int = 1,
                 dtype: torch.dtype = torch.float32) -> None:
        super().__init__()
        self.hidden_size, self.n_out = hidden_size, n_out
        self.lstm = nn.LSTM(1, hidden_size, num_layers, batch_first=True, dtype=dtype)
        self.fc = nn.Linear(hidden_size, n_out, dtype=dtype)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out, _ = self.lstm(x)
        return self.fc(out[:, -1])


def build_model(args: Args) -> Forecaster:
    """The untrained model of ``args``: torch's default initialisation under
    ``torch.manual_seed(args.seed)``."""
    torch.manual_seed(args.seed)
    return Forecaster(args.hidden_size, args.n_out, args.num_layers, DTYPES[args.dtype])


# ---------------------------------------------------------------------------- training

def fit(model: nn.Module, X: np.ndarray, Y: np.ndarray, steps: int, *, lr: float,
        batch_size: int = 0, clip: float = 0.0, weight_decay: float = 0.0, seed: int = 0,
        device: str = "cpu", on_eval: Any = None, eval_every: int = 0) -> list[float]:
    """``steps`` Adam steps on the mean squared error of ``model(X)`` against ``Y``: all
    windows in every step (``batch_size=0``) or batches of ``batch_size`` from a new
    permutation every pass (``numpy.random.default_rng(seed)``); gradients clipped to
    global norm ``clip`` if it is positive. ``on_eval(step, losses)`` after every
    ``eval_every``-th step and after the last. Returns the loss of every step."""
    dtype = next(model.parameters()).dtype
    xs = torch.as_tensor(X, dtype=dtype, device=device)
    ys = torch.as_tensor(Y, dtype=dtype, device=device)
    rng = np.random.default_rng(seed)
    opt = torch.optim.Adam(model.parameters(), lr=lr, weight_decay=weight_decay)
    model.train()
    losses: list[float] = []
    order: list[np.ndarray] = []
    for step in range(1, steps + 1):
        if batch_size:
            if not order:
                perm = rng.permutation(len(xs))
                order = [perm[i: i + batch_size] for i in range(0, len(perm), batch_size)]
            idx = torch.as_tensor(order.pop(0), device=device)
            xb, yb = xs[idx], ys[idx]
        else:
            xb, yb = xs, ys
        loss = nn.functional.mse_loss(model(xb), yb)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        if clip > 0:
            nn.utils.clip_grad_norm_(model.parameters(), clip)
        opt.step()
        losses.append(float(loss.detach()))
        if on_eval is not None and ((eval_every and step % eval_every == 0) or step == steps):
            on_eval(step, losses)
            model.train()
    return losses


def train(model: Forecaster, windows_: dict[str, Any], args: Args, *, steps: int | None = None,
          device: str = "cpu", on_eval: Any = None) -> list[float]:
    """Train on the training windows of ``prepare`` with ``args``."""
    return fit(model, windows_["X"], windows_["Y"], args.steps if steps is None else steps,
               lr=args.lr, batch_size=args.batch_size, clip=args.clip,
               weight_decay=args.weight_decay, seed=args.seed, device=device,
               on_eval=on_eval, eval_every=args.eval_every)


# ---------------------------------------------------------------------------- forecasting

@torch.no_grad()
def forecast_scaled(model: Forecaster, context: np.ndarray, horizon: int, method: str,
                    device: str = "cpu") -> np.ndarray:
    """Forecasts ``(n, horizon)`` in the model's (scaled) units from windows ``context``
    ``(n, T)``, computed in float64 (a copy of the model), so that the same weights give
    the same forecasts on every CPU. ``"recursive"``: the next value, appended to the
    window, ``horizon`` times; ``"direct"``: the first ``horizon`` of the model's outputs."""
    model64 = copy.deepcopy(model).double().eval()
    x = torch.as_tensor(context[:, :, None], dtype=torch.float64, device=device)
    if method == "direct":
        if model64.n_out < horizon:
            raise ValueError(f"a direct model with n_out={model64.n_out} outputs cannot "
                             f"forecast horizon {horizon}")
        return model64(x)[:, :horizon].cpu().numpy()
    out = []
    for _ in range(horizon):
        nxt = model64(x)                                   # (n, 1)
        out.append(nxt[:, 0])
        x = torch.cat([x[:, 1:], nxt[:, :, None]], dim=1)
    return torch.stack(out, dim=1).cpu().numpy()


def forecast(model: Forecaster, prep: Preprocess, values: np.ndarray, origins: Any,
             horizon: int, device: str = "cpu") -> np.ndarray:
    """Forecasts of ``values[o : o + horizon]`` from ``values[:o]`` alone, for each origin
    ``o``, in the series' units: ``(n_origins, horizon)`` float64. ``values`` ``(N,)``
    without NaN in any window used; each origin needs ``window + difference`` values."""
    values = np.asarray(values, dtype=np.float64)
    o = np.asarray(origins, dtype=np.int64)
    p = prep.difference
    if o.min() < prep.window + p:
        raise ValueError(f"every origin needs {prep.window + p} values before it")
    z = prep.scaler.transform(seasonal_difference(values, p))
    context = z[(o - p)[:, None] + np.arange(-prep.window, 0)[None, :]]
    if np.isnan(context).any():
        raise ValueError("a forecast window contains NaN: fill the gaps first")
    paths = prep.scaler.inverse(forecast_scaled(model, context, horizon, prep.method, device))
    return undo_difference(paths, values, o, p)


def rmse_by_horizon(forecasts: np.ndarray, truth: np.ndarray) -> np.ndarray:
    """The RMSE of each column of ``forecasts`` ``(n_origins, H)`` against ``truth``:
    ``(H,)``."""
    return np.sqrt(np.mean((np.asarray(forecasts) - np.asarray(truth)) ** 2, axis=0))


def score(model: Forecaster, prep: Preprocess, filled: np.ndarray, start: int, stop: int,
          horizon: int, device: str = "cpu") -> np.ndarray:
    """RMSE by horizon ``(horizon,)`` over every origin whose targets lie in
    ``[start, stop)``."""
    o = np.arange(start, stop - horizon + 1)
    truth = filled[o[:, None] + np.arange(horizon)[None, :]]
    return rmse_by_horizon(forecast(model, prep, filled, o, horizon, device), truth)


def final_metrics(model: Forecaster, prep: Preprocess, filled: np.ndarray,
                  points: dict[str, Any], args: Args, device: str = "cpu") -> dict[str, float]:
    """``val_rmse`` and ``test_rmse`` (averaged over the horizons 1..H) and
    ``test_rmse_h1`` .. ``test_rmse_hH``."""
    val = score(model, prep, filled, points["train_end"], points["val_end"], args.horizon,
                device)
    test = score(model, prep, filled, points["val_end"], len(filled), args.horizon, device)
    out = {"val_rmse": float(val.mean()), "test_rmse": float(test.mean())}
    out.update({f"test_rmse_h{h}": float(e) for h, e in enumerate(test, start=1)})
    return {k: round(v, 6) for k, v in out.items()}


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


def load(directory: str | Path, device: str = "cpu") -> tuple[Forecaster, Preprocess]:
    """``(model, preprocess)`` from a directory this recipe wrote; the model in eval mode."""
    directory = Path(directory)
    args = Args(**read_manifest(directory)["args"])
    prep = Preprocess(**json.loads((directory / "preprocess.json").read_text()))
    model = Forecaster(args.hidden_size, args.n_out, args.num_layers, DTYPES[args.dtype])
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


def _round(v: float) -> float:
    return float(f"{v:.8g}")


def fit_and_save(data_path: str | Path, args: Args, out: str | Path, *, device: str = "cpu",
                 source: str = "", log: Any = print) -> dict[str, Any]:
    """Train on the series with ``args`` and write the checkpoint to ``out`` (also at every
    evaluation, marked ``"complete": false``). Returns the manifest."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    values = load_series(data_path)
    prep, filled, points = prepare(values, args)
    model = build_model(args).to(device)
    (out / "preprocess.json").write_text(prep.to_json() + "\n")
    curve: dict[str, list[Any]] = {"train_loss": [], "eval_step": [], "val_rmse": []}
    manifest: dict[str, Any] = {
        "recipe": RECIPE, "args": asdict(args),
        "data": {"source": source or "series file",
                 "sha256": hashlib.sha256(Path(data_path).read_bytes()).hexdigest(),
                 "values": len(values), "missing": int(np.isnan(values).sum()),
                 "splits": {"train": points["train_end"],
                            "val": points["val_end"] - points["train_end"],
                            "test": len(values) - points["val_end"]},
                 "training_windows": len(points["X"])},
        "parameters": sum(p.numel() for p in model.parameters()),
        "device": _machine(device), "torch": torch.__version__,
        "python": platform.python_version(), "numpy": np.__version__,
    }
    started = time.perf_counter()

    def write(complete: bool, losses: list[float]) -> None:
        curve["train_loss"] = [_round(v) for v in losses]
        manifest.update(steps=len(losses), seconds=round(time.perf_counter() - started, 1),
                        curve=curve, complete=complete)
        save_safetensors(model.state_dict(), out / "weights.safetensors", {"recipe": RECIPE})
        (out / "manifest.json").write_text(json.dumps(manifest, indent=1) + "\n")

    def on_eval(step: int, losses: list[float]) -> None:
        v = score(model, prep, filled, points["train_end"], points["val_end"], args.horizon,
                  device).mean()
        curve["eval_step"].append(step)
        curve["val_rmse"].append(_round(float(v)))
        log(f"step {step:5d}/{args.steps}  train mse {losses[-1]:.6f}  val rmse {v:.4f}")
        write(False, losses)

    losses = train(model, points, args, device=device, on_eval=on_eval)
    manifest["metrics"] = final_metrics(model, prep, filled, points, args, device)
    write(True, losses)
    return manifest


# ---------------------------------------------------------------------------- checks

def evaluate_checkpoint(directory: str | Path, data_path: str | Path) -> dict[str, float]:
    """The manifest's ``metrics`` recomputed from the stored weights and the data."""
    model, _ = load(directory)
    args = Args(**read_manifest(directory)["args"])
    prep, filled, points = prepare(load_series(data_path), args)
    return final_metrics(model, prep, filled, points, args)


def replay(directory: str | Path, data_path: str | Path, steps: int = 20) -> list[float]:
    """The first ``steps`` training losses, recomputed from the manifest's arguments and
    seed on the data (compare them with the manifest's ``curve["train_loss"]``)."""
    args = Args(**read_manifest(directory)["args"])
    _, _, points = prepare(load_series(data_path), args)
    return train(build_model(args), points, args, steps=steps)


# ---------------------------------------------------------------------------- command line

def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--data", "--text", dest="data", help="the .csv or .npy series")
    p.add_argument("--out", help="the checkpoint directory to write")
    p.add_argument("--device", default="cpu", help="cpu or cuda")
    p.add_argument("--threads", type=int, default=0, help="torch threads (0: torch's choice)")
    p.add_argument("--source", default="", help="where the data came from (for the manifest)")
    p.add_argument("--forecast", metavar="DIR", help="print the forecast of the next "
                   "--horizon values after --data's end by the checkpoint DIR instead")
    for name, value in asdict(Args()).items():
        p.add_argument("--" + name.replace("_", "-"), type=type(value), default=value)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    opts = _parser().parse_args(argv)
    if opts.threads:
        torch.set_num_threads(opts.threads)
    if not opts.data:
        _parser().error("--data is needed")
    if opts.forecast:
        model, prep = load(opts.forecast, opts.device)
        values = load_series(opts.data)
        if np.isnan(values[-(prep.window + prep.difference):]).any():
            raise SystemExit("the last window holds a missing value")
        path = forecast(model, prep, np.append(values, np.zeros(opts.horizon)),
                        np.array([len(values)]), opts.horizon, opts.device)[0]
        print("\n".join(repr(float(v)) for v in path))
        return 0
    if not opts.out:
        _parser().error("--out is needed to train")
    args = Args(**{k: getattr(opts, k) for k in asdict(Args())})
    manifest = fit_and_save(opts.data, args, opts.out, device=opts.device, source=opts.source)
    print(json.dumps({"steps": manifest["steps"], "seconds": manifest["seconds"],
                      **manifest["metrics"]}))
    return 0


if __name__ == "__main__":
    os.environ.setdefault("PYTHONHASHSEED", "0")
    sys.exit(main())


__all__ = ["Args", "Forecaster", "MinMaxScaler", "Preprocess", "evaluate_checkpoint", "fit",
           "forecast", "forecast_scaled", "load", "load_series", "prepare", "replay",
           "rmse_by_horizon", "seasonal_difference", "train", "undo_difference", "windows"]
