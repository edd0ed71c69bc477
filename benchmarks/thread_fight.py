"""NumPy and torch in one process, as in every notebook: does each run at its stand-alone speed?

    python benchmarks/thread_fight.py            # 2 threads, 2 shapes, 3 rounds
    python benchmarks/thread_fight.py --quick    # 1 round

A "mixed" worker imports NumPy and torch, then ``lstm_lib`` (the notebooks' order), and
then runs, over and over, a NumPy LSTM fwd+bwd, a torch ``nn.LSTM`` fwd+bwd and a NumPy
matrix product (512 x 512), each timed: each runs right after the other library worked,
the worst case for the fight. Its times are divided by those of "alone" workers (a fresh
process with only NumPy, or with torch, doing the same calls). Settings of the mixed process:

- ``no policy``: ``LSTM_LIB_THREAD_POLICY=off``, library defaults: the fight;
- ``PASSIVE``: ``OMP_WAIT_POLICY=PASSIVE`` from the start (what the Makefile used to set);
- ``lstm_lib``: what a reader gets: ``import lstm_lib`` after NumPy and torch (it limits
  NumPy's BLAS to one thread; see lstm_lib/threads.py);
- ``make``: the short waits the Makefile exports (``GOMP_SPINCOUNT``,
  ``OPENBLAS_THREAD_TIMEOUT``), in the environment from the start;
- ``lstm_lib first``: ``import lstm_lib`` before NumPy and torch, nothing in the
  environment: lstm_lib sets the same short waits before the pools load.

Also reported: the CPU time the process's other threads (the pools' idle threads) burn in
the 0.3 s after a NumPy LSTM call and after a torch call, from /proc/self/task/*/schedstat:
the busy-waiting itself, measured without a stopwatch. Prints tables; asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import threading
import time
from pathlib import Path
from typing import Any

import harness

SHAPES = [(16, 500, 32, 64), (64, 100, 128, 256)]
SETTINGS = {
    "no policy": {"LSTM_LIB_THREAD_POLICY": "off"},
    "PASSIVE": {"LSTM_LIB_THREAD_POLICY": "off", "OMP_WAIT_POLICY": "PASSIVE"},
    "lstm_lib": {},
    "make": {"GOMP_SPINCOUNT": "30000", "OPENBLAS_THREAD_TIMEOUT": "20"},
    "lstm_lib first": {},
}
FIRST = "lstm_lib first"  # the one setting whose worker imports lstm_lib before NumPy


def other_threads_cpu() -> int:
    """CPU nanoseconds used so far by this process's threads other than the calling one."""
    me = str(threading.get_native_id())
    total = 0
    for tid in Path("/proc/self/task").iterdir():
        if tid.name != me:
            try:
                total += int((tid / "schedstat").read_text().split()[0])
            except OSError:  # the thread has just ended
                pass
    return total


def idle_cpu_after(fn) -> float:
    """ms of CPU the other threads burn in the 0.3 s after ``fn`` returns."""
    time.sleep(0.3)
    fn()
    c0 = other_threads_cpu()
    time.sleep(0.3)
    return (other_threads_cpu() - c0) / 1e6


def worker(kind: str, shape: tuple, budget: float) -> dict[str, Any]:
    """kind: 'numpy' or 'torch' (alone: only that library loaded), 'mixed' (NumPy, torch,
    then lstm_lib) or 'mixed-first' (lstm_lib, then NumPy and torch)."""
    if kind == "mixed-first":
        import lstm_lib  # noqa: F401 - before NumPy: its short waits take effect
    import numpy as np

    B, T, I, H = shape
    rng = np.random.default_rng(0)
    x = rng.standard_normal((B, T, I)).astype(np.float32)
    d = rng.standard_normal((B, T, H)).astype(np.float32)
    a = rng.standard_normal((512, 512)).astype(np.float32)
    calls: dict[str, Any] = {}
    if kind in ("numpy", "mixed", "mixed-first"):
        if kind.startswith("mixed"):
            import torch  # noqa: F401 - the notebooks' order: NumPy, torch, then lstm_lib
        import lstm_lib  # noqa: F401 - applies the thread policy
        import lstm_lib.numpy as lnp

        m = lnp.LSTM(I, H, dtype=np.float32)
        out = np.empty_like(a)

        def numpy_lstm():
            m.forward(x)
            m.backward(d)

        calls["NumPy LSTM"] = numpy_lstm
        calls["NumPy GEMM"] = lambda: np.matmul(a, a, out=out)
    if kind in ("torch", "mixed", "mixed-first"):
        import torch

        ref = torch.nn.LSTM(I, H, batch_first=True)
        xt = torch.from_numpy(x).requires_grad_(True)
        dt = torch.from_numpy(d)

        def torch_lstm():
            ref.zero_grad()
            xt.grad = None
            o, _ = ref(xt)
            o.backward(dt)

        calls["torch LSTM"] = torch_lstm
    for fn in calls.values():  # warm-up
        fn()
        fn()
    times: dict[str, list[float]] = {k: [] for k in calls}
    end = time.perf_counter() + budget
    while time.perf_counter() < end or min(len(v) for v in times.values()) < 7:
        for name, fn in calls.items():  # in turn: each right after the other library
            t0 = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - t0)
    idle = {f"after {name}": idle_cpu_after(fn) for name, fn in calls.items()
            if name != "NumPy GEMM"}
    policy = {}
    if "lstm_lib" in sys.modules:
        policy = sys.modules["lstm_lib"].threads.policy()
    return {"times": times, "idle_cpu_ms": idle, "policy": policy.get("reason", ""),
            "load": harness.load_average()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="1 round, 1.5 s per worker")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--budget", type=float, default=3.0, help="seconds timed per worker")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--shapes", default=json.dumps(SHAPES))
    parser.add_argument("--json", type=Path, help="write the raw timings here")
    parser.add_argument("--kernels", default="native", metavar="PROFILE",
                        help="CPU-kernel profile of the workers (.ci/kernel_profiles.sh): "
                             "native (default), avx2 or baseline")
    parser.add_argument("--wait-quiet", type=float, default=0.0, metavar="S",
                        help="before each worker, wait up to S s for the machine to be quiet")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--shape", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(worker(args.worker, tuple(json.loads(args.shape)), args.budget)))
        return
    rounds, budget = (1, 1.5) if args.quick else (args.rounds, args.budget)
    harness.set_kernel_profile(args.kernels)
    shapes = [tuple(s) for s in json.loads(args.shapes)]
    jobs = [("alone", "numpy", {}), ("alone", "torch", {})]
    jobs += [(name, "mixed-first" if name == FIRST else "mixed", env)
             for name, env in SETTINGS.items()]
    print(f"NumPy and torch in one process, {args.threads} threads, float32, fwd+bwd; "
          f"{rounds} round(s), workers alternated; kernels: {harness.kernel_profile()}")
    load0 = harness.load_average()
    runs: dict[tuple, list] = {}
    for r in range(rounds):
        for shape in shapes:
            for name, kind, env in (jobs if r % 2 == 0 else jobs[::-1]):
                busy = harness.wait_for_quiet(0.25, args.wait_quiet)
                res = harness.run_worker(__file__, ["--worker", kind, "--shape",
                                                    json.dumps(shape), "--budget", str(budget)],
                                         args.threads, env)
                res["busy_before"] = busy
                runs.setdefault((name, kind, shape), []).append(res)
                print(f"  round {r + 1}/{rounds} {shape} {name} {kind}: {100 * busy:.0f}% busy "
                      f"before, load {res['load']:.1f}", file=sys.stderr, flush=True)

    def med(name: str, kind: str, shape: tuple, call: str) -> float:
        return 1e3 * statistics.median(
            [t for res in runs[(name, kind, shape)] for t in res["times"][call]])

    def idle(name: str, kind: str, shape: tuple, key: str) -> str:
        vals = [res["idle_cpu_ms"].get(key) for res in runs[(name, kind, shape)]]
        vals = [v for v in vals if v is not None]
        return f"{statistics.median(vals):.1f}" if vals else "-"

    for shape in shapes:
        alone = {"NumPy LSTM": med("alone", "numpy", shape, "NumPy LSTM"),
                 "NumPy GEMM": med("alone", "numpy", shape, "NumPy GEMM"),
                 "torch LSTM": med("alone", "torch", shape, "torch LSTM")}
        rows = [["alone (own process)"] + [f"{alone[c]:.2f}" for c in alone]
                + ["", "", idle("alone", "numpy", shape, "after NumPy LSTM"),
                   idle("alone", "torch", shape, "after torch LSTM")]]
        for name in SETTINGS:
            kind = "mixed-first" if name == FIRST else "mixed"
            t = {c: med(name, kind, shape, c) for c in alone}
            worst = max(t[c] / alone[c] for c in alone)
            rows.append([name] + [f"{t[c]:.2f} ({t[c] / alone[c]:.2f}x)" for c in alone]
                        + [f"{worst:.2f}x", "yes" if worst <= 1.2 else "no",
                           idle(name, kind, shape, "after NumPy LSTM"),
                           idle(name, kind, shape, "after torch LSTM")])
        print(f"\n(B, T, I, H) = {shape}: ms per call, median (x its time alone)")
        print(harness.format_table(
            ["process", "NumPy LSTM", "NumPy GEMM 512", "torch LSTM", "worst", "<= 1.2x",
             "idle CPU ms after NumPy", "after torch"], rows))
    loads = [res["load"] for v in runs.values() for res in v]
    busy = [res["busy_before"] for v in runs.values() for res in v]
    print(f"\nload average (1 min; 2 cores): {load0:.1f} at start, median "
          f"{statistics.median(loads):.1f} during, max {max(loads):.1f}; machine busy before a "
          f"worker: median {100 * statistics.median(busy):.0f}%, max {100 * max(busy):.0f}%")
    if args.json:
        args.json.write_text(json.dumps({str(k): v for k, v in runs.items()}))


if __name__ == "__main__":
    main()
