"""NumPy LSTM and GRU against torch.nn.LSTM / nn.GRU on the CPU, float32, each in its own process.

    python benchmarks/lstm_speed.py              # 4 shapes, 1 and 2 threads, 3 rounds
    python benchmarks/lstm_speed.py --quick      # 1 round, shorter timings
    python benchmarks/lstm_speed.py --rounds 5 --json out.json

Method (see benchmarks/harness.py): every implementation runs in a fresh process of its own
(NumPy's without torch imported at all), with its thread count set in the environment
before the libraries load. In each round the NumPy and the torch processes run one after
the other, in alternating order; each times every case for about a second after two
warm-up calls. A figure is the median over all timed calls of all rounds; a ratio's range
is the spread of the per-round ratios, which shows how noisy the machine was.

Also measured, in the same run: the sgemm peak of each library (a 2048 x 2048 product, best
call), against which the achieved GFLOP/s of the layers' matrix products are reported, and
the NumPy LSTM with ``lengths=`` against the same call without (the contract: within 1.3x).
torch's best is ``nn.LSTM`` / ``nn.GRU`` (oneDNN's fused kernels on the CPU). Prints tables
and asserts nothing: speed is reported, never tested.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import harness

SHAPES = [(64, 100, 128, 256), (32, 50, 64, 128), (16, 500, 32, 64), (1, 1000, 16, 32)]
# The targets of issue 30, NumPy / torch fwd+bwd at 2 threads.
TARGETS = {(64, 100, 128, 256): 1.2, (32, 50, 64, 128): 1.3, (16, 500, 32, 64): 2.0}
LENGTHS_CONTRACT = 1.3
GEMM_N = 2048


# ----------------------------------------------------------------------------- workers
def data(B: int, T: int, I: int, H: int, gates: int):
    """Seeded input (B, T, I), output gradient (B, T, H) and lengths (B,), float32."""
    import numpy as np

    rng = np.random.default_rng(0)
    x = rng.standard_normal((B, T, I)).astype(np.float32)
    d_out = rng.standard_normal((B, T, H)).astype(np.float32)
    lengths = rng.integers(T // 2, T + 1, size=B)
    lengths[0] = T
    return x, d_out, lengths


def numpy_cases(B: int, T: int, I: int, H: int, budget: float, first: str) -> dict[str, Any]:
    import numpy as np

    import lstm_lib.numpy as lnp

    x, d_out, lengths = data(B, T, I, H, 4)
    lstm = lnp.LSTM(I, H, dtype=np.float32)
    gru = lnp.GRU(I, H, dtype=np.float32)

    def lstm_fwd_bwd(lens=None):
        lstm.forward(x, lengths=lens)
        lstm.backward(d_out)

    def gru_fwd_bwd():
        gru.forward(x)
        gru.backward(d_out)

    out = {"lstm fwd": harness.time_calls(lambda: lstm.forward(x), budget)}
    pair = [("lstm fwd+bwd", lstm_fwd_bwd), ("lstm lengths fwd+bwd", lambda: lstm_fwd_bwd(lengths))]
    for name, fn in pair if first == "plain" else pair[::-1]:  # alternate their order
        out[name] = harness.time_calls(fn, budget)
    out["gru fwd+bwd"] = harness.time_calls(gru_fwd_bwd, budget)
    out["lstm gemms"] = harness.time_calls(lstm_gemms(lstm, x), budget)
    floor = lnp.LSTM(1, 1, dtype=np.float32)  # the loops' own cost: Python and calls
    x1, d1 = x[:1, :, :1].copy(), d_out[:1, :, :1].copy()
    out["per-step floor"] = harness.time_calls(
        lambda: (floor.forward(x1), floor.backward(d1)), budget)
    return out


def lstm_gemms(lstm, x):
    """The matrix products of one NumPy LSTM fwd+bwd alone, with the layer's shapes and
    layouts: the input projection, T recurrent products forward and T backward, and the
    three weight/input-gradient products after the loop. Their time bounds the layer's."""
    import numpy as np

    B, T, I = x.shape
    w_ih, w_hh = lstm.params["weight_ih_l0"], lstm.params["weight_hh_l0"]
    H4, H = w_hh.shape
    xs = np.ascontiguousarray(x.transpose(1, 0, 2)).reshape(T * B, I)
    z = np.ones((T, B, H4), np.float32)
    hs = np.ones((T + 1, B, H), np.float32) * 0.1
    rec, dh = np.empty((B, H4), np.float32), np.empty((B, H), np.float32)

    def run():
        np.matmul(xs, w_ih.T, out=z.reshape(T * B, H4))
        for t in range(T):
            np.matmul(hs[t], w_hh.T, out=rec)
        for t in reversed(range(T)):
            np.matmul(z[t], w_hh, out=dh)
        dz2 = z.reshape(T * B, H4)
        _ = dz2.T @ xs, dz2.T @ hs[:-1].reshape(T * B, H), dz2 @ w_ih

    return run


def torch_cases(B: int, T: int, I: int, H: int, budget: float, first: str) -> dict[str, Any]:
    import torch

    x, d_out, _ = data(B, T, I, H, 4)
    xt = torch.from_numpy(x)
    xg = xt.clone().requires_grad_(True)
    dt = torch.from_numpy(d_out)
    lstm = torch.nn.LSTM(I, H, batch_first=True)
    gru = torch.nn.GRU(I, H, batch_first=True)

    def fwd():
        with torch.no_grad():
            lstm(xt)

    def fwd_bwd(module):
        module.zero_grad()
        xg.grad = None
        o, _ = module(xg)
        o.backward(dt)

    return {"lstm fwd": harness.time_calls(fwd, budget),
            "lstm fwd+bwd": harness.time_calls(lambda: fwd_bwd(lstm), budget),
            "gru fwd+bwd": harness.time_calls(lambda: fwd_bwd(gru), budget)}


def sgemm_peak(impl: str, n: int = GEMM_N, calls: int = 7) -> float:
    """GFLOP/s of the best of ``calls`` float32 (n, n) @ (n, n) products (best: the peak)."""
    import numpy as np

    a = np.random.default_rng(1).standard_normal((n, n)).astype(np.float32)
    if impl == "torch":
        import torch

        ta = torch.from_numpy(a)
        out = torch.empty_like(ta)

        def gemm():
            torch.mm(ta, ta, out=out)
    else:
        out_np = np.empty_like(a)

        def gemm():
            np.matmul(a, a, out=out_np)
    gemm()
    best = float("inf")
    for _ in range(calls):
        t0 = time.perf_counter()
        gemm()
        best = min(best, time.perf_counter() - t0)
    return 2.0 * n**3 / best / 1e9


def worker(impl: str, threads: int, shapes: list, budget: float, first: str) -> dict[str, Any]:
    """One fresh process: every case of one implementation at this thread count."""
    if impl == "torch":
        import torch

        torch.set_num_threads(threads)
    load0 = harness.load_average()
    cases = numpy_cases if impl == "numpy" else torch_cases
    result: dict[str, Any] = {"shapes": {}, "sgemm_gflops": sgemm_peak(impl)}
    for shape in shapes:
        result["shapes"][str(tuple(shape))] = cases(*shape, budget=budget, first=first)
    result["load"] = [load0, harness.load_average()]
    result["kernels"] = harness.blas_info()
    if impl == "numpy":
        assert "torch" not in sys.modules, "the NumPy worker must not load torch"
    return result


# ----------------------------------------------------------------------------- report
def measure(rounds: int, threads_list: list[int], shapes: list, budget: float,
            wait_quiet: float = 0.0) -> dict:
    """All workers, rounds x threads x {numpy, torch}, alternating the order. Before each
    worker, wait up to ``wait_quiet`` s for a quiet machine (<= 25% busy)."""
    runs: dict[str, list] = {}
    for r in range(rounds):
        for threads in threads_list:
            order = ["numpy", "torch"] if (r + threads) % 2 == 0 else ["torch", "numpy"]
            for impl in order:
                args = ["--worker", impl, "--threads", str(threads), "--budget", str(budget),
                        "--first", "plain" if r % 2 == 0 else "lengths",
                        "--shapes", json.dumps(shapes)]
                busy = harness.wait_for_quiet(0.25, wait_quiet)
                res = harness.run_worker(__file__, args, threads)
                res["busy_before"] = busy
                runs.setdefault(f"{impl} {threads}", []).append(res)
                print(f"  round {r + 1}/{rounds}: {impl:5} at {threads} thread(s) done "
                      f"(machine {100 * busy:.0f}% busy before; load {res['load'][0]:.1f} -> "
                      f"{res['load'][1]:.1f})",
                      file=sys.stderr, flush=True)
    return runs


def ms(samples: list) -> float:
    return 1e3 * harness.pooled_median(samples)


def ratio_range(num: list, den: list) -> str:
    """The spread of the per-round ratios of two cases, 'lo-hi'."""
    rs = [a / b for a, b in zip(harness.round_medians(num), harness.round_medians(den))]
    return f"{min(rs):.2f}-{max(rs):.2f}" if len(rs) > 1 else "-"


def report(runs: dict, threads_list: list[int], shapes: list) -> dict:
    def samples(impl: str, threads: int, shape: tuple, case: str) -> list:
        return [r["shapes"][str(tuple(shape))][case] for r in runs[f"{impl} {threads}"]]

    summary: dict[str, Any] = {"peak": {}, "lstm": [], "gru": [], "lengths": []}
    rows = []
    for t in threads_list:
        npk = max(r["sgemm_gflops"] for r in runs[f"numpy {t}"])
        tpk = max(r["sgemm_gflops"] for r in runs[f"torch {t}"])
        summary["peak"][t] = max(npk, tpk)
        rows.append([t, f"{npk:.0f}", f"{tpk:.0f}", f"{max(npk, tpk):.0f}"])
    print(f"\nsgemm peak, GFLOP/s ({GEMM_N} x {GEMM_N} float32, best call)")
    print(harness.format_table(["threads", "NumPy (OpenBLAS)", "torch (MKL)", "peak"], rows))

    rows = []
    for t in threads_list:
        for shape in shapes:
            shape = tuple(shape)
            f_np = samples("numpy", t, shape, "lstm fwd")
            f_th = samples("torch", t, shape, "lstm fwd")
            b_np, b_th = (samples("numpy", t, shape, "lstm fwd+bwd"),
                          samples("torch", t, shape, "lstm fwd+bwd"))
            flops = harness.rnn_gemm_flops(*shape, gates=4, backward=True)
            g_np, g_th = flops / ms(b_np) / 1e6, flops / ms(b_th) / 1e6
            ratio = ms(b_np) / ms(b_th)
            target = TARGETS.get(shape) if t == 2 else None
            verdict = ("" if target is None
                       else f"<= {target}: {'met' if ratio <= target else 'NOT met'}")
            peak = summary["peak"][t]
            rows.append([t, str(shape), f"{ms(f_np):.2f}", f"{ms(f_th):.2f}",
                         f"{ms(f_np) / ms(f_th):.2f}", f"{ms(b_np):.2f}", f"{ms(b_th):.2f}",
                         f"{ratio:.2f}", ratio_range(b_np, b_th),
                         f"{g_np:.1f} ({100 * g_np / peak:.0f}%)",
                         f"{g_th:.1f} ({100 * g_th / peak:.0f}%)", verdict])
            summary["lstm"].append({"threads": t, "shape": shape, "fwd_ms": [ms(f_np), ms(f_th)],
                                    "fwd_bwd_ms": [ms(b_np), ms(b_th)], "ratio": ratio})
    print("\nLSTM, float32, ms (median); ratio = NumPy / torch.nn.LSTM; GFLOP/s of the "
          "fwd+bwd matrix products (% of the sgemm peak at that thread count)")
    print(harness.format_table(
        ["threads", "(B, T, I, H)", "fwd NumPy", "fwd torch", "ratio", "fwd+bwd NumPy",
         "fwd+bwd torch", "ratio", "per round", "NumPy GFLOP/s", "torch GFLOP/s", "target"],
        rows))

    rows = []
    for t in threads_list:
        for shape in shapes:
            shape = tuple(shape)
            total = ms(samples("numpy", t, shape, "lstm fwd+bwd"))
            gemm = ms(samples("numpy", t, shape, "lstm gemms"))
            floor = ms(samples("numpy", t, shape, "per-step floor"))  # T steps of LSTM(1, 1)
            torch_ms = ms(samples("torch", t, shape, "lstm fwd+bwd"))
            flops = harness.rnn_gemm_flops(*shape, gates=4, backward=True)
            g = flops / gemm / 1e6
            rows.append([t, str(shape), f"{total:.2f}", f"{gemm:.2f} ({g:.0f} GFLOP/s)",
                         f"{total - gemm:.2f}", f"{floor:.2f} ({1e3 * floor / shape[1]:.1f} us)",
                         f"{(gemm + floor) / torch_ms:.2f}", f"{total / torch_ms:.2f}"])
    print("\nWhat bounds the NumPy LSTM (fwd+bwd, ms): its matrix products timed alone, the rest "
          "(pointwise work, copies, Python), and the per-step floor (the same loops at B = I = H "
          "= 1: Python and call overhead; per step in brackets). 'bound' = (GEMMs + floor) / "
          "torch: the ratio no rewrite of the pointwise work can beat")
    print(harness.format_table(["threads", "(B, T, I, H)", "NumPy", "GEMMs alone", "rest",
                                "floor", "bound / torch", "NumPy / torch"], rows))

    rows = []
    for t in threads_list:
        for shape in shapes:
            shape = tuple(shape)
            b_np, b_th = (samples("numpy", t, shape, "gru fwd+bwd"),
                          samples("torch", t, shape, "gru fwd+bwd"))
            flops = harness.rnn_gemm_flops(*shape, gates=3, backward=True)
            g_np, g_th = flops / ms(b_np) / 1e6, flops / ms(b_th) / 1e6
            peak = summary["peak"][t]
            rows.append([t, str(shape), f"{ms(b_np):.2f}", f"{ms(b_th):.2f}",
                         f"{ms(b_np) / ms(b_th):.2f}", ratio_range(b_np, b_th),
                         f"{g_np:.1f} ({100 * g_np / peak:.0f}%)",
                         f"{g_th:.1f} ({100 * g_th / peak:.0f}%)"])
            summary["gru"].append({"threads": t, "shape": shape,
                                   "fwd_bwd_ms": [ms(b_np), ms(b_th)],
                                   "ratio": ms(b_np) / ms(b_th)})
    print("\nGRU, fwd+bwd, float32, ms (median); ratio = NumPy / torch.nn.GRU")
    print(harness.format_table(["threads", "(B, T, I, H)", "NumPy", "torch", "ratio",
                                "per round", "NumPy GFLOP/s", "torch GFLOP/s"], rows))

    rows = []
    for t in threads_list:
        for shape in shapes:
            shape = tuple(shape)
            plain = samples("numpy", t, shape, "lstm fwd+bwd")
            padded = samples("numpy", t, shape, "lstm lengths fwd+bwd")
            ratio = ms(padded) / ms(plain)
            rows.append([t, str(shape), f"{ms(plain):.2f}", f"{ms(padded):.2f}", f"{ratio:.2f}",
                         ratio_range(padded, plain),
                         "met" if ratio <= LENGTHS_CONTRACT else "NOT met"])
            summary["lengths"].append({"threads": t, "shape": shape, "ratio": ratio})
    print(f"\nNumPy LSTM fwd+bwd with lengths= (random in [T/2, T]) against without, ms; "
          f"contract: ratio <= {LENGTHS_CONTRACT}")
    print(harness.format_table(["threads", "(B, T, I, H)", "no lengths", "lengths", "ratio",
                                "per round", "contract"], rows))
    return summary


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="1 round, 0.4 s per case")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--budget", type=float, default=1.0, help="seconds timed per case")
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--shapes", default=json.dumps(SHAPES), help="JSON list of (B,T,I,H)")
    parser.add_argument("--json", type=Path, help="write the raw timings here")
    parser.add_argument("--kernels", default="native", metavar="PROFILE",
                        help="CPU-kernel profile of the workers (.ci/kernel_profiles.sh): "
                             "native (default), avx2 or baseline")
    parser.add_argument("--wait-quiet", type=float, default=0.0, metavar="S",
                        help="before each worker, wait up to S s for the machine to be quiet")
    parser.add_argument("--worker", choices=["numpy", "torch"], help=argparse.SUPPRESS)
    parser.add_argument("--first", default="plain", help=argparse.SUPPRESS)
    args = parser.parse_args()
    shapes = [tuple(s) for s in json.loads(args.shapes)]
    if args.worker:  # a child: measure and print JSON
        print(json.dumps(worker(args.worker, args.threads[0], shapes, args.budget, args.first)))
        return
    rounds, budget = (1, 0.4) if args.quick else (args.rounds, args.budget)
    harness.set_kernel_profile(args.kernels)
    print(f"NumPy vs torch, float32, CPU; each implementation in its own process; {rounds} "
          f"round(s), order alternated; kernels: {harness.kernel_profile()}")
    load0 = harness.load_average()
    t0 = time.perf_counter()
    runs = measure(rounds, args.threads, shapes, budget, args.wait_quiet)
    picked = sorted({r["kernels"] for v in runs.values() for r in v})
    print(f"kernels the workers picked: {'; '.join(picked)}")
    summary = report(runs, args.threads, shapes)
    loads = [x for v in runs.values() for r in v for x in r["load"]]
    busy = [r["busy_before"] for v in runs.values() for r in v]
    print(f"\nload average (1 min; 2 cores): {load0:.1f} at start, median "
          f"{statistics.median(loads):.1f} during, max {max(loads):.1f}; machine busy before a "
          f"worker: median {100 * statistics.median(busy):.0f}%, max {100 * max(busy):.0f}%; "
          f"{time.perf_counter() - t0:.0f} s")
    if args.json:
        args.json.write_text(json.dumps({"runs": runs, "summary": summary}, default=str))


if __name__ == "__main__":
    main()
