"""Helpers that put computed numbers into the book: rounding, glue and Markdown tables.

Values are rounded to a stated number of significant digits before they are shown or glued, so that
the stored outputs nbval compares check the science, not floating-point noise. Wall times are always
written as ``"<number> s"`` so the test sanitizer can recognise and mask them.
"""
from __future__ import annotations

import math
from typing import Any, Sequence

import numpy as np


def sig(x: float, digits: int = 4) -> float:
    """``x`` rounded to ``digits`` significant digits, as a plain Python float."""
    x = float(x)
    if x == 0.0 or not math.isfinite(x):
        return x
    return float(f"{x:.{digits - 1}e}")


def fmt(x: Any, digits: int = 4) -> str:
    """Short text for a number (``g`` format, ``digits`` significant digits); strings pass through."""
    if isinstance(x, str):
        return x
    if x is None:
        return "–"
    return f"{sig(x, digits):.{digits}g}"


def seconds(x: float) -> str:
    """A wall time as ``"1.23 s"`` (masked by the nbval sanitizer: it varies run to run)."""
    return f"{x:.2f} s"


def matrix_tex(M: np.ndarray, digits: int = 4) -> str:
    """LaTeX ``bmatrix`` of ``M`` with ``digits`` significant digits."""
    rows = [" & ".join(fmt(v, digits) for v in row) for row in np.asarray(M)]
    return r"\begin{bmatrix} " + r" \\ ".join(rows) + r" \end{bmatrix}"


def markdown_table(headers: Sequence[str], rows: Sequence[Sequence[Any]], digits: int = 4) -> str:
    """A Markdown table; numbers formatted with :func:`fmt`."""
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(fmt(v, digits) for v in row) + " |" for row in rows]
    return "\n".join(lines)


def glue(name: str, value: Any, digits: int = 4, display: bool = False) -> Any:
    """Glue ``value`` under ``name`` for the prose (``{glue:text}`name```).

    Floats are rounded to ``digits`` significant digits and glued as plain Python floats (myst-nb
    cannot format numpy or torch scalars). Returns what was glued.
    """
    from myst_nb import glue as _glue

    if isinstance(value, (float, np.floating)) or (hasattr(value, "item") and getattr(value, "ndim", 1) == 0):
        value = sig(float(value), digits)
    elif isinstance(value, (np.integer,)):
        value = int(value)
    _glue(name, value, display=display)
    return value


def show_markdown(text: str) -> None:
    """Display Markdown (a table, a matrix) as the cell's output."""
    from IPython.display import Markdown, display

    display(Markdown(text))


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

    _glue(name, Markdown(markdown_table(headers, rows, digits)), display=False)


def glue_figure(name: str, fig: Any) -> None:
    """Glue a figure under ``name`` for ``{glue:figure}``; returns nothing, so the cell shows nothing.

    (A cell ending in ``report.glue(name, fig)`` would also display the returned figure; a trailing
    ``;`` hides it in Jupyter but not under nbval, which runs cells without history.)
    """
    glue(name, fig)
