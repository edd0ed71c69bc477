"""NumPy LSTM against torch.nn.LSTM on the CPU: forward, and forward + backward, float32.

    python benchmarks/lstm_speed.py            # the four standard shapes, 1 and 2 threads
    python benchmarks/lstm_speed.py --quick    # fewer repeats

Each thread count runs in a fresh subprocess (BLAS and OpenMP read their thread counts at
start-up). For each shape: a warm-up, then the median of at least 7 timed runs; the ratio
NumPy / torch is measured in the same process, one after the other. Prints a table; asserts
nothing (speed is reported, never tested).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time

SHAPES = [(32, 50, 64, 128), (64, 100, 128, 256), (16, 500, 32, 64), (1, 1000, 16, 32)]


def median_time(fn, repeats: int) -> float:
    fn()  # warm-up (allocations, caches, thread pools)
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    times.sort()
    return times[len(times) // 2]


def measure_shape(B: int, T: int, I: int, H: int, repeats: int) -> dict:
    """Median times (ms) and ratios for one shape: {"fwd": (np, torch, ratio), ...}."""
    import numpy as np
    import torch

    import lstm_lib.numpy as lnp

    rng = np.random.default_rng(0)
    x = rng.standard_normal((B, T, I)).astype(np.float32)
    m = lnp.LSTM(I, H, dtype=np.float32)
    ref = torch.nn.LSTM(I, H, batch_first=True)
    ref.load_state_dict({k: torch.from_numpy(v) for k, v in m.state_dict().items()})
    out, _ = m.forward(x)
    d_out = rng.standard_normal(out.shape).astype(np.float32)
    xt = torch.from_numpy(x).requires_grad_(True)
    dt = torch.from_numpy(d_out)

    def np_fwd():
        m.forward(x)

    def np_fwd_bwd():
        m.forward(x)
        m.backward(d_out)

    def torch_fwd():
        with torch.no_grad():
            ref(xt)

    def torch_fwd_bwd():
        ref.zero_grad()
        xt.grad = None
        o, _ = ref(xt)
        o.backward(dt)

    row: dict = {"shape": (B, T, I, H)}
    for name, a, b in (("fwd", np_fwd, torch_fwd), ("fwd+bwd", np_fwd_bwd, torch_fwd_bwd)):
        tn, tt = median_time(a, repeats), median_time(b, repeats)
        row[name] = (tn * 1e3, tt * 1e3, tn / tt)
    return row


def measure(repeats: int) -> list[dict]:
    """All standard shapes, in this process's thread setting."""
    return [measure_shape(*shape, repeats) for shape in SHAPES]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=None, help=argparse.SUPPRESS)
    parser.add_argument("--quick", action="store_true", help="7 repeats instead of 15")
    args = parser.parse_args()
    repeats = 7 if args.quick else 15
    if args.threads is not None:  # child: measure and report as JSON
        import torch

        torch.set_num_threads(args.threads)
        print(json.dumps(measure(repeats)))
        return
    print("NumPy LSTM vs torch.nn.LSTM, float32, CPU; median of >= 7 runs; ratio = NumPy/torch")
    print(f"{'threads':>7} {'(B, T, I, H)':>20} {'fwd ms np/torch':>18} {'ratio':>6} "
          f"{'fwd+bwd ms np/torch':>22} {'ratio':>6}")
    for threads in (1, 2):
        env = dict(os.environ, OMP_NUM_THREADS=str(threads), OPENBLAS_NUM_THREADS=str(threads),
                   MKL_NUM_THREADS=str(threads), OMP_WAIT_POLICY="PASSIVE")
        cmd = [sys.executable, __file__, "--threads", str(threads)] + (["--quick"] * args.quick)
        res = subprocess.run(cmd, env=env, check=True, capture_output=True, text=True)
        for row in json.loads(res.stdout):
            f, fb = row["fwd"], row["fwd+bwd"]
            print(f"{threads:>7} {str(tuple(row['shape'])):>20} {f[0]:8.2f} / {f[1]:7.2f} "
                  f"{f[2]:6.2f} {fb[0]:11.2f} / {fb[1]:8.2f} {fb[2]:6.2f}")


if __name__ == "__main__":
    main()
