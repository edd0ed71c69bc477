"""Tests of how CI runs nbval: .ci/test_kernels.sh (make nbval, make test-kernels), the plugin
.ci/nbval_guard.py and the table of .ci/nbval_summary.py. A cell that fails, errors, dies
with its kernel or hangs must show in the table, and the exit status must say the same.

Each test writes tiny notebooks to its tmp_path and runs nbval on them in a subprocess."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_notebook, new_output

ROOT = Path(__file__).resolve().parent.parent
_spec = importlib.util.spec_from_file_location("nbval_summary", ROOT / ".ci/nbval_summary.py")
summary = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(summary)


def notebook(path: Path, cells: list[tuple[str, str | None]]) -> Path:
    """A notebook of code cells (source, stored stdout or None), each stored as run."""
    nb = new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    for n, (source, stdout) in enumerate(cells, 1):
        cell = new_code_cell(source, execution_count=n)
        if stdout is not None:
            cell.outputs = [new_output("stream", name="stdout", text=stdout)]
        nb.cells.append(cell)
    nbformat.write(nb, path)
    return path


def run_kernels(tmp_path: Path, profile: str, notebooks: list[Path], timeout: float | None):
    """bash .ci/test_kernels.sh PROFILE NOTEBOOKS, 1 process x 1 thread: (exit status,
    output, report lines). timeout None: the Makefile's flags."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("PYTEST_", "NBVAL_", "MAKE")) and k != "MFLAGS"}
    env.update(NBVAL_WORKERS="1", NBVAL_THREADS="1", NBVAL_REPORT=str(tmp_path / "report.jsonl"),
               PYTEST_DEBUG_TEMPROOT=str(tmp_path))    # the inner pytest's temporary files
    if timeout is not None:
        env["NBVAL_FLAGS"] = (f"--nbval --nbval-current-env -p no:cacheprovider "
                              f"--nbval-cell-timeout {timeout:g}")
    done = subprocess.run(["bash", str(ROOT / ".ci/test_kernels.sh"), profile,
                           *map(str, notebooks)], env=env, cwd=tmp_path, capture_output=True,
                          text=True, timeout=900)
    report = tmp_path / "report.jsonl"
    lines = [json.loads(s) for s in report.read_text().splitlines()] if report.exists() else []
    return done.returncode, done.stdout + done.stderr, lines


def table_row(output: str, label: str) -> list[str]:
    """The row of the table printed at the end: its first columns, split on spaces."""
    rows = [line for line in output.splitlines() if line.startswith(label + " ")]
    assert rows, output
    return rows[-1][len(label):].split()


def test_a_failing_cell_and_a_dead_kernel_are_counted_and_fail_the_run(tmp_path):
    bad = notebook(tmp_path / "bad.ipynb",
                   [("print(1)", "1\n"), ("print(2)", "3\n"), ("print(4)", "4\n")])
    dead = notebook(tmp_path / "dead.ipynb",
                    [("print(1)", "1\n"), ("import os\nos._exit(1)", None), ("print(3)", "3\n")])
    timeout = 120       # what nbval alone would wait for the dead kernel's reply, and 5 s more
    rc, out, lines = run_kernels(tmp_path, "native", [bad, dead], timeout)

    assert rc == 1, out
    # passed: bad's cells 0 and 2, dead's cell 0; failed: bad's cell 1, dead's cells 1 and 2
    assert table_row(out, "native 1x1")[:5] == ["3", "3", "0", "0", "1"], out
    assert "bad.ipynb: Cell 1 failed; " in out and "dead.ipynb: Cell 1-2 failed" in out, out
    assert "kernel died while running this cell (exit code 1)" in out, out

    [line] = lines
    line["cells"] = by_name(line["cells"])
    line["seconds"] = by_name(line["seconds"])
    assert line["label"] == "native 1x1" and line["exitstatus"] == 1
    assert line["cells"] == {"bad.ipynb::Cell 0": "passed",
                             "bad.ipynb::Cell 1": "failed", "bad.ipynb::Cell 2": "passed",
                             "dead.ipynb::Cell 0": "passed", "dead.ipynb::Cell 1": "failed",
                             "dead.ipynb::Cell 2": "failed"}
    # the dead kernel is noticed within seconds, not after the cell timeout
    assert line["seconds"]["dead.ipynb::Cell 1"] < timeout / 4, line["seconds"]
    assert line["cell_timeout"] == timeout


def by_name(cells: dict) -> dict:
    """Cell ids by notebook file name: pytest names a notebook by its path relative to the
    rootdir, which depends on where the repository lies."""
    return {key.rsplit("/", 1)[-1]: value for key, value in cells.items()}


def test_a_cell_that_hangs_fails_at_the_cell_timeout_and_is_counted(tmp_path):
    # after a timeout nbval marks the notebook's later cells xfail: cell 2 (its stored output
    # differs) is xfailed, cell 3 xpassed (it passed)
    hang = notebook(tmp_path / "hang.ipynb", [("print(1)", "1\n"),
                                              ("import time\ntime.sleep(600)", None),
                                              ("print(3)", "x\n"), ("print(4)", "4\n")])
    rc, out, [line] = run_kernels(tmp_path, "native", [hang], timeout=2)
    line["cells"], line["seconds"] = by_name(line["cells"]), by_name(line["seconds"])

    assert rc == 1, out
    assert table_row(out, "native 1x1")[:5] == ["2", "1", "0", "1", "1"], out
    assert "hang.ipynb: Cell 1 failed, Cell 2 xfailed" in out, out
    assert "Timeout of 2 seconds exceeded" in out, out
    assert line["cells"] == {"hang.ipynb::Cell 0": "passed", "hang.ipynb::Cell 1": "failed",
                             "hang.ipynb::Cell 2": "xfailed", "hang.ipynb::Cell 3": "passed"}
    assert 2 <= line["seconds"]["hang.ipynb::Cell 1"] < 60


def test_a_run_that_leaves_no_report_is_a_row_and_fails(tmp_path):
    nb = notebook(tmp_path / "good.ipynb", [("print(1)", "1\n")])
    # an unknown profile stops before pytest starts; the flags come from the Makefile
    rc, out, [line] = run_kernels(tmp_path, "nosuch", [nb], timeout=None)

    assert rc == 1, out
    assert "unknown profile 'nosuch'" in out
    assert table_row(out, "nosuch 1x1")[:5] == ["0", "0", "0", "0", "2"], out
    assert "the run exited 2 without a report" in out
    assert line == {"label": "nosuch 1x1", "exitstatus": 2, "cells": {},
                    "note": "the run exited 2 without a report of that status from pytest "
                            "(see above)"}


def write_report(path: Path, *lines: dict) -> Path:
    path.write_text("".join(json.dumps(line) + "\n" for line in lines))
    return path


def test_summary_counts_every_outcome_and_its_status_agrees(tmp_path, capsys):
    ok = write_report(tmp_path / "ok.jsonl", {
        "label": "native 2x1", "exitstatus": 0, "cells": {"a.ipynb::Cell 0": "passed"},
        "seconds": {"a.ipynb::Cell 0": 3.0}, "cell_timeout": 600})
    assert summary.main([f"test={ok}"]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[1].split() == ["test", "native", "2x1", "1", "0", "0", "0", "0",
                                           "3", "s", "-"]
    assert "slowest cell, test native 2x1: a.ipynb::Cell 0 3.0 s (cell timeout 600 s)" in out

    cells = {f"b.ipynb::Cell {i}": "error" for i in range(12)}     # a kernel dead at start-up
    cells.update({"a.ipynb::Cell 10": "failed", "a.ipynb::Cell 2": "passed",
                  "a.ipynb::Cell 3": "skipped"})
    bad = write_report(tmp_path / "bad.jsonl", {"label": "avx2", "exitstatus": 1,
                                                "cells": cells})
    assert summary.main([f"kernels={bad}", f"kernels={ok}", str(tmp_path / "none.jsonl")]) == 1
    rows = capsys.readouterr().out.splitlines()
    assert rows[1].split()[:7] == ["kernels", "avx2", "1", "1", "12", "1", "1"]
    assert rows[1].endswith("a.ipynb: Cell 3 skipped, Cell 10 failed; b.ipynb: Cell 0-11 error")
    assert rows[2].startswith("kernels native 2x1")
    assert rows[3].startswith("none ") and "no report" in rows[3]

    # pytest failed with no cell failing (here: no tests collected): the row says so, exit 1
    empty = write_report(tmp_path / "empty.jsonl", {"label": "", "exitstatus": 5, "cells": {}})
    assert summary.main([f"threads={empty}"]) == 1
    assert "(pytest exit 5: no tests collected; see its log)" in capsys.readouterr().out


def test_every_make_target_that_runs_nbval_sets_a_cell_timeout():
    for target in ("nbval", "test-kernels"):
        done = subprocess.run(["make", "-n", "-C", str(ROOT), target, "NB=book/x.ipynb"],
                              capture_output=True, text=True, check=True)
        # make -n prints the recipe: NBVAL_FLAGS="... --nbval-cell-timeout N" ... test_kernels.sh
        assert "--nbval-cell-timeout" in done.stdout, done.stdout
        assert ".ci/test_kernels.sh" in done.stdout, done.stdout
