"""lstm_lib.threads: which thread-pool settings `import lstm_lib` applies, and when.

The policy acts at import, so the end-to-end checks run fresh interpreters. No test times
anything (benchmarks/thread_fight.py measures the speed)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from lstm_lib import threads

PROBE = """
import json, os, sys
{imports}
import lstm_lib, numpy, torch, threadpoolctl
info = threadpoolctl.threadpool_info()
blas = [i["num_threads"] for i in info if i["internal_api"] == "openblas"]
print(json.dumps({{"policy": lstm_lib.threads.policy(), "blas_threads": blas,
                  "env": {{k: os.environ.get(k) for k in lstm_lib.threads.SHORT_WAITS}}}}))
"""


def run_probe(imports: str, **env: str) -> dict:
    base = {k: v for k, v in os.environ.items()
            if k not in ("LSTM_LIB_THREAD_POLICY", *threads.SHORT_WAITS)}
    base.update(OMP_NUM_THREADS="2", OPENBLAS_NUM_THREADS="2", **env)
    out = subprocess.run([sys.executable, "-c", PROBE.format(imports=imports)], env=base,
                         capture_output=True, text=True, check=True, timeout=120)
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_short_waits_are_set_only_for_pools_not_loaded_yet():
    env: dict[str, str] = {}
    assert threads.set_short_waits(env, loaded=set()) == list(threads.SHORT_WAITS)
    assert env == threads.SHORT_WAITS
    env = {}
    assert threads.set_short_waits(env, loaded={"numpy"}) == ["GOMP_SPINCOUNT"]
    assert "OPENBLAS_THREAD_TIMEOUT" not in env  # OpenBLAS has read it already: too late
    assert threads.set_short_waits({}, loaded={"numpy", "torch"}) == []


def test_a_users_setting_is_kept():
    env = {"GOMP_SPINCOUNT": "7", "OPENBLAS_THREAD_TIMEOUT": "9"}
    assert threads.set_short_waits(env, loaded=set()) == []
    assert env == {"GOMP_SPINCOUNT": "7", "OPENBLAS_THREAD_TIMEOUT": "9"}


def test_blas_limit_only_when_openblas_waits_long_and_torch_shares_the_process():
    assert threads.needs_blas_limit({}, {"numpy", "torch"}, numpy_first=True)
    assert not threads.needs_blas_limit({}, {"numpy"}, numpy_first=True)  # no torch
    assert not threads.needs_blas_limit({}, {"numpy", "torch"}, numpy_first=False)
    assert not threads.needs_blas_limit({"OPENBLAS_THREAD_TIMEOUT": "20"}, {"numpy", "torch"},
                                        numpy_first=True)


def test_notebook_order_limits_numpys_blas_to_one_thread():
    res = run_probe("import numpy, torch")
    assert res["blas_threads"] == [1]
    assert res["policy"]["blas_limited"]
    assert res["policy"]["short_waits_set"] == []  # both pools were loaded: too late


def test_lstm_lib_first_sets_short_waits_and_keeps_both_blas_threads():
    res = run_probe("")
    assert res["policy"]["short_waits_set"] == list(threads.SHORT_WAITS)
    assert res["env"] == threads.SHORT_WAITS
    assert res["policy"]["blas_limited"] == []
    assert res["blas_threads"] == [2]


def test_waits_from_the_environment_keep_both_blas_threads():
    res = run_probe("import numpy, torch", **threads.SHORT_WAITS)
    assert res["blas_threads"] == [2]
    assert res["policy"]["blas_limited"] == []


def test_policy_off():
    res = run_probe("import numpy, torch", LSTM_LIB_THREAD_POLICY="off")
    assert res["blas_threads"] == [2]
    assert res["policy"]["reason"] == "LSTM_LIB_THREAD_POLICY=off"
