"""nbval's wall time as 1 process x 2 threads against 2 processes x 1 thread, old and new waits.

    python benchmarks/nbval_threads.py book/08_long_time_lags.ipynb book/02_lstm_cell.ipynb

Runs the notebooks under nbval exactly as ``make nbval`` does (same flags), in four
settings, alternating them round after round:

- ``short waits``: what the Makefile exports now (``GOMP_SPINCOUNT``,
  ``OPENBLAS_THREAD_TIMEOUT``; see lstm_lib/threads.py);
- ``PASSIVE``: what it exported before (``OMP_WAIT_POLICY=PASSIVE``, lstm_lib's thread
  policy off);

each as ``NBVAL_WORKERS=1 NBVAL_THREADS=2`` and ``NBVAL_WORKERS=2 NBVAL_THREADS=1``.
Prints wall and CPU seconds (all child processes) and whether every cell passed: the stored
outputs must not depend on the setting. Asserts nothing about time.
"""

from __future__ import annotations

import argparse
import resource
import statistics
import subprocess
import sys
import time

import harness

SETTINGS = {
    "short waits": {"GOMP_SPINCOUNT": "30000", "OPENBLAS_THREAD_TIMEOUT": "20"},
    "PASSIVE": {"OMP_WAIT_POLICY": "PASSIVE", "LSTM_LIB_THREAD_POLICY": "off"},
}
SPLITS = [(1, 2), (2, 1)]
NBVAL_FLAGS = ["--nbval", "--nbval-current-env", "--nbval-sanitize-with",
               ".ci/nbval_sanitize.cfg", "-p", "no:cacheprovider", "--dist", "loadfile"]


def run_nbval(notebooks: list[str], workers: int, threads: int,
              extra: dict[str, str]) -> dict[str, float | str]:
    """One nbval run; returns wall s, CPU s of the children, and pytest's last line."""
    env = harness.worker_env(threads, extra)
    env.update(LSTM_LIB_PROGRESS="0", PYTHONHASHSEED="0", KERAS_BACKEND="torch")
    cmd = [sys.executable, "-m", "pytest", "-q", *NBVAL_FLAGS, "-n", str(workers), *notebooks]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    res = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    last = res.stdout.strip().splitlines()[-1] if res.stdout.strip() else res.stderr[-200:]
    return {"wall": wall, "cpu": cpu, "result": last, "load": harness.load_average()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="+")
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    jobs = [(name, w, t) for name in SETTINGS for w, t in SPLITS]
    runs: dict[tuple, list] = {}
    load0 = harness.load_average()
    for r in range(args.rounds):
        for name, w, t in (jobs if r % 2 == 0 else jobs[::-1]):
            res = run_nbval(args.notebooks, w, t, SETTINGS[name])
            runs.setdefault((name, w, t), []).append(res)
            print(f"  round {r + 1}: {name} {w}x{t}: {res['wall']:.1f} s, {res['result']} "
                  f"(load {res['load']:.1f})", file=sys.stderr, flush=True)
    rows = []
    for (name, w, t), rs in runs.items():
        rows.append([name, f"{w} x {t}", f"{statistics.median(r['wall'] for r in rs):.1f}",
                     f"{statistics.median(r['cpu'] for r in rs):.1f}",
                     " / ".join(sorted({str(r["result"]) for r in rs}))])
    print(f"nbval over {' '.join(args.notebooks)}: median of {args.rounds} round(s)")
    print(harness.format_table(["waits", "processes x threads", "wall s", "CPU s", "nbval"],
                               rows))
    loads = [r["load"] for rs in runs.values() for r in rs]
    print(f"load average (1 min; 2 cores): {load0:.1f} at start, median "
          f"{statistics.median(loads):.1f} after each run, max {max(loads):.1f}")


if __name__ == "__main__":
    main()
