"""Check that stored notebooks are what `make execute` leaves, before nbval re-runs them.

Usage: python .ci/check_notebooks.py book/a.ipynb [book/b.ipynb ...]

nbval compares each cell's fresh outputs with the stored ones, but it skips a cell that was
never run (no execution count) and so cannot tell a silent un-run cell from a checked one.
This script fails, naming notebook and cell, when:

- a non-empty code cell has no execution count, or the counts are not 1, 2, 3, ... from top
  to bottom (the notebook was not run once, in order, in a fresh kernel);
- a stored output is an error (unless the cell is tagged `raises-exception`, as nbval
  expects), or text on stderr (warnings and progress bars vary from run to run);
- the first cell is not Markdown starting with a `# Title` (Jupyter Book warns without it);
- a code cell stores a figure (an `image/png` output) but has no alt text, a non-empty
  `mystnb: image: alt` in its metadata (myst-nb writes it into the HTML's `<img alt>`;
  without it the alt is the image's hash path, which says nothing to a screen reader);
- a library that loads NumPy or torch (numpy, torch, matplotlib, pandas, keras, ...) is
  imported before ``import lstm_lib``: lstm_lib must load first, so that its short waits for
  the thread pools take effect (lstm_lib/threads.py);
- a cell starts with ``# NBVAL_IGNORE_OUTPUT`` (nbval then does not compare its output)
  but is not the notebook's only such cell, or the next code cell asserts nothing: the rule
  (CONTRIBUTING.md) allows it only for text sampled from a trained model, followed by a cell
  that asserts the claims made about it;
- the notebook lies in book/ but is not listed in _toc.yml (the book build would fail).
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parent.parent


def toc_files(toc: Path) -> set[str]:
    """Every `file:` entry of a Jupyter Book _toc.yml, without suffix (e.g. book/intro)."""
    files = set()
    for line in toc.read_text(encoding="utf-8").splitlines():
        line = line.strip().removeprefix("- ").strip()
        for key in ("file:", "root:"):
            if line.startswith(key):
                files.add(line[len(key):].strip().strip("\"'").removesuffix(".ipynb"))
    return files


def alt_text(cell: dict) -> str:
    """The alt text a code cell gives its figures (``mystnb.image.alt``), stripped; "" if none."""
    mystnb = cell.get("metadata", {}).get("mystnb", {})
    image = mystnb.get("image", {}) if isinstance(mystnb, dict) else {}
    alt = image.get("alt", "") if isinstance(image, dict) else ""
    return alt.strip() if isinstance(alt, str) else ""


# An import of a library that loads NumPy's BLAS or torch's thread pool.
POOL_IMPORT = re.compile(r"^\s*(import|from)\s+(numpy|torch|matplotlib|pandas|scipy|keras|"
                         r"sklearn|sktime|statsmodels)\b", re.MULTILINE)
LSTM_LIB_IMPORT = re.compile(r"^import lstm_lib\b", re.MULTILINE)


def import_order_problem(cells: list) -> str | None:
    """Where a pool-loading library is imported before ``import lstm_lib``, else None."""
    for index, cell in enumerate(cells):
        if cell.cell_type != "code":
            continue
        pool, ours = POOL_IMPORT.search(cell.source), LSTM_LIB_IMPORT.search(cell.source)
        if ours and (pool is None or ours.start() < pool.start()):
            return None
        if pool:
            return (f"cell {index} imports {pool.group(2)} before lstm_lib: put "
                    "'import lstm_lib' first, so that its thread-pool waits take effect")
    return None


def ignore_output_problems(cells: list) -> list[str]:
    """The ``# NBVAL_IGNORE_OUTPUT`` rule: one such cell at most, followed by an assert."""
    code = [(i, c) for i, c in enumerate(cells) if c.cell_type == "code" and c.source.strip()]
    marked = [k for k, (_, c) in enumerate(code)
              if c.source.lstrip().startswith("# NBVAL_IGNORE_OUTPUT")]
    found = []
    if len(marked) > 1:
        found.append(f"{len(marked)} cells are marked NBVAL_IGNORE_OUTPUT (cells "
                     f"{', '.join(str(code[k][0]) for k in marked)}): at most one is allowed")
    for k in marked:
        nxt = code[k + 1][1].source if k + 1 < len(code) else ""
        if not re.search(r"^\s*assert\b", nxt, re.MULTILINE):
            found.append(f"cell {code[k][0]} is marked NBVAL_IGNORE_OUTPUT but the next code "
                         "cell asserts nothing about its output")
    return found


def problems(path: Path, listed: set[str] | None = None) -> list[str]:
    """The problems found in the notebook at ``path`` (an empty list if there are none).

    ``listed``: the table of contents' entries (see ``toc_files``); None skips that check.
    """
    nb = nbformat.read(path, as_version=4)
    found = []
    cells = nb.cells
    first = cells[0] if cells else None
    if first is None or first.cell_type != "markdown" or not first.source.startswith("# "):
        found.append("the first cell must be Markdown starting with '# Title'")
    expected = 1
    for index, cell in enumerate(cells):
        if cell.cell_type != "code" or not cell.source.strip():
            continue
        tags = cell.metadata.get("tags", [])
        where = f"cell {index} ({cell.source.strip().splitlines()[0][:40]!r})"
        if cell.execution_count is None:
            found.append(f"{where} was never run")
        elif cell.execution_count != expected:
            found.append(f"{where} has execution count {cell.execution_count}, expected "
                         f"{expected}: run the whole notebook once (make execute)")
        expected = (cell.execution_count or expected) + 1
        if any("image/png" in out.get("data", {}) for out in cell.get("outputs", [])):
            if not alt_text(cell):
                found.append(f"{where} stores a figure without alt text: add cell metadata "
                             '{"mystnb": {"image": {"alt": "what the figure shows"}}}')
        for out in cell.get("outputs", []):
            if out.output_type == "error" and "raises-exception" not in tags:
                found.append(f"{where} has an error output: {out.ename}: {out.evalue}")
            elif out.output_type == "stream" and out.name == "stderr":
                text = "".join(out.text).strip().splitlines()
                found.append(f"{where} wrote to stderr: {text[0][:80] if text else ''!r}")
    found += ignore_output_problems(cells)
    order = import_order_problem(cells)
    if order:
        found.append(order)
    try:
        rel = path.resolve().relative_to(ROOT)
    except ValueError:
        rel = None
    if listed is not None and rel is not None and rel.parts[0] == "book":
        if str(rel.with_suffix("")) not in listed:
            found.append(f"{rel} is not listed in _toc.yml")
    return found


def main(paths: list[str]) -> int:
    if not paths:
        print("no notebooks given", file=sys.stderr)
        return 2
    toc = ROOT / "_toc.yml"
    listed = toc_files(toc) if toc.exists() else None
    failed = 0
    for p in paths:
        for problem in problems(Path(p), listed):
            print(f"{p}: {problem}", file=sys.stderr)
            failed += 1
    if failed:
        print(f"{failed} problem(s); fix the notebook, or re-run it: make execute NB=...",
              file=sys.stderr)
        return 1
    print(f"{len(paths)} notebook(s): every code cell run in order, no errors, no stderr, "
          "alt text on every figure")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
