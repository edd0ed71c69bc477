"""Tests of .ci/check_lock.py (the venv is the lock; the lock is requirements.txt resolved)
and of .ci/kernel_profiles.sh (the CPU-kernel profiles)."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
_spec = importlib.util.spec_from_file_location("check_lock", ROOT / ".ci/check_lock.py")
check = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(check)


def test_pins_reads_exact_pins_and_skips_the_rest():
    lines = ["# comment", "Foo_Bar==1.2.3", "    # via x", "baz==2.0 ; python_version > '3'",
             "-e .", "torch==2.13.0+cpu", "loose>=1"]
    assert check.pins(lines) == {"foo-bar": "1.2.3", "baz": "2.0", "torch": "2.13.0+cpu"}


@pytest.mark.parametrize(("wanted", "got", "same"), [
    ("2.13.0", "2.13.0", True),
    ("2.13.0", "2.13.0+cpu", True),     # == without a local label matches any local build
    ("2.13.0+cpu", "2.13.0", False),
    ("2.13.0", "2.13.1", False),
])
def test_same_version(wanted, got, same):
    assert check.same_version(wanted, got) is same


def test_requirements_and_lock_must_agree(tmp_path):
    req = tmp_path / "requirements.txt"
    lock = tmp_path / "requirements.lock"
    req.write_text("numpy==2.4.6\n")
    lock.write_text("numpy==2.4.5\n")
    assert check.main(req, lock) == 1  # wrong version (and the venv is not this lock either)


def test_the_repository_lock_covers_requirements():
    top = check.pins((ROOT / "requirements.txt").read_text().splitlines())
    locked = check.pins((ROOT / "requirements.lock").read_text().splitlines())
    assert top, "requirements.txt pins nothing"
    missing = {k: v for k, v in top.items()
               if k not in locked or not check.same_version(v, locked[k])}
    assert not missing, f"run make lock: {missing}"
    assert locked["torch"].startswith("2.13.0")


def profile_env(name: str) -> subprocess.CompletedProcess:
    script = f"source .ci/kernel_profiles.sh {name} && env"
    return subprocess.run(["bash", "-c", script], cwd=ROOT, capture_output=True, text=True)


def test_kernel_profiles_set_the_variables():
    done = profile_env("baseline")
    assert done.returncode == 0
    for line in ["ATEN_CPU_CAPABILITY=default", "ONEDNN_MAX_CPU_ISA=SSE41",
                 "MKL_ENABLE_INSTRUCTIONS=SSE4_2", "OPENBLAS_CORETYPE=Nehalem"]:
        assert line in done.stdout.splitlines()
    assert "ATEN_CPU_CAPABILITY=avx2" in profile_env("avx2").stdout.splitlines()


def test_native_unsets_a_profile_variable_the_shell_exported():
    """Some machines export OPENBLAS_CORETYPE=Haswell; native must not inherit it."""
    script = ("export OPENBLAS_CORETYPE=Haswell ATEN_CPU_CAPABILITY=avx2 && "
              "source .ci/kernel_profiles.sh native && env")
    done = subprocess.run(["bash", "-c", script], cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0
    names = {line.split("=", 1)[0] for line in done.stdout.splitlines()}
    assert not names & {"OPENBLAS_CORETYPE", "ATEN_CPU_CAPABILITY", "ONEDNN_MAX_CPU_ISA",
                        "MKL_ENABLE_INSTRUCTIONS"}


def test_an_unknown_kernel_profile_fails():
    done = profile_env("avx9000")
    assert done.returncode == 2
    assert "unknown profile" in done.stderr


def test_the_baseline_profile_reaches_torch():
    code = "import torch; print(torch.backends.cpu.get_cpu_capability())"
    done = subprocess.run(["bash", "-c", f"source .ci/kernel_profiles.sh baseline && "
                           f"{sys.executable} -c '{code}'"], cwd=ROOT, capture_output=True,
                          text=True)
    assert done.stdout.strip() == "DEFAULT"
