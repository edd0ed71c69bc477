"""A local Sphinx extension: drop <script> entries that were registered twice.

Jupyter Book 1.0.4 registers sphinx-thebe's inline configuration twice, so every page
declared ``const THEBE_JS_URL`` twice and the browser logged "SyntaxError: Identifier
'THEBE_JS_URL' has already been declared" (the site test, ``make test-site``, found it).
Keeping the first of identical entries removes the error and changes nothing else.
"""

from __future__ import annotations

from typing import Any


def _key(js: Any) -> tuple:
    attrs = getattr(js, "attributes", {}) or {}
    name = getattr(js, "filename", None) or ""  # an inline script may carry "" or None
    return (name, tuple(sorted((k, str(v)) for k, v in attrs.items())))


def drop_duplicate_scripts(app: Any, pagename: str, templatename: str, context: dict,
                           doctree: Any) -> None:
    """html-page-context handler: keep the first of each identical script entry."""
    scripts = context.get("script_files")
    if not scripts:
        return
    seen: set[tuple] = set()
    unique = []
    for js in scripts:
        key = _key(js)
        if key not in seen:
            seen.add(key)
            unique.append(js)
    context["script_files"] = unique


def setup(app: Any) -> dict:
    app.connect("html-page-context", drop_duplicate_scripts, priority=900)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
