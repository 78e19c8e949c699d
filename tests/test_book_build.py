"""The book refuses bad input, is deterministic, and its checks can fail.

* Bad parameters given to a chapter through papermill (``-p`` / ``-y``) stop it at the validation cell,
  right after the parameters, with a one-line message that starts with the parameter's name, before
  any training cell runs.
* A diverging run stops with a message naming the epoch and suggesting a smaller lr, and nothing after
  it (no NaN figure or table) is rendered.
* The same chapter executed twice glues exactly the same values.
* A failing cell makes the strict book build exit non-zero, and a changed initialisation makes nbval
  fail on the stored notebook.

Chapter 01 is used throughout: it is the cheapest chapter.
"""
from __future__ import annotations

import copy
import os
import re
import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import jupytext
import nbformat
import pytest

from dynform.book.checks import KEY
from dynform.book.sensitivity import VARIANTS

ROOT = Path(__file__).resolve().parents[1]
CHAPTER = ROOT / "chapters" / "01_regular_methods.md"
BIN = Path(sys.executable).parent
# The environment of a reader: no run cache, and nbval executes (no DYNFORM_EXECUTED).
ENV = {**{k: v for k, v in os.environ.items() if k not in ("DYNFORM_EXECUTED", "DYNFORM_RUN_CACHE")},
       "MPLBACKEND": "Agg", "OMP_NUM_THREADS": "1", "PYTHONHASHSEED": "0", "PYDEVD_DISABLE_FILE_VALIDATION": "1"}

# (papermill arguments, parameter the message must name, exact message)
BAD_INPUTS = [
    (["-p", "epochs", "0"], "epochs", "epochs: must be a positive integer, got 0"),
    (["-p", "epochs", "-1"], "epochs", "epochs: must be a positive integer, got -1"),
    (["-p", "lr", "0"], "lr", "lr: must be a positive number, got 0"),
    (["-p", "system", "saddle-node"], "system",
     "system: unknown system 'saddle-node' (known: spiral, center, or a matrix 'a,b;c,d')"),
    # A bad matrix given as `system` is reported under `system` (the CLI reports it under --A).
    (["-p", "system", "1,2;3"], "system", "system: matrix A: rows have different lengths in '1,2;3'"),
    (["-p", "system", "1,a;3,4"], "system", "system: matrix A: must be numbers written 'a,b;c,d', got '1,a;3,4'"),
    (["-p", "points", "1"], "points", "points: must be an integer >= 2, got 1"),
    (["-p", "t1", "0.0"], "t1", "t1: must be greater than t0=0.0, got 0.0"),
    (["-p", "model", "lstm"], "model", "model: unknown model 'lstm' (choices: nn, nnm, node, nodem)"),
    (["-p", "hidden", "0"], "hidden", "hidden: must be a positive integer, got 0"),
    (["-y", "y0: [.nan, 0.0]"], "y0", "y0: must be 2 finite numbers, got [nan, 0.0]"),
    (["-p", "device", "cuda"], "device", "device: 'cuda' was asked for but no CUDA GPU is available; use 'cpu' or 'auto'"),
]
DIVERGING = ["-p", "model", "nodem", "-p", "lr", "10.0", "-p", "epochs", "50"]


@pytest.fixture(scope="module")
def chapter_ipynb(tmp_path_factory) -> Path:
    """Chapter 01 as a fresh (unexecuted) notebook, converted from its MyST source."""
    path = tmp_path_factory.mktemp("chapter") / "01_regular_methods.ipynb"
    nbformat.write(jupytext.read(CHAPTER), path)
    return path


def papermill(src: Path, out: Path, args: list[str], env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([str(BIN / "papermill"), str(src), str(out), "--no-progress-bar", "-k", "python3", *args],
                          capture_output=True, text=True, env={**ENV, **(env or {})}, cwd=src.parent, timeout=600)


def _error_cell(nb) -> tuple[int, dict]:
    """Index of the code cell that raised and its error output."""
    for i, cell in enumerate(nb.cells):
        for out in cell.get("outputs", []):
            if out.get("output_type") == "error":
                return i, out
    raise AssertionError("no cell raised")


def _validation_cell(nb) -> int:
    """Index of the first code cell after the parameters (and papermill's injected parameters)."""
    tags = [c.metadata.get("tags", []) for c in nb.cells]
    last = max(i for i, t in enumerate(tags) if "parameters" in t or "injected-parameters" in t)
    return next(i for i in range(last + 1, len(nb.cells)) if nb.cells[i].cell_type == "code")


def _glued(nb) -> dict[str, dict]:
    """Every value glued by the notebook: name -> its MIME bundle."""
    out = {}
    for cell in nb.cells:
        for o in cell.get("outputs", []):
            name = o.get("metadata", {}).get("scrapbook", {}).get("name")
            if name is not None:
                out[name] = dict(o["data"])
    return out


@pytest.fixture(scope="module")
def refused(chapter_ipynb) -> dict[str, tuple[subprocess.CompletedProcess, Path]]:
    """Every bad input and the diverging run, executed by papermill a few at a time (each is mostly
    kernel start-up): id -> (process, output notebook)."""
    runs = {" ".join(args): args for args, _, _ in BAD_INPUTS}
    runs["diverging"] = DIVERGING

    def one(item):
        key, args = item
        out = chapter_ipynb.parent / f"out-{sorted(runs).index(key)}.ipynb"
        return key, (papermill(chapter_ipynb, out, args), out)

    with ThreadPoolExecutor(max_workers=3) as pool:
        return dict(pool.map(one, runs.items()))


def _assert_refused(refused, args: list[str], name: str, message: str) -> None:
    if "cuda" in args:
        import torch

        if torch.cuda.is_available():
            pytest.skip("a CUDA GPU is present: device='cuda' is valid here")
    proc, out = refused[" ".join(args)]
    assert proc.returncode != 0, "the chapter ran with a bad parameter"
    nb = nbformat.read(out, as_version=4)
    index, error = _error_cell(nb)
    assert error["ename"] == "ParameterError"
    assert error["evalue"] == message
    assert error["evalue"].startswith(f"{name}: ") and "\n" not in error["evalue"]
    assert index == _validation_cell(nb), "the error must come from the validation cell"
    later = [c for c in nb.cells[index + 1:] if c.cell_type == "code"]
    assert later and not any(c.get("execution_count") for c in later), "cells after validation ran"
    assert message in proc.stderr  # papermill reports it too


@pytest.mark.parametrize("args, name, message", BAD_INPUTS, ids=[" ".join(a[1:]) for a, _, _ in BAD_INPUTS])
def test_bad_parameter_stops_at_validation(refused, args, name, message):
    _assert_refused(refused, args, name, message)


def test_divergence_names_epoch_and_renders_nothing(refused):
    proc, out = refused["diverging"]
    assert proc.returncode != 0
    nb = nbformat.read(out, as_version=4)
    index, error = _error_cell(nb)
    assert error["ename"] == "TrainingDiverged"
    assert re.fullmatch(r"training diverged: the loss became \[(inf|nan)\] at epoch \d+; "
                        r"try a smaller lr \(was 10\.0\)", error["evalue"]), error["evalue"]
    assert "dynform.run(config)" in nb.cells[index].source
    glued = _glued(nb)
    assert "demo_loss" not in glued and "fig_demo_loss" not in glued
    assert not any(c.get("execution_count") for c in nb.cells[index + 1:] if c.cell_type == "code")


#: The math kernels of another CPU, emulated on this one (the sensitivity chapter's "all-kernels":
#: PyTorch's, MKL's, numpy's BLAS and numpy's SIMD functions).
OTHER_CPU = dict(VARIANTS["all-kernels"].env)


@pytest.mark.parametrize("cpu", ["this CPU", "emulated other CPU"])
def test_chapter_is_deterministic(chapter_ipynb, tmp_path, cpu):
    """Two executions on one machine glue exactly the same values (numbers, tables and the figure's PNG),
    with this CPU's math kernels and with another's."""
    env = OTHER_CPU if cpu != "this CPU" else {}
    outs = [tmp_path / f"run{k}.ipynb" for k in range(2)]
    with ThreadPoolExecutor(max_workers=2) as pool:
        procs = list(pool.map(lambda out: papermill(chapter_ipynb, out, ["-p", "epochs", "60"], env), outs))
    for proc in procs:
        assert proc.returncode == 0, proc.stderr[-2000:]
    runs = [_glued(nbformat.read(out, as_version=4)) for out in outs]
    assert {"dt", "demo_loss", "demo_steps", "params_nn", "tab_param_counts", "fig_demo_loss"} <= set(runs[0])
    assert any(k.endswith("image/png") for k in runs[0]["fig_demo_loss"]), "the figure was not glued as an image"
    assert runs[0] == runs[1]


def _tiny_book(root: Path, failing: bool) -> Path:
    """The project's configuration with a two-page toc: a root page that cites and a two-cell notebook."""
    book = root / ("failing" if failing else "passing")
    (book / "chapters").mkdir(parents=True)
    shutil.copy(ROOT / "_config.yml", book / "_config.yml")
    shutil.copytree(ROOT / "_ext", book / "_ext")
    for name in ("references.bib", "bibliography.md"):
        shutil.copy(ROOT / "chapters" / name, book / "chapters" / name)
    (book / "chapters" / "intro.md").write_text("# A tiny book\n\nIt cites {cite}`chen2018neural`.\n\n"
                                                "```{tableofcontents}\n```\n")
    (book / "_toc.yml").write_text("format: jb-book\nroot: chapters/intro\nchapters:\n"
                                   "  - file: chapters/check\n  - file: chapters/bibliography\n")
    cell = 'raise RuntimeError("a deliberately failing cell")' if failing else "print(1 + 1)"
    (book / "chapters" / "check.md").write_text(
        "---\njupytext:\n  text_representation:\n    extension: .md\n    format_name: myst\n"
        "kernelspec:\n  display_name: Python 3\n  language: python\n  name: python3\n---\n\n"
        "# Check\n\n```{code-cell} ipython3\nx = 1\n```\n\n```{code-cell} ipython3\n" + cell + "\n```\n")
    return book


@pytest.mark.parametrize("failing", [False, True], ids=["passing-cell", "failing-cell"])
def test_strict_build_fails_on_a_failing_cell(tmp_path, failing):
    book = _tiny_book(tmp_path, failing)
    proc = subprocess.run([str(BIN / "jupyter-book"), "build", str(book), "-W", "-n", "--keep-going"],
                          capture_output=True, text=True, env=ENV, timeout=600)
    log = proc.stdout + proc.stderr
    if failing:
        assert proc.returncode != 0, log[-3000:]
        assert "a deliberately failing cell" in log
    else:
        assert proc.returncode == 0, log[-3000:]


def _nbval(notebook: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    """nbval over one notebook as a reader runs it, with the chapters' tolerances (chapters/conftest.py)."""
    if notebook.parent != ROOT / "chapters":
        shutil.copy(ROOT / "chapters" / "conftest.py", notebook.parent / "conftest.py")
    return subprocess.run(
        [sys.executable, "-m", "pytest", str(notebook), "--nbval", "--nbval-sanitize-with",
         str(ROOT / "tests" / "nbval_sanitize.cfg"), "-o", "addopts=", "-p", "no:cacheprovider",
         "--rootdir", str(notebook.parent), "-q"],
        capture_output=True, text=True, env={**ENV, **(env or {})}, cwd=notebook.parent, timeout=900)


def test_stored_chapter_passes_on_another_cpu():
    """The spiral chapter's stored outputs, checked by nbval with the math kernels of another CPU: the
    trained numbers move, and stay within their stated tolerances."""
    proc = _nbval(ROOT / "chapters" / "02_spiral.ipynb", OTHER_CPU)
    assert proc.returncode == 0, proc.stdout[-5000:]


def test_nbval_fails_when_the_initialisation_changes(tmp_path):
    """nbval on the stored chapter 01 with ``init_std`` 0.1 -> 0.2 fails where the numbers change."""
    nb = nbformat.read(CHAPTER.with_suffix(".ipynb"), as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    params = code[0]
    assert "parameters" in params.metadata.get("tags", [])
    assert re.search(r"^init_std = 0\.1\b", params.source, re.M)
    params.source = re.sub(r"^init_std = 0\.1\b", "init_std = 0.2", params.source, flags=re.M)
    copy = tmp_path / "01_regular_methods.ipynb"
    nbformat.write(nb, copy)

    proc = _nbval(copy)
    assert proc.returncode != 0, proc.stdout[-3000:]
    failed = {int(n) for n in re.findall(r"FAILED \S+::Cell (\d+)", proc.stdout)}
    demo = next(i for i, c in enumerate(code) if "dynform.run(config)" in c.source)
    figure = next(i for i, c in enumerate(code) if "fig_demo_loss" in c.source)
    validation = 1
    # The demonstration's loss at its initial parameters is computed without training and carries all its
    # digits, so the changed initialisation fails it; the settings printout shows the new init_std. The
    # loss curve may or may not move beyond the RMS tolerance that rounding alone needs for it.
    assert demo in failed and "outside its stated tolerance" in proc.stdout, proc.stdout[-3000:]
    assert failed <= {validation, demo, figure}, proc.stdout[-3000:]


def test_nbval_on_the_books_execution_passes_and_fails_as_nbval_does(tmp_path):
    """``DYNFORM_EXECUTED`` (what ``make test`` uses) checks the stored chapter against an executed copy
    without running it: the same execution passes; a trained number moved beyond its tolerance fails."""
    stored = nbformat.read(CHAPTER.with_suffix(".ipynb"), as_version=4)
    chapter, executed = tmp_path / "chapter", tmp_path / "executed"
    chapter.mkdir(), executed.mkdir()
    nbformat.write(stored, chapter / "01_regular_methods.ipynb")
    nbformat.write(stored, executed / "01_regular_methods.ipynb")
    same = _nbval(chapter / "01_regular_methods.ipynb", {"DYNFORM_EXECUTED": str(executed)})
    assert same.returncode == 0, same.stdout[-3000:]

    moved = copy.deepcopy(stored)
    code = [c for c in moved.cells if c.cell_type == "code"]
    demo = next(i for i, c in enumerate(code) if "dynform.run(config)" in c.source)
    out = next(o for o in code[demo].outputs if KEY in o.get("metadata", {}))
    mime = next(k for k in out["data"] if k.endswith("text/plain"))
    out["data"][mime] = f"{1.5 * float(out['data'][mime]):.6g}"
    nbformat.write(moved, executed / "01_regular_methods.ipynb")
    proc = _nbval(chapter / "01_regular_methods.ipynb", {"DYNFORM_EXECUTED": str(executed)})
    assert proc.returncode != 0 and f"::Cell {demo}" in proc.stdout, proc.stdout[-3000:]
    assert "outside its stated tolerance" in proc.stdout, proc.stdout[-3000:]
