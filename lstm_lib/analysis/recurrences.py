"""Chapter 13's measurements: the state-tracking checkpoints evaluated, and what generating
one more character costs each kind of model.

The models and their training are the recipe's (``lstm_lib.recipes.state_tracking`` and
``lstm_lib.recipes.char_lm``); this module only loads their checkpoints and counts.
"""

from __future__ import annotations

import csv
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from lstm_lib.checkpoints import CHECKPOINTS
from lstm_lib.data.sources import data_file
from lstm_lib.recipes import state_tracking as st

SPEED_CSV = Path(__file__).resolve().parents[2] / "benchmarks" / "results" / "scan_speed.csv"
TASKS = ("parity", "cycle")
SEEDS = (0, 1, 2)
CHANCE = {"parity": 1 / 2, "cycle": 1 / 5}
SOLVED = 0.99       # accuracy on the longest test positions that counts as solved


def tracking_name(task: str, model: str, seed: int) -> str:
    """The checkpoint name of one state-tracking run: ``track-parity-lstm-s0``."""
    if task not in TASKS or model not in st.MODELS or seed not in SEEDS:
        raise ValueError(f"need a task in {TASKS}, a model in {st.MODELS} and a seed in "
                         f"{SEEDS}; got {task!r}, {model!r}, {seed!r}")
    return f"track-{task}-{model}-s{seed}"


@dataclass
class TrackingResult:
    """One checkpoint evaluated: ``accuracy`` per test bin (``st.BINS``, keyed ``"1-40"``
    ...), ``per_position`` the test accuracy at each of the 256 positions, and the
    manifest's ``parameters``, ``seconds`` and validation ``val_accuracy``."""

    task: str
    model: str
    seed: int
    parameters: int
    seconds: float
    val_accuracy: float
    accuracy: dict[str, float]
    per_position: np.ndarray

    @property
    def solved(self) -> bool:
        """Right at ``SOLVED`` of the positions 161-256, which no training sequence reached."""
        return self.accuracy["161-256"] >= SOLVED


def tracking_result(task: str, model: str, seed: int, manifest: Mapping,
                    metrics: Mapping) -> TrackingResult:
    """A ``TrackingResult`` from a tracker's manifest and its metrics (the recipe's
    ``metrics``: ``val_accuracy``, ``test_accuracy_LO_HI`` per bin, ``test_position_accuracy``)."""
    accuracy = {f"{lo}-{hi}": float(metrics[f"test_accuracy_{lo}_{hi}"]) for lo, hi in st.BINS}
    return TrackingResult(task, model, seed, manifest["parameters"], manifest["seconds"],
                          float(metrics["val_accuracy"]), accuracy,
                          np.asarray(metrics["test_position_accuracy"], dtype=float))


def read_tracking(task: str, model: str, seed: int, root: Path = CHECKPOINTS) -> TrackingResult:
    """Checkpoint ``tracking_name(task, model, seed)`` as its manifest records it: the test
    accuracy per position and per bin and the validation accuracy, which ``make
    check-checkpoints`` recomputes from the stored weights (``evaluate_tracking`` does here)."""
    manifest = st.read_manifest(Path(root) / tracking_name(task, model, seed))
    return tracking_result(task, model, seed, manifest, manifest["metrics"])


def read_all_tracking(root: Path = CHECKPOINTS) -> list[TrackingResult]:
    """``read_tracking`` for every task, model and seed (2 x 5 x 3 checkpoints)."""
    return [read_tracking(task, model, s, root) for task in TASKS for model in st.MODELS
            for s in SEEDS]


def evaluate_tracking(task: str, model: str, seed: int, root: Path = CHECKPOINTS,
                      data: st.TaskData | None = None) -> TrackingResult:
    """Load checkpoint ``tracking_name(task, model, seed)`` and score it afresh on the test
    sequences (length 256) and the validation ones (lengths 1-40), with the recipe's
    ``metrics``."""
    net, manifest = st.load(Path(root) / tracking_name(task, model, seed))
    data = st.read_tasks(data_file("state-tracking"), task) if data is None else data
    return tracking_result(task, model, seed, manifest, st.metrics(net, data))


@torch.no_grad()
def ones_run_states(net: st.Tracker, lengths: Sequence[int]) -> np.ndarray:
    """The first layer's output after reading ``1`` repeated k times, for each k in
    ``lengths`` (parity's symbols are ``"01"``): float64 (len(lengths), H). A recurrence
    that can carry parity must alternate between two states; one that cannot converges."""
    longest = max(lengths)
    ids = torch.ones(1, longest, dtype=torch.int64)
    x = net.embed(ids)
    first = net.core[0] if isinstance(net.core, torch.nn.ModuleList) else net.core
    out = first(x)
    out = out[0] if isinstance(out, tuple) else out
    return out[0, [k - 1 for k in lengths]].double().numpy()


# ---------------------------------------------------------------------------- speed

def read_speed_table(path: Path = SPEED_CSV) -> dict[tuple[int, str], dict[int, float]]:
    """The rows ``benchmarks/scan_speed.py --csv`` wrote: (threads, implementation) ->
    {T: seconds per forward + backward}. A recorded measurement, not one made here."""
    table: dict[tuple[int, str], dict[int, float]] = {}
    with Path(path).open() as f:
        for row in csv.DictReader(f):
            key = (int(row["threads"]), row["implementation"])
            table.setdefault(key, {})[int(row["T"])] = float(row["seconds"])
    return table


def growth_exponent(seconds: Mapping[int, float], last: int = 3) -> float:
    """p in time ~ T^p: the slope of log(seconds) against log(T) over the ``last`` largest
    T (a least-squares line)."""
    Ts = sorted(seconds)[-last:]
    if len(Ts) < 2:
        raise ValueError(f"need at least 2 lengths, got {len(Ts)}")
    return float(np.polyfit(np.log(Ts), np.log([seconds[T] for T in Ts]), 1)[0])


# ---------------------------------------------------------------------------- generation

@dataclass(frozen=True)
class GenerationCost:
    """What one more generated character costs after ``context`` characters: the floats
    held as state, and the multiply-adds of the layers (embedding and read-out left out,
    as they are the same for every model)."""

    model: str
    context: int
    state_floats: int
    multiply_adds: int


def generation_cost(model: str, hidden_size: int, input_size: int, num_layers: int,
                    context: int) -> GenerationCost:
    """Counted from the equations, for batch 1.

    - ``lstm``: state h, c per layer; 4H(I + H) multiply-adds per layer.
    - ``slstm``: state h, c, n, m per layer; the same products as the LSTM.
    - ``mingru``: state h per layer; 2H I per layer (no recurrent product).
    - ``transformer`` (the standard way, with a key-value cache): keys and values of every
      earlier position in every layer, 2 L d t floats; per layer 4 d^2 for q, k, v and the
      output projection, 2 d (2 d) for the feed-forward, and 2 d t for the scores and the
      weighted sum over t positions.
    """
    if context < 0 or min(hidden_size, input_size, num_layers) < 1:
        raise ValueError("need context >= 0 and positive sizes")
    H, L, t = hidden_size, num_layers, context
    inputs = [input_size] + [H] * (L - 1)
    if model == "lstm":
        return GenerationCost(model, t, 2 * L * H, sum(4 * H * (i + H) for i in inputs))
    if model == "slstm":
        return GenerationCost(model, t, 4 * L * H, sum(4 * H * (i + H) for i in inputs))
    if model == "mingru":
        return GenerationCost(model, t, L * H, sum(2 * H * i for i in inputs))
    if model == "transformer":
        return GenerationCost(model, t, 2 * L * H * t,
                              L * (4 * H * H + 4 * H * H + 2 * H * t))
    raise ValueError(f"model must be lstm, slstm, mingru or transformer, got {model!r}")


__all__ = ["SPEED_CSV", "read_speed_table", "growth_exponent",
           "TASKS", "SEEDS", "CHANCE", "SOLVED", "tracking_name", "TrackingResult",
           "tracking_result", "read_tracking", "read_all_tracking", "evaluate_tracking",
           "ones_run_states", "GenerationCost",
           "generation_cost"]
