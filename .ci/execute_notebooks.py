"""Re-run notebooks in place so their stored outputs are fresh and reproducible.

Usage: python .ci/execute_notebooks.py book/a.ipynb [book/b.ipynb ...]

Each notebook runs with ``book/`` as its working directory (as in the book and under
nbval). Volatile metadata (execution timestamps, widget state) is dropped so that two
re-runs give byte-identical files.
"""

from __future__ import annotations

import sys
from pathlib import Path

import nbformat
from nbclient import NotebookClient

KEEP_NOTEBOOK_METADATA = ("kernelspec", "language_info", "jupytext")


def merge_streams(outputs: list) -> list:
    """Join consecutive outputs of the same stream (the kernel may flush one print in two
    pieces, or two prints in one), so that re-runs store byte-identical notebooks."""
    merged: list = []
    for out in outputs:
        prev = merged[-1] if merged else None
        if (out.get("output_type") == "stream" and prev is not None
                and prev.get("output_type") == "stream" and prev.get("name") == out.get("name")):
            prev["text"] = prev["text"] + out["text"]
        else:
            merged.append(out)
    return merged


def execute(path: Path) -> None:
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(
        nb,
        timeout=600,
        kernel_name="python3",
        resources={"metadata": {"path": str(path.parent)}},
        record_timing=False,
    )
    client.execute()
    nb.metadata = {k: v for k, v in nb.metadata.items() if k in KEEP_NOTEBOOK_METADATA}
    for cell in nb.cells:
        cell.metadata.pop("execution", None)
        cell.metadata.pop("ExecuteTime", None)
        if cell.cell_type == "code":
            cell.outputs = merge_streams(cell.outputs)
    nbformat.write(nb, path)


def main(paths: list[str]) -> int:
    if not paths:
        print("no notebooks given", file=sys.stderr)
        return 2
    for p in paths:
        print(f"executing {p}", flush=True)
        execute(Path(p))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
