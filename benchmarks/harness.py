"""Shared parts of the benchmarks: fresh worker processes, timing, FLOP counts, tables.

Why fresh processes: NumPy's BLAS (OpenBLAS, its own pthreads pool) and torch (libgomp's
OpenMP pool, used by MKL and oneDNN) each keep idle threads spinning for a while after
their work. Two such pools in one process on a small machine take turns on the same cores,
so timing both in one process at 2 threads measures the fight, not the implementations.
Each implementation therefore runs in a process of its own, started with the thread count
in its environment (the pools read it when they load), and the processes of a comparison
alternate, round after round, so that a change in the machine's load hits both sides.

Nothing here asserts a time: speed is reported, never tested.
"""

from __future__ import annotations

import functools
import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

# Thread-pool settings a benchmark controls itself. make exports some of them for the
# notebooks; a worker must not inherit them by accident.
POOL_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
                  "OMP_WAIT_POLICY", "GOMP_SPINCOUNT", "OPENBLAS_THREAD_TIMEOUT",
                  "LSTM_LIB_THREAD_POLICY")


# The CPU-kernel variables of .ci/kernel_profiles.sh. A worker gets exactly the chosen
# profile's: none inherited from the shell (some machines export OPENBLAS_CORETYPE=Haswell,
# which would halve NumPy's matrix-product speed on an AVX-512 CPU without saying so).
KERNEL_VARIABLES = ("ATEN_CPU_CAPABILITY", "ONEDNN_MAX_CPU_ISA", "MKL_ENABLE_INSTRUCTIONS",
                    "OPENBLAS_CORETYPE")
PROFILES_SCRIPT = Path(__file__).resolve().parent.parent / ".ci" / "kernel_profiles.sh"
_profile = "native"


@functools.cache
def profile_variables(name: str) -> dict[str, str]:
    """The kernel variables that ``.ci/kernel_profiles.sh name`` sets ({} for native)."""
    script = f'source "{PROFILES_SCRIPT}" {name} && env -0'
    done = subprocess.run(["bash", "-c", script], capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise ValueError(f"kernel profile {name!r}: {done.stderr.strip()}")
    pairs = (item.split("=", 1) for item in done.stdout.split("\0") if "=" in item)
    return {k: v for k, v in pairs if k in KERNEL_VARIABLES}


def set_kernel_profile(name: str) -> None:
    """Run every later worker under this CPU-kernel profile (native, avx2, baseline)."""
    global _profile
    profile_variables(name)  # fails now on an unknown name
    _profile = name


def worker_env(threads: int, extra: dict[str, str] | None = None) -> dict[str, str]:
    """The environment of a worker: this one, minus inherited pool settings and kernel
    variables, with every pool sized to ``threads``, the kernel profile's variables, plus
    ``extra`` (e.g. a wait policy under test)."""
    env = {k: v for k, v in os.environ.items()
           if k not in POOL_VARIABLES and k not in KERNEL_VARIABLES}
    for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        env[name] = str(threads)
    env.update(dict(profile_variables(_profile)))
    env.update(extra or {})
    return env


def run_worker(script: str, args: Sequence[str], threads: int,
               extra_env: dict[str, str] | None = None, timeout: float = 1800) -> Any:
    """Run ``python script args`` in a fresh process; it prints one JSON document last."""
    cmd = [sys.executable, script, *args]
    res = subprocess.run(cmd, env=worker_env(threads, extra_env), capture_output=True,
                         text=True, timeout=timeout, check=False)
    if res.returncode != 0:
        raise RuntimeError(f"worker {' '.join(cmd)} failed:\n{res.stderr[-3000:]}")
    return json.loads(res.stdout.strip().splitlines()[-1])


def repeats_for(seconds_per_call: float, budget: float, lo: int, hi: int) -> int:
    """How many timed calls fit in ``budget`` seconds, clipped to [lo, hi]."""
    return max(lo, min(hi, int(budget / max(seconds_per_call, 1e-6))))


def time_calls(fn: Callable[[], Any], budget: float = 1.0, lo: int = 7, hi: int = 51,
               warmup: int = 2) -> dict[str, Any]:
    """Time ``fn``: ``warmup`` untimed calls, then as many as fit ``budget`` seconds (at
    least ``lo``, at most ``hi``). Returns the wall and process-CPU seconds of each call."""
    t0 = time.perf_counter()
    for _ in range(warmup):
        fn()
    per_call = (time.perf_counter() - t0) / max(warmup, 1)
    wall, cpu = [], []
    for _ in range(repeats_for(per_call, budget, lo, hi)):
        w0, c0 = time.perf_counter(), time.process_time()
        fn()
        wall.append(time.perf_counter() - w0)
        cpu.append(time.process_time() - c0)
    return {"wall": wall, "cpu": cpu}


def pooled_median(samples: Iterable[dict[str, Any]], key: str = "wall") -> float:
    """Median over the calls of several workers (rounds) together, in seconds."""
    values = [v for s in samples for v in s[key]]
    return statistics.median(values)


def round_medians(samples: Iterable[dict[str, Any]], key: str = "wall") -> list[float]:
    """The median of each worker's (round's) calls, in seconds: their spread shows noise."""
    return [statistics.median(s[key]) for s in samples]


def rnn_gemm_flops(B: int, T: int, I: int, H: int, gates: int, backward: bool) -> float:
    """Floating-point operations of a one-layer recurrent layer's matrix products.

    Forward: the input projection and the recurrent product, 2*T*B*G*H*(I + H) (G = 4 gate
    blocks for the LSTM, 3 for the GRU). Backward does twice that again (the gradients with
    respect to the inputs and to the weights). Pointwise work is left out: this is the
    part a GEMM peak bounds."""
    fwd = 2.0 * T * B * gates * H * (I + H)
    return 3 * fwd if backward else fwd


def cpu_busy(seconds: float = 1.0) -> float:
    """Fraction of the machine's CPU time that was busy (any process) over ``seconds``,
    from /proc/stat: 0.0 idle, 1.0 every core busy."""
    def sample() -> tuple[int, int]:
        fields = [int(v) for v in Path("/proc/stat").read_text().split("\n")[0].split()[1:]]
        idle = fields[3] + fields[4]  # idle + iowait
        return sum(fields[:8]), idle

    t0, i0 = sample()
    time.sleep(seconds)
    t1, i1 = sample()
    return 1.0 - (i1 - i0) / max(t1 - t0, 1)


def wait_for_quiet(max_busy: float, timeout: float) -> float:
    """Wait (at most ``timeout`` s) until the machine is at most ``max_busy`` busy over a
    second; returns the last busy fraction seen. timeout 0: measure once, do not wait."""
    end = time.perf_counter() + timeout
    busy = cpu_busy()
    while busy > max_busy and time.perf_counter() < end:
        busy = cpu_busy()
    return busy


def load_average() -> float:
    """The 1-minute load average (runnable threads, all processes) at this moment."""
    return os.getloadavg()[0]


def format_table(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """A Markdown table (right-aligned columns) as a string."""
    cells = [[str(c) for c in header]] + [[str(c) for c in r] for r in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(header))]

    def line(r: Sequence[str]) -> str:
        return "| " + " | ".join(c.rjust(w) for c, w in zip(r, widths)) + " |"

    sep = "|" + "|".join("-" * (w + 1) + ":" for w in widths) + "|"
    return "\n".join([line(cells[0]), sep] + [line(r) for r in cells[1:]])


def kernel_profile() -> str:
    """The workers' CPU-kernel profile and its variables, e.g. 'avx2 (ATEN_CPU_CAPABILITY=...)'."""
    variables = profile_variables(_profile)
    return f"{_profile} ({' '.join(f'{k}={v}' for k, v in variables.items()) or 'none set'})"


def blas_info() -> str:
    """Which kernels NumPy's OpenBLAS and torch picked in this process, e.g.
    'OpenBLAS SkylakeX, torch AVX512' (threadpoolctl and torch.backends)."""
    parts = []
    try:
        import threadpoolctl

        for info in threadpoolctl.threadpool_info():
            if info.get("internal_api") == "openblas":
                parts.append(f"OpenBLAS {info.get('architecture')}")
                break
    except ImportError:  # pragma: no cover
        pass
    if "torch" in sys.modules:
        parts.append(f"torch {sys.modules['torch'].backends.cpu.get_cpu_capability()}")
    return ", ".join(parts)
