"""Trained once, checked always: the book's checkpoints, how to reproduce them, how to check them.

Training worth showing takes longer than CI can spend, so each model the chapters show is
trained once by a recipe (``lstm_lib.recipes``) into ``checkpoints/NAME/``. The file
``checkpoints/index.json`` says, for every NAME, which recipe, which data and which
arguments; ``make train NAME=...`` runs it (``python -m lstm_lib.checkpoints train NAME``).

``make check-checkpoints`` (``python -m lstm_lib.checkpoints check [DIR ...]``) checks every
checkpoint against its ``manifest.json``, so a manifest cannot lie:

- the data named by the manifest, made again here, has the manifest's SHA-256;
- the stored weights, evaluated again, give the manifest's ``metrics`` (to ``METRIC_TOL``;
  a metric that is a list, such as a per-position curve, value by value, to the recipe's
  ``CURVE_TOL``, else ``METRIC_TOL``);
- the first ``REPLAY_STEPS`` training steps, replayed from the manifest's arguments and
  seed, give the manifest's first recorded losses (to the recipe's ``REPLAY_TOL``, else
  ``REPLAY_TOL``: a tolerance that holds under every CPU-kernel profile, as float32
  training drifts in its last digits);
- the manifest says the run completed, with as many recorded losses as steps.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import functools
import importlib
import json
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lstm_lib.data.sources import DATA_CACHE, data_file, sha256_of

ROOT = Path(__file__).resolve().parent.parent
CHECKPOINTS = ROOT / "checkpoints"
METRIC_TOL = 1e-4
# 20 steps test what a replay can (the data's order, the initial weights, the optimiser's
# first updates) at two fifths of the cost of 50: other data or weights change the loss of
# step 1, another optimiser or learning rate that of step 2.
REPLAY_STEPS = 20
REPLAY_TOL = 2e-3


def read_index(index: Path = CHECKPOINTS / "index.json") -> dict[str, dict[str, Any]]:
    """``checkpoints/index.json``: NAME -> recipe, data, threads, about, args."""
    return json.loads(Path(index).read_text())


def train_command(name: str, entry: dict[str, Any], out: Path, data: Path) -> list[str]:
    """The command line that trains checkpoint ``name`` into ``out``."""
    option = getattr(importlib.import_module(entry["recipe"]), "DATA_OPTION", "--text")
    cmd = [sys.executable, "-m", entry["recipe"], option, str(data), "--out", str(out),
           "--source", entry["data"], "--threads", str(entry.get("threads", 0))]
    for key, value in entry["args"].items():
        cmd += ["--" + key.replace("_", "-"), str(value)]
    return cmd


def train(name: str, index: Path = CHECKPOINTS / "index.json",
          root: Path = CHECKPOINTS) -> float:
    """Train checkpoint ``name`` from scratch into ``root/name``; returns the seconds."""
    entries = read_index(index)
    if name not in entries:
        raise ValueError(f"no checkpoint {name!r} in {index}; known: {sorted(entries)}")
    entry = entries[name]
    cmd = train_command(name, entry, Path(root) / name, data_file(entry["data"]))
    print("train:", " ".join(cmd[1:]), flush=True)
    start = time.perf_counter()
    subprocess.run(cmd, check=True)
    seconds = time.perf_counter() - start
    print(f"train: {name} took {seconds:.0f} s", flush=True)
    return seconds


@dataclass
class CheckReport:
    """What ``check`` found for one checkpoint: ``problems`` is empty when it passed."""

    name: str
    problems: list[str] = field(default_factory=list)
    metrics: dict[str, float] = field(default_factory=dict)
    replay_max_diff: float = float("nan")

    @property
    def ok(self) -> bool:
        return not self.problems


def metric_difference(got: Any, stored: Any) -> float | None:
    """How far an evaluated metric is from the manifest's: ``|got - stored|`` for a number,
    the largest value-by-value difference for a list of numbers (a curve) of the same
    length, ``None`` when they cannot be compared (missing, or of another kind or length)."""
    if got is None or isinstance(got, (list, tuple)) != isinstance(stored, list):
        return None
    if isinstance(stored, list):
        if len(got) != len(stored):
            return None
        return max((abs(a - b) for a, b in zip(got, stored, strict=True)), default=0.0)
    return abs(got - stored)


def metric_agrees(got: Any, stored: Any, tol: float = METRIC_TOL,
                  curve_tol: float | None = None) -> bool:
    """Whether an evaluated metric matches the manifest's: a number within ``tol``, or a
    list of numbers (a curve) of the same length, each within ``curve_tol`` (default
    ``tol``)."""
    far = metric_difference(got, stored)
    each = tol if curve_tol is None or not isinstance(stored, list) else curve_tol
    return far is not None and far <= each


def check(directory: Path, replay_steps: int = REPLAY_STEPS, cache: Path = DATA_CACHE,
          make_data: Callable[[str, Path], Path] = data_file) -> CheckReport:
    """Check one checkpoint directory against its manifest (see the module docstring); the
    data is made again in ``cache`` by ``make_data(source, cache)``."""
    directory = Path(directory)
    report = CheckReport(directory.name)
    manifest = json.loads((directory / "manifest.json").read_text())
    recipe = importlib.import_module(manifest["recipe"])
    if not manifest.get("complete"):
        report.problems.append("the manifest is of a run that did not complete")
    losses = manifest["curve"]["train_loss"]
    if len(losses) != manifest["steps"] or manifest["steps"] != manifest["args"]["steps"]:
        report.problems.append(f"{len(losses)} recorded losses for {manifest['steps']} steps "
                               f"(args say {manifest['args']['steps']})")
    data = make_data(manifest["data"]["source"], Path(cache))
    digest = sha256_of(data)
    if digest != manifest["data"]["sha256"]:
        report.problems.append(f"data sha256 {digest[:12]}... is not the manifest's "
                               f"{manifest['data']['sha256'][:12]}...")
        return report
    report.metrics = recipe.evaluate_checkpoint(directory, data)
    if not manifest.get("metrics"):
        report.problems.append("the manifest records no metrics")
    curve_tol = getattr(recipe, "CURVE_TOL", METRIC_TOL)
    for key, stored in manifest.get("metrics", {}).items():
        got = report.metrics.get(key)
        if not metric_agrees(got, stored, METRIC_TOL, curve_tol):
            if isinstance(stored, list):
                report.problems.append(f"metric {key}: {len(stored)} values, largest difference "
                                       f"{metric_difference(got, stored)} (tolerance "
                                       f"{curve_tol:g} on each value)")
            else:
                report.problems.append(f"metric {key}: evaluated {got}, manifest says {stored}")
    steps = min(replay_steps, len(losses))
    replayed = recipe.replay(directory, data, steps)
    report.replay_max_diff = max(abs(a - b) for a, b in zip(replayed, losses[:steps],
                                                            strict=True))
    tol = getattr(recipe, "REPLAY_TOL", REPLAY_TOL)
    if not report.replay_max_diff <= tol:
        report.problems.append(f"replayed losses of the first {steps} steps differ from the "
                               f"manifest's by up to {report.replay_max_diff:.2e} "
                               f"(tolerance {tol:g})")
    return report


def table(root: Path = CHECKPOINTS) -> str:
    """A Markdown table of the checkpoints under ``root``: name, recipe, size on disk,
    steps, training time and where, and the first three final metrics (README's list)."""
    lines = ["| checkpoint | recipe | size | steps | trained for | on | metrics |",
             "|---|---|---|---|---|---|---|"]
    for d in sorted(p.parent for p in Path(root).glob("*/manifest.json")):
        m = json.loads((d / "manifest.json").read_text())
        size = sum(f.stat().st_size for f in d.iterdir()) / 1e6
        seconds = m.get("seconds_training", m.get("seconds", 0.0))
        items = [(k, v) for k, v in m.get("metrics", {}).items() if not isinstance(v, list)]
        metrics = ", ".join(f"{k} {v:.3f}" for k, v in items[:3]) + (", ..." if items[3:] else "")
        lines.append(f"| `{d.name}` | `{m['recipe'].rsplit('.', 1)[-1]}` | {size:.1f} MB | "
                     f"{m['steps']:,} | {seconds / 60:.0f} min | {m['device']} | {metrics} |")
    return "\n".join(lines)


def _one_thread() -> None:
    import torch

    torch.set_num_threads(1)


def _made(path: Path, source: str, cache: Path) -> Path:
    """``make_data`` for a source this run has already made (at ``path``)."""
    return path


def _timed_check(directory: Path, replay_steps: int, data: Path) -> tuple[CheckReport, float]:
    start = time.perf_counter()
    report = check(directory, replay_steps, make_data=functools.partial(_made, data))
    return report, time.perf_counter() - start


def _main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m lstm_lib.checkpoints")
    sub = parser.add_subparsers(dest="command", required=True)
    t = sub.add_parser("train", help="train checkpoints from scratch (all without names)")
    t.add_argument("names", nargs="*")
    c = sub.add_parser("check", help="check checkpoints against their manifests")
    c.add_argument("dirs", nargs="*", type=Path,
                   help="checkpoint directories or names in checkpoints/ (default: all)")
    c.add_argument("--replay-steps", type=int, default=REPLAY_STEPS)
    c.add_argument("--jobs", type=int, default=2, help="checkpoints checked at once")
    sub.add_parser("list", help="a Markdown table of the checkpoints")
    opts = parser.parse_args(argv)
    if opts.command == "list":
        print(table())
        return 0
    if opts.command == "train":
        names = opts.names or list(read_index())
        total = sum(train(n) for n in names)
        print(f"train: {len(names)} checkpoint(s) in {total:.0f} s")
        return 0
    dirs = [d if d.is_dir() or not (CHECKPOINTS / d).is_dir() else CHECKPOINTS / d
            for d in opts.dirs]          # a directory, or the name of one in checkpoints/
    dirs = dirs or sorted(p.parent for p in CHECKPOINTS.glob("*/manifest.json"))
    if not dirs:
        print("check-checkpoints: no checkpoint found")
        return 1
    source = {d: json.loads((d / "manifest.json").read_text())["data"]["source"] for d in dirs}
    failed = 0
    with concurrent.futures.ProcessPoolExecutor(max_workers=opts.jobs,
                                                initializer=_one_thread) as pool:
        # Every data source is made once in the run (number-words-de-fr takes over half a
        # minute), and a checkpoint's check is queued as soon as its data is made.
        making = {pool.submit(data_file, s, DATA_CACHE): s for s in dict.fromkeys(source.values())}
        checks, unmade = {}, {}
        for made in concurrent.futures.as_completed(making):
            ours = [d for d in dirs if source[d] == making[made]]
            try:
                path = made.result()
            except Exception as error:   # every checkpoint of that source fails, the rest go on
                unmade.update({d: f"its data source {making[made]!r} could not be made: "
                                  f"{type(error).__name__}: {error}" for d in ours})
                continue
            checks.update({d: pool.submit(_timed_check, d, opts.replay_steps, path) for d in ours})
        for d in dirs:
            if d in unmade:
                r, seconds = CheckReport(d.name, [unmade[d]]), 0.0
            else:
                r, seconds = checks[d].result()
            metrics = ", ".join(f"{k} {v:.4f}" if not isinstance(v, (list, tuple))
                                else f"{k} ({len(v)} values)" for k, v in r.metrics.items())
            print(f"{'ok  ' if r.ok else 'FAIL'} {r.name}: {metrics}; replay max diff "
                  f"{r.replay_max_diff:.1e} ({seconds:.0f} s)", flush=True)
            for p in r.problems:
                print(f"     {p}")
            failed += not r.ok
    print(f"check-checkpoints: {len(dirs) - failed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(_main())
