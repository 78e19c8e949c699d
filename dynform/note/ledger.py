"""Every number the note prints in sections 3.1 and 3.2 beside ours, with a verdict.

A trained number (a loss, an iteration count, a learned matrix entry) takes its verdict and causes
from :mod:`dynform.note.findings`, the one source; it is shown as the median and quartiles of our
seeds, beside seed 0 and the note's percentile in our distribution. An exact quantity (a true step
matrix, an eigenvalue or eigenvector) is reproduced when it agrees to the digits printed
(:data:`EXACT`); a time is not comparable.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping, Sequence

import numpy as np

from ..book import sensitivity
from ..book.checks import Measured
from ..regular.experiment import RunResult, run
from ..regular.models import MATRIX_MODELS
from ..systems import get_system
from . import readings
from .findings import Finding, Findings, OUTCOMES
from .settings import EXAMPLES, TABLE_ROWS, stated

#: How an exact quantity is judged: kind -> (absolute tolerance, words for the page): one unit of the
#: last digit the note prints (four decimals for a matrix, eight for an eigen-pair).
EXACT: dict[str, tuple[float, str]] = {
    "true": (1e-4, "each entry within 1e-4, one unit of its fourth printed decimal"),
    "eigen": (1e-8, "within 1e-8, one unit of its eighth printed decimal"),
}
REPRODUCED, DIFFERS, NOT_COMPARABLE = "reproduced", "differs", "not comparable"
#: Printed numbers left out because ours would be the same quantity as the note's: the "true matrix"
#: of the linear Neural ODE is A, the matrix the example is defined by.
SELF_COMPARISONS = {("true", "nodem")}
#: The kinds of printed number that training makes; the others are exact computations or times.
TRAINED_KINDS = ("loss", "iterations", "predicted")


def exact_verdict(kind: str, ours: Any, note: Any) -> str:
    """``reproduced`` or ``differs`` for an exact quantity of ``kind`` (:data:`EXACT`)."""
    tol = EXACT[kind][0]
    return REPRODUCED if abs(complex(ours) - complex(note)) <= tol else DIFFERS


@dataclass
class LedgerRow:
    """One printed number of the note beside ours."""

    example: str
    quantity: str  #: e.g. "Table 1 loss", "predicted matrix [1,2]"
    model: str | None  #: short model name, or None (eigenvalues, eigenvectors)
    kind: str  #: ``loss``, ``iterations``, ``predicted``, a key of :data:`EXACT`, or ``seconds``
    note: Any
    ours: Any  #: seed 0 (a trained number), our value (an exact one), our time
    finding: Finding | None = None  #: a trained number's verdict and causes
    spread: tuple[Measured, Measured, Measured] | None = None  #: median, q1, q3 over our seeds

    @property
    def trained(self) -> bool:
        """Whether training makes this number (else it is an exact computation or a time)."""
        return self.kind in TRAINED_KINDS

    @property
    def verdict(self) -> str:
        if self.kind == "seconds":
            return NOT_COMPARABLE
        if self.trained:
            return self.finding.outcome
        return exact_verdict(self.kind, self.ours, self.note)


def complex_text(z: complex, digits: int = 4) -> str:
    """``a+bi`` with ``digits`` significant digits; a zero part is left out."""
    from ..book.report import fmt

    z = complex(z)
    if z.imag == 0:
        return fmt(z.real, digits)
    imag = f"{fmt(abs(z.imag), digits)}i"
    if z.real == 0:
        return imag if z.imag > 0 else "-" + imag
    return f"{fmt(z.real, digits)}{'+' if z.imag > 0 else '-'}{imag}"


def quantity_key(kind: str, quantity: str) -> str:
    """The quantity of :class:`dynform.note.printed.Printed` a ledger row of ``kind`` shows."""
    return quantity.replace("predicted matrix ", "matrix") if kind == "predicted" else kind


def ledger(stated_runs: Mapping[tuple[str, str], RunResult], found: Findings,
           note: Mapping[str, Any] | None = None) -> list[LedgerRow]:
    """Every number the note prints in sections 3.1 and 3.2 beside ours: ``stated_runs[(example,
    model)]`` are seed 0's runs with the stated settings (:func:`stated_runs`), ``found`` the
    findings of the setup search (their stated reading gives the seed spread)."""
    from .printed import printed

    note = printed() if note is None else note
    rows: list[LedgerRow] = []

    def trained(example: str, label: str, model: str, kind: str, value: Any, ours: Any) -> LedgerRow:
        f = found.of(example, model, quantity_key(kind, label))
        stated_row = next(r for r in found.rows if (r.system, r.model) == (example, model) and not r.changes)
        return LedgerRow(example, label, model, kind, value, ours, f, readings.quartiles(stated_row, f.number.quantity))

    for example, table in (("spiral", "Table 1"), ("center", "Table 2")):
        ref = note[example]
        for model in TABLE_ROWS:
            r = stated_runs[(example, model)]
            printed_row = ref["table"][model]
            rows.append(trained(example, f"{table} loss", model, "loss", printed_row["loss"], sensitivity.loss(r)))
            rows.append(LedgerRow(example, f"{table} time", model, "seconds", printed_row["seconds"], r.seconds))
            if "iterations" in printed_row:
                rows.append(trained(example, f"{table} iterations", model, "iterations", printed_row["iterations"],
                                    sensitivity.iterations(r)))
        for model in MATRIX_MODELS:
            r = stated_runs[(example, model)]
            learned = sensitivity.matrix(r)
            for (i, j), value in np.ndenumerate(np.asarray(ref["matrices"][model]["predicted"], dtype=np.float64)):
                rows.append(trained(example, f"predicted matrix [{i + 1},{j + 1}]", model, "predicted", float(value),
                                    learned[i, j]))
            if ("true", model) not in SELF_COMPARISONS:
                true = r.true_matrix()
                for (i, j), value in np.ndenumerate(np.asarray(ref["matrices"][model]["true"], dtype=np.float64)):
                    rows.append(LedgerRow(example, f"true matrix [{i + 1},{j + 1}]", model, "true", float(value),
                                          float(true[i, j])))
        if "eigenvalues" in ref:
            values, vectors = get_system(example).eigen()
            printed_values = np.asarray(ref["eigenvalues"]["real"]) + 1j * np.asarray(ref["eigenvalues"]["imag"])
            for k, value in enumerate(printed_values):
                rows.append(LedgerRow(example, f"eigenvalue {k + 1}", None, "eigen", complex(value), complex(values[k])))
            printed_vectors = np.asarray(ref["eigenvectors"]["real"]) + 1j * np.asarray(ref["eigenvectors"]["imag"])
            for (i, j), value in np.ndenumerate(printed_vectors):
                rows.append(LedgerRow(example, f"eigenvector {j + 1}, entry {i + 1}", None, "eigen", complex(value),
                                      complex(vectors[i, j])))
    return rows


def stated_runs(seed: int = 0, device: str = "cpu") -> dict[tuple[str, str], RunResult]:
    """One run per row of Tables 1 and 2 with the note's stated settings."""
    return {(example, model): run(stated(example, model).with_(seed=seed, device=device))
            for example in EXAMPLES for model in TABLE_ROWS}


# --- the ledger's tables ------------------------------------------------------------------------

_TIMES = "T"


def references(rows: Sequence[LedgerRow]) -> dict[tuple[str, str, str], str]:
    """A short reference (R1, R2, ...) for every distinct cause of the rows' trained numbers, keyed by
    ``(example, model, cause text)``, in the order the rows name them."""
    out: dict[tuple[str, str, str], str] = {}
    for r in rows:
        for cause in (r.finding.causes if r.finding else ()):
            out.setdefault((r.example, r.model, cause.text), f"R{len(out) + 1}")
    return out


def reason(row: LedgerRow, refs: Mapping[tuple[str, str, str], str]) -> str:
    """The reason column of the ledger: references to :func:`reasons_table` (``–`` for none)."""
    if row.kind == "seconds":
        return _TIMES
    if row.finding is None:
        return "–"
    return ", ".join(refs[(row.example, row.model, c.text)] for c in row.finding.causes) or "–"


def reasons_table(rows: Sequence[LedgerRow]) -> list[list[str]]:
    """Every cause the ledger refers to, once: reference, row of the tables, cause, why."""
    out = []
    for (example, model, text), ref in references(rows).items():
        cause = next(c for r in rows if r.finding and (r.example, r.model) == (example, model)
                     for c in r.finding.causes if c.text == text)
        out.append([ref, f"{example} {model}", cause.name, text])
    out.append([_TIMES, "every time", "another machine", "wall time of one run on another machine"])
    return out


def shown(kind: str, value: Any) -> str:
    """A ledger cell: a measured number to its carried digits, times as times, complex numbers as ``a+bi``."""
    from ..book import report

    if value is None:
        return "–"
    if isinstance(value, Measured):
        return report.fmt(value)
    if kind == "seconds":
        return report.seconds(value)
    if isinstance(value, complex):
        return complex_text(value, 8)
    if kind == "iterations":
        return str(int(value))
    return report.fmt(value, 6 if kind in ("predicted", "true") else 4)


LEDGER_COLUMNS = ["#", "printed number", "model", "note", "note's percentile", "ours: median [IQR]",
                  "ours: seed 0", "outcome", "causes", "most plausible reading"]


def ledger_table(rows: Sequence[LedgerRow], refs: Mapping[tuple[str, str, str], str]) -> list[list[Any]]:
    """The rows of the book's ledger table (:data:`LEDGER_COLUMNS`), numbered as in ``rows``."""
    from ..book.report import spread_text

    out = []
    for i, r in enumerate(rows):
        if r.finding is not None:
            label, best = r.finding.best
            percentile = f"{r.finding.stated.percentile:.0f}"
            spread = spread_text(*r.spread)
            most = f"{label} ({best.verdict})"
        else:
            percentile = spread = most = "–"
        if r.finding is not None:
            note = r.finding.number.text
        elif r.kind == "true":  # to the note's four decimals
            note = f"{r.note:.4f}"
        else:
            note = shown(r.kind, r.note)
        out.append([i + 1, r.quantity, r.model or "–", note, percentile, spread,
                    shown(r.kind, r.ours), r.verdict, reason(r, refs), most])
    return out


def summary(rows: Sequence[LedgerRow]) -> list[list[Any]]:
    """The ledger's counts, trained numbers apart from exact ones and times: ``[group, verdict, count]``."""
    groups: dict[str, list[str]] = {"trained numbers": [], "exact quantities": [], "times": []}
    for r in rows:
        groups["trained numbers" if r.trained else "times" if r.kind == "seconds" else "exact quantities"].append(
            r.verdict)
    order = dict.fromkeys((*OUTCOMES, REPRODUCED, DIFFERS, NOT_COMPARABLE))
    return [[group, v, verdicts.count(v)] for group, verdicts in groups.items() for v in order if v in verdicts]

