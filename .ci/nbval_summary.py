"""A table of nbval runs: cells passed, failed, errored and skipped, and which did not pass.

Usage: python .ci/nbval_summary.py [NAME=]REPORT [[NAME=]REPORT ...]

Each REPORT is a JSON-lines file that .ci/nbval_guard.py appended one line to per nbval run
({"label", "exitstatus", "cells", "seconds", "cell_timeout"}); each line is a row named NAME
plus the line's label. A missing or empty REPORT is a row too: its run stopped before nbval
finished, or never began. "slowest" is the longest a cell took to run (against the cell
timeout: see NBVAL_FLAGS in the Makefile); after the table, the slowest cell of every row.

Exits 1 if any row has a cell that failed or errored, a pytest exit status other than 0, no
cells, a note (a line written by .ci/test_kernels.sh for a run that left no report) or no
report; 0 otherwise. So the table and the exit status always agree.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

# pytest's exit statuses other than 0 (all passed) and 1 (some failed)
EXIT_MEANING = {2: "interrupted", 3: "internal error", 4: "usage error", 5: "no tests collected"}
COLUMNS = ("passed", "failed", "error", "skipped")
# "skipped" counts skipped cells and xfailed ones: after a cell times out, nbval marks every
# later cell of its notebook xfail, so one that then fails too is not counted as failed


def _cell_key(test_id: str) -> tuple[str, int, str]:
    path, _, name = test_id.partition("::")
    m = re.fullmatch(r"Cell (\d+)", name)
    return (path, int(m.group(1)) if m else -1, name)


def describe(cells: dict[str, str]) -> str:
    """The tests that did not pass, per notebook, runs of cells joined: 'a.ipynb: Cell 3
    failed, Cell 4-9 xfailed'."""
    by_notebook: dict[str, list[tuple[int, str, str]]] = {}
    for test_id in sorted(cells, key=_cell_key):
        outcome = cells[test_id]
        if outcome == "passed":
            continue
        path, number, name = _cell_key(test_id)
        by_notebook.setdefault(path, []).append((number, name or "collecting it", outcome))
    parts = []
    for path, rows in by_notebook.items():
        runs: list[list] = []  # [first number, last number, first name, outcome]
        for number, name, outcome in rows:
            last = runs[-1] if runs else None
            if last and number >= 0 and last[1] == number - 1 and last[3] == outcome:
                last[1] = number
            else:
                runs.append([number, number, name, outcome])
        said = [f"{name}{f'-{b}' if b != a else ''} {outcome}" for a, b, name, outcome in runs]
        parts.append(f"{path}: {', '.join(said)}")
    return "; ".join(parts) or "-"


def rows_of(arg: str) -> list[tuple[str, dict | None]]:
    name, sep, path = arg.partition("=")
    if not sep:
        name, path = Path(arg).stem, arg
    lines = []
    if Path(path).is_file():
        lines = [json.loads(s) for s in Path(path).read_text().splitlines() if s.strip()]
    if not lines:
        return [(name, None)]
    return [(name if run.get("label", "") in ("", name) else f"{name} {run['label']}".strip(), run)
            for run in lines]


def main(args: list[str]) -> int:
    if not args:
        print(__doc__, file=sys.stderr)
        return 2
    rows = [row for arg in args for row in rows_of(arg)]
    width = max(len("run"), *(len(label) for label, _ in rows))
    print(f"{'run':<{width}} {'passed':>7} {'failed':>7} {'errors':>7} {'skipped':>8} "
          f"{'exit':>5} {'slowest':>8}  cells that did not pass")
    status = 0
    for label, run in rows:
        if run is None:
            status = 1
            print(f"{label:<{width}} {'?':>7} {'?':>7} {'?':>7} {'?':>8} {'?':>5} {'?':>8}  "
                  "no report: the run stopped before nbval finished, or never began (see its log)")
            continue
        outcomes = ["skipped" if o == "xfailed" else o for o in run["cells"].values()]
        n = {c: outcomes.count(c) for c in COLUMNS}
        exitstatus = run["exitstatus"]
        text = describe(run["cells"])
        if run.get("note"):
            text = run["note"]
        elif exitstatus != 0 and n["failed"] + n["error"] == 0:
            meaning = EXIT_MEANING.get(exitstatus, "no cell failed")
            why = f"(pytest exit {exitstatus}: {meaning}; see its log)"
            text = why if text == "-" else f"{text} {why}"
        elif not run["cells"]:
            text = "no cells ran"
        if exitstatus != 0 or n["failed"] + n["error"] > 0 or not run["cells"] or run.get("note"):
            status = 1
        seconds = run.get("seconds") or {}
        slowest = f"{max(seconds.values()):.0f} s" if seconds else "-"
        print(f"{label:<{width}} {n['passed']:>7} {n['failed']:>7} {n['error']:>7} "
              f"{n['skipped']:>8} {exitstatus:>5} {slowest:>8}  {text}")
    slow = [(label, max(run["seconds"].items(), key=lambda kv: kv[1]), run.get("cell_timeout"))
            for label, run in rows if run is not None and run.get("seconds")]
    for label, (test_id, seconds), timeout in slow:
        limit = f" (cell timeout {timeout:g} s)" if timeout else ""
        print(f"slowest cell, {label}: {test_id} {seconds:.1f} s{limit}")
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
