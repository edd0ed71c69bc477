"""NumPy and torch in one process: keep their thread pools from fighting over the cores.

NumPy's BLAS (OpenBLAS, a pthreads pool) and torch (libgomp's OpenMP pool, which MKL and
oneDNN use) each keep their idle threads busy-waiting after a piece of work, so that the
next piece starts at once: OpenBLAS for 2**28 clock ticks (about 0.1 s), libgomp for
300,000 spins (a few ms). In one process on a small machine the waiting threads of one pool
take the cores that the other pool's working threads need. Measured on 2 cores:
``nn.LSTM`` ran about twice as slow right after NumPy matrix products, and a NumPy product
ran 25x slower right after a torch op.

``OMP_WAIT_POLICY=PASSIVE`` is no remedy: libgomp's threads then sleep at once, and torch's
many small per-step operations each pay a wake-up (``nn.LSTM`` about 10x slower), while
OpenBLAS, which does not read it, keeps spinning.

The remedy here, applied by ``import lstm_lib`` (``apply_policy``):

1. Short waits, set before a pool loads: ``GOMP_SPINCOUNT`` and ``OPENBLAS_THREAD_TIMEOUT``
   (``SHORT_WAITS``). Each library reads its variable once, when it loads: setting it
   later does nothing. So ``lstm_lib`` sets each one (unless the user did) only while its
   library is not loaded yet, and the Makefile exports both, so that notebooks run by make
   have them from the start. Waits of about a millisecond still bridge the gaps between a
   pool's back-to-back operations, but end before the other library needs the cores.
2. When NumPy was imported before ``lstm_lib`` without ``OPENBLAS_THREAD_TIMEOUT`` (the
   book's notebooks import ``lstm_lib`` first for this reason) and torch is loaded too,
   OpenBLAS already runs with its 0.1 s wait, and no public interface shortens it. Then
   NumPy's BLAS is limited to one thread (``threadpoolctl``): a one-thread OpenBLAS has no
   worker threads to wait, and torch keeps both cores. NumPy's large matrix products run
   at one-thread speed in such a process: that is the price, and the reason to prefer 1.

``LSTM_LIB_THREAD_POLICY=off`` in the environment turns both parts off.
"""

from __future__ import annotations

import os
import sys
from typing import Any

# About 1 ms of waiting for each pool: libgomp counts spins (each a CPU "pause"), OpenBLAS
# waits 2**k clock ticks (k = 20: about 0.4 ms at 2.6 GHz).
SHORT_WAITS = {"GOMP_SPINCOUNT": "30000", "OPENBLAS_THREAD_TIMEOUT": "20"}
# Which module's import loads the library that reads each variable.
_READ_BY = {"GOMP_SPINCOUNT": "torch", "OPENBLAS_THREAD_TIMEOUT": "numpy"}

_policy: dict[str, Any] = {}


def set_short_waits(environ: dict[str, str] | None = None,
                    loaded: set[str] | None = None) -> list[str]:
    """Set each variable of ``SHORT_WAITS`` that the user has not set, if the library that
    reads it is not loaded yet (later it would do nothing). Returns the names it set.

    environ: the environment to change (default ``os.environ``); loaded: the names of the
    imported modules (default ``sys.modules``); both for tests."""
    environ = os.environ if environ is None else environ
    loaded = set(sys.modules) if loaded is None else loaded
    done = []
    for name, value in SHORT_WAITS.items():
        if name not in environ and _READ_BY[name] not in loaded:
            environ[name] = value
            done.append(name)
    return done


def needs_blas_limit(environ: dict[str, str], loaded: set[str], numpy_first: bool) -> bool:
    """Whether NumPy's BLAS should drop to one thread: torch is loaded, and OpenBLAS was
    loaded (NumPy imported) before ``OPENBLAS_THREAD_TIMEOUT`` could be set, so that its
    threads wait 0.1 s after each product."""
    return "torch" in loaded and numpy_first and "OPENBLAS_THREAD_TIMEOUT" not in environ


def limit_blas_to_one_thread() -> list[str]:
    """Limit every pthreads OpenBLAS loaded in this process to one thread (threadpoolctl).
    Returns the paths of the libraries limited ([] if threadpoolctl is not installed)."""
    try:
        import threadpoolctl
    except ImportError:  # pragma: no cover - threadpoolctl is in the book's environment
        return []
    libs = threadpoolctl.ThreadpoolController().select(internal_api="openblas")
    pthreads = [c for c in libs.lib_controllers if getattr(c, "threading_layer", "") != "openmp"]
    for c in pthreads:
        c.set_num_threads(1)
    return [c.filepath for c in pthreads]


def apply_policy() -> dict[str, Any]:
    """Apply both parts of the remedy (see the module's docstring) and return what was done:
    ``{"short_waits_set": [...], "blas_limited": [...paths], "reason": str}``.
    Called by ``import lstm_lib``; calling it again does nothing more."""
    if _policy:
        return _policy
    if os.environ.get("LSTM_LIB_THREAD_POLICY", "").lower() == "off":
        _policy.update(short_waits_set=[], blas_limited=[], reason="LSTM_LIB_THREAD_POLICY=off")
        return _policy
    loaded = set(sys.modules)
    numpy_first = "numpy" in loaded
    env_before = dict(os.environ)
    short = set_short_waits()
    limited: list[str] = []
    if needs_blas_limit(env_before, loaded, numpy_first):
        limited = limit_blas_to_one_thread()
        reason = "NumPy and torch were loaded first: OpenBLAS limited to one thread"
    elif numpy_first and "OPENBLAS_THREAD_TIMEOUT" not in env_before:
        reason = "torch not loaded: nothing to share the cores with"
    else:
        reason = "short waits in force (set before the pools loaded)"
    _policy.update(short_waits_set=short, blas_limited=limited, reason=reason)
    return _policy


def policy() -> dict[str, Any]:
    """What ``import lstm_lib`` did about the thread pools (see ``apply_policy``)."""
    return dict(_policy)


__all__ = ["SHORT_WAITS", "set_short_waits", "needs_blas_limit", "limit_blas_to_one_thread",
           "apply_policy", "policy"]
