"""How well the note's printed numbers are reproduced, and how typical they are.

* :func:`seed_ensemble` trains one row of the note's Tables 1 and 2 (stated settings) for many seeds
  at once, as one vectorized ensemble; :func:`spread` and :func:`percentile_of` summarise it.
* :func:`ledger` lists every number the note prints in sections 3.1 and 3.2 beside ours, with a
  verdict under a stated tolerance (:data:`TOLERANCES`).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Mapping, Sequence

import numpy as np

from ..book import sensitivity
from ..book.checks import Measured
from ..regular.experiment import RunResult, run
from ..regular.models import MATRIX_MODELS
from ..systems import get_system
from .settings import EXAMPLES, TABLE_ROWS, matching, stated


#: Verdict tolerances, one per kind of printed number: (rule, value, words for the page).
TOLERANCES: dict[str, tuple[str, float, str]] = {
    "loss": ("factor", 2.0, "within a factor 2"),
    "iterations": ("relative", 0.1, "within 10 %"),
    "predicted": ("absolute", 1e-3, "each entry within 1e-3"),
    "true": ("absolute", 1e-4, "each entry within 1e-4"),
    "eigen": ("absolute", 1e-6, "within 1e-6"),
    "seconds": ("none", math.nan, "wall time on another machine"),
}

REPRODUCED, DIFFERS, NOT_COMPARABLE = "reproduced", "differs", "not comparable"
#: A trained number that the stated reading does not account for, but another reading does.
BY_READING = "accounted for by another reading"
#: Printed numbers left out because ours would be the same quantity as the note's: the "true matrix"
#: of the linear Neural ODE is A, the matrix the example is defined by.
SELF_COMPARISONS = {("true", "nodem")}
#: The kinds of printed number that training makes; the others are exact computations or times.
TRAINED_KINDS = ("loss", "iterations", "predicted")
UNDECIDED = "undecided by rounding"


def _agrees(kind: str, ours: Any, note: Any) -> bool:
    rule, tol, _ = TOLERANCES[kind]
    if rule == "factor":
        return bool(ours > 0 and note > 0 and abs(math.log(ours / note)) <= math.log(tol))
    if rule == "relative":
        return bool(abs(ours - note) <= tol * abs(note))
    return bool(abs(complex(ours) - complex(note)) <= tol)


def within(kind: str, ours: Any, note: Any) -> bool | str | None:
    """Whether ``ours`` reproduces ``note`` under the tolerance of ``kind``; ``None``: not comparable.

    A trained ``ours`` (:class:`~dynform.book.checks.Measured`) is judged at both ends of its committed
    rounding tolerance (``verdict_tol``): ``True`` or ``False`` only if both ends agree, else
    :data:`UNDECIDED`, so that the verdict is the same on every machine.
    """
    rule = TOLERANCES[kind][0]
    if rule == "none" or ours is None:
        return None
    if isinstance(ours, Measured):
        tol = ours.verdict_tol
        ends = {_agrees(kind, ours.value - tol, note), _agrees(kind, ours.value + tol, note),
                _agrees(kind, ours.value, note)}
        return ends.pop() if len(ends) == 1 else UNDECIDED
    return _agrees(kind, ours, note)


def criterion_verdict(readings: Mapping[str, Sequence[str]]) -> str:
    """A trained number's verdict from the setup search: ``reproduced`` when the stated reading
    accounts for it over the seeds, :data:`BY_READING` when only another reading does,
    ``undecided by rounding`` when rounding decides, ``differs`` when none does."""
    if "stated" in readings["yes"]:
        return REPRODUCED
    if readings["yes"]:
        return BY_READING
    if readings[UNDECIDED]:
        return UNDECIDED
    return DIFFERS


def verdict(kind: str, stated_value: Any, matching_value: Any, note: Any) -> str:
    """``reproduced`` (with the stated settings), ``reproduced with matching settings``, ``differs``,
    ``undecided by rounding`` (the tolerance of a trained value straddles the rule) or ``not
    comparable``, under the tolerance of ``kind``."""
    first = within(kind, stated_value, note)
    if first is None:
        return NOT_COMPARABLE
    if first is True:
        return REPRODUCED
    second = within(kind, matching_value, note) if matching_value is not None else False
    if second is True:
        return REPRODUCED + " with matching settings"
    if UNDECIDED in (first, second):
        return UNDECIDED
    return DIFFERS


@dataclass
class LedgerRow:
    """One printed number of the note beside ours."""

    example: str
    quantity: str  #: e.g. "Table 1 loss", "predicted matrix [1,2]"
    model: str | None  #: short model name, or None (eigenvalues, eigenvectors)
    kind: str  #: key of :data:`TOLERANCES`
    note: Any
    ours: Any
    matching: Any = None
    #: for a trained number, the readings of the setup search by verdict (``yes``, ``undecided by
    #: rounding``, ``no``: :func:`dynform.note.readings.explaining`); with them the verdict is the
    #: book's one criterion over seeds, without them the tolerance of :data:`TOLERANCES`
    readings: Mapping[str, Sequence[str]] | None = None

    @property
    def verdict(self) -> str:
        if self.trained and self.readings is not None:
            return criterion_verdict(self.readings)
        return verdict(self.kind, self.ours, self.matching, self.note)

    @property
    def trained(self) -> bool:
        """Whether training makes this number (else it is an exact computation or a time)."""
        return self.kind in TRAINED_KINDS


def _number(x: Any) -> Any:
    """A measured value as it is, anything else as a float."""
    return x if isinstance(x, Measured) else float(x)


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


def ledger(stated_runs: Mapping[tuple[str, str], RunResult],
           matching_runs: Mapping[str, RunResult] | None = None,
           note: Mapping[str, Any] | None = None,
           found: Mapping[tuple[str, str, str], Mapping[str, Sequence[str]]] | None = None) -> list[LedgerRow]:
    """Every number the note prints in sections 3.1 and 3.2 beside ours.

    ``stated_runs[(example, model)]`` are runs with the note's stated settings (:func:`stated`),
    ``matching_runs[model]`` spiral runs with the settings the book documents as matching
    (:func:`matching`). ``note`` defaults to :func:`dynform.note.printed.printed`. ``found`` holds,
    by :func:`printed_key`, the setup search's readings by verdict; with it a trained number's
    verdict is the book's one criterion.
    """
    from .printed import printed

    note = printed() if note is None else note
    matching_runs = matching_runs or {}
    found = found or {}
    rows: list[LedgerRow] = []
    for example, table in (("spiral", "Table 1"), ("center", "Table 2")):
        ref = note[example]
        for model in TABLE_ROWS:
            r = stated_runs[(example, model)]
            m = matching_runs.get(model) if example == "spiral" else None
            printed_row = ref["table"][model]
            rows.append(LedgerRow(example, f"{table} loss", model, "loss", printed_row["loss"], sensitivity.loss(r),
                                  sensitivity.loss(m) if m else None, found.get((example, model, "loss"))))
            rows.append(LedgerRow(example, f"{table} time", model, "seconds", printed_row["seconds"], r.seconds,
                                  m.seconds if m else None))
            if "iterations" in printed_row:
                rows.append(LedgerRow(example, f"{table} iterations", model, "iterations",
                                      printed_row["iterations"], sensitivity.iterations(r),
                                      sensitivity.iterations(m) if m else None,
                                      found.get((example, model, "iterations"))))
        for model in MATRIX_MODELS:
            r = stated_runs[(example, model)]
            m = matching_runs.get(model) if example == "spiral" else None
            for which, kind, ours, other in (
                ("predicted", "predicted", sensitivity.matrix(r), sensitivity.matrix(m) if m else None),
                ("true", "true", r.true_matrix(), m.true_matrix() if m else None),
            ):
                if (which, model) in SELF_COMPARISONS:
                    continue
                printed_matrix = np.asarray(ref["matrices"][model][which], dtype=np.float64)
                for (i, j), value in np.ndenumerate(printed_matrix):
                    rows.append(LedgerRow(example, f"{which} matrix [{i + 1},{j + 1}]", model, kind, float(value),
                                          _number(ours[i, j]), None if other is None else _number(other[i, j]),
                                          found.get((example, model, f"matrix[{i + 1},{j + 1}]"))
                                          if kind == "predicted" else None))
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


def entry_verdicts(ours: np.ndarray, note: np.ndarray) -> dict[str, list[str]]:
    """Which entries ``[i,j]`` (1-based) of a learned matrix ``ours`` (of
    :class:`~dynform.book.checks.Measured`) reproduce the note's printed ``note``, under the ledger's
    rule for printed matrix entries: verdict -> entries."""
    out: dict[str, list[str]] = {}
    for (i, j), value in np.ndenumerate(np.asarray(note, dtype=np.float64)):
        out.setdefault(verdict("predicted", ours[i, j], None, value), []).append(f"[{i + 1},{j + 1}]")
    return out


def stated_runs(seed: int = 0, device: str = "cpu") -> dict[tuple[str, str], RunResult]:
    """One run per row of Tables 1 and 2 with the note's stated settings."""
    return {(example, model): run(stated(example, model).with_(seed=seed, device=device))
            for example in EXAMPLES for model in TABLE_ROWS}


def matching_runs(reuse: Mapping[tuple[str, str], RunResult] | None = None, seed: int = 0,
                  device: str = "cpu") -> dict[str, RunResult]:
    """The spiral runs with the settings the book documents as matching the note (:func:`matching`);
    a run in ``reuse`` (keyed like :func:`stated_runs`) with the same settings is taken, not repeated."""
    reuse = reuse or {}
    out = {}
    for model in TABLE_ROWS:
        cfg = matching(model).with_(seed=seed, device=device)
        done = reuse.get(("spiral", model))
        out[model] = done if done is not None and done.config == cfg else run(cfg)
    return out


_SPIRAL, _CENTER, _SEEDS, _BENCH = ("[spiral](02_spiral.md)", "[center](03_center.md)", "[seeds](07_seeds.md)",
                                    "[benchmark](08_benchmark.md)")
#: Why a trained number differs, by (example, model): each names the chapter that computes the cause.
REASONS: dict[tuple[str, str], str] = {
    ("spiral", "nn"): f"random initialisation; the note's value is one draw from the seed spread, {_SEEDS}",
    ("spiral", "nnm"): "1000 steps of lr 1e-3 from B = 0 leave B̂ still converging; 3000 steps reach the printed "
                       f"matrix while the loss is still falling, {_SPIRAL}",
    ("spiral", "node"): "the stated field stays too weak in 1000 steps; no stated-kind setting reaches the note's "
                        f"loss, {_SPIRAL}",
    ("spiral", "nodem"): "from M = 0 the loss slopes toward a second minimum, and exact data carry RK4's solver "
                         f"bias; 5000 steps on RK4 data match, {_SPIRAL}, {_CENTER}",
    ("center", "nn"): f"sensitive to the unstated seed and initialisation, {_CENTER}, {_SEEDS}",
    ("center", "nnm"): "early stopping at 1e-3 freezes B̂ where the loss first crosses it; the printed B̂ and loss "
                       f"do not fit one run, {_CENTER}",
    ("center", "node"): f"random initialisation, {_CENTER}, {_SEEDS}",
    ("center", "nodem"): f"from M = 0 the loss slopes toward a second minimum, not toward A, {_CENTER}",
}


#: The references of :data:`REASONS` in the ledger's table: R1, R2, ...
REFERENCES = {key: f"R{i + 1}" for i, key in enumerate(REASONS)}
_TIMES, _ROUNDING = "T", "U"


def reason(row: LedgerRow) -> str:
    """The reason column of the ledger: a reference to :func:`reasons_table` (``–`` for none)."""
    v = row.verdict
    if v == NOT_COMPARABLE:
        return _TIMES
    if v == REPRODUCED:
        return "–"
    if v == UNDECIDED:
        return _ROUNDING
    return REFERENCES[(row.example, row.model)]


def reasons_table() -> list[list[str]]:
    """Every reason the ledger refers to, once: reference, row of the tables, why."""
    rows = [[ref, f"{ex} {model}", REASONS[(ex, model)]] for (ex, model), ref in REFERENCES.items()]
    rows.append([_ROUNDING, "any trained number",
                 "rounding alone moves ours across the tolerance, [sensitivity](09_sensitivity.md)"])
    rows.append([_TIMES, "every time", f"wall time of one run on another machine; ours on this machine in {_BENCH}"])
    return rows


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


LEDGER_COLUMNS = ["#", "printed number", "model", "note", "ours: stated", "ours: matching", "verdict", "reason",
                  "readings that account for it"]


def printed_key(row: LedgerRow) -> tuple[str, str, str] | None:
    """The key of ``row`` among :func:`dynform.note.readings.printed_numbers` (``(example, model,
    quantity)``), or None for a number no training makes (times, true matrices, eigen-pairs)."""
    if row.kind == "loss":
        return row.example, row.model, "loss"
    if row.kind == "iterations":
        return row.example, row.model, "iterations"
    if row.kind == "predicted":
        return row.example, row.model, row.quantity.replace("predicted matrix ", "matrix")
    return None


def ledger_table(rows: Sequence[LedgerRow],
                 accounted: Mapping[tuple[str, str, str], str] | None = None) -> list[list[Any]]:
    """The rows of the book's ledger table (:data:`LEDGER_COLUMNS`), numbered as in ``rows``;
    ``accounted`` gives, by :func:`printed_key`, the readings of the search that account for a
    trained number."""
    accounted = accounted or {}
    return [[i + 1, r.quantity, r.model or "–", shown(r.kind, r.note), shown(r.kind, r.ours),
             shown(r.kind, r.matching), r.verdict, reason(r), accounted.get(printed_key(r), "–")]
            for i, r in enumerate(rows)]


def summary(rows: Sequence[LedgerRow]) -> list[list[Any]]:
    """The ledger's counts, trained numbers apart from exact ones and times: ``[group, verdict, count]``."""
    groups: dict[str, list[str]] = {"trained numbers": [], "exact quantities": [], "times": []}
    for r in rows:
        groups["trained numbers" if r.trained else "times" if r.kind == "seconds" else "exact quantities"].append(
            r.verdict)
    order = (REPRODUCED, REPRODUCED + " with matching settings", BY_READING, UNDECIDED, DIFFERS, NOT_COMPARABLE)
    return [[group, v, verdicts.count(v)] for group, verdicts in groups.items() for v in order if v in verdicts]


def verdict_counts(rows: Sequence[LedgerRow]) -> dict[str, int]:
    """How many rows have each verdict."""
    verdicts = [r.verdict for r in rows]
    return {v: verdicts.count(v) for v in (REPRODUCED, REPRODUCED + " with matching settings", BY_READING, DIFFERS,
                                           UNDECIDED, NOT_COMPARABLE)}
