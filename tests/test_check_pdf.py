"""Tests of .ci/check_pdf.py (the check after `make pdf`) and of book/_latex/pdf_book.py.

The logs are small synthetic snippets in the format XeLaTeX writes; the end-to-end tests
build a tiny fake book (toc, notebook, .tex, .log) in a temporary folder.
"""

from __future__ import annotations

import base64
import hashlib
import importlib.util
import json
import struct
import sys
import zlib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _load(name: str, path: Path):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


cp = _load("check_pdf", ROOT / ".ci/check_pdf.py")
pdf_book = _load("pdf_book", ROOT / "book/_latex/pdf_book.py")


def png(width: int, height: int, dpi: float | None = None) -> bytes:
    """A valid RGB PNG of the given size, with a pHYs chunk if dpi is given."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data) & 0xFFFFFFFF
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    rows = b"".join(b"\x00" + b"\xff\xff\xff" * width for _ in range(height))
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    phys = b""
    if dpi is not None:
        ppm = round(dpi / 0.0254)
        phys = chunk(b"pHYs", struct.pack(">IIB", ppm, ppm, 1))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + phys
            + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))


CLEAN_LOG = """\
This is XeTeX, Version 3.141592653-2.6-0.999995 (TeX Live 2022/Debian) (preloaded format=xelatex)
File: abc123.png Graphic file (type bmp)
<abc123.png>
Overfull \\vbox (1.17792pt too high) detected at line 3873
 []

[59] [60]
Output written on lstms-executed.pdf (183 pages).
Transcript written on lstms-executed.log.
"""

BAD_LOG = """\
! LaTeX Error: File `missing.sty' not found.
LaTeX Warning: Reference `book/01_x:sec' on page 3 undefined on input line 120.
LaTeX Warning: Hyper reference `book/02_y:lbl' on page 4 undefined on input line 130.
LaTeX Warning: Citation `book/A5_references:id3' on page 5 undefined on input line 140.
Missing character: There is no ↔ (U+2194) in font FreeMono/OT:script=latn;language=dflt;!
Overfull \\hbox (16.80615pt too wide) in paragraph at lines 6574--6574
\\TU/FreeMono(0)/m/n/10 turn_sequences|
 []

Overfull \\hbox (12.5pt too wide) in paragraph at lines 10124--10126
[][][]\\TU/FreeSerif(0)/m/it/10 Chap-
 []

Output written on lstms-executed.pdf (2 pages).
"""


# --- the log ---------------------------------------------------------------------------------


def test_clean_log_reports_nothing_wrong():
    report = cp.parse_log(CLEAN_LOG)
    assert report.pages == 183
    assert report.errors == [] and report.undefined == [] and report.missing_chars == []
    assert report.graphics == {"abc123.png"}
    assert [(b.box, b.points, b.lines) for b in report.overfull] == [("v", 1.17792, (3873, 3873))]


def test_bad_log_reports_each_problem():
    report = cp.parse_log(BAD_LOG)
    assert report.pages == 2
    assert report.errors == ["LaTeX Error: File `missing.sty' not found."]
    assert report.undefined == ["reference book/01_x:sec", "hyper reference book/02_y:lbl",
                                "citation book/A5_references:id3"]
    assert report.missing_chars == [
        "↔ (U+2194) in FreeMono/OT:script=latn;language=dflt;"]
    boxes = [(b.box, b.points, b.lines) for b in report.overfull]
    assert boxes == [("h", 16.80615, (6574, 6574)), ("h", 12.5, (10124, 10126))]
    assert report.overfull[0].fonts() == ["FreeMono"]
    assert report.overfull[1].fonts() == ["FreeSerif"]


def test_undefined_summary_line_alone_is_reported():
    report = cp.parse_log("LaTeX Warning: There were undefined references.\n")
    assert report.undefined == ["LaTeX: there were undefined references"]


def test_wrapped_log_is_unwrapped_before_parsing():
    line = "LaTeX Warning: Reference `book/07_stateful:a-very-long-label-that-wraps' on page 12 " \
           "undefined on input line 8144."
    wrapped = "\n".join(line[i:i + 79] for i in range(0, len(line), 79))
    assert max(len(x) for x in wrapped.splitlines()) == 79
    assert cp.unwrap_log(wrapped) == [line]
    assert cp.parse_log(wrapped + "\n").undefined == [
        "reference book/07_stateful:a-very-long-label-that-wraps"]


def test_unwrapped_log_is_left_alone():
    lines = ["x" * 79, "y" * 120, "z"]  # a line over 79: max_print_line was raised
    assert cp.unwrap_log("\n".join(lines)) == lines


# --- the .tex --------------------------------------------------------------------------------

TEX = r"""\begin{document}
text \hyperlink{cite.book/A5_references:id1}{Elman, 1990}
\begin{sphinxVerbatim}[commandchars=\\\{\}]
a very long line of code
\end{sphinxVerbatim}
\noindent\sphinxincludegraphics{{f4b704e2}.png}
\sphinxincludegraphics[width=0.5\linewidth]{{diagram}.jpeg}
\begin{sphinxthebibliography}{BSF94}
\bibitem[Elm90]{book/A5_references:id1}
\end{sphinxthebibliography}
"""


def test_verbatim_ranges_and_code_overfull():
    ranges = cp.verbatim_ranges(TEX)
    assert ranges == [(3, 5)]
    in_verbatim = cp.Overfull("h", 20.0, (4, 4), r"[]\TU/FreeSerif(0)/m/n/10 text")
    mono_text = cp.Overfull("h", 20.0, (40, 40), r"\TU/DejaVuSansMono(0)/m/n/10 turn_state|")
    prose = cp.Overfull("h", 20.0, (40, 40), r"[][][]\TU/FreeSerif(0)/m/it/10 Chap-")
    assert cp.is_code(in_verbatim, ranges)
    assert cp.is_code(mono_text, ranges)
    assert not cp.is_code(prose, ranges)


def test_tex_images_and_citations():
    assert cp.tex_images(TEX) == {"f4b704e2.png", "diagram.jpeg"}
    assert cp.undefined_citations(TEX) == []
    broken = TEX + r"\hyperlink{cite.book/A5_references:id9}{Nobody, 2000}"
    assert cp.undefined_citations(broken) == ["book/A5_references:id9"]


# --- the sources -----------------------------------------------------------------------------


def test_png_inches_reads_the_resolution():
    assert cp.png_inches(png(200, 100, dpi=100)) == pytest.approx((2.0, 1.0), rel=1e-3)
    assert cp.png_inches(png(200, 100, dpi=200)) == pytest.approx((1.0, 0.5), rel=1e-3)
    assert cp.png_inches(png(300, 150)) == (3.0, 1.5)  # no pHYs: 100 dpi, matplotlib's
    assert cp.png_inches(b"GIF89a...") is None


def test_set_height_scales_wide_figures_to_the_text_width():
    assert cp.set_height((3.0, 2.0)) == 2.0
    assert cp.set_height((13.4, 4.0)) == pytest.approx(2.0)


def notebook(image: bytes) -> dict:
    encoded = base64.b64encode(image).decode()
    return {"cells": [
        {"cell_type": "markdown", "metadata": {}, "source": ["# Title\n", "x" * 3999]},
        {"cell_type": "code", "metadata": {}, "source": ["plt.plot()\n", "plt.show()"],
         "outputs": [{"output_type": "display_data", "metadata": {},
                      "data": {"image/png": encoded, "text/plain": "<Figure>"}}]},
        {"cell_type": "code", "metadata": {"tags": ["remove-output"]}, "source": ["plt.show()"],
         "outputs": [{"output_type": "display_data", "metadata": {},
                      "data": {"image/png": base64.b64encode(png(5, 5)).decode()}}]},
        {"cell_type": "code", "metadata": {}, "source": ["svg()"],
         "outputs": [{"output_type": "display_data", "metadata": {},
                      "data": {"image/svg+xml": "<svg/>", "text/plain": "<SVG>"}}]},
        {"cell_type": "code", "metadata": {}, "source": ["print(1)"],
         "outputs": [{"output_type": "stream", "name": "stdout", "text": ["1\n", "2\n"]}]},
    ], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}


def test_notebook_content_names_images_as_myst_nb_does():
    image = png(640, 480, dpi=100)
    content = cp.notebook_content("book/x", notebook(image))
    name = hashlib.sha256(image).hexdigest() + ".png"
    assert content.images == [("book/x cell 1", name),
                              ("book/x cell 3", "(SVG only: not in a PDF)")]
    assert content.prose_chars == len("# Title\n") + 3999
    assert content.code_lines == 2 + 1 + 1 + 1 + 2  # four cells of code, then "1", "2"
    assert content.boxes == 4 + 1  # four inputs, one text output
    assert content.figure_inches == pytest.approx(4.8, rel=1e-4)  # 3937 px/m is 99.9998 dpi


def test_toc_docs_walks_parts_and_sections():
    toc = {"root": "intro", "parts": [
        {"caption": "A", "chapters": [{"file": "a1", "sections": [{"file": "a1s"}]}]},
        {"caption": "B", "chapters": [{"file": "b1"}, {"url": "https://example.org"}]}]}
    assert cp.toc_docs(toc) == (["intro", "a1", "a1s", "b1"], 2)


# --- end to end on a fake book -------------------------------------------------------------


def fake_book(tmp_path: Path, pages: int = 4, log_extra: str = "", tex_extra: str = "",
              include_image: bool = True) -> Path:
    image = png(640, 480, dpi=100)
    name = hashlib.sha256(image).hexdigest() + ".png"
    (tmp_path / "book").mkdir()
    (tmp_path / "_toc.yml").write_text("format: jb-book\nroot: book/intro\nparts:\n"
                                       "  - caption: One\n    chapters:\n"
                                       "      - file: book/01_x\n")
    (tmp_path / "_config.yml").write_text("title: t\n")
    (tmp_path / "book/intro.md").write_text("# Intro\n\nWords.\n")
    (tmp_path / "book/01_x.ipynb").write_text(json.dumps(notebook(image)))
    latex = tmp_path / "_build/latex"
    latex.mkdir(parents=True)
    include = r"\sphinxincludegraphics{{" + name[:-4] + "}.png}" if include_image else ""
    (latex / "book.tex").write_text(
        "\\label{\\detokenize{book/intro::doc}}\n\\label{\\detokenize{book/01_x::doc}}\n"
        + include + "\n" + tex_extra)
    graphic = f"File: {name} Graphic file (type bmp)\n<{name}>\n" if include_image else ""
    (latex / "book.log").write_text(graphic + log_extra
                                    + f"Output written on book.pdf ({pages} pages).\n")
    (latex / "book.pdf").write_bytes(b"%PDF-1.5\n")
    return tmp_path


def run_check(root: Path) -> list[str]:
    return cp.check(root / "_build/latex", "book", root, 5.0, 10.0, 0.8, 1.25)


# The fake book's estimate, by hand: the intro 16 / 4000 + 0.9; the notebook 4007 / 4000 of
# prose, 7 / 54 lines of code and text, 5 boxes x 0.025, a 4.8 in figure / 7.5 and 0.9; a
# part, the title page and 1 + 2/8 pages of contents.
FAKE_ESTIMATE = (16 / 4000 + 0.9) + (4007 / 4000 + 7 / 54 + 5 * 0.025 + 4.8 / 7.5 + 0.9) \
    + 1 + 1 + 1.25


def test_fake_book_estimate(tmp_path):
    root = fake_book(tmp_path)
    docs, parts = cp.toc_docs({"root": "book/intro", "parts": [
        {"caption": "One", "chapters": [{"file": "book/01_x"}]}]})
    estimate = cp.expected_pages(cp.book_content(root, docs, []), parts)
    assert estimate == pytest.approx(FAKE_ESTIMATE)  # about 6.95


def test_fake_book_passes(tmp_path):
    failures = run_check(fake_book(tmp_path, pages=7))
    # the SVG-only output is missing from any PDF: the only failure
    assert failures == ["figure missing from the PDF: (SVG only: not in a PDF) (book/01_x cell 3)"]


# 0.8 x 6.95 = 5.6 and 1.25 x 6.95 = 8.7 pages
@pytest.mark.parametrize("pages, fails", [(6, False), (8, False), (5, True), (9, True)])
def test_page_count_band(tmp_path, pages, fails):
    failures = [f for f in run_check(fake_book(tmp_path, pages=pages)) if "pages, expected" in f]
    assert bool(failures) == fails


def test_fake_book_failures(tmp_path):
    code_line = ("Overfull \\hbox (30.0pt too wide) in paragraph at lines 4--4\n"
                 "[]\\TU/DejaVuSansMono(0)/m/n/9 x = 1|\n")
    small_code = ("Overfull \\hbox (3.0pt too wide) in paragraph at lines 4--4\n"
                  "[]\\TU/DejaVuSansMono(0)/m/n/9 x = 1|\n")
    root = fake_book(tmp_path, pages=7, include_image=False,
                     log_extra=code_line + small_code
                     + "Missing character: There is no ✓ (U+2713) in font FreeSerif!\n",
                     tex_extra="\\hyperlink{cite.k1}{Someone, 1999}\n")
    (root / "_toc.yml").write_text((root / "_toc.yml").read_text()
                                   + "      - file: book/02_gone\n")
    failures = "\n".join(run_check(root))
    assert "figure missing from the PDF: " + hashlib.sha256(png(640, 480, 100)).hexdigest() \
        in failures
    assert "code line runs 30.0pt off the text" in failures
    assert "3.0pt" not in failures  # under the 5 pt threshold
    assert "missing glyph: ✓ (U+2713)" in failures
    assert "undefined citation k1" in failures
    assert "page book/02_gone (in _toc.yml) is not in the PDF" in failures


def test_missing_build_is_one_clear_failure(tmp_path):
    failures = cp.check(tmp_path / "_build/latex", "book", tmp_path, 5, 10, 0.8, 1.25)
    assert len(failures) == 1 and "make pdf" in failures[0]


# --- book/_latex/pdf_book.py -----------------------------------------------------------------


def test_chapter_number_follows_the_file_name():
    assert pdf_book.chapter_number("book/02_lstm_cell") == ("chapter", 2)
    assert pdf_book.chapter_number("book/00_setup_check") == ("chapter", 0)
    assert pdf_book.chapter_number("book/11_char_language_model") == ("chapter", 11)
    assert pdf_book.chapter_number("book/A3_keras_pytorch_math") == ("appendix", 3)
    assert pdf_book.chapter_number("book/intro") is None


def test_renumber_title_of_exercise_and_solution():
    from docutils import nodes

    exercise = nodes.admonition("", nodes.title("", "Exercise 7"))
    pdf_book._renumber_title(exercise, "2.1")
    assert exercise[0].astext() == "Exercise 2.1"
    solution = nodes.admonition("", nodes.title("", "", nodes.Text("Solution to"),
                                                nodes.reference("", " Exercise 7 (hard)")))
    pdf_book._renumber_title(solution, "A3.2")
    assert solution[0].astext() == "Solution to Exercise A3.2 (hard)"


def test_part_captions_are_escaped_for_latex():
    assert pdf_book._tex_escape("Q&A: 100% of #1_x") == r"Q\&A: 100\% of \#1\_x"


def test_find_tools_names_what_is_missing(monkeypatch):
    monkeypatch.setattr(cp.shutil, "which", lambda name: None)
    assert cp.missing_tools() == list(cp.TOOLS)
    assert cp.main(["--find-tools"]) == 1
