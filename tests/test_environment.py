"""Tests for lstm_lib.environment and for the Colab cell that opens every chapter.

Chapter 00 reports the environment with ``environment.check()``; here the same check runs
with a stand-in ``google.colab`` module and another torch version, as on Colab, and the
chapter's own cell runs with them too. The Colab cell of each notebook is executed with a
stand-in IPython: it asks for ``%pip install`` only when ``google.colab`` is loaded, and
prints nothing otherwise.
"""

from __future__ import annotations

import re
import sys
import types
from pathlib import Path

import nbformat
import pytest
import torch
from IPython.core.inputtransformer2 import TransformerManager

import lstm_lib
from lstm_lib import environment

ROOT = Path(__file__).resolve().parent.parent
BOOK = ROOT / "book"
COLAB_NOTEBOOKS = ["00_setup_check", "01_vanishing_gradients", "02_lstm_cell",
                   "04_context_windows"]


def test_the_venv_is_the_pinned_environment() -> None:
    report = environment.check()
    assert report.pinned, report.notes
    assert report.cuda is None and not report.on_colab
    assert "This is the pinned environment" in report.text()


def test_pins_agree_with_requirements_txt() -> None:
    pins = dict(re.findall(r"^(numpy|torch)==(\S+)", (ROOT / "requirements.txt").read_text(),
                           flags=re.M))
    assert pins == {k: environment.PINNED[k] for k in ("numpy", "torch")}
    pyproject = (ROOT / "pyproject.toml").read_text()
    assert f'requires-python = ">={environment.PINNED["python"]}"' in pyproject


def test_colab_with_another_torch_gives_notes_not_errors() -> None:
    colab = {"google.colab": types.ModuleType("google.colab")}
    report = environment.check(versions={"torch": "2.5.1+cu121", "python": "3.12.4"},
                               cuda="12.1", modules=colab)
    assert report.on_colab and not report.pinned and report.cuda == "12.1"
    text = report.text()
    assert "torch 2.5.1+cu121 is not the pinned 2.13.0" in text
    assert "Python 3.12.4 is not the pinned 3.11" in text
    assert "CUDA build (CUDA 12.1)" in text and "Colab" in text
    assert len(report.notes) == 4 and all(line.startswith("note: ")
                                          for line in text.splitlines()[-4:])
    assert list(report.versions)[:4] == ["python", "numpy", "torch", "lstm_lib"]


def test_local_build_label_is_not_a_difference() -> None:
    report = environment.check(versions={"python": "3.11.9", "numpy": "2.4.6",
                                         "torch": "2.13.0+cpu", "lstm_lib": "0.1.0"},
                               cuda=None, modules={})
    assert report.pinned and report.notes == []


def test_python_patch_release_does_not_change_the_report() -> None:
    texts = [environment.check(versions={"python": py, "numpy": "2.4.6",
                                         "torch": "2.13.0+cpu", "lstm_lib": "0.1.0"},
                               cuda=None, modules={}).text() for py in ("3.11.7", "3.11.9")]
    assert texts[0] == texts[1]
    assert texts[0].splitlines()[0] == "python     3.11"
    other = environment.check(versions={"python": "3.12.4"}, cuda=None, modules={}).text()
    assert "python     3.12\n" in other and "Python 3.12.4 is not the pinned 3.11" in other


def test_bad_arguments() -> None:
    with pytest.raises(TypeError):
        environment.check(versions={"torch": 2.13})
    with pytest.raises(TypeError):
        environment.check(cuda=12.1)


def _code_cells(name: str) -> list[str]:
    nb = nbformat.read(BOOK / f"{name}.ipynb", as_version=4)
    return [c.source for c in nb.cells if c.cell_type == "code"]


def test_chapter_00_reports_colab_and_another_torch_without_failing(monkeypatch, capsys) -> None:
    """Run chapter 00's environment cell as Colab would see it."""
    cell = next(s for s in _code_cells("00_setup_check") if "environment.check()" in s)
    monkeypatch.setitem(sys.modules, "google.colab", types.ModuleType("google.colab"))
    monkeypatch.setattr(torch, "__version__", "2.9.0+cu126")
    monkeypatch.setattr(torch.version, "cuda", "12.6")
    namespace = {"environment": environment, "lstm_lib": lstm_lib}
    exec(compile(cell, "00_setup_check", "exec"), namespace)  # noqa: S102 - the chapter's cell
    out = capsys.readouterr().out
    assert "torch      2.9.0+cu126" in out and "build      CUDA 12.6" in out
    assert "note: torch 2.9.0+cu126 is not the pinned 2.13.0" in out
    assert "note: running on Colab" in out
    assert "pinned environment: the stored" not in out


class FakeIPython:
    """Records the magics a cell asks for instead of running them."""

    def __init__(self) -> None:
        self.magics: list[tuple[str, str]] = []

    def run_line_magic(self, name: str, line: str) -> None:
        self.magics.append((name, line))

    def system(self, command: str) -> None:          # a "!command" line
        self.magics.append(("!", command))


def _run_first_code_cell(name: str) -> FakeIPython:
    cell = _code_cells(name)[0]
    python = TransformerManager().transform_cell(cell)
    shell = FakeIPython()
    exec(compile(python, name, "exec"), {"get_ipython": lambda: shell})  # noqa: S102
    return shell


@pytest.mark.parametrize("name", COLAB_NOTEBOOKS)
def test_colab_cell_installs_only_on_colab(name, monkeypatch, capsys) -> None:
    assert "google.colab" in _code_cells(name)[0]
    monkeypatch.delitem(sys.modules, "google.colab", raising=False)
    assert _run_first_code_cell(name).magics == []
    assert capsys.readouterr() == ("", "")
    monkeypatch.setitem(sys.modules, "google.colab", types.ModuleType("google.colab"))
    magics = _run_first_code_cell(name).magics
    assert len(magics) == 1 and magics[0][0] == "pip"
    assert magics[0][1].startswith("install --quiet")
    assert '"lstm_lib[book] @ git+https://github.com/lstm-book/lstm-book"' in magics[0][1]


# Chapters 9-13 load checkpoints, which the package does not hold: on Colab their first cell
# clones the repository, installs it, and (9, 11-13) pins what the chapter needs.
CLONE_NOTEBOOKS = {"09_variable_lengths": ['"keras==3.15.1"'], "10_forecasting": [],
                   "11_char_language_model": ['"keras==3.15.1"'],
                   "12_encoder_decoder": ['"num2words==0.5.14"'],
                   "13_recurrence_after_transformers": ['"keras==3.15.1"', '"xlstm==2.0.6"']}


@pytest.mark.parametrize("name", CLONE_NOTEBOOKS)
def test_clone_cell_fetches_the_book_only_on_colab(name, monkeypatch, capsys) -> None:
    monkeypatch.setattr(sys, "path", list(sys.path))      # the cell may add to it: restored
    monkeypatch.delitem(sys.modules, "google.colab", raising=False)
    before = list(sys.path)
    assert _run_first_code_cell(name).magics == []
    assert capsys.readouterr() == ("", "") and sys.path == before
    monkeypatch.setitem(sys.modules, "google.colab", types.ModuleType("google.colab"))
    magics = _run_first_code_cell(name).magics
    # the running kernel does not read the editable install's .pth file: the clone goes on
    # sys.path by hand, so that `import lstm_lib` works without restarting the runtime
    assert sys.path[0] == "/content/lstm-book"
    assert magics[0][0] == "!" and magics[0][1].startswith("git clone")
    assert "https://github.com/lstm-book/lstm-book /content/lstm-book" in magics[0][1]
    assert magics[1] == ("pip", 'install --quiet -e "/content/lstm-book[book]"')
    pins = CLONE_NOTEBOOKS[name]
    if pins:
        assert magics[2] == ("pip", "install --quiet " + " ".join(pins)), magics[2]
    assert magics[-1] == ("cd", "/content/lstm-book/book")
    assert len(magics) == 3 + bool(pins)
