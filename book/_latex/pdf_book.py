"""A local Sphinx extension that gives the PDF (``make pdf``) the structure of a book.

It acts only in the LaTeX builder, on the single document that Sphinx assembles from the
root page and every page of the table of contents; the HTML is untouched. Without it the
PDF had no parts, the root page's sections became four chapters of their own, the contents
were titled after the first part, and the chapter numbers did not match the file names
that the prose cites ("Chapter 2" is ``02_lstm_cell``). It

- makes the root page one unnumbered chapter, the *Preface*, whose sections are the root
  page's sections;
- turns each captioned toctree of the root page (``_toc.yml``'s ``parts``) into an
  unnumbered LaTeX part, and the part captioned ``pdf_appendix_caption`` into the appendix;
- numbers each chapter after its file name: ``NN_name`` is Chapter NN, ``AN_name`` is
  Appendix AN (pages without such a prefix are numbered in sequence);
- numbers the exercises per chapter, as the HTML does per page ("Exercise 2.1", not the
  book-wide "Exercise 7"), and their solutions' titles with them;
- leaves a chapter's sections unnumbered when their titles carry numbers of their own
  ("1. The missing candidate" in the errata), instead of "A2.1 1. The missing candidate";
- leaves out the first code cell of each chapter that only installs ``lstm_lib`` on Colab
  (CONTRIBUTING.md's ``if "google.colab" in sys.modules:`` cell, which prints nothing): a
  reader of the PDF runs nothing, and the preface says how to install;
- moves the bibliography from the end of the book to the page that holds the
  ``{bibliography}`` directive (the References appendix), without a chapter of its own.

The LaTeX macros it emits (``\\lstmbookpreface``, ``\\lstmbookpart``, ...) are defined in
``book/_latex/lstmbook.sty``.
"""

from __future__ import annotations

import posixpath
import re
from typing import Any

from docutils import nodes
from sphinx import addnodes
from sphinx.builders.latex.nodes import thebibliography
from sphinx.transforms.post_transforms import SphinxPostTransform
from sphinx.util import logging

logger = logging.getLogger(__name__)

CHAPTER_FILE = re.compile(r"^(\d+)_")
APPENDIX_FILE = re.compile(r"^A(\d+)_")
NUMBERED_TITLE = re.compile(r"^\d+[.)]\s")
EXERCISE_NUMBER = re.compile(r"(Exercise\s+)\d+")
COLAB_MARKER = '"google.colab" in sys.modules'


def _raw(tex: str) -> nodes.raw:
    return nodes.raw("", "\n" + tex + "\n", format="latex")


def _tex_escape(text: str) -> str:
    """Escape the characters that LaTeX treats specially in a part caption."""
    table = {"\\": r"\textbackslash{}", "{": r"\{", "}": r"\}", "#": r"\#", "$": r"\$",
             "%": r"\%", "&": r"\&", "_": r"\_", "^": r"\^{}", "~": r"\~{}"}
    return "".join(table.get(ch, ch) for ch in text)


def chapter_number(docname: str) -> tuple[str, int] | None:
    """The numbering a page's file name asks for.

    ``"book/02_lstm_cell"`` -> ``("chapter", 2)``; ``"book/A3_keras"`` -> ``("appendix", 3)``;
    a name without such a prefix -> ``None``.
    """
    base = posixpath.basename(docname)
    match = APPENDIX_FILE.match(base)
    if match:
        return ("appendix", int(match.group(1)))
    match = CHAPTER_FILE.match(base)
    if match:
        return ("chapter", int(match.group(1)))
    return None


def _renumber_title(node: nodes.Element, number: str) -> None:
    """Replace the number after "Exercise" in the title of an exercise or a solution."""
    title = node.children[0] if node.children else None
    if not isinstance(title, nodes.title):
        return
    for text in list(title.findall(nodes.Text)):
        new = EXERCISE_NUMBER.sub(lambda m: m.group(1) + number, str(text), count=1)
        if new != str(text):
            text.parent.replace(text, nodes.Text(new))
            return


def _is_toctree_wrapper(node: nodes.Node) -> bool:
    return isinstance(node, nodes.compound) and "toctree-wrapper" in node.get("classes", [])


class BookStructure(SphinxPostTransform):
    """Rearrange the assembled LaTeX document into preface, parts, chapters, appendix."""

    # After Sphinx's BibliographyTransform (750), which gathers the citations at the end.
    default_priority = 800
    builders = ("latex",)

    def run(self, **kwargs: Any) -> None:
        root = self.config.root_doc
        if self.document.get("docname") != root:
            return
        if next(iter(self.document.findall(addnodes.start_of_file)), None) is None:
            return  # not the assembled book
        top = next((n for n in self.document.children if isinstance(n, nodes.section)), None)
        if top is None:
            return
        captions = [t.get("caption") for t in self.env.get_doctree(root).findall(addnodes.toctree)]
        self._move_bibliography()
        self._drop_colab_cells()
        self._restructure(top, captions)

    def _restructure(self, top: nodes.section, captions: list[str | None]) -> None:
        title, preface_body, wrappers = None, [], []
        for child in top.children:
            if isinstance(child, nodes.title) and title is None:
                title = child
            elif _is_toctree_wrapper(child):
                wrappers.append(child)
            else:
                preface_body.append(child)
        if len(wrappers) != len(captions):
            logger.warning("pdf_book: %d toctrees in %s but %d in the assembled book; "
                           "parts not made", len(captions), self.config.root_doc, len(wrappers))
            return

        preface = nodes.section("", nodes.title("", self.config.pdf_preface_title),
                                ids=["pdf-book-preface"])
        preface.extend(preface_body)
        new_children: list[nodes.Node] = [title] if title is not None else []
        new_children += [_raw(r"\lstmbookpreface"), preface, _raw(r"\lstmbookmainmatter")]
        for wrapper, caption in zip(wrappers, captions):
            if caption and caption == self.config.pdf_appendix_caption:
                new_children.append(_raw(r"\lstmbookappendix"))
            if caption:
                new_children.append(_raw(r"\lstmbookpart{" + _tex_escape(caption) + "}"))
            for sof in [n for n in wrapper.children if isinstance(n, addnodes.start_of_file)]:
                self._number_chapter(wrapper, sof)
            new_children.append(wrapper)
        top.children = []
        top.extend(new_children)

    def _number_chapter(self, wrapper: nodes.Element, sof: addnodes.start_of_file) -> None:
        """Set a chapter's number from its file name, and number its exercises with it."""
        number = chapter_number(sof.get("docname", ""))
        if number is not None:
            kind, n = number
            wrapper.insert(wrapper.index(sof), _raw(r"\setcounter{chapter}{" + str(n - 1) + "}"))
            self._number_exercises(sof, f"A{n}" if kind == "appendix" else str(n))
        chapter = next((c for c in sof.children if isinstance(c, nodes.section)), None)
        sections = [c for c in chapter.children if isinstance(c, nodes.section)] if chapter else []
        if sections and all(NUMBERED_TITLE.match(s[0].astext()) for s in sections):
            wrapper.insert(wrapper.index(sof), _raw(r"\lstmbooksectionsunnumbered"))
            wrapper.insert(wrapper.index(sof) + 1, _raw(r"\lstmbooksectionsnumbered"))

    def _number_exercises(self, sof: addnodes.start_of_file, chapter: str) -> None:
        try:
            from sphinx_exercise.nodes import exercise_enumerable_node, solution_node
        except ImportError:
            return
        new_numbers: dict[str, str] = {}
        for k, node in enumerate(sof.findall(exercise_enumerable_node), start=1):
            new_numbers[node.get("label")] = f"{chapter}.{k}"
            _renumber_title(node, f"{chapter}.{k}")
        for node in sof.findall(solution_node):
            if node.get("target_label") in new_numbers:
                _renumber_title(node, new_numbers[node["target_label"]])

    def _drop_colab_cells(self) -> None:
        for cell in list(self.document.findall(nodes.container)):
            if "cell" not in cell.get("classes", []) or cell.parent is None:
                continue
            code = "".join(b.astext() for b in cell.findall(nodes.literal_block))
            has_output = any("cell_output" in c.get("classes", [])
                             for c in cell.findall(nodes.container))
            if COLAB_MARKER in code and not has_output:
                cell.parent.remove(cell)

    def _move_bibliography(self) -> None:
        bibs = list(self.document.findall(thebibliography))
        if not bibs:
            return
        citations = [c for bib in bibs for c in bib.findall(nodes.citation)]
        home = citations[0].get("docname") if citations else None
        target = None
        for sof in self.document.findall(addnodes.start_of_file):
            if sof.get("docname") == home:
                target = next((n for n in sof.children if isinstance(n, nodes.section)), None)
                break
        if target is None:
            return  # keep Sphinx's bibliography chapter at the end
        for bib in bibs:
            bib.parent.remove(bib)
            target.append(bib)


def add_repository_to_preamble(app: Any, config: Any) -> None:
    """config-inited: define ``\\lstmbookrepository`` (the title page's link to the source).

    The URL is the one ``_config.yml`` gives once, under ``repository: url``, which Jupyter
    Book hands to the theme as ``html_theme_options["repository_url"]``.
    """
    url = (config.html_theme_options or {}).get("repository_url")
    if not url:
        return
    elements = dict(config.latex_elements or {})
    define = r"\newcommand{\lstmbookrepository}{\url{" + url + "}}" + "\n"
    elements["preamble"] = define + elements.get("preamble", "")
    config.latex_elements = elements


def setup(app: Any) -> dict:
    """Register the transform, its two settings and the title page's repository link."""
    app.add_config_value("pdf_preface_title", "Preface", "env")
    app.add_config_value("pdf_appendix_caption", "Appendices", "env")
    app.add_post_transform(BookStructure)
    app.connect("config-inited", add_repository_to_preamble)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
