"""Numbers and figures that carry the tolerance their checks use, and the comparison nbval applies.

A trained number is a :class:`Measured`: its value and an absolute tolerance, stated where the number
is made (from :mod:`dynform.book.sensitivity`). It prints to the digits it carries, and every output that
shows it (a glued number, a table, a matrix) records the tolerance in the output's metadata under
:data:`KEY`. Rounding-noise quantities are :func:`bound` instead: checked as ``|value| < bound``.
Glued figures record an RMS tolerance and are compared as images.

:func:`outputs_agree` is the comparison: ``chapters/conftest.py`` hands nbval's stored and fresh
outputs to it, so ``pytest --nbval chapters/`` compares text exactly, except the numbers of outputs
that carry a tolerance (compared within it) and figures (compared by RMS pixel difference).
"""
from __future__ import annotations

import base64
import io
import json
import math
import re
from dataclasses import dataclass
from typing import Any, Mapping

import numpy as np

#: Output-metadata key of the tolerance record.
KEY = "dynform-tolerance"

#: A wall time as :func:`dynform.book.report.seconds` writes it: never compared.
WALL_TIME = re.compile(r"\d+\.\d+ s\b")

#: A number as it is printed in text and LaTeX: sign, digits, decimal point, exponent.
NUMBER = re.compile(r"(?<![\w.])[-+−]?(?:\d+\.\d*|\.\d+|\d+)(?:[eE][-+]?\d+)?")


def sig(x: float, digits: int = 4) -> float:
    """``x`` rounded to ``digits`` significant digits, as a plain Python float."""
    x = float(x)
    if x == 0.0 or not math.isfinite(x):
        return x
    return float(f"{x:.{digits - 1}e}")


def carried_digits(value: float, tol: float) -> int:
    """Significant digits of ``value`` that a tolerance ``tol`` leaves standing (at least 1)."""
    if tol <= 0 or value == 0 or not math.isfinite(value):
        return 6
    return max(1, math.floor(math.log10(abs(value))) - math.floor(math.log10(tol)) + 1)


@dataclass(frozen=True)
class Measured:
    """A trained number and the absolute tolerance ``tol`` within which another machine's run agrees.

    ``bound=True``: a rounding-noise quantity, checked as ``|value| < tol`` rather than by its digits.
    """

    value: float
    tol: float
    bound: bool = False
    band: float | None = None  #: the machine-independent part of ``tol``: sets the digits and verdicts

    @property
    def verdict_tol(self) -> float:
        """The tolerance verdicts and printed digits use: ``band`` (the committed measurement), so that
        they are the same on every machine, or ``tol`` when there is no band."""
        return self.tol if self.band is None else self.band

    def __post_init__(self) -> None:
        if not (math.isfinite(self.tol) and self.tol > 0):
            raise ValueError(f"tolerance must be a positive number, got {self.tol!r}")
        if self.bound and not abs(self.value) < self.tol:
            raise AssertionError(f"{self.value!r} is not below its bound {self.tol!r}")

    @property
    def digits(self) -> int:
        """Significant digits printed: those the tolerance leaves (one for a bound)."""
        return 1 if self.bound else carried_digits(self.value, self.verdict_tol)

    def text(self) -> str:
        """The value to the digits it carries (a whole number below a million as such: 30, not 3e+01)."""
        out = f"{sig(self.value, self.digits):.{self.digits}g}"
        if "e+" in out and abs(self.value) < 1e6:
            out = f"{sig(self.value, self.digits):.0f}"
        return out

    def __str__(self) -> str:
        return self.text()

    def record(self) -> dict[str, float]:
        """How this number is compared: ``{"atol": tol}`` or ``{"bound": tol}``."""
        return {"bound": float(self.tol)} if self.bound else {"atol": float(self.tol)}

    def _repr_mimebundle_(self, include=None, exclude=None):
        return {"text/plain": self.text()}, {KEY: {"numbers": [self.record()]}}


def side(m: Measured, x: float) -> str:
    """``above``, ``below`` or ``within its rounding tolerance of``: where ``m`` lies from ``x`` at
    both ends of its verdict tolerance, in words for the prose."""
    if m.value - m.verdict_tol > x:
        return "above"
    if m.value + m.verdict_tol < x:
        return "below"
    return "within its rounding tolerance of"


def bound(value: float, limit: float) -> Measured:
    """A rounding-noise quantity (a 1e-14 gradient error, say): checked as ``|value| < limit``; raises
    at once (so the chapter fails) if it is not."""
    return Measured(float(value), float(limit), bound=True)


# Inside text that is still being composed (f-strings, tables, matrices), a measured number travels as
# a token that holds its printed text and its record; :func:`checked` turns the finished text into a
# displayable :class:`Checked` and the tokens into plain numbers.
_OPEN, _SEP, _CLOSE = "\ue000", "\ue001", "\ue002"
_TOKEN = re.compile(f"{_OPEN}(.*?){_SEP}(.*?){_CLOSE}")


def token(m: Measured) -> str:
    """``m`` as a token for text that :func:`checked` will finish."""
    return f"{_OPEN}{m.text()}{_SEP}{json.dumps(m.record())}{_CLOSE}"


def resolve(text: str) -> tuple[str, list[dict[str, float] | None]]:
    """The text with its tokens replaced by their numbers, and one record per number of that text
    (``None`` for a number that is compared exactly)."""
    clean, spans, records, pos = [], [], [], 0
    length = 0
    for m in _TOKEN.finditer(text):
        before = text[pos:m.start()]
        clean.append(before)
        length += len(before)
        spans.append((length, length + len(m.group(1)), json.loads(m.group(2))))
        clean.append(m.group(1))
        length += len(m.group(1))
        pos = m.end()
    clean.append(text[pos:])
    out = "".join(clean)
    for n in NUMBER.finditer(out):
        record = next((r for a, b, r in spans if a <= n.start() < b), None)
        if record is None and WALL_TIME.match(out, n.start()):
            record = {"wall": 1.0}
        records.append(record)
    return out, records


@dataclass(frozen=True)
class Checked:
    """Finished text whose measured numbers carry their records; displays as ``mime`` (Markdown, or
    LaTeX for a formula)."""

    text: str
    numbers: tuple
    mime: str = "text/markdown"

    def _repr_mimebundle_(self, include=None, exclude=None):
        return {self.mime: self.text, "text/plain": self.text}, {KEY: {"numbers": list(self.numbers)}}


def checked(text: str, mime: str = "text/markdown") -> Checked | str:
    """``text`` ready to display: a :class:`Checked` if it holds measured numbers, else ``text``.

    ``mime="text/latex"`` wraps a formula in ``$\\displaystyle ...$``, as IPython's ``Math`` does."""
    clean, records = resolve(text)
    if mime == "text/latex":
        clean = f"$\\displaystyle {clean}$"
    if not any(records):
        return clean
    return Checked(clean, tuple(records), mime)


@dataclass(frozen=True)
class CheckedFigure:
    """A matplotlib figure compared as an image: RMS pixel difference (0-255 scale) at most ``rms``."""

    figure: Any
    rms: float

    def _repr_mimebundle_(self, include=None, exclude=None):
        from IPython.core.formatters import format_display_data

        data, metadata = format_display_data(self.figure)
        return data, {**metadata, KEY: {"rms": float(self.rms)}}


# --- the comparison ----------------------------------------------------------------------------------


def _numbers(text: str) -> tuple[str, list[str]]:
    return NUMBER.sub("#", text), NUMBER.findall(text)


def _unit(number: str) -> float:
    """One unit of the last printed digit of ``number`` (``0.0015`` -> 1e-4)."""
    mantissa, _, exponent = number.replace("−", "-").lower().partition("e")
    decimals = len(mantissa.split(".", 1)[1]) if "." in mantissa else 0
    return 10.0 ** (int(exponent or 0) - decimals)


def texts_agree(test: str, ref: str, records: list[Mapping[str, float] | None]) -> tuple[bool, str]:
    """Same words, the numbers without a record equal, and each number with one within it: below its
    ``bound``, or within ``atol`` plus half a unit of the last printed digit of each side (both sides
    were rounded to the digits they carry)."""
    skel_t, nums_t = _numbers(test)
    skel_r, nums_r = _numbers(ref)
    if skel_t != skel_r or len(nums_t) != len(nums_r) or len(records) != len(nums_r):
        return False, "the text around the numbers differs"
    for a, b, record in zip(nums_t, nums_r, records):
        if record is not None and "wall" in record:
            continue
        if record is None or a == b:
            if a != b:
                return False, f"{a} differs from the stored {b} (compared exactly)"
            continue
        x, y = float(a.replace("−", "-")), float(b.replace("−", "-"))
        if "bound" in record:
            if abs(x) < record["bound"]:
                continue
            return False, f"{a} is not below the bound {record['bound']:g} (stored {b})"
        allowed = record["atol"] + (_unit(a) + _unit(b)) / 2
        if not abs(x - y) <= allowed:
            return False, f"{a} differs from the stored {b} by {abs(x - y):.3g}, more than the tolerance {allowed:.3g}"
    return True, ""


def png_pixels(data: str) -> np.ndarray:
    """A base64 PNG as an RGB array of floats, shape (height, width, 3), 0-255."""
    from PIL import Image

    return np.asarray(Image.open(io.BytesIO(base64.b64decode(data))).convert("RGB"), dtype=np.float64)


def rms_difference(a: str, b: str) -> float:
    """RMS pixel difference (0-255) of two base64 PNGs, as matplotlib's image comparison (and
    pytest-mpl) computes it; infinite if their sizes differ."""
    from matplotlib.testing.compare import calculate_rms

    x, y = png_pixels(a), png_pixels(b)
    return float(calculate_rms(x, y)) if x.shape == y.shape else math.inf


def images_agree(test: str, ref: str, rms: float) -> tuple[bool, str]:
    """Two base64 PNGs of the same size whose RMS pixel difference (0-255) is at most ``rms``."""
    diff = rms_difference(test, ref)
    if diff == math.inf:
        return False, f"image size {png_pixels(test).shape[:2]} differs from the stored {png_pixels(ref).shape[:2]}"
    if diff > rms:
        return False, f"image RMS difference {diff:.3g} exceeds the tolerance {rms:g}"
    return True, ""


def outputs_agree(test: Mapping[str, Any], ref: Mapping[str, Any]) -> tuple[bool, str]:
    """Whether a fresh output agrees with the stored one that carries a tolerance record.

    Only ``display_data`` / ``execute_result`` outputs whose stored metadata has :data:`KEY` are
    judged here; returns ``(True, "")`` when they agree, else ``(False, why)``.
    """
    record = ref.get("metadata", {}).get(KEY)
    if record is None:
        return False, "no tolerance record"
    t_data, r_data = test.get("data", {}), ref.get("data", {})
    if set(t_data) != set(r_data):
        return False, f"output types {sorted(t_data)} differ from the stored {sorted(r_data)}"
    for key, r_value in r_data.items():
        t_value = t_data[key]
        if key.endswith("image/png"):
            ok, why = images_agree(t_value, r_value, record.get("rms", 0.0))
        elif isinstance(r_value, str) and "numbers" in record:
            ok, why = texts_agree(t_value, r_value, record["numbers"])
        else:
            ok, why = t_value == r_value, "" if t_value == r_value else f"{key} differs"
        if not ok:
            return False, f"{key}: {why}"
    return True, ""
