"""Load every page of the built book in headless Chromium and check what a reader sees.

Usage: python .ci/site_test.py _build/html
       python .ci/site_test.py --find-browser   (prints the browser it would use; exit 1 if none)

The browser is the first real one found: $BOOK_BROWSER if set, else Debian's chromium, else
Google Chrome (GitHub's ubuntu runners have Chrome; their `chromium` is a snap stub that does
not run there). It says which one it used.

Serves the site on 127.0.0.1 and blocks every other request (the book must work offline).
Per page it checks: the browser title carries the page's heading; no raw TeX (\\[, $$,
\\begin) is visible outside code (math was typeset); every image loaded (naturalWidth > 0)
and has alt text that says something (not missing, empty, or a file name such as
`../_images/<hash>.png`, which is what myst-nb writes when a cell has no `mystnb.image.alt`);
no console error, page error, failed request or request leaving the machine; the sidebar
links every page of the book. Then the search page must find "forget gate". A screenshot of
each page goes to _build/screenshots/. Exits 1 on any failure, listing them all.
"""

from __future__ import annotations

import functools
import http.server
import os
import re
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit

from playwright.sync_api import sync_playwright

BROWSERS = ["/usr/bin/chromium", "/usr/bin/google-chrome", "/usr/bin/google-chrome-stable",
            "/opt/google/chrome/chrome", "chrome"]
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
SKIP = {"genindex.html", "search.html", "py-modindex.html"}

VISIBLE_TEXT_JS = """() => {
  const body = document.querySelector('main') || document.body;
  const clone = body.cloneNode(true);
  clone.querySelectorAll('pre, code, script, style, mjx-container, .MathJax, textarea')
       .forEach(e => e.remove());
  return clone.textContent;
}"""

IMAGES_JS = """async () => {
  const imgs = Array.from(document.images);
  imgs.forEach(i => { i.loading = 'eager'; });
  await Promise.all(imgs.map(i => i.complete ? null :
      new Promise(r => { i.onload = i.onerror = r; })));
  return imgs.map(i => [i.getAttribute('src'), i.naturalWidth, i.getAttribute('alt')]);
}"""

MATHJAX_JS = """async () => {
  if (!window.MathJax) return 'no MathJax';
  if (MathJax.startup && MathJax.startup.promise) { await MathJax.startup.promise; }
  return 'ok';
}"""


IMAGE_FILE = re.compile(r"\.(png|jpe?g|gif|svg|webp)$", re.IGNORECASE)
HASH_LIKE = re.compile(r"^[0-9a-f]{16,}$", re.IGNORECASE)


def alt_problem(src: str | None, alt: str | None) -> str | None:
    """What is wrong with an <img>'s alt text, or None if it says something.

    ``alt`` is ``getAttribute('alt')``: None when the attribute is missing. A file name or
    path (``../_images/3f2a....png``), a bare hex hash, or the image's own ``src`` is not a
    description: myst-nb writes exactly that when a cell has no ``mystnb.image.alt``.
    """
    if alt is None:
        return f"image without alt attribute: {src}"
    text = alt.strip()
    if not text:
        return f"image with empty alt text: {src}"
    last = text.replace("\\", "/").rsplit("/", 1)[-1]
    stem = IMAGE_FILE.sub("", last)
    if (text == (src or "").strip() or IMAGE_FILE.search(text) or "/_images/" in text
            or HASH_LIKE.match(stem)):
        return f"image alt text is a file name, not a description: alt={alt!r} ({src})"
    return None


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args: object) -> None:
        pass


def serve(root: Path) -> tuple[http.server.ThreadingHTTPServer, str]:
    handler = functools.partial(_Quiet, directory=str(root))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}"


def pages(root: Path) -> list[str]:
    """Every page of the book, relative to ``root``; redirect stubs (the top index.html
    Jupyter Book writes) are left out: the page they point to is checked instead."""
    found = []
    for p in root.rglob("*.html"):
        if {"_static", "_sources", "_images"} & set(p.parts) or p.name in SKIP:
            continue
        if 'http-equiv="Refresh"' in p.read_text(encoding="utf-8", errors="replace")[:500]:
            continue
        found.append(p.relative_to(root).as_posix())
    return sorted(found)


def check_page(page, base: str, rel: str, all_pages: list[str], shots: Path) -> list[str]:
    problems: list[str] = []
    console: list[str] = []
    page.on("console", lambda m: console.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: console.append(f"page error: {e}"))
    page.on("requestfailed", lambda r: console.append(f"request failed: {r.url}"))
    page.goto(f"{base}/{rel}", wait_until="load")
    status = page.evaluate(MATHJAX_JS)
    h1 = page.locator("main h1").first
    heading = h1.inner_text().strip().rstrip("#").strip() if h1.count() else ""
    title = page.title()
    if not heading:
        problems.append("no <h1> heading")
    elif heading not in title:
        problems.append(f"title {title!r} does not carry the heading {heading!r}")
    text = page.evaluate(VISIBLE_TEXT_JS)
    for raw in ("\\[", "\\(", "$$", "\\begin{", "\\frac"):
        if raw in text:
            problems.append(f"raw TeX {raw!r} visible (math not typeset; MathJax: {status})")
    for src, width, alt in page.evaluate(IMAGES_JS):
        if not width:
            problems.append(f"image not loaded: {src}")
        if (why := alt_problem(src, alt)) is not None:
            problems.append(why)
    hrefs = page.eval_on_selector_all("nav.bd-docs-nav a", "els => els.map(e => e.href)")
    linked = {urlsplit(h).path.lstrip("/") for h in hrefs if h.startswith(base)}
    for other in all_pages:
        if other != rel and other not in linked:
            problems.append(f"sidebar has no link to {other}")
    page.wait_for_timeout(100)
    problems += [f"console: {m}" for m in console]
    page.screenshot(path=str(shots / (rel.replace("/", "__").removesuffix(".html") + ".png")),
                    full_page=True)
    return problems


def browser_version(path: str) -> str | None:
    """The browser's own `--version` line, or None if it does not run (a snap stub, say)."""
    try:
        done = subprocess.run([path, "--version"], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return None
    line = done.stdout.strip()
    return line if done.returncode == 0 and line and "snap" not in line.lower() else None


def find_browser() -> tuple[str, str] | None:
    """(path, version) of the first Chromium-family browser here that really runs."""
    candidates = [os.environ["BOOK_BROWSER"]] if os.environ.get("BOOK_BROWSER") else BROWSERS
    for name in candidates:
        path = shutil.which(name)
        version = browser_version(path) if path else None
        if path and version:
            return path, version
    return None


def main(argv: list[str]) -> int:
    found = find_browser()
    if argv[:1] == ["--find-browser"]:
        print(f"{found[1]} ({found[0]})" if found else "no browser found")
        return 0 if found else 1
    root = Path(argv[0] if argv else "_build/html").resolve()
    if not (root / "index.html").exists():
        print(f"{root}/index.html not found: build the book first (make book)", file=sys.stderr)
        return 2
    if found is None:
        print(f"no browser found among {BROWSERS}: apt-get install chromium "
              "(make site-checks does)", file=sys.stderr)
        return 2
    executable, version = found
    print(f"browser: {version} ({executable})")
    shots = root.parent / "screenshots"
    shots.mkdir(exist_ok=True)
    server, base = serve(root)
    all_pages = pages(root)
    failures: dict[str, list[str]] = {}
    start = time.perf_counter()
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=executable, args=ARGS)
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        outside: list[str] = []

        def only_local(route) -> None:
            if route.request.url.startswith(base):
                route.continue_()
            else:
                outside.append(route.request.url)
                route.abort()

        context.route("**/*", only_local)
        for rel in all_pages:
            page = context.new_page()
            problems = check_page(page, base, rel, all_pages, shots)
            page.close()
            if outside:
                problems += [f"request leaves the machine: {u}" for u in outside]
                outside.clear()
            print(f"{'ok  ' if not problems else 'FAIL'} {rel}")
            if problems:
                failures[rel] = problems
        page = context.new_page()
        page.goto(f"{base}/search.html?q=forget+gate", wait_until="load")
        try:
            page.wait_for_selector("#search-results ul.search li", timeout=15000)
            hits = page.locator("#search-results ul.search li").count()
        except Exception:  # noqa: BLE001 - report below
            hits = 0
        print(f"{'ok  ' if hits else 'FAIL'} search for 'forget gate': {hits} pages found")
        if not hits:
            failures["search.html"] = ["search for 'forget gate' found nothing"]
        browser.close()
    server.shutdown()
    for rel, problems in failures.items():
        for prob in problems:
            print(f"  {rel}: {prob}")
    print(f"{len(all_pages)} pages checked in {time.perf_counter() - start:.0f} s, "
          f"{len(failures)} with problems; screenshots in {shots}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
