"""Helpers that put computed numbers into the book: rounding, glue and Markdown tables.

Exact values are rounded to a stated number of significant digits before they are shown or glued.
Trained values are :class:`dynform.book.checks.Measured`: they print to the digits their tolerance leaves,
and every output that shows one records that tolerance, so nbval compares them within it (see
:mod:`dynform.book.checks`). Wall times are always written as ``"<number> s"``, which the nbval sanitizer
masks and :func:`dynform.book.checks.texts_agree` skips.
"""
from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from .checks import CheckedFigure, Measured, checked, sig, token


def fmt(x: Any, digits: int = 4) -> str:
    """Short text for a number (``g`` format, ``digits`` significant digits); strings pass through.

    A :class:`~dynform.book.checks.Measured` becomes a token that the display helpers below finish
    (:func:`dynform.book.checks.checked`): its digits are those its tolerance leaves, not ``digits``.
    """
    if isinstance(x, str):
        return x
    if isinstance(x, Measured):
        return token(x)
    if x is None:
        return "–"
    return f"{sig(x, digits):.{digits}g}"


def spread_text(median: Any, q1: Any, q3: Any) -> str:
    """A distribution as its median and interquartile range: ``median [q1–q3]``."""
    return f"{fmt(median)} [{fmt(q1)}–{fmt(q3)}]"


def seconds(x: float) -> str:
    """A wall time as ``"1.23 s"`` (masked by the nbval sanitizer: it varies run to run)."""
    return f"{x:.2f} s"


def matrix_tex(M: np.ndarray, digits: int = 4, decimals: int | None = None) -> str:
    """LaTeX ``bmatrix`` of ``M`` with ``digits`` significant digits, or with ``decimals`` decimals
    (trailing zeros kept: a number as the note prints it)."""
    def cell(v: Any) -> str:
        return f"{float(v):.{decimals}f}" if decimals is not None and not isinstance(v, Measured) else fmt(v, digits)

    rows = [" & ".join(cell(v) for v in row) for row in np.asarray(M)]
    return r"\begin{bmatrix} " + r" \\ ".join(rows) + r" \end{bmatrix}"


def markdown_table(headers: Sequence[str], rows: Sequence[Sequence[Any]], digits: int = 4) -> str:
    """A Markdown table; numbers formatted with :func:`fmt`."""
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(fmt(v, digits) for v in row) + " |" for row in rows]
    return "\n".join(lines)


def glue(name: str, value: Any, digits: int = 4, display: bool = False) -> Any:
    """Glue ``value`` under ``name`` for the prose (``{glue:text}`name```).

    Floats are rounded to ``digits`` significant digits and glued as plain Python floats (myst-nb
    cannot format numpy or torch scalars). A :class:`~dynform.book.checks.Measured` is glued to the digits
    it carries, with its tolerance; a figure goes to :func:`glue_figure`. Returns what was glued with
    ``display=True`` (shown in the cell too), else nothing, so a cell that ends with a glue shows
    nothing.
    """
    from matplotlib.figure import Figure
    from myst_nb import glue as _glue

    if isinstance(value, Figure):
        return glue_figure(name, value)
    if isinstance(value, str):
        value = checked(value)
    elif isinstance(value, Measured):
        pass
    elif isinstance(value, (float, np.floating)) or (hasattr(value, "item") and getattr(value, "ndim", 1) == 0):
        value = sig(float(value), digits)
        if value.is_integer() and abs(value) < 1e15:  # 550, not 550.0: no digit beyond those kept
            value = int(value)
    elif isinstance(value, (np.integer,)):
        value = int(value)
    _glue(name, value, display=display)
    return value if display else None


def show_markdown(text: str) -> None:
    """Display Markdown (a table, a matrix) as the cell's output."""
    from IPython.display import Markdown, display

    text = checked(text)
    display(Markdown(text) if isinstance(text, str) else text)


def show_math(latex: str) -> None:
    """Display a LaTeX formula (matrices) as the cell's output, as IPython's ``Math`` does."""
    from IPython.display import Math, display

    text = checked(latex, mime="text/latex")
    display(Math(latex) if isinstance(text, str) else text)


def glue_table(name: str, headers: Sequence[str], rows: Sequence[Sequence[Any]], digits: int = 4) -> None:
    """Glue a Markdown table under ``name`` so that the prose can place it as a numbered table.

    The cell shows nothing; the page puts the table where it is discussed, with a caption and a label
    that ``{numref}`` can reference::

        :::{table} Caption of the table.
        :name: tab-some-label

        ```{glue:md} name
        :format: myst
        ```
        :::

    Numbers are formatted with :func:`fmt`, as in :func:`markdown_table`. Returns nothing, so a cell
    ending with it shows nothing.
    """
    from IPython.display import Markdown
    from myst_nb import glue as _glue

    text = checked(markdown_table(headers, rows, digits))
    _glue(name, Markdown(text) if isinstance(text, str) else text, display=False)


def glue_figure(name: str, fig: Any, rms: float | None = None) -> None:
    """Glue a figure under ``name`` for ``{glue:figure}``; returns nothing, so the cell shows nothing.

    nbval compares it as an image, within ``rms`` (:class:`~dynform.book.checks.CheckedFigure`), never as
    PNG bytes; by default the tolerance measured for this figure
    (:func:`dynform.book.sensitivity.figure_tolerance`). (A cell ending in ``report.glue(name, fig)`` would
    also display the returned figure; a trailing ``;`` hides it in Jupyter but not under nbval, which
    runs cells without history.)
    """
    from myst_nb import glue as _glue

    from .sensitivity import figure_tolerance

    _glue(name, CheckedFigure(fig, figure_tolerance(name) if rms is None else rms), display=False)
