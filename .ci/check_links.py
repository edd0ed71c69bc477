"""Follow every internal link of the built book and check that its target exists.

Usage: python .ci/check_links.py _build/html

For each <a href>, <img src>, <link href> and <script src> in every HTML page that points
inside the site (no scheme, no //host): the file must exist, and a #fragment must name an
element id (or <a name>) in the target page. External links (launch buttons, the repository)
are not followed: the book is read offline. Exits 1 and lists every broken link.
"""

from __future__ import annotations

import sys
from functools import cache
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit


class _Collector(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.links: list[str] = []
        self.ids: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        for key in ("id", "name") if tag == "a" else ("id",):
            if a.get(key):
                self.ids.add(a[key])  # type: ignore[arg-type]
        attr = {"a": "href", "link": "href", "img": "src", "script": "src"}.get(tag)
        if attr and a.get(attr):
            self.links.append(a[attr])  # type: ignore[arg-type]


@cache
def parse(path: Path) -> _Collector:
    c = _Collector()
    c.feed(path.read_text(encoding="utf-8", errors="replace"))
    return c


def broken_links(root: Path) -> tuple[int, list[str]]:
    """Return (number of internal links checked, descriptions of the broken ones)."""
    checked, broken = 0, []
    for page in sorted(root.rglob("*.html")):
        if "_static" in page.parts:
            continue
        for link in parse(page).links:
            parts = urlsplit(link)
            if parts.scheme or parts.netloc or link.startswith(("mailto:", "javascript:")):
                continue
            checked += 1
            target = page if not parts.path else (page.parent / unquote(parts.path)).resolve()
            if target.is_dir():
                target = target / "index.html"
            where = f"{page.relative_to(root)}: {link}"
            if not target.exists():
                broken.append(f"{where} -> missing file")
                continue
            if parts.fragment and target.suffix == ".html":
                if unquote(parts.fragment) not in parse(target).ids:
                    broken.append(f"{where} -> no anchor #{parts.fragment}")
    return checked, broken


def main(argv: list[str]) -> int:
    root = Path(argv[0] if argv else "_build/html")
    if not (root / "index.html").exists():
        print(f"{root}/index.html not found: build the book first (make book)", file=sys.stderr)
        return 2
    checked, broken = broken_links(root)
    for b in broken:
        print("BROKEN", b)
    print(f"{checked} internal links checked, {len(broken)} broken")
    return 1 if broken else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
