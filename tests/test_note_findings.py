"""The one source of verdicts and causes: outcomes from readings' judgements, the causes that the
book's computations make true, and every chapter's glued verdicts and causes against that source."""
import ast
import json
import os
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from dynform.note import findings
from dynform.note.findings import BUDGET, DIFFERS, OTHER, REPRODUCED, TAIL, outcome
from dynform.note.printed import number, printed_numbers
from dynform.note.verdicts import CONSISTENT, NO, POSSIBLE, UNDECIDED, Judgement

ROOT = Path(__file__).resolve().parents[1]
EXECUTED = ROOT / "_build" / "executed"


def _j(verdict: str, p: float = 0.5, words: tuple[str, ...] | None = None) -> Judgement:
    return Judgement(verdict, p, 50.0, words or (verdict,), 64)


@pytest.mark.parametrize("judged, expected", [
    ([("stated", _j(CONSISTENT)), ("loss=mse", _j(NO, 0.0))], REPRODUCED),
    ([("loss=mse", _j(CONSISTENT)), ("stated", _j(POSSIBLE, 0.05))], OTHER),
    # rounding decides whether the stated reading reproduces it
    ([("stated", _j(UNDECIDED, 0.1, (CONSISTENT, NO))), ("loss=mse", _j(POSSIBLE, 0.05))], UNDECIDED),
    ([("stated", _j(NO, 0.0)), ("loss=mse", _j(POSSIBLE, 0.05))], TAIL),
    # one reading puts it in a tail whatever rounding does to another: possible, not undecided
    ([("stated", _j(NO, 0.0)), ("loss=mse-y0", _j(POSSIBLE, 0.03)),
      ("loss=mse", _j(UNDECIDED, 0.005, (NO, POSSIBLE)))], TAIL),
    ([("stated", _j(NO, 0.0)), ("loss=mse", _j(UNDECIDED, 0.005, (NO, POSSIBLE)))], UNDECIDED),
    ([("stated", _j(NO, 0.0)), ("loss=mse", _j(NO, 0.0))], DIFFERS),
])
def test_outcome_of_a_printed_number(judged, expected):
    assert outcome(judged) == expected


def test_a_consistent_budget_comes_after_the_readings():
    no, yes = [("stated", _j(NO, 0.0))], [("epochs=3000", _j(CONSISTENT))]
    assert outcome(no, yes) == BUDGET
    assert outcome([("stated", _j(NO, 0.0)), ("loss=mse", _j(CONSISTENT))], yes) == OTHER
    assert outcome(no, [("epochs=3000", _j(UNDECIDED, 0.2, (CONSISTENT, NO)))]) == "undecided by rounding"


def test_the_printed_matrices_and_losses_do_not_fit_one_run():
    """For every printed matrix, no reading of the loss, the data and the shared training sets lets
    a matrix within its printed digits score the printed loss."""
    for ex, model in (("spiral", "nnm"), ("spiral", "nodem"), ("center", "nnm"), ("center", "nodem")):
        fits, words = findings.one_run(number(ex, model))
        assert not fits, (ex, model, words)
        assert number(ex, model).text in words


def test_a_factor_names_its_cause_and_a_reproduced_seed_free_row_has_none():
    n = number("spiral", "nn")
    judged = [("samples=random-pairs", _j(CONSISTENT, 0.8)), ("stated", _j(NO, 0.0))]
    assert [c.key for c in findings.causes(n, judged, (), OTHER, None)] == ["training-set"]
    judged = [("loss=mse-y0, init=torch", _j(CONSISTENT, 0.8)), ("stated", _j(NO, 0.0))]
    (cause,) = findings.causes(n, judged, (), OTHER, None)
    assert cause.key == "loss+initialisation" and cause.name == "the loss normalisation and the initialisation"
    assert [c.key for c in findings.causes(n, [("stated", _j(CONSISTENT))], (), REPRODUCED, None)] == ["seed"]
    assert findings.causes(number("spiral", "nnm"), [("stated", _j(CONSISTENT))], (), REPRODUCED, None) == ()
    none = findings.causes(n, [("stated", _j(NO, 0.0))], (), DIFFERS, None)
    assert [c.key for c in none] == ["none"]


def test_glue_names_are_one_per_printed_number():
    slugs = [findings.slug(n) for n in printed_numbers()]
    assert len(set(slugs)) == len(slugs) == 28
    assert findings.slug(number("center", "nnm", "matrix[1,2]")) == "center_nnm_matrix12"


def _glued(path: Path) -> dict[str, str]:
    """The verdicts and causes a notebook glued: name -> text."""
    out = {}
    for cell in nbformat.read(path, as_version=4).cells:
        for o in cell.get("outputs", []):
            name = o.get("metadata", {}).get("scrapbook", {}).get("name", "")
            if name.startswith((findings.VERDICT, findings.CAUSE)):
                text = next(v for k, v in o["data"].items() if k.endswith("text/plain"))
                out[name] = ast.literal_eval(text)
    return out


def test_every_chapter_states_the_verdicts_and_causes_of_the_one_source():
    """Every chapter of the book's execution that glues a verdict or a cause glues the source's
    text: the findings, computed again here from the build's run cache."""
    notebooks = sorted(EXECUTED.glob("*.ipynb"))
    assert notebooks, f"{EXECUTED}: no executed chapters (run `make book`)"
    code = ("import json; from dynform.note import findings; "
            "print(json.dumps({k: v for f in findings.findings() for k, v in findings.names(f).items()}))")
    env = {**os.environ, "DYNFORM_RUN_CACHE": str(ROOT / "_build" / "runs"), "OMP_NUM_THREADS": "1"}
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=900,
                          cwd=ROOT)
    assert proc.returncode == 0, proc.stderr[-2000:]
    source = json.loads(proc.stdout)
    assert len(source) == 2 * len(printed_numbers())
    stating = {}
    for path in notebooks:
        glued = _glued(path)
        for name, text in glued.items():
            assert text == source[name], f"{path.name} glues {name} = {text!r}, the source says {source[name]!r}"
        if glued:
            stating[path.stem] = set(glued)
    # the chapters that state verdicts and causes; the ledger and the opening page state them all
    assert {"intro", "02_spiral", "03_center", "06_ledger", "10_readings"} <= set(stating)
    assert stating["06_ledger"] == stating["intro"] == set(source)


def test_the_pace_holds_for_a_run_that_used_every_step_and_stopped_short():
    from dynform import get_system
    from dynform.regular.search import Row

    A = get_system("center").A
    short = Row("center", "nodem", {}, [9.8], [2000], [(0.19 * A).tolist()], 0.0)
    near = Row("center", "nodem", {}, [1e-4], [2000], [(0.99 * A).tolist()], 0.0)
    stopped = Row("center", "nodem", {}, [9e-4], [1016], [(0.19 * A).tolist()], 0.0)  # stopped by the threshold
    n = number("center", "nodem")
    held, words = findings.pace(n, short)
    assert held and "2000 steps" in words and "after 1016 steps" in words and "largest step is 0.01" in words
    assert not findings.pace(n, near)[0] and not findings.pace(n, stopped)[0]


def test_a_matrix_entry_is_judged_with_its_matrix():
    ok, no, tail = _j(CONSISTENT), _j(NO, 0.0), _j(POSSIBLE, 0.05)
    assert findings.whole([ok, ok, ok, ok]).verdict == CONSISTENT
    assert findings.whole([ok, ok, tail, ok]).verdict == POSSIBLE
    assert findings.whole([ok, no, ok, ok]).verdict == NO
    undecided = findings.whole([ok, _j(UNDECIDED, 0.2, (CONSISTENT, NO)), ok, ok])
    assert undecided.verdict == UNDECIDED and undecided.plausibility == ok.plausibility
