"""minGRU's parallel scan, its loop and torch.nn.LSTM on the CPU against sequence length, float32.

    python benchmarks/scan_speed.py              # T = 64 .. 4096, 1 and 2 threads, 3 rounds
    python benchmarks/scan_speed.py --quick      # 1 round, shorter timings
    python benchmarks/scan_speed.py --lengths 64 256 --repeats 3 --csv scan.csv

What is timed: one forward and backward pass (autograd, ``output.backward(d_output)``) of
a batch of B = 16 sequences with I = H = 64, float32, for T = 64, 256, 1024 and 4096, of

- ``minGRU parallel``: ``lstm_lib.recipes.state_tracking.MinGRU`` (the recipe file loaded
  on its own, as a practitioner's copy runs, without ``lstm_lib``), ``mode="parallel"``:
  Heinsen's log-space scan (one ``cumsum`` and one ``logcumsumexp`` over T, no loop in
  Python);
- ``minGRU sequential``: the same module, ``mode="sequential"``: the loop over T in Python,
  a handful of small torch ops per step forward and as many autograd nodes backward;
- ``nn.LSTM``: ``torch.nn.LSTM(64, 64, batch_first=True)``, torch's fused CPU kernels, the
  reference every ratio divides by.

I = H = 64 and B = 16 are the sizes of a small sequence model (the recipes' state-tracking
models are of this size): large enough that a step is more than Python overhead, small enough
that T = 4096 of the loop fits in a few seconds. minGRU's gate and candidate read only x, so
its matrix products are one (B*T, I) x (I, 2H) product forward (and two backward), not a
recurrent product per step: what remains per step is pointwise work, which the scan does for
all steps at once and the loop one step at a time.

Method (see benchmarks/harness.py): every implementation runs in a fresh process of its own,
with its thread count set in the environment before torch loads. In each round the three
processes run one after the other, their order rotated from round to round; each times every
T for about ``--budget`` seconds (at least ``--repeats`` calls) after two warm-up calls. A
figure is the median over all timed calls of all rounds; a ratio's range is the spread of
the per-round ratios (the machine's noise). Each worker also measures torch's sgemm peak (a
2048 x 2048 product, best call), printed beside the GFLOP/s of the layers' matrix products.
The growth exponent is the slope of log(time) against log(T) between successive lengths: 1
is linear in T; below 1, a fixed cost per call still matters. Prints Markdown tables (and
``--csv PATH``: one row per threads x T x implementation); asserts nothing: speed is
reported, never tested.
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import harness
from lstm_speed import GEMM_N, sgemm_peak

B, I, H = 16, 64, 64
LENGTHS = [64, 256, 1024, 4096]
IMPLS = {"parallel": "minGRU parallel", "sequential": "minGRU sequential", "lstm": "nn.LSTM"}
REFERENCE = "lstm"


# ----------------------------------------------------------------------------- workers
def gemm_flops(impl: str, T: int) -> float:
    """Floating-point operations of one fwd+bwd's matrix products: minGRU's input projection
    (2*B*T*I*2H forward, twice that backward); nn.LSTM's as ``harness.rnn_gemm_flops``."""
    if impl == REFERENCE:
        return harness.rnn_gemm_flops(B, T, I, H, gates=4, backward=True)
    return 3 * 2.0 * B * T * I * 2 * H


def recipe() -> Any:
    """``lstm_lib/recipes/state_tracking.py`` loaded from its file, as a practitioner's copy
    runs: without importing ``lstm_lib`` (whose thread policy would set the pools' waits)."""
    import importlib.util

    path = Path(__file__).resolve().parent.parent / "lstm_lib" / "recipes" / "state_tracking.py"
    spec = importlib.util.spec_from_file_location("state_tracking", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def cases(impl: str, lengths: list[int], budget: float, repeats: int) -> dict[str, Any]:
    """Time fwd+bwd of one implementation at every T, float32, in this process."""
    import numpy as np
    import torch

    torch.manual_seed(0)
    module = (torch.nn.LSTM(I, H, batch_first=True) if impl == REFERENCE
              else recipe().MinGRU(I, H))
    out = {}
    for T in lengths:
        rng = np.random.default_rng(T)
        x = torch.from_numpy(rng.standard_normal((B, T, I)).astype(np.float32))
        d_out = torch.from_numpy(rng.standard_normal((B, T, H)).astype(np.float32))
        xg = x.clone().requires_grad_(True)

        def fwd_bwd(xg=xg, d_out=d_out):
            module.zero_grad()
            xg.grad = None
            o, _ = module(xg) if impl == REFERENCE else module(xg, mode=impl)
            o.backward(d_out)

        out[str(T)] = harness.time_calls(fwd_bwd, budget, lo=repeats, hi=max(repeats, 51))
    return out


def worker(impl: str, threads: int, lengths: list[int], budget: float,
           repeats: int) -> dict[str, Any]:
    """One fresh process: every T of one implementation at this thread count."""
    import torch

    torch.set_num_threads(threads)
    load0 = harness.load_average()
    result: dict[str, Any] = {"sgemm_gflops": sgemm_peak("torch")}
    result["lengths"] = cases(impl, lengths, budget, repeats)
    result["load"] = [load0, harness.load_average()]
    result["kernels"] = harness.blas_info()
    return result


# ----------------------------------------------------------------------------- report
def measure(rounds: int, threads_list: list[int], lengths: list[int], budget: float,
            repeats: int, wait_quiet: float = 0.0) -> dict[str, list]:
    """All workers, rounds x threads x implementations, the order rotated each round.
    Before each worker, wait up to ``wait_quiet`` s for a quiet machine (<= 25% busy)."""
    runs: dict[str, list] = {}
    names = list(IMPLS)
    for r in range(rounds):
        for threads in threads_list:
            shift = (r + threads) % len(names)
            for impl in names[shift:] + names[:shift]:
                args = ["--worker", impl, "--threads", str(threads), "--budget", str(budget),
                        "--repeats", str(repeats), "--lengths", *map(str, lengths)]
                busy = harness.wait_for_quiet(0.25, wait_quiet)
                res = harness.run_worker(__file__, args, threads)
                res["busy_before"] = busy
                runs.setdefault(f"{impl} {threads}", []).append(res)
                print(f"  round {r + 1}/{rounds}: {IMPLS[impl]:17} at {threads} thread(s) done "
                      f"(machine {100 * busy:.0f}% busy before; load {res['load'][0]:.1f} -> "
                      f"{res['load'][1]:.1f})", file=sys.stderr, flush=True)
    return runs


def ratio_range(num: list, den: list) -> str:
    """The spread of the per-round ratios of two cases, 'lo-hi'."""
    rs = [a / b for a, b in zip(harness.round_medians(num), harness.round_medians(den))]
    return f"{min(rs):.2f}-{max(rs):.2f}" if len(rs) > 1 else "-"


def report(runs: dict, threads_list: list[int], lengths: list[int]) -> list[dict[str, Any]]:
    """Print the peak and the timing tables; return the rows (for --csv)."""
    def samples(impl: str, threads: int, T: int) -> list:
        return [r["lengths"][str(T)] for r in runs[f"{impl} {threads}"]]

    def seconds(impl: str, threads: int, T: int) -> float:
        return harness.pooled_median(samples(impl, threads, T))

    peak = {t: max(r["sgemm_gflops"] for impl in IMPLS for r in runs[f"{impl} {t}"])
            for t in threads_list}
    print(f"\nsgemm peak, GFLOP/s ({GEMM_N} x {GEMM_N} float32, torch, best call of any worker)")
    print(harness.format_table(["threads", "peak"], [[t, f"{peak[t]:.0f}"] for t in threads_list]))

    rows, table = [], []
    for t in threads_list:
        for impl, label in IMPLS.items():
            previous = None
            for T in lengths:
                s = seconds(impl, t, T)
                ref = seconds(REFERENCE, t, T)
                exponent = (math.log(s / previous[1]) / math.log(T / previous[0])
                            if previous else None)
                previous = (T, s)
                gflops = gemm_flops(impl, T) / s / 1e9
                row = {"threads": t, "T": T, "implementation": label, "seconds": s,
                       "ratio_to_lstm": s / ref, "exponent": exponent,
                       "gemm_gflops": gflops, "sgemm_peak_gflops": peak[t]}
                rows.append(row)
                table.append([t, T, label, f"{s:.4g}", f"{s / ref:.2f}",
                              ratio_range(samples(impl, t, T), samples(REFERENCE, t, T)),
                              "-" if exponent is None else f"{exponent:.2f}",
                              f"{gflops:.1f} ({100 * gflops / peak[t]:.0f}%)"])
    print(f"\nfwd+bwd, float32, B = {B}, I = H = {I}: seconds per call (median); ratio = time / "
          "nn.LSTM's at the same T and threads; exponent = slope of log time vs log T from "
          "the previous T; GFLOP/s of the matrix products (% of the sgemm peak)")
    print(harness.format_table(["threads", "T", "implementation", "s / call", "/ nn.LSTM",
                                "per round", "exponent", "GEMM GFLOP/s"], table))

    wide = []
    for t in threads_list:
        for T in lengths:
            ref = seconds(REFERENCE, t, T)
            wide.append([t, T] + [f"{seconds(impl, t, T):.4g}" for impl in IMPLS]
                        + [f"{seconds(impl, t, T) / ref:.2f}" for impl in IMPLS
                           if impl != REFERENCE])
    print("\nthe same, side by side: seconds per call, and the ratios to nn.LSTM")
    print(harness.format_table(
        ["threads", "T"] + [f"{label} s" for label in IMPLS.values()]
        + [f"{IMPLS[i]} / nn.LSTM" for i in IMPLS if i != REFERENCE], wide))
    return rows


def write_csv(path: Path, rows: list[dict[str, Any]]) -> None:
    """One row per threads x T x implementation, the columns of ``report``'s rows."""
    with path.open("w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        for row in rows:
            writer.writerow({k: "" if v is None else v for k, v in row.items()})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="1 round, 0.4 s per case")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--budget", type=float, default=1.0, help="seconds timed per case")
    parser.add_argument("--repeats", type=int, default=7,
                        help="at least this many timed calls per case (after 2 warm-ups)")
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--lengths", type=int, nargs="+", default=LENGTHS, metavar="T",
                        help="sequence lengths")
    parser.add_argument("--csv", type=Path, metavar="PATH", help="write the rows here")
    parser.add_argument("--kernels", default="native", metavar="PROFILE",
                        help="CPU-kernel profile of the workers (.ci/kernel_profiles.sh): "
                             "native (default), avx2 or baseline")
    parser.add_argument("--wait-quiet", type=float, default=0.0, metavar="S",
                        help="before each worker, wait up to S s for the machine to be quiet")
    parser.add_argument("--worker", choices=list(IMPLS), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.repeats < 1 or any(T < 1 for T in args.lengths):
        parser.error("--repeats and every --lengths value must be >= 1")
    lengths = sorted(set(args.lengths))
    if args.worker:  # a child: measure and print JSON
        print(json.dumps(worker(args.worker, args.threads[0], lengths, args.budget,
                                args.repeats)))
        return
    rounds, budget = (1, 0.4) if args.quick else (args.rounds, args.budget)
    harness.set_kernel_profile(args.kernels)
    print(f"minGRU (parallel scan, loop) vs torch.nn.LSTM, float32, CPU, fwd+bwd; each "
          f"implementation in its own process; {rounds} round(s), order rotated; kernels: "
          f"{harness.kernel_profile()}")
    load0 = harness.load_average()
    t0 = time.perf_counter()
    runs = measure(rounds, args.threads, lengths, budget, args.repeats, args.wait_quiet)
    picked = sorted({r["kernels"] for v in runs.values() for r in v})
    print(f"kernels the workers picked: {'; '.join(picked)}")
    rows = report(runs, args.threads, lengths)
    loads = [x for v in runs.values() for r in v for x in r["load"]]
    busy = [r["busy_before"] for v in runs.values() for r in v]
    print(f"\nload average (1 min): {load0:.1f} at start, median "
          f"{statistics.median(loads):.1f} during, max {max(loads):.1f}; machine busy before a "
          f"worker: median {100 * statistics.median(busy):.0f}%, max {100 * max(busy):.0f}%; "
          f"{time.perf_counter() - t0:.0f} s")
    if args.csv:
        write_csv(args.csv, rows)
        print(f"rows written to {args.csv}")


if __name__ == "__main__":
    main()
