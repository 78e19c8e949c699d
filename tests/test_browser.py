"""The built book in a real browser, offline: headless Chromium opens every page of ``_build/html``
from ``file://`` and checks that the math is typeset, every image loads, nothing is logged as an
error and no request leaves the machine. A screenshot of each page (light and dark theme) goes to
``_build/screenshots/``.

``make test`` builds the book and installs Debian's ``chromium`` first; this test fails (it does not
skip) when either is missing. ``BOOK_HTML`` and ``CHROMIUM`` override the two paths.
"""
from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from PIL import Image
from playwright.sync_api import Error as PlaywrightError, sync_playwright

ROOT = Path(__file__).resolve().parents[1]
HTML = Path(os.environ.get("BOOK_HTML", ROOT / "_build" / "html"))
SHOTS = HTML.parent / "screenshots"
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
# --headless is added by Playwright itself (headless=True).
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
         "--disable-sync", "--no-first-run", "--disable-default-apps", "--disable-extensions"]
REFRESH = re.compile(r"""<meta http-equiv="Refresh" content="0; url=([^"]+)"\s*/?>""", re.I)
LOCAL = ("file:", "data:", "about:", "blob:")
PAGES = sorted(p for p in HTML.rglob("*.html")
               if not {"_static", "_sources", "_images"} & set(p.relative_to(HTML).parts)) if HTML.is_dir() else []

# Visible text outside code, scripts and typeset math; raw TeX left here means MathJax did not run.
VISIBLE_TEXT_JS = """() => {
  const root = document.querySelector('main') || document.body;
  const copy = root.cloneNode(true);
  copy.querySelectorAll('pre, code, script, style, mjx-container, .highlight').forEach(e => e.remove());
  return copy.textContent;
}"""
IMAGES_JS = """async () => {
  const imgs = Array.from(document.images);
  imgs.forEach(img => { img.loading = 'eager'; });
  await Promise.all(imgs.map(img => img.complete ? null :
    new Promise(r => { img.addEventListener('load', r); img.addEventListener('error', r); })));
  return imgs.map(img => ({src: img.getAttribute('src'), width: img.naturalWidth}));
}"""
MATHJAX_JS = """async () => {
  if (!window.MathJax || !MathJax.startup) return null;
  await MathJax.startup.promise;
  return {
    math: document.querySelectorAll('.math').length,
    typeset: document.querySelectorAll('.math mjx-container, mjx-container.MathJax').length,
    untypeset: Array.from(document.querySelectorAll('.math')).filter(
      e => !e.querySelector('mjx-container')).map(e => e.textContent.slice(0, 80)),
    errors: Array.from(document.querySelectorAll('mjx-merror')).map(e => e.textContent.slice(0, 80)),
  };
}"""


def test_build_and_browser_exist():
    assert HTML.joinpath("index.html").exists(), f"no built book at {HTML}: run `make book` first"
    assert PAGES, f"no pages under {HTML}"
    assert Path(CHROMIUM).exists(), f"{CHROMIUM} missing: `apt-get install chromium` (make test does it)"


def test_no_remote_sources_in_html():
    """No page or stylesheet refers to a script, stylesheet, font or image on another host."""
    remote = re.compile(r"""(?:<script[^>]*\ssrc|<link[^>]*\shref|<img[^>]*\ssrc)=["'](?:https?:)?//""", re.I)
    css_remote = re.compile(r"""url\(\s*["']?(?:https?:)?//""", re.I)
    assert PAGES
    bad = [f"{p.relative_to(HTML)}: {m.group(0)}" for p in PAGES for m in remote.finditer(p.read_text())]
    inline = re.compile(r"<script(?![^>]*\ssrc=)[^>]*>(.*?)</script>", re.I | re.S)
    bad += [f"{p.relative_to(HTML)}: inline script names {url}" for p in PAGES
            for body in inline.findall(p.read_text()) for url in re.findall(r"https?://[^\s\"'`]+", body)]
    bad += [f"{c.relative_to(HTML)}: {m.group(0)}" for c in (HTML / "_static").rglob("*.css")
            for m in css_remote.finditer(c.read_text(errors="replace"))]
    assert not bad, "remote sources:\n" + "\n".join(bad)
    assert (HTML / "_static" / "mathjax" / "tex-chtml.js").exists(), "MathJax is not served locally"


def test_every_chapter_offers_its_notebook():
    """The download menu of each chapter links the executed notebook, and the file is there."""
    chapters = [p for p in PAGES if re.fullmatch(r"\d\d_.*\.html", p.name)]
    assert chapters
    for page in chapters:
        link = f"_sources/chapters/{page.stem}.ipynb"
        assert link in page.read_text(), f"{page.name} has no .ipynb download"
        assert (HTML / link).is_file(), f"{link} missing"


def test_figures_opaque_for_dark_mode():
    """Figures carry their own opaque background, so they read the same in the light and dark theme."""
    images = sorted((HTML / "_images").glob("*.png"))
    assert images, "the book has no figures"
    for png in images:
        with Image.open(png) as im:
            if im.mode in ("RGBA", "LA") or "transparency" in im.info:
                alpha = im.convert("RGBA").getchannel("A")
                assert alpha.getextrema() == (255, 255), f"{png.name} has transparent pixels"


@pytest.fixture(scope="module")
def browser():
    assert Path(CHROMIUM).exists(), f"{CHROMIUM} missing"
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=FLAGS)
        yield b
        b.close()


@pytest.mark.parametrize("page_path", PAGES, ids=lambda p: str(p.relative_to(HTML)))
def test_page_in_browser(browser, page_path: Path):
    context = browser.new_context(viewport={"width": 1280, "height": 900}, service_workers="block")
    remote: list[str] = []
    errors: list[str] = []

    def route(r):
        if r.request.url.startswith(LOCAL):
            r.continue_()
        else:
            remote.append(r.request.url)
            r.abort()

    context.route("**/*", route)
    page = context.new_page()
    page.on("request", lambda req: None if req.url.startswith(LOCAL) else remote.append(req.url))
    page.on("websocket", lambda ws: remote.append(ws.url))
    page.on("console", lambda msg: errors.append(f"console {msg.type}: {msg.text}") if msg.type == "error" else None)
    page.on("pageerror", lambda exc: errors.append(f"page error: {exc}"))
    page.on("requestfailed", lambda req: errors.append(f"failed: {req.url} ({req.failure})")
            if req.url.startswith(LOCAL) else None)
    try:
        redirect = REFRESH.search(page_path.read_text())
        if redirect:  # index.html sends the reader to the first page: check that page arrives
            target = (page_path.parent / redirect.group(1)).resolve()
            assert target.exists(), f"redirect to a missing page {redirect.group(1)}"
            try:
                page.goto(page_path.as_uri(), wait_until="commit")
            except PlaywrightError as err:
                if "interrupted by another navigation" not in str(err):
                    raise
            page.wait_for_url(target.as_uri())
            page.wait_for_load_state("load")
        else:
            page.goto(page_path.as_uri(), wait_until="load")
        math = page.evaluate(MATHJAX_JS)
        images = page.evaluate(IMAGES_JS)
        text = page.evaluate(VISIBLE_TEXT_JS)
        page.wait_for_timeout(200)  # let late console messages arrive

        name = str(page_path.relative_to(HTML).with_suffix("")).replace(os.sep, "__")
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)
        page.evaluate("() => { document.documentElement.dataset.theme = 'dark';"
                      " document.documentElement.dataset.mode = 'dark'; }")
        page.screenshot(path=str(SHOTS / f"{name}-dark.png"), full_page=True)
    finally:
        context.close()

    assert not remote, f"requests to other hosts: {sorted(set(remote))}"
    assert not errors, "\n".join(errors)
    broken = [img["src"] for img in images if img["width"] == 0]
    assert not broken, f"images that did not load: {broken}"
    if math is not None:
        assert not math["untypeset"], f"math left untypeset: {math['untypeset']}"
        assert not math["errors"], f"MathJax errors: {math['errors']}"
        assert math["typeset"] >= math["math"]
    else:
        assert "class=\"math" not in page_path.read_text(), "page has math but MathJax did not load"
    assert "<Figure size" not in text, "a figure was rendered as text, not as an image"
    for delim in ("$$", "\\(", "\\)", "\\[", "\\]", "\\begin{"):
        assert delim not in text, f"raw TeX {delim!r} in the rendered text"
