"""The ledger: a row for every printed number, exact quantities judged by their digits, trained
numbers by the findings, and the counts and causes the book shows."""
import math

import numpy as np

from dynform import run
from dynform.book.checks import Measured
from dynform.note.findings import Cause, Finding
from dynform.note.ledger import (SELF_COMPARISONS, LedgerRow, complex_text, exact_verdict, reason, reasons_table,
                                 references, summary)
from dynform.note.printed import number
from dynform.note.verdicts import Judgement


def test_exact_quantities_are_judged_by_their_printed_digits():
    assert exact_verdict("true", 0.39194743, 0.3919) == "reproduced"
    assert exact_verdict("true", 0.3925, 0.3919) == "differs"
    assert exact_verdict("eigen", complex(-0.1, 2.0), complex(-0.1, 2.0)) == "reproduced"
    assert LedgerRow("spiral", "Table 1 time", "nn", "seconds", 1.7, 0.3).verdict == "not comparable"
    assert complex_text(complex(-0.1, -2.0)) == "-0.1-2i" and complex_text(0.7071067811865476j) == "0.7071i"


def _finding(outcome: str, *causes: Cause) -> Finding:
    j = Judgement("no", 0.0, 0.0, ("no",), 64)
    return Finding(number("spiral", "nn"), (("stated", j),), (), outcome, causes)


def test_a_trained_number_takes_its_verdict_and_causes_from_the_findings():
    cause = Cause("training-set", "consistent under samples=pairs")
    row = LedgerRow("spiral", "Table 1 loss", "nn", "loss", 0.0025, Measured(10.0, 1e-3),
                    _finding("another reading", cause))
    assert row.verdict == "another reading"
    refs = references([row])
    assert reason(row, refs) == "R1"
    assert reasons_table([row])[0] == ["R1", "spiral nn", "the training set", "consistent under samples=pairs"]


def test_summary_counts_trained_numbers_apart_from_exact_ones_and_times():
    rows = [LedgerRow("spiral", "Table 1 loss", "nn", "loss", 0.0025, Measured(10.0, 1e-3), _finding("differs")),
            LedgerRow("spiral", "true matrix [1,1]", "nnm", "true", 0.3919, 0.39194743),
            LedgerRow("spiral", "Table 1 time", "nn", "seconds", 1.7, 0.3)]
    assert summary(rows) == [["trained numbers", "differs", 1], ["exact quantities", "reproduced", 1],
                             ["times", "not comparable", 1]]


def test_the_ledger_has_a_row_for_every_printed_number(monkeypatch):
    """With two-step runs and findings stubbed to one outcome, every printed number gets a row, and
    the exact quantities and times get their own verdicts."""
    from dynform.note import ledger as ledger_module, readings
    from dynform.note.printed import printed
    from dynform.note.settings import TABLE_ROWS, stated
    from dynform.regular.search import Row

    note = printed()
    fake = {(ex, m): run(stated(ex, m).with_(epochs=2, tol=None)) for ex in ("spiral", "center") for m in TABLE_ROWS}

    class Found:
        rows = [Row(ex, m, {}, [1.0, 2.0], [2, 2], [[[0.0, 0.0], [0.0, 0.0]]] * 2 if m in ("nnm", "nodem") else None,
                    0.0) for ex in ("spiral", "center") for m in TABLE_ROWS]

        def of(self, example, model, quantity):
            return _finding("differs")

    monkeypatch.setattr(readings, "rounding_measured", lambda: {})
    rows = ledger_module.ledger(fake, Found(), note)
    expected = 0
    for ex in ("spiral", "center"):
        for entry in note[ex]["table"].values():
            expected += len(entry)
        expected += sum(np.size(m[w]) for key, m in note[ex]["matrices"].items() for w in ("predicted", "true")
                        if (w, key) not in SELF_COMPARISONS)
        if "eigenvalues" in note[ex]:
            expected += len(note[ex]["eigenvalues"]["real"]) + np.size(note[ex]["eigenvectors"]["real"])
    assert len(rows) == expected
    for r in rows:
        if r.kind in ("true", "eigen"):
            assert r.verdict == "reproduced", (r.example, r.quantity, r.model, r.note, r.ours)
        if r.kind == "seconds":
            assert r.verdict == "not comparable"
        if r.trained:
            assert r.verdict == "differs" and len(r.spread) == 3
    assert not any(isinstance(r.ours, float) and math.isnan(r.ours) for r in rows)
