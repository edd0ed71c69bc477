"""pytest --nbval that fails fast when a kernel dies, and writes what happened to every cell.

Run nbval through this file instead of ``python -m pytest`` (make nbval and
.ci/test_kernels.sh do):

    python .ci/nbval_guard.py -q --nbval ... book/a.ipynb [book/b.ipynb ...]

It runs pytest with itself loaded as a plugin (``-p nbval_guard``; the pytest-xdist workers
load it too), which adds two things to nbval 0.11:

1. A dead kernel fails its cell at once. nbval waits for a cell's reply until the cell
   timeout (``--nbval-cell-timeout``) even when the kernel process has exited, say by
   ``os._exit(1)`` or a crash in native code. Here the wait polls the kernel process every
   second, and a cell whose kernel has died fails with "kernel died while running this cell"
   (the notebook's later cells then fail at once with nbval's "Kernel dead on test start").
   The cell timeout still bounds a kernel that is alive but hangs.
2. ``--nbval-report FILE`` (default: the environment variable NBVAL_REPORT; none if unset)
   appends one JSON line per run to FILE: {"label", "exitstatus", "cells", "seconds",
   "cell_timeout"}, where "cells" maps each test id (``book/a.ipynb::Cell 3``) to passed,
   failed, error, skipped or xfailed (after a cell times out, nbval marks the later cells of
   its notebook xfail: one that fails then is xfailed), and "seconds" to the time each cell
   that ran took.
   ``--nbval-report-label`` (default: NBVAL_REPORT_LABEL) names the run; .ci/nbval_summary.py
   prints the lines as a table.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path
from queue import Empty

import pytest

POLL_S = 1.0  # how often a waiting cell checks that its kernel process is still there


class KernelDied(RuntimeError):
    """The kernel process exited while nbval was waiting for a cell's reply."""


def _exit_code(kernel) -> str:
    process = getattr(getattr(getattr(kernel, "km", None), "provisioner", None), "process", None)
    code = getattr(process, "returncode", None)
    return "unknown" if code is None else str(code)


def _watch_kernels() -> None:
    """Make nbval's wait for a cell's reply notice a dead kernel within POLL_S seconds."""
    from nbval.kernel import RunningKernel

    original = RunningKernel.await_reply
    if getattr(original, "nbval_guard", False):
        return

    def await_reply(self, msg_id, timeout=None):
        deadline = None if timeout is None else time.monotonic() + float(timeout)
        while True:
            left = POLL_S if deadline is None else deadline - time.monotonic()
            try:
                return original(self, msg_id, timeout=max(0.0, min(POLL_S, left)))
            except Empty:
                if not self.is_alive():
                    raise KernelDied(
                        f"kernel died while running this cell (exit code {_exit_code(self)})"
                    ) from None
                if deadline is not None and time.monotonic() >= deadline:
                    raise  # nbval's timeout: it interrupts the kernel and fails the cell

    await_reply.nbval_guard = True
    RunningKernel.await_reply = await_reply


def _outcome(report) -> str | None:
    """The outcome that one phase (setup, call, teardown) gives a test, as pytest counts it."""
    if report.passed:
        return "passed" if report.when == "call" else None
    if report.skipped:
        return "xfailed" if hasattr(report, "wasxfail") else "skipped"
    return "error" if report.when in ("setup", "teardown") else "failed"


class Report:
    """Collects every test's outcome in the controlling process and appends it to a file."""

    def __init__(self, path: str, label: str, cell_timeout: float | None) -> None:
        self.path = Path(path)
        self.label = label
        self.cell_timeout = cell_timeout
        self.cells: dict[str, str] = {}
        self.seconds: dict[str, float] = {}

    def pytest_runtest_logreport(self, report) -> None:
        test_id = report.nodeid
        if test_id.startswith("::"):
            # a notebook outside pytest's rootdir has ids without its path ("::Cell 3"); add
            # its path relative to the rootdir
            test_id = f"{report.location[0]}{test_id}"
        if report.when == "call":
            self.seconds[test_id] = round(report.duration, 1)
        outcome = _outcome(report)
        if outcome is None:
            return
        # a teardown error does not hide a failure; a setup error or a failure is final
        if self.cells.get(test_id) in ("failed", "error"):
            return
        self.cells[test_id] = outcome

    def pytest_collectreport(self, report) -> None:
        if report.failed:
            self.cells[report.nodeid or "collecting"] = "error"

    @pytest.hookimpl(trylast=True)
    def pytest_sessionfinish(self, session, exitstatus) -> None:
        line = {"label": self.label, "exitstatus": int(exitstatus), "cells": self.cells,
                "seconds": self.seconds, "cell_timeout": self.cell_timeout}
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.path.open("a", encoding="utf-8") as f:
            f.write(json.dumps(line) + "\n")


def pytest_addoption(parser) -> None:
    group = parser.getgroup("nbval_guard", "nbval guard (.ci/nbval_guard.py)")
    group.addoption("--nbval-report", default=os.environ.get("NBVAL_REPORT") or None,
                    help="append each cell's outcome to this JSON-lines file "
                         "(default: $NBVAL_REPORT)")
    group.addoption("--nbval-report-label", default=os.environ.get("NBVAL_REPORT_LABEL", ""),
                    help="the run's name in the report (default: $NBVAL_REPORT_LABEL)")


def pytest_configure(config) -> None:
    if config.pluginmanager.hasplugin("nbval"):
        _watch_kernels()
    path = config.getoption("nbval_report")
    if path and not hasattr(config, "workerinput"):  # the controller, not an xdist worker
        report = Report(path, config.getoption("nbval_report_label"),
                        config.getoption("nbval_cell_timeout", None))
        config.pluginmanager.register(report, "nbval_guard_report")


if __name__ == "__main__":
    sys.exit(pytest.main(["-p", "nbval_guard", *sys.argv[1:]]))
