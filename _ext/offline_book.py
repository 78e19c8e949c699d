"""Book-wide HTML adjustments for reading offline, from ``file://``.

* Each executed chapter is offered as a ``.ipynb`` download. sphinx-book-theme copies the executed
  notebook of a MyST-markdown page next to the page sources only when a launch service (Binder,
  JupyterHub, Colab, Thebe) is configured; none of them works offline, so the book configures none
  and this extension does the copy itself.
* The jupyter-cache of executed chapters is keyed by the chapters' code only. A cache made with
  other ``dynform`` sources (its stamp, :data:`dynform.book.execute.SOURCE_STAMP`, differs) is
  emptied before the build reads it, so cached outputs never hide a change to the package; a build
  that executed chapters itself stamps the cache when it succeeds.
* sphinx-thebe (always loaded by Jupyter Book) puts a remote script address and its loader into
  every page, twice; with no launch service it can never run, so its script and stylesheet are
  removed from the pages.
"""
from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from sphinx.application import Sphinx


def add_notebook_download(app: Sphinx, pagename: str, templatename: str, context: dict[str, Any], doctree: Any) -> None:
    """Copy ``jupyter_execute/<page>.ipynb`` into ``_sources`` and point the download menu at it."""
    if "kernelspec" not in app.env.metadata.get(pagename, {}):
        return
    executed = Path(app.outdir).parent / "jupyter_execute" / f"{pagename}.ipynb"
    if not executed.exists():
        return
    target = Path(app.outdir) / "_sources" / f"{pagename}.ipynb"
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy2(executed, target)
    context["ipynb_source"] = f"{pagename}.ipynb"


def _is_thebe(asset: Any) -> bool:
    name = getattr(asset, "filename", None) or str(asset)
    body = (getattr(asset, "attributes", None) or {}).get("body", "")
    return "thebe" in name or "THEBE_JS_URL" in body


def drop_thebe_assets(app: Sphinx, pagename: str, templatename: str, context: dict[str, Any], doctree: Any) -> None:
    """Remove sphinx-thebe's scripts and stylesheet from the page."""
    for key in ("script_files", "css_files"):
        if context.get(key):
            context[key] = [asset for asset in context[key] if not _is_thebe(asset)]


def _cache_stamp(app: Sphinx) -> Path | None:
    path = app.config.nb_execution_cache_path
    if app.config.nb_execution_mode != "cache" or not path:
        return None
    from dynform.book.execute import SOURCE_STAMP

    return Path(app.srcdir) / path / SOURCE_STAMP


def empty_stale_cache(app: Sphinx) -> None:
    """Remove the chapter cache if it was made with other ``dynform`` sources."""
    stamp = _cache_stamp(app)
    if stamp is None:
        return
    from dynform.runcache import source_hash

    app.dynform_source = source_hash()
    if stamp.parent.exists() and (not stamp.exists() or stamp.read_text() != app.dynform_source):
        shutil.rmtree(stamp.parent)


def stamp_cache(app: Sphinx, exception: Exception | None) -> None:
    """After a successful build, name the sources its cached chapters ran against."""
    stamp = _cache_stamp(app)
    if exception is None and stamp is not None and stamp.parent.exists():
        stamp.write_text(app.dynform_source)


def setup(app: Sphinx) -> dict[str, Any]:
    app.connect("builder-inited", empty_stale_cache)
    app.connect("build-finished", stamp_cache)
    app.connect("html-page-context", add_notebook_download, priority=500)  # before the theme's buttons (501)
    app.connect("html-page-context", drop_thebe_assets, priority=900)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
