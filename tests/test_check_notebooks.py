"""Tests of .ci/check_notebooks.py, the check that runs before nbval (make nbval)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

ROOT = Path(__file__).resolve().parent.parent
_spec = importlib.util.spec_from_file_location("check_notebooks", ROOT / ".ci/check_notebooks.py")
check = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(check)


def good_notebook() -> nbformat.NotebookNode:
    return new_notebook(cells=[
        new_markdown_cell("# A title\n\nText."),
        new_code_cell("x = 1", execution_count=1),
        new_code_cell("", execution_count=None),  # empty cells are not executed: fine
        new_code_cell("print(x)", execution_count=2,
                      outputs=[new_output("stream", name="stdout", text="1\n")]),
    ])


def write(tmp_path: Path, nb: nbformat.NotebookNode) -> Path:
    path = tmp_path / "nb.ipynb"
    nbformat.write(nb, path)
    return path


def test_good_notebook_passes(tmp_path):
    assert check.problems(write(tmp_path, good_notebook())) == []
    assert check.main([str(write(tmp_path, good_notebook()))]) == 0


def test_unrun_cell_fails(tmp_path):
    nb = good_notebook()
    nb.cells[3].execution_count = None
    nb.cells[3].outputs = []
    found = check.problems(write(tmp_path, nb))
    assert len(found) == 1 and "never run" in found[0]
    assert check.main([str(tmp_path / "nb.ipynb")]) == 1


def test_out_of_order_counts_fail(tmp_path):
    nb = good_notebook()
    nb.cells[1].execution_count = 3
    found = check.problems(write(tmp_path, nb))
    assert any("execution count 3, expected 1" in p for p in found)


def test_error_output_fails_unless_tagged(tmp_path):
    nb = good_notebook()
    err = new_output("error", ename="ValueError", evalue="bad", traceback=[])
    nb.cells[3].outputs = [err]
    found = check.problems(write(tmp_path, nb))
    assert found == ["cell 3 ('print(x)') has an error output: ValueError: bad"]
    nb.cells[3].metadata["tags"] = ["raises-exception"]
    assert check.problems(write(tmp_path, nb)) == []


def test_stderr_fails(tmp_path):
    nb = good_notebook()
    nb.cells[3].outputs.append(new_output("stream", name="stderr", text="UserWarning: x\n"))
    found = check.problems(write(tmp_path, nb))
    assert len(found) == 1 and "stderr" in found[0] and "UserWarning" in found[0]


@pytest.mark.parametrize("first", [new_markdown_cell("Intro without a title"),
                                   new_code_cell("x = 0", execution_count=1)])
def test_missing_title_fails(tmp_path, first):
    nb = good_notebook()
    nb.cells[0] = first
    found = check.problems(write(tmp_path, nb))
    assert any("'# Title'" in p for p in found)


def test_toc_files_reads_root_and_files(tmp_path):
    toc = tmp_path / "_toc.yml"
    toc.write_text("format: jb-book\nroot: book/intro\nparts:\n  - caption: A\n"
                   "    chapters:\n      - file: book/00_setup_check\n"
                   "      - file: \"book/01_x.ipynb\"\n")
    assert check.toc_files(toc) == {"book/intro", "book/00_setup_check", "book/01_x"}


def figure_cell(metadata: dict | None = None) -> nbformat.NotebookNode:
    png = new_output("display_data", data={"image/png": "iVBORw0KGgo=",
                                           "text/plain": "<Figure size 640x480 with 1 Axes>"})
    return new_code_cell("plt.show()", execution_count=3, outputs=[png],
                         metadata=metadata or {})


@pytest.mark.parametrize("metadata", [
    {},                                                   # no alt at all
    {"mystnb": {"image": {"width": "80%"}}},              # image options, but no alt
    {"mystnb": {"image": {"alt": ""}}},                   # empty
    {"mystnb": {"image": {"alt": "   "}}},                # blank
    {"mystnb": {"image": {"alt": 3}}},                    # not text
    {"mystnb": {"image": "alt"}},                         # malformed
    {"image": {"alt": "a curve"}},                        # not under mystnb: myst-nb ignores it
])
def test_figure_without_alt_text_fails(tmp_path, metadata):
    nb = good_notebook()
    nb.cells.append(figure_cell(metadata))
    found = check.problems(write(tmp_path, nb))
    assert len(found) == 1 and "cell 4 ('plt.show()')" in found[0] and "alt text" in found[0]
    assert check.main([str(tmp_path / "nb.ipynb")]) == 1


def test_figure_with_alt_text_passes(tmp_path):
    nb = good_notebook()
    nb.cells.append(figure_cell({"mystnb": {"image": {"alt": "Loss against step: it falls."}}}))
    assert check.problems(write(tmp_path, nb)) == []
    nb.cells[-1].outputs[0].data.pop("image/png")        # text only: no alt text needed
    nb.cells[-1].metadata = {}
    assert check.problems(write(tmp_path, nb)) == []


def test_book_notebook_is_clean_and_must_be_listed():
    nb = ROOT / "book" / "03_bidirectional.ipynb"          # has figures, all with alt text
    assert check.problems(nb, check.toc_files(ROOT / "_toc.yml")) == []
    assert check.problems(nb, set()) == ["book/03_bidirectional.ipynb is not listed in _toc.yml"]


def test_no_paths_is_a_usage_error():
    assert check.main([]) == 2


def test_lstm_lib_must_be_imported_before_numpy_or_torch(tmp_path):
    nb = good_notebook()
    nb.cells[1].source = "import numpy as np\n\nimport lstm_lib\nx = 1"
    found = check.problems(write(tmp_path, nb))
    assert found == ["cell 1 imports numpy before lstm_lib: put 'import lstm_lib' first, so "
                     "that its thread-pool waits take effect"]
    nb.cells[1].source = "import lstm_lib  # first\n\nimport numpy as np\nimport torch\nx = 1"
    assert check.problems(write(tmp_path, nb)) == []
    nb.cells[1].source = "from matplotlib import pyplot\nx = 1"  # no lstm_lib at all
    assert "imports matplotlib before lstm_lib" in check.problems(write(tmp_path, nb))[0]


def test_nbval_ignore_output_needs_an_assert_after_it_and_only_once(tmp_path):
    nb = good_notebook()
    nb.cells[1].source = "# NBVAL_IGNORE_OUTPUT\nx = 1"
    nb.cells[3].source = "assert x == 1\nprint(x)"
    assert check.problems(write(tmp_path, nb)) == []
    nb.cells[3].source = "print(x)"
    assert check.problems(write(tmp_path, nb)) == [
        "cell 1 is marked NBVAL_IGNORE_OUTPUT but the next code cell asserts nothing about "
        "its output"]
    nb.cells[3].source = "# NBVAL_IGNORE_OUTPUT\nassert x == 1\nprint(x)"
    found = check.problems(write(tmp_path, nb))
    assert any("2 cells are marked NBVAL_IGNORE_OUTPUT" in p for p in found)
