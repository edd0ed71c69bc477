"""The recurrent product h_{t-1} W_hh^T: a transposed view of W_hh against a row-major copy.

    python benchmarks/gemm_layout.py            # 3 shapes, 1 and 2 threads, 3 rounds
    python benchmarks/gemm_layout.py --quick

Each step of a NumPy recurrent layer multiplies the state (B, H) by W_hh^T (H, G*H). Written
``h @ w_hh.T`` the right operand is a transposed view (column-major); OpenBLAS then takes a
slower path at these small per-step shapes, most of all at 2 threads. ``lstm_lib.numpy``
therefore copies W_hh^T into row-major order once per call (``np.ascontiguousarray``): G*H*H
numbers, against T products. This script measures both layouts, each thread count in a fresh
process of its own (benchmarks/harness.py), and prints a table. It asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import statistics
from typing import Any

import harness

SHAPES = [(64, 256), (32, 128), (16, 64)]  # (B, H), the LSTM shapes of lstm_speed.py
GATES = 4


def shape_cases(B: int, H: int, budget: float) -> dict[str, Any]:
    """Time both layouts of the forward product, and the backward one (dz W_hh)."""
    import numpy as np

    rng = np.random.default_rng(0)
    w = rng.standard_normal((GATES * H, H)).astype(np.float32)
    h = rng.standard_normal((B, H)).astype(np.float32)
    dz = rng.standard_normal((B, GATES * H)).astype(np.float32)
    rec = np.empty((B, GATES * H), np.float32)
    dh = np.empty((B, H), np.float32)
    view, copy = w.T, np.ascontiguousarray(w.T)
    return {
        "h @ W.T (view)": harness.time_calls(lambda: np.matmul(h, view, out=rec), budget),
        "h @ W.T (row-major copy)": harness.time_calls(lambda: np.matmul(h, copy, out=rec),
                                                       budget),
        "dz @ W (backward)": harness.time_calls(lambda: np.matmul(dz, w, out=dh), budget),
    }


def worker(budget: float) -> dict[str, Any]:
    """Every shape, in this (fresh) process; also which kernels OpenBLAS picked."""
    out: dict[str, Any] = {str((B, H)): shape_cases(B, H, budget) for B, H in SHAPES}
    out["kernels"] = harness.blas_info()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="1 round, 0.3 s per case")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--kernels", default="native", metavar="PROFILE",
                        help="CPU-kernel profile (.ci/kernel_profiles.sh)")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--budget", type=float, default=0.5, help="seconds timed per case")
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(worker(args.budget)))
        return
    rounds, budget = (1, 0.3) if args.quick else (args.rounds, args.budget)
    harness.set_kernel_profile(args.kernels)
    runs: dict[int, list] = {n: [] for n in args.threads}
    for _ in range(rounds):
        for n in args.threads:
            runs[n].append(harness.run_worker(__file__, ["--worker", "--budget", str(budget)],
                                              n))
    picked = sorted({r["kernels"] for v in runs.values() for r in v})
    print(f"float32, microseconds per product (median over {rounds} round(s)); kernels: "
          f"{harness.kernel_profile()}, picked {'; '.join(picked)}")
    rows = []
    for n in args.threads:
        for B, H in SHAPES:
            key = str((B, H))
            view, copy, back = (1e6 * harness.pooled_median(r[key][case] for r in runs[n])
                                for case in ("h @ W.T (view)", "h @ W.T (row-major copy)",
                                             "dz @ W (backward)"))
            per_round = [statistics.median(r[key]["h @ W.T (view)"]["wall"])
                         / statistics.median(r[key]["h @ W.T (row-major copy)"]["wall"])
                         for r in runs[n]]
            rows.append([n, f"({B}, {H}) @ ({H}, {GATES * H})", f"{view:.1f}", f"{copy:.1f}",
                         f"{view / copy:.2f}",
                         f"{min(per_round):.2f}-{max(per_round):.2f}", f"{back:.1f}"])
    print(harness.format_table(["threads", "product", "view", "row-major copy",
                                "view / copy", "per round", "dz @ W"], rows))


if __name__ == "__main__":
    main()
