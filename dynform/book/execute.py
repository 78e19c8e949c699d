"""Execute every chapter once, on all cores, before the book is built; the build and the notebook
checks then read that one execution.

``python -m dynform.book.execute`` reads each chapter of ``_toc.yml`` that has code (its MyST
markdown, through jupytext), executes them ``--jobs`` at a time with nbclient, each in its own
kernel, and writes

* ``_build/executed/<chapter>.ipynb``: the executed notebooks, which ``chapters/conftest.py`` hands
  to nbval in place of a second execution (``DYNFORM_EXECUTED``);
* the same notebooks into the jupyter-cache of the book (``execute.cache`` of ``_config.yml``),
  where myst-nb finds them by the hash of their code cells, so ``jupyter-book build`` executes
  nothing; with them the execution time of each chapter, which the execution-statistics page and the
  benchmark chapter show;
* ``SOURCE_STAMP`` in that cache: the hash of the ``dynform`` sources the chapters ran against.
  ``_ext/offline_book.py`` empties a cache whose stamp no longer matches, so a change to ``dynform``
  is never hidden behind cached outputs.

Sphinx cannot read the chapters in parallel (``sphinx_multitoc_numbering`` is not parallel-safe),
and jupyter-cache's own parallel executor runs in an order of its choosing; this module runs the
chapters in the order :data:`AFTER` allows, so that a chapter that reuses runs (the ledger, through
the run cache of :mod:`dynform.runcache`) or reports times (the benchmark and the execution
statistics) starts after the chapters it reads.
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from pathlib import Path
from typing import Iterable, Sequence

from ..runcache import source_hash

#: Where the executed notebooks go, relative to the repository root.
EXECUTED = Path("_build/executed")
#: The jupyter-cache of the book (``execute.cache`` in ``_config.yml``).
CACHE = Path("_build/.jupyter_cache")
#: The file in the cache that names the ``dynform`` sources it was made with.
SOURCE_STAMP = "dynform-source.sha256"
#: Chapters that start only after others have finished: name -> the names it waits for (``*``: all).
AFTER: dict[str, tuple[str, ...]] = {
    # the findings of the setup search (dynform.note.findings) are computed once, by the readings
    # chapter, and read from the run cache by every chapter that states them
    "intro": ("10_readings",),
    "02_spiral": ("10_readings",),
    "03_center": ("10_readings",),
    "07_seeds": ("10_readings",),
    "06_ledger": ("02_spiral", "03_center", "10_readings"),
    "09_sensitivity": ("02_spiral",),
    "08_benchmark": ("*",),
    "execution": ("*",),
}
#: The longest chapters, started first so that the shorter ones fill the other cores around them.
FIRST = ("10_readings", "04_irregular")


def toc_chapters(root: Path = Path(".")) -> list[Path]:
    """The chapters of ``_toc.yml`` (root first, in reading order) that are notebooks with code."""
    import yaml

    toc = yaml.safe_load((root / "_toc.yml").read_text())
    files = [toc["root"]] + [c["file"] for part in toc.get("parts", []) for c in part.get("chapters", [])]
    out = []
    for name in files:
        path = root / f"{name}.md"
        text = path.read_text()
        if text.startswith("---\njupytext:") and "```{code-cell}" in text:
            out.append(path)
    return out


def schedule(names: Sequence[str], after: dict[str, tuple[str, ...]] = AFTER,
             first: Sequence[str] = FIRST) -> list[tuple[str, set[str]]]:
    """Each name with the names it waits for (only those present), ``first`` ones first, the others
    in the order given."""
    names = [n for n in first if n in names] + [n for n in names if n not in first]
    present = set(names)
    everyone = {n for n in names if "*" not in after.get(n, ())}  # what "*" waits for
    out = []
    for name in names:
        wanted = after.get(name, ())
        deps = everyone - {name} if "*" in wanted else {d for d in wanted if d in present}
        out.append((name, deps))
    return out


def _execute(path: str, timeout: int) -> tuple[str, float, str | None]:
    """Execute one chapter in a fresh kernel, with the chapter's folder as working directory; returns
    the executed notebook (JSON), its wall time and, if a cell failed, the error.

    The kernel talks over Unix sockets in a folder of its own (``transport="ipc"``), not TCP: kernels
    started at once on TCP pick free ports independently and can collide ("Address already in use")."""
    import tempfile

    import jupytext
    import nbformat
    from jupyter_client import KernelManager
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError

    nb = jupytext.read(path)
    start = time.perf_counter()
    error = None
    with tempfile.TemporaryDirectory(prefix="dynform-kernel-") as sockets:
        km = KernelManager(kernel_name="python3", transport="ipc", ip=str(Path(sockets) / "kernel"))
        try:
            NotebookClient(nb, km=km, timeout=timeout, record_timing=False,
                           resources={"metadata": {"path": str(Path(path).parent)}}).execute()
        except CellExecutionError as err:
            error = str(err)
        finally:  # a kernel manager handed in is not shut down by the client
            if km.has_kernel:
                km.shutdown_kernel(now=True)
    return nbformat.writes(nb), time.perf_counter() - start, error


def execute(chapters: Iterable[Path], jobs: int, timeout: int = 900, progress: bool = False) -> dict[str, float]:
    """Execute ``chapters`` ``jobs`` at a time in the order :func:`schedule` allows; write the
    executed notebooks and the cache. Returns each chapter's wall time. A failing cell stops
    everything with the cell's error (the build must not go on)."""
    import nbformat
    from jupyter_cache import get_cache
    from jupyter_cache.base import CacheBundleIn

    paths = {p.stem: p for p in chapters}
    pending = schedule(list(paths))
    done: dict[str, float] = {}
    running: dict[Future, str] = {}
    EXECUTED.mkdir(parents=True, exist_ok=True)
    cache = get_cache(str(CACHE))
    with ProcessPoolExecutor(max_workers=jobs) as pool:
        while pending or running:
            for item in [p for p in pending if p[1] <= set(done)][:max(0, jobs - len(running))]:
                pending.remove(item)
                running[pool.submit(_execute, str(paths[item[0]]), timeout)] = item[0]
            if not running:
                raise SystemExit(f"dynform: error: chapters wait for each other: {[p[0] for p in pending]}")
            finished, _ = wait(running, return_when=FIRST_COMPLETED)
            for future in finished:
                name = running.pop(future)
                text, seconds, error = future.result()
                if error is not None:
                    raise SystemExit(f"dynform: error: chapter {name} failed:\n{error}")
                nb = nbformat.reads(text, as_version=4)
                nbformat.write(nb, EXECUTED / f"{name}.ipynb")
                cache.cache_notebook_bundle(CacheBundleIn(nb, str(paths[name].resolve()),
                                                          data={"execution_seconds": seconds}),
                                            check_validity=False, overwrite=True)
                done[name] = seconds
                if progress:
                    print(f"executed {name} in {seconds:.1f} s", file=sys.stderr)
    (CACHE / SOURCE_STAMP).write_text(source_hash())
    return done


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m dynform.book.execute", description=__doc__.split("\n\n")[0])
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1, help="chapters executed at once")
    parser.add_argument("--timeout", type=int, default=900, help="seconds a cell may take")
    args = parser.parse_args(argv)
    start = time.perf_counter()
    times = execute(toc_chapters(), args.jobs, args.timeout, progress=True)
    print(f"{len(times)} chapters executed in {time.perf_counter() - start:.1f} s on {args.jobs} jobs "
          f"(their times add to {sum(times.values()):.1f} s)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
