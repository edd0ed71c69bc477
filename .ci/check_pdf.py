#!/usr/bin/env python3
"""Check the PDF that `make pdf` built, from its LaTeX log and source.

Usage: check_pdf.py [--latex-dir _build/latex] [--name lstms-executed] [--root .]
       check_pdf.py --find-tools   (exit 1 if a tool, LaTeX package or font of the build
                                    is missing: `make pdf` then installs TeX Live)

Fails (exit 1) on any of:

- a LaTeX error ("! ..." in the log);
- an undefined reference or citation: LaTeX's "Reference/Hyper reference/Citation `x'
  undefined" warnings, and a citation link (``\\hyperlink{cite.KEY}``, which XeTeX does not
  warn about) whose KEY no ``\\bibitem`` of the bibliography defines;
- a missing glyph ("Missing character: There is no ..." in the log);
- a page of ``_toc.yml`` that is not in the PDF;
- a figure missing from the PDF: every image a page shows (a notebook's ``image/png`` or
  ``image/jpeg`` output, a Markdown image or figure) must be included by the .tex and loaded
  by XeTeX (its "File: ... Graphic file" line in the log). myst-nb names an output image
  after the SHA-256 of its bytes, so each output is matched exactly. An output that offers
  only SVG is missing: the LaTeX builder cannot show SVG;
- a line of code that runs off the page: an overfull ``\\hbox`` wider than
  ``--max-code-overfull`` points (default 5, about one character) inside a verbatim block
  or set in the monospaced font; any other overfull ``\\hbox`` wider than
  ``--max-overfull`` points (default 10). Overfull ``\\vbox`` es (a page a point or two too
  full) are counted, not failed;
- a page count far from the expected one. The expectation is computed from the pages in
  ``_toc.yml``, so it grows with the book: for every page, prose characters / 4000, lines
  of code and of text output / 54, 0.025 per code cell and output (frames and gaps), the
  height of its figures (as set, at most the text width wide) / 7.5 in, 0.035 per
  bibliography entry and 0.9 for the chapter's opening and last page; plus a page per part,
  the title page and the contents. These rates were fitted to this book's 14 chapters and
  preface (168 pages): the estimate was off by 6 % per chapter on average, by at most 21 %
  (the glossary), and 167 for the total. The check fails outside ``--pages-low`` ..
  ``--pages-high`` times the estimate (default 0.8 .. 1.25).
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import re
import shutil
import struct
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import yaml

# --- the LaTeX log ---------------------------------------------------------------------------

TEX_LOG_WIDTH = 79  # TeX's max_print_line: `make pdf` sets it to 10000 so that nothing wraps

RE_OUTPUT = re.compile(r"^Output written on .*?\((\d+) pages?")
RE_UNDEFINED = re.compile(
    r"LaTeX Warning: (Reference|Hyper reference|Citation) `(.+?)' on page \S+ undefined")
RE_MISSING_CHAR = re.compile(
    r"^Missing character: There is no (.+?) \(U\+([0-9A-Fa-f]+)\) in font (.+?)!")
RE_OVERFULL = re.compile(
    r"^Overfull \\([hv])box \(([\d.]+)pt too (?:wide|high)\) "
    r"(?:in paragraph at lines (\d+)--(\d+)|in alignment at lines (\d+)--(\d+)"
    r"|detected at line (\d+)|has occurred while \\output is active)")
RE_GRAPHIC = re.compile(r"^File: (\S+) Graphic file")
RE_SHIPPED_IMAGE = re.compile(r"<([^<>\s]+\.(?:png|jpe?g|pdf))>")
RE_FONT = re.compile(r"\\(?:TU|T1|OT1)/([^/(]+)")
MONO_FONT = re.compile(r"mono|courier|cmtt|lmtt|tt\d", re.IGNORECASE)


@dataclass
class Overfull:
    """One overfull box: its direction, by how much, its .tex lines and its first text."""

    box: str  # "h" or "v"
    points: float
    lines: tuple[int, int] | None
    content: str = ""

    def fonts(self) -> list[str]:
        return RE_FONT.findall(self.content)


@dataclass
class LogReport:
    """What the checks need from a LaTeX log."""

    pages: int | None = None
    errors: list[str] = field(default_factory=list)
    undefined: list[str] = field(default_factory=list)
    missing_chars: list[str] = field(default_factory=list)
    overfull: list[Overfull] = field(default_factory=list)
    graphics: set[str] = field(default_factory=set)


def unwrap_log(text: str, width: int = TEX_LOG_WIDTH) -> list[str]:
    """The log's lines, with TeX's hard wrapping at ``width`` characters undone.

    TeX breaks every line of its log after max_print_line characters. If no line is longer
    than ``width`` (the log was wrapped), a line of exactly ``width`` characters is joined
    to the next; a log written with a larger max_print_line is returned as it is.
    """
    lines = text.splitlines()
    if any(len(line) > width for line in lines):
        return lines
    out: list[str] = []
    buf = ""
    for line in lines:
        buf += line
        if len(line) != width:
            out.append(buf)
            buf = ""
    if buf:
        out.append(buf)
    return out


def parse_log(text: str) -> LogReport:
    """Parse a XeLaTeX log (``text``) into a LogReport."""
    lines = unwrap_log(text)
    report = LogReport()
    for i, line in enumerate(lines):
        if line.startswith("! "):
            report.errors.append(line[2:].strip())
        m = RE_OUTPUT.match(line)
        if m:
            report.pages = int(m.group(1))
        for m in RE_UNDEFINED.finditer(line):
            report.undefined.append(f"{m.group(1).lower()} {m.group(2)}")
        if "There were undefined references" in line and not report.undefined:
            report.undefined.append("LaTeX: there were undefined references")
        m = RE_MISSING_CHAR.match(line)
        if m:
            report.missing_chars.append(f"{m.group(1)} (U+{m.group(2).upper()}) in {m.group(3)}")
        m = RE_OVERFULL.match(line)
        if m:
            nums = [g for g in m.groups()[2:] if g is not None]
            span = (int(nums[0]), int(nums[-1])) if nums else None
            content = lines[i + 1] if i + 1 < len(lines) else ""
            report.overfull.append(Overfull(m.group(1), float(m.group(2)), span, content))
        m = RE_GRAPHIC.match(line)
        if m:
            report.graphics.add(Path(m.group(1)).name)
        for m in RE_SHIPPED_IMAGE.finditer(line):
            report.graphics.add(Path(m.group(1)).name)
    return report


# --- the .tex ----------------------------------------------------------------------------------

RE_VERB_BEGIN = re.compile(r"\\begin\{(sphinxVerbatim\w*|Verbatim|sphinxalltt|verbatim)\}")
RE_INCLUDE = re.compile(
    r"\\(?:sphinxincludegraphics|includegraphics)(?:\[[^\]]*\])?\{(\{[^{}]+\}\.\w+|[^{}]+)\}")
RE_CITE_LINK = re.compile(r"\\hyperlink\{cite\.([^}]+)\}")
RE_BIBITEM = re.compile(r"\\bibitem(?:\[[^\]]*\])?\{([^}]+)\}")
RE_DOC_LABEL = re.compile(r"\\label\{\\detokenize\{([^}]+)::doc\}\}")


def verbatim_ranges(tex: str) -> list[tuple[int, int]]:
    """1-based (first, last) line numbers of every verbatim environment in ``tex``."""
    ranges = []
    start = None
    name = ""
    for n, line in enumerate(tex.splitlines(), start=1):
        if start is None:
            m = RE_VERB_BEGIN.search(line)
            if m:
                start, name = n, m.group(1)
        elif "\\end{" + name + "}" in line:
            ranges.append((start, n))
            start = None
    return ranges


def is_code(box: Overfull, ranges: list[tuple[int, int]]) -> bool:
    """An overfull box is code if its lines are in a verbatim block or its text is monospaced."""
    if box.lines is not None:
        first, last = box.lines
        if any(a <= first and last <= b for a, b in ranges):
            return True
    fonts = box.fonts()
    return bool(fonts) and MONO_FONT.search(fonts[0]) is not None


def tex_images(tex: str) -> set[str]:
    """File names (with extension) of the images the .tex includes."""
    return {Path(m.group(1).replace("{", "").replace("}", "")).name
            for m in RE_INCLUDE.finditer(tex)}


def undefined_citations(tex: str) -> list[str]:
    """Citation keys that a link points to but no \\bibitem defines."""
    defined = set(RE_BIBITEM.findall(tex))
    return sorted({k for k in RE_CITE_LINK.findall(tex) if k not in defined})


# --- the book's sources ----------------------------------------------------------------------

REMOVED_TAGS = {"remove-cell", "remove_cell", "remove-output", "remove_output"}
NO_INPUT_TAGS = {"remove-input", "remove_input"}
RE_MD_IMAGE = re.compile(r"!\[[^\]]*\]\(([^)\s]+)")
RE_MD_FIGURE = re.compile(r"^[`:]{3,}\{(?:figure|image)\}\s*(\S+)", re.MULTILINE)
RE_BIB_DIRECTIVE = re.compile(r"[`:]{3,}\{bibliography\}")
RE_BIB_ENTRY = re.compile(r"^@(?!comment|string|preamble)\w+\s*\{", re.IGNORECASE | re.MULTILINE)

# The page model (see the module docstring), fitted to this book's first build.
CHARS_PER_PAGE = 4000
LINES_PER_PAGE = 54
PAGES_PER_BOX = 0.025
FIGURE_INCHES_PER_PAGE = 7.5
PAGES_PER_BIB_ENTRY = 0.035
PAGES_PER_CHAPTER = 0.9
TEXT_WIDTH_IN = 6.7


def toc_docs(toc: dict) -> tuple[list[str], int]:
    """The docnames of a jb-book ``_toc.yml`` (root first) and its number of parts."""
    docs = [toc["root"]]

    def walk(entries: list[dict]) -> None:
        for entry in entries or []:
            if "file" in entry:
                docs.append(entry["file"])
            walk(entry.get("sections", []))

    parts = toc.get("parts", [])
    for part in parts:
        walk(part.get("chapters", []))
    walk(toc.get("chapters", []))
    return docs, len(parts)


def doc_source(root: Path, doc: str) -> Path | None:
    for suffix in (".ipynb", ".md", ".rst"):
        path = root / (doc + suffix)
        if path.exists():
            return path
    return None


def png_inches(data: bytes, default_dpi: float = 100.0) -> tuple[float, float] | None:
    """(width, height) in inches of a PNG, from its IHDR and pHYs chunks."""
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        return None
    width, height = struct.unpack(">II", data[16:24])
    dpi_x = dpi_y = default_dpi
    i = 8
    while i + 8 <= len(data):
        (length,) = struct.unpack(">I", data[i:i + 4])
        kind = data[i + 4:i + 8]
        if kind == b"pHYs":
            px, py, unit = struct.unpack(">IIB", data[i + 8:i + 17])
            if unit == 1 and px and py:
                dpi_x, dpi_y = px * 0.0254, py * 0.0254
        if kind in (b"IDAT", b"IEND"):
            break
        i += 12 + length
    return width / dpi_x, height / dpi_y


def set_height(size: tuple[float, float] | None) -> float:
    """The height (inches) of a figure as Sphinx sets it: natural size, at most the text width."""
    if size is None:
        return 3.0
    w, h = size
    return h * min(1.0, TEXT_WIDTH_IN / w) if w > 0 else h


@dataclass
class DocContent:
    """What one page of the book holds, for the figure check and the page estimate."""

    doc: str
    prose_chars: int = 0
    code_lines: int = 0
    boxes: int = 0
    figure_inches: float = 0.0
    bib_entries: int = 0
    images: list[tuple[str, str]] = field(default_factory=list)  # (where, file name)

    def pages(self) -> float:
        return (self.prose_chars / CHARS_PER_PAGE + self.code_lines / LINES_PER_PAGE
                + self.boxes * PAGES_PER_BOX + self.figure_inches / FIGURE_INCHES_PER_PAGE
                + self.bib_entries * PAGES_PER_BIB_ENTRY + PAGES_PER_CHAPTER)


def notebook_content(doc: str, nb: dict) -> DocContent:
    """Count a notebook's prose, code, outputs and images (as myst-nb names them)."""
    content = DocContent(doc)
    for index, cell in enumerate(nb.get("cells", [])):
        source = "".join(cell.get("source", []))
        tags = set(cell.get("metadata", {}).get("tags", []))
        if tags & {"remove-cell", "remove_cell"}:
            continue
        if cell.get("cell_type") == "markdown":
            content.prose_chars += len(source)
            continue
        if cell.get("cell_type") != "code":
            continue
        if not tags & NO_INPUT_TAGS:
            content.code_lines += len(source.splitlines())
            content.boxes += 1
        if tags & REMOVED_TAGS:
            continue
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            for mime, ext in (("application/pdf", ".pdf"), ("image/png", ".png"),
                              ("image/jpeg", ".jpeg")):
                if mime in data:
                    raw = base64.b64decode("".join(data[mime]))
                    name = hashlib.sha256(raw).hexdigest() + ext
                    content.images.append((f"{doc} cell {index}", name))
                    content.figure_inches += set_height(png_inches(raw))
                    break
            else:
                if "image/svg+xml" in data:
                    content.images.append((f"{doc} cell {index}", "(SVG only: not in a PDF)"))
                    continue
                text = output.get("text") or data.get("text/plain")
                if text:
                    content.code_lines += len("".join(text).splitlines())
                    content.boxes += 1
    return content


def markdown_content(doc: str, text: str, root: Path, bib_entries: int) -> DocContent:
    """Count a Markdown page's prose and the images it shows."""
    content = DocContent(doc, prose_chars=len(text))
    base = (root / doc).parent
    for target in RE_MD_IMAGE.findall(text) + RE_MD_FIGURE.findall(text):
        if "://" in target:
            continue
        path = base / target
        content.images.append((doc, Path(target).name))
        size = png_inches(path.read_bytes()) if path.is_file() else None
        content.figure_inches += set_height(size)
    if RE_BIB_DIRECTIVE.search(text):
        content.bib_entries = bib_entries
    return content


def book_content(root: Path, docs: list[str], bibfiles: list[str]) -> list[DocContent]:
    """The DocContent of every page listed in the toc (a missing source counts as empty)."""
    entries = sum(len(RE_BIB_ENTRY.findall((root / b).read_text(encoding="utf-8")))
                  for b in bibfiles if (root / b).is_file())
    out = []
    for doc in docs:
        path = doc_source(root, doc)
        if path is None:
            out.append(DocContent(doc))
        elif path.suffix == ".ipynb":
            out.append(notebook_content(doc, json.loads(path.read_text(encoding="utf-8"))))
        else:
            out.append(markdown_content(doc, path.read_text(encoding="utf-8"), root, entries))
    return out


def expected_pages(contents: list[DocContent], parts: int) -> float:
    """Estimated page count: the pages' content, a page per part, title and contents."""
    contents_pages = 1 + len(contents) / 8  # about 8 chapters with their sections per page
    return sum(c.pages() for c in contents) + parts + 1 + contents_pages


# --- the tools ------------------------------------------------------------------------------

TOOLS = ("xelatex", "xdvipdfmx", "latexmk", "xindy", "kpsewhich", "fc-list")
# LaTeX packages that Sphinx's output and lstmbook.sty load, from the four texlive-* packages
STYLES = ("fontspec.sty", "polyglossia.sty", "fncychap.sty", "tabulary.sty", "capt-of.sty",
          "needspace.sty", "wrapfig.sty", "framed.sty", "upquote.sty", "titlesec.sty")
FONTS = ("FreeSerif", "FreeSans", "DejaVu Sans Mono")  # _config.yml's latex_elements.fontpkg


def missing_tools() -> list[str]:
    """The programs, LaTeX packages and fonts of the PDF build that this machine lacks."""
    missing = [t for t in TOOLS if shutil.which(t) is None]
    if "kpsewhich" not in missing:
        for sty in STYLES:
            found = subprocess.run(["kpsewhich", sty], capture_output=True, text=True)
            if not found.stdout.strip():
                missing.append(sty)
    if "fc-list" not in missing:
        families = subprocess.run(["fc-list", ":", "family"], capture_output=True,
                                  text=True).stdout
        names = {n.strip() for line in families.splitlines() for n in line.split(",")}
        missing += [f"font {f}" for f in FONTS if f not in names]
    return missing


# --- the checks --------------------------------------------------------------------------------


def check(latex_dir: Path, name: str, root: Path, max_code_overfull: float,
          max_overfull: float, pages_low: float, pages_high: float) -> list[str]:
    """Run every check; return the failures (empty if the PDF passes) and print a summary."""
    failures: list[str] = []
    log_path, tex_path = latex_dir / f"{name}.log", latex_dir / f"{name}.tex"
    pdf_path = latex_dir / f"{name}.pdf"
    for path in (log_path, tex_path, pdf_path):
        if not path.is_file():
            return [f"{path} is missing: build the PDF first (make pdf)"]
    log = parse_log(log_path.read_text(encoding="utf-8", errors="replace"))
    tex = tex_path.read_text(encoding="utf-8")

    failures += [f"LaTeX error: {e}" for e in log.errors]
    failures += [f"undefined {u}" for u in log.undefined]
    failures += [f"undefined citation {k} (a link to it, no \\bibitem)"
                 for k in undefined_citations(tex)]
    failures += [f"missing glyph: {m}" for m in log.missing_chars]

    ranges = verbatim_ranges(tex)
    hboxes = [b for b in log.overfull if b.box == "h"]
    code = [b for b in hboxes if is_code(b, ranges)]
    for b in hboxes:
        limit = max_code_overfull if b in code else max_overfull
        if b.points > limit:
            where = f"lines {b.lines[0]}-{b.lines[1]}" if b.lines else "unknown lines"
            what = "code line" if b in code else "line"
            failures.append(f"{what} runs {b.points:.1f}pt off the text ({tex_path.name} "
                            f"{where}): {b.content.strip()[:100]}")

    toc = yaml.safe_load((root / "_toc.yml").read_text(encoding="utf-8"))
    docs, parts = toc_docs(toc)
    in_pdf = set(RE_DOC_LABEL.findall(tex))
    failures += [f"page {d} (in _toc.yml) is not in the PDF" for d in docs if d not in in_pdf]

    config = yaml.safe_load((root / "_config.yml").read_text(encoding="utf-8")) or {}
    contents = book_content(root, docs, config.get("bibtex_bibfiles", []))
    included = tex_images(tex)
    expected = [(where, f) for c in contents for where, f in c.images]
    for where, f in expected:
        if f not in included or f not in log.graphics:
            failures.append(f"figure missing from the PDF: {f} ({where})")

    estimate = expected_pages(contents, parts)
    if log.pages is None:
        failures.append("the log does not say how many pages were written")
    elif not pages_low * estimate <= log.pages <= pages_high * estimate:
        failures.append(f"{log.pages} pages, expected {pages_low * estimate:.0f} to "
                        f"{pages_high * estimate:.0f} (estimate {estimate:.0f} from "
                        f"{len(docs)} pages in _toc.yml)")

    vboxes = sum(1 for b in log.overfull if b.box == "v")
    print(f"check_pdf: {pdf_path}: {log.pages} pages (estimate {estimate:.0f} from "
          f"{len(docs)} pages in _toc.yml); figures {len(expected)} expected, "
          f"{len(included)} in the .tex; overfull hboxes {len(hboxes)} ({len(code)} in code), "
          f"overfull vboxes {vboxes} (not failed); undefined {len(log.undefined)}; "
          f"missing glyphs {len(log.missing_chars)}")
    return failures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--latex-dir", type=Path, default=Path("_build/latex"))
    parser.add_argument("--name", default="lstms-executed", help="the .tex/.log/.pdf stem")
    parser.add_argument("--root", type=Path, default=Path("."), help="holds _toc.yml")
    parser.add_argument("--max-code-overfull", type=float, default=5.0)
    parser.add_argument("--max-overfull", type=float, default=10.0)
    parser.add_argument("--pages-low", type=float, default=0.8)
    parser.add_argument("--pages-high", type=float, default=1.25)
    parser.add_argument("--find-tools", action="store_true",
                        help="only check that the build's tools, packages and fonts are here")
    args = parser.parse_args(argv)
    if args.find_tools:
        missing = missing_tools()
        if missing:
            print("check_pdf: missing for the PDF build: " + ", ".join(missing))
            return 1
        return 0
    failures = check(args.latex_dir, args.name, args.root, args.max_code_overfull,
                     args.max_overfull, args.pages_low, args.pages_high)
    for f in failures:
        print(f"FAIL {f}")
    if failures:
        print(f"check_pdf: {len(failures)} problem(s)")
        return 1
    print("check_pdf: OK")
    return 0


if __name__ == "__main__":
    sys.exit(main())
