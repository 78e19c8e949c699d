"""The ledger: the tolerances of "reproduced", verdicts and a row for every printed number."""
import math

import numpy as np

from dynform import run
from dynform.book.checks import Measured
from dynform.note.ledger import (BY_READING, DIFFERS, REPRODUCED, SELF_COMPARISONS, UNDECIDED, LedgerRow, complex_text,
                                 entry_verdicts, ledger, reason, reasons_table, summary, verdict, within)
from dynform.note.settings import TABLE_ROWS, stated


def test_tolerances():
    assert within("loss", 1.9e-3, 1e-3) and not within("loss", 2.1e-3, 1e-3)
    assert within("iterations", 1090, 1000) and not within("iterations", 1200, 1000)
    assert within("predicted", 0.3929, 0.3919) is False and within("predicted", 0.3925, 0.3919)
    assert within("eigen", complex(-0.1, 2.0), complex(-0.1, 2.0))
    assert within("seconds", 1.0, 1.0) is None
    row = LedgerRow("spiral", "Table 1 loss", "nnm", "loss", 6.2e-6, 1e-3, 5e-6)
    assert row.verdict == "reproduced with matching settings"
    assert LedgerRow("spiral", "Table 1 time", "nn", "seconds", 1.7, 0.3).verdict == "not comparable"
    assert complex_text(complex(-0.1, -2.0)) == "-0.1-2i" and complex_text(0.7071067811865476j) == "0.7071i"


def test_ledger_has_a_row_for_every_printed_number():
    from dynform.note.printed import printed

    note = printed()
    fake = {(ex, m): run(stated(ex, m).with_(epochs=2, tol=None)) for ex in ("spiral", "center") for m in TABLE_ROWS}
    rows = ledger(fake)
    expected = 0
    for ex in ("spiral", "center"):
        for entry in note[ex]["table"].values():
            expected += len(entry)
        expected += sum(np.size(m[w]) for key, m in note[ex]["matrices"].items() for w in ("predicted", "true")
                        if (w, key) not in SELF_COMPARISONS)
        if "eigenvalues" in note[ex]:
            expected += len(note[ex]["eigenvalues"]["real"]) + np.size(note[ex]["eigenvectors"]["real"])
    assert len(rows) == expected
    # the true matrices and the eigen-decomposition are exact computations: reproduced
    for r in rows:
        if r.kind in ("true", "eigen"):
            assert r.verdict == "reproduced", (r.example, r.quantity, r.model, r.note, r.ours)
        if r.kind == "seconds":
            assert r.verdict == "not comparable"
    assert not any(isinstance(r.ours, float) and math.isnan(r.ours) for r in rows)


def test_verdicts_are_decided_at_both_ends_of_the_tolerance():
    note = 0.0023
    assert within("loss", Measured(0.0015, 1e-4), note) is True
    assert within("loss", Measured(0.0005, 1e-4), note) is False
    assert within("loss", Measured(0.0015, 9e-4), note) == UNDECIDED
    assert verdict("loss", Measured(0.0015, 1e-4), None, note) == REPRODUCED
    assert verdict("loss", Measured(0.0005, 1e-4), None, note) == DIFFERS
    assert verdict("loss", Measured(0.0015, 9e-4), None, note) == UNDECIDED


def test_entry_verdicts_name_each_entry_under_the_ledgers_rule():
    ours = np.array([[Measured(0.3920, 1e-5), Measured(0.8620, 1e-5)],
                     [Measured(-0.8593, 1e-5), Measured(0.3910, 5e-3)]], dtype=object)
    note = np.array([[0.3919, 0.8593], [-0.8593, 0.3919]])
    verdicts = entry_verdicts(ours, note)
    assert verdicts[REPRODUCED] == ["[1,1]", "[2,1]"] and verdicts[DIFFERS] == ["[1,2]"]
    assert verdicts[UNDECIDED] == ["[2,2]"]  # its rounding tolerance straddles the 1e-3 rule


def test_a_trained_number_is_judged_by_the_criterion_when_the_search_ran():
    yes = {"yes": ["stated", "loss=mse"], "undecided by rounding": [], "no": []}
    other = {"yes": ["loss=mse"], "undecided by rounding": ["stated"], "no": []}
    unsure = {"yes": [], "undecided by rounding": ["stated"], "no": ["loss=mse"]}
    none = {"yes": [], "undecided by rounding": [], "no": ["stated"]}
    far = Measured(10.0, 1e-3)  # a factor 4000 from the note: the tolerance rule alone says "differs"
    verdicts = [LedgerRow("spiral", "Table 1 loss", "nn", "loss", 0.0025, far, readings=r).verdict
                for r in (yes, other, unsure, none)]
    assert verdicts == ["reproduced", BY_READING, "undecided by rounding", "differs"]
    assert LedgerRow("spiral", "Table 1 loss", "nn", "loss", 0.0025, far).verdict == "differs"
    # an exact quantity keeps its rule
    assert LedgerRow("spiral", "true matrix [1,1]", "nnm", "true", 0.3919, 0.39194743, readings=none).verdict == \
        "reproduced"


def test_summary_counts_trained_numbers_apart_from_exact_ones_and_times():
    none = {"yes": [], "undecided by rounding": [], "no": ["stated"]}
    rows = [LedgerRow("spiral", "Table 1 loss", "nn", "loss", 0.0025, Measured(10.0, 1e-3), readings=none),
            LedgerRow("spiral", "true matrix [1,1]", "nnm", "true", 0.3919, 0.39194743),
            LedgerRow("spiral", "Table 1 time", "nn", "seconds", 1.7, 0.3)]
    assert summary(rows) == [["trained numbers", "differs", 1], ["exact quantities", "reproduced", 1],
                             ["times", "not comparable", 1]]
    refs = {r[0] for r in reasons_table()}
    assert {reason(r) for r in rows} <= refs | {"–"}
